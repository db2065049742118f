"""The window of time ingress accepts: `ce_time` and every date in a payload.

Events are kept forever and every projection computes with their dates (the reporting year in
Europe/Amsterdam, an HKP's validity), so a date at the edge of what Python can represent would crash
a reader on every restart. The window keeps every date far from those edges and close to reality:

- nothing before 2000-01-01: the RIECs started in 2008, so no real signal, command or designation
  is older, and year arithmetic stays far from year 1;
- `ce_time` at most one day after the engine's clock: clock skew and a partner system's wrong time
  zone (at most 14 hours) pass; a later time is a wrong clock, and would count a casus in a year
  that has not begun;
- a date that records a fact (`waargenomen_op`) at most one day after today (the day of slack is
  for time zones); a date that plans ahead (`geldig_van`, `geldig_tot` of an HKP) at most ten
  years after today, a stuurgroep's designation being for a term of years.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

import msgspec

from engine.errors import Weigering

VROEGSTE_DATUM = date(2000, 1, 1)
VROEGSTE_TIJD = datetime(2000, 1, 1, tzinfo=UTC)
SPELING = timedelta(days=1)
"""How far after the engine's clock a `ce_time` or a date of fact may lie."""
VOORUIT_JAREN = 10
ONTDUBBEL_HORIZON = timedelta(days=400)
"""How long the engine remembers a signal's id to recognise it when it comes again (a year and the
month in which the annual tables are made); `ENGINE_DEDUP_HORIZON_DAYS`."""
"""How far ahead a planned date may lie."""
GEPLANDE_DATUMS = frozenset({"geldig_van", "geldig_tot"})
"""Payload dates that plan ahead; every other payload date records a fact."""


def controleer_tijd(tijd: datetime, nu: datetime) -> None:
    """Refuse a `ce_time` outside [2000-01-01T00:00Z, nu + 1 day]; called on every message's
    envelope, before its payload is read."""
    if VROEGSTE_TIJD <= tijd <= nu + SPELING:
        return
    raise Weigering(
        "ce_time_out_of_range",
        f"ce_time {tijd.isoformat()} is not between {VROEGSTE_TIJD:%Y-%m-%dT%H:%MZ} and one day after "
        f"the engine's clock ({nu:%Y-%m-%dT%H:%MZ}); send the moment your system recorded it, with its "
        "UTC offset, and check that system's clock",
    )


def controleer_horizon(tijd: datetime, nu: datetime, horizon: timedelta) -> None:
    """Refuse a signal whose `ce_time` is older than the de-duplication horizon: the engine no longer
    remembers the ids of signals that old, so it could not tell this one from one it counted before.
    A partner that sends a signal again sends its original `ce_time` (contract), so no duplicate of
    an old signal is ever let in; called on every partner message after `controleer_tijd`."""
    if tijd >= nu - horizon:
        return
    raise Weigering(
        "ce_time_beyond_horizon",
        f"ce_time {tijd.isoformat()} is more than {horizon.days} days before the engine's clock: "
        "the engine no longer knows whether it received this signal before; an observation that "
        "old is sent as a new signal (a new ce_id, ce_time now, the old date in waargenomen_op)",
    )


def _jaren_later(dag: date, jaren: int) -> date:
    if dag.month == 2 and dag.day == 29:  # a leap day: the same date may not exist then
        dag = dag.replace(day=28)
    return dag.replace(year=dag.year + jaren)


def _bevat_datum(info: msgspec.inspect.Type) -> bool:
    match info:
        case msgspec.inspect.DateType() | msgspec.inspect.DateTimeType():
            return True
        case msgspec.inspect.StructType(fields=fields):
            return any(_bevat_datum(f.type) for f in fields)
        case msgspec.inspect.Metadata(type=t) | msgspec.inspect.ListType(item_type=t):
            return _bevat_datum(t)
        case msgspec.inspect.UnionType(types=types):
            return any(_bevat_datum(t) for t in types)
    return False


@cache
def _datumvelden(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    """The fields of a Struct that are, or may hold, a date: computed once per type, so a signal's
    check visits only `waargenomen_op`."""
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    return tuple(f.name for f in info.fields if _bevat_datum(f.type))


def _datums(waarde: object, pad: str, gevonden: list[tuple[str, date]]) -> None:
    if isinstance(waarde, date):
        gevonden.append((pad, waarde))
    elif isinstance(waarde, msgspec.Struct):
        for naam in _datumvelden(type(waarde)):
            _datums(getattr(waarde, naam), f"{pad}.{naam}" if pad else naam, gevonden)
    elif isinstance(waarde, list):
        for i, item in enumerate(waarde):
            _datums(item, f"{pad}[{i}]", gevonden)


def controleer_datums(payload: msgspec.Struct, nu: datetime) -> None:
    """Refuse a payload with a date outside its window; called on every decoded signal and
    command payload. Generic over the Struct, so a date field added later is checked too."""
    gevonden: list[tuple[str, date]] = []
    _datums(payload, "", gevonden)
    for pad, waarde in gevonden:
        veld = pad.rsplit(".", 1)[-1].split("[", 1)[0]
        if isinstance(waarde, datetime):
            tijd = waarde if waarde.tzinfo is not None else waarde.replace(tzinfo=UTC)
            if not VROEGSTE_TIJD <= tijd <= nu + SPELING:
                raise Weigering(
                    "date_out_of_range",
                    f"{pad} {waarde.isoformat()} is not between {VROEGSTE_TIJD:%Y-%m-%d} and one day "
                    "after the engine's clock; correct it",
                )
            continue
        gepland = veld in GEPLANDE_DATUMS
        laatste = _jaren_later(nu.date(), VOORUIT_JAREN) if gepland else nu.date() + SPELING
        if not VROEGSTE_DATUM <= waarde <= laatste:
            waarom = "ten years ahead" if gepland else "tomorrow: a date of fact cannot lie in the future"
            raise Weigering(
                "date_out_of_range",
                f"{pad} {waarde.isoformat()} is not between {VROEGSTE_DATUM.isoformat()} and "
                f"{laatste.isoformat()} ({waarom}); correct it",
            )
