"""Given the shipped rule versions and one more that is shipped but not adopted, when a signal is
routed, then only the baseline and the adopted versions decide: the new one is ignored until its
adoption (`RegelversieAangenomen`, written by the executor of the approved request) reaches the
router's tables, and from then on decides the signals observed on or after its `geldig_vanaf`,
named on every route."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from engine.domain.reference.regelversies import (
    BASISLIJN,
    Regelversies,
    laad_versie,
    regelversies,
)
from engine.domain.reference.regelversies import geleverd as geleverd_met
from engine.domain.routing import route
from engine.errors import ConfigurationError
from engine.events.regelversie import REGELVERSIE_DECODER, RegelversieAangenomen
from engine.events.route import ROUTE_DECODER
from engine.events.signaal import Locatie
from engine.events.signaal_ontvangen import SignaalOntvangen
from engine.events.vieroogen import VerzoekGoedgekeurd
from engine.handlers.vergeten import aanneming
from engine.kafka.routeren import Routeren
from engine.kafka.tables import restore_regelversie
from engine.metrics import Metrics
from engine.settings import KafkaConnection, Settings
from engine.topics import REGELVERSIES
from tests.fixtures import regelversie_map

T = datetime(2026, 12, 1, 9, tzinfo=UTC)
V2022, V2022_WEESP, V2023 = "dd40bb4107d3f50e", "f2abb4c895ff0894", "d816490f2c45e987"


def signaal(dag: date, gemeente: str) -> SignaalOntvangen:
    return SignaalOntvangen(
        signaal_id="om:1", bron="om", gemeld_op=T, aangeboden_op=T, ontvangen_op=T, soort="signaal",
        themas=["drugs"], omschrijving="", waargenomen_op=dag, locatie=Locatie(gemeente=gemeente),
    )  # fmt: skip


def bestemming(s: SignaalOntvangen, regels: Regelversies) -> str:
    [r] = route(s, regels)
    return r.bestemming


@pytest.fixture
def geleverd(tmp_path: Path) -> Regelversies:
    """The shipped versions and a later one, 2027-01-01, that moves Voorne aan Zee to RIEC
    Zeeland-West-Brabant: shipped (as ENGINE_EXTRA_REGELVERSIES ships it), not adopted."""
    nieuw = regelversie_map(
        tmp_path, "2027-01-01", van="2023-01-01", code="GM1992", riec="Zeeland-West-Brabant"
    )
    return Regelversies([*regelversies().geleverd, laad_versie(nieuw)])


def test_the_baseline_is_the_three_versions_shipped_before_four_eyes_and_nothing_else() -> None:
    assert {V2022, V2022_WEESP, V2023} == BASISLIJN
    assert {v.id for v in regelversies().geleverd} >= BASISLIJN


def test_a_shipped_version_that_is_not_adopted_routes_nothing(geleverd: Regelversies) -> None:
    nieuw = geleverd.geleverd[-1]
    regels = geleverd.met_aangenomen(())
    assert [v.id for v in regels.versies] == [V2022, V2022_WEESP, V2023]
    assert regels.wachtend == (nieuw,)
    for dag in (date(2027, 1, 1), date(2030, 6, 1)):
        assert regels.op(dag).id == V2023, "ignored also on and after its geldig_vanaf"
        assert bestemming(signaal(dag, "GM1992"), regels) == "riec.rotterdam"


def test_once_adopted_it_decides_from_its_geldig_vanaf_and_not_before(geleverd: Regelversies) -> None:
    nieuw = geleverd.geleverd[-1]
    regels = geleverd.met_aangenomen({nieuw.id})
    assert regels.wachtend == ()
    assert regels.op(date(2026, 12, 31)).id == V2023
    assert bestemming(signaal(date(2026, 12, 31), "GM1992"), regels) == "riec.rotterdam"
    assert regels.op(date(2027, 1, 1)).id == nieuw.id
    assert bestemming(signaal(date(2027, 1, 1), "GM1992"), regels) == "riec.zeeland-west-brabant"


def test_an_unadopted_version_between_adopted_ones_is_skipped_and_not_used_for_a_later_code(
    tmp_path: Path,
) -> None:
    """A version dated before the baseline's first (a correction of 2021) decides nothing until
    adopted, and then only the days up to the next adopted version."""
    vroeg = laad_versie(
        regelversie_map(tmp_path, "2021-07-01", van="2022-01-01", code="GM0501", riec="Zeeland-West-Brabant")
    )
    alle = Regelversies([*regelversies().geleverd, vroeg])
    zonder, met = alle.met_aangenomen(()), alle.met_aangenomen({vroeg.id})
    assert zonder.op(date(2021, 8, 2)).id == V2022, "before every adopted version: the oldest adopted"
    assert bestemming(signaal(date(2021, 8, 2), "GM0501"), zonder) == "riec.rotterdam"
    assert met.op(date(2021, 8, 2)).id == vroeg.id
    assert bestemming(signaal(date(2021, 8, 2), "GM0501"), met) == "riec.zeeland-west-brabant"
    assert bestemming(signaal(date(2022, 1, 1), "GM0501"), met) == "riec.rotterdam"


def test_an_adopted_id_this_worker_does_not_ship_is_left_out() -> None:
    regels = regelversies().met_aangenomen({"0123456789abcdef"})
    assert [v.id for v in regels.versies] == [V2022, V2022_WEESP, V2023]


def test_engine_extra_regelversies_ships_a_folders_versions_beside_the_packaged_ones(tmp_path: Path) -> None:
    regelversie_map(tmp_path, "2027-01-01", van="2023-01-01", code="GM1992", riec="Zeeland-West-Brabant")
    env = {"ENGINE_PSEUDONYM_KEY": secrets.token_hex(32), "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
    settings = Settings.from_env({**env, "ENGINE_EXTRA_REGELVERSIES": str(tmp_path)})
    alle = geleverd_met(settings.extra_regelversies)
    assert [str(v.geldig_vanaf) for v in alle.geleverd][-2:] == ["2023-01-01", "2027-01-01"]
    assert [v.id for v in alle.wachtend] == [], "shipped; the router narrows it to the adopted"
    assert [v.geldig_vanaf for v in alle.met_aangenomen(()).wachtend] == [date(2027, 1, 1)]
    assert geleverd_met(None) is regelversies()
    with pytest.raises(ConfigurationError, match="ENGINE_EXTRA_REGELVERSIES"):
        Settings.from_env({**env, "ENGINE_EXTRA_REGELVERSIES": str(tmp_path / "weg")})


def test_all_given_versions_route_when_no_adoptions_are_given_as_in_a_dry_run(geleverd: Regelversies) -> None:
    assert geleverd.op(date(2027, 1, 1)) is geleverd.geleverd[-1]
    assert geleverd.wachtend == ()


def goedgekeurd(versie_id: str) -> VerzoekGoedgekeurd:
    return VerzoekGoedgekeurd(
        verzoek_id="rv-1", door="liec:cor", op=T, handeling="regelversie_aannemen", onderwerp=versie_id
    )


def test_the_executor_writes_the_adoption_keyed_by_the_version_on_its_compacted_topic() -> None:
    [uit] = aanneming(goedgekeurd(V2023), T)
    assert (uit.topic, uit.key, uit.partition) == (REGELVERSIES, V2023.encode(), 0)
    assert REGELVERSIE_DECODER.decode(uit.value) == RegelversieAangenomen(
        regelversie=V2023, verzoek_id="rv-1", door="liec:cor", op=T
    )


def record(offset: int, key: bytes, value: bytes | None) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(REGELVERSIES, 0, offset, 0, 0, key, value, None, 0, 0, [])  # type: ignore[arg-type]


def test_the_router_routes_under_a_version_from_the_moment_its_adoption_is_in_its_tables(
    geleverd: Regelversies,
) -> None:
    nieuw = geleverd.geleverd[-1]
    registry = CollectorRegistry()
    router = Routeren(regels=geleverd, kafka=KafkaConnection(), metrics=Metrics(registry))
    s = signaal(date(2027, 3, 1), "GM1992")

    [voor] = router.routeer(s, []).berichten
    assert (voor.topic, ROUTE_DECODER.decode(voor.value).regelversie) == ("routes.riec.rotterdam", V2023)
    assert not router.aangenomen(nieuw.id) and router.aangenomen(V2023)

    # The executor's record reaches the tables (before the next batch, or read in between).
    [uit] = aanneming(goedgekeurd(nieuw.id), T)
    restore_regelversie(router.tables.staat.aangenomen, record(0, uit.key or b"", uit.value))
    [na] = (routering := router.routeer(s, [])).berichten
    assert na.topic == "routes.riec.zeeland-west-brabant"
    assert ROUTE_DECODER.decode(na.value).regelversie == nieuw.id == routering.gerouteerd.regelversie
    assert router.aangenomen(nieuw.id)
    # A signal observed before the version's date is still decided by the version in force then.
    [oud] = router.routeer(signaal(date(2026, 12, 31), "GM1992"), []).berichten
    assert ROUTE_DECODER.decode(oud.value).regelversie == V2023

    # A tombstone (as compaction would leave it) takes it back.
    restore_regelversie(router.tables.staat.aangenomen, record(1, nieuw.id.encode(), None))
    assert router.routeer(s, []).berichten[0].topic == "routes.riec.rotterdam"
