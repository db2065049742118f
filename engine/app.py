"""Builds the faust App of a worker from settings: web server, metrics, and the parts of its role
(`engine.rollen`): the processing stages, the read models with the API, or both.

Never at import time: `create_app(settings)` is called by the CLI with settings read once from the
environment; the `worker` command's `--rol` then adds the role's parts (`Werker.kies`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import faust
from faust.app.base import BootStrategy
from faust.cli.base import option
from faust.cli.worker import worker as FaustWorker
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.utils.terminal import SpinnerHandler
from mode import Service
from prometheus_client import CollectorRegistry

from engine.api import analist, inzageloket, toegang, webserver
from engine.api import dashboard as api
from engine.api import verzoeken as vieroogen_api
from engine.api.ports import Ports
from engine.api.toegang import Tokenbestand
from engine.domain.ingress.acceptatie import Beleid
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.reference import gebiedsindeling
from engine.domain.reference.regelversies import BASISLIJN, Regelversies, geleverd
from engine.domain.vergeten.sleutels import Sleutelring
from engine.handlers import besluiten, ingress, vastleggen, verzoeken, zoekindex
from engine.handlers.vergeten import Vergeten
from engine.kafka import clients, keystore, routeren, sporen, wire
from engine.kafka.audit import AuditWriter
from engine.kafka.declaratie import declare
from engine.kafka.opdrachtgever import CommandWriter
from engine.kafka.projecties import Projecties
from engine.kafka.stage import Source, Stage, StageHandler
from engine.kafka.state import KafkaLog
from engine.metrics import Metrics
from engine.ops import logfilter
from engine.rollen import Gezondheid, Rol
from engine.settings import Settings
from engine.topics import engine_topics

log = logging.getLogger(__name__)
_BESTANDSNAAM = re.compile(r"[^A-Za-z0-9._-]")

STOP_DEADLINE_S = 12.0
"""From the moment a worker starts stopping (SIGTERM) until it exits, whatever is still stopping:
under the manifests' terminationGracePeriodSeconds (20), above an orderly stop with the broker up
(about 3 s, tests/pipeline/test_stoppen_pipeline.py). Exiting then is what Kubernetes' SIGKILL
would do a little later, with a line in the log that says so: a transaction still open is
aborted by its coordinator or fenced by the next owner, and the local read-model store survives a
kill (the crash tests)."""
EXIT_STOP_DEADLINE = 75
"""The exit code after `STOP_DEADLINE_S` (EX_TEMPFAIL): not 0, so a stop that needed it shows."""


def _exit_after_deadline() -> None:
    log.error(
        "worker still stopping %.0f s after it was told to; exiting now (open transactions are "
        "aborted by the broker)",
        STOP_DEADLINE_S,
    )
    logging.shutdown()
    os._exit(EXIT_STOP_DEADLINE)


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
    """Declares the topics, then starts the role's services: the stages

    partner topics → front door → vastleggen (log, match, route) → routes.*
    RIEC command topics → front door → besluiten → engine.gebeurtenissen (+ index, links, register)
    index changes → zoekindex → engine.casusindex (every routing worker reads it whole)
    four-eyes commands (from the API) → verzoeken → engine.verzoeken

    and/or the projections. Every role declares (idempotent), so any can start first.
    """

    def __init__(
        self,
        settings: Settings,
        services: list[Service],
        clients: list[Any],
        metrics: Metrics,
        *,
        sealt: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.sealt = sealt
        """Its stages seal signals: the key store must be there and fit the master key first."""
        self.services = services
        self.clients = clients
        """Kafka clients the services share, created on first use; stopped with the pipeline."""
        self.metrics = metrics
        self.gereed = False

    async def on_start(self) -> None:
        _root_logger_back_to_its_level()
        logfilter.install()
        created = await declare(
            self.settings.kafka,
            engine_topics(self.settings, gebiedsindeling()),
            self.settings.replication_factor,
        )
        if created:
            log.info("declared %d topics", len(created))
        if self.sealt:
            await keystore.check(self.settings.kafka, self.settings.hoofdsleutel())
            self.metrics.key_store_checked.set(1)
        for service in self.services:
            await self.add_runtime_dependency(service)
        self.gereed = True

    async def on_stop(self) -> None:
        # A daemon timer: it does not keep a process alive that exits in time.
        deadline = threading.Timer(STOP_DEADLINE_S, _exit_after_deadline)
        deadline.daemon = True
        deadline.start()
        for client in self.clients:
            await client.stop()


@dataclass
class Werker:
    """A worker before it runs: its faust App and what every role shares. `kies` adds the parts of
    its role (services, pages), once, before the App starts; /health reports on them."""

    settings: Settings
    app: faust.App
    registry: CollectorRegistry
    metrics: Metrics
    tokens: toegang.Tokenbron
    rol: Rol | None = None
    pijplijn: Pijplijn | None = None
    stages: list[Stage] = field(default_factory=list)
    projecties: Projecties | None = None

    def kies(self, rol: Rol) -> None:
        """Called by the `worker` command with its `--rol`, before the App starts."""
        if self.rol is not None:
            raise RuntimeError(f"this worker's role is {self.rol} already")
        self.rol = rol
        clients: list[Any] = []
        if rol.routeert:
            self.stages, lezers = _stages(self.settings, self.metrics)
            clients += lezers
        if rol.projecteert:
            self.projecties, lezers = _projecties(self)
            clients += lezers
        services: list[Service] = [*self.stages, *([self.projecties] if self.projecties else [])]
        if rol.routeert:  # the executor of erasures and retention (one worker acts at a time)
            services.append(Vergeten(self.settings, self.settings.termijnen()))
        self.pijplijn = Pijplijn(self.settings, services, clients, self.metrics, sealt=rol.routeert)
        self.app.service(self.pijplijn)  # type: ignore[arg-type]  # faust accepts instances too

    def gezondheid(self) -> Gezondheid:
        assert self.rol is not None
        p = self.projecties
        return Gezondheid(
            rol=self.rol,
            gestart=self.pijplijn is not None and self.pijplijn.gereed,
            stages={s.handler.name: s.started and not s.crashed for s in self.stages},
            projecties=None if p is None else p.bijgewerkt and p.started and not p.crashed,
        )


class _WebAndSensorsOnly(BootStrategy):
    """faust starts its web server and sensors for the engine, not its own Kafka consumer, producer,
    assignor and tables: the stages and projections have clients of their own, and faust's consumer
    group read nothing. Idle it cost a thread with its own event loop, heartbeats, fetches and
    metadata requests; on a stop with the broker gone its consumer thread held the worker for 60 s."""

    enable_kafka = False


class _EngineApp(faust.App):
    BootStrategy = _WebAndSensorsOnly


def _faust_app(settings: Settings) -> faust.App:
    return _EngineApp(
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
    )


def _voordeuren(
    settings: Settings, metrics: Metrics, horizon: timedelta, regels: Regelversies
) -> list[Stage]:
    """The front doors: every partner's signals and every RIEC office's commands, checked and
    pseudonymised. Each polls every 100 ms: a fetch over hundreds of partner partitions is encoded
    and decoded in Python by aiokafka, and polling every 20 ms took 15% of a worker (py-spy).

    The signals' door checks a location against every rule version shipped (`regels`), adopted or
    not: it asks whether a gemeente or postcode exists, and a code born in a version adopted later
    must not be refused meanwhile. Which RIEC it reaches is routing's decision, by adopted versions."""
    gebied = gebiedsindeling()
    pseudo = Pseudonimiseerder(settings.pseudonym_key)
    beleid = Beleid(
        geweigerde_partners=settings.geweigerde_partners,
        extra_gemeenten=settings.extra_gemeenten,
        ontdubbel_horizon=horizon,
    )
    signalen = ingress.signalen_voordeur(regels=regels, pseudo=pseudo, beleid=beleid, metrics=metrics)
    opdrachten = ingress.opdrachten_voordeur(gebied=gebied, pseudo=pseudo, metrics=metrics)
    return [
        Stage(deur, source, settings=settings, metrics=metrics, fetch_max_wait_ms=100)
        for deur, source in ((signalen, ingress.SIGNALS_SOURCE), (opdrachten, ingress.COMMANDS_SOURCE))
    ]


