"""The executor of forgetting: carries out approved erasures (`engine.domain.vergeten.vieroogen`) and
the retention
periods (`engine.domain.vergeten.bewaring`) on a schedule (and the other approved acts: a retention
period changed, a rule version adopted on `engine.regelversies`), by reading the logs with the keys there are
(`lees_overzicht`) and writing, in one transaction, everything that forgets the signals reached:

- a tombstone for each signal's data key (`engine.sleutels`): every copy of its sealed fields, on
  the signal log, in backups, on replicas, can no longer be opened;
- a withdrawal on each route topic it reached, which compaction keeps in place of the routed message
  and which tells the RIEC's own system to delete its copy;
- `SignaalVergeten` to vastleggen (its identifiers leave the stage's state), and for an erasure
  `IdentificatorGewist` to zoekindex (the subject leaves the open-casus index) and
  `BijdrageIngetrokken` (every identifier the signal brought to a casus leaves it too);
- `VergeetAggregaat` to besluiten for each casus, HKP or beeld that names the erased subject, or
  each casus closed longer than the `casus` rule: its single writer destroys the aggregate's key
  and logs `AggregaatVergeten` (an HKP forgotten stops routing);
- `OnderwerpGewist` or `GegevensVerlopen` on `engine.vergeten`: what was forgotten, ids only.

A service, not a stage: finding the signals means reading whole logs, which a stage's synchronous
`process` cannot. One worker acts at a time: the one its consumer group gives `engine.verzoeken`'s
only partition. That worker alone holds a producer, made when it is given the partition and let
go when it loses it: its transactional id (the group id, the same on every worker) fences a
predecessor that stalled, and a worker that merely starts fences no one. Every effect is idempotent
(a tombstone, a withdrawal keyed by signal id), so a batch read again after a crash repeats
nothing harmful and loses nothing (its offsets commit in the same transaction).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeAlias

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from mode import Service

from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.overzicht import (
    Overzicht,
    Signaalspoor,
    genoemd_in,
    over,
    termijnwijziging,
    verlopen,
    verlopen_casussen,
)
from engine.errors import foutsoort
from engine.events import vieroogen
from engine.events.casus import VergeetAggregaat
from engine.events.matching import ZOEKINDEX_ENCODER, BijdrageIngetrokken, IdentificatorGewist
from engine.events.regelversie import REGELVERSIE_ENCODER, RegelversieAangenomen
from engine.events.route import Intrekkingsreden
from engine.events.signaal_ontvangen import (
    SIGNAAL_LOG_ENCODER,
    SignaalVergeten,
)
from engine.events.vergeten import (
    VERGETEN_DECODER,
    VERGETEN_ENCODER,
    BewaartermijnGewijzigd,
    GegevensVerlopen,
    OnderwerpGewist,
    Regel,
    SleutelVernietigd,
)
from engine.kafka import clients, sporen
from engine.kafka.output import Output
from engine.kafka.routeren import intrekkingen
from engine.kafka.stage import partition_for
from engine.settings import Settings
from engine.topics import (
    CASUSINDEX,
    KANDIDATEN,
    KNELPUNTEN,
    OPDRACHTEN_KANDIDATEN,
    REGELVERSIES,
    SLEUTELS,
    SLEUTELS_CASUS,
    VERGETEN,
    VERZOEKEN,
    ZOEKINDEX,
)

log = logging.getLogger(__name__)
Record: TypeAlias = ConsumerRecord[bytes, bytes]
_WACHT_S = 5
DUWTJE = b"vergeten:duwtje"
"""The key of a tombstone that only makes a quiet partition roll its segment (`_plan_duwtjes`)."""


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


_VERGEET_ENCODER = msgspec.json.Encoder()


def vergeet_aggregaten(
    aggregaten: list[str], grond: Literal["gewist", "verlopen"], waarom: str, nu: datetime
) -> Iterator[Output]:
    """Ask each aggregate's single writer (besluiten, on the partition of its key) to forget it."""
    for a in aggregaten:
        v = VergeetAggregaat(aggregaat=a, grond=grond, waarom=waarom, op=nu)
        yield Output(OPDRACHTEN_KANDIDATEN, a.encode(), _VERGEET_ENCODER.encode(v))


