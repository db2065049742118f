"""Routeren: a signal and its open-casus matches → one routed message per destination, and its
destinations (`SignaalGerouteerd`, for vastleggen's link checks).

Not a stage of its own: vastleggen routes each new signal in the transaction that logs it, against
the HKP register and the open-casus index every routing worker holds in full
(`engine.kafka.tables`). A separate stage cost every signal one more consume, produce and
commit (25% of the engine's throughput, about 100 ms of latency), and so did each identifier's
visit to its index partition when the index was partitioned. Routing slips written by that design
are still routed where they complete (zoekindex), for an upgrade with slips in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from engine.domain.casusindex import MAX_MATCHES_PER_SIGNAAL, CasusIndex, kies, zoek_alle
from engine.domain.knelpunten import Knelpuntenregister
from engine.domain.reference.regelversies import BASISLIJN, Regelversies
from engine.domain.routing import route, topic_van
from engine.events.envelope import CloudEventHeaders
from engine.events.headers import kafka_headers
from engine.events.matching import Routebriefje
from engine.events.regelversie import RegelversieAangenomen
from engine.events.route import (
    ROUTE_ENCODER,
    ROUTE_INGETROKKEN_TYPE,
    ROUTE_SOURCE,
    ROUTE_TYPE,
    GerouteerdSignaal,
    Intrekkingsreden,
    RouteIngetrokken,
)
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER, SignaalGerouteerd, SignaalOntvangen
from engine.kafka.stage import Output
from engine.kafka.tables import Record, Tables, restore_index, restore_knelpunt, restore_regelversie
from engine.metrics import Kinderen, Metrics
from engine.settings import KafkaConnection
from engine.topics import CASUSINDEX, KANDIDATEN, KNELPUNTEN, REGELVERSIES

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Routeringstabellen:
    """What a router matches a signal against, and which rule versions it may route with; read
    again whole into a new one after an absence."""

    register: Knelpuntenregister = field(default_factory=Knelpuntenregister)
    index: CasusIndex = field(default_factory=lambda: CasusIndex(herkomst=False))
    aangenomen: dict[str, RegelversieAangenomen] = field(default_factory=dict)
    """The rule versions adopted through four eyes (`engine.regelversies`), by id."""


def _regelversie(t: Routeringstabellen, record: Record) -> None:
    restore_regelversie(t.aangenomen, record)


def _knelpunt(t: Routeringstabellen, record: Record) -> None:
    restore_knelpunt(t.register, record)


def _index(t: Routeringstabellen, record: Record) -> None:
    restore_index(t.index, record)


@dataclass(frozen=True, slots=True)
class Routering:
    """A signal's routed messages, and where they went (for its own log partition)."""

    berichten: list[Output]
    gerouteerd: SignaalGerouteerd


