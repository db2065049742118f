"""Given two workers sharing the stages' partitions and signals streaming in, when one is frozen
(SIGSTOP) past its session timeout at a chosen moment, the other takes its partitions over, and the
frozen one then wakes (SIGCONT) as a zombie: then every signal is routed exactly once
(read_committed), and the projections equal a replay. The moments (the worker stops itself there,
`engine.kafka.faults`, once the test arms it):
- vastleggen between TxnOffsetCommit and EndTxn, frozen longer than the transaction timeout: the
  broker aborts the zombie's transaction, the successor starts from the offsets before it, and the
  zombie's late EndTxn is refused (fenced);
- the same, woken before the transaction timeout: the successor's offset fetch waits for the open
  transaction (KIP-447's require_stable), the zombie's commit lands, and the successor starts after it;
- vastleggen between two polls: no transaction open; the zombie's next batch, read under its old
  membership, is refused or never committed.

Before fencing per input partition, a zombie's transactional id was its own, and its late commits
landed beside its successor's: thousands of signals arrived twice. A random pause seldom found the
worker inside a transaction once it ran one per batch (KIP-447), hence the chosen moments.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.kafka.stage import TRANSACTION_TIMEOUT_MS
from tests.fixtures import encode, headers, payload
from tests.pipeline.conftest import WEB_PORT, Worker, start_worker
from tests.pipeline.kafka import read_until

pytestmark = pytest.mark.pipeline
SESSION_TIMEOUT_S = 10  # the stages' consumers (engine/kafka/stage.py)
TRANSACTION_TIMEOUT_S = TRANSACTION_TIMEOUT_MS / 1000
MOMENTEN = {
    "na_offsets_lang": ("vastleggen:after_offsets", TRANSACTION_TIMEOUT_S + 7, True),
    "na_offsets_kort": ("vastleggen:after_offsets", SESSION_TIMEOUT_S + 2, False),
    "tussen_polls": ("vastleggen:between_polls", SESSION_TIMEOUT_S + 5, False),
}
"""Per case: where the worker freezes, for how long, and whether its late commit must be fenced."""


@pytest.fixture
def tweede(
    worker: Worker, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Worker]:
    """A second worker beside the session's, the same key and tokens, its own id and port, that
    freezes itself at `request.param`'s moment once `<its dir>/arm` exists."""
    tmp = tmp_path_factory.mktemp("tweede")
    waar, _, _ = MOMENTEN[request.param]
    w = start_worker(
        tmp, worker.key, worker.tokens, worker_id="test-zombie", web_port=WEB_PORT + 1,
        env={"ENGINE_TEST_FREEZE_AT": waar, "ENGINE_TEST_FREEZE_FILE": str(tmp / "arm")},
    )  # fmt: skip
    yield w
    w.process.send_signal(signal.SIGCONT)
    w.process.terminate()
    try:
        w.process.wait(timeout=30)
    except Exception:
        w.process.kill()


def _bevroren(w: Worker) -> bool:
    """The process is stopped (state T in /proc/<pid>/stat)."""
    stat = Path(f"/proc/{w.process.pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def _toegewezen(w: Worker) -> set[str]:
    """The stages that have been given partitions in this worker (from its log)."""
    return set(re.findall(r"Stage\[(\w+)\]: [1-9]\d* partitions assigned", w.log.read_text()))


def _gefenced(w: Worker) -> int:
    return w.log.read_text().count("was taken over by another worker (fenced)")


@pytest.mark.parametrize("tweede", list(MOMENTEN), indirect=True)
async def test_a_frozen_worker_that_wakes_after_losing_its_partitions_commits_nothing_twice(
    worker: Worker, tweede: Worker, producer: AIOKafkaProducer, broker: str, request: pytest.FixtureRequest
) -> None:
    moment = request.node.callspec.params["tweede"]
    _, pauze, moet_gefenced = MOMENTEN[moment]
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
        # When: the second worker freezes at the moment, stays frozen past its session, and wakes
        await asyncio.sleep(4)
        (Path(tweede.env["ENGINE_TEST_FREEZE_FILE"])).touch()
        deadline = time.monotonic() + 30
        while not _bevroren(tweede):
            assert time.monotonic() < deadline, f"the second worker never reached {moment}"
            await asyncio.sleep(0.05)
        await asyncio.sleep(pauze)
        tweede.process.send_signal(signal.SIGCONT)
        await asyncio.sleep(8)  # it wakes, tries to commit, rejoins
    finally:
        stop.set()
        await stromer
    print(f"\nzombie {moment}: {sent} signals sent, {_gefenced(tweede)} commits of the zombie fenced")

    # Then
    if moet_gefenced:
        assert _gefenced(tweede) > 0, "its transaction was aborted by the broker: its late commit is fenced"

    def ours(record) -> bool:  # type: ignore[no-untyped-def]
        return run.encode() in (record.key or b"")

    routed = await read_until(
        broker, ["routes.riec.rotterdam"], lambda f: len(f) >= sent, match=ours, timeout=300, linger=5
    )
    per_signal = Counter(orjson.loads(r.value)["signaal_id"] for r in routed)
    twice = sum(1 for n in per_signal.values() if n > 1)
    print(f"zombie {moment}: {len(per_signal)} of {sent} routed, {twice} twice")
    assert len(per_signal) == sent, "every signal routed"
    assert twice == 0, "no signal routed twice"

    for w in (worker, tweede):
        assert "Crashed" not in w.log.read_text(), f"a stage of the worker at {w.url} crashed"
    replay = worker.replay()
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replay equals live" in replay.stdout
