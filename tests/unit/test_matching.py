"""Given HKPs and open casussen, when a signal is matched, then these HKPs and casussen."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from engine.domain import identificatoren
from engine.domain.casusindex import CasusIndex
from engine.domain.knelpunten import Knelpuntenregister, KnelpuntMatch
from engine.domain.reference.regelversies import regelversies
from engine.domain.routing import route
from engine.events.casus import HandhavingsknelpuntAangewezen, HandhavingsknelpuntBeeindigd
from engine.events.matching import CasusMatch
from engine.events.signaal import Adres, Locatie, Rechtspersoon, Voertuig
from engine.events.signaal_ontvangen import PersoonPseudoniem
from tests.unit.test_routing import signaal

T = datetime(2026, 5, 1, tzinfo=UTC)
P = "a" * 64


def hkp(
    hkp_id: str, soort: str, riec: str = "amsterdam-amstelland", **fields: Any
) -> HandhavingsknelpuntAangewezen:
    return HandhavingsknelpuntAangewezen(
        opdracht_id=f"{riec}:{hkp_id}", riec=riec, tijd=T, vastgelegd_op=T, hkp_id=hkp_id, naam=f"HKP {hkp_id}",
        soort=soort, geldig_van=fields.pop("geldig_van", date(2026, 1, 1)), **fields,
    )  # fmt: skip


def register(*events: HandhavingsknelpuntAangewezen | HandhavingsknelpuntBeeindigd) -> Knelpuntenregister:
    r = Knelpuntenregister()
    for e in events:
        r.pas_toe(e)
    return r


def ids(matches: list[KnelpuntMatch]) -> list[str]:
    return [m.hkp_id for m in matches]


def test_hkp_of_a_person_matches_on_the_pseudonym_only() -> None:
    r = register(hkp("H-P", "persoon", pseudoniemen=[P]))
    assert ids(r.matches(signaal(subjecten=[PersoonPseudoniem(pseudoniem=P)]))) == ["H-P"]
    assert ids(r.matches(signaal(subjecten=[PersoonPseudoniem(pseudoniem="b" * 64)]))) == []


def test_hkp_of_an_area_matches_pc4_and_pc6_of_location_and_addresses() -> None:
    r = register(hkp("H-G", "gebied", postcodes=["1013", "1044AB"]))
    assert ids(r.matches(signaal(locatie=Locatie(postcode="1013XY")))) == ["H-G"]
    assert ids(r.matches(signaal(subjecten=[Adres(postcode="1044AB", huisnummer="1")]))) == ["H-G"]
    assert ids(r.matches(signaal(subjecten=[Adres(postcode="1044AC", huisnummer="1")]))) == []


def test_hkp_of_a_branche_matches_sbi_codes_and_prefixes() -> None:
    r = register(hkp("H-B", "branche", sbi=["68"]))
    assert ids(r.matches(signaal(subjecten=[Rechtspersoon(kvk="12345678", sbi=["6831"])]))) == ["H-B"]
    assert ids(r.matches(signaal(subjecten=[Rechtspersoon(kvk="12345678", sbi=["5610"])]))) == []


def test_an_ended_or_not_yet_valid_hkp_does_not_match() -> None:
    ended = register(
        hkp("H-P", "persoon", pseudoniemen=[P]),
        HandhavingsknelpuntBeeindigd(
            opdracht_id="x:1", riec="amsterdam-amstelland", tijd=T, vastgelegd_op=T, hkp_id="H-P"
        ),
    )
    later = register(hkp("H-P", "persoon", pseudoniemen=[P], geldig_van=date(2027, 1, 1)))
    expired = register(hkp("H-P", "persoon", pseudoniemen=[P], geldig_tot=date(2026, 2, 1)))
    s = signaal(subjecten=[PersoonPseudoniem(pseudoniem=P)], ontvangen_op=T)
    assert ids(ended.matches(s)) == ids(later.matches(s)) == ids(expired.matches(s)) == []


def test_identifiers_are_normalised_and_never_hold_a_bsn() -> None:
    s = signaal(
        locatie=Locatie(postcode="1013AB", huisnummer="12 a"),
        subjecten=[
            PersoonPseudoniem(pseudoniem=P),
            Voertuig(kenteken="ab-12-cd"),
            Adres(postcode="1013AB", huisnummer="12-A"),
        ],
    )
    assert identificatoren.van_signaal(s) == ["adres:1013AB12A", "kenteken:AB12CD", f"persoon:{P}"]


def test_the_index_adds_finds_and_forgets_closed_casussen_for_good() -> None:
    index = CasusIndex()
    assert index.voeg_toe("kvk:12345678", "R-1", "rotterdam")
    assert not index.voeg_toe("kvk:12345678", "R-1", "rotterdam")
    index.voeg_toe("kvk:12345678", "L-9", "limburg")
    assert [m.casus_id for m in index.zoek("kvk:12345678")] == ["L-9", "R-1"]
    assert index.sluit("R-1") == ["kvk:12345678"]
    assert [m.casus_id for m in index.zoek("kvk:12345678")] == ["L-9"]
    assert not index.voeg_toe("kenteken:AB12CD", "R-1", "rotterdam"), "a late identifier of a closed casus"
    assert index.zoek("kenteken:AB12CD") == []


def test_the_index_is_restored_from_its_changelog() -> None:
    live = CasusIndex()
    live.voeg_toe("kvk:1", "R-1", "rotterdam")
    live.voeg_toe("kvk:1", "L-1", "limburg")
    restored = CasusIndex()
    restored.herstel("kvk:1", live.stand("kvk:1"))
    restored.herstel_gesloten("X-1")
    assert restored.zoek("kvk:1") == live.zoek("kvk:1")
    assert not restored.voeg_toe("kvk:2", "X-1", "rotterdam")


def test_all_rules_together_name_every_reason_once_per_destination() -> None:
    s = signaal(
        themas=["vastgoed"], locatie=Locatie(gemeente="GM0363"), subjecten=[PersoonPseudoniem(pseudoniem=P)]
    )
    hkps = [
        KnelpuntMatch("H-P", "amsterdam-amstelland", "Handhavingsknelpunt X"),
        KnelpuntMatch("H-R", "rotterdam", "Y"),
    ]
    casussen = [CasusMatch(casus_id="L-9", riec="limburg", identificator=f"persoon:{P}")]
    routes = {r.bestemming: [x.regel for x in r.redenen] for r in route(s, regelversies(), hkps, casussen)}
    assert routes == {
        "riec.amsterdam-amstelland": ["locatie", "handhavingsknelpunt"],
        "riec.rotterdam": ["handhavingsknelpunt"],
        "riec.limburg": ["open_casus"],
        "lft.vastgoed": ["fenomeentafel"],
    }
    limburg = next(r for r in route(s, regelversies(), hkps, casussen) if r.bestemming == "riec.limburg")
    assert limburg.redenen[0].casus_id == "L-9" and P not in limburg.redenen[0].toelichting


def test_a_postcode_and_a_kenteken_match_however_they_were_written() -> None:
    # Given an area HKP on a PC6 written with a space and a casus that knows a kenteken with dashes,
    # when a signal writes them otherwise, then they still match: one normalisation for all.
    register = Knelpuntenregister()
    register.pas_toe(hkp("H-G", "gebied", postcodes=["1013 ab"]))
    s = signaal(locatie=Locatie(postcode="1013AB", huisnummer="1"))
    assert [m.hkp_id for m in register.matches(s)] == ["H-G"]
    assert identificatoren.van_subject(Voertuig(kenteken="12-kbx-3")) == "kenteken:12KBX3"
    assert identificatoren.adres("1013 ab", "1 a") == identificatoren.adres("1013AB", "1A")
