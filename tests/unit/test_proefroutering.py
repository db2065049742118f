"""Given signals routed under one version of the reference data, when a dry run routes them again
under a candidate, then exactly the destinations whose signals or reasons would change are listed,
with both reasons; the matches of rules 2 and 3 are taken from the routes as they were."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec
import pytest

from engine.domain.knelpunten import KnelpuntMatch
from engine.domain.proefroutering import Gerouteerd, Proef, Proefroutering, vergelijk
from engine.domain.reference.regelversies import Regelversies, laad_versie, regelversies
from engine.domain.routing import herroute, route
from engine.events.matching import CasusMatch
from engine.events.signaal import Adres, Locatie
from engine.events.signaal_ontvangen import SignaalOntvangen

VERSIES = Path(__file__).parents[2] / "engine" / "domain" / "reference" / "versies"
T = datetime(2026, 3, 2, 12, tzinfo=UTC)
V2023 = regelversies().op(date(2023, 1, 1))


def signaal(
    sid: str, dag: date, *, gemeente: str | None = None, themas: tuple[str, ...] = ("drugs",), **kw: object
) -> SignaalOntvangen:
    return SignaalOntvangen(
        signaal_id=sid, bron="om", gemeld_op=T, aangeboden_op=T, ontvangen_op=T, soort="signaal",
        themas=list(themas), omschrijving="", waargenomen_op=dag,
        locatie=Locatie(gemeente=gemeente) if gemeente else None, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def gerouteerd(s: SignaalOntvangen, **matches: object) -> Gerouteerd:
    """Routed as the engine did: under the version in force on its day, with these matches."""
    routes = route(s, regelversies(), **matches)  # type: ignore[arg-type]
    return Gerouteerd(s, tuple(routes), regelversies().op(s.waargenomen_op).id)


HKP = KnelpuntMatch(
    "H-1", "limburg", "Handhavingsknelpunt X (H-1, RIEC limburg): postcode 6211 in het gebied"
)
CASUS = CasusMatch(casus_id="C-7", riec="oost-brabant", identificator="kenteken:XX99XX")


@pytest.mark.parametrize(
    ("s", "matches"),
    [
        (signaal("om:brielle", date(2022, 6, 1), gemeente="GM0501"), {}),
        (
            signaal("om:amsterdam", date(2024, 6, 1), gemeente="GM0363", themas=("vastgoed",)),
            {"knelpunten": [HKP]},
        ),
        (
            signaal("om:adres", date(2023, 6, 1), subjecten=[Adres(postcode="3231AA", huisnummer="1")]),
            {"casussen": [CASUS]},
        ),
        (signaal("om:niets", date(2023, 6, 1)), {}),
        (
            signaal("om:begrensd", date(2023, 6, 1), gemeente="GM0363"),
            {"casussen": [CASUS], "casussen_begrensd": True},
        ),
    ],
    ids=["locatie", "hkp-en-lft", "adres-en-casus", "triage", "begrensd"],
)
def test_under_the_rules_that_routed_it_a_signal_routes_exactly_as_it_did(
    s: SignaalOntvangen, matches: dict[str, object]
) -> None:
    eerder = gerouteerd(s, **matches)
    assert herroute(s, regelversies(), eerder.routes) == list(eerder.routes)
    assert vergelijk(eerder, herroute(s, regelversies(), eerder.routes)) == []


def proef(
    kandidaat_map: Path | None = None, van: date = date(2022, 1, 1), tot: date = date(2022, 12, 31)
) -> Proef:
    kandidaat = laad_versie(kandidaat_map) if kandidaat_map is not None else V2023
    return Proef(van, tot, kandidaat)


def test_the_merger_of_voorne_aan_zee_changes_the_reasons_of_brielle_and_nothing_else_in_2022() -> None:
    p = proef()
    signalen = {
        "om:brielle": signaal("om:brielle", date(2022, 6, 1), gemeente="GM0501"),
        "om:hellevoetsluis": signaal("om:hellevoetsluis", date(2022, 12, 31), gemeente="GM0530"),
        "om:amsterdam": signaal("om:amsterdam", date(2022, 6, 1), gemeente="GM0363"),
        "om:rotterdam": signaal("om:rotterdam", date(2022, 6, 1), gemeente="GM0599"),
    }
    for s in signalen.values():
        p.neem(gerouteerd(s))
    uitkomst = p.uitkomst
    assert uitkomst.signalen == 4
    assert uitkomst.signaal_ids() == {"om:brielle", "om:hellevoetsluis"}
    brielle = next(v for v in uitkomst.verschillen if v.signaal_id == "om:brielle")
    assert (brielle.bestemming, brielle.wat) == ("riec.rotterdam", "andere_redenen")
    assert "Brielle (GM0501), RIEC rotterdam" in brielle.redenen_gerouteerd[0].toelichting
    assert "Voorne aan Zee (GM1992)" in brielle.redenen_proef[0].toelichting
    assert "GM0501 (Brielle) is op 2023-01-01 opgegaan in GM1992" in brielle.redenen_proef[0].toelichting
    assert brielle.regelversie_gerouteerd == regelversies().op(date(2022, 6, 1)).id


def kandidaat_met(tmp_path: Path, code: str, riec: str) -> Path:
    """A candidate version: today's, with one gemeente given to another RIEC."""
    map = tmp_path / "2027-01-01"
    shutil.copytree(VERSIES / "2023-01-01", map)
    (map / "versie.toml").write_text('geldig_vanaf = 2027-01-01\nomschrijving = "proef"\n')
    regels = (map / "gemeenten.csv").read_text().splitlines()
    regels = [r.rsplit(",", 1)[0] + f",{riec}" if r.startswith(code + ",") else r for r in regels]
    (map / "gemeenten.csv").write_text("\n".join(regels) + "\n")
    return map


