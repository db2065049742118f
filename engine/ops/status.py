"""`python -m engine.tools status`: what a person on call asks first, without Prometheus.

Two sources, so that it answers when workers are down and when the broker is:
- the broker: per stage, the records its consumer group has not committed yet (end offset minus
  committed offset over the partitions it committed, as the engine's principal);
- each worker's `/health` and `/metrics` (an ops token): ready or not and why, per stage the age
  of its last commit, transactions fenced, records quarantined; the key store check.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import orjson
from prometheus_client.parser import text_string_to_metric_families

from engine.kafka import clients
from engine.settings import KafkaConnection

STAGES = ("ingress", "opdrachten", "vastleggen", "besluiten", "zoekindex", "verzoeken")
"""The routing role's stages by name (engine.handlers), in the order a signal meets them."""


@dataclass
class Werkerstatus:
    url: str
    bereikbaar: bool
    fout: str | None = None
    health: dict[str, object] = field(default_factory=dict)
    gereed: bool = False
    sleutelkast: bool | None = None
    """The key store check passed (routing workers); None: the worker does not report it."""
    laatste_commit: dict[str, float] = field(default_factory=dict)
    gefenced: dict[str, float] = field(default_factory=dict)
    quarantaine: dict[str, float] = field(default_factory=dict)
    lag: dict[str, float] = field(default_factory=dict)


def _get(url: str, token: str | None, timeout: float = 5.0) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def werker(url: str, token: str | None) -> Werkerstatus:
    """One worker's answer; a worker that does not answer is reported so, never raised."""
    url = url.rstrip("/")
    try:
        health_status, body = _get(f"{url}/health", None)
        metrics_status, metrics = _get(f"{url}/metrics", token)
    except OSError as e:
        return Werkerstatus(url, bereikbaar=False, fout=str(getattr(e, "reason", e)))
    status = Werkerstatus(url, bereikbaar=True)
    try:
        status.health = orjson.loads(body)
    except orjson.JSONDecodeError:
        status.health = {}
    status.gereed = health_status == 200
    if metrics_status != 200:
        status.fout = f"/metrics answered {metrics_status} (an ops token: --token or ENGINE_OPS_TOKEN)"
        return status
    for family in text_string_to_metric_families(metrics.decode()):
        for s in family.samples:
            stage = s.labels.get("stage", "")
            if s.name == "riec_stage_last_commit_timestamp_seconds":
                status.laatste_commit[stage] = s.value
            elif s.name == "riec_stage_fenced_total":
                status.gefenced[stage] = s.value
            elif s.name == "riec_quarantined_total":
                status.quarantaine[stage] = status.quarantaine.get(stage, 0) + s.value
            elif s.name == "riec_stage_consumer_lag_records":
                status.lag[stage] = s.value
            elif s.name == "riec_key_store_checked":
                status.sleutelkast = s.value == 1
    return status


async def achterstand(kafka: KafkaConnection, app_id: str) -> dict[str, int | None]:
    """Per stage: records on its input past its group's committed offsets (None: the group has
    committed nothing yet). A quiet partition of a transactional input shows 1, its commit marker."""
    admin = clients.admin(kafka)
    consumer = clients.consumer(kafka, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        uitkomst: dict[str, int | None] = {}
        for stage in STAGES:
            committed = await admin.list_consumer_group_offsets(f"{app_id}-{stage}")
            if not committed:
                uitkomst[stage] = None
                continue
            ends = await clients.end_offsets(consumer, list(committed))
            uitkomst[stage] = sum(max(0, ends[tp] - o.offset) for tp, o in committed.items() if o.offset >= 0)
        return uitkomst
    finally:
        await consumer.stop()
        await admin.close()


def _leeftijd(ts: float | None, nu: float) -> str:
    if ts is None:
        return "-"
    s = max(0.0, nu - ts)
    return f"{s:.0f} s ago" if s < 120 else f"{s / 60:.0f} min ago"


def verslag(werkers: list[Werkerstatus], lag: dict[str, int | None] | str, nu: float | None = None) -> str:
    """The report as text: workers first, then one line per stage. `lag` is the broker's answer,
    or why there is none."""
    nu = time.time() if nu is None else nu
    regels = ["workers"]
    for w in werkers:
        if not w.bereikbaar:
            regels.append(f"  {w.url:<28} DOWN ({w.fout})")
            continue
        rol = w.health.get("rol", "?")
        staat = "ready" if w.gereed else f"NOT READY ({orjson.dumps(w.health).decode()})"
        sleutel = {True: "key store checked", False: "key store NOT checked", None: ""}[w.sleutelkast]
        regels.append(f"  {w.url:<28} {staat}, role {rol}{', ' + sleutel if sleutel else ''}")
        if w.fout:
            regels.append(f"  {'':<28} {w.fout}")
    regels.append("")
    if isinstance(lag, str):
        regels.append(f"broker: {lag}")
    regels.append(
        f"  {'stage':<11} {'waiting':>8} {'last commit':>12} {'fenced':>7} {'quarantined':>12}  workers"
    )
    for stage in STAGES:
        bij = [w for w in werkers if stage in w.laatste_commit]
        wachtend = "?" if isinstance(lag, str) else ("-" if lag.get(stage) is None else str(lag[stage]))
        laatste = max((w.laatste_commit[stage] for w in bij), default=None)
        gefenced = sum(w.gefenced.get(stage, 0) for w in werkers)
        quarantaine = sum(w.quarantaine.get(stage, 0) for w in werkers)
        regels.append(
            f"  {stage:<11} {wachtend:>8} {_leeftijd(laatste, nu):>12} {gefenced:>7.0f} {quarantaine:>12.0f}"
            f"  {len(bij)}"
        )
    regels.append(
        "\nwaiting: records past the stage's committed offsets, from the broker (a quiet partition of "
        "a transactional input shows 1); last commit: the most recent over the workers (a stage counts "
        "as committed when it starts)."
    )
    return "\n".join(regels)


def status(urls: list[str], token: str | None, kafka: KafkaConnection, app_id: str) -> str:
    werkers = [werker(u, token) for u in urls]
    lag: dict[str, int | None] | str
    try:
        lag = asyncio.run(asyncio.wait_for(achterstand(kafka, app_id), 20))
    except Exception as e:  # the broker unreachable is an answer too
        lag = f"UNREACHABLE ({type(e).__name__}{': ' + str(e) if str(e) else ''})"
    return verslag(werkers, lag)
