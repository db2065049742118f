"""Functions on dates are total: given any datetime msgspec can decode (years 1..9999, any offset
up to ±23:59, or a named zone), when the projections compute a reporting year or a week, then
they answer, and the reporting year is the right one also where it leaves datetime's range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from engine.events.casus import GEBEURTENIS_ENCODER, OndermijningsbeeldOpgeleverd
from engine.projections.inbox import Inbox
from engine.projections.jaarverslag import Jaarverslagboek, jaar
from engine.projections.staat import ProjectieStaat
from engine.topics import GEBEURTENISSEN

_NL = ZoneInfo("Europe/Amsterdam")
_DAG_US = 86_400 * 10**6
_offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
_zones: st.SearchStrategy[tzinfo | None] = st.one_of(_offsets, st.timezones(), st.none())
momenten = st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=_zones)
randen = st.one_of(
    st.datetimes(max_value=datetime.min + timedelta(days=2), timezones=_offsets),
    st.datetimes(min_value=datetime.max - timedelta(days=2), timezones=_offsets),
)


def amsterdams_jaar(tijd: datetime) -> int:
    """Reference, by integer arithmetic: the instant in microseconds since 0001-01-01 plus
    Amsterdam's offset (LMT +00:19:32 near year 1, CET +01:00 in the last days of 9999)."""
    if tijd.tzinfo is None:
        tijd = tijd.replace(tzinfo=UTC)
    naief = tijd.replace(tzinfo=None)
    offset = tijd.utcoffset() or timedelta()
    utc_us = (naief - datetime.min) // timedelta(microseconds=1) - offset // timedelta(microseconds=1)
    nl = timedelta(minutes=19, seconds=32) if naief.year < 5000 else timedelta(hours=1)
    lokaal = utc_us + nl // timedelta(microseconds=1)
    dag = lokaal // _DAG_US + 1  # proleptic ordinal: 0001-01-01 is 1
    if dag < 1:
        return 0
    if dag > date.max.toordinal():
        return 10000
    return date.fromordinal(dag).year


def test_the_reported_crashes_count_in_the_dutch_year_they_fall_in() -> None:
    assert jaar(datetime.fromisoformat("9999-12-31T23:30:00+00:00")) == 10000
    assert jaar(datetime.fromisoformat("0001-01-01T00:30:00+01:00")) == 0
    assert jaar(datetime.fromisoformat("0001-01-01T00:00:00+00:00")) == 1  # 00:19:32 LMT
    assert jaar(datetime.fromisoformat("9999-12-31T22:59:59+00:00")) == 9999


@given(momenten)
def test_the_reporting_year_is_total_and_dutch(tijd: datetime) -> None:
    gevonden = jaar(tijd)
    try:
        verwacht = (tijd if tijd.tzinfo else tijd.replace(tzinfo=UTC)).astimezone(_NL).year
    except OverflowError:
        verwacht = amsterdams_jaar(tijd)
    assert gevonden == verwacht


@given(randen)
def test_at_the_limits_of_datetime_the_year_follows_amsterdams_clock(tijd: datetime) -> None:
    assert jaar(tijd) == amsterdams_jaar(tijd)


@given(momenten, momenten)
def test_the_weekly_chart_takes_any_moment(ontvangen: datetime, gemeld: datetime) -> None:
    inbox = Inbox()
    inbox.pas_toe("riec.limburg", msgspec.json.encode({"ontvangen_op": ontvangen, "gemeld_op": gemeld}))
    assert sum(inbox.per_week("riec.limburg").values()) == 1


@given(momenten)
def test_an_event_at_any_moment_folds_and_counts_in_its_year(tijd: datetime) -> None:
    beeld = OndermijningsbeeldOpgeleverd(
        opdracht_id="rotterdam:x", riec="rotterdam", tijd=tijd, vastgelegd_op=tijd, beeld_id="b", naam="n"
    )
    staat = ProjectieStaat()
    staat.pas_toe(GEBEURTENISSEN, GEBEURTENIS_ENCODER.encode(beeld))
    boek: Jaarverslagboek = staat.boek
    assert boek.tabellen(jaar(tijd))["tabel1"]["rotterdam"]["ondermijningsbeelden"] == 1
    assert staat.hashes()
