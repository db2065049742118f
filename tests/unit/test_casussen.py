"""Given a casus whose links were confirmed, refused, expired or are still pending, when its RIEC
reads the casus, then only confirmed signals show: their partner, their themes, their ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.sleutels import Sleutelring
from engine.events.casus import (
    GEBEURTENIS_ENCODER,
    CasusGeopend,
    Gebeurtenis,
    KoppelingAfgewezen,
    KoppelingBevestigd,
    KoppelingGeweigerd,
    KoppelingVerlopen,
    SignaalGekoppeld,
)
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER, PersoonPseudoniem, SignaalOntvangen
from engine.projections.staat import ProjectieStaat
from engine.topics import GEBEURTENISSEN, SIGNAAL_LOG, SLEUTELS_CASUS
from tests.fixtures import ontvangen

T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
GEHEIM = "Alleen voor Amsterdam: contante aankoop aan de Prinsengracht."
PERSOON = "a" * 64
HOOFDSLEUTEL = bytes(range(32))


def meta(ce_id: str) -> dict[str, Any]:
    tijd = T if ce_id == "open" else T.replace(hour=10)
    return {"opdracht_id": f"rotterdam:{ce_id}", "riec": "rotterdam", "tijd": tijd, "vastgelegd_op": tijd}


def signaal(signaal_id: str, themas: list[str], omschrijving: str = "x") -> SignaalOntvangen:
    return ontvangen(
        signaal_id,
        themas=themas,
        omschrijving=omschrijving,
        subjecten=[PersoonPseudoniem(pseudoniem=PERSOON)],
    )


EVENTS: list[Gebeurtenis] = [
    CasusGeopend(**meta("open"), casus_id="R-1", naam="Haven", bron="inbreng",
                 signalen=["gm0363:b", "gm0599:a", "politie:c"], themas=["omg"], subjecten=[]),
    KoppelingGeweigerd(**meta("open"), casus_id="R-1", signaal_id="gm0363:b", code="signaal_niet_gerouteerd",
                       reden="signaal gm0363:b was not routed to RIEC rotterdam"),
    KoppelingBevestigd(**meta("open"), casus_id="R-1", signaal_id="gm0599:a"),
    SignaalGekoppeld(**meta("link"), casus_id="R-1", signaal_id="om:f"),
    KoppelingVerlopen(**meta("link"), casus_id="R-1", signaal_id="om:f", reden="no signaal om:f arrived"),
]  # fmt: skip
SIGNALS = [
    signaal("gm0363:b", ["vastgoed", "regionaal:grachten"], GEHEIM),
    signaal("gm0599:a", ["witwassen"]),
    signaal("politie:c", ["drugs"]),
    signaal("om:f", ["mensenhandel"]),
]


def staat(events: list[Gebeurtenis]) -> ProjectieStaat:
    s = ProjectieStaat()
    for record in SIGNALS:
        s.pas_toe(SIGNAAL_LOG, SIGNAAL_LOG_ENCODER.encode(record))
    for g in events:
        s.pas_toe(GEBEURTENISSEN, GEBEURTENIS_ENCODER.encode(g))
    return s


def test_only_confirmed_links_show_in_the_casus() -> None:
    detail = staat(EVENTS).casussen.detail("rotterdam", "R-1")
    assert detail is not None
    assert detail["themas"] == ["omg", "witwassen"]
    assert (detail["inbrengers"], detail["inbreng_partnergroepen"]) == (["gm0599"], ["gemeenten"])
    assert (detail["signalen"], detail["signaal_ids"]) == (1, ["gm0599:a"])
    assert detail["koppelingen"] == [
        {"signaal_id": "gm0363:b", "status": "geweigerd"},
        {"signaal_id": "gm0599:a", "status": "bevestigd"},
        {"signaal_id": "politie:c", "status": "wachtend"},
        {"signaal_id": "om:f", "status": "verlopen"},
    ]
    assert [e["gebeurtenis"] for e in detail["tijdlijn"]] == [
        "Casus geopend",
        "Koppeling geweigerd",
        "Koppeling bevestigd",
        "Signaal gekoppeld",
        "Koppeling verlopen",
    ]
    shown = str(staat(EVENTS).canoniek()["casussen"])
    for secret in (GEHEIM, "vastgoed", "grachten", "drugs", "mensenhandel", PERSOON):
        assert secret not in shown


def test_the_refused_signal_counts_nowhere_in_the_annual_tables() -> None:
    row = staat(EVENTS).boek.tabellen(2026)["tabel1"]["rotterdam"]
    assert row["ingebracht"] == {"gemeenten": 1, "om": 0, "politie": 0, "belastingdienst": 0, "overige": 0}
    assert {k for k, n in row["themas"].items() if n} == {"omg", "witwassen"}


def test_a_pending_link_shows_once_confirmed() -> None:
    later = KoppelingBevestigd(**meta("open"), casus_id="R-1", signaal_id="politie:c")
    detail = staat([*EVENTS, later]).casussen.detail("rotterdam", "R-1")
    assert detail is not None
    assert detail["themas"] == ["drugs", "omg", "witwassen"] and detail["inbrengers"] == ["gm0599", "politie"]
    assert detail["signaal_ids"] == ["gm0599:a", "politie:c"]


def test_a_sealed_casus_reads_with_its_key_and_as_gewist_once_the_key_is_destroyed() -> None:
    """Given a casus logged sealed (its name and a rejection's reason under its key), when its RIEC
    reads it the name and reason show; after the key's tombstone every answer (list, detail,
    timeline, a signal's casussen) reads `[gewist]`, and the counts stay as they were; a reader
    without the master key shows `[verzegeld]`, never the text."""
    ring = Sleutelring(HOOFDSLEUTEL)
    verpakt = ring.nieuw("casus:R-1")
    afgewezen = KoppelingAfgewezen(
        **meta("af"), casus_id="R-1", signaal_id="politie:c", reden="Jansen, niet hij"
    )
    gesloten = [verzegeling.verzegel_gebeurtenis(g, ring) for g in [*EVENTS, afgewezen]]
    s = ProjectieStaat(hoofdsleutel=HOOFDSLEUTEL)
    s.verwerk(SLEUTELS_CASUS, 0, 0, verpakt, (), b"casus:R-1")
    for record in SIGNALS:
        s.pas_toe(SIGNAAL_LOG, SIGNAAL_LOG_ENCODER.encode(record))
    for g in gesloten:
        assert s.verwerk(GEBEURTENISSEN, 0, 1, GEBEURTENIS_ENCODER.encode(g)) is None
    zonder = ProjectieStaat()
    for g in gesloten:
        zonder.pas_toe(GEBEURTENISSEN, GEBEURTENIS_ENCODER.encode(g))

    detail = s.casussen.detail("rotterdam", "R-1")
    assert detail is not None and detail["naam"] == "Haven" and detail["tijdlijn"][0]["naam"] == "Haven"
    assert detail["afgewezen"] == [{"signaal_id": "politie:c", "reden": "Jansen, niet hij"}]
    assert "_verzegeld" not in str(detail) and "versleuteld" not in str(detail)
    tabellen = s.boek.tabellen(2026)

    s.verwerk(SLEUTELS_CASUS, 0, 1, None, (), b"casus:R-1")

    na = s.casussen.detail("rotterdam", "R-1")
    assert na is not None and "Haven" not in str(na) and "Jansen" not in str(na)
    assert na["naam"] == verzegeling.GEWIST and na["afgewezen"][0]["reden"] == verzegeling.GEWIST
    assert [c["naam"] for c in s.casussen.lijst("rotterdam")] == [verzegeling.GEWIST]
    assert s.casussen.van_signaal("rotterdam", "politie:c")[0]["naam"] == verzegeling.GEWIST
    assert s.boek.tabellen(2026) == tabellen, "aggregates, not personal data"
    blind = zonder.casussen.detail("rotterdam", "R-1")
    assert blind is not None and blind["naam"] == verzegeling.VERZEGELD_ZONDER_SLEUTEL


def test_a_damaged_sealed_record_reads_onleesbaar_and_fails_no_answer() -> None:
    """Given a sealed casus whose ciphertext was damaged (or belongs to another casus), when it is
    read, then it reads `[onleesbaar]`: the RIEC's list, the detail and the replay's hashes still answer."""
    ring = Sleutelring(HOOFDSLEUTEL)
    verpakt = ring.nieuw("casus:R-1")
    geopend = verzegeling.verzegel_gebeurtenis(EVENTS[0], ring)
    beschadigd = msgspec.structs.replace(geopend, versleuteld=geopend.versleuteld[:-8] + "AAAAAAA=")
    s = ProjectieStaat(hoofdsleutel=HOOFDSLEUTEL)
    s.verwerk(SLEUTELS_CASUS, 0, 0, verpakt, (), b"casus:R-1")
    s.pas_toe(GEBEURTENISSEN, GEBEURTENIS_ENCODER.encode(beschadigd))
    assert [c["naam"] for c in s.casussen.lijst("rotterdam")] == [verzegeling.ONLEESBAAR]
    assert s.hashes()["casussen"]
