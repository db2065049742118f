"""Tables every routing worker holds in full, read from their logs to the end before each batch:
the HKP register (`engine.knelpunten`, one partition) and the open-casus index (`engine.casusindex`,
compacted, every partition).

Holding the whole index in every worker (about 240 bytes per identifier) is what lets vastleggen
match and route a signal in the transaction that logs it: before, a signal's routing slip visited
the index partition of each of its identifiers, one more transactional hop per identifier.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TypeAlias

import msgspec
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from engine.casusindex import CasusIndex
from engine.errors import foutsoort
from engine.events.casus import (
    GEBEURTENIS_DECODER,
    AggregaatVergeten,
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
)
from engine.handlers import clients
from engine.knelpunten import Knelpuntenregister
from engine.metrics import Metrics
from engine.settings import KafkaConnection

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Fold: TypeAlias = Callable[[Record], None]
GESLOTEN = "gesloten:"
"""Key prefix of a closed casus in `engine.casusindex` (so a late identifier is not added back)."""
_STAND = msgspec.json.Decoder(dict[str, str])


def restore_index(index: CasusIndex, record: Record) -> None:
    """Fold one record of `engine.casusindex` (an identifier's open casussen, or a closed casus)."""
    key = record.key.decode()
    if key.startswith(GESLOTEN):
        index.herstel_gesloten(key.removeprefix(GESLOTEN))
    else:
        index.herstel(key, _STAND.decode(record.value) if record.value else {})


def restore_knelpunt(register: Knelpuntenregister, record: Record) -> None:
    """Fold one record of `engine.knelpunten` (HKP events; others there are ignored). A forgotten
    HKP (`AggregaatVergeten`) is ended: it names no one any more, so it cannot route. A tombstone
    (the executor's nudge that lets compaction run) changes nothing."""
    if record.value is None:
        return
    g = GEBEURTENIS_DECODER.decode(record.value)
    if isinstance(g, HandhavingsknelpuntAangewezen | HandhavingsknelpuntBeeindigd):
        register.pas_toe(g)
    elif isinstance(g, AggregaatVergeten):
        register.vergeet(g.aggregaat.removeprefix("hkp:"))


class Tables:
    """Keeps tables up to date; `refresh` reads everything committed to their logs so far."""

    def __init__(
        self,
        kafka: KafkaConnection,
        folds: Mapping[str, Fold],
        fetch_max_wait_ms: int = 20,
        metrics: Metrics | None = None,
    ) -> None:
        self.kafka = kafka
        self.folds = dict(folds)
        self.metrics = metrics
        self.fetch_max_wait_ms = fetch_max_wait_ms  # see Settings.fetch_max_wait_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._tps: list[TopicPartition] = []

    async def _start(self) -> AIOKafkaConsumer:
        self._tps = await clients.partitions_of(self.kafka, tuple(self.folds))
        consumer = clients.log_consumer(
            self.kafka,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        await consumer.start()
        consumer.assign(self._tps)
        await consumer.seek_to_beginning(*self._tps)
        consumer.pause(*self._tps)
        self._consumer = consumer
        return consumer

    async def refresh(self) -> None:
        """Read every table's log to its current end: what was committed before this call counts.

        Called before each routing batch, so a signal is routed against every HKP and open casus
        committed before its batch began ("as of" that moment). The first call reads the logs whole.
        """
        consumer = self._consumer or await self._start()
        # Paused between calls: no fetch waits at the broker in front of this request (a broker
        # answers a connection's requests in order), so asking for the ends costs one round trip.
        eind = await consumer.end_offsets(self._tps)
        achter = [tp for tp in self._tps if await consumer.position(tp) < eind[tp]]
        if not achter:
            return  # nearly always: nothing changed since the last batch
        consumer.resume(*achter)
        try:
            while achter:
                batch = await consumer.getmany(*achter, timeout_ms=500, max_records=10_000)
                for tp, records in batch.items():
                    self._fold(self.folds[tp.topic], records)
                achter = [tp for tp in achter if await consumer.position(tp) < eind[tp]]
        finally:
            consumer.pause(*self._tps)

    def _fold(self, fold: Fold, records: list[Record]) -> None:
        for record in records:
            try:
                fold(record)
            except Exception as fout:  # one bad record must not stop every routing stage
                self._skipped(record, fout)

    def _skipped(self, record: Record, fout: Exception) -> None:
        if self.metrics is not None:
            self.metrics.restore_skipped.labels(record.topic.removeprefix("engine."), foutsoort(fout)).inc()
        log.warning(
            "tables: skipped %s[%d]@%d: %s", record.topic, record.partition, record.offset, foutsoort(fout)
        )

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
