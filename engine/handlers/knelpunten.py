"""Every worker's copy of the HKP register, read from `engine.knelpunten` (one partition)."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from engine.errors import foutsoort
from engine.events.casus import (
    GEBEURTENIS_DECODER,
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
)
from engine.handlers import clients
from engine.knelpunten import Knelpuntenregister
from engine.metrics import Metrics
from engine.settings import KafkaConnection
from engine.topics import KNELPUNTEN

log = logging.getLogger(__name__)

_TP = TopicPartition(KNELPUNTEN, 0)


class KnelpuntenLezer:
    """Keeps a register up to date; `bijwerken` reads everything committed so far."""

    def __init__(
        self, kafka: KafkaConnection, fetch_max_wait_ms: int = 20, metrics: Metrics | None = None
    ) -> None:
        self.register = Knelpuntenregister()
        self.metrics = metrics
        self.kafka = kafka
        self.fetch_max_wait_ms = fetch_max_wait_ms  # see Settings.fetch_max_wait_ms
        self._consumer: AIOKafkaConsumer | None = None

    async def bijwerken(self) -> None:
        """Read the register's log to its current end: HKP events committed before this call count.

        Called before each routing batch, so a signal is routed against every HKP designated or
        ended before its batch began ("as of" that moment).
        """
        if self._consumer is None:  # created in the worker's event loop, on first use
            self._consumer = clients.consumer(
                self.kafka,
                enable_auto_commit=False,
                isolation_level="read_committed",
                auto_offset_reset="earliest",
                fetch_max_wait_ms=self.fetch_max_wait_ms,
            )
            await self._consumer.start()
            self._consumer.assign([_TP])
            await self._consumer.seek_to_beginning(_TP)
            self._consumer.pause(_TP)
        consumer = self._consumer
        # Paused between calls: no fetch waits at the broker in front of this request (a broker
        # answers a connection's requests in order), so asking for the end costs one round trip.
        end = (await consumer.end_offsets([_TP]))[_TP]
        if await consumer.position(_TP) >= end:
            return  # nearly always: no HKP changed since the last batch
        consumer.resume(_TP)
        try:
            while await consumer.position(_TP) < end:
                batch = await consumer.getmany(_TP, timeout_ms=500, max_records=10_000)
                for record in batch.get(_TP, ()):
                    try:
                        g = GEBEURTENIS_DECODER.decode(record.value)
                    except Exception as fout:  # one bad record must not stop every routing stage
                        self._overgeslagen(record, fout)
                        continue
                    if isinstance(g, HandhavingsknelpuntAangewezen | HandhavingsknelpuntBeeindigd):
                        self.register.pas_toe(g)
        finally:
            consumer.pause(_TP)

    def _overgeslagen(self, record: ConsumerRecord[bytes, bytes], fout: Exception) -> None:
        if self.metrics is not None:
            self.metrics.restore_skipped.labels("knelpunten", foutsoort(fout)).inc()
        log.warning(
            "knelpunten: skipped %s[%d]@%d: %s",
            record.topic,
            record.partition,
            record.offset,
            foutsoort(fout),
        )

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
