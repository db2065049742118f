"""Given a stream of signals, when the worker is killed mid-stream and restarted, then every
signal is on the log and on its route topic exactly once (read_committed)."""

from __future__ import annotations

import uuid
from collections import Counter

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures import encode, headers, payload
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import read_until

pytestmark = pytest.mark.pipeline
N = 3000


async def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    run = uuid.uuid4().hex[:8]
    body = encode(payload(locatie={"gemeente": "GM0599"}))  # Rotterdam
    for i in range(N):
        await producer.send("partner.politie.signalen", body, headers=headers("politie", f"{run}-{i}"))
        if i == N // 3:
            await producer.flush()
            worker.kill_and_restart()
    await producer.flush()

    def ours(record) -> bool:  # type: ignore[no-untyped-def]
        return run.encode() in (record.key or b"")

    routed = await read_until(
        broker, ["routes.riec.rotterdam"], lambda f: len(f) >= N, match=ours, timeout=120, linger=3
    )
    per_signal = Counter(orjson.loads(r.value)["signaal_id"] for r in routed)
    assert len(per_signal) == N, "every signal routed"
    assert max(per_signal.values()) == 1, "no signal routed twice"
    log = await read_until(
        broker, ["engine.signalen"], lambda f: len(f) >= N, match=ours, timeout=60, linger=2
    )
    assert len(log) == N and len({r.key for r in log}) == N
