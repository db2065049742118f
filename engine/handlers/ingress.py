"""Ingress: every partner topic → accepted signals (to be de-duplicated) or `dlq.ingress`.

The only handler that sees raw BSNs. It logs and counts refusals by code and Kafka coordinates,
never by content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from aiokafka import ConsumerRecord, TopicPartition

from engine.errors import Weigering
from engine.events.headers import DlqHerkomst, kafka_headers
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER
from engine.handlers.stage import Bron, Uitvoer
from engine.ingress.acceptatie import PARTNER_TOPIC, Beleid, PartnerBericht, accepteer
from engine.ingress.pseudonimisering import Pseudonimiseerder
from engine.metrics import Metrics
from engine.reference import Gebiedsindeling
from engine.topics import DLQ, KANDIDATEN

log = logging.getLogger(__name__)

BRON = Bron(pattern=PARTNER_TOPIC.pattern)


def dlq_bericht(record: ConsumerRecord[bytes, bytes], weigering: Weigering, nu: datetime) -> Uitvoer:
    """The refused message as it came (key, headers, bytes) plus where it came from and why."""
    herkomst = DlqHerkomst(
        reason=weigering.reden,
        reason_code=weigering.code,
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        source_timestamp=record.timestamp,
        refused_at=nu,
    )
    return Uitvoer(DLQ, record.key, record.value, [*record.headers, *kafka_headers(herkomst)])


class Ingress:
    """Accepts or refuses each partner message; a refusal never stops the stream."""

    name = "ingress"

    def __init__(
        self,
        *,
        gebied: Gebiedsindeling,
        pseudo: Pseudonimiseerder,
        beleid: Beleid,
        metrics: Metrics,
        klok: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.gebied = gebied
        self.pseudo = pseudo
        self.beleid = beleid
        self.metrics = metrics
        self.klok = klok

    async def voorbereiden(self, partitions: set[TopicPartition]) -> None:
        pass

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        pass

    def verwerk(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Uitvoer]:
        nu = self.klok()
        bericht = PartnerBericht(record.topic, record.headers, record.value, record.timestamp)
        try:
            signaal = accepteer(bericht, gebied=self.gebied, pseudo=self.pseudo, beleid=self.beleid, nu=nu)
        except Weigering as weigering:
            yield self._weiger(record, weigering, nu)
            return
        except Exception as e:  # a bug must not stop the stream nor lose the message
            log.exception(
                "ingress: internal error on %s[%d]@%d",
                record.topic,
                record.partition,
                record.offset,
            )
            fout = Weigering(
                "internal_error",
                f"the engine failed on this message ({type(e).__name__}); it is kept here for replay",
            )
            yield self._weiger(record, fout, nu)
            return
        yield Uitvoer(KANDIDATEN, signaal.signaal_id.encode(), SIGNAAL_LOG_ENCODER.encode(signaal))

    def _weiger(self, record: ConsumerRecord[bytes, bytes], weigering: Weigering, nu: datetime) -> Uitvoer:
        self.metrics.refused.labels(weigering.code).inc()
        log.info(
            "ingress: refused %s[%d]@%d: %s",
            record.topic,
            record.partition,
            record.offset,
            weigering.code,
        )
        return dlq_bericht(record, weigering, nu)
