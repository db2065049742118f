"""`make bench`: the engine against the physical limit of a Python consumer on the same broker.

Both sides read the same pre-filled partner topic (same messages of about 1 KB, same partition
count) and write with the same producer settings (acks=all, linger 5 ms) on the same event loop
implementation, with the broker pinned to one core and Python to the other. Throughput is taken
from the Kafka timestamps of the first and last output record, so start-up time is not counted.
Writes bench/latest.json and prints a table. Never part of `make test`.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.util import NO_EXTENSIONS

ROOT = Path(__file__).resolve().parents[1]
PORT = int(os.environ.get("BENCH_KAFKA_PORT", "29092"))
BOOTSTRAP = f"127.0.0.1:{PORT}"
N = int(os.environ.get("BENCH_MESSAGES", "20000"))
SOURCE = "partner.politie.signalen"
RAW_OUT = "bench.raw.out"
ENGINE_OUT = "routes.riec.rotterdam"


def broker(command: str) -> None:
    env = {**os.environ, "KAFKA_PORT": str(PORT), "KAFKA_STATE": str(ROOT / ".local/kafka-bench"),
           "KAFKA_FRESH": "1", "KAFKA_CPUS": "0"}  # fmt: skip
    subprocess.run([str(ROOT / "deploy/local/kafka.sh"), command], check=True, env=env)


def signal(i: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    body = {
        "soort": "signaal", "themas": ["witwassen", "vastgoed"], "waargenomen_op": "2026-03-01",
        "omschrijving": "Contante aankoop van een pand ver boven de WOZ-waarde. " * 15,
        "locatie": {"gemeente": "GM0599"},
        "subjecten": [{"type": "rechtspersoon", "kvk": f"{10_000_000 + i % 90_000_000}", "sbi": ["6831"]}],
    }  # fmt: skip
    headers = {"ce_specversion": "1.0", "ce_id": f"bench-{uuid.uuid4()}", "ce_source": "urn:nl:riec:partner:politie",
               "ce_type": "nl.riec.signaal.v1", "ce_time": datetime.now(UTC).isoformat(), "content-type": "application/json"}  # fmt: skip
    return orjson.dumps(body), [(k, v.encode()) for k, v in headers.items()]


async def fill() -> int:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    await admin.create_topics([NewTopic(SOURCE, 1, 1), NewTopic(RAW_OUT, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=5, acks="all")
    await producer.start()
    size = 0
    for i in range(N):
        value, headers = signal(i)
        size += len(value)
        await producer.send(SOURCE, value, headers=headers)
    await producer.flush()
    await producer.stop()
    return size // N


async def span(topic: str, expected: int, timeout: float) -> float:
    """Seconds between the first and the last output record, once `expected` records are there."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=BOOTSTRAP, isolation_level="read_committed", enable_auto_commit=False
    )
    await consumer.start()
    tp = TopicPartition(topic, 0)
    deadline = time.monotonic() + timeout
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        first = last = None
        seen = 0
        while seen < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(tp, timeout_ms=1000, max_records=10_000)).values():
                for r in records:
                    first = first if first is not None else r.timestamp
                    last = r.timestamp
                    seen += 1
        if seen < expected or first is None or last is None:
            raise RuntimeError(f"{topic}: {seen} of {expected} records within {timeout} s")
        return max(0.001, (last - first) / 1000)
    finally:
        await consumer.stop()


async def raw_passthrough() -> None:
    """The physical limit: a plain aiokafka consume → produce loop over the same messages."""
    consumer = AIOKafkaConsumer(SOURCE, bootstrap_servers=BOOTSTRAP, group_id="bench-raw",
                                auto_offset_reset="earliest", enable_auto_commit=False)  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=5, acks="all")
    await consumer.start()
    await producer.start()
    done = 0
    while done < N:
        for records in (await consumer.getmany(timeout_ms=500, max_records=2000)).values():
            for r in records:
                await producer.send(RAW_OUT, r.value, key=r.key, headers=list(r.headers))
            done += len(records)
    await producer.flush()
    await consumer.stop()
    await producer.stop()


def engine_worker() -> subprocess.Popen[bytes]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP, "ENGINE_PSEUDONYM_KEY": secrets.token_hex(32),
           "ENGINE_WEB_PORT": "26066", "ENGINE_APP_ID": "riec-bench", "ENGINE_WORKER_ID": "bench",
           "ENGINE_DATA_DIR": str(ROOT / ".local/engine-bench")}  # fmt: skip
    log = (ROOT / ".local/bench-worker.log").open("wb")
    return subprocess.Popen(["taskset", "-c", "1", sys.executable, "-m", "engine", "worker", "-l", "warn"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip


def main() -> None:
    if NO_EXTENSIONS:
        sys.exit("aiokafka's C extension is not built: the figures would be ~6x too low")
    os.sched_setaffinity(0, {1})  # Python on core 1; the broker on core 0
    broker("start")
    worker = None
    try:
        size = asyncio.run(fill())
        raw_started = time.monotonic()
        asyncio.run(raw_passthrough())
        raw_s = asyncio.run(span(RAW_OUT, N, 120))
        print(f"raw passthrough: {N} messages in {raw_s:.2f} s (wall {time.monotonic() - raw_started:.1f} s)")
        worker = engine_worker()
        engine_s = asyncio.run(span(ENGINE_OUT, N, 600))
        print(f"engine: {N} messages routed in {engine_s:.2f} s")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        broker("stop")
    raw, engine = N / raw_s, N / engine_s
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "messages": N,
        "message_bytes": size,
        "raw_passthrough_msgs_per_s": round(raw),
        "engine_msgs_per_s": round(engine),
        "engine_vs_raw": round(engine / raw, 3),
        "not_yet_measured": [
            "match_open_1k/1m",
            "latency p50/p99",
            "replay_vs_raw",
            "peak memory with 1M identifiers",
        ],
    }
    (ROOT / "bench" / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"\n{'figure':<32}{'value':>12}\n"
        + "\n".join(f"{k:<32}{v!s:>12}" for k, v in result.items() if k != "not_yet_measured")
    )


if __name__ == "__main__":
    main()
