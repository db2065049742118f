"""Zoekindex: the single writer of the open-casus index, partitioned by identifier.

Index changes (an identifier joins an open casus; a casus closes) arrive keyed by identifier; each
is applied to the partition's state and the identifier's new entry written to the compacted
changelog `engine.casusindex` on the same partition, in the same transaction. That changelog is
read back when a partition is assigned, and every routing worker reads all of it as its copy of the
whole index (`engine.kafka.tables`), so signals never pass through this stage.

Routing slips (the design before that: a signal visited the partition of each identifier) are still
moved along and routed, so an upgrade with slips in flight loses none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import msgspec
from aiokafka import ConsumerRecord

from engine.domain.casusindex import CasusIndex, kies
from engine.events.matching import (
    STAND_ENCODER,
    ZOEKINDEX_DECODER,
    ZOEKINDEX_ENCODER,
    BijdrageIngetrokken,
    CasusGesloten,
    IdentificatorGewist,
    IdentificatorToegevoegd,
)
from engine.kafka.routeren import Routeren
from engine.kafka.stage import Output, Source
from engine.kafka.state import Handler, LogReader, PartitionState
from engine.kafka.tables import GESLOTEN, INGETROKKEN, restore_index
from engine.metrics import Metrics
from engine.topics import CASUSINDEX, ZOEKINDEX

log = logging.getLogger(__name__)

SOURCE = Source(topics=(ZOEKINDEX,))


def _changelog(index: CasusIndex, identificator: str, partition: int) -> Output:
    stand = index.stand(identificator)
    value = STAND_ENCODER.encode(stand) if stand else None  # None: a tombstone, compacted away
    return Output(CASUSINDEX, identificator.encode(), value, partition=partition)


class Zoekindex(Handler):
    """Keeps the index and moves routing slips along."""

    name = "zoekindex"
    state: PartitionState[CasusIndex]

    def __init__(self, *, log_reader: LogReader, routeren: Routeren, metrics: Metrics | None = None) -> None:
        self.routeren = routeren
        self.state = PartitionState(
            stage=self.name,
            log_topic=CASUSINDEX,
            reader=log_reader,
            new=CasusIndex,
            fold=restore_index,
            size=len,
            metrics=metrics,
        )

    async def before_batch(self) -> None:
        await self.routeren.refresh()  # for slips of the partitioned design: the HKP register

    def process(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Output]:
        index = self.state[record.partition]
        bericht = ZOEKINDEX_DECODER.decode(record.value)
        match bericht:
            case IdentificatorToegevoegd(identificator=ident, casus_id=casus_id, riec=riec):
                if index.voeg_toe(ident, casus_id, riec, bericht.signaal_id):
                    yield _changelog(index, ident, record.partition)
            case BijdrageIngetrokken(signaal_id=signaal_id):
                for ident in index.trek_in(signaal_id):
                    yield _changelog(index, ident, record.partition)
                # Remembered (a restore too), so that what the signal brings later is not added.
                marker = f"{INGETROKKEN}{signaal_id}".encode()
                yield Output(CASUSINDEX, marker, b"1", partition=record.partition)
            case IdentificatorGewist(identificator=ident):
                if index.wis(ident):
                    yield _changelog(index, ident, record.partition)
            case CasusGesloten(casus_id=casus_id):
                for ident in index.sluit(casus_id):
                    yield _changelog(index, ident, record.partition)
                yield Output(CASUSINDEX, f"{GESLOTEN}{casus_id}".encode(), b"1", partition=record.partition)
            case _:
                nieuw, begrensd = kies(index.kandidaten(bericht.te_zoeken[0]), bericht.matches)
                verder = msgspec.structs.replace(
                    bericht,
                    te_zoeken=bericht.te_zoeken[1:],
                    matches=[*bericht.matches, *nieuw],
                    begrensd=bericht.begrensd or begrensd,
                )
                if verder.te_zoeken:
                    yield Output(ZOEKINDEX, verder.te_zoeken[0].encode(), ZOEKINDEX_ENCODER.encode(verder))
                else:
                    yield from self.routeren.routes(verder)
