"""A processing stage: consume a batch, let a handler turn records into outputs, and write the
outputs together with the consumed offsets in one Kafka transaction.

Why not faust agents: faust's exactly-once picks a transactional producer by the *destination*
partition and silently falls back to a non-transactional producer for topics its consumer does not
subscribe to (faust/transport/consumer.py `TransactionManager.send`), so fan-out to `routes.*` would
be at-least-once; and faust's aiokafka driver does not support pattern subscriptions, which partner
topics need. A stage is the textbook consume-transform-produce transaction instead: after a crash,
the open transaction is aborted (the restarted worker fences it with the same transactional id) and
the batch is read again from the committed offsets, so nothing is lost and nothing is written twice.
A worker that lost a partition cannot commit for it any more (`engine.kafka.fencing`).
The front doors, whose outputs are de-duplicated downstream, deliver at least once without a
transaction (`engine.kafka.delivery`).

No record stops a stage: one whose handling raises is quarantined to `dlq.engine` and the stage goes
on (`engine.kafka.quarantine`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from mode import Service

from engine.kafka import clients, faults, kip447
from engine.kafka.batches import BATCH_BYTES, partition_for
from engine.kafka.delivery import AtLeastOnce
from engine.kafka.doorbell import WAIT_MS, Doorbell
from engine.kafka.fencing import SharedHandler, Tasks
from engine.kafka.output import Output, StageHandler
from engine.kafka.quarantine import BatchProcessing
from engine.metrics import Metrics
from engine.settings import Settings
from engine.topics import DLQ_MAX_BYTES

__all__ = ["Output", "Source", "Stage", "StageHandler", "partition_for"]

log = logging.getLogger(__name__)


TRANSACTION_TIMEOUT_MS = 15_000
"""How long the broker lets a transaction stay open before it aborts it (its brokers look every
second: `transaction.abort.timed.out.transaction.cleanup.interval.ms` in deploy/). A stage's
transaction lasts a batch, well under a second. One whose worker died holds back, until then, the
successor of the partitions it committed offsets for (KIP-447's require_stable) and the stable
offset of every partition it wrote to, unless the worker comes back under the same
ENGINE_WORKER_ID first (its new producer aborts it). Kafka Streams' exactly_once_v2 uses 10 s;
15 s keeps it above the consumers' 10 s session, so a worker paused past its session but not past
this still commits what it began (test_zombie_pipeline, na_offsets_kort)."""

RETRY_BACKOFF_MS = 10
"""A transaction's first send to a partition, just after the producer's previous commit, is often
refused as NotEnoughReplicas: since Kafka 3.6 the partition leader checks with the transaction
coordinator that the partition joined the transaction (KIP-890), and answers CONCURRENT_TRANSACTIONS,
mapped to NotEnoughReplicas for clients like aiokafka, while the previous commit's markers are still
being written. aiokafka then waits retry_backoff_ms before sending again: with its default of
100 ms, a signal that met it waited 100 ms more at that hop (286 times in one `make bench` round).
The markers take a few milliseconds, so retry soon."""


@dataclass(frozen=True, slots=True)
class Source:
    """What a stage consumes: fixed topics, or every topic matching a pattern."""

    topics: tuple[str, ...] = ()
    pattern: str | None = None


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Wait for the batch in flight to commit, so the next owner starts after it.
        async with self.stage.batch_lock:
            await self.stage.tasks.revoke(set(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("%s: %d partitions assigned", self.stage.label, len(assigned))
        await self.stage.tasks.assigned(set(assigned))
        if self.stage.doorbell is not None:
            await self.stage.doorbell.assigned(set(assigned))


class Stage(Service):
    """Runs one handler over its input with exactly-once output, as a service of the faust app.

    It has one producer per worker, transactional for an internal stage: `engine.kafka.fencing`
    says how a zombie is fenced.
    """

    def __init__(
        self,
        handler: StageHandler,
        source: Source,
        *,
        settings: Settings,
        metrics: Metrics,
        max_request_size: int = DLQ_MAX_BYTES + 1024 * 1024,
        fetch_max_wait_ms: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.handler = handler
        self.source = source
        self.settings = settings
        self.metrics = metrics
        self.group_id = f"{settings.app_id}-{handler.name}"
        self.batch_lock = asyncio.Lock()
        self._max_request_size = max_request_size
        # Internal stages fetch on the transaction cadence (Settings.batch_wait_ms); front doors as told.
        self._fetch_max_wait_ms = fetch_max_wait_ms or settings.batch_wait_ms
        self._fetch_min_bytes = 1 if fetch_max_wait_ms else settings.batch_min_bytes
        self._shared = SharedHandler(handler)
        self._consumer: AIOKafkaConsumer | None = None
        self._partition_tasks: Tasks | None = None
        self.doorbell: Doorbell | None = None
        """Watches the idle input partitions, so that the stage fetches only those with traffic."""

    @property
    def tasks(self) -> Tasks:
        assert self._partition_tasks is not None, "started"
        return self._partition_tasks

    @property
    def label(self) -> str:
        return f"Stage[{self.handler.name}]"

    def _task_id(self, tp: TopicPartition) -> str:
        """The transactional id that commits `tp`'s outputs: one per stage per worker, stable
        across the worker's restarts (module doc of `engine.kafka.fencing`)."""
        return f"{self.group_id}-{self.settings.worker_id}"

    @property
    def front_door(self) -> bool:
        """A front door (a pattern of partner or office topics): at least once (`delivery`)."""
        return self.source.pattern is not None

    def _new_producer(self, transactional_id: str) -> AIOKafkaProducer:
        return clients.producer(
            self.settings.kafka,
            client_id=transactional_id,
            transactional_id=None if self.front_door else transactional_id,
            enable_idempotence=True,
            acks="all",
            max_request_size=self._max_request_size,
            linger_ms=5,
            max_batch_size=BATCH_BYTES,  # the stage builds its batches itself (engine.kafka.batches)
            partitioner=partition_for,
            retry_backoff_ms=RETRY_BACKOFF_MS,
            transaction_timeout_ms=TRANSACTION_TIMEOUT_MS,
        )

    def _new_processing(
        self, producer: AIOKafkaProducer, partities: Callable[[], set[TopicPartition]]
    ) -> BatchProcessing:
        assert self._consumer is not None, "started"
        consumer = self._consumer
        return BatchProcessing(
            self._shared,
            AtLeastOnce(producer, consumer) if self.front_door else producer,
            group_id=self.group_id,
            metrics=self.metrics,
            assigned=partities,
            max_request_size=self._max_request_size,
            group_metadata=None if self.front_door else lambda: kip447.member_metadata(consumer),
        )

    def _new_consumer(self) -> AIOKafkaConsumer:
        s = self.settings
        return clients.consumer(
            s.kafka,
            client_id=f"{self.group_id}-{s.worker_id}",
            group_id=self.group_id,
            # Static membership: a restarted worker (same ENGINE_WORKER_ID) takes its partitions
            # back at once instead of waiting for its dead predecessor's session to expire. Not for
            # the front doors: a static member that rejoins is handed its old assignment without
            # performing one, and aiokafka then never notices a new partner topic or partition
            # (it watches the topics' shape only in the member that assigned them). Seen in CI:
            # after a worker restart, the partitions added to a partner topic were never read.
            group_instance_id=f"{self.group_id}-{s.worker_id}" if self.source.pattern is None else None,
            session_timeout_ms=10_000,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            fetch_min_bytes=self._fetch_min_bytes,
            # A front door looks for new partner topics every ENGINE_TOPIC_REFRESH_MS (a Metadata
            # request naming all ~430 topics: 1.5 ms); an internal stage's topics are fixed.
            metadata_max_age_ms=s.topic_refresh_ms if self.front_door else 300_000,
        )

    async def on_start(self) -> None:
        kip447.install()
        # Clients are made here, not in __init__: aiokafka's need a running event loop.
        consumer = self._consumer = self._new_consumer()
        self._partition_tasks = Tasks(
            self._shared,
            consumer,
            task_id=self._task_id,
            new_producer=self._new_producer,
            new_processing=self._new_processing,
            fences=not self.front_door,
            label=self.label,
            metrics=self.metrics,
        )
        listener = _Listener(self)
        # A stage counts as having committed when it starts: one that cannot commit from then on,
        # with records waiting, is stalled as much as one that stops later.
        self.metrics.last_commit.labels(self.handler.name).set_to_current_time()
        if self.front_door:
            consumer.subscribe(pattern=self.source.pattern, listener=listener)
        else:
            consumer.subscribe(topics=list(self.source.topics), listener=listener)
        if self.settings.idle_partition_s > 0:
            self.doorbell = Doorbell(consumer, self._new_bell(), idle_after_s=self.settings.idle_partition_s)
            await self.doorbell.start()
        await consumer.start()

    def _new_bell(self) -> AIOKafkaConsumer:
        s = self.settings
        return clients.consumer(
            s.kafka,
            client_id=f"{self.group_id}-{s.worker_id}-doorbell",
            enable_auto_commit=False,
            fetch_max_wait_ms=WAIT_MS,
            fetch_min_bytes=1,
            max_partition_fetch_bytes=1,  # the broker still returns a partition's first batch
            isolation_level="read_committed",  # rings for what the stage can read, not an open transaction
            # Its partitions are assigned to it; it needs no new topics.
            metadata_max_age_ms=300_000,
        )

    async def on_stop(self) -> None:
        if self.doorbell is not None:
            await self.doorbell.stop()
        if self._consumer is not None:
            await self._consumer.stop()
        if self._partition_tasks is not None:
            await self._partition_tasks.stop()

    @Service.task
    async def _process_batches(self) -> None:
        assert self._consumer is not None
        consumer, tasks = self._consumer, self.tasks
        name = self.handler.name
        while not self.should_stop:
            async with self.batch_lock:
                await self._activate(await tasks.take_over())
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            if not batch:
                continue
            if self.doorbell is not None:
                self.doorbell.saw(batch.keys())
            async with self.batch_lock:
                # Assigned while fetching: their records may predate what the previous owner committed.
                vers = await tasks.take_over()
                await self._activate(vers)
                await tasks.process({tp: r for tp, r in batch.items() if tp not in vers})
            self.metrics.batches.labels(name).inc()
            self.metrics.last_commit.labels(name).set_to_current_time()
            self.metrics.records.labels(name).inc(sum(len(r) for r in batch.values()))
            self.metrics.lag.labels(name).set(self._lag(consumer, tasks.positions()))
            faults.freeze_at(name, "between_polls")

    async def _activate(self, seeked: set[TopicPartition]) -> None:
        """Partitions whose position `take_over` set back are fetched again, not left to the doorbell."""
        if self.doorbell is not None and seeked:
            await self.doorbell.activate(seeked)

    @Service.timer(1.0)
    async def _pause_idle(self) -> None:
        if self.doorbell is None or self._consumer is None:
            return
        try:
            self.metrics.paused.labels(self.handler.name).set(await self.doorbell.pause_idle())
        except Exception as e:  # a timer that raises would stop the stage; the next second tries again
            log.warning("%s: pausing idle partitions failed (%s)", self.label, type(e).__name__)

    @Service.timer(10.0)
    async def _report_lag(self) -> None:
        """The lag between batches too: a stage that hangs in a transaction runs no batch, while
        its consumer's fetches still learn where the input ends (RiecStageStalled needs both)."""
        if self._consumer is not None and self._partition_tasks is not None:
            lag = self._lag(self._consumer, self._partition_tasks.positions())
            self.metrics.lag.labels(self.handler.name).set(lag)

    def _lag(self, consumer: AIOKafkaConsumer, positions: dict[TopicPartition, int]) -> int:
        lag = 0
        for tp in consumer.assignment():
            end, position = consumer.highwater(tp), positions.get(tp)
            if end is not None and position is not None:
                lag += max(0, end - position)
        return lag
