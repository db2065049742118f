"""The cluster test session (`make test-cluster`, not in `make test`): a fresh three-broker KRaft
cluster, secured like the single test broker (deploy/local/kafka.sh with KAFKA_NODES=3), and a crew
of engine workers on it that each test starts, kills, pauses and adds to.

Ports: brokers on TEST_KAFKA_PORT, +2, +4 (controllers on the port after each), workers' web servers
on TEST_ENGINE_WEB_PORT and up. What each fault test measured goes to .local/cluster-faults.json
and is printed at the end of the session."""

from __future__ import annotations

import json
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.settings import KafkaConnection
from tests.processes import ROOT, LocalKafka, Worker, start_worker, write_tokens

BROKER_PORT = int(os.environ.get("TEST_KAFKA_PORT", "19192"))
WEB_PORT = int(os.environ.get("TEST_ENGINE_WEB_PORT", "16166"))
CLUSTER = LocalKafka(ROOT / ".local/kafka-cluster-test", BROKER_PORT, nodes=3)
WORKERS = 3
MEASUREMENTS = ROOT / ".local/cluster-faults.json"
"""Per fault: the time until routing resumed and what was sent and found (never asserted on)."""


@pytest.fixture(scope="session")
def cluster() -> Iterator[KafkaConnection]:
    """A fresh three-node cluster for this session, as its admin's connection; stopped afterwards."""
    CLUSTER.run("start", fresh=True)
    MEASUREMENTS.unlink(missing_ok=True)
    yield CLUSTER.beheerder()
    CLUSTER.run("stop")


class Ploeg:
    """The session's workers, numbered from 1: worker i has ENGINE_WORKER_ID cluster-worker-i, web
    port WEB_PORT + i - 1, its own log and data, and the crew's pseudonym key and tokens."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.key = secrets.token_hex(32)
        self.tokens = write_tokens(tmp / "tokens.json")
        self.workers: dict[int, Worker] = {}

    def start(self, *nummers: int) -> list[Worker]:
        """Start these workers at once (a stopped or killed one again, with the same identity) and
        return once each is healthy."""
        started = []
        for i in nummers:
            tmp = self.tmp / f"worker-{i}"
            tmp.mkdir(exist_ok=True)
            self.workers[i] = start_worker(
                tmp,
                self.key,
                self.tokens,
                kafka=CLUSTER,
                web_port=WEB_PORT + i - 1,
                worker_id=f"cluster-worker-{i}",
                env={"ENGINE_REPLICATION_FACTOR": "3"},
                wait=False,
            )
            started.append(self.workers[i])
        for w in started:
            w.wait_healthy(timeout=180)  # several JVMs and workers share two cores
        return started

    def levend(self) -> list[Worker]:
        return [w for w in self.workers.values() if w.process.poll() is None]

    def terug_naar(self, n: int) -> None:
        """Exactly workers 1..n running (and not paused): what every test starts from."""
        for i, w in list(self.workers.items()):
            if i > n:
                w.process.send_signal(signal.SIGCONT)
                w.stop()
                del self.workers[i]
        dood = [
            i for i in range(1, n + 1) if i not in self.workers or self.workers[i].process.poll() is not None
        ]
        if dood:
            self.start(*dood)

    def stop(self) -> None:
        for w in self.workers.values():
            w.process.send_signal(signal.SIGCONT)  # a paused process would not hear SIGTERM
            w.stop()


@pytest.fixture(scope="session")
def _ploeg(cluster: KafkaConnection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ploeg]:
    p = Ploeg(tmp_path_factory.mktemp("ploeg"))
    yield p
    p.stop()


@pytest.fixture
def ploeg(_ploeg: Ploeg) -> Ploeg:
    """The crew, back at three healthy workers before each test."""
    _ploeg.terug_naar(WORKERS)
    return _ploeg


def meet(fout: str, meting: dict[str, Any]) -> None:
    """Record what a fault test measured in .local/cluster-faults.json, and print it."""
    alle = json.loads(MEASUREMENTS.read_text()) if MEASUREMENTS.is_file() else {}
    alle[fout] = meting
    MEASUREMENTS.parent.mkdir(parents=True, exist_ok=True)
    MEASUREMENTS.write_text(json.dumps(alle, indent=2) + "\n")
    print(f"\n{fout}: {json.dumps(meting)}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not MEASUREMENTS.is_file():
        return
    terminalreporter.section("cluster faults: time until routing resumed (measured, not asserted)")
    for fout, m in json.loads(MEASUREMENTS.read_text()).items():
        if "hervat_s" not in m:  # the live alert test's figures (test_waarschuwingen_cluster.py)
            figures = {k: v for k, v in m.items() if k != "alerts"}
            terminalreporter.write_line(f"{fout}: {json.dumps(figures)}")
            continue
        terminalreporter.write_line(
            f"{fout}: resumed after {m['hervat_s']} s (slowest route topic {m['traagste_topic_s']} s), "
            f"longest gap {m['langste_gat_s']} s; "
            f"{m['signalen_geaccepteerd']} signals, {m['opdrachten_geaccepteerd']} commands; "
            f"lost: {m['niet_gerouteerd']} routes, {m['niet_toegepast']} commands; duplicates: "
            f"{m['dubbel_gerouteerd']} routes, {m['dubbel_gelogd']} on the log, {m['dubbele_gebeurtenissen']} events"
        )
    terminalreporter.write_line(f"(in {MEASUREMENTS.relative_to(ROOT)})")
