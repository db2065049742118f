"""The executor of forgetting: carries out approved erasures (`engine.vieroogen`) and the retention
periods (`engine.bewaring`) on a schedule, by reading the logs with the keys there are
(`lees_overzicht`) and writing, in one transaction, everything that forgets the signals reached:

- a tombstone for each signal's data key (`engine.sleutels`): every copy of its sealed fields, on
  the signal log, in backups, on replicas, can no longer be opened;
- a withdrawal on each route topic it reached, which compaction keeps in place of the routed message
  and which tells the RIEC's own system to delete its copy;
- `SignaalVergeten` to vastleggen (its identifiers leave the stage's state), and for an erasure
  `IdentificatorGewist` to zoekindex (the subject leaves the open-casus index);
- `OnderwerpGewist` or `GegevensVerlopen` on `engine.vergeten`: what was forgotten, ids only.

A service, not a stage: finding the signals means reading whole logs, which a stage's synchronous
`process` cannot. One worker acts at a time: the one its consumer group gives `engine.verzoeken`'s
only partition. Its transactional id fences a predecessor that stalled; every effect is idempotent
(a tombstone, a withdrawal keyed by signal id), so a batch read again after a crash repeats
nothing harmful and loses nothing (its offsets commit in the same transaction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from mode import Service

from engine import verzegeling, vieroogen
from engine.bewaring import Regel
from engine.events.casus import GEBEURTENIS_DECODER, CasusAfgesloten, KoppelingBevestigd
from engine.events.matching import ZOEKINDEX_ENCODER, IdentificatorGewist
from engine.events.route import Intrekkingsreden
from engine.events.signaal_ontvangen import (
    SIGNAAL_LOG_DECODER,
    SIGNAAL_LOG_ENCODER,
    SignaalGerouteerd,
    SignaalOntvangen,
    SignaalVergeten,
)
from engine.handlers import clients
from engine.handlers.output import Output
from engine.handlers.routeren import intrekkingen
from engine.handlers.stage import partition_for
from engine.handlers.state import KafkaLog
from engine.inzage import Inzage, stel_op
from engine.projections.audit import AUDIT_DECODER, Verwerkingslog
from engine.settings import KafkaConnection, Settings
from engine.sleutels import Sleutelring
from engine.topics import (
    AUDIT,
    CASUSINDEX,
    GEBEURTENISSEN,
    KANDIDATEN,
    SIGNAAL_LOG,
    SLEUTELS,
    VERGETEN,
    VERZOEKEN,
    ZOEKINDEX,
)
from engine.vergeten import (
    VERGETEN_ENCODER,
    GegevensVerlopen,
    OnderwerpGewist,
    Overzicht,
    Signaalspoor,
    noemt,
    over,
    verlopen,
)

log = logging.getLogger(__name__)
Record: TypeAlias = ConsumerRecord[bytes, bytes]
DUWTJE = b"vergeten:duwtje"
"""The key of a tombstone that only makes a quiet partition roll its segment (`_plan_duwtjes`)."""


async def _lees(kafka: KafkaConnection, topic: str, fold: Callable[[Record], None]) -> None:
    reader = KafkaLog(kafka)
    for tp in await clients.partitions_of(kafka, (topic,)):
        async for record in reader.read(tp):
            fold(record)


async def lees_sleutels(kafka: KafkaConnection, hoofdsleutel: bytes) -> Sleutelring:
    """Every data key the key store holds (a destroyed one is not there)."""
    ring = Sleutelring(hoofdsleutel)
    await _lees(kafka, SLEUTELS, lambda r: ring.herstel(r.key.decode(), r.value))
    return ring


async def lees_overzicht(
    kafka: KafkaConnection, ring: Sleutelring, bewaar: Callable[[SignaalOntvangen], bool] | None
) -> Overzicht:
    """Every signal the log holds, opened with the keys of `ring`, with its routes and casussen.

    Only the signals `bewaar` accepts keep their opened fields (an erasure's, an inzage's); of the
    rest the overview keeps ids, partitions and times, so that reading a million signals for the
    retention schedule does not hold a million texts. Without `bewaar` (the schedule) nothing is
    opened: a signal is readable when its key is there."""
    overzicht = Overzicht()

    def signaal(r: Record) -> None:
        g = SIGNAAL_LOG_DECODER.decode(r.value)
        if isinstance(g, SignaalOntvangen):
            overzicht.signalen[g.signaal_id] = _spoor(g, r.partition, ring, bewaar)
        elif isinstance(g, SignaalGerouteerd) and g.signaal_id in overzicht.signalen:
            overzicht.signalen[g.signaal_id].bestemmingen = list(g.bestemmingen)

    def gebeurtenis(r: Record) -> None:
        g = GEBEURTENIS_DECODER.decode(r.value)
        if isinstance(g, KoppelingBevestigd) and g.signaal_id in overzicht.signalen:
            overzicht.signalen[g.signaal_id].casussen[g.casus_id] = g.riec
        elif isinstance(g, CasusAfgesloten):
            overzicht.gesloten[g.casus_id] = g.tijd

    await _lees(kafka, SIGNAAL_LOG, signaal)
    await _lees(kafka, GEBEURTENISSEN, gebeurtenis)
    return overzicht


def _spoor(
    g: SignaalOntvangen, partitie: int, ring: Sleutelring, bewaar: Callable[[SignaalOntvangen], bool] | None
) -> Signaalspoor:
    if bewaar is None:  # the schedule: readable when its key is there, nothing opened
        leesbaar = not g.versleuteld or verzegeling.sleutel_id(g.signaal_id) in ring
        return Signaalspoor(g.signaal_id, partitie, g.ontvangen_op, leesbaar)
    open_ = verzegeling.open_(g, ring)
    spoor = Signaalspoor(g.signaal_id, partitie, g.ontvangen_op, leesbaar=open_ is not None)
    spoor.signaal = open_ if open_ is not None and bewaar(open_) else None
    return spoor


async def over_onderwerp(kafka: KafkaConnection, hoofdsleutel: bytes, identificator: str) -> Overzicht:
    """The overview with the signals about one subject opened (an erasure's, an inzage's)."""
    ring = await lees_sleutels(kafka, hoofdsleutel)
    return await lees_overzicht(kafka, ring, lambda s: noemt(s, identificator))


def vergeet(
    sporen: list[Signaalspoor], reden: Intrekkingsreden, nu: datetime, **waarom: str
) -> Iterator[Output]:
    """What forgets these signals (module doc); `waarom` names the request or the rule."""
    for s in sporen:
        sleutel = verzegeling.sleutel_id(s.signaal_id).encode()
        yield Output(SLEUTELS, sleutel, None, partition=s.partitie)
        yield from intrekkingen(s.signaal_id, s.bestemmingen, reden, nu, **waarom)
        vergeten = SIGNAAL_LOG_ENCODER.encode(SignaalVergeten(signaal_id=s.signaal_id))
        yield Output(KANDIDATEN, s.signaal_id.encode(), vergeten, partition=s.partitie)


def wissen(overzicht: Overzicht, verzoek_id: str, identificator: str, nu: datetime) -> list[Output]:
    """Everything an approved erasure of one subject writes."""
    sporen = over(overzicht, identificator)
    gewist = OnderwerpGewist(verzoek_id=verzoek_id, signalen=[s.signaal_id for s in sporen], op=nu)
    index = ZOEKINDEX_ENCODER.encode(IdentificatorGewist(identificator=identificator))
    verzoeksleutel = verzegeling.verzoek_sleutel_id(verzoek_id).encode()
    return [
        *vergeet(sporen, "gewist", nu, verzoek_id=verzoek_id),
        Output(ZOEKINDEX, identificator.encode(), index),
        Output(VERGETEN, verzoek_id.encode(), VERGETEN_ENCODER.encode(gewist)),
        # Last, the request's own key: the subject it named is then unreadable on its log too.
        Output(SLEUTELS, verzoeksleutel, None, partition=0),
    ]


def verloop(overzicht: Overzicht, termijnen: dict[Regel, timedelta], nu: datetime) -> list[Output]:
    """Everything the retention periods that ran out write."""
    uit: list[Output] = []
    for regel, ids in verlopen(overzicht, termijnen, nu).items():
        uit += vergeet([overzicht.signalen[i] for i in ids], "verlopen", nu, bewaarregel=regel)
        record = GegevensVerlopen(regel=regel, signalen=ids, op=nu)
        uit.append(Output(VERGETEN, regel.encode(), VERGETEN_ENCODER.encode(record)))
    return uit


class Vergeten(Service):
    """Reads approved requests and runs the retention schedule (module doc)."""

    def __init__(self, settings: Settings, termijnen: dict[Regel, timedelta], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.termijnen = termijnen
        self.group_id = f"{settings.app_id}-vergeten"
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._volgende_ronde = datetime.min.replace(tzinfo=UTC)
        self._duwtjes: list[tuple[datetime, Output]] = []
        """Writes due later on partitions where something was forgotten (`_plan_duwtjes`)."""

    async def on_start(self) -> None:
        kafka = self.settings.kafka
        self._producer = clients.producer(
            kafka, transactional_id=self.group_id, enable_idempotence=True, acks="all",
            partitioner=partition_for,
        )  # fmt: skip
        await self._producer.start()
        self._consumer = clients.consumer(
            kafka, VERZOEKEN, group_id=self.group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed", session_timeout_ms=10_000,
        )  # fmt: skip
        await self._consumer.start()

    async def on_stop(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()

    @Service.task
    async def _werk(self) -> None:
        assert self._consumer is not None
        while not self.should_stop:
            batch = await self._consumer.getmany(timeout_ms=500, max_records=100)
            for tp, records in batch.items():
                for record in records:
                    await self._verzoek(tp, record)
            if self._consumer.assignment() and self.clock() >= self._volgende_ronde:
                await self._bewaarronde()
            await self._duw()

    async def _verzoek(self, tp: TopicPartition, record: Record) -> None:
        """An approved erasure takes effect, in the transaction that commits its record."""
        uit: list[Output] = []
        g = vieroogen.VERZOEK_DECODER.decode(record.value) if record.value else None
        if isinstance(g, vieroogen.VerzoekGoedgekeurd) and g.handeling == "wissen":
            kafka, hoofdsleutel = self.settings.kafka, self.settings.hoofdsleutel()
            ring = await lees_sleutels(kafka, hoofdsleutel)
            sleutel = verzegeling.verzoek_sleutel_id(g.verzoek_id)
            identificator = verzegeling.open_tekst(ring, sleutel, g.onderwerp)
            if identificator is None:  # its key destroyed: this erasure took effect before
                log.info("erasure %s took effect already", g.verzoek_id)
            else:
                overzicht = await lees_overzicht(kafka, ring, lambda s: noemt(s, identificator))
                uit = wissen(overzicht, g.verzoek_id, identificator, self.clock())
                log.info("erasure %s: %d records written", g.verzoek_id, len(uit))
        await self._schrijf(uit, {tp: record.offset + 1})

    async def _bewaarronde(self) -> None:
        """Forget what ran out; at most every ENGINE_RETENTION_INTERVAL_S."""
        nu = self.clock()
        self._volgende_ronde = nu + timedelta(seconds=self.settings.bewaar_interval_s)
        kafka = self.settings.kafka
        ring = await lees_sleutels(kafka, self.settings.hoofdsleutel())
        overzicht = await lees_overzicht(kafka, ring, None)
        uit = verloop(overzicht, self.termijnen, nu)
        if uit:
            log.info("retention: %d records written", len(uit))
            await self._schrijf(uit, {})

    def _plan_duwtjes(self, uit: list[Output]) -> None:
        """Compaction removes a record only once a newer one with its key is outside the active
        segment, and a segment rolls only when a record is appended after `segment.ms` (here
        `vergeet_binnen_ms`): on a quiet partition what was forgotten would wait for traffic. So
        each partition written here gets a write every `vergeet_binnen_ms` four times: the first
        lets the cleaner drop what a tombstone or withdrawal replaced; a tombstone itself (on the
        open-casus index its key is the erased identifier) goes only at a cleaning
        `delete.retention.ms` after that one, which the later writes bring about (a log is cleaned
        only when it has a rolled, uncleaned segment; seen with Kafka 3.9: two writes were not
        enough). The write is the withdrawal again on a route topic (a receiver recognises it by its
        ce_id), a tombstone of a key no one uses on the key store and the open-casus index."""
        binnen = timedelta(milliseconds=self.settings.vergeet_binnen_ms * 1.1)
        nu, geplaatst = self.clock(), set()
        for u in uit:
            if u.topic == ZOEKINDEX and u.key is not None:  # its tombstone lands on engine.casusindex
                p = partition_for(u.key, list(range(self.settings.partitions)), [])
                u = Output(CASUSINDEX, DUWTJE, None, partition=p)
            elif u.topic == SLEUTELS:
                u = Output(SLEUTELS, DUWTJE, None, partition=u.partition)
            elif not u.topic.startswith("routes."):
                continue
            if (u.topic, u.partition) not in geplaatst:
                geplaatst.add((u.topic, u.partition))
                self._duwtjes += [(nu + k * binnen, u) for k in range(1, 5)]

    async def _duw(self) -> None:
        nu = self.clock()
        klaar = [u for t, u in self._duwtjes if t <= nu]
        if klaar:
            self._duwtjes = [(t, u) for t, u in self._duwtjes if t > nu]
            await self._schrijf(klaar, {}, plan=False)

    async def _schrijf(
        self, uit: list[Output], offsets: dict[TopicPartition, int], plan: bool = True
    ) -> None:
        assert self._producer is not None
        if plan:
            self._plan_duwtjes(uit)
        async with self._producer.transaction():
            futures = [
                await self._producer.send(
                    u.topic, u.value, key=u.key, headers=list(u.headers), partition=u.partition
                )
                for u in uit
            ]
            await asyncio.gather(*futures)
            if offsets:
                await self._producer.send_offsets_to_transaction(offsets, self.group_id)


async def inzage(kafka: KafkaConnection, hoofdsleutel: bytes, identificator: str, door: str) -> Inzage:
    """The inzage export of one subject (`engine.inzage`): its signals opened from the logs, and the
    audit records of reads that showed one of them or one of their casussen."""
    overzicht = await over_onderwerp(kafka, hoofdsleutel, identificator)
    signalen = {s.signaal_id for s in over(overzicht, identificator)}
    casussen = {c for i in signalen for c in overzicht.signalen[i].casussen}
    lezingen: list[Verwerkingslog] = []

    def lezing(r: Record) -> None:
        v = AUDIT_DECODER.decode(r.value)
        a = v.attributes
        if signalen & set(a.get("dpl.riec.signaal_ids", ())) or casussen & set(
            a.get("dpl.riec.casus_ids", ())
        ):
            lezingen.append(v)

    await _lees(kafka, AUDIT, lezing)
    return stel_op(overzicht, identificator, lezingen, door, datetime.now(UTC))
