"""Given two workers' tasks over the same input partition, when the first is paused with a
transaction open and the second takes the partition over, then the first can commit nothing when it
wakes, the second starts exactly after what was committed, and the first does not take the
partition back before a rebalance says so; a broker error instead retakes the partition at once,
from its committed offset.

In-memory fakes of what the broker guarantees: a transactional id's epoch goes up when a producer
with that id starts, which aborts the open transaction of the previous one and refuses its commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError, ProducerFenced
from prometheus_client import CollectorRegistry

from engine.kafka.fencing import SharedHandler, Tasks
from engine.kafka.output import Output
from engine.kafka.quarantine import BatchProcessing
from engine.metrics import Metrics
from tests.unit.fake_batches import BatchesViaSend
from tests.unit.test_quarantine import IN, LOG, Ontdubbelaar, batch, record

TP = TopicPartition(IN, 0)


@dataclass
class Broker:
    """Committed outputs and offsets, and the current epoch of every transactional id."""

    committed: list[Output] = field(default_factory=list)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    epochs: dict[str, int] = field(default_factory=dict)
    storing: bool = False
    """While set, every commit fails as if the broker died mid-commit."""

    def logged(self) -> list[str]:
        return [u.key.decode() for u in self.committed if u.topic == LOG and u.key]


@dataclass
class Producer(BatchesViaSend):
    broker: Broker
    tid: str
    pauze: asyncio.Event | None = None
    """Set by a test to hold this producer inside its transaction (a SIGSTOP)."""
    committed: list[Output] = field(default_factory=list)  # Ontdubbelaar reloads from this
    events: list[str] = field(default_factory=list)
    epoch: int = 0
    _open: list[Output] = field(default_factory=list)
    _offsets: dict[TopicPartition, int] = field(default_factory=dict)

    async def start(self) -> None:
        self.epoch = self.broker.epochs[self.tid] = self.broker.epochs.get(self.tid, 0) + 1

    async def stop(self) -> None:
        pass

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self._open, self._offsets = [], {}
        yield
        if self.pauze is not None:
            await self.pauze.wait()
        if self.broker.epochs[self.tid] != self.epoch:
            raise ProducerFenced()
        if self.broker.storing:
            raise KafkaConnectionError()
        self.broker.committed += self._open
        self.broker.offsets.update(self._offsets)

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None, **kw: Any) -> Any:
        self._open.append(Output(topic, key, value, [], kw.get("partition")))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def send_offsets_to_transaction(self, offsets: dict[TopicPartition, int], group_id: str) -> None:
        self._offsets.update(offsets)


@dataclass
class Consumer:
    broker: Broker
    assigned: set[TopicPartition] = field(default_factory=set)
    positions: dict[TopicPartition, int] = field(default_factory=dict)

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.broker.offsets.get(tp)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    async def seek_to_beginning(self, *tps: TopicPartition) -> None:
        for tp in tps:
            self.positions[tp] = 0


def worker(broker: Broker) -> tuple[Tasks, Consumer, dict[str, Producer]]:
    consumer = Consumer(broker)
    producers: dict[str, Producer] = {}
    handler = Ontdubbelaar(None)  # type: ignore[arg-type]  # its log is read from the broker below
    metrics = Metrics(CollectorRegistry())

    def new_producer(tid: str) -> Producer:
        producers[tid] = Producer(broker, tid, committed=broker.committed)
        handler.producer = producers[tid]  # type: ignore[assignment]
        return producers[tid]

    def new_processing(producer: Any, partities: Any) -> BatchProcessing:
        return BatchProcessing(
            SharedHandler(handler),
            producer,
            group_id="g",
            metrics=metrics,
            assigned=partities,
            max_request_size=1 << 20,
        )

    taken = Tasks(
        handler,
        consumer,  # type: ignore[arg-type]
        task_id=lambda tp: f"g-{tp.topic}-{tp.partition}",
        new_producer=new_producer,  # type: ignore[arg-type]
        new_processing=new_processing,
        fences=True,
        label="test",
        metrics=metrics,
    )
    return taken, consumer, producers


def fenced(taken: Tasks) -> float:
    return taken.metrics.registry.get_sample_value("riec_stage_fenced_total", {"stage": "ontdubbelaar"}) or 0


async def test_a_paused_worker_that_lost_its_partition_commits_nothing_and_does_not_take_it_back() -> None:
    broker = Broker()
    a, a_consumer, a_producers = worker(broker)
    b, b_consumer, _ = worker(broker)
    # Given A owns partition 0 and committed its first batch
    a_consumer.assigned = {TP}
    await a.assigned({TP})
    assert await a.take_over() == {TP} and a_consumer.positions == {TP: 0}
    await a.process(batch(record(0, 0, id="s0"), record(0, 1, id="s1")))
    assert broker.offsets == {TP: 2}
    # When A is paused holding the transaction of its second batch ...
    a_producers["g-engine.in-0"].pauze = pauze = asyncio.Event()
    zombie = asyncio.create_task(a.process(batch(record(0, 2, id="s2"), record(0, 3, id="s3"))))
    await asyncio.sleep(0)
    # ... and B is given the partition (A's session expired) and handles the same records
    b_consumer.assigned = {TP}
    await b.assigned({TP})
    assert await b.take_over() == {TP}
    assert b_consumer.positions == {TP: 2}, "B starts after A's last commit"
    await b.process(batch(record(0, 2, id="s2"), record(0, 3, id="s3")))
    # Then A, waking, commits nothing
    pauze.set()
    await zombie
    assert broker.logged() == ["s0", "s1", "s2", "s3"], "each signal logged once"
    assert broker.offsets == {TP: 4}
    assert fenced(a) == 1
    # And A, whose consumer has not heard of the rebalance yet, does not take the partition back
    assert await a.take_over() == set()
    assert a.taken == {}
    # Until a rebalance gives it back
    await a.assigned({TP})
    assert await a.take_over() == {TP} and a_consumer.positions[TP] == 4


async def test_a_transaction_the_broker_failed_is_retaken_at_once_from_the_committed_offset() -> None:
    broker = Broker()
    a, consumer, _ = worker(broker)
    consumer.assigned = {TP}
    await a.assigned({TP})
    await a.take_over()
    await a.process(batch(record(0, 0, id="s0")))
    # When the broker fails the next commit
    broker.storing = True
    await a.process(batch(record(0, 1, id="s1")))
    broker.storing = False
    # Then the partition is taken over again at once, from its commit, and nothing was lost
    assert await a.take_over() == {TP} and consumer.positions[TP] == 1
    await a.process(batch(record(0, 1, id="s1")))
    assert broker.logged() == ["s0", "s1"] and broker.offsets == {TP: 2}
    assert fenced(a) == 0


async def test_records_of_a_partition_not_taken_over_are_read_again_from_its_commit() -> None:
    broker = Broker()
    a, consumer, _ = worker(broker)
    # Given a partition assigned but not taken over (its producer could not start yet)
    consumer.assigned = {TP}
    await a.assigned({TP})
    await a.process(batch(record(0, 0, id="s0")))
    assert broker.logged() == [], "not ours to commit yet"
    # When it is taken over, it is read again from its commit
    assert await a.take_over() == {TP} and consumer.positions[TP] == 0


async def test_a_revoked_partition_the_consumer_still_lists_is_not_taken_back_before_the_new_assignment() -> (
    None
):
    """aiokafka keeps the revoked assignment as the consumer's `assignment()` until the next one
    arrives. A take-over in between must not take those partitions back: their state would be
    restored for a worker that no longer owns them, and used, stale, when one came back."""
    broker = Broker()
    a, consumer, _ = worker(broker)
    alle = {TopicPartition(IN, p) for p in range(8)}
    consumer.assigned = alle
    await a.assigned(alle)
    assert await a.take_over() == alle
    # A rebalance revokes everything; the consumer still lists the old assignment meanwhile
    await a.revoke(alle)
    assert consumer.assignment() == alle
    assert await a.take_over() == set()
    assert a.taken_over == set()
    # The new assignment gives partition 2 only: only it is taken over, and only it is prepared
    twee = TopicPartition(IN, 2)
    consumer.assigned = {twee}
    await a.assigned({twee})
    assert await a.take_over() == {twee}
    assert a.taken_over == {twee}
    assert {tp for t in a.taken.values() for tp in t.processing.assigned()} == {twee}
