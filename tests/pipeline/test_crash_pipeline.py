"""Given a stream of 20,000 signals, when the worker is SIGKILLed three times mid-stream and
restarted each time, then every signal is on the log and on its route topic exactly once
(read_committed), and the restarted worker's projections equal a replay from offset 0."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures import encode, headers, payload
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import is_signaal, read_until

pytestmark = pytest.mark.pipeline
N = 20_000
KILLS = 3


async def test_three_sigkills_in_20000_signals_lose_nothing_and_duplicate_nothing(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    run = uuid.uuid4().hex[:8]
    body = encode(payload(locatie={"gemeente": "GM0599"}))  # Rotterdam
    chunk = N // (KILLS + 1)
    for i in range(N):
        await producer.send("partner.politie.signalen", body, headers=headers("politie", f"{run}-n{i}"))
        if (i + 1) % chunk == 0 and i + 1 < N:
            await producer.flush()
            await asyncio.sleep(1.5)  # the worker is busy with this chunk when it is killed
            worker.kill_and_restart()
    await producer.flush()

    def ours(record) -> bool:  # type: ignore[no-untyped-def]
        return run.encode() in (record.key or b"")

    routed = await read_until(
        broker, ["routes.riec.rotterdam"], lambda f: len(f) >= N, match=ours, timeout=300, linger=3
    )
    per_signal = Counter(orjson.loads(r.value)["signaal_id"] for r in routed)
    assert len(per_signal) == N, "every signal routed"
    assert max(per_signal.values()) == 1, "no signal routed twice"
    log = await read_until(
        broker,
        ["engine.signalen"],
        lambda f: len(f) >= N,
        match=lambda r: ours(r) and is_signaal(r),
        timeout=60,
        linger=2,
    )
    assert len(log) == N and len({r.key for r in log}) == N

    replay = worker.replay()
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replay equals live" in replay.stdout