def _stages(settings: Settings, metrics: Metrics) -> tuple[list[Stage], list[routeren.Routeren]]:
    """The routing role's stages, and the routers (with their tables) they share the lifetime of.
    One router per stage that routes: stages run concurrently, and a router's tables are its own."""
    horizon = timedelta(days=settings.dedup_horizon_days)
    logs = KafkaLog(settings.kafka, settled=True)  # what the stateful stages restore their partitions from
    regels = geleverd(settings.extra_regelversies)
    routers = [
        routeren.Routeren(
            regels=regels, kafka=settings.kafka, metrics=metrics,
            fetch_max_wait_ms=settings.fetch_max_wait_ms, met_index=met_index,
            max_afwezig_s=settings.tabel_max_afwezig_s, meld=met_index,
        )
        # Zoekindex routes only slips of the partitioned design (an upgrade): no copy of the index.
        for met_index in (True, False)
    ]  # fmt: skip
    router, slips = routers
    metrics.index_identifiers.set_function(lambda: len(router.index))
    for v in regels.geleverd:
        routeert = metrics.regelversie.labels(v.id, v.geldig_vanaf.isoformat())
        routeert.set_function(functools.partial(router.aangenomen, v.id))
        if v.id not in BASISLIJN:
            log.info(
                "rule version %s (geldig vanaf %s) is shipped beyond the baseline: it routes only once "
                "adopted through four eyes (riec_rule_version_routes)", v.id, v.geldig_vanaf,
            )  # fmt: skip
    termijn = timedelta(seconds=settings.pending_link_expiry_s)
    handlers: list[tuple[StageHandler, Source]] = [
        (
            vastleggen.Vastleggen(
                log_reader=logs,
                routeren=router,
                metrics=metrics,
                termijn=termijn,
                horizon=horizon,
                hoofdsleutel=settings.hoofdsleutel(),
            ),
            vastleggen.SOURCE,
        ),
        (
            besluiten.Besluiten(
                log_reader=logs,
                zoekindex_partities=settings.partitions,
                metrics=metrics,
                hoofdsleutel=settings.hoofdsleutel(),
            ),
            besluiten.SOURCE,
        ),
        (zoekindex.Zoekindex(log_reader=logs, routeren=slips, metrics=metrics), zoekindex.SOURCE),
        (
            verzoeken.Verzoekbeslisser(
                log_reader=logs,
                metrics=metrics,
                hoofdsleutel=settings.hoofdsleutel(),
                regelversies={v.id for v in regels.geleverd},
            ),
            verzoeken.SOURCE,
        ),
    ]
    intern = [Stage(h, source, settings=settings, metrics=metrics) for h, source in handlers]
    return [*_voordeuren(settings, metrics, horizon, regels), *intern], routers