def trek_bijdragen_in(sporen: list[Signaalspoor], partities: int) -> Iterator[Output]:
    """Every identifier an erased signal brought to an open casus (a confirmed link) leaves the
    index: to each partition, since the signal's identifiers cannot be read once its key is gone.

    The retention rule needs none of this: it forgets a signal in a casus only years after its
    last casus closed, and closing took the casus's entries out of the index already."""
    for s in sporen:
        ingetrokken = ZOEKINDEX_ENCODER.encode(BijdrageIngetrokken(signaal_id=s.signaal_id))
        for p in range(partities):
            yield Output(ZOEKINDEX, s.signaal_id.encode(), ingetrokken, partition=p)


def wissen(
    overzicht: Overzicht, verzoek_id: str, identificator: str, nu: datetime, partities: int
) -> list[Output]:
    """Everything an approved erasure of one subject writes (`partities`: of the index)."""
    sporen = over(overzicht, identificator)
    aggregaten = [a.aggregaat for a in genoemd_in(overzicht, identificator)]
    gewist = OnderwerpGewist(
        verzoek_id=verzoek_id, signalen=[s.signaal_id for s in sporen], op=nu, aggregaten=aggregaten
    )
    index = ZOEKINDEX_ENCODER.encode(IdentificatorGewist(identificator=identificator))
    verzoeksleutel = verzegeling.verzoek_sleutel_id(verzoek_id).encode()
    return [
        *vergeet(sporen, "gewist", nu, verzoek_id=verzoek_id),
        *trek_bijdragen_in(sporen, partities),
        *vergeet_aggregaten(aggregaten, "gewist", verzoek_id, nu),
        Output(ZOEKINDEX, identificator.encode(), index),
        Output(VERGETEN, verzoek_id.encode(), VERGETEN_ENCODER.encode(gewist)),
        # Last, the request's own key: the subject it named is then unreadable on its log too.
        Output(SLEUTELS, verzoeksleutel, None, partition=0),
    ]


def vernietig(
    overzicht: Overzicht, verzoek_id: str, sleutel_id: str, nu: datetime, partities: int
) -> list[Output]:
    """An approved destruction of one signal's key: the signal is forgotten as by an erasure."""
    signaal_id = sleutel_id.removeprefix("signaal:")
    spoor = overzicht.signalen.get(signaal_id)
    gevonden = sleutel_id.startswith("signaal:") and spoor is not None and spoor.leesbaar
    record = SleutelVernietigd(verzoek_id=verzoek_id, sleutel_id=sleutel_id, gevonden=gevonden, op=nu)
    uit = []
    if gevonden and spoor:
        uit = [*vergeet([spoor], "gewist", nu, verzoek_id=verzoek_id), *trek_bijdragen_in([spoor], partities)]
    return [*uit, Output(VERGETEN, verzoek_id.encode(), VERGETEN_ENCODER.encode(record))]


def aanneming(g: vieroogen.VerzoekGoedgekeurd, nu: datetime) -> list[Output]:
    """An approved adoption of a rule version: its record on `engine.regelversies`, keyed by the
    version's id (its `onderwerp`, never sealed), which every routing worker reads before its next
    batch. Written in the transaction that commits the approval's offset: once, whatever crashes."""
    record = RegelversieAangenomen(regelversie=g.onderwerp, verzoek_id=g.verzoek_id, door=g.door, op=nu)
    return [Output(REGELVERSIES, g.onderwerp.encode(), REGELVERSIE_ENCODER.encode(record), partition=0)]


