"""The pipeline test session: a real local Kafka broker (started here, on its own port and with
fresh state) and a real engine worker process against it."""

from __future__ import annotations

import json
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

from engine import onboarding
from engine.acls import principal
from engine.reference import LFTS, RIECS
from tests.pipeline import kafka as test_kafka

ROOT = Path(__file__).resolve().parents[2]
BROKER_PORT = int(os.environ.get("TEST_KAFKA_PORT", "19092"))
BOOTSTRAP = f"127.0.0.1:{BROKER_PORT}"
WEB_PORT = int(os.environ.get("TEST_ENGINE_WEB_PORT", "16066"))
PENDING_LINK_EXPIRY_S = 20
"""The test worker's pending-link period: long enough for a link sent just before its signal."""


def kafka(command: str, *, fresh: bool = False) -> None:
    """deploy/local/kafka.sh start|stop|kill for the test broker (secured: SASL_SSL, ACLs);
    `fresh` wipes its state first."""
    env = {**os.environ, "KAFKA_PORT": str(BROKER_PORT), "KAFKA_STATE": str(test_kafka.STATE)}
    env.pop("KAFKA_INSECURE", None)  # the suite runs against the secured broker, always
    if fresh:
        env["KAFKA_FRESH"] = "1"
    subprocess.run([str(ROOT / "deploy/local/kafka.sh"), command], check=True, env=env)


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    """A fresh single-node KRaft broker for this test session; stopped afterwards."""
    kafka("start", fresh=True)
    test_kafka.beheerder.cache_clear()
    yield BOOTSTRAP
    kafka("stop")


def toegang(*namen: str) -> dict[str, dict[str, str]]:
    """Client settings of these principals on the test broker, created with their ACLs on first use."""
    admin = onboarding.lees_config(test_kafka.STATE / "admin.json")
    return onboarding.bewaard(
        [principal(n) for n in namen], admin, test_kafka.STATE / "toegang", app_id=APP_ID
    )


APP_ID = "riec-engine-test"


def engine_env() -> dict[str, str]:
    """KAFKA_* for a process that connects as the engine's principal (a worker, the replay tool)."""
    return onboarding.env(toegang("engine")["engine"])


PRINCIPALS = [*(f"riec:{r}" for r in RIECS), *(f"lft:{lft}" for lft in LFTS), "liec", "ops"]


def write_tokens(path: Path) -> dict[str, str]:
    """A tokens file with one token per principal; returns principal → token."""
    tokens = {p: f"test-{secrets.token_hex(16)}" for p in PRINCIPALS}
    path.write_text(json.dumps({t: p for p, t in tokens.items()}))
    return tokens


@dataclass
class Worker:
    """An engine worker process, its web address, its log (to check for leaked identifiers) and a
    bearer token per principal."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    key: str
    tokens: dict[str, str]
    worker_id: str = "test-worker"

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
        port = int(self.url.rsplit(":", 1)[1])
        self.process = start_worker(
            self.log.parent, self.key, self.tokens, worker_id=self.worker_id, web_port=port
        ).process

    def replay(self) -> subprocess.CompletedProcess[str]:
        """`engine.tools replay` against this worker: projections from offset 0 vs the live ones."""
        env = {**os.environ, **engine_env(), "ENGINE_OPS_TOKEN": self.tokens["ops"]}
        return subprocess.run(
            [sys.executable, "-m", "engine.tools", "replay", "--url", self.url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def get(self, path: str, principal: str = "ops") -> str:
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {self.tokens[principal]}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return str(response.read().decode())

    def request(
        self, path: str, principal: str | None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """GET as `principal` (None: without a token); returns status, headers and body."""
        hs = dict(headers or {})
        if principal is not None:
            hs["Authorization"] = f"Bearer {self.tokens[principal]}"
        try:
            with urllib.request.urlopen(
                urllib.request.Request(f"{self.url}{path}", headers=hs), timeout=10
            ) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()


def start_worker(
    tmp: Path,
    key: str,
    tokens: dict[str, str] | None = None,
    *,
    rol: str | None = None,
    web_port: int = WEB_PORT,
    worker_id: str = "test-worker",
) -> Worker:
    """An engine worker process as the engine principal, once its /health answers 200; `tmp`
    holds its log, tokens and data; `rol` None: the default (alles)."""
    log = tmp / "worker.log"
    tokens_file = tmp / "tokens.json"
    if tokens is None:
        tokens = write_tokens(tokens_file)
    elif not tokens_file.exists():  # another worker's tokens, for a worker beside it
        tokens_file.write_text(json.dumps({t: p for p, t in tokens.items()}))
    env = {
        **os.environ,
        **engine_env(),
        "ENGINE_PSEUDONYM_KEY": key,
        "ENGINE_WEB_PORT": str(web_port),
        "ENGINE_APP_ID": APP_ID,
        "ENGINE_WORKER_ID": worker_id,
        "ENGINE_DATA_DIR": str(tmp / "data"),
        "ENGINE_TOPIC_REFRESH_MS": "1000",
        "ENGINE_TOKENS_FILE": str(tokens_file),
        "ENGINE_PENDING_LINK_EXPIRY_S": str(PENDING_LINK_EXPIRY_S),
        "ENGINE_EXTRA_GEMEENTEN": "gm1999",  # a gemeente born of a merger, admitted by the operators
        # The annual-table tests own a year no other test writes in (2019): beyond the default
        # 400-day horizon, so this worker remembers (and accepts) signals from then.
        "ENGINE_DEDUP_HORIZON_DAYS": "10000",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "engine", "worker", "-l", "info", *(["--rol", rol] if rol else [])],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process, f"http://127.0.0.1:{web_port}", log, key, tokens, worker_id)
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
    p = test_kafka.producer(broker, max_request_size=3 * 1024 * 1024)
    await p.start()
    yield p
    await p.stop()
