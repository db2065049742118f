"""Given casus, beeld and signal events, when a year is counted, then Tabel 1 and Tabel 2 follow
the counting rules of contract.md, cell by cell, in any order of arrival."""

from __future__ import annotations

import itertools
import random
from datetime import datetime
from typing import Any

from engine.events.casus import (
    AfpakkenGeregistreerd,
    CasusAfgesloten,
    CasusGeopend,
    Gebeurtenis,
    InterventieadviesGegeven,
    KoppelingAfgewezen,
    KoppelingBevestigd,
    KoppelingGeweigerd,
    KoppelingVerlopen,
    OndermijningsbeeldOpgeleverd,
    SignaalGekoppeld,
)
from engine.projections.jaarverslag import EENHEDEN, Jaarverslagboek

_n = itertools.count()


def t(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def meta(riec: str, tijd: str) -> dict[str, Any]:
    return {"opdracht_id": f"{riec}:{next(_n)}", "riec": riec, "tijd": t(tijd), "vastgelegd_op": t(tijd)}


def geopend(
    casus_id: str, riec: str, tijd: str, signalen: list[str], themas: list[str], bron: str = "inbreng"
) -> CasusGeopend:
    return CasusGeopend(
        **meta(riec, tijd),
        casus_id=casus_id,
        naam="n",
        bron=bron,
        signalen=signalen,
        themas=themas,
        subjecten=[],
    )


def bevestigd(casus_id: str, riec: str, tijd: str, *signalen: str) -> list[Gebeurtenis]:
    """The confirmations of links asked at `tijd` (vastleggen found each routed to the RIEC)."""
    return [KoppelingBevestigd(**meta(riec, tijd), casus_id=casus_id, signaal_id=s) for s in signalen]


def geweigerd(casus_id: str, riec: str, tijd: str, signaal_id: str) -> KoppelingGeweigerd:
    return KoppelingGeweigerd(
        **meta(riec, tijd),
        casus_id=casus_id,
        signaal_id=signaal_id,
        code="signaal_niet_gerouteerd",
        reden="r",
    )


def advies(casus_id: str, riec: str, tijd: str, *soorten: str) -> InterventieadviesGegeven:
    return InterventieadviesGegeven(
        **meta(riec, tijd),
        casus_id=casus_id,
        advies_id=str(next(_n)),
        soorten=list(soorten),
        uitvoerder="x",
        coordinator="y",
    )


def afpak(casus_id: str, riec: str, tijd: str, soort: str, bedrag: int) -> AfpakkenGeregistreerd:
    return AfpakkenGeregistreerd(
        **meta(riec, tijd), casus_id=casus_id, soort=soort, domein="fiscaal", bedrag_eurocent=bedrag
    )  # type: ignore[arg-type]


EVENTS: list[Gebeurtenis] = [
    # Rotterdam: opened in 2025 from five signals of four partner groups, advice in 2026.
    geopend(
        "R-1",
        "rotterdam",
        "2025-06-01T10:00:00+02:00",
        ["gm0599:a", "gm0363:b", "politie:c", "fiod:d", "pv28:e"],
        ["drugs", "regionaal:havens"],
    ),
    *bevestigd("R-1", "rotterdam", "2025-06-01T10:00:00+02:00", "gm0599:a", "politie:c", "fiod:d", "pv28:e"),
    # gm0363:b was routed to Amsterdam only: Rotterdam's link is refused and counts nowhere.
    geweigerd("R-1", "rotterdam", "2025-06-01T10:00:00+02:00", "gm0363:b"),
    advies("R-1", "rotterdam", "2026-02-01T10:00:00+01:00", "bibob", "fiscaal", "bibob"),
    SignaalGekoppeld(**meta("rotterdam", "2026-03-01T10:00:00+01:00"), casus_id="R-1", signaal_id="om:f"),
    *bevestigd("R-1", "rotterdam", "2026-03-01T10:00:00+01:00", "om:f"),
    afpak("R-1", "rotterdam", "2026-04-01T10:00:00+02:00", "geind", 150_000),
    afpak("R-1", "rotterdam", "2025-12-01T10:00:00+01:00", "opgelegd", 999),
    # Brabant-Zeeland: one casus in each of its two RIECs, one from an ondermijningsbeeld.
    geopend(
        "ZWB-1",
        "zeeland-west-brabant",
        "2026-01-10T10:00:00+01:00",
        ["belastingdienst:g"],
        ["vastgoed"],
        bron="ondermijningsbeeld",
    ),
    *bevestigd("ZWB-1", "zeeland-west-brabant", "2026-01-10T10:00:00+01:00", "belastingdienst:g"),
    geopend("OB-1", "oost-brabant", "2026-05-10T10:00:00+02:00", [], ["omg", "logistiek"]),
    CasusAfgesloten(**meta("oost-brabant", "2026-06-10T10:00:00+02:00"), casus_id="OB-1", reden="klaar"),
    # Opened at 00:30 on 1 January 2026 in Amsterdam: 2025 in UTC, 2026 in the Dutch year.
    geopend("AA-1", "amsterdam-amstelland", "2025-12-31T23:30:00+00:00", [], ["mensenhandel"]),
    OndermijningsbeeldOpgeleverd(
        **meta("den-haag", "2026-09-01T10:00:00+02:00"), beeld_id="DH-B", naam="Beeld"
    ),
    OndermijningsbeeldOpgeleverd(
        **meta("den-haag", "2025-09-01T10:00:00+02:00"), beeld_id="DH-A", naam="Beeld"
    ),
]
SIGNALS = {
    "gm0599:a": ["witwassen"],
    "gm0363:b": ["vastgoed", "omg"],
    "politie:c": ["drugs", "regionaal:vakantieparken"],
    "om:f": ["mensenhandel"],
}


def boek(
    events: list[Gebeurtenis], signals: dict[str, list[str]], seed: int | None = None
) -> Jaarverslagboek:
    items: list[Any] = [("e", e) for e in events] + [("s", kv) for kv in signals.items()]
    if seed is not None:
        random.Random(seed).shuffle(items)
    b = Jaarverslagboek()
    for kind, item in items:
        if kind == "e":
            b.pas_toe(item)
        else:
            b.signaal(*item)
    return b


def test_2026_every_counting_rule_cell_by_cell() -> None:
    tables = boek(EVENTS, SIGNALS).tabellen(2026)
    r = tables["tabel1"]["rotterdam"]
    assert r["casussen"] == 1, "counts in 2026: it had events in 2026"
    assert r["ingebracht"] == {"gemeenten": 1, "om": 0, "politie": 1, "belastingdienst": 0, "overige": 1}
    assert r["themas"] == {
        "mensenhandel": 1,
        "drugs": 1,
        "witwassen": 1,
        "vastgoed": 0,
        "omg": 0,
        "regionaal": 1,
    }
    assert (r["interventieadviezen"], r["adviezen"]["bibob"], r["adviezen"]["fiscaal"]) == (1, 1, 1)
    assert tables["tabel2"]["rotterdam"] == {
        "opgelegd_eurocent": 0,
        "geind_eurocent": 150_000,
        "beslag_eurocent": 0,
    }
    bz = tables["tabel1"]["brabant-zeeland"]
    assert (bz["casussen"], bz["casussen_uit_ondermijningsbeeld"]) == (2, 1)
    assert bz["ingebracht"]["belastingdienst"] == 1
    assert bz["themas"]["vastgoed"] == bz["themas"]["omg"] == 1
    assert tables["tabel1"]["amsterdam-amstelland"]["casussen"] == 1, "the Dutch calendar year"
    assert tables["tabel1"]["den-haag"]["ondermijningsbeelden"] == 1
    assert set(tables["tabel1"]) == {*EENHEDEN, "totaal"}
    totaal = tables["tabel1"]["totaal"]
    assert (totaal["casussen"], totaal["ondermijningsbeelden"], totaal["themas"]["drugs"]) == (4, 1, 1)
    assert tables["tabel2"]["totaal"]["geind_eurocent"] == 150_000


def test_2025_counts_the_same_casus_again_with_its_own_events() -> None:
    tables = boek(EVENTS, SIGNALS).tabellen(2025)
    r = tables["tabel1"]["rotterdam"]
    assert (r["casussen"], r["interventieadviezen"]) == (1, 0)
    assert r["themas"]["mensenhandel"] == 1, "a casus's themes include those of later linked signals"
    assert tables["tabel2"]["rotterdam"]["opgelegd_eurocent"] == 999
    assert tables["tabel1"]["amsterdam-amstelland"]["casussen"] == 0
    assert tables["tabel1"]["den-haag"]["ondermijningsbeelden"] == 1


def test_the_order_of_arrival_does_not_change_a_single_cell() -> None:
    expected = boek(EVENTS, SIGNALS).tabellen(2026)
    for seed in range(25):  # puts links, advice and signals before their casus's opening, and after
        assert boek(EVENTS, SIGNALS, seed=seed).tabellen(2026) == expected, f"seed={seed}"


def test_a_link_counts_only_once_confirmed_in_the_year_of_its_command() -> None:
    events: list[Gebeurtenis] = [
        geopend("R-9", "rotterdam", "2031-03-01T10:00:00+01:00", ["gm0363:z", "politie:w"], ["witwassen"]),
        geweigerd("R-9", "rotterdam", "2031-03-01T10:00:00+01:00", "gm0363:z"),  # politie:w: pending
        SignaalGekoppeld(**meta("rotterdam", "2032-03-01T10:00:00+01:00"), casus_id="R-9", signaal_id="om:v"),
        geweigerd("R-9", "rotterdam", "2032-03-01T10:00:00+01:00", "om:v"),
        SignaalGekoppeld(**meta("rotterdam", "2033-03-01T10:00:00+01:00"), casus_id="R-9", signaal_id="om:u"),
        KoppelingVerlopen(
            **meta("rotterdam", "2033-03-01T10:00:00+01:00"), casus_id="R-9", signaal_id="om:u", reden="r"
        ),
        SignaalGekoppeld(**meta("rotterdam", "2034-03-01T10:00:00+01:00"), casus_id="R-9", signaal_id="om:t"),
        *bevestigd("R-9", "rotterdam", "2034-03-01T10:00:00+01:00", "om:t"),
    ]
    signals = {
        "gm0363:z": ["drugs"],
        "politie:w": ["omg"],
        "om:v": ["vastgoed"],
        "om:u": ["mensenhandel"],
        "om:t": ["regionaal:havens"],
    }
    for seed in (None, 1, 2, 3):
        b = boek(events, signals, seed)
        rows = {j: b.tabellen(j)["tabel1"]["rotterdam"] for j in (2031, 2032, 2033, 2034)}
        assert [rows[j]["casussen"] for j in rows] == [1, 0, 0, 1], "refused or expired links add no year"
        assert rows[2031]["ingebracht"] == dict.fromkeys(rows[2031]["ingebracht"], 0), "nothing confirmed yet"
        assert {k for k, n in rows[2031]["themas"].items() if n} == {"witwassen", "regionaal"}
    b = boek([*events, *bevestigd("R-9", "rotterdam", "2031-03-01T10:00:00+01:00", "politie:w")], signals)
    row = b.tabellen(2031)["tabel1"]["rotterdam"]
    assert row["ingebracht"]["politie"] == 1 and row["themas"]["omg"] == 1, "counts once confirmed"
    assert row["ingebracht"]["gemeenten"] == 0 and row["themas"]["drugs"] == 0


def test_a_rejected_candidate_link_counts_nowhere() -> None:
    events: list[Gebeurtenis] = [
        geopend("R-8", "rotterdam", "2035-03-01T10:00:00+01:00", [], ["drugs"]),
        KoppelingAfgewezen(
            **meta("rotterdam", "2036-03-01T10:00:00+01:00"), casus_id="R-8", signaal_id="om:s", reden="ander"
        ),
    ]
    b = boek(events, {"om:s": ["omg"]})
    assert b.tabellen(2036) == boek([], {}).tabellen(2036), "no year, no theme, no partner of its own"
    assert b.tabellen(2035) == boek(events[:1], {"om:s": ["omg"]}).tabellen(2035)


def test_the_reporting_units_are_the_riecs_with_the_taskforce_counted_once() -> None:
    # Given the ten RIECs that signals are routed to, then the annual tables have one column per
    # reporting unit: nine, Zeeland-West-Brabant and Oost-Brabant together as brabant-zeeland.
    from engine.api.export import KOLOMMEN, KOPPEN
    from engine.domain.reference import RIECS
    from engine.projections.jaarverslag import eenheid

    assert set(EENHEDEN) == {eenheid(r) for r in RIECS} and len(EENHEDEN) == 9
    assert eenheid("oost-brabant") == eenheid("zeeland-west-brabant") == "brabant-zeeland"
    assert set(KOPPEN) == set(KOLOMMEN) == {*EENHEDEN, "totaal"}
