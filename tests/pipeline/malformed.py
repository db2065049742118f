"""Generated malformed partner messages (hypothesis): each one is wrong in a way the contract
forbids, so the front door must refuse every one of them to the DLQ."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.domain.ingress.bsn import elfproef
from engine.events.signaal import THEMA_PATTERN
from tests.fixtures import payload


@dataclass(frozen=True)
class Malformed:
    value: bytes
    header_overrides: dict[str, str] = field(default_factory=dict)
    dropped_header: str | None = None


def _parses(value: bytes) -> bool:
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True


def _body(**overrides: Any) -> bytes:
    return orjson.dumps(payload(subjecten=[{"type": "rechtspersoon", "kvk": "87654321"}], **overrides))


def _without(name: str) -> bytes:
    body = payload()
    del body[name]
    return orjson.dumps(body)


_not_a_theme = st.text(max_size=30).filter(lambda t: re.match(THEMA_PATTERN, t) is None)
_not_a_date = st.text(max_size=20).filter(lambda t: re.fullmatch(r"\d{4}-\d{2}-\d{2}", t) is None)
_failed_elfproef = st.integers(100_000_000, 999_999_999).map(str).filter(lambda b: not elfproef(b))
_int64 = st.integers(-(2**63), 2**63 - 1)  # what JSON encoders (orjson) can write
_not_a_type = st.one_of(_int64, st.booleans(), st.floats(allow_nan=False, allow_infinity=False), st.none())
_bsn = (
    st.integers(0, 10**8 - 1)
    .map(lambda n: f"{n:08d}")
    .map(lambda acht: acht + str(sum(int(d) * w for d, w in zip(acht, range(9, 1, -1), strict=True)) % 11))
    .filter(elfproef)
)  # eight digits and their check digit: a BSN, ten times in eleven
_out_of_window_date = st.sampled_from(["1999-12-31", "9999-12-31", "0001-01-01", "2999-01-01"])
_out_of_window_time = st.sampled_from(
    ["9999-12-31T23:30:00Z", "0001-01-01T00:30:00+01:00", "1999-12-31T23:59:59Z"]
)

_payloads = st.one_of(
    st.binary(min_size=1, max_size=300).filter(lambda b: not _parses(b)),  # not JSON at all
    st.one_of(_int64, st.text(), st.lists(_int64), st.none()).map(orjson.dumps),  # not an object
    st.sampled_from(["soort", "themas", "omschrijving", "waargenomen_op"]).map(_without),
    st.text(max_size=20)
    .filter(lambda s: s not in ("signaal", "bestuurlijk_signaal"))
    .map(lambda s: _body(soort=s)),
    st.lists(_not_a_theme, min_size=1, max_size=3).map(lambda t: _body(themas=t)),
    st.just(_body(themas=[])),
    _not_a_type.map(lambda v: _body(omschrijving=v)),
    st.integers(10_001, 12_000).map(lambda n: _body(omschrijving="x" * n)),
    _not_a_date.map(lambda d: _body(waargenomen_op=d)),
    _failed_elfproef.map(lambda b: orjson.dumps(payload(subjecten=[{"type": "persoon", "bsn": b}]))),
    st.integers(9000, 9999).map(lambda n: _body(locatie={"gemeente": f"GM{n}"})),  # no such gemeente
    st.text(max_size=12)
    .filter(lambda k: re.fullmatch(r"[0-9]{8}", k) is None)
    .map(lambda k: orjson.dumps(payload(subjecten=[{"type": "rechtspersoon", "kvk": k}]))),
    _bsn.map(lambda b: _body(themas=[f"regionaal:p{b}"])),  # a BSN in a theme
    _bsn.map(lambda b: orjson.dumps(payload(subjecten=[{"type": "voertuig", "kenteken": b}]))),
    _out_of_window_date.map(lambda d: _body(waargenomen_op=d)),
)

_envelopes = st.one_of(
    st.sampled_from(["ce_id", "ce_source", "ce_type", "ce_specversion"]).map(
        lambda h: Malformed(_body(), dropped_header=h)
    ),
    st.sampled_from(["nl.riec.signaal.v2", "nl.riec.opdracht.v1", "signaal"]).map(
        lambda t: Malformed(_body(), {"ce_type": t})
    ),
    st.sampled_from(["urn:nl:riec:partner:politie", "urn:nl:riec:partner:gm0363", "kmar"]).map(
        lambda s: Malformed(_body(), {"ce_source": s})
    ),
    _out_of_window_time.map(lambda t: Malformed(_body(), {"ce_time": t})),
)

malformed_messages = st.one_of(_payloads.map(Malformed), _envelopes)


def generate(n: int) -> list[Malformed]:
    """`n` malformed messages, drawn by hypothesis (generation only: nothing to shrink here)."""
    found: list[Malformed] = []

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(malformed_messages)
    def collect(message: Malformed) -> None:
        found.append(message)

    while len(found) < n:
        collect()
    return found[:n]


# RIEC commands: generated for every ce_type, most shaped like the contract and some wrong in a
# field, with any ce_time msgspec can decode (years 1..9999, offsets up to ±23:59). Each one must
# end as exactly one event of engine.gebeurtenissen or one refusal (dlq.ingress), or in quarantine
# (dlq.engine) — never stop a stage.


@dataclass(frozen=True)
class Opdracht:
    riec: str
    ce_type: str
    value: bytes
    ce_time: str


_RIECS = ("amsterdam-amstelland", "rotterdam", "limburg", "oost-brabant")
_offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
# Not 2017-2020: test_projections_pipeline owns every cell of the annual tables of 2018 and 2019.
ce_times = st.one_of(
    st.datetimes(max_value=datetime(2016, 12, 31), timezones=_offsets).map(datetime.isoformat),
    st.datetimes(min_value=datetime(2021, 1, 1), timezones=_offsets).map(datetime.isoformat),
    st.sampled_from(
        ["9999-12-31T23:30:00Z", "0001-01-01T00:30:00+01:00", "2026-02-30T00:00:00Z", "gisteren"]
    ),
)
_tekst = st.text(max_size=40)
_datum = st.dates().map(date.isoformat)


def _subject() -> st.SearchStrategy[dict[str, Any]]:
    """Identifiers no other test uses: casussen and HKPs opened here stay open for the session's
    one worker, and would route the other tests' signals to more destinations."""
    return st.one_of(
        st.sampled_from(["987650002", "987650014", "987650015"]).map(lambda b: {"type": "persoon", "bsn": b}),
        st.sampled_from(["ZZ-998-Z", "ZZ-997-Z", "Z-99"]).map(lambda k: {"type": "voertuig", "kenteken": k}),
        st.just({"type": "rechtspersoon", "kvk": "99887766", "sbi": ["9999"]}),
        st.just({"type": "adres", "postcode": "9991AA", "huisnummer": "777"}),
    )


