"""Given a partition of the open-casus index, when an index change arrives, then its new entry is
written to the compacted changelog on the same partition (a closed casus leaves tombstones and a
marker), and a new owner restored from that changelog holds the same index."""

from __future__ import annotations

import msgspec
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from engine.domain.reference.regelversies import regelversies
from engine.events.matching import (
    ROUTEBRIEFJE_DECODER,
    ZOEKINDEX_ENCODER,
    BijdrageIngetrokken,
    CasusGesloten,
    IdentificatorToegevoegd,
    Routebriefje,
)
from engine.handlers.zoekindex import Zoekindex
from engine.kafka.routeren import Routeren
from engine.kafka.tables import GESLOTEN
from engine.metrics import Metrics
from engine.settings import KafkaConnection
from engine.topics import CASUSINDEX, ZOEKINDEX
from tests.fixtures import ontvangen
from tests.unit.fakes import LogInMemory, record


async def zoekindex(log: LogInMemory) -> Zoekindex:
    metrics = Metrics(CollectorRegistry())
    router = Routeren(regels=regelversies(), kafka=KafkaConnection(), metrics=metrics, met_index=False)
    z = Zoekindex(log_reader=log, routeren=router, metrics=metrics)
    await z.prepare({TopicPartition(ZOEKINDEX, 3)})
    return z


def wijziging(bericht: IdentificatorToegevoegd | CasusGesloten | BijdrageIngetrokken, key: str) -> object:
    return record(ZOEKINDEX, key.encode(), ZOEKINDEX_ENCODER.encode(bericht), partition=3)


def toegevoegd(ident: str, casus_id: str, riec: str = "den-haag", signaal_id: str | None = None) -> object:
    bericht = IdentificatorToegevoegd(
        identificator=ident, casus_id=casus_id, riec=riec, signaal_id=signaal_id
    )
    return wijziging(bericht, ident)


def ingetrokken(signaal_id: str) -> object:
    return wijziging(BijdrageIngetrokken(signaal_id=signaal_id), signaal_id)


async def test_a_forgotten_signal_takes_back_exactly_what_it_brought_to_each_casus() -> None:
    """Given a kenteken that a linked signal X brought to DH-1, that X and signal Y both brought to
    RT-2, and that is one of UT-3's own subjects, when X is forgotten, then the kenteken leaves DH-1
    only: Y still brings it to RT-2, UT-3 has it of its own; an identifier only X brought goes."""
    log = LogInMemory()
    z = await zoekindex(log)
    for casus_id, riec, signaal_id in (
        ("DH-1", "den-haag", "gm0363:X"), ("RT-2", "rotterdam", "gm0363:X"), ("RT-2", "rotterdam", "gm0599:Y"),
        ("UT-3", "oost-nederland", None), ("UT-3", "oost-nederland", "gm0363:X"),
    ):  # fmt: skip
        log.write(z.process(toegevoegd("kenteken:AB123C", casus_id, riec, signaal_id)))
    log.write(z.process(toegevoegd("kvk:12345678", "DH-1", "den-haag", "gm0363:X")))

    uit = list(z.process(ingetrokken("gm0363:X")))

    assert [(u.key, u.partition) for u in uit] == [
        (b"kenteken:AB123C", 3), (b"kvk:12345678", 3), (b"ingetrokken:gm0363:X", 3)
    ]  # fmt: skip
    assert msgspec.json.decode(uit[0].value) == {
        "RT-2": {"riec": "rotterdam", "signalen": ["gm0599:Y"]},
        "UT-3": "oost-nederland",
    }
    assert uit[1].value is None, "only X brought it: a tombstone, compaction keeps nothing of it"
    assert b"gm0363:X" not in uit[0].value


async def test_what_a_forgotten_signal_brings_after_its_withdrawal_is_not_added_not_even_after_a_restore() -> (
    None
):
    """A link decided just before the erasure may commit just after it: its identifiers arrive
    after the withdrawal, and must not enter the index."""
    log = LogInMemory()
    z = await zoekindex(log)
    log.write(z.process(ingetrokken("gm0363:X")))
    assert list(z.process(toegevoegd("kenteken:AB123C", "DH-1", signaal_id="gm0363:X"))) == []

    opnieuw = await zoekindex(log)

    assert list(opnieuw.process(toegevoegd("kenteken:AB123C", "DH-1", signaal_id="gm0363:X"))) == []
    [u] = list(opnieuw.process(toegevoegd("kenteken:AB123C", "DH-1")))
    assert msgspec.json.decode(u.value) == {"DH-1": "den-haag"}, "the casus's own subject is another source"


async def test_the_sources_survive_a_restore_so_a_new_owner_takes_back_the_same() -> None:
    log = LogInMemory()
    z = await zoekindex(log)
    log.write(z.process(toegevoegd("kenteken:AB123C", "DH-1", signaal_id="gm0363:X")))
    log.write(z.process(toegevoegd("kenteken:AB123C", "DH-1")))
    log.write(z.process(toegevoegd("kenteken:ZZ999Z", "DH-1", signaal_id="gm0363:X")))

    opnieuw = await zoekindex(log)
    uit = list(opnieuw.process(ingetrokken("gm0363:X")))

    assert [(u.key, u.value) for u in uit[:2]] == [
        (b"kenteken:AB123C", b'{"DH-1":"den-haag"}'), (b"kenteken:ZZ999Z", None)
    ]  # fmt: skip


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
