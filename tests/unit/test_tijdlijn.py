"""Given a casus's events in any order of arrival, when they are folded into its timeline one by
one, then the timeline is in the order that sorting all of them (stably, by tijd and opdracht_id)
gives: inserting in order is the same as re-sorting after every event, which it replaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.events.casus import GEBEURTENIS_ENCODER, CasusGeopend, InterventieadviesGegeven
from engine.projections.casussen import voeg_in
from engine.projections.staat import ProjectieStaat
from engine.topics import GEBEURTENISSEN

T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)

# Few moments and few command ids, so that equal keys (whose arrival order must hold) are common.
gebeurtenissen = st.lists(
    st.tuples(st.sampled_from(["2026-05-01T09:00:00Z", "2026-05-01T10:00:00Z", "2026-06-01T08:00:00Z"]),
              st.sampled_from(["rotterdam:a", "rotterdam:b", "rotterdam:c"])),
    max_size=80,
)  # fmt: skip


def _sleutel(e: dict[str, Any]) -> tuple[str, str]:
    return e["tijd"], e["opdracht_id"]


@given(gebeurtenissen)
def test_inserting_each_event_in_order_gives_what_sorting_all_of_them_gives(
    paren: list[tuple[str, str]],
) -> None:
    # Given entries in arrival order, each marked with its place of arrival
    entries = [{"tijd": t, "opdracht_id": o, "aankomst": i} for i, (t, o) in enumerate(paren)]
    # When inserted one by one
    tijdlijn: list[dict[str, Any]] = []
    for e in entries:
        voeg_in(tijdlijn, e)
    # Then the timeline is the stable sort of all of them (ties keep their arrival order)
    assert tijdlijn == sorted(entries, key=_sleutel)


def _advies(minuut: int, n: int) -> bytes:
    tijd = T + timedelta(minutes=minuut)
    return GEBEURTENIS_ENCODER.encode(
        InterventieadviesGegeven(
            opdracht_id=f"rotterdam:advies-{n}",
            riec="rotterdam",
            tijd=tijd,
            vastgelegd_op=tijd,
            casus_id="R-1",
            advies_id=f"a{n}",
            soorten=["bestuurlijk"],
            uitvoerder="gm0599",
            coordinator="rotterdam",
        )
    )


@given(st.lists(st.integers(min_value=-30, max_value=30), max_size=40))
def test_a_casus_timeline_folded_in_any_order_is_sorted_by_time_then_command(minuten: list[int]) -> None:
    # Given a casus opened, and advice given at moments before and after its opening, arriving unsorted
    geopend = CasusGeopend(
        opdracht_id="rotterdam:open", riec="rotterdam", tijd=T, vastgelegd_op=T, casus_id="R-1",
        naam="Haven", bron="signaal", signalen=[], themas=["drugs"], subjecten=[],
    )  # fmt: skip
    staat = ProjectieStaat()
    # When folded
    staat.pas_toe(GEBEURTENISSEN, GEBEURTENIS_ENCODER.encode(geopend))
    for n, minuut in enumerate(minuten):
        staat.pas_toe(GEBEURTENISSEN, _advies(minuut, n))
    # Then the timeline holds every event, ordered as before (by tijd, then opdracht_id)
    detail = staat.casussen.detail("rotterdam", "R-1")
    assert detail is not None
    tijdlijn = detail["tijdlijn"]
    assert len(tijdlijn) == len(minuten) + 1
    assert [_sleutel(e) for e in tijdlijn] == sorted(_sleutel(e) for e in tijdlijn)
    assert detail["geopend_op"] == tijdlijn[0]["tijd"] and detail["laatst_gewijzigd"] == tijdlijn[-1]["tijd"]
