"""Given a partition of the open-casus index, when an index change arrives, then its new entry is
written to the compacted changelog on the same partition (a closed casus leaves tombstones and a
marker), and a new owner restored from that changelog holds the same index."""

from __future__ import annotations

import msgspec
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from engine.events.matching import (
    ROUTEBRIEFJE_DECODER,
    ZOEKINDEX_ENCODER,
    CasusGesloten,
    IdentificatorToegevoegd,
    Routebriefje,
)
from engine.handlers.routeren import Routeren
from engine.handlers.tables import GESLOTEN
from engine.handlers.zoekindex import Zoekindex
from engine.metrics import Metrics
from engine.reference import gebiedsindeling
from engine.settings import KafkaConnection
from engine.topics import CASUSINDEX, ZOEKINDEX
from tests.fixtures import ontvangen
from tests.unit.fakes import LogInMemory, record


async def zoekindex(log: LogInMemory) -> Zoekindex:
    metrics = Metrics(CollectorRegistry())
    router = Routeren(gebied=gebiedsindeling(), kafka=KafkaConnection(), metrics=metrics, met_index=False)
    z = Zoekindex(log_reader=log, routeren=router, metrics=metrics)
    await z.prepare({TopicPartition(ZOEKINDEX, 3)})
    return z


def wijziging(bericht: IdentificatorToegevoegd | CasusGesloten, key: str) -> object:
    return record(ZOEKINDEX, key.encode(), ZOEKINDEX_ENCODER.encode(bericht), partition=3)


def toegevoegd(ident: str, casus_id: str, riec: str = "den-haag") -> object:
    return wijziging(IdentificatorToegevoegd(identificator=ident, casus_id=casus_id, riec=riec), ident)


async def test_an_identifier_joining_a_casus_writes_its_entry_to_the_changelog_once() -> None:
    z = await zoekindex(LogInMemory())
    [u] = list(z.process(toegevoegd("kenteken:AB123C", "DH-1")))
    assert (u.topic, u.key, u.partition) == (CASUSINDEX, b"kenteken:AB123C", 3)
    assert msgspec.json.decode(u.value) == {"DH-1": "den-haag"}
    assert list(z.process(toegevoegd("kenteken:AB123C", "DH-1"))) == [], "already there: nothing to write"


async def test_a_closed_casus_leaves_tombstones_and_a_marker_so_a_late_identifier_is_not_added_back() -> None:
    z = await zoekindex(LogInMemory())
    list(z.process(toegevoegd("kenteken:AB123C", "DH-1")))
    uit = list(z.process(wijziging(CasusGesloten(casus_id="DH-1"), "DH-1")))
    assert [(u.key, u.value) for u in uit] == [(b"kenteken:AB123C", None), (f"{GESLOTEN}DH-1".encode(), b"1")]
    assert list(z.process(toegevoegd("kvk:12345678", "DH-1"))) == []


async def test_a_new_owner_restored_from_the_changelog_holds_the_same_index() -> None:
    log = LogInMemory()
    z = await zoekindex(log)
    log.write(z.process(toegevoegd("kenteken:AB123C", "DH-1")))
    log.write(z.process(toegevoegd("kenteken:AB123C", "RT-2", "rotterdam")))
    log.write(z.process(toegevoegd("kvk:12345678", "RT-2", "rotterdam")))
    log.write(z.process(wijziging(CasusGesloten(casus_id="RT-2"), "RT-2")))

    opnieuw = await zoekindex(log)

    assert list(opnieuw.process(toegevoegd("kenteken:AB123C", "DH-1"))) == [], "restored: nothing changes"
    assert list(opnieuw.process(toegevoegd("kenteken:XY999Z", "RT-2", "rotterdam"))) == [], (
        "RT-2 stays closed"
    )
    [u] = list(opnieuw.process(toegevoegd("kenteken:AB123C", "UT-3", "oost-nederland")))
    assert msgspec.json.decode(u.value) == {"DH-1": "den-haag", "UT-3": "oost-nederland"}


async def test_a_routing_slip_of_the_partitioned_design_is_moved_along_and_routed_at_its_last_identifier() -> (
    None
):
    """Slips written before the upgrade still in flight: each collects this partition's matches and
    goes on to its next identifier's partition; after the last it is routed (nothing is lost)."""
    z = await zoekindex(LogInMemory())
    list(z.process(toegevoegd("kenteken:AB123C", "DH-1")))
    signaal = ontvangen("kmar:s-9")
    slip = Routebriefje(signaal=signaal, te_zoeken=["kenteken:AB123C", "kvk:12345678"])

    [verder] = list(
        z.process(record(ZOEKINDEX, b"kenteken:AB123C", ZOEKINDEX_ENCODER.encode(slip), partition=3))
    )

    assert (verder.topic, verder.key) == (ZOEKINDEX, b"kvk:12345678")
    moved = ROUTEBRIEFJE_DECODER.decode(verder.value)
    assert moved.te_zoeken == ["kvk:12345678"] and [m.casus_id for m in moved.matches] == ["DH-1"]
    routed = list(z.process(record(ZOEKINDEX, b"kvk:12345678", verder.value, partition=3)))
    assert "routes.riec.den-haag" in {u.topic for u in routed}, "routed to the matched casus's RIEC"
