"""Feeding the projections: every worker reads the route topics, the casus log and the signal log
from offset 0 into its read models (no consumer group: each worker holds all of them, so any worker
can answer a dashboard). `bouw` does the same in one go up to given positions, for replay. Both
skip a record whose fold raises the same way (`ProjectieStaat.verwerk`), so a replay still equals
the live state; the live worker counts and logs it.

Why a skipped record does not go to dlq.engine: every worker and every replay folds every record,
so each would quarantine the same record again, and there is nothing to re-drive: the record stays
at its offset in its log, and a worker restarted with the fix folds it, like every record, from
offset 0. Ops see the skipped records' coordinates in `/api/v1/ops/projecties` and the metric
riec_projection_skipped_total."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from mode import Service

from engine.domain.routing import topic_van
from engine.kafka import clients
from engine.metrics import Metrics
from engine.projections.opslag import Opslag
from engine.projections.staat import Overgeslagen, ProjectieStaat, bron
from engine.settings import KafkaConnection
from engine.topics import DLQ, GEBEURTENISSEN, SIGNAAL_LOG, SLEUTELS_CASUS, VERZOEKEN, route_bestemmingen

log = logging.getLogger(__name__)

BRONNEN = (
    SLEUTELS_CASUS, GEBEURTENISSEN, SIGNAAL_LOG, DLQ, VERZOEKEN, *(topic_van(b) for b in route_bestemmingen())
)  # fmt: skip
"""dlq.ingress for the refused RIEC commands' outcomes (`engine.projections.uitkomsten`: headers only);
engine.verzoeken for the four-eyes requests (`engine.projections.verzoekstatus`); the casussen's
keys, to open their names when a RIEC reads them (`engine.projections.casussen`)."""
Posities = dict[TopicPartition, int]
Record: TypeAlias = ConsumerRecord[bytes, bytes]


async def _consumer(kafka: KafkaConnection) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    consumer = clients.log_consumer(
        kafka,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    tps = await clients.partitions_of(kafka, BRONNEN)
    await consumer.start()
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    return consumer, tps


async def lees_tot(kafka: KafkaConnection, tot: Posities) -> AsyncIterator[tuple[str, list[Record]]]:
    """Every record of the given partitions from offset 0 up to (not including) the given positions,
    per topic in batches: what `bouw` folds, and what the bench reads raw to compare against."""
    consumer, _ = await _consumer(kafka)
    try:
        open_ = {tp for tp, end in tot.items() if end > 0}
        consumer.assign(sorted(open_))
        if open_:
            await consumer.seek_to_beginning(*open_)
        while open_:
            batch = await consumer.getmany(*open_, timeout_ms=1000, max_records=10_000)
            for tp, records in batch.items():
                yield tp.topic, [r for r in records if r.offset < tot[tp]]
            for tp in list(open_):
                if await consumer.position(tp) >= tot[tp]:
                    open_.discard(tp)
    finally:
        await consumer.stop()


async def bouw(kafka: KafkaConnection, tot: Posities, hoofdsleutel: bytes | None) -> ProjectieStaat:
    """Fresh projections from offset 0 up to (not including) the given positions, with their store
    in a private temporary file; `hoofdsleutel` opens the casussen's names, as the live worker does."""
    staat = ProjectieStaat(hoofdsleutel=hoofdsleutel)
    async for topic, records in lees_tot(kafka, tot):
        for record in records:
            staat.verwerk(topic, record.partition, record.offset, record.value, record.headers, record.key)
        staat.vastleggen()
    return staat


class Projecties(Service):
    """Keeps this worker's read models up to date with the logs, their store in file `opslag`."""

    def __init__(
        self, kafka: KafkaConnection, metrics: Metrics, opslag: Path, hoofdsleutel: bytes, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.kafka = kafka
        self.metrics = metrics
        self.opslag = opslag
        self.hoofdsleutel = hoofdsleutel
        self.staat = ProjectieStaat(Opslag(opslag), hoofdsleutel)
        self.herbouwd: list[str] = []
        """The approved rebuild requests (ids) this worker carried out since it started."""
        self.posities: Posities = {}
        self.bijgewerkt = False
        """Whether the fold has reached the end the logs had when the worker started: before that
        the read models miss what was there already, and a replica should get no traffic."""
        self._achter: Posities = {}
        self._consumer: AIOKafkaConsumer | None = None

    async def on_start(self) -> None:
        self._consumer, tps = await _consumer(self.kafka)
        await self._vanaf_het_begin(self._consumer, tps)
        log.info("projections: reading %d partitions from offset 0", len(tps))

    async def _vanaf_het_begin(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        """Read from offset 0 again, and be behind until the ends the logs have now."""
        # read_committed: the end offsets are the last stable offsets, which the fold can reach.
        eind = await consumer.end_offsets(tps)
        self._achter = {tp: o for tp, o in eind.items() if o > 0}
        self.bijgewerkt = not self._achter

    async def on_stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        self.staat.sluit()

    @Service.task
    async def _lees(self) -> None:
        assert self._consumer is not None
        while not self.should_stop:
            batch = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    overgeslagen = self.staat.verwerk(
                        tp.topic, tp.partition, record.offset, record.value, record.headers, record.key
                    )
                    if overgeslagen is not None:
                        self._meld(overgeslagen)
                self.posities[tp] = records[-1].offset + 1
            self.staat.vastleggen()
            if not self.bijgewerkt:
                await self._bij(self._consumer)
            elif self.staat.herbouwen:
                await self._herbouw(self._consumer)

    async def _bij(self, consumer: AIOKafkaConsumer) -> None:
        for tp, eind in list(self._achter.items()):
            if await consumer.position(tp) >= eind:
                del self._achter[tp]
        if not self._achter:
            self.bijgewerkt = True
            # A rebuild approved before now needs nothing more: these read models were just folded
            # from offset 0 (at start, or by the rebuild that the approval asked for).
            self.staat.herbouwen.clear()
            log.info("projections: caught up with the logs as they were at start")

    async def _herbouw(self, consumer: AIOKafkaConsumer) -> None:
        """An approved `projectie_herbouwen` (four eyes) takes effect: every read model is dropped and
        folded again from offset 0, its store with it. Meanwhile the worker is not ready (a replica
        gets no traffic) and the API answers from what is folded so far."""
        verzoeken = list(self.staat.herbouwen)
        self.herbouwd += [v for v in verzoeken if v not in self.herbouwd]
        log.info("projections: rebuilding every read model from offset 0 (approved: %s)", ",".join(verzoeken))
        self.staat.sluit()  # closes and removes the store: no await before the new one replaces it
        self.staat = ProjectieStaat(Opslag(self.opslag), self.hoofdsleutel)
        self.posities = {}
        tps = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*tps)
        await self._vanaf_het_begin(consumer, tps)

    def _meld(self, o: Overgeslagen) -> None:
        self.metrics.projection_skipped.labels(bron(o.topic), o.error).inc()
        log.warning(
            "projections: skipped %s[%d]@%d (%s): its fold raised; see /api/v1/ops/projecties",
            o.topic,
            o.partition,
            o.offset,
            o.error,
        )
