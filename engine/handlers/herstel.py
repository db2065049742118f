"""Restoring a stage's state: read one partition of a log from offset 0 to its end."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


async def lees_partitie(
    bootstrap_servers: str, tp: TopicPartition
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every committed record of one partition, in order, up to the end it had when called."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
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
