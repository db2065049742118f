"""Builds the faust App of a worker from settings: web server, metrics, and the processing stages.

Never at import time: `create_app(settings)` is called by the CLI (and by tests) with settings
read once from the environment.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import faust
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.utils.terminal import SpinnerHandler
from mode import Service
from prometheus_client import CollectorRegistry

from engine.handlers import besluiten, clients, ingress, routeren, vastleggen, zoekindex
from engine.handlers.audit import AuditSchrijver
from engine.handlers.declaratie import declare
from engine.handlers.knelpunten import KnelpuntenLezer
from engine.handlers.projecties import Projecties
from engine.handlers.stage import Bron, Stage, StageHandler
from engine.ingress.acceptatie import Beleid
from engine.ingress.pseudonimisering import Pseudonimiseerder
from engine.metrics import Metrics
from engine.projections import api, webserver
from engine.projections.toegang import lees_tokens
from engine.reference import gebiedsindeling
from engine.settings import Settings
from engine.topics import engine_topics

log = logging.getLogger(__name__)


def _root_logger_back_to_its_level() -> None:
    """At -l warn (faust's default) faust's worker sets the root logger to DEBUG so that a start-up
    spinner turns on every record (faust/worker.py `_setup_spinner_handler`), and leaves it there:
    every debug call of aiokafka then built a record nobody prints, 13% of a busy worker (py-spy).
    The console handler keeps the chosen level; the root logger gets it back."""
    root = logging.getLogger()
    levels = [h.level for h in root.handlers if not isinstance(h, SpinnerHandler)]
    if levels and root.level < min(levels):
        root.setLevel(min(levels))


class Pijplijn(Service):
    """Declares the topics, then starts the stages:

    partner topics → ingress → vastleggen → (zoekindex, once per identifier) → routes.*
    RIEC command topics → opdrachten → besluiten → engine.gebeurtenissen (+ index, links, register)
    """

    def __init__(
        self, settings: Settings, services: list[Service], clients: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.services = services
        self.clients = clients
        """Kafka clients the services share, created on first use; stopped with the pipeline."""
        self.gereed = False

    async def on_start(self) -> None:
        _root_logger_back_to_its_level()
        created = await declare(
            self.settings.kafka,
            engine_topics(self.settings, gebiedsindeling()),
            self.settings.replication_factor,
        )
        if created:
            log.info("declared %d topics", len(created))
        for service in self.services:
            await self.add_runtime_dependency(service)
        self.gereed = True

    async def on_stop(self) -> None:
        for client in self.clients:
            await client.stop()


def create_app(settings: Settings) -> faust.App:
    """The worker's faust App with its pipeline, `/metrics` and `/health`."""
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{b}" for b in settings.kafka.bootstrap_servers.split(",")],
        broker_credentials=clients.faust_credentials(settings.kafka),
        web=webserver.driver_url(),  # no faust pages; timeouts and a connection cap
        web_port=settings.web_port,
        web_bind=settings.web_bind,
        web_host=settings.web_bind,
        datadir=str(settings.data_dir),
        autodiscover=False,
        store="memory://",
        topic_replication_factor=settings.replication_factor,
        # faust's own consumer group (it consumes nothing of ours) should not hold a restarted
        # worker back for a minute waiting for the killed one's session to expire.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = CollectorRegistry()
    # faust's Prometheus sensor, as setup_prometheus_sensors installs it, but served by our own
    # /metrics page, which asks for an ops token once tokens are configured.
    app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(registry, "faust"))
    metrics = Metrics(registry)
    tokens = lees_tokens(settings.tokens_file)
    if not tokens:
        log.warning("ENGINE_TOKENS_FILE is not set: the API refuses every request; /metrics is open")
    gebied = gebiedsindeling()
    horizon = timedelta(days=settings.dedup_horizon_days)
    beleid = Beleid(
        geweigerde_partners=settings.geweigerde_partners,
        extra_gemeenten=settings.extra_gemeenten,
        ontdubbel_horizon=horizon,
    )
    pseudo = Pseudonimiseerder(settings.pseudonym_key)

    kafka = settings.kafka

    def routeren_() -> routeren.Routeren:
        # One HKP reader per stage that routes: stages run concurrently, a reader is not shared.
        knelpunten = KnelpuntenLezer(kafka, settings.fetch_max_wait_ms, metrics)
        lezers.append(knelpunten)
        return routeren.Routeren(gebied=gebied, knelpunten=knelpunten, metrics=metrics)

    lezers: list[KnelpuntenLezer] = []
    index = zoekindex.Zoekindex(kafka=kafka, routeren=routeren_(), metrics=metrics)
    metrics.index_identifiers.set_function(index.identificatoren)

    def stage(handler: StageHandler, bron: Bron) -> Stage:
        return Stage(handler, bron, settings=settings, metrics=metrics)

    def voordeur(handler: StageHandler, bron: Bron) -> Stage:
        # A front door reads every partner's (or RIEC's) topic: hundreds of partitions in each
        # fetch, whose requests and responses aiokafka encodes in Python. Polling them every 20 ms
        # took 15% of a worker (py-spy); 100 ms costs about 3% and no measurable latency.
        return Stage(handler, bron, settings=settings, metrics=metrics, fetch_max_wait_ms=100)

    stages = [
        voordeur(
            ingress.signalen_voordeur(gebied=gebied, pseudo=pseudo, beleid=beleid, metrics=metrics),
            ingress.SIGNALEN_BRON,
        ),
        voordeur(
            ingress.opdrachten_voordeur(gebied=gebied, pseudo=pseudo, metrics=metrics),
            ingress.OPDRACHTEN_BRON,
        ),
        stage(
            vastleggen.Vastleggen(
                kafka=kafka,
                routeren=routeren_(),
                metrics=metrics,
                termijn=timedelta(seconds=settings.pending_link_expiry_s),
                horizon=horizon,
            ),
            vastleggen.BRON,
        ),
        stage(
            besluiten.Besluiten(kafka=kafka, zoekindex_partities=settings.partitions, metrics=metrics),
            besluiten.BRON,
        ),
        stage(index, zoekindex.BRON),
    ]
    projecties = Projecties(kafka, metrics)
    audit = AuditSchrijver(kafka)
    pijplijn = Pijplijn(settings, [*stages, projecties], [*lezers, audit])
    app.service(pijplijn)  # type: ignore[arg-type]  # faust accepts instances too
    api.registreer(
        app,
        staat=lambda: projecties.staat,
        posities=lambda: {f"{tp.topic}:{tp.partition}": o for tp, o in sorted(projecties.posities.items())},
        tokens=tokens,
        audit=audit,
        registry=registry,
    )

    @app.page("/health")
    async def health(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        stages_ok = pijplijn.gereed and all(s.started and not s.crashed for s in stages)
        body = {
            "status": "ok" if stages_ok else "starting",
            "stages": [s.handler.name for s in stages],
        }
        return web.json(body, status=200 if stages_ok else 503)

    return app