def opslag_pad(settings: Settings) -> Path:
    """The projections' store: in the data dir, one file per worker (workers on one machine may
    share the data dir; a worker's id is unique)."""
    return settings.data_dir / f"projecties-{_BESTANDSNAAM.sub('_', settings.worker_id)}.sqlite3"


def _projecties(werker: Werker) -> tuple[Projecties, list[Any]]:
    """The projection role's read models with the API and the dashboard that serve them, over the
    Kafka-backed ports: the audit log and the RIECs' command topics."""
    projecties = Projecties(
        werker.settings.kafka, werker.metrics, opslag_pad(werker.settings), werker.settings.hoofdsleutel()
    )
    audit = AuditWriter(werker.settings.kafka)
    schrijver = CommandWriter(werker.settings.kafka)
    verzoekschrijver = verzoeken.VerzoekopdrachtWriter(werker.settings.kafka)
    if not werker.tokens:
        log.warning("ENGINE_TOKENS_FILE is not set: the API refuses every request; /metrics is open")
    ports = Ports(
        staat=lambda: projecties.staat,
        tokens=werker.tokens,
        audit=audit,
        opdrachten=schrijver,
        clock=lambda: datetime.now(UTC),
        posities=lambda: {f"{tp.topic}:{tp.partition}": o for tp, o in sorted(projecties.posities.items())},
        herbouwd=lambda: list(projecties.herbouwd),
        verzoekopdrachten=verzoekschrijver,
        pseudo=Pseudonimiseerder(werker.settings.pseudonym_key),
        verzegelaar=Sleutelring(werker.settings.hoofdsleutel()),
        inzage=lambda ident, door: sporen.inzage(
            werker.settings.kafka, werker.settings.hoofdsleutel(), ident, door
        ),
    )
    api.registreer(werker.app, ports)
    analist.registreer(werker.app, ports)
    vieroogen_api.registreer(werker.app, ports)
    inzageloket.registreer(werker.app, ports)
    return projecties, [audit, schrijver, verzoekschrijver]


def _worker_commando(werker: Werker) -> None:
    """faust's `worker` command with `--rol` (or ENGINE_ROL) added to its options. Defining a
    command class registers it in faust's CLI (as `@app.command` does); under faust's own name it
    replaces faust's `worker`, whose options, banner and start it keeps."""

    class worker(FaustWorker):  # the class name is the command's name
        __doc__ = "Start a worker of the engine in one role (routering, projecties or alles)."
        options = [  # noqa: RUF012  # faust reads the class attribute
            *FaustWorker.options,
            option(
                "--rol",
                type=click.Choice([r.value for r in Rol]),
                default=Rol.ALLES.value,
                envvar="ENGINE_ROL",
                show_envvar=True,
                help="routering: the stages; projecties: the read models, API and dashboard; alles: both.",
            ),
        ]

        def as_service(self, loop: asyncio.AbstractEventLoop, *args: Any, rol: str, **kwargs: Any) -> Any:
            werker.kies(Rol(rol))
            log.info("worker role: %s", rol)
            return super().as_service(loop, *args, **kwargs)


def create_app(settings: Settings) -> faust.App:
    """The worker's faust App with `/metrics` and `/health`; the role's parts are added by the
    `worker` command (`Werker.kies`) before it starts."""
    app = _faust_app(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = CollectorRegistry()
    # faust's Prometheus sensor, as setup_prometheus_sensors installs it, but served by our own
    # /metrics page, which asks for an ops token once tokens are configured.
    app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(registry, "faust"))
    werker = Werker(settings, app, registry, Metrics(registry), Tokenbestand(settings.tokens_file))
    wire.install(werker.metrics)
    _worker_commando(werker)
    werker.metrics.ready.set_function(lambda: float(werker.rol is not None and werker.gezondheid().klaar))
    api.registreer_metrics(app, tokens=werker.tokens, registry=registry)

    @app.page("/health")
    async def health(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        if werker.rol is None:
            return web.json({"status": "starting"}, status=503)
        g = werker.gezondheid()
        return web.json(g.json(), status=200 if g.klaar else 503)

    return app
