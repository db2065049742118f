"""Given two workers sharing the stages' partitions and signals streaming in, when one is paused
(SIGSTOP) past its session timeout while it holds open transactions, the other takes its partitions
over, and the paused one then wakes (SIGCONT) as a zombie: then every signal is routed exactly once
(read_committed), the zombie's late commits are refused (fenced), and the projections equal a replay.

Before fencing per input partition, a zombie's transactional id was its own, and its late commits
landed beside its successor's: thousands of signals arrived twice."""

from __future__ import annotations

import asyncio
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures import encode, headers, payload
from tests.pipeline.conftest import WEB_PORT, Worker, start_worker
from tests.pipeline.kafka import read_until

pytestmark = pytest.mark.pipeline
SESSION_TIMEOUT_S = 10  # the stages' consumers (engine/kafka/stage.py)
PAUSE_S = SESSION_TIMEOUT_S + 5
ATTEMPTS = 3
"""A pause may find the worker between transactions; pause again until one fenced a commit."""


@pytest.fixture
def tweede(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A second worker beside the session's, the same key and tokens, its own id and port."""
    w = start_worker(
        tmp_path_factory.mktemp("tweede"),
        worker.key,
        worker.tokens,
        worker_id="test-zombie",
        web_port=WEB_PORT + 1,
    )
    yield w
    w.process.send_signal(signal.SIGCONT)
    w.process.terminate()
    try:
        w.process.wait(timeout=30)
    except Exception:
        w.process.kill()


def _toegewezen(w: Worker) -> set[str]:
    """The stages that have been given partitions in this worker (from its log)."""
    return set(re.findall(r"Stage\[(\w+)\]: [1-9]\d* partitions assigned", w.log.read_text()))


def _gefenced(w: Worker) -> int:
    return w.log.read_text().count("was taken over by another worker (fenced)")


async def test_a_paused_worker_that_wakes_after_losing_its_partitions_commits_nothing_twice(
    worker: Worker, tweede: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    # Given: both workers hold partitions of the internal stages
    deadline = time.monotonic() + 60
    while not {"vastleggen", "zoekindex"} <= _toegewezen(tweede):
        assert time.monotonic() < deadline, "the second worker was never given partitions"
        await asyncio.sleep(0.5)
    await asyncio.sleep(3)  # the first worker's share settled too

    run = uuid.uuid4().hex[:8]
    body = encode(payload(locatie={"gemeente": "GM0599"}))  # Rotterdam; three identifiers
    sent = 0
    stop = asyncio.Event()

    async def stroom() -> None:  # a steady stream, flushed in small steps, until told to stop
        nonlocal sent
        while not stop.is_set():
            for _ in range(20):
                await producer.send(
                    "partner.politie.signalen", body, headers=headers("politie", f"{run}-n{sent}")
                )
                sent += 1
            await producer.flush()
            await asyncio.sleep(0.1)

    stromer = asyncio.create_task(stroom())
    try:
        # When: the second worker is paused past its session timeout and wakes, until it was fenced
        for _ in range(ATTEMPTS):
            await asyncio.sleep(4)
            tweede.process.send_signal(signal.SIGSTOP)
            await asyncio.sleep(PAUSE_S)
            tweede.process.send_signal(signal.SIGCONT)
            await asyncio.sleep(8)  # it wakes, tries to commit, rejoins
            if _gefenced(tweede):
                break
    finally:
        stop.set()
        await stromer
    print(f"\nzombie: {sent} signals sent, {_gefenced(tweede)} commits of the zombie fenced")

    # Then
    assert _gefenced(tweede) > 0, "the paused worker held an open transaction and was fenced"

    def ours(record) -> bool:  # type: ignore[no-untyped-def]
        return run.encode() in (record.key or b"")

    routed = await read_until(
        broker, ["routes.riec.rotterdam"], lambda f: len(f) >= sent, match=ours, timeout=300, linger=5
    )
    per_signal = Counter(orjson.loads(r.value)["signaal_id"] for r in routed)
    twice = sum(1 for n in per_signal.values() if n > 1)
    print(f"zombie: {len(per_signal)} of {sent} routed, {twice} twice")
    assert len(per_signal) == sent, "every signal routed"
    assert twice == 0, "no signal routed twice"

    for w in (worker, tweede):
        assert "Crashed" not in w.log.read_text(), f"a stage of the worker at {w.url} crashed"
    replay = worker.replay()
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replay equals live" in replay.stdout
