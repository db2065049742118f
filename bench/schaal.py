"""`make bench-schaal`: how the engine grows, measured on the local three-broker cluster.

Every round starts a fresh cluster (deploy/local/kafka.sh with KAFKA_NODES=3: secured, replication
factor 3, min.insync.replicas 2) and engine workers by role, all on this machine's cores:

1. Throughput with 1, 2 and 3 routing workers (`--rol routering`): the workers start and settle,
   then N signals (about 1 KB, Rotterdam, one company each) go to a partner topic of six partitions
   as fast as the politie's producer can send them; throughput is N over the time between the first
   and the last routed record. Reported as ratios to one worker, same run.
2. Start-up of a projection worker (`--rol projecties`) against the size of the logs: the time
   from its start until /health says ready, after the N signals of round 1 and after the large
   rounds below.
3. Peak memory (VmHWM) of one routing worker and one projection worker over logs holding BENCH_KLEIN
   (100,000) and BENCH_GROOT (1,000,000) signals, each routed once: written straight to the logs
   as the engine writes them (routing a million through two cores would take hours). The routing
   worker is measured once it restored every partition's state (a few hundred new signals reach
   all eight); the projection worker once ready, having folded everything.

Writes bench/schaal.json and prints a table. Never part of `make test`. About 25 minutes here.
BENCH_ONDERDEEL=doorvoer or =logs runs only rounds 1-2 or the rounds over the logs, and keeps the
other figures in bench/schaal.json.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.util import NO_EXTENSIONS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench import leeszijde, meting  # noqa: E402
from engine.domain.reference import gebiedsindeling  # noqa: E402
from engine.kafka import keystore  # noqa: E402
from engine.kafka.clients import wait_until_authorised  # noqa: E402
from engine.kafka.declaratie import declare  # noqa: E402
from engine.kafka.stage import partition_for  # noqa: E402
from engine.ops import onboarding  # noqa: E402
from engine.ops.acls import ENGINE, principal  # noqa: E402
from engine.settings import KafkaConnection, Settings, hoofdsleutel_uit  # noqa: E402
from engine.topics import engine_topics, route_bestemmingen, topic_van  # noqa: E402

PORT = int(os.environ.get("BENCH_KAFKA_PORT", "29192"))
STATE = ROOT / ".local/kafka-bench-cluster"
APP_ID = "riec-schaal"
N = int(os.environ.get("BENCH_MESSAGES", "20000"))
KLEIN = int(os.environ.get("BENCH_KLEIN", "100000"))
GROOT = int(os.environ.get("BENCH_GROOT", "1000000"))
PARTNER_PARTITIONS = 6
WEB = 27066
SOURCE = "partner.politie.signalen"
OUT = "routes.riec.rotterdam"
LOGS = ROOT / ".local/bench-schaal"


def cluster(command: str) -> None:
    env = {**os.environ, "KAFKA_PORT": str(PORT), "KAFKA_STATE": str(STATE), "KAFKA_NODES": "3",
           "KAFKA_FRESH": "1"}  # fmt: skip
    env.pop("KAFKA_INSECURE", None)
    subprocess.run([str(ROOT / "deploy/local/kafka.sh"), command], check=True, env=env)


def toegang(naam: str) -> dict[str, str]:
    admin = onboarding.lees_config(STATE / "admin.json")
    return onboarding.bewaard([principal(naam)], admin, STATE / "toegang", APP_ID)[naam]


def politie() -> KafkaConnection:
    """The police's connection, once every broker knows its ACLs (a fresh cluster learns them a
    moment apart, and a refused produce is not retried)."""
    kafka = onboarding.verbinding(toegang("partner:politie"))
    asyncio.run(wait_until_authorised(kafka, (SOURCE,)))
    return kafka


def engine() -> KafkaConnection:
    return onboarding.verbinding(toegang(ENGINE))


def settings() -> Settings:
    return Settings(
        pseudonym_key=secrets.token_hex(32).encode(),
        kafka=engine(),
        partner_partitions=PARTNER_PARTITIONS,
        replication_factor=3,
    )


async def topics() -> None:
    s = settings()
    await declare(s.kafka, engine_topics(s, gebiedsindeling()), s.replication_factor)


class Worker:
    """One engine worker process of a role, with its own id, port, log and data."""

    def __init__(self, rol: str, nummer: int, key: str) -> None:
        self.port = WEB + nummer
        LOGS.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **onboarding.env(toegang(ENGINE)), "ENGINE_PSEUDONYM_KEY": key,
               "ENGINE_WEB_PORT": str(self.port), "ENGINE_APP_ID": APP_ID, "ENGINE_ROL": rol,
               "ENGINE_WORKER_ID": f"{rol}-{nummer}", "ENGINE_REPLICATION_FACTOR": "3",
               "ENGINE_PARTNER_PARTITIONS": str(PARTNER_PARTITIONS),
               "ENGINE_DATA_DIR": str(LOGS / f"data-{rol}-{nummer}")}  # fmt: skip
        log = (LOGS / f"{rol}-{nummer}.log").open("ab")
        self.gestart = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "-m", "engine", "worker", "-l", "warn"],
                                        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip

    def gezond(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                return int(r.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def wacht_tot_gezond(self, timeout: float = 1800) -> float:
        """Seconds from its start until /health said ready."""
        deadline = time.monotonic() + timeout
        while not self.gezond():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker on {self.port} not healthy; see {LOGS}")
            time.sleep(0.2)
        return time.monotonic() - self.gestart

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:  # measured already; a slow shutdown is not this bench's
            print(f"worker on {self.port} did not stop in 120 s: killed", flush=True)
            self.process.kill()
            self.process.wait()


def doorvoer(routering: int, key: str) -> tuple[float, float]:
    """Signals per second with `routering` routing workers on a fresh cluster, and the start-up
    time of a projection worker over the N routed signals afterwards."""
    cluster("start")
    try:
        asyncio.run(topics())
        workers = [Worker("routering", i, key) for i in range(1, routering + 1)]
        try:
            for w in workers:
                w.wacht_tot_gezond()
            time.sleep(15)  # every worker joined every group and the rebalances are over
            partner = politie()
            asyncio.run(meting.vul(partner, SOURCE, N))
            snelheid = N / asyncio.run(meting.tijdspanne(engine(), OUT, N, 1800))
            print(f"{routering} routing worker(s): {snelheid:.0f} signals/s", flush=True)
            projecties = Worker("projecties", 9, key)
            try:
                opstart = projecties.wacht_tot_gezond()
            finally:
                projecties.stop()
            print(f"projection worker ready over {N:,} signals in {opstart:.1f} s", flush=True)
            return snelheid, opstart
        finally:
            for w in workers:
                w.stop()
    finally:
        cluster("stop")


async def vul_logs(kafka: KafkaConnection, n: int) -> None:
    """n accepted signals on the signal log and each routed once (over 13 destinations), written
    straight to the logs as the engine writes them (bench/leeszijde.py's records): what a worker
    restores and folds, without routing a million signals through two cores first."""
    p = meting.producer(kafka, partitioner=partition_for, linger_ms=50, max_batch_size=256 * 1024)
    await p.start()
    bestaand = {topic_van(b) for b in route_bestemmingen()}
    for i, (topic, value) in enumerate(leeszijde._records(n, signalen=True)):
        if i % 2_000 == 0:
            await p.flush()  # the cluster on two cores cannot take a million at once
        key = orjson.loads(value)["signaal_id"].encode()
        # leeszijde's destinations include an LFT that is not one (lft.fiod): folded all the same,
        # on another LFT's topic (not OUT: the count of OUT below says when the new signals are routed)
        if topic.startswith("routes.") and topic not in bestaand:
            topic = "routes.lft.vastgoed"
        await p.send(topic, value, key=key)
    await p.flush()
    await p.stop()


def logs_van(n: int, key: str) -> dict[str, float]:
    """On a fresh cluster whose logs hold n signals: the peak memory of a routing worker once every
    partition's state is restored, and the start-up time and peak memory of a projection worker."""
    cluster("start")
    try:
        asyncio.run(topics())
        # The key stores first, as the first worker on an empty cluster writes them: a worker
        # refuses to start beside a signal log whose key store is empty (keys lost).
        asyncio.run(keystore.check(engine(), hoofdsleutel_uit({"ENGINE_PSEUDONYM_KEY": key})))
        asyncio.run(vul_logs(engine(), n))
        routering = Worker("routering", 1, key)
        try:
            routering.wacht_tot_gezond()
            # A partition's state is restored before its first batch: 400 new signals reach all 8.
            partner = politie()
            asyncio.run(meting.vul(partner, SOURCE, 400))
            al = sum(1 for i in range(n) if leeszijde.BESTEMMINGEN[i % 13] == "riec.rotterdam")
            asyncio.run(meting.tijdspanne(engine(), OUT, al + 400, 3600))  # all 400 routed
            routering_mb = meting.piek_geheugen_mb(routering.process.pid)
        finally:
            routering.stop()
        projecties = Worker("projecties", 9, key)
        try:
            opstart = projecties.wacht_tot_gezond(timeout=3600)
            projecties_mb = meting.piek_geheugen_mb(projecties.process.pid)
        finally:
            projecties.stop()
        print(f"{n:,} signals: routing worker {routering_mb} MB, projection worker {projecties_mb} MB "
              f"(ready in {opstart:.1f} s)", flush=True)  # fmt: skip
        return {"routering_mb": routering_mb, "projecties_mb": projecties_mb, "opstart_s": opstart}
    finally:
        cluster("stop")


def main() -> None:
    if NO_EXTENSIONS:
        sys.exit("aiokafka's C extension is not built: the figures would be ~6x too low")
    logging.getLogger("aiokafka.producer.sender").setLevel(logging.ERROR)  # new partitions' leaders
    uit = ROOT / "bench" / "schaal.json"
    key = secrets.token_hex(32)
    onderdeel = os.environ.get("BENCH_ONDERDEEL", "alles")  # doorvoer | logs | alles
    result: dict[str, Any] = json.loads(uit.read_text()) if onderdeel != "alles" and uit.exists() else {}
    result |= {"cores": os.cpu_count()}
    if onderdeel in ("alles", "doorvoer"):
        rondes = {k: doorvoer(k, key) for k in (1, 2, 3)}
        een = rondes[1][0]
        result |= {
            "when_throughput": datetime.now(UTC).isoformat(timespec="seconds"),
            "messages": N,
            "routing_workers_msgs_per_s": {str(k): round(v[0]) for k, v in rondes.items()},
            "routing_2_vs_1": round(rondes[2][0] / een, 2),
            "routing_3_vs_1": round(rondes[3][0] / een, 2),
            "projection_startup_after_routing_s": {str(k): round(v[1], 1) for k, v in rondes.items()},
        }
        uit.write_text(json.dumps(result, indent=2) + "\n")
    if onderdeel in ("alles", "logs"):
        k, g = logs_van(KLEIN, key), logs_van(GROOT, key)
        result |= {
            "when_logs": datetime.now(UTC).isoformat(timespec="seconds"),
            "projection_startup_s": {
                str(KLEIN): round(k["opstart_s"], 1),
                str(GROOT): round(g["opstart_s"], 1),
            },
            "projection_startup_large_vs_small": round(g["opstart_s"] / k["opstart_s"], 1),
            "large_vs_small_signals": round(GROOT / KLEIN, 1),
            "peak_memory_mb": {
                str(KLEIN): {"routering": k["routering_mb"], "projecties": k["projecties_mb"]},
                str(GROOT): {"routering": g["routering_mb"], "projecties": g["projecties_mb"]},
            },
        }
        uit.write_text(json.dumps(result, indent=2) + "\n")
    print()
    for naam, v in result.items():
        print(f"{naam:<36}{v!s}")


if __name__ == "__main__":
    main()
