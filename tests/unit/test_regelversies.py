"""Given the versioned reference data, when a signal is checked or routed, then the version in force
on the day it was observed decides, a merged-away gemeente is mapped forward, and every route names
the version (a hash of its files) and the HKP register position it saw."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec
import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from engine.domain.ingress.acceptatie import Beleid, Bericht, accepteer
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.reference import gebiedsindeling
from engine.domain.reference.regelversies import (
    Fusie,
    Regelversie,
    Regelversies,
    laad_regelversies,
    laad_versie,
    regelversies,
    versie_id,
)
from engine.domain.routing import route
from engine.errors import Weigering
from engine.events.route import ROUTE_DECODER, ROUTE_ENCODER, GerouteerdSignaal
from engine.events.signaal import Adres, Locatie
from engine.events.signaal_ontvangen import SIGNAAL_LOG_DECODER, SignaalGerouteerd, SignaalOntvangen
from engine.kafka.routeren import Routeren
from engine.kafka.tables import restore_knelpunt
from engine.metrics import Metrics
from engine.settings import KafkaConnection
from engine.topics import KNELPUNTEN
from tests.fixtures import TEST_KEY, encode, headers, payload

VERSIES = Path(__file__).parents[2] / "engine" / "domain" / "reference" / "versies"
T = datetime(2026, 3, 2, 12, tzinfo=UTC)

V2022 = "dd40bb4107d3f50e"
V2022_WEESP = "f2abb4c895ff0894"
V2023 = "d816490f2c45e987"


def signaal(waargenomen_op: date, **locatie: str) -> SignaalOntvangen:
    return SignaalOntvangen(
        signaal_id="om:voorne", bron="om", gemeld_op=T, aangeboden_op=T, ontvangen_op=T,
        soort="signaal", themas=["drugs"], omschrijving="", waargenomen_op=waargenomen_op,
        locatie=Locatie(**locatie),
    )  # fmt: skip


def locatie_reden(s: SignaalOntvangen) -> tuple[str, str]:
    [r] = route(s, regelversies())
    [reden] = r.redenen
    return r.bestemming, reden.toelichting


# Loading and ids


def test_the_shipped_versions_and_their_ids_never_change() -> None:
    """A version is never edited in place: a changed byte is a new id, and routes already written
    name the old one. Add a folder with a later geldig_vanaf instead of changing this test."""
    versies = regelversies().versies
    assert [(v.geldig_vanaf, v.id) for v in versies] == [
        (date(2022, 1, 1), V2022),
        (date(2022, 3, 24), V2022_WEESP),
        (date(2023, 1, 1), V2023),
    ]
    assert [len(v.gebied.gemeenten) for v in versies] == [345, 344, 342]


def test_todays_division_is_the_newest_version_and_knows_voorne_aan_zee_not_brielle() -> None:
    vandaag = regelversies().nieuwste
    assert gebiedsindeling() is vandaag.gebied
    assert vandaag.gebied.gemeente("GM1992") is not None
    assert vandaag.gebied.gemeente("GM0501") is None
    assert vandaag.gebied.gemeente_van_postcode("3231AA").code == "GM1992"  # type: ignore[union-attr]


def test_the_2022_division_has_brielle_hellevoetsluis_and_westvoorne_in_rotterdam_and_no_voorne_aan_zee() -> (
    None
):
    gebied = regelversies().op(date(2022, 12, 31)).gebied
    assert {
        c: (g.naam, g.riec) for c, g in gebied.gemeenten.items() if c in ("GM0501", "GM0530", "GM0614")
    } == {
        "GM0501": ("Brielle", "rotterdam"),
        "GM0530": ("Hellevoetsluis", "rotterdam"),
        "GM0614": ("Westvoorne", "rotterdam"),
    }
    assert gebied.gemeente("GM1992") is None
    # Every PC4 of today's Voorne aan Zee belonged to one of the three (CBS addresses of 2022).
    vandaag = regelversies().nieuwste.gebied
    voorne = [pc4 for pc4, code in vandaag.pc4.items() if code == "GM1992"]
    assert voorne and {gebied.pc4[pc4] for pc4 in voorne} == {"GM0501", "GM0530", "GM0614"}
    assert gebied.pc4["3231"] == "GM0501"


def test_the_id_is_a_hash_of_the_files_bytes_the_same_on_a_copy_and_different_after_one_byte(
    tmp_path: Path,
) -> None:
    kopie = tmp_path / "2023-01-01"
    shutil.copytree(VERSIES / "2023-01-01", kopie)
    assert laad_versie(kopie).id == V2023
    gemeenten = kopie / "gemeenten.csv"
    inhoud = gemeenten.read_bytes()
    gemeenten.write_bytes(inhoud.replace(b"Voorne aan Zee", b"Voorne aan zee"))
    assert laad_versie(kopie).id != V2023
    assert versie_id({"a": b"bc"}) != versie_id({"ab": b"c"}), "file boundaries count"
    assert len(V2023) == 16 and int(V2023, 16) >= 0


def test_a_version_whose_date_disagrees_with_its_folder_or_lacks_a_file_is_refused(tmp_path: Path) -> None:
    kopie = tmp_path / "2024-01-01"
    shutil.copytree(VERSIES / "2023-01-01", kopie)
    with pytest.raises(ValueError, match="folder name"):
        laad_versie(kopie)
    (kopie / "versie.toml").write_text("geldig_vanaf = 2024-01-01\n")
    (kopie / "fusies.csv").unlink()
    with pytest.raises(ValueError, match=r"lacks fusies\.csv"):
        laad_versie(kopie)


def test_a_new_version_is_added_beside_the_others_and_takes_over_on_its_date(tmp_path: Path) -> None:
    for v in VERSIES.iterdir():
        shutil.copytree(v, tmp_path / v.name)
    nieuw = tmp_path / "2027-01-01"
    shutil.copytree(VERSIES / "2023-01-01", nieuw)
    (nieuw / "versie.toml").write_text('geldig_vanaf = 2027-01-01\nomschrijving = "test"\n')
    regels = laad_regelversies(tmp_path)
    assert regels.op(date(2026, 12, 31)).id == V2023
    assert regels.op(date(2027, 1, 1)).geldig_vanaf == date(2027, 1, 1)
    assert regels.op(date(2027, 1, 1)).id not in (V2022, V2022_WEESP, V2023)


# The version in force


@pytest.mark.parametrize(
    ("dag", "versie"),
    [
        (date(2019, 6, 1), V2022),  # before every version: the oldest, named in the route
        (date(2022, 1, 1), V2022),
        (date(2022, 3, 23), V2022),
        (date(2022, 3, 24), V2022_WEESP),
        (date(2022, 12, 31), V2022_WEESP),
        (date(2023, 1, 1), V2023),
        (date(2026, 3, 1), V2023),
    ],
)
def test_the_version_in_force_is_the_last_one_that_took_effect_on_or_before_the_day(
    dag: date, versie: str
) -> None:
    """Observation dates are calendar dates (no time of day): 1 January 2023 is the first day of
    Voorne aan Zee, whatever the time zone of the partner's clock."""
    assert regelversies().op(dag).id == versie


