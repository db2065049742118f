"""The measurements of `make bench`, each the same for the engine and for its raw baseline.

Throughput is taken from the Kafka timestamps of the first and last output record (start-up not
counted). Latency is the time from the moment a message was *meant* to be sent (open-loop pacing at
a fixed rate: message i at start + i / rate, carried in its `ce_time` header, which the engine copies
into the routed message as `gemeld_op`) to the moment a read_committed consumer has it. Counting
from the intended time, not the actual send, keeps a stall of the sender or the broker in the
figures instead of hiding it (coordinated omission).

Two baselines: the raw passthrough (consume → produce, no transaction: the physical limit of a
Python consumer) and the raw exactly-once passthrough (the same loop, each poll one transaction
holding its outputs and its consumed offsets, read_committed: what exactly-once costs by itself).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from engine.kafka import clients
from engine.kafka.projecties import lees_tot
from engine.kafka.stage import RETRY_BACKOFF_MS, partition_for
from engine.settings import KafkaConnection
from engine.topics import CASUSINDEX

Record = ConsumerRecord[bytes, bytes]
IN_INDEX_KVK = 10_000_000
"""Signals carry kvk 10_000_000 + i % 20_000; kvk 10_000_000..10_000_999 are in every index, so 5%
of the signals match an open casus whatever the size of the index."""
BUITEN_KVK = 50_000_000
"""The identifiers a large index holds beyond those 1,000: no signal carries them."""


def signaal(i: int, bedoeld: datetime | None = None) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A signal of about 1 KB about Rotterdam, with one company; `ce_time` is when it was meant to
    be sent (now, unless paced)."""
    body = {
        "soort": "signaal", "themas": ["witwassen", "vastgoed"], "waargenomen_op": "2026-03-01",
        "omschrijving": "Contante aankoop van een pand ver boven de WOZ-waarde. " * 15,
        "locatie": {"gemeente": "GM0599"},
        "subjecten": [{"type": "rechtspersoon", "kvk": f"{IN_INDEX_KVK + i % 20_000}", "sbi": ["6831"]}],
    }  # fmt: skip
    headers = {
        "ce_specversion": "1.0", "ce_id": f"bench-{uuid.uuid4()}", "ce_source": "urn:nl:riec:partner:politie",
        "ce_type": "nl.riec.signaal.v1", "ce_time": (bedoeld or datetime.now(UTC)).isoformat(),
        "content-type": "application/json",
    }  # fmt: skip
    return orjson.dumps(body), [(k, v.encode()) for k, v in headers.items()]


def producer(kafka: KafkaConnection, **kwargs: object) -> AIOKafkaProducer:
    """The producer settings both sides use (the engine's stage producers retry as soon: see
    `engine.kafka.stage.RETRY_BACKOFF_MS`)."""
    return clients.producer(
        kafka, **{"linger_ms": 5, "acks": "all", "retry_backoff_ms": RETRY_BACKOFF_MS, **kwargs}
    )


async def vul(kafka: KafkaConnection, topic: str, n: int) -> int:
    """Write n signals to `topic`; returns their mean size in bytes."""
    p = producer(kafka)
    await p.start()
    size = 0
    for i in range(n):
        value, headers = signaal(i)
        size += len(value)
        await p.send(topic, value, headers=headers)
    await p.flush()
    await p.stop()
    return size // n


async def laad_index(kafka: KafkaConnection, n: int) -> None:
    """n open-casus identifiers in the index's changelog (ten per casus, all of RIEC Den Haag), on
    the partition the engine's zoekindex restores them from."""
    p = producer(kafka, partitioner=partition_for, linger_ms=50, max_batch_size=256 * 1024)
    await p.start()
    for j in range(n):
        kvk = IN_INDEX_KVK + j if j < 1000 else BUITEN_KVK + j
        entry = orjson.dumps({f"CASUS-BENCH-{j // 10}": "den-haag"})
        await p.send(CASUSINDEX, entry, key=f"kvk:{kvk}".encode())
    await p.flush()
    await p.stop()


async def tijdspanne(kafka: KafkaConnection, topic: str, expected: int, timeout: float) -> float:
    """Seconds between the first and the last output record, once `expected` records are there."""
    consumer = clients.consumer(kafka, isolation_level="read_committed")
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


