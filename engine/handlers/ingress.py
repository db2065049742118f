"""The front doors: partner topics → accepted signals, RIEC command topics → accepted commands.

The only handlers that see raw BSNs. Refusals go to `dlq.ingress`; they are logged and counted by
code and Kafka coordinates, never by content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from engine.domain.ingress.acceptatie import PARTNER_TOPIC, Beleid, Bericht, accepteer
from engine.domain.ingress.opdrachten import OPDRACHT_TOPIC, accepteer_opdracht
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.reference import Gebiedsindeling
from engine.domain.reference.regelversies import Regelversies
from engine.errors import Weigering
from engine.events.casus import GEBEURTENIS_ENCODER
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER
from engine.kafka.dlq import dlq_bericht
from engine.kafka.stage import Output, Source
from engine.kafka.state import Handler
from engine.metrics import Metrics
from engine.topics import KANDIDATEN, OPDRACHTEN_KANDIDATEN

log = logging.getLogger(__name__)

SIGNALS_SOURCE = Source(pattern=PARTNER_TOPIC.pattern)
COMMANDS_SOURCE = Source(pattern=OPDRACHT_TOPIC.pattern)

Acceptatie = Callable[[Bericht, datetime], Output]


class Voordeur(Handler):
    """Accepts or refuses each message of a front-door topic; a refusal never stops the stream."""

    def __init__(
        self,
        name: str,
        accepteer: Acceptatie,
        metrics: Metrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.accepteer = accepteer
        self.metrics = metrics
        self.clock = clock

    def process(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Output]:
        nu = self.clock()
        bericht = Bericht(
            record.topic, record.headers, record.value, record.timestamp, record.partition, record.offset
        )
        try:
            yield self.accepteer(bericht, nu)
        except Weigering as weigering:
            yield self._weiger(record, weigering, nu)
        except Exception as e:  # a bug must not stop the stream nor lose the message
            log.exception(
                "%s: internal error on %s[%d]@%d", self.name, record.topic, record.partition, record.offset
            )
            fout = Weigering(
                "internal_error",
                f"the engine failed on this message ({type(e).__name__}); it is kept here for replay",
            )
            yield self._weiger(record, fout, nu)

    def _weiger(self, record: ConsumerRecord[bytes, bytes], weigering: Weigering, nu: datetime) -> Output:
        self.metrics.refused.labels(weigering.code, record.topic).inc()
        log.info(
            "%s: refused %s[%d]@%d: %s",
            self.name,
            record.topic,
            record.partition,
            record.offset,
            weigering.code,
        )
        return dlq_bericht(record, weigering, nu)


def signalen_voordeur(
    *, regels: Regelversies, pseudo: Pseudonimiseerder, beleid: Beleid, metrics: Metrics
) -> Voordeur:
    """Partner topics → `engine.signalen.kandidaten`, keyed by signaal_id for de-duplication."""

    def accepteer_signaal(bericht: Bericht, nu: datetime) -> Output:
        signaal = accepteer(bericht, regels=regels, pseudo=pseudo, beleid=beleid, nu=nu)
        return Output(KANDIDATEN, signaal.signaal_id.encode(), SIGNAAL_LOG_ENCODER.encode(signaal))

    return Voordeur("ingress", accepteer_signaal, metrics)


def opdrachten_voordeur(*, gebied: Gebiedsindeling, pseudo: Pseudonimiseerder, metrics: Metrics) -> Voordeur:
    """RIEC command topics → `engine.opdrachten.kandidaten`, keyed by aggregate for its single writer."""

    def accepteer_commando(bericht: Bericht, nu: datetime) -> Output:
        opdracht = accepteer_opdracht(bericht, gebied=gebied, pseudo=pseudo, nu=nu)
        return Output(
            OPDRACHTEN_KANDIDATEN, opdracht.aggregaat.encode(), GEBEURTENIS_ENCODER.encode(opdracht)
        )

    return Voordeur("opdrachten", accepteer_commando, metrics)
