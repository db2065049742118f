"""Faults on the real broker: the broker crashes mid-stream; partners send duplicates and
generated garbage. Nothing acknowledged is lost, nothing is counted twice, nothing stalls."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import NewPartitions
from aiokafka.errors import KafkaTimeoutError

from engine.projections.staat import ProjectieStaat
from engine.topics import DLQ, SIGNAAL_LOG, partner_topic
from tests.fixtures import encode, headers, payload
from tests.pipeline import kafka as test_kafka
from tests.pipeline.casus_helpers import ROUTE_TOPICS, bsn
from tests.pipeline.conftest import Worker, kafka
from tests.pipeline.kafka import Record, header, is_signaal, read_until
from tests.pipeline.malformed import Malformed, generate

pytestmark = pytest.mark.pipeline


def _crash_and_restart_broker() -> None:
    kafka("kill")
    time.sleep(2)
    kafka("start")  # same state: what was acknowledged before the crash must still be there


async def test_broker_crash_mid_stream_loses_nothing_acknowledged(worker: Worker, broker: str) -> None:
    n, run = 3000, uuid.uuid4().hex[:8]
    body = encode(payload(locatie={"gemeente": "GM0307"}))  # Amersfoort: RIEC Midden-Nederland
    # Patient like a partner's client: the broker's restart (TLS, a loaded machine) can take tens of
    # seconds, and a send that still times out simply counts as not acknowledged.
    producer = test_kafka.producer(broker, acks="all", enable_idempotence=True, request_timeout_ms=120_000)
    await producer.start()
    try:
        sent: dict[str, asyncio.Future[Any]] = {}
        crash = None
        for i in range(n):
            ce_id = f"{run}-n{i}"  # a letter between: "…38139-1000" would read as a BSN
            try:
                sent[ce_id] = await producer.send("partner.om.signalen", body, headers=headers("om", ce_id))
            except KafkaTimeoutError as e:
                sent[ce_id] = asyncio.get_running_loop().create_future()
                sent[ce_id].set_exception(e)
            await asyncio.sleep(0.003)  # a steady stream of ~300 signals/s, so the crash is mid-stream
            if i == n // 3:
                crash = asyncio.get_running_loop().run_in_executor(None, _crash_and_restart_broker)
        assert crash is not None
        await crash
        outcomes = await asyncio.gather(*sent.values(), return_exceptions=True)
    finally:
        await producer.stop()
    acknowledged = {
        ce_id for ce_id, o in zip(sent, outcomes, strict=True) if not isinstance(o, BaseException)
    }
    assert len(acknowledged) > n // 3

    def ours(record: Record) -> bool:
        return run.encode() in (record.key or b"")

    routed = await read_until(
        broker,
        ["routes.riec.midden-nederland"],
        lambda f: {orjson.loads(r.value)["signaal_id"] for r in f} >= {f"om:{c}" for c in acknowledged},
        match=ours,
        timeout=180,
        linger=3,
    )
    per_signal = Counter(orjson.loads(r.value)["signaal_id"] for r in routed)
    assert {f"om:{c}" for c in acknowledged} <= set(per_signal), "every acknowledged signal routed"
    assert max(per_signal.values()) == 1, "no signal routed twice"
    assert worker.process.poll() is None, "the worker rode out the broker's crash"


# --- 5% duplicates and 1,000 generated malformed messages ---------------------------------------

ORG = "kmar"
TOPIC = partner_topic(ORG)
PARTITIONS = 4
GEMEENTEN = ["GM0363", "GM0599", "GM0014", "GM0344", "GM0518", "GM0855", "GM0935", "GM0153", "GM0772"]
THEMAS = ["witwassen", "drugs", "mensenhandel", "vastgoed", "logistiek"]


async def _at_least_partitions(broker: str, topic: str, n: int) -> None:
    admin = test_kafka.admin(broker)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        if len(described["partitions"]) < n:
            await admin.create_partitions({topic: NewPartitions(total_count=n)})
    finally:
        await admin.close()


class Stroom:
    """N signals that differ in place, theme and subjects; sent twice (clean, then dirty) under
    different ce_ids with the same content and ce_time, so their projections must be equal."""

    def __init__(self, n: int) -> None:
        self.run = uuid.uuid4().hex[:8]
        print(f"stream run={self.run} (the seed of its random duplicates)")
        rng = random.Random(self.run)
        kvk = rng.randrange(20_000_000, 90_000_000)
        start = datetime(2026, 5, 1, tzinfo=UTC)
        self.signalen = [
            (
                encode(
                    payload(
                        themas=[THEMAS[i % len(THEMAS)]],
                        locatie={"gemeente": GEMEENTEN[i % len(GEMEENTEN)]},
                        subjecten=[
                            {"type": "rechtspersoon", "kvk": str(kvk + i)},
                            {"type": "persoon", "bsn": bsn()},
                        ],
                    )
                ),
                (start + timedelta(minutes=i)).isoformat(),
            )
            for i in range(n)
        ]

    def ce_id(self, soort: str, i: int) -> str:
        return f"{self.run}-{soort}-{i}"

    def prefix(self, soort: str) -> str:
        return f"{ORG}:{self.run}-{soort}-"

    async def stuur(self, producer: AIOKafkaProducer, soort: str, i: int) -> asyncio.Future[Any]:
        value, ce_time = self.signalen[i]
        hs = headers(ORG, self.ce_id(soort, i), ce_time=ce_time)
        fut: asyncio.Future[Any] = await producer.send(TOPIC, value, key=uuid.uuid4().bytes, headers=hs)
        return fut


async def _stuur_malformed(producer: AIOKafkaProducer, m: Malformed, ce_id: str) -> asyncio.Future[Any]:
    hs = [(k, v) for k, v in headers(ORG, ce_id, **m.header_overrides) if k != m.dropped_header]
    fut: asyncio.Future[Any] = await producer.send(TOPIC, m.value, key=uuid.uuid4().bytes, headers=hs)
    return fut


async def _projecties(broker: str, prefix: str, n: int) -> tuple[ProjectieStaat, list[Record]]:
    """The projections of one stream's signals, folded by the engine's own read models from what
    is on the log and the route topics (read_committed)."""

    def ours(r: Record) -> bool:
        return (r.key or b"").decode(errors="replace").startswith(prefix)

    log = await read_until(
        broker,
        [SIGNAAL_LOG],
        lambda f: len(f) >= n,
        match=lambda r: ours(r) and is_signaal(r),
        timeout=120,
        linger=1,
    )
    routed = await read_until(
        broker,
        ROUTE_TOPICS,
        lambda f: len({r.key for r in f}) >= n,
        match=ours,
        timeout=120,
        linger=3,  # a signal's further destinations
    )
    staat = ProjectieStaat()
    for r in [*log, *routed]:
        staat.pas_toe(r.topic, r.value)
    return staat, log + routed


def _vergelijkbaar(staat: ProjectieStaat, prefix: str) -> Any:
    """Canonical projections without what differs between two runs of the same input: the ids'
    run prefix and the moments of receipt and decision."""
    canon = staat.canoniek()
    for items in canon["inbox"].values():
        for item in items:
            item.pop("ontvangen_op", None)
            item.pop("besloten_op", None)
        items.sort(key=lambda m: m["signaal_id"])
    return orjson.loads(orjson.dumps(canon).replace(prefix.encode(), b"<run>"))


async def _onverwerkt(broker: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    """Per partition of `topic`: records the group has not committed yet."""
    admin = test_kafka.admin(broker)
    consumer = test_kafka.consumer(broker)
    await admin.start()
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        ends = await consumer.end_offsets(tps)
        return {tp.partition: ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps}
    finally:
        await consumer.stop()
        await admin.close()


@pytest.fixture
async def producer(worker: Worker, broker: str) -> AsyncIterator[AIOKafkaProducer]:
    """A producer that knows of the partitions added to the partner topic (a session-wide one may
    have cached the topic's metadata from before)."""
    await _at_least_partitions(broker, TOPIC, PARTITIONS)
    async with test_kafka.producer(broker) as p:
        yield p


async def test_duplicates_and_malformed_input_leave_the_projections_of_a_clean_run(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    n, n_malformed = 1000, 1000
    stroom = Stroom(n)

    for i in range(n):
        await stroom.stuur(producer, "schoon", i)
    await producer.flush()
    schoon, _ = await _projecties(broker, stroom.prefix("schoon"), n)

    rng = random.Random(stroom.run)
    malformed = generate(n_malformed)
    werk: list[tuple[str, Any]] = [
        *(("signaal", i) for i in range(n)),
        *(("duplicaat", i) for i in rng.sample(range(n), n // 20)),
        *(("malformed", m) for m in malformed),
    ]
    rng.shuffle(werk)
    refused: dict[tuple[int, int], bytes] = {}
    pending = []
    for j, (soort, item) in enumerate(werk):
        if soort == "malformed":
            pending.append((item.value, await _stuur_malformed(producer, item, f"{stroom.run}-m-{j}")))
        else:
            await stroom.stuur(producer, "vuil", item)
    for value, fut in pending:
        meta = await fut
        refused[(meta.partition, meta.offset)] = value
    assert len({p for p, _ in refused}) == PARTITIONS, "the garbage is spread over every partition"

    vuil, records = await _projecties(broker, stroom.prefix("vuil"), n)
    assert _vergelijkbaar(vuil, stroom.prefix("vuil")) == _vergelijkbaar(schoon, stroom.prefix("schoon"))
    per_topic = Counter((r.topic, r.key) for r in records)
    assert max(per_topic.values()) == 1, "no duplicate on the log or any route topic"

    def from_us(r: Record) -> bool:
        position = (int(header(r, "source_partition") or -1), int(header(r, "source_offset") or -1))
        return header(r, "source_topic") == TOPIC and position in refused

    dlq = await read_until(
        broker, [DLQ], lambda f: len(f) >= n_malformed, match=from_us, timeout=120, linger=2
    )
    kept = {(int(header(r, "source_partition") or -1), int(header(r, "source_offset") or -1)): r for r in dlq}
    assert len(dlq) == len(kept) == n_malformed, "every malformed message in the DLQ, once"
    for position, record in kept.items():
        assert record.value == refused[position], "with its original bytes"
        assert len(header(record, "reason") or "") > 15 and header(record, "reason_code")

    async def nothing_left() -> dict[int, int]:
        deadline = time.monotonic() + 30
        left = await _onverwerkt(broker, "riec-engine-test-ingress", TOPIC, PARTITIONS)
        while any(left.values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            left = await _onverwerkt(broker, "riec-engine-test-ingress", TOPIC, PARTITIONS)
        return left

    assert await nothing_left() == {p: 0 for p in range(PARTITIONS)}, "no partition stalls"