async def doorgeven(
    kafka: KafkaConnection, source: str, target: str, n: int, *, eos: bool = False, vanaf_eind: bool = False
) -> None:
    """A plain aiokafka consume → produce loop over n messages: the physical limit. With `eos`, each
    poll is one transaction holding its outputs and the consumed offsets, read_committed. From the
    source's end with `vanaf_eind` (a latency run: only what is sent from now on)."""
    group = f"riec-bench-raw-{uuid.uuid4().hex[:8]}"  # the engine principal's prefix (acls.py)
    consumer = clients.consumer(
        kafka, group_id=group if eos else None, enable_auto_commit=False,
        isolation_level="read_committed" if eos else "read_uncommitted",
    )  # fmt: skip
    p = producer(kafka, transactional_id=group) if eos else producer(kafka)
    await consumer.start()
    await p.start()
    tp = TopicPartition(source, 0)
    consumer.assign([tp])  # no group membership: no rebalance delay before the first message
    await (consumer.seek_to_end(tp) if vanaf_eind else consumer.seek_to_beginning(tp))
    await consumer.position(tp)
    done = 0
    while done < n:
        for records in (await consumer.getmany(timeout_ms=500, max_records=2000)).values():
            if eos:
                async with p.transaction():
                    for r in records:
                        await p.send(target, r.value, key=r.key, headers=list(r.headers))
                    await p.send_offsets_to_transaction({tp: records[-1].offset + 1}, group)
            else:
                for r in records:
                    await p.send(target, r.value, key=r.key, headers=list(r.headers))
            done += len(records)
    await p.flush()
    await consumer.stop()
    await p.stop()


def _doorgeven_in_eigen_proces(kafka: KafkaConnection, source: str, target: str, n: int, eos: bool) -> None:
    asyncio.run(doorgeven(kafka, source, target, n, eos=eos, vanaf_eind=True))


def raw_proces(
    kafka: KafkaConnection, source: str, target: str, n: int, *, eos: bool = False
) -> multiprocessing.Process:
    """The raw loop in a process of its own, as the engine's worker is (same core: inherited)."""
    process = multiprocessing.get_context("fork").Process(
        target=_doorgeven_in_eigen_proces, args=(kafka, source, target, n, eos), daemon=True
    )
    process.start()
    return process


def ce_time_header(r: Record) -> datetime:
    return datetime.fromisoformat(next(v for k, v in r.headers if k == "ce_time").decode())


def gemeld_op(r: Record) -> datetime:
    return datetime.fromisoformat(orjson.loads(r.value)["gemeld_op"])


async def latentie(
    kafka: KafkaConnection,
    afzender: KafkaConnection,
    source: str,
    target: str,
    rate: float,
    seconds: float,
    verzonden_op: Callable[[Record], datetime],
) -> dict[str, float]:
    """p50/p99/p99.9 in ms from the intended send time (as `afzender`, open loop at `rate`) to a
    read_committed consumer of `target` (as `kafka`)."""
    n = int(rate * seconds)
    # A dashboard-like reader that asks often, the same for both sides (see Settings.fetch_max_wait_ms).
    consumer = clients.consumer(kafka, isolation_level="read_committed", fetch_max_wait_ms=20)
    await consumer.start()
    tp = TopicPartition(target, 0)
    consumer.assign([tp])
    await consumer.seek_to_end(tp)
    await consumer.position(tp)  # positioned before the first message is sent

    async def ontvang() -> list[float]:
        latencies: list[float] = []
        deadline = time.monotonic() + seconds + 120
        while len(latencies) < n and time.monotonic() < deadline:
            for records in (await consumer.getmany(tp, timeout_ms=200)).values():
                now = datetime.now(UTC)
                latencies += [(now - verzonden_op(r)).total_seconds() * 1000 for r in records]
        return latencies

    async def stuur() -> None:
        p = producer(afzender)
        await p.start()
        start, begin = time.monotonic(), datetime.now(UTC)
        for i in range(n):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            value, headers = signaal(i, bedoeld=begin + timedelta(seconds=i / rate))
            await p.send(source, value, headers=headers)
        await p.flush()
        await p.stop()

    try:
        latencies, _ = await asyncio.gather(ontvang(), stuur())
    finally:
        await consumer.stop()
    if len(latencies) < n:
        raise RuntimeError(f"{target}: {len(latencies)} of {n} paced messages arrived")
    q = statistics.quantiles(latencies, n=1000)
    return {
        "p50_ms": round(q[499], 1), "p99_ms": round(q[989], 1), "p999_ms": round(q[998], 1),
        "messages": n, "rate_per_s": round(rate),
    }  # fmt: skip