class Routeren:
    """Decides and writes the routes of each signal, as of the HKPs and casussen known now.

    Holds its own copy of the HKP register and the open-casus index (stages run concurrently, so a
    reader is not shared); `refresh` before each batch brings both to what is committed, and they
    are read every few seconds in between (`Tables`), so an idle worker misses no delete.

    `regels` is every rule version this worker ships; it routes with the baseline and those adopted
    on `engine.regelversies` (`regels_nu`), read with the tables: a version approved before a batch
    began decides that batch's signals observed on or after its `geldig_vanaf`.
    """

    def __init__(
        self,
        *,
        regels: Regelversies,
        kafka: KafkaConnection,
        metrics: Metrics,
        fetch_max_wait_ms: int = 20,
        met_index: bool = True,
        max_afwezig_s: float = 12 * 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        meld: bool = True,
    ) -> None:
        """`meld`: this router logs which versions route when that changes (one per worker does)."""
        self.regels = regels
        self.meld = meld
        self._in_gebruik: tuple[frozenset[str], Regelversies] | None = None
        self.metrics = metrics
        self._gerouteerd = Kinderen(metrics.routed)
        self.clock = clock
        folds: dict[str, Callable[[Routeringstabellen, Record], None]] = {
            KNELPUNTEN: _knelpunt,
            REGELVERSIES: _regelversie,
        }
        if met_index:
            folds[CASUSINDEX] = _index
        self.tables = Tables(
            kafka,
            Routeringstabellen,
            folds,
            max_afwezig_s=max_afwezig_s,
            fetch_max_wait_ms=fetch_max_wait_ms,
            metrics=metrics,
            naam="index" if met_index else "knelpunten",
        )

    @property
    def register(self) -> Knelpuntenregister:
        return self.tables.staat.register

    @property
    def index(self) -> CasusIndex:
        return self.tables.staat.index

    async def refresh(self) -> None:
        """Before each batch: every HKP, open casus and adopted rule version committed before it
        counts ("as of" the batch)."""
        await self.tables.refresh()
        self.regels_nu()

    def aangenomen(self, versie_id: str) -> bool:
        """Whether a version this worker ships routes now: in the baseline or adopted (for the
        metric; it neither logs nor caches, so a scrape before the first batch misleads no one)."""
        return versie_id in BASISLIJN or versie_id in self.tables.staat.aangenomen

    def regels_nu(self) -> Regelversies:
        """The versions that route now: the baseline and those adopted, of the ones this worker
        ships. Made again only when the adoptions changed (a handful of ids compared per call)."""
        aangenomen = self.tables.staat.aangenomen
        if self._in_gebruik is not None and self._in_gebruik[0] == aangenomen.keys():
            return self._in_gebruik[1]
        regels = self.regels.met_aangenomen(aangenomen.keys())
        if self.meld:
            self._meld(regels, aangenomen)
        self._in_gebruik = (frozenset(aangenomen), regels)
        return regels

    def _meld(self, regels: Regelversies, aangenomen: dict[str, RegelversieAangenomen]) -> None:
        """Which versions route, which wait, and an adopted one this worker lacks: at the first
        batch and whenever an adoption arrives."""
        eerder = set() if self._in_gebruik is None else {v.id for v in self._in_gebruik[1].versies}
        for v in regels.versies:
            if v.id not in eerder:
                a = aangenomen.get(v.id)
                log.info(
                    "rule version %s (geldig vanaf %s) routes%s", v.id, v.geldig_vanaf,
                    f": adopted by request {a.verzoek_id}, approved by {a.door}" if a else " (baseline)",
                )  # fmt: skip
        for v in regels.wachtend:
            if self._in_gebruik is None:
                log.warning(
                    "rule version %s (geldig vanaf %s) is shipped but not adopted: routing ignores it "
                    "until a regelversie_aannemen request is approved (README, Adopting it)",
                    v.id, v.geldig_vanaf,
                )  # fmt: skip
        for versie_id in sorted(set(aangenomen) - {v.id for v in regels.geleverd}):
            log.warning(
                "rule version %s is adopted but this worker does not ship it: it routes without it; "
                "deploy the version's folder to every worker",
                versie_id,
            )

    async def stop(self) -> None:
        await self.tables.stop()

    def routeer(self, signaal: SignaalOntvangen, identificatoren: list[str]) -> Routering:
        """Route a new signal: its identifiers are looked up in the whole open-casus index."""
        matches, begrensd = zoek_alle(self.index, identificatoren)
        return self.routeer_briefje(
            Routebriefje(signaal=signaal, te_zoeken=[], matches=matches, begrensd=begrensd)
        )

    def routes(self, briefje: Routebriefje) -> Iterator[Output]:
        """A completed routing slip of the partitioned design: its destinations go back to vastleggen."""
        routering = self.routeer_briefje(briefje)
        yield from routering.berichten
        key = routering.gerouteerd.signaal_id.encode()
        yield Output(KANDIDATEN, key, SIGNAAL_LOG_ENCODER.encode(routering.gerouteerd))

    def routeer_briefje(self, briefje: Routebriefje) -> Routering:
        signaal = briefje.signaal
        nu = self.clock()
        # One register for matching and for its position: a rebuild may swap in a new one later.
        register = self.register
        hkps = register.matches(signaal)
        regels = self.regels_nu()
        regelversie = regels.op(signaal.waargenomen_op).id
        key = signaal.signaal_id.encode()
        # Capped again here too, for slips written before the caps (or by a bug): never a crash.
        matches, begrensd = kies(briefje.matches, max_nieuw=MAX_MATCHES_PER_SIGNAAL)
        routes = route(signaal, regels, hkps, matches, casussen_begrensd=briefje.begrensd or begrensd)
        berichten: list[Output] = []
        for r in routes:
            bericht = GerouteerdSignaal.van(
                signaal,
                r.bestemming,
                list(r.redenen),
                besloten_op=nu,
                regelversie=regelversie,
                hkp_positie=register.positie,
            )
            headers = _headers(f"{signaal.signaal_id}/{r.bestemming}", ROUTE_TYPE, nu)
            berichten.append(Output(topic_van(r.bestemming), key, ROUTE_ENCODER.encode(bericht), headers))
            self._gerouteerd(r.bestemming).inc()
        # Vastleggen lets a RIEC link only what reached it.
        bestemd = SignaalGerouteerd(
            signaal_id=signaal.signaal_id,
            bestemmingen=[r.bestemming for r in routes],
            besloten_op=nu,
            regelversie=regelversie,
            hkp_positie=register.positie,
        )
        self.metrics.routing_latency.observe(max(0.0, (nu - signaal.aangeboden_op).total_seconds()))
        return Routering(berichten, bestemd)


def intrekkingen(
    signaal_id: str,
    bestemmingen: list[str],
    reden: Intrekkingsreden,
    nu: datetime,
    *,
    verzoek_id: str | None = None,
    bewaarregel: str | None = None,
) -> list[Output]:
    """The withdrawal of a routed signal from each of `bestemmingen` (where it was routed: vastleggen's
    `SignaalGerouteerd`), to write in the transaction that erases or expires it.

    Keyed by the signal id like the routed message, so that compaction of the route topic drops the
    message and keeps the withdrawal; its ce_id is fixed per signal and destination, so a receiver
    can recognise one written twice. Pure: the caller writes the outputs.
    """
    key = signaal_id.encode()
    uit: list[Output] = []
    for bestemming in dict.fromkeys(bestemmingen):
        intrekking = RouteIngetrokken(
            signaal_id=signaal_id,
            bestemming=bestemming,
            reden=reden,
            ingetrokken_op=nu,
            verzoek_id=verzoek_id,
            bewaarregel=bewaarregel,
        )
        headers = _headers(f"{signaal_id}/{bestemming}/ingetrokken", ROUTE_INGETROKKEN_TYPE, nu)
        uit.append(Output(topic_van(bestemming), key, ROUTE_ENCODER.encode(intrekking), headers))
    return uit


def _headers(ce_id: str, ce_type: str, nu: datetime) -> list[tuple[str, bytes]]:
    """The CloudEvents headers of a record the engine writes on a route topic."""
    return kafka_headers(
        CloudEventHeaders(
            specversion="1.0",
            id=ce_id,
            source=ROUTE_SOURCE,
            type=ce_type,
            time=nu,
            datacontenttype="application/json",
        )
    )