def verloop(overzicht: Overzicht, termijnen: dict[Regel, timedelta], nu: datetime) -> list[Output]:
    """Everything the retention periods that ran out write."""
    uit: list[Output] = []
    for regel, ids in verlopen(overzicht, termijnen, nu).items():
        uit += vergeet([overzicht.signalen[i] for i in ids], "verlopen", nu, bewaarregel=regel)
        record = GegevensVerlopen(regel=regel, signalen=ids, op=nu)
        uit.append(Output(VERGETEN, regel.encode(), VERGETEN_ENCODER.encode(record)))
    casussen = verlopen_casussen(overzicht, termijnen["casus"], nu)
    if casussen:
        uit += vergeet_aggregaten(casussen, "verlopen", "casus", nu)
        record = GegevensVerlopen(regel="casus", signalen=[], op=nu, aggregaten=casussen)
        uit.append(Output(VERGETEN, b"casus", VERGETEN_ENCODER.encode(record)))
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
        await sporen.lees(kafka, VERGETEN, self._herstel_termijn)
        self._consumer = clients.consumer(
            kafka, VERZOEKEN, group_id=self.group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed", session_timeout_ms=10_000,
        )  # fmt: skip
        await self._consumer.start()

    def _herstel_termijn(self, r: Record) -> None:
        """An approved change of a retention period (`BewaartermijnGewijzigd`) outlives a restart:
        it is folded from the executor's own log over the settings' periods."""
        g = VERGETEN_DECODER.decode(r.value)
        if isinstance(g, BewaartermijnGewijzigd):
            self.termijnen[g.regel] = timedelta(days=g.dagen)

    async def on_stop(self) -> None:
        await self._laat_los()
        if self._consumer is not None:
            await self._consumer.stop()

    async def _neem_over(self) -> AIOKafkaProducer:
        """The producer of the worker that holds the partition: starting it fences any other
        worker's (the same transactional id), so it is made only here, when this one acts."""
        if self._producer is None:
            producer = clients.producer(
                self.settings.kafka, transactional_id=self.group_id, enable_idempotence=True,
                acks="all", partitioner=partition_for,
            )  # fmt: skip
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _laat_los(self) -> None:
        """Drop the producer: the partition went to another worker, or a round failed (a fenced
        producer stays in its fatal state for good; the next round makes a new one if this
        worker still holds the partition, and it fences whoever fenced it)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception as fout:  # a fenced producer's last flush may fail too
                log.info("vergeten: the old producer stopped with %s", foutsoort(fout))

    @Service.task
    async def _werk(self) -> None:
        assert self._consumer is not None
        while not self.should_stop:
            try:
                await self._ronde(self._consumer)
            except Exception as fout:  # the broker, or a bug: never the worker's end
                # The class only: a message may echo a record. Read again from the last commit.
                log.warning("vergeten: a round failed (%s); again in %d s", foutsoort(fout), _WACHT_S)
                await self._laat_los()
                await asyncio.sleep(_WACHT_S)
                for tp in self._consumer.assignment():
                    self._consumer.seek(tp, (await self._consumer.committed(tp)) or 0)

    async def _ronde(self, consumer: AIOKafkaConsumer) -> None:
        batch = await consumer.getmany(timeout_ms=500, max_records=100)
        if not consumer.assignment():  # another worker acts: a producer here would fence it
            await self._laat_los()
            return
        await self._neem_over()
        for tp, records in batch.items():
            for record in records:
                await self._verzoek(tp, record)
        if self.clock() >= self._volgende_ronde:
            await self._bewaarronde()
        await self._duw()

    async def _verzoek(self, tp: TopicPartition, record: Record) -> None:
        """An approved request takes effect, in the transaction that commits its record."""
        uit: list[Output] = []
        g = vieroogen.VERZOEK_DECODER.decode(record.value) if record.value else None
        if isinstance(g, vieroogen.VerzoekGoedgekeurd):
            uit = await self._voer_uit(g)
            log.info("request %s (%s): %d records written", g.verzoek_id, g.handeling, len(uit))
        await self._schrijf(uit, {tp: record.offset + 1})

    async def _voer_uit(self, g: vieroogen.VerzoekGoedgekeurd) -> list[Output]:
        kafka, nu = self.settings.kafka, self.clock()
        if g.handeling == "regelversie_aannemen":
            return aanneming(g, nu)
        ring = await sporen.lees_sleutels(kafka, self.settings.hoofdsleutel())
        onderwerp = verzegeling.open_tekst(ring, verzegeling.verzoek_sleutel_id(g.verzoek_id), g.onderwerp)
        if onderwerp is None:  # its key destroyed: this erasure took effect before
            return []
        if g.handeling == "wissen":
            overzicht = await sporen.over_onderwerp(kafka, self.settings.hoofdsleutel(), onderwerp)
            return wissen(overzicht, g.verzoek_id, onderwerp, nu, self.settings.partitions)
        if g.handeling == "sleutel_vernietigen":
            overzicht = await sporen.lees_overzicht(kafka, ring, None)
            return vernietig(overzicht, g.verzoek_id, onderwerp, nu, self.settings.partitions)
        if g.handeling == "bewaartermijn_wijzigen" and (wijziging := termijnwijziging(onderwerp)):
            regel, dagen = wijziging
            self.termijnen[regel] = timedelta(days=dagen)
            record = BewaartermijnGewijzigd(verzoek_id=g.verzoek_id, regel=regel, dagen=dagen, op=nu)
            return [Output(VERGETEN, regel.encode(), VERGETEN_ENCODER.encode(record))]
        if g.handeling != "projectie_herbouwen":  # that one every projection worker carries out itself
            log.warning("request %s (%s) is approved: carry it out by hand", g.verzoek_id, g.handeling)
        return []

    async def _bewaarronde(self) -> None:
        """Forget what ran out; at most every ENGINE_RETENTION_INTERVAL_S."""
        nu = self.clock()
        self._volgende_ronde = nu + timedelta(seconds=self.settings.bewaar_interval_s)
        kafka = self.settings.kafka
        ring = await sporen.lees_sleutels(kafka, self.settings.hoofdsleutel())
        casusring = await sporen.lees_sleutels(kafka, self.settings.hoofdsleutel(), SLEUTELS_CASUS)
        overzicht = await sporen.lees_overzicht(kafka, ring, None, casusring)
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
        ce_id), a tombstone of a key no one uses on the key stores, the open-casus index and the HKP
        register (for what besluiten writes when it forgets an aggregate)."""
        binnen = timedelta(milliseconds=self.settings.vergeet_binnen_ms * 1.1)
        nu, geplaatst = self.clock(), set()
        for d in (d for u in uit for d in self._duwtjes_na(u)):
            if (d.topic, d.partition) not in geplaatst:
                geplaatst.add((d.topic, d.partition))
                self._duwtjes += [(nu + k * binnen, d) for k in range(1, 5)]

    def _duwtjes_na(self, u: Output) -> list[Output]:
        """The nudges a write calls for (`_plan_duwtjes`)."""
        partities = list(range(self.settings.partitions))
        if u.topic == ZOEKINDEX and u.key is not None:  # its tombstones land on engine.casusindex
            p = u.partition if u.partition is not None else partition_for(u.key, partities, [])
            return [Output(CASUSINDEX, DUWTJE, None, partition=p)]
        if u.topic == SLEUTELS:
            return [Output(SLEUTELS, DUWTJE, None, partition=u.partition)]
        if u.topic == OPDRACHTEN_KANDIDATEN and u.key is not None:  # besluiten forgets an aggregate
            duwtjes = [Output(SLEUTELS_CASUS, DUWTJE, None, partition=partition_for(u.key, partities, []))]
            if u.key.startswith(b"hkp:"):
                duwtjes.append(Output(KNELPUNTEN, DUWTJE, None, partition=0))
            return duwtjes
        return [u] if u.topic.startswith("routes.") else []

    async def _duw(self) -> None:
        nu = self.clock()
        klaar = [u for t, u in self._duwtjes if t <= nu]
        if klaar:
            self._duwtjes = [(t, u) for t, u in self._duwtjes if t > nu]
            await self._schrijf(klaar, {}, plan=False)

    async def _schrijf(
        self, uit: list[Output], offsets: dict[TopicPartition, int], plan: bool = True
    ) -> None:
        producer = await self._neem_over()
        if plan:
            self._plan_duwtjes(uit)
        async with producer.transaction():
            futures = [
                await producer.send(
                    u.topic, u.value, key=u.key, headers=list(u.headers), partition=u.partition
                )
                for u in uit
            ]
            await asyncio.gather(*futures)
            if offsets:
                await producer.send_offsets_to_transaction(offsets, self.group_id)