# Mergers


def test_a_code_sent_after_its_merger_is_mapped_forward_with_the_merger_named() -> None:
    gevonden = regelversies().gemeente("GM0501", date(2026, 3, 1))
    assert gevonden is not None
    assert gevonden.gemeente.code == "GM1992" and gevonden.gemeente.riec == "rotterdam"
    assert gevonden.fusies == (Fusie("GM0501", "Brielle", "GM1992", date(2023, 1, 1)),)
    assert regelversies().gemeente("GM0457", date(2022, 6, 1)).gemeente.code == "GM0363"  # type: ignore[union-attr]
    assert regelversies().gemeente("GM9999", date(2026, 3, 1)) is None


def test_a_chain_of_mergers_is_followed_to_the_gemeente_of_the_version() -> None:
    nieuwste = regelversies().nieuwste
    keten = Regelversie(
        id="x",
        geldig_vanaf=date(2030, 1, 1),
        omschrijving="",
        gebied=nieuwste.gebied,
        fusies={
            "GM0001": Fusie("GM0001", "Oud", "GM0002", date(2024, 1, 1)),
            "GM0002": Fusie("GM0002", "Tussen", "GM1992", date(2029, 1, 1)),
        },
    )
    gemeente, fusies = keten.opgegaan_in("GM0001")  # type: ignore[misc]
    assert gemeente.code == "GM1992" and [f.oude_code for f in fusies] == ["GM0001", "GM0002"]
    lus = Regelversie(
        id="y", geldig_vanaf=date(2030, 1, 1), omschrijving="", gebied=nieuwste.gebied,
        fusies={"GM0001": Fusie("GM0001", "A", "GM0002", date(2024, 1, 1)),
                "GM0002": Fusie("GM0002", "B", "GM0001", date(2024, 1, 1))},
    )  # fmt: skip
    assert lus.opgegaan_in("GM0001") is None, "a loop in bad data ends, unmapped"


def test_two_versions_on_one_date_are_refused() -> None:
    v = regelversies().nieuwste
    with pytest.raises(ValueError, match="one date"):
        Regelversies([v, v])


# Routing across 1 January 2023


def test_brielle_observed_on_the_last_day_of_2022_routes_under_the_2022_division() -> None:
    bestemming, toelichting = locatie_reden(signaal(date(2022, 12, 31), gemeente="GM0501"))
    assert bestemming == "riec.rotterdam"
    assert toelichting == "Locatie (gemeente) in Brielle (GM0501), RIEC rotterdam"


