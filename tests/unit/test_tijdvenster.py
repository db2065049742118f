"""Given a ce_time or a payload date, when ingress reads it, then it is accepted inside the
documented window and refused outside it with a reason that says the window (issue 10: a command
with ce_time 9999-12-31T23:30:00Z crash-looped every worker)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from engine.domain.ingress.tijdvenster import controleer_datums, controleer_tijd
from engine.errors import Weigering
from tests.fixtures import payload
from tests.unit import test_acceptatie as signalen
from tests.unit import test_opdrachten as opdrachten

NU = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
AANWIJZEN = "nl.riec.handhavingsknelpunt.aanwijzen.v1"


def hkp(**datums: str) -> dict[str, object]:
    return {
        "hkp_id": "H",
        "naam": "n",
        "soort": "branche",
        "sbi": ["68"],
        "geldig_van": "2026-01-01",
        **datums,
    }


@pytest.mark.parametrize(
    "ce_time",
    ["9999-12-31T23:30:00Z", "0001-01-01T00:30:00+01:00", "1999-12-31T23:59:59Z", "2026-05-02T00:00:01Z",
     "9999-12-31T23:30:00-01:00", "2100-01-01T00:00:00+14:00"],
)  # fmt: skip
def test_a_ce_time_outside_the_window_is_refused_for_signals_and_commands(ce_time: str) -> None:
    s = signalen.refusal(signalen.bericht(ce_time=ce_time))
    o = opdrachten.refusal(opdrachten.bericht(AANWIJZEN, hkp(), ce_time=ce_time))
    for weigering in (s, o):
        assert weigering.code == "ce_time_out_of_range"
        assert (
            "2000-01-01T00:00Z" in weigering.reden and "one day after the engine's clock" in weigering.reden
        )


@pytest.mark.parametrize("ce_time", ["2025-01-26T12:00:00Z", "2025-01-26T13:00:00+01:00", "2026-03-03T12:00:00Z",
                                     "2026-03-03T13:59:00+02:00", "2025-06-01T10:00:00+02:00"])  # fmt: skip
def test_a_ce_time_inside_the_window_is_accepted(ce_time: str) -> None:
    assert signalen.accept(signalen.bericht(ce_time=ce_time)).gemeld_op == datetime.fromisoformat(ce_time)


@pytest.mark.parametrize(
    "ce_time", ["2000-01-01T00:00:00Z", "2019-06-01T10:00:00+02:00", "2025-01-26T11:59:59Z"]
)
def test_a_signal_older_than_the_dedup_horizon_is_refused_a_command_is_not(ce_time: str) -> None:
    # Given the default horizon of 400 days before NU (2025-01-26T12:00Z)
    weigering = signalen.refusal(signalen.bericht(ce_time=ce_time))
    assert weigering.code == "ce_time_beyond_horizon"
    assert "400 days" in weigering.reden and "new ce_id" in weigering.reden
    # A command keeps the whole window: its duplicates are recognised by its casus for as long as it lives
    assert opdrachten.accept(opdrachten.bericht(AANWIJZEN, hkp(), ce_time=ce_time)) is not None


def test_the_window_is_relative_to_the_clock() -> None:
    controleer_tijd(NU + timedelta(days=1), NU)
    with pytest.raises(Weigering):
        controleer_tijd(NU + timedelta(days=1, seconds=1), NU)


@pytest.mark.parametrize(
    ("waargenomen_op", "accepted"),
    [("1999-12-31", False), ("2000-01-01", True), ("2026-03-03", True), ("2026-03-04", False),
     ("9999-12-31", False), ("0001-01-01", False)],
)  # fmt: skip
def test_waargenomen_op_is_a_date_of_fact_not_in_the_future(waargenomen_op: str, accepted: bool) -> None:
    b = signalen.bericht(body=payload(waargenomen_op=waargenomen_op))
    if accepted:
        assert signalen.accept(b).waargenomen_op == date.fromisoformat(waargenomen_op)
    else:
        weigering = signalen.refusal(b)
        assert weigering.code == "date_out_of_range"
        assert weigering.reden.startswith(f"waargenomen_op {waargenomen_op} is not between 2000-01-01 and ")


@pytest.mark.parametrize(
    ("datums", "accepted"),
    [({"geldig_van": "2036-05-01"}, True), ({"geldig_tot": "2036-05-01"}, True),
     ({"geldig_van": "2036-05-02"}, False), ({"geldig_tot": "9999-12-31"}, False),
     ({"geldig_van": "0001-01-01"}, False), ({"geldig_van": "1999-12-31"}, False)],
)  # fmt: skip
def test_an_hkp_may_be_designated_up_to_ten_years_ahead(datums: dict[str, str], accepted: bool) -> None:
    b = opdrachten.bericht(AANWIJZEN, hkp(**datums))  # the command tests' clock: 2026-05-01
    if accepted:
        assert opdrachten.accept(b).aggregaat == "hkp:H"
    else:
        weigering = opdrachten.refusal(b)
        assert weigering.code == "date_out_of_range"
        assert "(ten years ahead)" in weigering.reden and next(iter(datums)) in weigering.reden


class Binnen(msgspec.Struct):
    op: date


class Buiten(msgspec.Struct):
    lijst: list[Binnen]
    tijd: datetime | None = None


def test_every_date_of_a_payload_is_checked_also_in_nested_structs() -> None:
    controleer_datums(Buiten(lijst=[Binnen(op=date(2020, 1, 1))]), NU)
    with pytest.raises(Weigering, match=r"^date_out_of_range: lijst\[1\]\.op 1999-01-01 "):
        controleer_datums(Buiten(lijst=[Binnen(op=date(2020, 1, 1)), Binnen(op=date(1999, 1, 1))]), NU)
    with pytest.raises(Weigering, match="tijd"):
        controleer_datums(Buiten(lijst=[], tijd=datetime(9999, 12, 31, tzinfo=UTC)), NU)
