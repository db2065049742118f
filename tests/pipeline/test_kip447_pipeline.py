"""KIP-447 for aiokafka (`engine.kafka.kip447`) against the real broker.

Given a consumer group and a transactional producer that commits the group's offsets:
- with the consumer's current membership, the commit lands with the transaction;
- with the membership of a member that left (an older generation), or of a static member that a
  newer instance replaced, the coordinator refuses the commit: the transaction aborts, what it
  wrote is never readable (read_committed), the group's offset stays, and the producer's next
  transaction does not carry the refused one's records along;
- while a transaction holds an offset commit, a fetch of the committed offset waits (require_stable)
  and then returns what that transaction decided: its offset after a commit, the old one after an
  abort.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from engine.kafka import kip447
from tests.pipeline import kafka as test_kafka
from tests.pipeline.kafka import maak_topic, read_all

pytestmark = pytest.mark.pipeline


@pytest.fixture
async def namen(broker: str) -> tuple[str, str, str]:
    """A fresh input topic, output topic and group id, and aiokafka patched for this process."""
    kip447.install()
    run = uuid.uuid4().hex[:8]
    invoer, uitvoer = f"kip447.{run}.in", f"kip447.{run}.out"
    for t in (invoer, uitvoer):
        await maak_topic(broker, t)
    return invoer, uitvoer, f"kip447-{run}"


async def lid(broker: str, invoer: str, groep: str, instance: str | None = None) -> AIOKafkaConsumer:
    """A started member of `groep` that has been given the input topic's partition."""
    c = test_kafka.consumer(
        broker, invoer, group_id=groep, group_instance_id=instance, enable_auto_commit=False,
        isolation_level="read_committed", session_timeout_ms=10_000,
    )  # fmt: skip
    await c.start()
    for _ in range(100):
        await c.getmany(timeout_ms=100)
        if c.assignment():
            return c
    raise AssertionError("no partition assigned")


@pytest.fixture
async def producer(broker: str) -> AsyncIterator[AIOKafkaProducer]:
    p = test_kafka.producer(
        broker, transactional_id=f"kip447-{uuid.uuid4().hex[:8]}", enable_idempotence=True
    )
    await p.start()
    yield p
    await p.stop()


async def schrijf(
    p: AIOKafkaProducer, uitvoer: str, waarde: bytes, offsets: dict[TopicPartition, int], groep: str
) -> None:
    async with p.transaction():
        await p.send_and_wait(uitvoer, waarde)
        await p.send_offsets_to_transaction(offsets, groep)


async def gelezen(broker: str, uitvoer: str) -> list[bytes | None]:
    """What a reader of committed data sees on `uitvoer` (an aborted record is on the log too)."""
    c = test_kafka.consumer(broker, uitvoer, auto_offset_reset="earliest", isolation_level="read_committed")
    await c.start()
    try:
        batch = await c.getmany(timeout_ms=3000)
        alles = await read_all(broker, [uitvoer], settle=0.5)  # read_uncommitted: the whole log
        assert alles, "the log is not empty: the read below proves something"
        return [r.value for rs in batch.values() for r in rs]
    finally:
        await c.stop()


async def test_a_commit_with_the_current_membership_lands(
    broker: str, namen: tuple[str, str, str], producer: AIOKafkaProducer
) -> None:
    invoer, uitvoer, groep = namen
    c = await lid(broker, invoer, groep)
    try:
        tp = TopicPartition(invoer, 0)
        metadata = kip447.group_metadata(c)
        assert metadata.generation_id > 0 and metadata.member_id and str(metadata) == groep
        await schrijf(producer, uitvoer, b"gewoon", {tp: 5}, metadata)
        assert await c.committed(tp) == 5
        assert await gelezen(broker, uitvoer) == [b"gewoon"]
    finally:
        await c.stop()


async def test_a_commit_of_a_member_that_left_is_refused_and_its_output_never_read(
    broker: str, namen: tuple[str, str, str], producer: AIOKafkaProducer
) -> None:
    invoer, uitvoer, groep = namen
    tp = TopicPartition(invoer, 0)
    eerste = await lid(broker, invoer, groep)
    zombie = kip447.group_metadata(eerste)
    await eerste.stop()  # leaves the group: its partition goes to the next member
    opvolger = await lid(broker, invoer, groep)
    try:
        nu = kip447.group_metadata(opvolger)
        assert nu.generation_id > zombie.generation_id
        with pytest.raises(kip447.ZombieCommitError) as refused:
            await schrijf(producer, uitvoer, b"zombie", {tp: 9}, zombie)
        assert isinstance(refused.value.cause, kip447.GROUP_FENCING)
        assert await opvolger.committed(tp) is None, "nothing committed for the partition"
        # The same producer goes on: its next transaction carries none of the refused one's records.
        await schrijf(producer, uitvoer, b"opvolger", {tp: 3}, nu)
        assert await opvolger.committed(tp) == 3
        assert await gelezen(broker, uitvoer) == [b"opvolger"]
    finally:
        await opvolger.stop()


async def test_a_commit_of_a_replaced_static_member_is_refused(
    broker: str, namen: tuple[str, str, str], producer: AIOKafkaProducer
) -> None:
    invoer, uitvoer, groep = namen
    tp = TopicPartition(invoer, 0)
    oud = await lid(broker, invoer, groep, instance="werker-1")
    zombie = kip447.group_metadata(oud)
    await oud.stop()  # a static member does not leave: its successor takes its place
    nieuw = await lid(broker, invoer, groep, instance="werker-1")
    try:
        assert kip447.group_metadata(nieuw).member_id != zombie.member_id
        with pytest.raises(kip447.ZombieCommitError) as refused:
            await schrijf(producer, uitvoer, b"zombie", {tp: 9}, zombie)
        assert isinstance(refused.value.cause, kip447.GROUP_FENCING)
        assert await gelezen(broker, uitvoer) == []
    finally:
        await nieuw.stop()


async def test_a_fetch_waits_for_the_open_transaction_and_returns_what_it_decided(
    broker: str, namen: tuple[str, str, str], producer: AIOKafkaProducer
) -> None:
    invoer, uitvoer, groep = namen
    tp = TopicPartition(invoer, 0)
    c = await lid(broker, invoer, groep)
    try:
        metadata = kip447.group_metadata(c)
        await schrijf(producer, uitvoer, b"eerst", {tp: 7}, metadata)
        for besluit, verwacht in (("commit", 11), ("abort", 11)):
            await producer.begin_transaction()
            await producer.send_and_wait(uitvoer, besluit.encode())
            await producer.send_offsets_to_transaction({tp: 11 if besluit == "commit" else 20}, metadata)
            wacht = asyncio.ensure_future(c.committed(tp))
            await asyncio.sleep(2)
            assert not wacht.done(), f"the fetch waits while the transaction is open ({besluit})"
            if besluit == "commit":
                await producer.commit_transaction()
            else:
                await producer.abort_transaction()
            assert await asyncio.wait_for(wacht, 10) == verwacht, besluit
        assert await gelezen(broker, uitvoer) == [b"eerst", b"commit"]
    finally:
        await c.stop()
