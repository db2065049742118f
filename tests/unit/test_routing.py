"""Given an accepted signal, when it is routed, then these destinations get it for these reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from engine.domain.reference.regelversies import regelversies
from engine.domain.routing import Route, route
from engine.events.signaal import Adres, Locatie
from engine.events.signaal_ontvangen import PersoonPseudoniem, SignaalOntvangen

T = datetime(2026, 3, 1, tzinfo=UTC)


def signaal(**overrides: Any) -> SignaalOntvangen:
    fields: dict[str, Any] = {
        "signaal_id": "gm0363:1",
        "bron": "gm0363",
        "gemeld_op": T,
        "aangeboden_op": T,
        "ontvangen_op": T,
        "soort": "signaal",
        "themas": ["witwassen"],
        "omschrijving": "",
        "waargenomen_op": date(2026, 3, 1),
    }
    fields.update(overrides)
    return SignaalOntvangen(**fields)


def bestemmingen(routes: list[Route]) -> list[str]:
    return [r.bestemming for r in routes]


def test_location_gemeente_goes_to_its_riec_with_the_reason() -> None:
    routes = route(signaal(locatie=Locatie(gemeente="GM0363")), regelversies())
    assert bestemmingen(routes) == ["riec.amsterdam-amstelland"]
    [reden] = routes[0].redenen
    assert reden.regel == "locatie"
    assert "Amsterdam (GM0363)" in reden.toelichting


def test_location_postcode_alone_is_enough() -> None:
    routes = route(signaal(locatie=Locatie(postcode="5611AA")), regelversies())
    assert bestemmingen(routes) == ["riec.oost-brabant"]


def test_without_location_the_subjects_addresses_decide() -> None:
    subjecten = [Adres(postcode="3011AA", huisnummer="1"), Adres(postcode="6211AA", huisnummer="2")]
    routes = route(signaal(subjecten=subjecten), regelversies())
    assert bestemmingen(routes) == ["riec.rotterdam", "riec.limburg"]
    assert {r.redenen[0].regel for r in routes} == {"adres_subject"}


def test_location_wins_over_subject_addresses() -> None:
    s = signaal(locatie=Locatie(gemeente="GM0363"), subjecten=[Adres(postcode="3011AA", huisnummer="1")])
    assert bestemmingen(route(s, regelversies())) == ["riec.amsterdam-amstelland"]


def test_abroad_goes_to_euriec() -> None:
    routes = route(signaal(locatie=Locatie(land="BE")), regelversies())
    assert bestemmingen(routes) == ["euriec"]
    assert routes[0].redenen[0].regel == "buitenland"


def test_bestuurlijk_signaal_goes_to_the_liec_loket_only() -> None:
    s = signaal(soort="bestuurlijk_signaal", locatie=Locatie(gemeente="GM0363"), themas=["omg"])
    assert bestemmingen(route(s, regelversies())) == ["liec.loket"]


def test_nothing_routable_goes_to_liec_triage() -> None:
    routes = route(signaal(subjecten=[PersoonPseudoniem(pseudoniem="ab" * 32)]), regelversies())
    assert bestemmingen(routes) == ["liec.triage"]
    assert routes[0].redenen[0].regel == "niet_routeerbaar"


def test_omg_always_reaches_the_lft_omg() -> None:
    routes = route(signaal(themas=["omg"], locatie=Locatie(gemeente="GM0014")), regelversies())
    assert bestemmingen(routes) == ["riec.noord-nederland", "lft.omg"]


def test_vastgoed_reaches_its_lft_only_when_two_riecs_get_it() -> None:
    one = signaal(themas=["vastgoed"], subjecten=[Adres(postcode="3011AA", huisnummer="1")])
    two = signaal(
        themas=["vastgoed", "logistiek"],
        subjecten=[Adres(postcode="3011AA", huisnummer="1"), Adres(postcode="1012AB", huisnummer="3")],
    )
    assert "lft.vastgoed" not in bestemmingen(route(one, regelversies()))
    assert bestemmingen(route(two, regelversies())) == [
        "riec.rotterdam",
        "riec.amsterdam-amstelland",
        "lft.vastgoed",
        "lft.logistiek",
    ]


def test_routing_is_deterministic() -> None:
    s = signaal(themas=["vastgoed"], subjecten=[Adres(postcode="9711AA", huisnummer="1")])
    assert route(s, regelversies()) == route(s, regelversies())


def test_one_riec_with_a_thousand_hkps_on_one_person_gets_the_signal_with_ten_named() -> None:
    # Given RIEC Rotterdam designated 1,100 HKPs (long names) on one person, when a signal about that
    # person is routed, then Rotterdam gets it once, naming ten HKPs and counting the rest.
    from engine.domain.knelpunten import KnelpuntMatch
    from engine.domain.routing import MAX_KNELPUNTEN_PER_RIEC
    from engine.events.route import ROUTE_ENCODER, GerouteerdSignaal

    s = signaal(subjecten=[PersoonPseudoniem(pseudoniem="p" * 64)])
    matches = [KnelpuntMatch(f"H-{i}", "rotterdam", "Handhavingsknelpunt " + "x" * 1000) for i in range(1100)]
    routes = {r.bestemming: r for r in route(s, regelversies(), matches)}
    assert list(routes) == ["riec.rotterdam"]
    redenen = routes["riec.rotterdam"].redenen
    assert [r.regel for r in redenen].count("handhavingsknelpunt") == MAX_KNELPUNTEN_PER_RIEC
    assert redenen[-1].regel == "handhavingsknelpunt_begrensd" and "1090" in redenen[-1].toelichting
    bericht = GerouteerdSignaal.van(s, "riec.rotterdam", list(redenen), besloten_op=s.ontvangen_op)
    assert len(ROUTE_ENCODER.encode(bericht)) < 64 * 1024
