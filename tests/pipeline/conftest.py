"""The pipeline test session: a real local Kafka broker (started here, on its own port and with
fresh state) and a real engine worker process against it."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

ROOT = Path(__file__).resolve().parents[2]
BROKER_PORT = int(os.environ.get("TEST_KAFKA_PORT", "19092"))
BOOTSTRAP = f"127.0.0.1:{BROKER_PORT}"
WEB_PORT = int(os.environ.get("TEST_ENGINE_WEB_PORT", "16066"))


def kafka(command: str) -> None:
    env = {**os.environ, "KAFKA_PORT": str(BROKER_PORT), "KAFKA_STATE": str(ROOT / ".local/kafka-test")}
    if command == "start":
        env["KAFKA_FRESH"] = "1"
    subprocess.run([str(ROOT / "deploy/local/kafka.sh"), command], check=True, env=env)


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    """A fresh single-node KRaft broker for this test session; stopped afterwards."""
    kafka("start")
    yield BOOTSTRAP
    kafka("stop")


@dataclass
class Worker:
    """An engine worker process, its web address and its log (to check for leaked identifiers)."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    key: str

    def health(self) -> int:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0

    def kill_and_restart(self) -> None:
        """SIGKILL the worker mid-stream and start it again with the same identity and key."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = start_worker(self.log.parent, self.key).process

    def get(self, path: str) -> str:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
            return str(response.read().decode())


def start_worker(tmp: Path, key: str) -> Worker:
    log = tmp / "worker.log"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
        "ENGINE_PSEUDONYM_KEY": key,
        "ENGINE_WEB_PORT": str(WEB_PORT),
        "ENGINE_APP_ID": "riec-engine-test",
        "ENGINE_WORKER_ID": "test-worker",
        "ENGINE_DATA_DIR": str(tmp / "data"),
        "ENGINE_TOPIC_REFRESH_MS": "1000",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "engine", "worker", "-l", "info"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process, f"http://127.0.0.1:{WEB_PORT}", log, key)
    deadline = time.monotonic() + 90
    while worker.health() != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"worker did not become healthy; log:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
    return worker


@pytest.fixture(scope="session")
def worker(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """One engine worker for the session; tests use unique ce_ids so they do not interfere."""
    w = start_worker(tmp_path_factory.mktemp("worker"), secrets.token_hex(32))
    yield w
    w.process.send_signal(signal.SIGTERM)
    try:
        w.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        w.process.kill()


@pytest.fixture(scope="session")
async def producer(broker: str) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=broker, max_request_size=3 * 1024 * 1024)
    await p.start()
    yield p
    await p.stop()
