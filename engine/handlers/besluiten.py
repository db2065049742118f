"""Besluiten: the single writer of each casus, HKP and ondermijningsbeeld.

Commands arrive keyed by aggregate, so one partition — one worker, in order — decides for each
aggregate: no locks. Its events go to `engine.gebeurtenissen` on the same partition (the log the
state is rebuilt from), HKP events also to `engine.knelpunten` for every worker's register, and the
consequences for matching: identifiers into the open-casus index, links to the signals' partitions,
a closed casus to every index partition. Vastleggen's decision on each link comes back here
(`KoppelingBeslist`) to be recorded on the casus; a refused or expired one also goes to the DLQ.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeAlias

from aiokafka import ConsumerRecord

from engine.domain import koppelingen
from engine.domain.casus import Aggregaat, al_beslist, al_verwerkt, beslis, pas_toe
from engine.domain.gevolgen import Gevolg, gevolgen
from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.sleutels import Sleutelring
from engine.errors import Weigering
from engine.events.casus import (
    BESLUIT_INVOER_DECODER,
    GEBEURTENIS_DECODER,
    GEBEURTENIS_ENCODER,
    AggregaatVergeten,
    Gebeurtenis,
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
    OpdrachtOntvangen,
    VergeetAggregaat,
)
from engine.events.matching import ZOEKINDEX_ENCODER, CasusGesloten, IdentificatorToegevoegd
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER, KoppelingBeslist, KoppelingGevraagd
from engine.kafka.stage import Source
from engine.kafka.state import Handler, LogReader, PartitionState
from engine.kafka.topology import Address, DataSleutel, Log, Topology, Weigeringsbericht, dlq_address
from engine.metrics import Metrics
from engine.topics import (
    DLQ,
    GEBEURTENISSEN,
    KANDIDATEN,
    KNELPUNTEN,
    OPDRACHTEN_KANDIDATEN,
    SLEUTELS_CASUS,
    ZOEKINDEX,
    opdrachten_topic,
)

log = logging.getLogger(__name__)

SOURCE = Source(topics=(OPDRACHTEN_KANDIDATEN,))
_UITKOMST = {"bevestigd": "link_confirmed", "geweigerd": "link_refused", "verlopen": "link_expired"}
"""A link's outcome as the `outcome` label of riec_commands_total."""


def _hkp_sleutel(g: Gebeurtenis) -> bytes:
    # An HKP forgotten has the same key as its records: compaction leaves it in their place.
    if isinstance(g, AggregaatVergeten):
        return g.aggregaat.removeprefix("hkp:").encode()
    return g.hkp_id.encode()  # type: ignore[union-attr]  # only HKP events are mapped here


def _sleutel_address(topic: str) -> Address:
    return Address(topic, key=lambda s: s.sleutel_id.encode(), value=lambda s: s.verpakt, partition="input")


def topology(zoekindex_partities: int) -> Topology:
    """Besluiten's wiring: its own log is the casus log (events sealed, keyed as the input), their
    keys go to the key store beside it, HKP events to the register, identifiers and closed casussen
    to the index (a closed casus to each of its partitions), links to the signals' partitions for
    vastleggen, refusals to dlq.ingress."""
    hkp = Address(KNELPUNTEN, key=_hkp_sleutel, value=GEBEURTENIS_ENCODER.encode, partition=0)
    return Topology(
        stage="besluiten",
        inputs=(OPDRACHTEN_KANDIDATEN,),
        log=Address(GEBEURTENISSEN, value=GEBEURTENIS_ENCODER.encode, partition="input"),
        addresses={
            DataSleutel: _sleutel_address(SLEUTELS_CASUS),
            HandhavingsknelpuntAangewezen: hkp,
            HandhavingsknelpuntBeeindigd: hkp,
            AggregaatVergeten: hkp,
            IdentificatorToegevoegd: Address(
                ZOEKINDEX, key=lambda t: t.identificator.encode(), value=ZOEKINDEX_ENCODER.encode
            ),
            CasusGesloten: Address(
                ZOEKINDEX, key=lambda c: c.casus_id.encode(), value=ZOEKINDEX_ENCODER.encode, partition="all"
            ),
            KoppelingGevraagd: Address(
                KANDIDATEN, key=lambda k: k.signaal_id.encode(), value=SIGNAAL_LOG_ENCODER.encode
            ),
            Weigeringsbericht: dlq_address(DLQ),
        },
        partitions=zoekindex_partities,
    )


