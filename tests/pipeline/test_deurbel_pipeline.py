"""The front door's doorbell (engine/kafka/doorbell.py) on the session's worker: partner partitions
without a record for ENGINE_IDLE_PARTITION_S (10 s) are no longer fetched by the front door; a
signal on any of them is still routed, at once and exactly once, and its partition is fetched again.

Every other pipeline test runs with the doorbell too: most of their signals arrive on partitions
that were idle."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures import encode, headers, payload
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import read_until

pytestmark = pytest.mark.pipeline
PARTNERS = ["gm0014", "gm0034", "douane", "fiod", "gm0599", "belastingdienst"]


def _gepauzeerd(worker: Worker) -> int:
    for family in text_string_to_metric_families(worker.get("/metrics")):
        for s in family.samples:
            if s.name == "riec_stage_partitions_paused" and s.labels.get("stage") == "ingress":
                return int(s.value)
    return 0


async def _tot_gepauzeerd(worker: Worker, minstens: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while (n := _gepauzeerd(worker)) < minstens:
        assert time.monotonic() < deadline, f"only {n} partitions paused"
        await asyncio.sleep(0.5)
    return n


async def test_idle_partitions_are_paused_and_their_signals_routed_once_at_once(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    # Given: the front door has paused (nearly) every partner partition
    voor = await _tot_gepauzeerd(worker, 300)

    # When: signals arrive on six idle partner topics, the first alone, then a burst on all six
    run = uuid.uuid4().hex[:8]
    begin = time.monotonic()
    await producer.send_and_wait(
        f"partner.{PARTNERS[0]}.signalen", encode(payload()), headers=headers(PARTNERS[0], f"{run}-eerste")
    )

    def ours(record) -> bool:  # type: ignore[no-untyped-def]
        return run.encode() in (record.key or b"")

    eerste = await read_until(broker, ["routes.riec.amsterdam-amstelland"], lambda f: len(f) >= 1, match=ours)
    seconden = time.monotonic() - begin
    for i in range(300):
        org = PARTNERS[i % len(PARTNERS)]
        await producer.send(f"partner.{org}.signalen", encode(payload()), headers=headers(org, f"{run}-{i}"))
    await producer.flush()

    # Then: every one routed exactly once, and the partitions that had traffic are fetched again
    routed = await read_until(
        broker,
        ["routes.riec.amsterdam-amstelland"],
        lambda f: len(f) >= 301,
        match=ours,
        timeout=60,
        linger=3,
    )
    per_signal = Counter(orjson.loads(r.value)["signaal_id"] for r in routed)
    print(f"\ndoorbell: {voor} partitions paused; the first signal on one routed in {seconden:.2f} s")
    assert len(eerste) == 1
    assert len(per_signal) == 301 and max(per_signal.values()) == 1
    assert _gepauzeerd(worker) <= voor - len(PARTNERS) + 1  # resumed (one may have paused again already)
    # And once quiet again they are paused again
    await _tot_gepauzeerd(worker, voor, timeout=60)
