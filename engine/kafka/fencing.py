"""Fencing: which transactional producer commits a partition's outputs, so that a worker that lost
a partition can no longer commit output for it.

An internal stage has one transactional producer per worker, with the transactional id
`<group>-<worker id>`, and commits one transaction per batch across all its partitions (Kafka
Streams' exactly_once_v2). Its offsets are committed with the consumer's group membership (KIP-447,
`engine.kafka.kip447`): the group coordinator refuses the commit of a member that is no longer in
the group's current generation, so a worker paused past its session timeout (a "zombie") that wakes
and commits has its transaction aborted, and nothing it wrote in it becomes readable. The new owner
of a partition reads its committed offset with `require_stable`: while the zombie's transaction
holds an offset commit for it, the coordinator makes it wait, so it starts exactly after what that
transaction decided (its offsets if it commits, the previous ones if it aborts), and restores the
partition's state from its log only once no transaction is open on that log
(`engine.kafka.state.KafkaLog`, settled): a commit's markers reach the log a moment after its
offsets may be readable, and what it logged must not be missed. A worker restarted under the same
ENGINE_WORKER_ID fences its predecessor's producer by epoch, as before. Until 2026-12 the producer
was per input partition, with the same id in every worker (Kafka Streams' first exactly-once mode):
a transaction per partition per poll, and a producer per partition; aiokafka had no KIP-447.

Front doors read every partner's and RIEC's topic (hundreds of partitions) and deliver at least
once, without a transaction (`engine.kafka.delivery`): one idempotent producer per worker, nothing
to fence. What a zombie front door writes again is harmless downstream, as a partner's own
duplicates are: vastleggen drops a signal whose id it has logged, besluiten a command its casus has
applied. Only a refusal can then appear twice in dlq.ingress, with the same source coordinates.

A task's transaction that fails on the broker's side (it died mid-commit, say) cannot go on either:
aiokafka's transactional producer is done after such an error. The task is dropped with the state
of its partitions, and taken over again like a newly assigned partition, retrying until the broker
answers. A fenced task (its producer replaced, or its commit refused as a zombie's) waits for the
consumer's next rebalance instead: its partitions are another worker's until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import (
    IllegalOperation,
    IllegalStateError,
    InvalidProducerEpoch,
    InvalidTxnState,
    KafkaError,
    ProducerFenced,
)

from engine.kafka.kip447 import ZombieCommitError
from engine.kafka.output import Output, StageHandler
from engine.kafka.quarantine import Batch, BatchProcessing
from engine.metrics import Metrics

log = logging.getLogger(__name__)

FENCED = (ProducerFenced, InvalidProducerEpoch, InvalidTxnState, IllegalOperation, ZombieCommitError)
"""What a producer hears when another one took its transactional id over, its transaction was
aborted on the broker's side (its timeout passed while the worker was paused), or the group
coordinator refused its offsets (the worker is no longer in the group's generation: KIP-447).
aiokafka raises IllegalOperation ("not in transaction") from a send after its sender saw a fence."""
WAIT_FOR_REBALANCE_S = 30.0
"""How long a fenced partition waits for the rebalance that must follow, before it is taken over
anyway (liveness, should that rebalance never come): three session timeouts."""


@dataclass(slots=True)
class Task:
    """One transactional producer and the input partitions whose outputs it commits."""

    transactional_id: str
    producer: AIOKafkaProducer
    processing: BatchProcessing
    partities: set[TopicPartition] = field(default_factory=set)


class SharedHandler:
    """The stage's handler as its tasks share it. Their transactions run concurrently, but a handler
    restores state with one log reader at a time, and must not restore a partition twice (a second
    restore would overwrite the changes of a transaction in flight)."""

    def __init__(self, handler: StageHandler) -> None:
        self.handler = handler
        self.name = handler.name
        self._restore = asyncio.Lock()

    async def before_batch(self) -> None:
        await self.handler.before_batch()

    async def prepare(self, partitions: set[TopicPartition]) -> None:
        async with self._restore:
            await self.handler.prepare(partitions)

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        await self.handler.on_revoked(partitions)

    def process(self, record: ConsumerRecord[bytes, bytes]) -> Iterable[Output]:
        return self.handler.process(record)


class Tasks:
    """The tasks of one stage in one worker: which partitions are taken over, by which producer."""

    def __init__(
        self,
        handler: StageHandler,
        consumer: AIOKafkaConsumer,
        *,
        task_id: Callable[[TopicPartition], str],
        new_producer: Callable[[str], AIOKafkaProducer],
        new_processing: Callable[[AIOKafkaProducer, Callable[[], set[TopicPartition]]], BatchProcessing],
        fences: bool,
        label: str,
        metrics: Metrics,
    ) -> None:
        self.handler = handler
        self.consumer = consumer
        self.task_id = task_id
        self.new_producer = new_producer
        self.new_processing = new_processing
        self.fences = fences
        """An internal stage: a partition taken over starts at its committed offset, read once the
        previous owner's transaction is decided (module doc)."""
        self.label = label
        self.metrics = metrics
        self.reread: set[TopicPartition] = set()
        """Partitions whose task was dropped after a failed transaction: read again from the commit."""
        self.taken: dict[str, Task] = {}
        self.toegewezen: set[TopicPartition] = set()
        """What the last rebalance assigned, less what was revoked since: not the consumer's
        `assignment()`, which aiokafka keeps listing the revoked partitions from until the next
        assignment arrives (the revocation only marks a reassignment in progress). A take-over in
        that window took every revoked partition back, and its state, restored for partitions the
        worker no longer owned, stayed and was used when one came back later: a casus opened
        meanwhile by another worker was unknown to it (make test-cluster, test a)."""
        self.fenced_until: dict[TopicPartition, float] = {}
        """Partitions whose producer was fenced: not taken over again before the next rebalance
        (or before this monotonic time)."""

    @property
    def taken_over(self) -> set[TopicPartition]:
        return {tp for taak in self.taken.values() for tp in taak.partities}

    async def take_over(self) -> set[TopicPartition]:
        """Take over every assigned partition not taken over yet: its task's producer started (which
        fences any previous owner), then, where it matters, its position set to its committed
        offset. Returns the partitions taken over now: records fetched for them before are stale."""
        nu = time.monotonic()
        wachtend = {tp for tp, tot in self.fenced_until.items() if tot > nu}
        nieuw = self.toegewezen - self.taken_over - wachtend
        genomen: set[TopicPartition] = set()
        for tp in sorted(nieuw):
            taak = await self._task(self.task_id(tp))
            if taak is None:
                break  # the broker is not answering; the next batch tries again
            taak.partities.add(tp)
            genomen.add(tp)
        # Fenced: the previous owner may have committed after the consumer read the offset.
        # Dropped after a failed transaction: the consumer's position is past the records it held.
        # A newly assigned front-door partition needs neither (nothing was fenced for it).
        terug = genomen if self.fences else genomen & self.reread
        weg = await self._seek_to_committed(terug)
        for tp in weg:  # a rebalance began meanwhile: not ours to take over, its revocation follows
            self.taken[self.task_id(tp)].partities.discard(tp)
        self.reread -= genomen - weg
        return terug

    async def _seek_to_committed(self, partities: set[TopicPartition]) -> set[TopicPartition]:
        """Set the consumer's position of these partitions to their committed offsets; returns
        those that a rebalance took away meanwhile (aiokafka deactivates the assignment before it
        calls the revocation listener, so a seek can find a partition gone)."""
        tps = sorted(partities)
        committed = await asyncio.gather(*(self.consumer.committed(tp) for tp in tps))
        weg: set[TopicPartition] = set()
        nooit = []
        for tp, offset in zip(tps, committed, strict=True):
            try:
                if offset is None:
                    nooit.append(tp)
                else:
                    self.consumer.seek(tp, offset)
            except IllegalStateError:
                weg.add(tp)
        try:
            if nooit:
                await self.consumer.seek_to_beginning(*nooit)
        except IllegalStateError:
            weg |= set(nooit)
        return weg

    async def _task(self, tid: str) -> Task | None:
        taak = self.taken.get(tid)
        if taak is not None:
            return taak
        producer = self.new_producer(tid)
        try:
            await producer.start()
        except KafkaError as fout:
            log.warning("%s: producer %s not started (%s); retrying", self.label, tid, type(fout).__name__)
            with contextlib.suppress(Exception):
                await producer.stop()
            await asyncio.sleep(1.0)
            return None
        partities: set[TopicPartition] = set()
        taak = Task(tid, producer, self.new_processing(producer, lambda: set(partities)), partities)
        self.taken[tid] = taak
        return taak

    async def process(self, batch: Batch) -> None:
        """Each task's part of the batch in its own transaction(s), concurrently."""
        delen: dict[str, Batch] = {}
        for tp, records in batch.items():
            taak = self._task_of(tp)
            if taak is not None:
                delen.setdefault(taak.transactional_id, {})[tp] = records
            else:  # not taken over (yet): read again from its commit when it is
                self.reread.add(tp)
        taken = [self.taken[tid] for tid in delen]
        if taken:
            await self.handler.before_batch()  # once for all the batch's transactions
        uitkomsten = await asyncio.gather(
            *(t.processing.process(delen[t.transactional_id]) for t in taken), return_exceptions=True
        )
        for taak, uitkomst in zip(taken, uitkomsten, strict=True):
            if isinstance(uitkomst, KafkaError | IllegalOperation):  # not a record's: those are quarantined
                await self._drop_task(taak, uitkomst)
            elif isinstance(uitkomst, BaseException):
                raise uitkomst

    def _task_of(self, tp: TopicPartition) -> Task | None:
        taak = self.taken.get(self.task_id(tp))
        return taak if taak is not None and tp in taak.partities else None

    async def _drop_task(self, taak: Task, fout: KafkaError | IllegalOperation) -> None:
        """Drop a task whose transaction failed: its outputs and offsets were never committed."""
        if isinstance(fout, FENCED):
            self.metrics.fenced.labels(self.handler.name).inc()
            tot = time.monotonic() + WAIT_FOR_REBALANCE_S
            self.fenced_until |= dict.fromkeys(taak.partities, tot)
            log.warning(
                "%s: %s was taken over by another worker (fenced); its open transaction is aborted",
                self.label,
                taak.transactional_id,
            )
        else:
            log.warning(
                "%s: transaction of %s failed (%s); resuming from its last commit",
                self.label,
                taak.transactional_id,
                type(fout).__name__,
            )
        self.reread |= taak.partities
        await self.handler.on_revoked(set(taak.partities))
        await self._stop(taak)

    async def _stop(self, taak: Task) -> None:
        self.taken.pop(taak.transactional_id, None)
        with contextlib.suppress(Exception):
            await taak.producer.stop()

    async def assigned(self, partities: set[TopicPartition]) -> None:
        """After a rebalance: what is assigned now is ours to take over, fenced before or not."""
        self.toegewezen = set(partities)
        for tp in partities:
            self.fenced_until.pop(tp, None)

    async def revoke(self, partities: set[TopicPartition]) -> None:
        """Revoked (after the batch in flight committed): drop their state. The worker's producer
        stays for the partitions it is given next (every rebalance revokes them all first)."""
        self.toegewezen -= partities
        for tp in partities:
            self.fenced_until.pop(tp, None)
        self.reread -= partities
        await self.handler.on_revoked(partities)
        for taak in self.taken.values():
            taak.partities -= partities

    async def stop(self) -> None:
        await asyncio.gather(*(self._stop(t) for t in list(self.taken.values())))

    def positions(self) -> dict[TopicPartition, int]:
        """The next offset to read of every partition committed so far (for the lag gauge)."""
        return {tp: o for t in self.taken.values() for tp, o in t.processing.positions.items()}
