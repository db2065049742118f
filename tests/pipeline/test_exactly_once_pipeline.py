"""Exactly once over the whole log: whatever ran before this test in the session (crashes, broker
kills, garbage, partner duplicates), every signal is on each route topic at most once and on the
signal log exactly once (read_committed). The test brings its own traffic, with duplicates, so it
proves something in any order and alone."""

from __future__ import annotations

import uuid
from collections import Counter

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.domain.routing import topic_van
from engine.topics import route_bestemmingen
from tests.fixtures import payload
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import is_signaal, publish, read_until

pytestmark = pytest.mark.pipeline

ROUTE_TOPICS = [topic_van(b) for b in route_bestemmingen()]


async def test_no_signal_twice_on_any_route_topic_or_the_log(
    worker: Worker, broker: str, producer: AIOKafkaProducer
) -> None:
    # Given 200 signals of this test, every tenth sent twice (the same ce_id: a partner's retry)
    run = f"eo-{uuid.uuid4()}"
    ids = [f"{run}-s{i}" for i in range(200)]
    for i, ce_id in enumerate(ids):
        for _ in range(2 if i % 10 == 0 else 1):
            await publish(producer, "gm0363", payload(subjecten=[]), ce_id=ce_id)
    # When they are routed (each to amsterdam-amstelland by its location)
    eigen = await read_until(
        broker, ["routes.riec.amsterdam-amstelland"], lambda f: len(f) >= len(ids),
        match=lambda r: run.encode() in (r.value or b""), timeout=60, linger=2,
    )  # fmt: skip
    # Then each of them exactly once, and nothing of the whole session twice on a route or the log
    assert sorted(orjson.loads(r.value)["signaal_id"] for r in eigen) == sorted(f"gm0363:{i}" for i in ids)
    routed = await read_until(broker, ROUTE_TOPICS, lambda f: False, timeout=5)  # everything committed
    per_topic = Counter((r.topic, orjson.loads(r.value)["signaal_id"]) for r in routed if r.value)
    assert [k for k, n in per_topic.items() if n > 1] == []
    signals = Counter(
        r.key
        for r in await read_until(broker, ["engine.signalen"], lambda f: False, timeout=4)
        if is_signaal(r)
    )
    assert [k for k, n in signals.items() if n > 1] == []
    assert all(signals[f"gm0363:{i}".encode()] == 1 for i in ids)
