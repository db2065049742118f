"""Routeren: every signal whose routing slip is complete → one routed message per destination."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from aiokafka import ConsumerRecord, TopicPartition

from engine.events.envelope import CloudEventHeaders
from engine.events.headers import kafka_headers
from engine.events.matching import ROUTEBRIEFJE_DECODER
from engine.events.route import ROUTE_ENCODER, ROUTE_SOURCE, ROUTE_TYPE, GerouteerdSignaal
from engine.handlers.knelpunten import KnelpuntenLezer
from engine.handlers.stage import Bron, Uitvoer
from engine.metrics import Metrics
from engine.reference import Gebiedsindeling
from engine.routing import route, topic_van
from engine.topics import GEMATCHT

BRON = Bron(topics=(GEMATCHT,))


class Routeren:
    """Decides and writes the routes of each signal, as of the HKPs and casussen known now."""

    name = "routeren"

    def __init__(
        self,
        *,
        gebied: Gebiedsindeling,
        knelpunten: KnelpuntenLezer,
        metrics: Metrics,
        klok: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.gebied = gebied
        self.knelpunten = knelpunten
        self.metrics = metrics
        self.klok = klok

    async def voorbereiden(self, partitions: set[TopicPartition]) -> None:
        await self.knelpunten.bijwerken()

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        pass

    def verwerk(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Uitvoer]:
        briefje = ROUTEBRIEFJE_DECODER.decode(record.value)
        signaal = briefje.signaal
        nu = self.klok()
        hkps = self.knelpunten.register.matches(signaal)
        for r in route(signaal, self.gebied, hkps, briefje.matches):
            bericht = GerouteerdSignaal.van(signaal, r.bestemming, list(r.redenen), besloten_op=nu)
            headers = kafka_headers(
                CloudEventHeaders(
                    specversion="1.0",
                    id=f"{signaal.signaal_id}/{r.bestemming}",
                    source=ROUTE_SOURCE,
                    type=ROUTE_TYPE,
                    time=nu,
                    datacontenttype="application/json",
                )
            )
            yield Uitvoer(topic_van(r.bestemming), record.key, ROUTE_ENCODER.encode(bericht), headers)
            self.metrics.routed.labels(r.bestemming).inc()
        self.metrics.routing_latency.observe(max(0.0, (nu - signaal.aangeboden_op).total_seconds()))
