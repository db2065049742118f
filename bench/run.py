"""`make bench`: the engine against the physical limit of a Python consumer on the same broker.

Four rounds, each on a fresh broker pinned to core 0 with Python (the bench, the raw loops and the
engine's workers) on core 1, and the same 50,000 signals of about 1 KB on one partition:

1. 1,000 open-casus identifiers loaded. Raw passthrough, raw exactly-once passthrough, then the
   engine, over the same messages (throughput); latency of all three at 25%, 50% and 75% of the
   engine's measured maximum rate; replay of everything the engine wrote, against reading the same
   records without folding them.
2. The same throughput again (each throughput figure is the best of two rounds).
3. and 4. 1,000,000 open-casus identifiers loaded: the engine's throughput and each worker's peak
   memory.

The engine runs as deployed (BENCH_ROLLEN, default `gescheiden`): one routing worker and one
projection worker, each its own process; `alles` runs one worker doing both.

Writes bench/latest.json and prints a table. Never part of `make test`.
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
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.util import NO_EXTENSIONS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import meting  # noqa: E402
from engine.domain.reference import gebiedsindeling  # noqa: E402
from engine.kafka import clients  # noqa: E402
from engine.kafka.declaratie import declare  # noqa: E402
from engine.kafka.projecties import BRONNEN, bouw  # noqa: E402
from engine.ops import onboarding  # noqa: E402
from engine.ops.acls import ENGINE, principal  # noqa: E402
from engine.settings import KafkaConnection, Settings  # noqa: E402
from engine.topics import TopicSpec, engine_topics  # noqa: E402

PORT = int(os.environ.get("BENCH_KAFKA_PORT", "29092"))
STATE = ROOT / ".local/kafka-bench"
APP_ID = "riec-bench"
N = int(os.environ.get("BENCH_MESSAGES", "50000"))
LATENCY_SECONDS = float(os.environ.get("BENCH_LATENCY_SECONDS", "10"))
SOURCE = "partner.politie.signalen"
ENGINE_OUT = "routes.riec.rotterdam"
# engine.*: the raw loop connects as the engine's principal, with the engine's ACLs and TLS.
RAW_OUT, RAW_EOS_OUT = "engine.bench.raw.out", "engine.bench.raw.eos.out"
RAW_LAT_IN, RAW_LAT_OUT = "engine.bench.raw.in", "engine.bench.raw.lat"
RAW_TOPICS = (RAW_OUT, RAW_EOS_OUT, RAW_LAT_IN, RAW_LAT_OUT)
ROLLEN = {"gescheiden": ("routering", "projecties"), "alles": ("alles",)}[
    os.environ.get("BENCH_ROLLEN", "gescheiden")
]
BENCH_CORE = 1
"""The core the bench, the workers and the raw loops run on (the broker has core 0)."""
IDLE_SECONDS = 30
"""How long the workers are measured idle, after the backlog."""
SNEL = os.environ.get("BENCH_SNEL") == "1"
"""A quick look while changing the engine: one round, latency at half load only, nothing written."""
LOADS = (50,) if SNEL else (25, 50, 75)
"""Latency is measured at these percentages of the engine's measured maximum rate."""


def broker(command: str) -> None:
    env = {**os.environ, "KAFKA_PORT": str(PORT), "KAFKA_STATE": str(STATE),
           "KAFKA_FRESH": "1", "KAFKA_CPUS": "0"}  # fmt: skip
    subprocess.run([str(ROOT / "deploy/local/kafka.sh"), command], check=True, env=env)


def engine_principal() -> dict[str, str]:
    """The engine's client settings on the bench broker (secured like every local broker); both
    sides connect with them, so both pay the same TLS and authorisation."""
    admin = onboarding.lees_config(STATE / "admin.json")
    return onboarding.bewaard([principal(ENGINE)], admin, STATE / "toegang", APP_ID)[ENGINE]


def kafka() -> KafkaConnection:
    return onboarding.verbinding(engine_principal())


def partner(org: str = "politie") -> KafkaConnection:
    """A partner's connection (the politie's unless told): the signals are published as a partner
    publishes them."""
    admin = onboarding.lees_config(STATE / "admin.json")
    naam = f"partner:{org}"
    return onboarding.verbinding(
        onboarding.bewaard([principal(naam)], admin, STATE / "toegang", APP_ID)[naam]
    )


