"""A processing stage: consume a batch, let a handler turn records into outputs, and write the
outputs together with the consumed offsets in one Kafka transaction.

Why not faust agents: faust's exactly-once picks a transactional producer by the *destination*
partition and silently falls back to a non-transactional producer for topics its consumer does not
subscribe to (faust/transport/consumer.py `TransactionManager.send`), so fan-out to `routes.*` would
be at-least-once; and faust's aiokafka driver does not support pattern subscriptions, which partner
topics need. A stage is the textbook consume-transform-produce transaction instead: after a crash,
the open transaction is aborted (the restarted worker fences it with the same transactional id) and
the batch is read again from the committed offsets, so nothing is lost and nothing is written twice.

No record stops a stage: one whose handling raises is quarantined to `dlq.engine` and the stage goes
on (`engine.handlers.quarantaine`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import zlib
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from mode import Service

from engine.handlers import clients
from engine.handlers.quarantaine import Batchverwerking
from engine.handlers.uitvoer import StageHandler, Uitvoer
from engine.metrics import Metrics
from engine.settings import Settings
from engine.topics import DLQ_MAX_BYTES

__all__ = ["Bron", "Stage", "StageHandler", "Uitvoer", "verdeel"]

log = logging.getLogger(__name__)


def verdeel(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """The partition of a key on internal topics: crc32 (in C) instead of aiokafka's pure-Python
    murmur2, which took 8% of a worker's time. Every stage producer uses it, so records with the
    same key still meet on the same partition; partner topics are never written with it."""
    if key is None:
        return random.choice(available or all_partitions)
    return zlib.crc32(key) % len(all_partitions)  # Kafka partitions are numbered 0..n-1


@dataclass(frozen=True, slots=True)
class Bron:
    """What a stage consumes: fixed topics, or every topic matching a pattern."""

    topics: tuple[str, ...] = ()
    pattern: str | None = None


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Wait for the batch in flight to commit, so the next owner starts after it.
        async with self.stage.batch_lock:
            await self.stage.handler.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("%s: %d partitions assigned", self.stage.label, len(assigned))


class Stage(Service):
    """Runs one handler over its input with exactly-once output, as a service of the faust app."""

    def __init__(
        self,
        handler: StageHandler,
        bron: Bron,
        *,
        settings: Settings,
        metrics: Metrics,
        max_request_size: int = DLQ_MAX_BYTES + 1024 * 1024,
        fetch_max_wait_ms: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.handler = handler
        self.bron = bron
        self.settings = settings
        self.metrics = metrics
        self.group_id = f"{settings.app_id}-{handler.name}"
        self.batch_lock = asyncio.Lock()
        self._max_request_size = max_request_size
        self._fetch_max_wait_ms = fetch_max_wait_ms or settings.fetch_max_wait_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._verwerking: Batchverwerking | None = None

    @property
    def label(self) -> str:
        return f"Stage[{self.handler.name}]"

    def _nieuwe_producer(self) -> AIOKafkaProducer:
        s = self.settings
        return clients.producer(
            s.kafka,
            client_id=f"{self.group_id}-{s.worker_id}",
            transactional_id=f"{self.group_id}-{s.worker_id}",
            max_request_size=self._max_request_size,
            linger_ms=5,
            partitioner=verdeel,
        )

    async def on_start(self) -> None:
        s = self.settings
        self._producer = self._nieuwe_producer()
        await self._producer.start()
        self._consumer = clients.consumer(
            s.kafka,
            client_id=f"{self.group_id}-{s.worker_id}",
            group_id=self.group_id,
            # Static membership: a restarted worker (same ENGINE_WORKER_ID) takes its partitions
            # back at once instead of waiting for its dead predecessor's session to expire. Not for
            # the front doors: a static member that rejoins is handed its old assignment without
            # performing one, and aiokafka then never notices a new partner topic or partition
            # (it watches the topics' shape only in the member that assigned them). Seen in CI:
            # after a worker restart, the partitions added to a partner topic were never read.
            group_instance_id=f"{self.group_id}-{s.worker_id}" if self.bron.pattern is None else None,
            session_timeout_ms=10_000,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            metadata_max_age_ms=s.topic_refresh_ms,
        )
        consumer = self._consumer
        self._verwerking = Batchverwerking(
            self.handler,
            self._producer,
            group_id=self.group_id,
            metrics=self.metrics,
            toegewezen=lambda: set(consumer.assignment()),
            max_request_size=self._max_request_size,
        )
        listener = _Listener(self)
        if self.bron.pattern is not None:
            self._consumer.subscribe(pattern=self.bron.pattern, listener=listener)
        else:
            self._consumer.subscribe(topics=list(self.bron.topics), listener=listener)
        await self._consumer.start()

    async def on_stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    @Service.task
    async def _verwerk_batches(self) -> None:
        assert self._consumer is not None and self._verwerking is not None
        consumer, verwerking = self._consumer, self._verwerking
        name = self.handler.name
        while not self.should_stop:
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            if not batch:
                continue
            async with self.batch_lock:
                try:
                    await verwerking.verwerk(batch)
                except KafkaError as fout:  # the broker, not a record: handler errors are quarantined
                    await self._herstel_na_brokerfout(fout)
                    continue
            self.metrics.batches.labels(name).inc()
            self.metrics.records.labels(name).inc(sum(len(r) for r in batch.values()))
            self.metrics.lag.labels(name).set(self._lag(consumer, verwerking.posities))

    async def _herstel_na_brokerfout(self, fout: KafkaError) -> None:
        """A transaction failed on the broker's side (it died mid-commit, say): its outputs and offsets
        were never committed, and aiokafka's transactional producer cannot go on after such an error.
        So start over from the last commit, as a restarted worker would: drop the state the batch
        changed (reloaded from the logs before the next batch), a new producer with the same
        transactional id (which fences and aborts what the old one left open), and the consumer back
        at the committed offsets. Retries until the broker answers; the stage never stops for it."""
        assert self._consumer is not None and self._verwerking is not None
        consumer = self._consumer
        log.warning(
            "%s: transaction failed (%s); resuming from the last commit", self.label, type(fout).__name__
        )
        await self.handler.on_revoked(set(consumer.assignment()))
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()
        while not self.should_stop:
            producer = self._nieuwe_producer()
            try:
                await producer.start()
                for tp in set(consumer.assignment()):  # as it is now: a rebalance may have moved some
                    committed = await consumer.committed(tp)
                    if committed is None:
                        await consumer.seek_to_beginning(tp)
                    else:
                        consumer.seek(tp, committed)
            except KafkaError as opnieuw:
                log.warning("%s: broker not back yet (%s)", self.label, type(opnieuw).__name__)
                with contextlib.suppress(Exception):
                    await producer.stop()
                await asyncio.sleep(1.0)
                continue
            self._producer = self._verwerking.producer = producer
            return

    def _lag(self, consumer: AIOKafkaConsumer, posities: dict[TopicPartition, int]) -> int:
        lag = 0
        for tp in consumer.assignment():
            end, position = consumer.highwater(tp), posities.get(tp)
            if end is not None and position is not None:
                lag += max(0, end - position)
        return lag
