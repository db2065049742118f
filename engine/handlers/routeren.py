"""Routeren: a signal whose routing slip is complete → one routed message per destination, and its
destinations written back to its own partition (`SignaalGerouteerd`, for vastleggen's link checks).

Not a stage of its own: the stage that completes a slip routes it in the same transaction
(zoekindex after a signal's last identifier, vastleggen for a signal without identifiers). A
separate stage cost every signal one more consume, produce and commit: 25% of the engine's
throughput and about 100 ms of latency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from engine.casusindex import MAX_MATCHES_PER_SIGNAAL, kies
from engine.events.envelope import CloudEventHeaders
from engine.events.headers import kafka_headers
from engine.events.matching import Routebriefje
from engine.events.route import ROUTE_ENCODER, ROUTE_SOURCE, ROUTE_TYPE, GerouteerdSignaal
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER, SignaalGerouteerd
from engine.handlers.knelpunten import KnelpuntenLezer
from engine.handlers.stage import Uitvoer
from engine.metrics import Metrics
from engine.reference import Gebiedsindeling
from engine.routing import route, topic_van
from engine.topics import KANDIDATEN


class Routeren:
    """Decides and writes the routes of each signal, as of the HKPs and casussen known now."""

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

    async def bijwerken(self) -> None:
        """Before each batch: every HKP designated or ended before it counts ("as of" the batch)."""
        await self.knelpunten.bijwerken()

    def routes(self, briefje: Routebriefje) -> Iterator[Uitvoer]:
        signaal = briefje.signaal
        nu = self.klok()
        hkps = self.knelpunten.register.matches(signaal)
        key = signaal.signaal_id.encode()
        # Capped again here too, for slips written before the caps (or by a bug): never a crash.
        matches, begrensd = kies(briefje.matches, max_nieuw=MAX_MATCHES_PER_SIGNAAL)
        routes = route(signaal, self.gebied, hkps, matches, casussen_begrensd=briefje.begrensd or begrensd)
        for r in routes:
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
            yield Uitvoer(topic_van(r.bestemming), key, ROUTE_ENCODER.encode(bericht), headers)
            self.metrics.routed.labels(r.bestemming).inc()
        # Back to the signal's own partition: vastleggen lets a RIEC link only what reached it.
        bestemd = SignaalGerouteerd(
            signaal_id=signaal.signaal_id, bestemmingen=[r.bestemming for r in routes], besloten_op=nu
        )
        yield Uitvoer(KANDIDATEN, key, SIGNAAL_LOG_ENCODER.encode(bestemd))
        self.metrics.routing_latency.observe(max(0.0, (nu - signaal.aangeboden_op).total_seconds()))