def _payloads(prefix: str) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """A contract-shaped payload per ce_type; ids from a small pool, so commands meet each other."""
    casus = st.integers(0, 15).map(lambda i: f"{prefix}-C{i}")
    teller = itertools.count()
    # Unique: a signal linked twice would be a valid command that changes nothing (no output).
    fresh = st.builds(lambda: f"politie:{prefix}-S{next(teller)}")
    return {
        "nl.riec.casus.openen.v1": st.fixed_dictionaries(
            {
                "casus_id": casus,
                "naam": _tekst,
                "bron": st.sampled_from(
                    ["inbreng", "ondermijningsbeeld", "handhavingsknelpunt", "gebiedsscan"]
                ),
                "signalen": st.lists(fresh, max_size=2),
                "themas": st.lists(
                    st.sampled_from(["drugs", "omg", "vastgoed", "regionaal:haven"]), max_size=3
                ),
                "subjecten": st.lists(_subject(), max_size=3),
            }
        ),
        "nl.riec.casus.signaal_koppelen.v1": st.fixed_dictionaries({"casus_id": casus, "signaal_id": fresh}),
        "nl.riec.casus.koppeling_afwijzen.v1": st.fixed_dictionaries(
            {"casus_id": casus, "signaal_id": fresh, "reden": _tekst}
        ),
        "nl.riec.casus.interventieadvies.v1": st.fixed_dictionaries(
            {
                "casus_id": casus,
                "advies_id": st.uuids().map(lambda u: f"A-{u.hex[:8]}"),
                "soorten": st.lists(
                    st.sampled_from(["bestuurlijk", "bibob", "fiscaal"]), min_size=1, max_size=3
                ),
                "uitvoerder": _tekst,
                "coordinator": _tekst,
            }
        ),
        "nl.riec.casus.afpakken.v1": st.fixed_dictionaries(
            {
                "casus_id": casus,
                "soort": st.sampled_from(["opgelegd", "geind", "beslag"]),
                "domein": st.sampled_from(["fiscaal", "strafrechtelijk"]),
                "bedrag_eurocent": st.integers(1, 10**15 - 1),
            }
        ),
        "nl.riec.casus.afsluiten.v1": st.fixed_dictionaries({"casus_id": casus, "reden": _tekst}),
        "nl.riec.handhavingsknelpunt.aanwijzen.v1": st.fixed_dictionaries(
            {
                "hkp_id": st.integers(0, 5).map(lambda i: f"{prefix}-H{i}"),
                "naam": _tekst,
                "soort": st.just("gebied"),
                "postcodes": st.lists(st.sampled_from(["9991", "9991AB", "9995"]), min_size=1, max_size=2),
                "geldig_van": _datum,
            }
        ),
        "nl.riec.handhavingsknelpunt.beeindigen.v1": st.fixed_dictionaries(
            {"hkp_id": st.integers(0, 5).map(lambda i: f"{prefix}-H{i}")}
        ),
        "nl.riec.ondermijningsbeeld.opleveren.v1": st.fixed_dictionaries(
            {"beeld_id": st.uuids().map(lambda u: f"{prefix}-B{u.hex[:8]}"), "naam": _tekst}
        ),
    }


