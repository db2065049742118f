"""Stopping a worker as Kubernetes does: SIGTERM, then SIGKILL when `terminationGracePeriodSeconds`
(deploy/kubernetes/engine.yaml) has passed. A worker must be gone before that, with the broker up
(under load: it stops fetching, finishes or aborts its open transactions, leaves its groups) and
with the broker already gone (nothing to finish: it gives up at once instead of retrying for a
minute). While the broker is unreachable it logs a bounded number of lines, not one per retry.

Its own broker (TEST_STOP_KAFKA_PORT), because this test kills it. What was measured is printed;
the bounds are the operator's deadlines (the manifests' grace period is 20 s), not speed targets."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from engine.kafka import clients
from engine.ops import onboarding
from tests.fixtures import encode, headers, payload
from tests.processes import ROOT, LocalKafka, Worker, start_worker

pytestmark = pytest.mark.pipeline

STOP_KAFKA = LocalKafka(ROOT / ".local/kafka-stop-test", int(os.environ.get("TEST_STOP_KAFKA_PORT", "19292")))
WEB_PORT = int(os.environ.get("TEST_STOP_WEB_PORT", "16096"))
BROKER_UP_S = 10.0
BROKER_DOWN_S = 15.0
MAX_LOG_LINES = 60
"""While the broker is gone, in 20 s: one line per distinct error per interval (engine.logfilter);
before it, about 1,250 a second."""
MAX_STOP_LINES = 150
"""The stop itself: a line per service stopping (about 30) and, with the broker gone, the traceback
faust's consumer thread prints when aiokafka's consumer.stop() re-raises a cancelled retry (about
50). Bounded, whatever the time the broker has been gone."""


@pytest.fixture
def eigen_broker() -> Iterator[LocalKafka]:
    STOP_KAFKA.run("start", fresh=True)
    try:
        yield STOP_KAFKA
    finally:
        STOP_KAFKA.run("stop")


def _werker(tmp: Path) -> Worker:
    return start_worker(
        tmp, secrets.token_hex(32), kafka=STOP_KAFKA, web_port=WEB_PORT, worker_id="stop-test-1"
    )


def _regels(w: Worker) -> int:
    return len(w.log.read_bytes().splitlines())


def _stop(w: Worker) -> tuple[float, int]:
    """SIGTERM; the seconds until the process exited and the log lines it wrote meanwhile. SIGKILL
    after 60 s (the test then fails on the time)."""
    before = _regels(w)
    started = time.monotonic()
    w.process.send_signal(signal.SIGTERM)
    try:
        w.process.wait(timeout=60)
    except Exception:
        w.process.kill()
        w.process.wait()
    return time.monotonic() - started, _regels(w) - before


def test_the_manifests_grace_period_is_above_both_deadlines() -> None:
    manifests = list(yaml.safe_load_all((ROOT / "deploy/kubernetes/engine.yaml").read_text()))
    grace = [
        d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        for d in manifests
        if d and d.get("kind") in ("Deployment", "StatefulSet")
    ]
    assert grace and all(BROKER_DOWN_S < g <= 30 for g in grace), grace


async def test_with_the_broker_up_a_worker_under_load_stops_within_10_s(
    eigen_broker: LocalKafka, tmp_path: Path
) -> None:
    w = _werker(tmp_path)
    partner = onboarding.verbinding(eigen_broker.toegang("partner:politie")["partner:politie"])
    await clients.wait_until_authorised(partner, ("partner.politie.signalen",))
    producer = clients.producer(partner, linger_ms=5)
    await producer.start()
    body = encode(payload(locatie={"gemeente": "GM0599"}))
    stop = asyncio.Event()

    async def stroom() -> None:  # about 200 signals/s until the worker is gone
        n = 0
        while not stop.is_set():
            for _ in range(20):
                await producer.send("partner.politie.signalen", body, headers=headers("politie", f"s{n}"))
                n += 1
            await asyncio.sleep(0.1)

    stromer = asyncio.create_task(stroom())
    try:
        await asyncio.sleep(8)  # transactions open in every stage
        seconds, lines = await asyncio.to_thread(_stop, w)
    finally:
        stop.set()
        await stromer
        await producer.stop()
    print(f"\nstop with the broker up, under load: exited after {seconds:.1f} s, {lines} log lines")
    assert w.process.returncode == 0, w.log.read_text()[-3000:]
    assert seconds < BROKER_UP_S, w.log.read_text()[-3000:]


async def test_with_the_broker_gone_a_worker_stops_within_15_s_and_logs_little(
    eigen_broker: LocalKafka, tmp_path: Path
) -> None:
    w = _werker(tmp_path)
    eigen_broker.run("kill")
    await asyncio.sleep(5)  # its clients notice and start retrying
    before = _regels(w)
    await asyncio.sleep(20)
    while_gone = _regels(w) - before
    seconds, lines = await asyncio.to_thread(_stop, w)
    print(
        f"\nstop with the broker gone: {while_gone} log lines in 20 s before SIGTERM; exited after "
        f"{seconds:.1f} s, {lines} log lines"
    )
    assert w.process.returncode is not None and w.process.returncode != -signal.SIGKILL
    assert seconds < BROKER_DOWN_S, w.log.read_text()[-3000:]
    assert while_gone <= MAX_LOG_LINES, w.log.read_text()[-5000:]
    assert lines <= MAX_STOP_LINES, w.log.read_text()[-5000:]
