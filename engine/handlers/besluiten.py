"""Besluiten: the single writer of each casus, HKP and ondermijningsbeeld.

Commands arrive keyed by aggregate, so one partition — one worker, in order — decides for each
aggregate: no locks. Its events go to `engine.gebeurtenissen` on the same partition (the log the
state is rebuilt from), HKP events also to `engine.knelpunten` for every worker's register, and the
consequences for matching: identifiers into the open-casus index, links to the signals' partitions,
a closed casus to every index partition.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial

from aiokafka import ConsumerRecord, TopicPartition

from engine import identificatoren
from engine.casus import Aggregaat, al_verwerkt, beslis, pas_toe
from engine.errors import Weigering
from engine.events.casus import (
    GEBEURTENIS_DECODER,
    GEBEURTENIS_ENCODER,
    OPDRACHT_ONTVANGEN_DECODER,
    CasusAfgesloten,
    CasusGeopend,
    Gebeurtenis,
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
    OpdrachtOntvangen,
    SignaalGekoppeld,
)
from engine.events.matching import ZOEKINDEX_ENCODER, CasusGesloten, IdentificatorToegevoegd
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER, KoppelingGevraagd
from engine.handlers.herstel import herstel_partitie
from engine.handlers.ingress import herkomst_headers
from engine.handlers.stage import Bron, Uitvoer
from engine.metrics import Metrics
from engine.topics import DLQ, GEBEURTENISSEN, KANDIDATEN, KNELPUNTEN, OPDRACHTEN_KANDIDATEN, ZOEKINDEX

log = logging.getLogger(__name__)

BRON = Bron(topics=(OPDRACHTEN_KANDIDATEN,))


def _koppeling(signaal_id: str, casus_id: str, riec: str) -> Uitvoer:
    verzoek = KoppelingGevraagd(signaal_id=signaal_id, casus_id=casus_id, riec=riec)
    return Uitvoer(KANDIDATEN, signaal_id.encode(), SIGNAAL_LOG_ENCODER.encode(verzoek))


def gevolgen(g: Gebeurtenis, zoekindex_partities: int) -> Iterator[Uitvoer]:
    """What an event means beyond its own log: the HKP register and the open-casus index."""
    match g:
        case HandhavingsknelpuntAangewezen() | HandhavingsknelpuntBeeindigd():
            yield Uitvoer(KNELPUNTEN, g.hkp_id.encode(), GEBEURTENIS_ENCODER.encode(g), partition=0)
        case CasusGeopend():
            for ident in identificatoren.van_subjecten(g.subjecten):
                toegevoegd = IdentificatorToegevoegd(identificator=ident, casus_id=g.casus_id, riec=g.riec)
                yield Uitvoer(ZOEKINDEX, ident.encode(), ZOEKINDEX_ENCODER.encode(toegevoegd))
            for signaal_id in g.signalen:
                yield _koppeling(signaal_id, g.casus_id, g.riec)
        case SignaalGekoppeld():
            yield _koppeling(g.signaal_id, g.casus_id, g.riec)
        case CasusAfgesloten():
            gesloten = ZOEKINDEX_ENCODER.encode(CasusGesloten(casus_id=g.casus_id))
            for p in range(zoekindex_partities):
                yield Uitvoer(ZOEKINDEX, g.casus_id.encode(), gesloten, partition=p)


def _herstel(aggregaten: dict[str, Aggregaat], record: ConsumerRecord[bytes, bytes]) -> None:
    """Fold one event of the log into its aggregate (restoring a partition's state)."""
    key = record.key.decode()
    nieuw = pas_toe(aggregaten.get(key), GEBEURTENIS_DECODER.decode(record.value))
    if nieuw is not None:
        aggregaten[key] = nieuw


class Besluiten:
    """Decides each command against its aggregate's state."""

    name = "besluiten"

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        zoekindex_partities: int,
        metrics: Metrics,
        klok: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.zoekindex_partities = zoekindex_partities
        self.metrics = metrics
        self.klok = klok
        self._aggregaten: dict[int, dict[str, Aggregaat]] = {}

    async def voorbereiden(self, partitions: set[TopicPartition]) -> None:
        for tp in sorted(partitions):
            if tp.partition not in self._aggregaten:
                aggregaten: dict[str, Aggregaat] = {}
                await herstel_partitie(
                    self.bootstrap_servers,
                    TopicPartition(GEBEURTENISSEN, tp.partition),
                    partial(_herstel, aggregaten),
                    stage=self.name,
                    metrics=self.metrics,
                )
                self._aggregaten[tp.partition] = aggregaten
                log.info("besluiten: partition %d holds %d aggregates", tp.partition, len(aggregaten))

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self._aggregaten.pop(tp.partition, None)

    def verwerk(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Uitvoer]:
        aggregaten = self._aggregaten[record.partition]
        opdracht = OPDRACHT_ONTVANGEN_DECODER.decode(record.value)
        soort = opdracht.ce_type.removeprefix("nl.riec.").removesuffix(".v1")
        aggregaat = aggregaten.get(opdracht.aggregaat)
        if al_verwerkt(aggregaat, opdracht.opdracht_id):
            self.metrics.commands.labels(soort, "duplicate").inc()
            return
        nu = self.klok()
        try:
            gebeurtenissen = beslis(aggregaat, opdracht, nu)
        except Weigering as weigering:
            self.metrics.commands.labels(soort, "refused").inc()
            self.metrics.refused.labels(weigering.code).inc()
            yield self._weiger(record, opdracht, weigering, nu)
            return
        self.metrics.commands.labels(soort, "applied" if gebeurtenissen else "unchanged").inc()
        for g in gebeurtenissen:
            nieuw = pas_toe(aggregaat, g)
            if nieuw is not None:
                aggregaten[opdracht.aggregaat] = aggregaat = nieuw
            yield Uitvoer(
                GEBEURTENISSEN, record.key, GEBEURTENIS_ENCODER.encode(g), partition=record.partition
            )
            yield from gevolgen(g, self.zoekindex_partities)

    def _weiger(
        self, record: ConsumerRecord[bytes, bytes], o: OpdrachtOntvangen, weigering: Weigering, nu: datetime
    ) -> Uitvoer:
        log.info(
            "besluiten: refused %s from %s[%d]@%d: %s",
            o.ce_type,
            o.bron_topic,
            o.bron_partitie,
            o.bron_offset,
            weigering.code,
        )
        bron = (o.bron_topic, o.bron_partitie, o.bron_offset, o.bron_timestamp)
        herkomst = herkomst_headers(weigering, bron, nu, value_form="pseudonymised")
        headers = [("ce_id", o.opdracht_id.split(":", 1)[1].encode()), ("ce_type", o.ce_type.encode())]
        return Uitvoer(DLQ, record.key, record.value, [*headers, *herkomst])
