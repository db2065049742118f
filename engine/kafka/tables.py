"""Tables every routing worker holds in full, read from their logs to the end before each batch
and every few seconds in between (`Tables`):
the HKP register (`engine.knelpunten`, one partition), the open-casus index (`engine.casusindex`,
compacted, every partition) and the adopted rule versions (`engine.regelversies`, one partition).

Holding the whole index in every worker (about 240 bytes per identifier) is what lets vastleggen
match and route a signal in the transaction that logs it: before, a signal's routing slip visited
the index partition of each of its identifiers, one more transactional hop per identifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Generic, TypeAlias, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from engine.domain.casusindex import CasusIndex
from engine.domain.knelpunten import Knelpuntenregister
from engine.errors import foutsoort
from engine.events.casus import (
    GEBEURTENIS_DECODER,
    AggregaatVergeten,
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
)
from engine.events.matching import STAND_DECODER
from engine.events.regelversie import REGELVERSIE_DECODER, RegelversieAangenomen
from engine.kafka import clients
from engine.metrics import Metrics
from engine.settings import KafkaConnection

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
S = TypeVar("S")
GESLOTEN = "gesloten:"
"""Key prefix of a closed casus in `engine.casusindex` (so a late identifier is not added back)."""
INGETROKKEN = "ingetrokken:"
"""Key prefix of a forgotten signal in `engine.casusindex` (so what it brings late is not added)."""


def restore_index(index: CasusIndex, record: Record) -> None:
    """Fold one record of `engine.casusindex` (an identifier's open casussen, or a closed casus)."""
    key = record.key.decode()
    if key.startswith(GESLOTEN):
        index.herstel_gesloten(key.removeprefix(GESLOTEN))
    elif key.startswith(INGETROKKEN):
        index.herstel_ingetrokken(key.removeprefix(INGETROKKEN))
    else:
        index.herstel(key, STAND_DECODER.decode(record.value) if record.value else {})


def restore_knelpunt(register: Knelpuntenregister, record: Record) -> None:
    """Fold one record of `engine.knelpunten` (HKP events; others there are ignored). A forgotten
    HKP (`AggregaatVergeten`) is ended: it names no one any more, so it cannot route. A tombstone
    (the executor's nudge that lets compaction run) changes nothing.

    Every record moves the register's position past it, one it cannot read too: the position says
    what the register has seen, and offsets are the same in every worker and after a rebuild."""
    register.positie = max(register.positie, record.offset + 1)
    if record.value is None:
        return
    g = GEBEURTENIS_DECODER.decode(record.value)
    if isinstance(g, HandhavingsknelpuntAangewezen | HandhavingsknelpuntBeeindigd):
        register.pas_toe(g)
    elif isinstance(g, AggregaatVergeten):
        register.vergeet(g.aggregaat.removeprefix("hkp:"))


def restore_regelversie(aangenomen: dict[str, RegelversieAangenomen], record: Record) -> None:
    """Fold one record of `engine.regelversies` (an adopted rule version, keyed by its id). A
    tombstone takes the adoption back, as compaction would leave it for a worker reading later."""
    key = record.key.decode()
    if record.value is None:
        aangenomen.pop(key, None)
    else:
        aangenomen[key] = REGELVERSIE_DECODER.decode(record.value)


class Tables(Generic[S]):
    """Keeps tables up to date: `refresh` reads everything committed to their logs so far.

    A compacted log drops a tombstone `delete.retention.ms` after it was cleaned (`Settings.
    vergeet_binnen_ms`): a reader that was not reading for longer would never see that delete (a
    casus closed, an identifier erased, an HKP ended) and keep matching what is gone. So a reader
    does not wait for the next batch to read: it reads every `interval_s` in the background as
    well, and when it was away anyway (a stalled or paused process) longer than `max_afwezig_s`,
    a margin below the tombstones' retention, it rebuilds its tables from offset 0 into new
    objects and swaps them in whole (a routing batch never sees half a table).
    """

    def __init__(
        self,
        kafka: KafkaConnection,
        nieuw: Callable[[], S],
        folds: Mapping[str, Callable[[S, Record], None]],
        *,
        max_afwezig_s: float,
        fetch_max_wait_ms: int = 20,
        metrics: Metrics | None = None,
        naam: str = "routing",
        interval_s: float | None = None,
        klok: Callable[[], float] = time.time,
    ) -> None:
        self.kafka = kafka
        self.nieuw = nieuw
        self.folds = dict(folds)
        self.metrics = metrics
        self.naam = naam
        self.fetch_max_wait_ms = fetch_max_wait_ms  # see Settings.fetch_max_wait_ms
        self.max_afwezig_s = max_afwezig_s
        self.interval_s = interval_s if interval_s is not None else min(5.0, max_afwezig_s / 4)
        """How often it reads between batches (a test sets it beyond reach: a paused process)."""
        self.klok = klok
        """Wall-clock time, as the brokers' log cleaner keeps it (a paused process's gap counts)."""
        self.staat: S = nieuw()
        self.herbouwd = 0
        """How often the tables were read again from offset 0 after an absence."""
        self._consumer: AIOKafkaConsumer | None = None
        self._tps: list[TopicPartition] = []
        self._gelezen_op: float | None = None
        """When the last refresh had read every log to its end."""
        self._lock = asyncio.Lock()
        self._achtergrond: asyncio.Task[None] | None = None

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
        committed before its batch began ("as of" that moment). The first call reads the logs whole
        and starts the background reading.
        """
        async with self._lock:
            await self._lees()
        if self._achtergrond is None:
            self._achtergrond = asyncio.create_task(self._blijf_lezen(), name=f"tables-{self.naam}")

    async def _lees(self) -> None:
        consumer = self._consumer or await self._start()
        nu = self.klok()
        if self._gelezen_op is not None and nu - self._gelezen_op > self.max_afwezig_s:
            await self._herbouw(consumer, nu - self._gelezen_op)
        else:
            await self._lees_tot_eind(consumer, self.staat)
        self._gelezen_op = nu
        if self.metrics is not None:
            self.metrics.table_read.labels(self.naam).set(nu)

    async def _herbouw(self, consumer: AIOKafkaConsumer, afwezig_s: float) -> None:
        """Read the logs again from offset 0 into new tables, then swap them in."""
        log.warning(
            "tables: not read for %.0f s (more than %.0f s: deletes may have been compacted away); "
            "reading them again from the start",
            afwezig_s,
            self.max_afwezig_s,
        )
        await consumer.seek_to_beginning(*self._tps)
        staat = self.nieuw()
        await self._lees_tot_eind(consumer, staat)
        self.staat = staat
        self.herbouwd += 1
        if self.metrics is not None:
            self.metrics.table_rebuilt.labels(self.naam).inc()

    async def _lees_tot_eind(self, consumer: AIOKafkaConsumer, staat: S) -> None:
        # Paused between calls: no fetch waits at the broker in front of this request (a broker
        # answers a connection's requests in order), so asking for the ends costs one round trip.
        eind = await consumer.end_offsets(self._tps)
        posities = {tp: await consumer.position(tp) for tp in self._tps}
        achter = [tp for tp in self._tps if posities[tp] < eind[tp]]
        if self.metrics is not None:
            self.metrics.table_lag.labels(self.naam).set(sum(eind[tp] - posities[tp] for tp in achter))
        if not achter:
            return  # nearly always: nothing changed since the last read
        consumer.resume(*achter)
        try:
            while achter:
                batch = await consumer.getmany(*achter, timeout_ms=500, max_records=10_000)
                for tp, records in batch.items():
                    self._fold(staat, self.folds[tp.topic], records)
                achter = [tp for tp in achter if await consumer.position(tp) < eind[tp]]
        finally:
            consumer.pause(*self._tps)

    async def _blijf_lezen(self) -> None:
        """Between batches too: an idle worker must not miss a tombstone (class doc)."""
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                async with self._lock:
                    await self._lees()
            except asyncio.CancelledError:
                raise
            except Exception as fout:  # the broker, for a moment: the next round tries again
                log.warning("tables: background read failed (%s)", foutsoort(fout))

    def _fold(self, staat: S, fold: Callable[[S, Record], None], records: list[Record]) -> None:
        for record in records:
            try:
                fold(staat, record)
            except Exception as fout:  # one bad record must not stop every routing stage
                self._skipped(record, fout)

    def _skipped(self, record: Record, fout: Exception) -> None:
        if self.metrics is not None:
            self.metrics.restore_skipped.labels(record.topic.removeprefix("engine."), foutsoort(fout)).inc()
        log.warning(
            "tables: skipped %s[%d]@%d: %s", record.topic, record.partition, record.offset, foutsoort(fout)
        )

    async def stop(self) -> None:
        if self._achtergrond is not None:
            self._achtergrond.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._achtergrond
        if self._consumer is not None:
            await self._consumer.stop()
