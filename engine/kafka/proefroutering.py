"""Reading what a dry run of a rule change needs (`engine.domain.proefroutering`): the period's
signals from the signal log, opened with the key store, and their routes from the route topics.

Reads as the engine, writes nothing to any topic: a dry run changes nothing anyone receives. It
reads whole logs (about the replay's speed: minutes for millions of signals) and keeps only the
period's signals and their routes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TypeAlias

from aiokafka import ConsumerRecord

from engine.domain.proefroutering import Gerouteerd, Proef, Proefroutering
from engine.domain.routing import Route, topic_van
from engine.domain.vergeten import verzegeling
from engine.events.route import ROUTE_DECODER, ROUTE_INGETROKKEN_TYPE, ROUTE_TYPE, GerouteerdSignaal
from engine.events.signaal_ontvangen import SIGNAAL_LOG_DECODER, SignaalOntvangen
from engine.kafka import sporen
from engine.settings import KafkaConnection
from engine.topics import SIGNAAL_LOG, route_bestemmingen

Record: TypeAlias = ConsumerRecord[bytes, bytes]


def _ce_type(record: Record) -> bytes | None:
    return next((waarde for naam, waarde in record.headers if naam == "ce_type"), None)


async def proefrouteer(kafka: KafkaConnection, hoofdsleutel: bytes, proef: Proef) -> Proefroutering:
    """Route the period's logged signals again under the candidate, and compare."""
    ring = await sporen.lees_sleutels(kafka, hoofdsleutel)
    signalen: dict[str, SignaalOntvangen] = {}
    vergeten: set[str] = set()

    def signaal(r: Record) -> None:
        g = SIGNAAL_LOG_DECODER.decode(r.value)
        if not isinstance(g, SignaalOntvangen) or not proef.in_periode(g):
            return
        if g.signaal_id in signalen or g.signaal_id in vergeten:
            return
        geopend = verzegeling.open_(g, ring)
        if geopend is None:
            vergeten.add(g.signaal_id)
        else:
            signalen[g.signaal_id] = geopend

    await sporen.lees(kafka, SIGNAAL_LOG, signaal)

    routes: dict[str, dict[str, GerouteerdSignaal]] = defaultdict(dict)

    def route(bestemming: str) -> Callable[[Record], None]:
        def fold(r: Record) -> None:
            signaal_id = (r.key or b"").decode()
            if signaal_id not in signalen:
                return
            soort = _ce_type(r)
            if soort == ROUTE_TYPE.encode():
                routes[signaal_id][bestemming] = ROUTE_DECODER.decode(r.value)
            elif soort == ROUTE_INGETROKKEN_TYPE.encode():  # erased or expired: not a route any more
                routes[signaal_id].pop(bestemming, None)
            # Anything else on a route topic is not the engine's: it neither routes nor withdraws.

        return fold

    for bestemming in route_bestemmingen():
        await sporen.lees(kafka, topic_van(bestemming), route(bestemming))

    for _ in vergeten:
        proef.onleesbaar()
    for signaal_id, s in sorted(signalen.items()):
        per_bestemming = routes.get(signaal_id)
        if not per_bestemming:
            proef.zonder_routes()
            continue
        versies = {m.regelversie for m in per_bestemming.values()}
        proef.neem(
            Gerouteerd(
                s,
                tuple(Route(b, tuple(m.redenen)) for b, m in per_bestemming.items()),
                regelversie=versies.pop() if len(versies) == 1 else None,
            )
        )
    return proef.uitkomst
