"""Zoekindex: one stage owns the open-casus index, partitioned by identifier.

Index changes and routing slips arrive on the same topic keyed by identifier, so on each partition
a slip sees every index change appended before it. A slip takes the matches of its first
identifier (each casus once, capped: `engine.casusindex.kies`) and moves on to the partition of the
next; after the last it is routed here. Every
index change is written to the compacted changelog `engine.casusindex` on the same partition, in the
same transaction, and read back when a partition is assigned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial

import msgspec
from aiokafka import ConsumerRecord, TopicPartition

from engine.casusindex import CasusIndex, kies
from engine.events.matching import (
    ZOEKINDEX_DECODER,
    ZOEKINDEX_ENCODER,
    CasusGesloten,
    IdentificatorToegevoegd,
)
from engine.handlers.herstel import herstel_partitie
from engine.handlers.routeren import Routeren
from engine.handlers.stage import Bron, Uitvoer
from engine.metrics import Metrics
from engine.settings import KafkaConnection
from engine.topics import CASUSINDEX, ZOEKINDEX

log = logging.getLogger(__name__)

BRON = Bron(topics=(ZOEKINDEX,))
_GESLOTEN = "gesloten:"
_STAND = msgspec.json.Decoder(dict[str, str])


def _changelog(index: CasusIndex, identificator: str, partition: int) -> Uitvoer:
    stand = index.stand(identificator)
    value = msgspec.json.encode(stand) if stand else None  # None: a tombstone, compacted away
    return Uitvoer(CASUSINDEX, identificator.encode(), value, partition=partition)


def _herstel(index: CasusIndex, record: ConsumerRecord[bytes, bytes]) -> None:
    """Fold one changelog record into the index (restoring a partition's state)."""
    key = record.key.decode()
    if key.startswith(_GESLOTEN):
        index.herstel_gesloten(key.removeprefix(_GESLOTEN))
    else:
        index.herstel(key, _STAND.decode(record.value) if record.value else {})


class Zoekindex:
    """Keeps the index and moves routing slips along."""

    name = "zoekindex"

    def __init__(self, *, kafka: KafkaConnection, routeren: Routeren, metrics: Metrics | None = None) -> None:
        self.kafka = kafka
        self.routeren = routeren
        self.metrics = metrics
        self._index: dict[int, CasusIndex] = {}

    def identificatoren(self) -> int:
        """How many identifiers this worker's partitions hold (for the gauge)."""
        return sum(len(i) for i in self._index.values())

    async def voorbereiden(self, partitions: set[TopicPartition]) -> None:
        await self.routeren.bijwerken()
        for tp in sorted(partitions):
            if tp.partition not in self._index:
                index = CasusIndex()
                await herstel_partitie(
                    self.kafka,
                    TopicPartition(CASUSINDEX, tp.partition),
                    partial(_herstel, index),
                    stage=self.name,
                    metrics=self.metrics,
                )
                self._index[tp.partition] = index
                log.info("zoekindex: partition %d holds %d identifiers", tp.partition, len(index))

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self._index.pop(tp.partition, None)

    def verwerk(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Uitvoer]:
        index = self._index[record.partition]
        bericht = ZOEKINDEX_DECODER.decode(record.value)
        match bericht:
            case IdentificatorToegevoegd(identificator=ident, casus_id=casus_id, riec=riec):
                if index.voeg_toe(ident, casus_id, riec):
                    yield _changelog(index, ident, record.partition)
            case CasusGesloten(casus_id=casus_id):
                for ident in index.sluit(casus_id):
                    yield _changelog(index, ident, record.partition)
                yield Uitvoer(CASUSINDEX, f"{_GESLOTEN}{casus_id}".encode(), b"1", partition=record.partition)
            case _:
                nieuw, begrensd = kies(index.kandidaten(bericht.te_zoeken[0]), bericht.matches)
                verder = msgspec.structs.replace(
                    bericht,
                    te_zoeken=bericht.te_zoeken[1:],
                    matches=[*bericht.matches, *nieuw],
                    begrensd=bericht.begrensd or begrensd,
                )
                if verder.te_zoeken:
                    yield Uitvoer(ZOEKINDEX, verder.te_zoeken[0].encode(), ZOEKINDEX_ENCODER.encode(verder))
                else:
                    yield from self.routeren.routes(verder)
