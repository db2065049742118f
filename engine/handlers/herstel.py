"""Restoring a stage's state: read one partition of a log from offset 0 to its end."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiokafka import ConsumerRecord, TopicPartition

from engine.handlers import clients
from engine.settings import KafkaConnection


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