Bericht: TypeAlias = Log | DataSleutel | Gevolg | Weigeringsbericht


@dataclass(slots=True)
class Besluitpartitie:
    """One partition's aggregates by key (`casus:<id>`, `hkp:<id>`, `beeld:<id>`) and their data
    keys: besluiten seals every event it writes with personal fields under its aggregate's key."""

    ring: Sleutelring
    aggregaten: dict[str, Aggregaat] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.aggregaten)


def _herstel(partitie: Besluitpartitie, record: ConsumerRecord[bytes, bytes]) -> None:
    """Fold one record of the key store, then of the event log (restoring a partition's state)."""
    key = record.key.decode()
    if record.topic == SLEUTELS_CASUS:
        partitie.ring.herstel(key, record.value)
        return
    nieuw = pas_toe(partitie.aggregaten.get(key), GEBEURTENIS_DECODER.decode(record.value))
    if nieuw is not None:
        partitie.aggregaten[key] = nieuw


class Besluiten(Handler):
    """Decides each command against its aggregate's state."""

    name = "besluiten"
    state: PartitionState[Besluitpartitie]

    def __init__(
        self,
        *,
        log_reader: LogReader,
        zoekindex_partities: int,
        metrics: Metrics,
        hoofdsleutel: bytes,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.zoekindex_partities = zoekindex_partities
        self.topology = topology(zoekindex_partities)
        self.metrics = metrics
        self.clock = clock
        self.state = PartitionState[Besluitpartitie](
            stage=self.name,
            log_topic=GEBEURTENISSEN,
            read_first=(SLEUTELS_CASUS,),
            reader=log_reader,
            new=lambda: Besluitpartitie(Sleutelring(hoofdsleutel)),
            fold=_herstel,
            size=len,
            metrics=metrics,
        )

    def verwerk(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Bericht]:
        partitie = self.state[record.partition]
        aggregaten = partitie.aggregaten
        opdracht = BESLUIT_INVOER_DECODER.decode(record.value)
        if isinstance(opdracht, KoppelingBeslist):
            yield from self._koppeling_beslist(record, partitie, opdracht)
            return
        if isinstance(opdracht, VergeetAggregaat):
            yield from self._vergeet(partitie, opdracht)
            return
        soort = opdracht.ce_type.removeprefix("nl.riec.").removesuffix(".v1")
        aggregaat = aggregaten.get(opdracht.aggregaat)
        if al_verwerkt(aggregaat, opdracht.opdracht_id):
            self.metrics.commands.labels(soort, "duplicate").inc()
            return
        nu = self.clock()
        try:
            gebeurtenissen = beslis(aggregaat, opdracht, nu)
        except Weigering as weigering:
            self.metrics.commands.labels(soort, "refused").inc()
            self.metrics.refused.labels(weigering.code, opdracht.bron_topic).inc()
            yield self._weiger(record, opdracht, weigering, nu)
            return
        self.metrics.commands.labels(soort, "applied" if gebeurtenissen else "unchanged").inc()
        for g in gebeurtenissen:
            nieuw = pas_toe(aggregaat, g)
            if nieuw is not None:
                aggregaten[opdracht.aggregaat] = aggregaat = nieuw
            yield from self._log(partitie, g)
            yield from gevolgen(g, opdracht)

    def _log(self, partitie: Besluitpartitie, g: Gebeurtenis) -> Iterator[Bericht]:
        """The event on its log, its personal fields sealed; an aggregate's first event comes with its
        new data key, before it and in the same transaction: no reader meets one without the other."""
        if verzegeling.opent_aggregaat(g):
            sleutel = verzegeling.aggregaat_van(g)
            yield DataSleutel(sleutel, partitie.ring.nieuw(sleutel))
        yield Log(verzegeling.verzegel_gebeurtenis(g, partitie.ring))

    def _vergeet(self, partitie: Besluitpartitie, v: VergeetAggregaat) -> Iterator[Bericht]:
        """Destroy an aggregate's data key (the executor of forgetting asks): a tombstone on the key
        store and `AggregaatVergeten` on its log, for the read models and the HKP register. Nothing
        when the aggregate is unknown or already forgotten (a request read again)."""
        aggregaat = partitie.aggregaten.get(v.aggregaat)
        if aggregaat is None or v.aggregaat not in partitie.ring:
            self.metrics.commands.labels("aggregaat.vergeten", "unchanged").inc()
            return
        partitie.ring.herstel(v.aggregaat, None)
        yield DataSleutel(v.aggregaat, None)
        nu = self.clock()
        g = AggregaatVergeten(
            opdracht_id=f"vergeten:{v.waarom}", riec=aggregaat.riec, tijd=v.op, vastgelegd_op=nu,
            aggregaat=v.aggregaat, grond=v.grond,
        )  # fmt: skip
        nieuw = pas_toe(aggregaat, g)
        if nieuw is not None:
            partitie.aggregaten[v.aggregaat] = nieuw
        self.metrics.commands.labels("aggregaat.vergeten", "applied").inc()
        yield from self._log(partitie, g)
        yield from gevolgen(g)

    def _koppeling_beslist(
        self, record: ConsumerRecord[bytes, bytes], partitie: Besluitpartitie, b: KoppelingBeslist
    ) -> Iterator[Bericht]:
        """Record vastleggen's decision on a link as a casus event; a refusal also goes to the DLQ."""
        aggregaten = partitie.aggregaten
        aggregaat = aggregaten.get(record.key.decode())
        soort = b.koppeling.ce_type.removeprefix("nl.riec.").removesuffix(".v1") or "casus.koppeling"
        if al_beslist(aggregaat, b.koppeling.opdracht_id, b.koppeling.signaal_id):
            self.metrics.commands.labels(soort, "duplicate").inc()
            return
        nu = self.clock()
        g = koppelingen.gebeurtenis(b, nu)
        nieuw = pas_toe(aggregaat, g)
        if nieuw is not None:
            aggregaten[record.key.decode()] = nieuw
        yield from self._log(partitie, g)
        self.metrics.commands.labels(soort, _UITKOMST[b.uitkomst]).inc()
        if b.uitkomst == "bevestigd":
            return
        k = b.koppeling
        self.metrics.refused.labels(b.reden_code, opdrachten_topic(k.riec)).inc()
        log.info("besluiten: link refused (%s), command at offset %d", b.reden_code, k.bron_offset)
        yield Weigeringsbericht(
            key=record.key,
            value=GEBEURTENIS_ENCODER.encode(g),  # no personal field: a link's outcome names ids only
            weigering=Weigering(b.reden_code, b.reden),
            herkomst=(opdrachten_topic(k.riec), k.bron_partitie, k.bron_offset, k.bron_timestamp),
            value_form="besluit",
            ce_id=k.opdracht_id.split(":", 1)[-1],
            ce_type=k.ce_type,
            op=nu,
        )

    def _weiger(
        self, record: ConsumerRecord[bytes, bytes], o: OpdrachtOntvangen, weigering: Weigering, nu: datetime
    ) -> Weigeringsbericht:
        log.info(
            "besluiten: refused %s from %s[%d]@%d: %s",
            o.ce_type,
            o.bron_topic,
            o.bron_partitie,
            o.bron_offset,
            weigering.code,
        )
        return Weigeringsbericht(
            key=record.key,
            value=record.value,
            weigering=weigering,
            herkomst=(o.bron_topic, o.bron_partitie, o.bron_offset, o.bron_timestamp),
            value_form="pseudonymised",
            ce_id=o.opdracht_id.split(":", 1)[1],
            ce_type=o.ce_type,
            op=nu,
        )