def test_brielle_sent_for_the_first_day_of_voorne_aan_zee_is_mapped_forward_and_says_so() -> None:
    for dag in (date(2023, 1, 1), date(2026, 3, 1)):
        bestemming, toelichting = locatie_reden(signaal(dag, gemeente="GM0501"))
        assert bestemming == "riec.rotterdam"
        assert toelichting == (
            "Locatie (gemeente GM0501) in Voorne aan Zee (GM1992), RIEC rotterdam; "
            "GM0501 (Brielle) is op 2023-01-01 opgegaan in GM1992"
        )


def test_a_postcode_in_brielle_names_the_gemeente_of_the_day_observed() -> None:
    assert "in Brielle (GM0501)" in locatie_reden(signaal(date(2022, 12, 31), postcode="3231AA"))[1]
    assert "in Voorne aan Zee (GM1992)" in locatie_reden(signaal(date(2023, 1, 1), postcode="3231AA"))[1]


def test_todays_code_sent_for_a_day_before_its_gemeente_existed_still_routes_and_says_which_version() -> None:
    bestemming, toelichting = locatie_reden(signaal(date(2022, 6, 1), gemeente="GM1992"))
    assert bestemming == "riec.rotterdam"
    assert "bestond nog niet op de waarnemingsdatum 2022-06-01" in toelichting
    assert f"(regelversie {V2023})" in toelichting


def test_a_subjects_address_is_placed_by_the_division_of_the_day_observed_too() -> None:
    s = msgspec.structs.replace(
        signaal(date(2022, 12, 31), land="NL"),
        locatie=None,
        subjecten=[Adres(postcode="3221AB", huisnummer="1")],
    )
    [r] = route(s, regelversies())
    assert "in Hellevoetsluis (GM0530)" in r.redenen[0].toelichting


# Ingress


def bericht(waargenomen_op: str, gemeente: str) -> Bericht:
    body = payload(waargenomen_op=waargenomen_op, locatie={"gemeente": gemeente})
    return Bericht(
        "partner.om.signalen", headers("om", ce_time=T.isoformat()), encode(body), 1_772_452_800_000
    )


def test_ingress_accepts_a_merged_away_gemeente_and_keeps_it_as_sent() -> None:
    pseudo = Pseudonimiseerder(TEST_KEY)
    for dag in ("2022-12-31", "2026-03-01"):
        s = accepteer(bericht(dag, "GM0501"), regels=regelversies(), pseudo=pseudo, beleid=Beleid(), nu=T)
        assert s.locatie is not None and s.locatie.gemeente == "GM0501"


def test_ingress_refuses_a_code_no_version_knows_and_names_the_division() -> None:
    pseudo = Pseudonimiseerder(TEST_KEY)
    with pytest.raises(Weigering) as info:
        accepteer(
            bericht("2026-03-01", "GM9999"), regels=regelversies(), pseudo=pseudo, beleid=Beleid(), nu=T
        )
    assert info.value.code == "unknown_gemeente"
    assert "in force on 2026-03-01 (from 2023-01-01)" in info.value.reden


# The routed messages name the version and the HKP register position


def test_every_route_and_signaal_gerouteerd_name_the_version_in_force_and_the_hkp_position() -> None:
    router = Routeren(regels=regelversies(), kafka=KafkaConnection(), metrics=Metrics(CollectorRegistry()))
    assert router.register.positie == 0
    # The register has read engine.knelpunten to offset 6 (a tombstone there changes no HKP).
    restore_knelpunt(router.register, ConsumerRecord(KNELPUNTEN, 0, 6, 0, 0, b"hkp", None, None, 0, 0, []))
    for dag, versie in ((date(2022, 12, 31), V2022_WEESP), (date(2023, 1, 1), V2023)):
        routering = router.routeer(signaal(dag, gemeente="GM0501"), [])
        [bericht] = routering.berichten
        gerouteerd = ROUTE_DECODER.decode(bericht.value)
        assert (gerouteerd.bestemming, gerouteerd.regelversie, gerouteerd.hkp_positie) == (
            "riec.rotterdam",
            versie,
            7,
        )
        assert (routering.gerouteerd.regelversie, routering.gerouteerd.hkp_positie) == (versie, 7)


def test_a_route_or_signaal_gerouteerd_written_before_versions_still_decodes() -> None:
    s = signaal(date(2026, 3, 1), gemeente="GM0363")
    nieuw = GerouteerdSignaal.van(s, "riec.amsterdam-amstelland", [], besloten_op=T)
    oud = msgspec.json.decode(ROUTE_ENCODER.encode(nieuw))
    del oud["regelversie"], oud["hkp_positie"]
    gelezen = ROUTE_DECODER.decode(msgspec.json.encode(oud))
    assert (gelezen.regelversie, gelezen.hkp_positie) == (None, None)
    oud_log = b'{"type":"nl.riec.engine.signaal_gerouteerd.v1","signaal_id":"om:1","bestemmingen":[],"besloten_op":"2026-03-02T12:00:00Z"}'
    record = SIGNAAL_LOG_DECODER.decode(oud_log)
    assert isinstance(record, SignaalGerouteerd) and record.regelversie is None and record.hkp_positie is None
