"""Vastleggen: de-duplicate accepted signals on `<org>:<ce_id>` and append each once to the log.

The state (ids already on the log) is derived from the log itself: before the first batch of a
partition, the ids on the same partition of `engine.signalen` are read back. The log partition of
an id is the candidates partition it arrived on, so the log is its own changelog and nothing else
must be kept in step with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from engine.handlers.stage import Bron, Uitvoer
from engine.metrics import Metrics
from engine.reference import partnergroep
from engine.topics import KANDIDATEN, SIGNAAL_LOG

log = logging.getLogger(__name__)

BRON = Bron(topics=(KANDIDATEN,))


async def lees_sleutels(bootstrap_servers: str, tp: TopicPartition) -> set[bytes]:
    """Every key committed to one partition of a topic, read from offset 0 to its end."""
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
        keys: set[bytes] = set()
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=10_000)
            for record in batch.get(tp, ()):
                if record.key is not None:
                    keys.add(record.key)
        return keys
    finally:
        await consumer.stop()


class Vastleggen:
    """Appends a candidate to the signal log unless its id is already there."""

    name = "vastleggen"

    def __init__(self, *, bootstrap_servers: str, metrics: Metrics) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.metrics = metrics
        self._gezien: dict[int, set[bytes]] = {}

    async def voorbereiden(self, partitions: set[TopicPartition]) -> None:
        for tp in sorted(partitions):
            if tp.partition not in self._gezien:
                ids = await lees_sleutels(self.bootstrap_servers, TopicPartition(SIGNAAL_LOG, tp.partition))
                self._gezien[tp.partition] = ids
                log.info("vastleggen: partition %d holds %d signals", tp.partition, len(ids))

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self._gezien.pop(tp.partition, None)

    def verwerk(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Uitvoer]:
        gezien = self._gezien[record.partition]
        groep = partnergroep(record.key.split(b":", 1)[0].decode())
        if record.key in gezien:
            self.metrics.duplicates.labels(groep).inc()
            return
        gezien.add(record.key)
        self.metrics.accepted.labels(groep).inc()
        yield Uitvoer(SIGNAAL_LOG, record.key, record.value, partition=record.partition)