def test_a_gemeente_moved_to_another_riec_adds_and_drops_destinations_and_lfts(tmp_path: Path) -> None:
    p = proef(kandidaat_met(tmp_path, "GM0363", "Limburg"), van=date(2024, 1, 1), tot=date(2024, 12, 31))
    # Amsterdam plus an HKP in Limburg: two RIECs, so LFT vastgoed; moved to Limburg: one RIEC.
    p.neem(
        gerouteerd(
            signaal("om:a", date(2024, 6, 1), gemeente="GM0363", themas=("vastgoed",)), knelpunten=[HKP]
        )
    )
    p.neem(gerouteerd(signaal("om:b", date(2024, 6, 1), gemeente="GM0599")))
    per = {(v.signaal_id, v.bestemming): v for v in p.uitkomst.verschillen}
    assert set(per) == {
        ("om:a", "riec.amsterdam-amstelland"),
        ("om:a", "riec.limburg"),
        ("om:a", "lft.vastgoed"),
    }
    assert per["om:a", "riec.amsterdam-amstelland"].wat == "eraf"
    assert per["om:a", "riec.amsterdam-amstelland"].redenen_proef == ()
    limburg = per["om:a", "riec.limburg"]
    assert limburg.wat == "andere_redenen"  # the HKP's reason stays, the location's joins it
    assert [r.regel for r in limburg.redenen_gerouteerd] == ["handhavingsknelpunt"]
    assert [r.regel for r in limburg.redenen_proef] == ["locatie", "handhavingsknelpunt"]
    assert per["om:a", "lft.vastgoed"].wat == "eraf"


def test_a_destination_only_the_candidate_gives_is_added_with_its_reasons(tmp_path: Path) -> None:
    p = proef(kandidaat_met(tmp_path, "GM0363", "Limburg"), van=date(2024, 1, 1), tot=date(2024, 12, 31))
    p.neem(gerouteerd(signaal("om:c", date(2024, 6, 1), gemeente="GM0363")))
    [eraf, erbij] = sorted(p.uitkomst.verschillen, key=lambda v: v.wat)
    assert (erbij.bestemming, erbij.wat, erbij.redenen_gerouteerd) == ("riec.limburg", "erbij", ())
    assert "Amsterdam (GM0363), RIEC limburg" in erbij.redenen_proef[0].toelichting
    assert (eraf.bestemming, eraf.wat) == ("riec.amsterdam-amstelland", "eraf")


def test_the_period_is_of_observation_dates_and_must_not_run_backwards() -> None:
    p = proef(van=date(2022, 1, 1), tot=date(2022, 12, 31))
    assert p.in_periode(signaal("x", date(2022, 12, 31)))
    assert not p.in_periode(signaal("x", date(2023, 1, 1)))
    with pytest.raises(ValueError, match="before"):
        proef(van=date(2023, 1, 1), tot=date(2022, 1, 1))


def test_the_json_reads_back_and_the_page_shows_both_reasons_per_destination_in_dutch() -> None:
    p = proef()
    p.neem(gerouteerd(signaal("om:brielle", date(2022, 6, 1), gemeente="GM0501")))
    p.neem(gerouteerd(signaal("om:amsterdam", date(2022, 6, 1), gemeente="GM0363")))
    p.onleesbaar()
    terug = msgspec.json.decode(p.uitkomst.als_json(), type=Proefroutering)
    assert terug == p.uitkomst
    pagina = p.uitkomst.als_pagina()
    assert f"Regelversie {V2023.id}" in pagina
    assert "## riec.rotterdam" in pagina and "### Krijgt het signaal met andere redenen (1)" in pagina
    assert "- gerouteerd: locatie: Locatie (gemeente) in Brielle (GM0501)" in pagina
    assert "- proef: locatie: Locatie (gemeente GM0501) in Voorne aan Zee (GM1992)" in pagina
    assert "Vergeten (niet meer te openen): 1" in pagina
    assert "om:amsterdam" not in pagina


def test_a_run_without_differences_says_so() -> None:
    p = Proef(date(2024, 1, 1), date(2024, 12, 31), V2023)
    p.neem(gerouteerd(signaal("om:amsterdam", date(2024, 6, 1), gemeente="GM0363")))
    assert p.uitkomst.verschillen == []
    assert "Geen verschillen" in p.uitkomst.als_pagina()


def test_rule_sets_differ_only_by_the_candidate() -> None:
    """The candidate alone is in force: a version of another date does not creep in."""
    p = proef()
    assert isinstance(p._regels, Regelversies) and p._regels.versies == (V2023,)
