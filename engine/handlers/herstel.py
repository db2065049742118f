"""Restoring a stage's state: read one partition of a log from offset 0 to its end."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from aiokafka import ConsumerRecord, TopicPartition

from engine.errors import foutsoort
from engine.handlers import clients
from engine.metrics import Metrics
from engine.settings import KafkaConnection

log = logging.getLogger(__name__)


async def lees_partitie(
    kafka: KafkaConnection, tp: TopicPartition
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every committed record of one partition, in order, up to the end it had when called."""
    consumer = clients.consumer(
        kafka,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        # The end is known: when only a commit marker is left to read, don't let the broker hold
        # the fetch for Kafka's default 500 ms (every partition restored at start paid it).
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        await consumer.seek_to_beginning(tp)
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=10_000)
            for record in batch.get(tp, ()):
                yield record
    finally:
        await consumer.stop()


async def herstel_partitie(
    kafka: KafkaConnection,
    tp: TopicPartition,
    pas_toe: Callable[[ConsumerRecord[bytes, bytes]], None],
    *,
    stage: str,
    metrics: Metrics | None = None,
) -> None:
    """Fold every committed record of one log partition into a stage's state, before its first batch.

    A record the fold cannot take is skipped, logged by its coordinates and counted
    (riec_restore_skipped_total, alerted on), instead of stopping the stage at every start: the
    stage then decides without that record, which is wrong only for its aggregate or signal, where
    a crash loop stops everything.
    """
    async for record in lees_partitie(kafka, tp):
        try:
            pas_toe(record)
        except Exception as fout:  # one bad record of a log must not keep a stage from starting
            if metrics is not None:
                metrics.restore_skipped.labels(stage, foutsoort(fout)).inc()
            log.warning(
                "%s: skipped %s[%d]@%d while restoring state: %s",
                stage,
                record.topic,
                record.partition,
                record.offset,
                foutsoort(fout),
            )


async def partities(kafka: KafkaConnection, topics: tuple[str, ...]) -> list[TopicPartition]:
    """Every partition of these topics, as the broker describes them now."""
    admin = clients.admin(kafka)
    await admin.start()
    try:
        beschreven = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    gevonden = {
        t["topic"]: sorted(p["partition"] for p in t["partitions"]) for t in beschreven if t["partitions"]
    }
    missing = [t for t in topics if t not in gevonden]
    if missing:
        raise RuntimeError(f"topics not found on the broker: {missing}")
    return [TopicPartition(t, p) for t in topics for p in gevonden[t]]
