"""Vastleggen: de-duplicate accepted signals on `<org>:<ce_id>`, append each once to the log, and
start its routing slip (or route it at once when it has no identifiers to look up); resolve casus
links to signals (known now, or when they arrive).

The state — per signal id its identifiers, and links waiting for a signal not yet seen — is
derived from the log itself: before the first batch of a partition, the same partition of
`engine.signalen` is read back. The log partition of an id is the candidates partition it arrived
on, so the log is its own changelog and nothing else must be kept in step with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from aiokafka import ConsumerRecord, TopicPartition

from engine import identificatoren
from engine.events.matching import ZOEKINDEX_ENCODER, IdentificatorToegevoegd, Routebriefje
from engine.events.signaal_ontvangen import (
    SIGNAAL_LOG_DECODER,
    KoppelingGevraagd,
    SignaalOntvangen,
)
from engine.handlers.herstel import herstel_partitie
from engine.handlers.routeren import Routeren
from engine.handlers.stage import Bron, Uitvoer
from engine.metrics import Metrics
from engine.reference import partnergroep
from engine.topics import KANDIDATEN, SIGNAAL_LOG, ZOEKINDEX

log = logging.getLogger(__name__)

BRON = Bron(topics=(KANDIDATEN,))


class _Partitie:
    """What vastleggen knows of one partition's signals."""

    def __init__(self) -> None:
        self.signalen: dict[str, list[str]] = {}
        """signaal_id → its identifiers."""
        self.wachtend: dict[str, list[KoppelingGevraagd]] = {}
        """signaal_id (not seen yet) → links waiting for it."""

    def pas_toe(self, record: SignaalOntvangen | KoppelingGevraagd) -> None:
        if isinstance(record, SignaalOntvangen):
            self.signalen[record.signaal_id] = identificatoren.van_signaal(record)
            self.wachtend.pop(record.signaal_id, None)
        else:
            self.wachtend.setdefault(record.signaal_id, []).append(record)

    def herstel(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Fold one record of the signal log (restoring the partition's state)."""
        self.pas_toe(SIGNAAL_LOG_DECODER.decode(record.value))


def _toevoegingen(koppeling: KoppelingGevraagd, ids: list[str]) -> Iterator[Uitvoer]:
    for ident in ids:
        toegevoegd = IdentificatorToegevoegd(
            identificator=ident, casus_id=koppeling.casus_id, riec=koppeling.riec
        )
        yield Uitvoer(ZOEKINDEX, ident.encode(), ZOEKINDEX_ENCODER.encode(toegevoegd))


class Vastleggen:
    """Appends a candidate to the signal log unless its id is already there."""

    name = "vastleggen"

    def __init__(self, *, bootstrap_servers: str, routeren: Routeren, metrics: Metrics) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.routeren = routeren
        self.metrics = metrics
        self._partities: dict[int, _Partitie] = {}

    async def voorbereiden(self, partitions: set[TopicPartition]) -> None:
        await self.routeren.bijwerken()
        for tp in sorted(partitions):
            if tp.partition not in self._partities:
                partitie = _Partitie()
                await herstel_partitie(
                    self.bootstrap_servers,
                    TopicPartition(SIGNAAL_LOG, tp.partition),
                    partitie.herstel,
                    stage=self.name,
                    metrics=self.metrics,
                )
                self._partities[tp.partition] = partitie
                log.info("vastleggen: partition %d holds %d signals", tp.partition, len(partitie.signalen))

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self._partities.pop(tp.partition, None)

    def verwerk(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Uitvoer]:
        partitie = self._partities[record.partition]
        kandidaat = SIGNAAL_LOG_DECODER.decode(record.value)
        if isinstance(kandidaat, KoppelingGevraagd):
            ids = partitie.signalen.get(kandidaat.signaal_id)
            if ids is not None:
                yield from _toevoegingen(kandidaat, ids)
            else:  # the signal is not here yet: keep the link on the log until it is
                partitie.pas_toe(kandidaat)
                yield Uitvoer(SIGNAAL_LOG, record.key, record.value, partition=record.partition)
            return
        groep = partnergroep(kandidaat.bron)
        if kandidaat.signaal_id in partitie.signalen:
            self.metrics.duplicates.labels(groep).inc()
            return
        wachtend = partitie.wachtend.get(kandidaat.signaal_id, [])
        partitie.pas_toe(kandidaat)
        ids = partitie.signalen[kandidaat.signaal_id]
        self.metrics.accepted.labels(groep).inc()
        yield Uitvoer(SIGNAAL_LOG, record.key, record.value, partition=record.partition)
        yield from self._routebriefje(kandidaat, ids)
        for koppeling in wachtend:
            yield from _toevoegingen(koppeling, ids)

    def _routebriefje(self, signaal: SignaalOntvangen, ids: list[str]) -> Iterator[Uitvoer]:
        """A signal's first step to routing: to its first identifier's index partition, or routed."""
        briefje = Routebriefje(signaal=signaal, te_zoeken=ids)
        if ids:
            yield Uitvoer(ZOEKINDEX, ids[0].encode(), ZOEKINDEX_ENCODER.encode(briefje))
        else:
            yield from self.routeren.routes(briefje)