async def lees_alles(kafka: KafkaConnection, tot: dict[TopicPartition, int]) -> int:
    """The raw side of replay: the same reader as the projections' rebuild, folding nothing."""
    return sum([len(records) async for _, records in lees_tot(kafka, tot)])


def piek_geheugen_mb(pid: int) -> float:
    """The peak resident set size of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM for pid {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat."""
    rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def core(nummer: int) -> tuple[float, float]:
    """(idle, total) jiffies of one core so far, from /proc/stat (idle includes iowait)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{nummer} "):
            v = [int(x) for x in line.split()[1:9]]
            return v[3] + v[4], sum(v)
    raise RuntimeError(f"no cpu{nummer} in /proc/stat")


def verzoeken(url: str) -> dict[str, tuple[float, float]]:
    """Per Kafka request type: (requests sent, CPU seconds encoding and decoding them) so far, from
    a worker's /metrics (`riec_kafka_requests_total`, `riec_kafka_request_cpu_seconds_total`)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
        text = r.read().decode()
    n: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "riec_kafka_requests_total":
                n[s.labels["api"]] = s.value
            elif s.name == "riec_kafka_request_cpu_seconds_total":
                cpu[s.labels["api"]] = s.value
    return {api: (n[api], cpu.get(api, 0.0)) for api in n}


class Verbruik:
    """CPU of each process and of the bench's core, and the workers' Kafka requests, between
    `__init__` and `stop()`: per signal (`per`) or per second."""

    def __init__(self, pids: dict[str, int], urls: dict[str, str], kern: int) -> None:
        self.pids, self.urls, self.kern = pids, urls, kern
        self.begin = time.monotonic()
        self.cpu = {naam: cpu_s(pid) for naam, pid in pids.items()}
        self.kern_begin = core(kern)
        self.verzoeken = {naam: verzoeken(url) for naam, url in urls.items()}

    def stop(self, per: int | None = None) -> dict[str, object]:
        """CPU ms per signal (per=N) or % of a core (per=None) of each process; the core's idle share;
        requests per second by worker and type, with the CPU µs each costs."""
        seconden = time.monotonic() - self.begin
        deler = per if per else seconden
        schaal = 1000 if per else 100  # ms per signal, or % of a core
        idle, total = (a - b for a, b in zip(core(self.kern), self.kern_begin, strict=True))
        verzoeken_nu = {naam: verzoeken(url) for naam, url in self.urls.items()}
        per_type: dict[str, dict[str, object]] = {}
        for naam, nu in verzoeken_nu.items():
            voor = self.verzoeken[naam]
            per_type[naam] = {
                api: {
                    "per_s": round((n - voor.get(api, (0, 0))[0]) / seconden, 1),
                    "cpu_us_each": round(
                        (c - voor.get(api, (0, 0))[1]) / max(1.0, n - voor.get(api, (0, 0))[0]) * 1e6, 1
                    ),
                }
                for api, (n, c) in sorted(nu.items())
                if n > voor.get(api, (0, 0))[0]
            }
        return {
            "seconds": round(seconden, 1),
            ("cpu_ms_per_signal" if per else "cpu_percent_of_a_core"): {
                naam: round((cpu_s(pid) - self.cpu[naam]) / deler * schaal, 3)
                for naam, pid in self.pids.items()
            },
            "core_idle_share": round(idle / total, 3) if total else None,
            "kafka_requests": per_type,
        }


async def eerste_signaal(kafka: KafkaConnection, afzender: KafkaConnection, org: str, target: str) -> float:
    """Seconds from sending one signal on partner `org`'s topic (idle until now) until its route is
    on `target` (read_committed)."""
    consumer = clients.consumer(kafka, isolation_level="read_committed", fetch_max_wait_ms=20)
    await consumer.start()
    tp = TopicPartition(target, 0)
    consumer.assign([tp])
    await consumer.seek_to_end(tp)
    await consumer.position(tp)
    p = producer(afzender)
    await p.start()
    try:
        value, headers = signaal(0)
        headers = [(k, f"urn:nl:riec:partner:{org}".encode() if k == "ce_source" else v) for k, v in headers]
        begin = time.monotonic()
        await p.send_and_wait(f"partner.{org}.signalen", value, headers=headers)
        while time.monotonic() - begin < 60:
            if any((await consumer.getmany(tp, timeout_ms=100)).values()):
                return round(time.monotonic() - begin, 3)
        raise RuntimeError(f"the first signal of partner {org} was not routed within 60 s")
    finally:
        await p.stop()
        await consumer.stop()
