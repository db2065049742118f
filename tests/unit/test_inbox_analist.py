"""Given routed messages and casus events, when the analyst filters the inbox, reads a signal or
asks what became of a command, then the store answers over the whole inbox, in any fold order."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from engine.api.analist import ce_id_van
from engine.api.parameters import inbox_filter
from engine.api.webserver import OngeldigVerzoek
from engine.events.casus import GEBEURTENIS_ENCODER, KoppelingAfgewezen, KoppelingBevestigd, SignaalGekoppeld
from engine.projections.opslag import Filter
from engine.projections.staat import ProjectieStaat
from engine.topics import DLQ, GEBEURTENISSEN

T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
META = {"riec": "rotterdam", "tijd": T, "vastgelegd_op": T}


def bericht(n: int, org: str, thema: str, regel: str, dag: str) -> bytes:
    return orjson.dumps(
        {
            "signaal_id": f"{org}:s{n}",
            "ontvangen_op": f"{dag}T10:00:00Z",
            "gemeld_op": f"{dag}T09:00:00Z",
            "themas": [thema],
            "redenen": [{"regel": "locatie", "toelichting": "t"}, {"regel": regel, "toelichting": "t"}],
        }
    )


BERICHTEN = [
    bericht(0, "politie", "drugs", "open_casus", "2026-03-01"),
    bericht(1, "gm0599", "witwassen", "handhavingsknelpunt", "2026-03-02"),
    bericht(2, "politie", "regionaal:haven_x", "open_casus", "2026-03-03"),
    bericht(3, "om", "drugs", "locatie", "2026-03-04"),
    bericht(4, "politie", "drugs", "open_casus_begrensd", "2026-03-05"),
]
GEBEURTENISSEN_ = [
    SignaalGekoppeld(**META, opdracht_id="rotterdam:k1", casus_id="R-1", signaal_id="politie:s0"),
    KoppelingBevestigd(**META, opdracht_id="rotterdam:k1", casus_id="R-1", signaal_id="politie:s0"),
    KoppelingAfgewezen(
        **META, opdracht_id="rotterdam:a1", casus_id="R-1", signaal_id="politie:s2", reden="ander"
    ),
]


def staat(seed: int | None = None) -> ProjectieStaat:
    records: list[tuple[str, Any]] = [("routes.riec.rotterdam", b) for b in BERICHTEN]
    records += [(GEBEURTENISSEN, GEBEURTENIS_ENCODER.encode(g)) for g in GEBEURTENISSEN_]
    if seed is not None:  # the casus log and the routes meet in any order; their own order stays
        volgorde = sorted(range(len(records)), key=lambda i: (random.Random(seed + i).random(), i))
        routes = iter(r for r in records if r[0] != GEBEURTENISSEN)
        log = iter(r for r in records if r[0] == GEBEURTENISSEN)
        records = [next(routes) if records[i][0] != GEBEURTENISSEN else next(log) for i in volgorde]
    s = ProjectieStaat()
    for topic, value in records:
        assert s.verwerk(topic, 0, 0, value) is None
    s.vastleggen()
    return s


def ids(s: ProjectieStaat, f: Filter, limit: int = 10, voor: str | None = None) -> list[str]:
    return [i["signaal_id"] for i in s.inbox.gefilterde_pagina("riec.rotterdam", f, limit, voor).items]


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_tiles_count_the_whole_inbox_and_handled_signals(seed: int | None) -> None:
    print(f"seed={seed}")
    s = staat(seed)
    assert s.inbox.tellingen("riec.rotterdam") == {
        "totaal": 5, "handhavingsknelpunt": 1, "open_casus": 3, "behandeld": 2,
    }  # fmt: skip
    assert s.inbox.behandeling("riec.rotterdam", ["politie:s0", "politie:s2", "om:s3"]) == {
        "politie:s0": [{"casus_id": "R-1", "status": "gekoppeld"}],
        "politie:s2": [{"casus_id": "R-1", "status": "afgewezen"}],
    }


def test_filters_each_and_together_newest_first() -> None:
    s = staat()
    assert ids(s, Filter(thema="drugs")) == ["politie:s4", "om:s3", "politie:s0"]
    assert ids(s, Filter(thema="regionaal:haven_x")) == ["politie:s2"]
    assert ids(s, Filter(thema="regionaal:haven")) == [], "a whole theme, no prefix or wildcard"
    assert ids(s, Filter(regel="open_casus")) == ["politie:s2", "politie:s0"]
    assert ids(s, Filter(partnergroep="gemeenten")) == ["gm0599:s1"]
    assert ids(s, Filter(van="2026-03-02", tot="2026-03-03")) == ["politie:s2", "gm0599:s1"]
    assert ids(s, Filter(behandeld=True)) == ["politie:s2", "politie:s0"]
    assert ids(s, Filter(behandeld=False, thema="drugs")) == ["politie:s4", "om:s3"]


def test_a_filtered_page_has_a_cursor_to_the_next_and_its_total() -> None:
    s = staat()
    eerste = s.inbox.gefilterde_pagina("riec.rotterdam", Filter(partnergroep="politie"), 2, None)
    assert [i["signaal_id"] for i in eerste.items] == ["politie:s4", "politie:s2"] and eerste.totaal == 3
    assert eerste.volgende is not None
    assert ids(s, Filter(partnergroep="politie"), 2, eerste.volgende) == ["politie:s0"]
    laatste = s.inbox.gefilterde_pagina("riec.rotterdam", Filter(partnergroep="politie"), 2, eerste.volgende)
    assert laatste.volgende is None


def test_a_signal_is_found_by_its_id_in_its_own_inbox_only() -> None:
    s = staat()
    assert s.inbox.bericht("riec.rotterdam", "om:s3")["themas"] == ["drugs"]  # type: ignore[index]
    assert s.inbox.bericht("riec.limburg", "om:s3") is None
    assert s.casussen.van_signaal("rotterdam", "politie:s2") == []  # its casus was never opened here


def test_a_commands_outcome_comes_from_the_casus_log_or_the_dlq_headers() -> None:
    s = staat()
    assert s.uitkomsten.van("rotterdam:k1") == {
        "status": "toegepast", "gebeurtenissen": ["nl.riec.engine.signaal_gekoppeld.v1"],
        "koppelingen": {"politie:s0": "bevestigd"},
    }  # fmt: skip
    s.verwerk(DLQ, 0, 0, b"raw", [("ce_id", b"x1"), ("source_topic", b"riec.rotterdam.opdrachten"),
                                   ("reason_code", b"unknown_casus"), ("reason", b"casus R-9 does not exist")])  # fmt: skip
    s.verwerk(DLQ, 0, 1, b"raw", [("ce_id", b"x2"), ("source_topic", b"partner.politie.signalen")])
    assert s.uitkomsten.van("rotterdam:x1") == {
        "status": "geweigerd", "code": "unknown_casus", "reden": "casus R-9 does not exist",
        "melding": "Deze casus bestaat niet bij uw RIEC.",
    }  # fmt: skip
    assert s.uitkomsten.van("politie:x2") is None and s.uitkomsten.van("rotterdam:nooit") is None


def test_a_double_click_is_one_command_id_with_no_digits() -> None:
    a = ce_id_van("rotterdam", "nl.riec.casus.signaal_koppelen.v1", b'{"casus_id":"R-1"}')
    assert a == ce_id_van("rotterdam", "nl.riec.casus.signaal_koppelen.v1", b'{"casus_id":"R-1"}')
    assert a != ce_id_van("limburg", "nl.riec.casus.signaal_koppelen.v1", b'{"casus_id":"R-1"}')
    assert not any(c.isdigit() for c in a)


def test_filter_parameters_are_checked_strictly() -> None:
    assert inbox_filter({"thema": "drugs", "behandeld": "nee", "van": "2026-03-01"}) == Filter(
        thema="drugs", behandeld=False, van="2026-03-01"
    )
    for fout in ({"thema": "fraude"}, {"regel": "x"}, {"partnergroep": "fiod"}, {"van": "2026-3-1"},
                 {"behandeld": "misschien"}, {"tot": "２０２６-03-01"}):  # fmt: skip
        with pytest.raises(OngeldigVerzoek):
            inbox_filter(fout)