async def topics() -> None:
    """The engine's own topics (as its worker declares them) and the raw loop's, all alike."""
    settings = Settings(pseudonym_key=secrets.token_hex(32).encode(), kafka=kafka())
    specs = engine_topics(settings, gebiedsindeling())
    await declare(settings.kafka, [*specs, *(TopicSpec(t, 1) for t in RAW_TOPICS)])


KEY = secrets.token_hex(32)
"""The pseudonym key of this run's workers (and so their master key, which the replay needs)."""


def engine_workers() -> dict[str, subprocess.Popen[bytes]]:
    """The engine's workers, one process per role (BENCH_ROLLEN), all with the same key."""
    key = KEY
    workers = {}
    for i, rol in enumerate(ROLLEN):
        env = {**os.environ, **onboarding.env(engine_principal()), "ENGINE_PSEUDONYM_KEY": key,
               "ENGINE_WEB_PORT": str(26066 + i), "ENGINE_APP_ID": APP_ID, "ENGINE_WORKER_ID": f"bench-{rol}",
               "ENGINE_ROL": rol, "ENGINE_DATA_DIR": str(ROOT / f".local/engine-bench-{rol}")}  # fmt: skip
        log = (ROOT / f".local/bench-worker-{rol}.log").open("ab")
        workers[rol] = subprocess.Popen([sys.executable, "-m", "engine", "worker", "-l", "warn"],
                                        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    return workers


def gezond(workers: dict[str, subprocess.Popen[bytes]]) -> tuple[dict[str, int], dict[str, str]]:
    """Once every worker's /health answers 200 (its start-up, imports and restore, done): the pids
    to measure, the bench's own among them, and the workers' web addresses."""
    urls = {rol: f"http://127.0.0.1:{26066 + i}" for i, rol in enumerate(workers)}
    deadline = time.monotonic() + 300
    for rol, url in urls.items():
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if workers[rol].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {rol} did not become healthy")
            time.sleep(0.1)
    return {**{rol: w.pid for rol, w in workers.items()}, "bench": os.getpid()}, urls


def stop(workers: dict[str, subprocess.Popen[bytes]]) -> None:
    for worker in workers.values():
        worker.terminate()
    for worker in workers.values():
        worker.wait(timeout=90)


async def replay() -> tuple[float, float]:
    """Events per second of a replay from offset 0 (the projections' fold) and of reading the same
    records raw, up to the same end offsets."""
    tps = await clients.partitions_of(kafka(), BRONNEN)
    consumer = clients.consumer(kafka())
    await consumer.start()
    tot = await consumer.end_offsets(tps)
    await consumer.stop()
    started = time.monotonic()
    events = await meting.lees_alles(kafka(), tot)
    raw_s = time.monotonic() - started
    started = time.monotonic()
    await bouw(kafka(), tot, Settings(pseudonym_key=KEY.encode(), kafka=kafka()).hoofdsleutel())
    replay_s = time.monotonic() - started
    return events / replay_s, events / raw_s


def raw_latentie(out: str, rate: float, *, eos: bool) -> dict[str, float]:
    """The raw loop's latency at `rate`, in its own process (as the engine's workers are)."""
    n = int(rate * LATENCY_SECONDS)
    loop = meting.raw_proces(kafka(), RAW_LAT_IN, out, n, eos=eos)
    time.sleep(3)  # connected and fetching, as the engine's worker is
    try:
        return asyncio.run(
            meting.latentie(kafka(), kafka(), RAW_LAT_IN, out, rate, LATENCY_SECONDS, meting.ce_time_header)
        )
    finally:
        loop.join(timeout=30)


def ronde(identifiers: int, *, volledig: bool) -> dict[str, Any]:
    """One round on a fresh broker: the same N signals and `identifiers` open-casus identifiers;
    raw, raw exactly-once and engine throughput, the workers' peak memory, and when `volledig` also
    the latency of all three at LOADS of the engine's rate and replay against raw consume."""
    broker("start")
    try:
        asyncio.run(topics())
        uit: dict[str, Any] = {"message_bytes": asyncio.run(meting.vul(partner(), SOURCE, N))}
        asyncio.run(meting.laad_index(kafka(), identifiers))
        asyncio.run(meting.doorgeven(kafka(), SOURCE, RAW_OUT, N))
        uit["raw"] = N / asyncio.run(meting.tijdspanne(kafka(), RAW_OUT, N, 120))
        asyncio.run(meting.doorgeven(kafka(), SOURCE, RAW_EOS_OUT, N, eos=True))
        uit["raw_eos"] = N / asyncio.run(meting.tijdspanne(kafka(), RAW_EOS_OUT, N, 120))
        workers = engine_workers()
        try:
            verbruik = meting.Verbruik(*gezond(workers), kern=BENCH_CORE)
            uit["engine"] = N / asyncio.run(meting.tijdspanne(kafka(), ENGINE_OUT, N, 900))
            uit["verbruik"] = verbruik.stop(per=N)
            uit["peak_mb"] = {rol: meting.piek_geheugen_mb(w.pid) for rol, w in workers.items()}
            if volledig:
                # The backlog's last transactions and the projections done, every partition idle long
                # enough to be left to the doorbells (ENGINE_IDLE_PARTITION_S): the steady idle state.
                time.sleep(15)
                stil = meting.Verbruik(*gezond(workers), kern=BENCH_CORE)
                time.sleep(IDLE_SECONDS)
                uit["stil"] = stil.stop()
                uit["eerste_signaal_s"] = asyncio.run(
                    meting.eerste_signaal(kafka(), partner("douane"), "douane", ENGINE_OUT)
                )
                print(f"idle: {uit['stil']}; an idle partner's first signal: {uit['eerste_signaal_s']} s")
            print(f"{identifiers:,} identifiers: raw {uit['raw']:.0f}, raw eos {uit['raw_eos']:.0f}, "
                  f"engine {uit['engine']:.0f} msg/s; peak MB {uit['peak_mb']}")  # fmt: skip
            if volledig:
                uit["lat"] = {}
                for load in LOADS:
                    rate = uit["engine"] * load / 100
                    gemeten = meting.latentie(
                        kafka(), partner(), SOURCE, ENGINE_OUT, rate, LATENCY_SECONDS, meting.gemeld_op
                    )
                    uit["lat"][load] = {"rate": rate, "engine": asyncio.run(gemeten)}
                    print(f"engine latency at {load}% ({rate:.0f} msg/s): {uit['lat'][load]['engine']}")
        finally:
            stop(workers)
        if volledig:
            for load in LOADS:
                rate = uit["lat"][load]["rate"]
                uit["lat"][load]["raw"] = raw_latentie(RAW_LAT_OUT, rate, eos=False)
                uit["lat"][load]["raw_eos"] = raw_latentie(RAW_EOS_OUT, rate, eos=True)
                print(f"raw latency at {load}%: {uit['lat'][load]['raw']}, eos {uit['lat'][load]['raw_eos']}")
            uit["replay"], uit["raw_consume"] = asyncio.run(replay())
            print(f"replay: {uit['replay']:.0f} events/s, raw consume {uit['raw_consume']:.0f} events/s")
        return uit
    finally:
        broker("stop")


GOALS = {
    "engine_vs_raw": ">= 0.5",
    "engine_vs_raw_eos": ">= 0.6 (stretch 0.8)",
    "match_1m_vs_1k": ">= 0.9",
    "engine_latency_p99_ms": "< 500",
    "engine_latency_p50_25pct_ms": "< 150",
    "p99_vs_raw_eos": "<= 4",
    "replay_vs_raw": ">= 0.5",
    "idle_routing_worker_percent_of_a_core": "< 2",
    "first_signal_idle_partner_s": "< 1",
}


def main() -> None:
    if NO_EXTENSIONS:
        sys.exit("aiokafka's C extension is not built: the figures would be ~6x too low")
    # Each round creates its topics and writes at once: until a new partition's leader is ready the
    # broker answers NotLeaderForPartition and aiokafka logs every retry (hundreds of lines). A send
    # that still fails raises, so nothing is hidden by quieting the retries.
    logging.getLogger("aiokafka.producer.sender").setLevel(logging.ERROR)
    os.sched_setaffinity(
        0, {BENCH_CORE}
    )  # Python on core 1 (the worker and the raw loop inherit it); broker on 0
    when = datetime.now(UTC).isoformat(timespec="seconds")
    if SNEL:
        print(json.dumps(ronde(1_000, volledig=True), indent=1, default=str))
        return
    # Throughput is the best of two rounds per index size: single rounds varied by up to 30% here.
    k1 = [ronde(1_000, volledig=True), ronde(1_000, volledig=False)]
    m1 = [ronde(1_000_000, volledig=False), ronde(1_000_000, volledig=False)]
    eerste = k1[0]
    raw, raw_eos, engine = (max(r[k] for r in k1) for k in ("raw", "raw_eos", "engine"))
    match_1m = max(r["engine"] for r in m1)
    half = eerste["lat"][50]
    result: dict[str, Any] = {
        "when": when,
        "messages": N,
        "message_bytes": eerste["message_bytes"],
        "rounds_per_figure": 2,
        "roles": list(ROLLEN),
        "raw_passthrough_msgs_per_s": round(raw),
        "raw_eos_passthrough_msgs_per_s": round(raw_eos),
        "engine_msgs_per_s": round(engine),
        "engine_vs_raw": round(engine / raw, 3),
        "engine_vs_raw_eos": round(engine / raw_eos, 3),
        "match_open_1k_msgs_per_s": round(engine),
        "match_open_1m_msgs_per_s": round(match_1m),
        "match_1m_vs_1k": round(match_1m / engine, 3),
        "latency_rate_msgs_per_s": round(half["rate"]),
        "engine_latency_p50_ms": half["engine"]["p50_ms"],
        "engine_latency_p99_ms": half["engine"]["p99_ms"],
        "engine_latency_p999_ms": half["engine"]["p999_ms"],
        "raw_latency_p50_ms": half["raw"]["p50_ms"],
        "raw_latency_p99_ms": half["raw"]["p99_ms"],
        "raw_eos_latency_p50_ms": half["raw_eos"]["p50_ms"],
        "raw_eos_latency_p99_ms": half["raw_eos"]["p99_ms"],
        "p99_vs_raw": round(half["engine"]["p99_ms"] / half["raw"]["p99_ms"], 2),
        "p99_vs_raw_eos": round(half["engine"]["p99_ms"] / half["raw_eos"]["p99_ms"], 2),
        "engine_latency_p50_25pct_ms": eerste["lat"][25]["engine"]["p50_ms"] if 25 in eerste["lat"] else None,
        # CPU per signal of each process over the backlog (from /health 200 to the last route), the
        # bench's core's idle share meanwhile, and the workers' Kafka requests by type.
        "cpu_ms_per_signal": eerste["verbruik"]["cpu_ms_per_signal"],
        "core_idle_share_backlog": eerste["verbruik"]["core_idle_share"],
        "kafka_requests_backlog": eerste["verbruik"]["kafka_requests"],
        # The same with nothing arriving, for IDLE_SECONDS after the backlog.
        "idle_percent_of_a_core": eerste["stil"]["cpu_percent_of_a_core"],
        "idle_routing_worker_percent_of_a_core": eerste["stil"]["cpu_percent_of_a_core"][ROLLEN[0]],
        "kafka_requests_idle": eerste["stil"]["kafka_requests"],
        "first_signal_idle_partner_s": eerste["eerste_signaal_s"],
        "latency_by_load": {
            f"{load}%": {
                "rate_msgs_per_s": round(v["rate"]),
                **{k: v[k] for k in ("engine", "raw", "raw_eos")},
            }
            for load, v in eerste["lat"].items()
        },
        "replay_events_per_s": round(eerste["replay"]),
        "raw_consume_events_per_s": round(eerste["raw_consume"]),
        "replay_vs_raw": round(eerste["replay"] / eerste["raw_consume"], 3),
        # Summed over the engine's processes (one per role), as before the roles were split.
        "peak_memory_1k_identifiers_mb": round(max(sum(r["peak_mb"].values()) for r in k1), 1),
        "peak_memory_1m_identifiers_mb": round(max(sum(r["peak_mb"].values()) for r in m1), 1),
        "peak_memory_1m_identifiers_mb_per_role": {rol: max(r["peak_mb"][rol] for r in m1) for rol in ROLLEN},
        "single_rounds_msgs_per_s": {
            "raw_1k": [round(r["raw"]) for r in k1],
            "raw_eos_1k": [round(r["raw_eos"]) for r in k1],
            "engine_1k": [round(r["engine"]) for r in k1],
            "engine_1m": [round(r["engine"]) for r in m1],
        },
    }
    (ROOT / "bench" / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{'figure':<34}{'value':>14}  goal")
    for k, v in result.items():
        if not isinstance(v, dict):
            print(f"{k:<34}{v!s:>14}  {GOALS.get(k, '')}")


if __name__ == "__main__":
    main()