def _bederf(body: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The payload with one field wrong: another type, or left out."""
    veld = st.sampled_from(sorted(body))
    return st.one_of(
        st.tuples(veld, _not_a_type).map(lambda fv: {**body, fv[0]: fv[1]}),
        veld.map(lambda f: {k: v for k, v in body.items() if k != f}),
    )


def opdrachten(prefix: str) -> st.SearchStrategy[Opdracht]:
    """Commands of every type: mostly contract-shaped, some with a wrong field or not JSON (deep
    nesting has its own test: a thousand of them would be 100 MB)."""
    per_type = _payloads(prefix)

    def voor(ce_type: str) -> st.SearchStrategy[bytes]:
        body = per_type[ce_type]
        return st.one_of(
            body.map(orjson.dumps),
            body.map(orjson.dumps),
            body.flatmap(_bederf).map(orjson.dumps),
            st.binary(max_size=40).filter(lambda b: not _parses(b)),
        )

    return st.builds(
        lambda riec, typed, tijd: Opdracht(riec, typed[0], typed[1], tijd),
        st.sampled_from(_RIECS),
        st.sampled_from(sorted(per_type)).flatmap(lambda t: voor(t).map(lambda v: (t, v))),
        ce_times,
    )


def generate_commands(n: int, prefix: str) -> list[Opdracht]:
    """`n` generated RIEC commands (generation only)."""
    found: list[Opdracht] = []

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(opdrachten(prefix))
    def collect(opdracht: Opdracht) -> None:
        found.append(opdracht)

    while len(found) < n:
        collect()
    return found[:n]
