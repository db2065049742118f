"""The processes the pipeline and cluster tests start: a local Kafka (one broker, or a cluster of
three) through deploy/local/kafka.sh, and engine workers (`python -m engine worker`) on it.

Shared by tests/pipeline/conftest.py (one broker, one worker) and tests/cluster/conftest.py (three
brokers, several workers), so that both start and stop them the same way."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from engine.domain.reference import LFTS, RIECS
from engine.ops import onboarding
from engine.ops.acls import principal
from engine.settings import KafkaConnection

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "riec-engine-test"
PRINCIPALS = [*(f"riec:{r}" for r in RIECS), *(f"lft:{lft}" for lft in LFTS), "liec", "ops"]
PRINCIPALS += ["ops:anna", "ops:bert", "liec:cor"]  # named persons: who files and approves four-eyes requests


@dataclass(frozen=True)
class LocalKafka:
    """A broker (nodes=1) or a cluster that deploy/local/kafka.sh runs for a test session: secured
    (SASL_SSL, ACLs), its state and admin settings in `state`. Node i listens on port + 2(i-1)."""

    state: Path
    port: int
    nodes: int = 1

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.port + 2 * i}" for i in range(self.nodes))

    def run(self, command: str, *, fresh: bool = False, node: int | None = None) -> None:
        """deploy/local/kafka.sh start|stop|kill; `fresh` wipes the state first; `node` acts on that
        node of a cluster only."""
        env = {**os.environ, "KAFKA_PORT": str(self.port), "KAFKA_STATE": str(self.state)}
        env["KAFKA_NODES"] = str(self.nodes)
        for name in ("KAFKA_INSECURE", "KAFKA_NODE", "KAFKA_FRESH"):  # the tests run secured, always
            env.pop(name, None)
        if fresh:
            env["KAFKA_FRESH"] = "1"
        # Retention and compaction checked every second, not every 5 minutes and 15 seconds: the
        # forgetting tests wait for the broker to delete what ran out (test_vergeten_pipeline).
        env["KAFKA_EXTRA_PROPERTIES"] = "\n".join(
            (
                "log.retention.check.interval.ms=1000",
                "log.cleaner.backoff.ms=1000",
                "log.segment.delete.delay.ms=1000",
            )
        )
        if node is not None:
            env["KAFKA_NODE"] = str(node)
        subprocess.run([str(ROOT / "deploy/local/kafka.sh"), command], check=True, env=env)

    def beheerder(self) -> KafkaConnection:
        """The admin's connection (a super user), to every node."""
        return onboarding.verbinding(onboarding.lees_config(self.state / "admin.json"))

    def toegang(self, *namen: str) -> dict[str, dict[str, str]]:
        """Client settings of these principals, created with their ACLs on first use."""
        admin = onboarding.lees_config(self.state / "admin.json")
        return onboarding.bewaard([principal(n) for n in namen], admin, self.state / "toegang", app_id=APP_ID)

    def engine_env(self) -> dict[str, str]:
        """KAFKA_* for a process that connects as the engine's principal (a worker, the replay tool)."""
        return onboarding.env(self.toegang("engine")["engine"])


def write_tokens(path: Path, tokens: dict[str, str] | None = None) -> dict[str, str]:
    """A tokens file with one token per principal (new ones unless given); returns principal → token."""
    tokens = tokens or {p: f"test-{secrets.token_hex(16)}" for p in PRINCIPALS}
    path.write_text(json.dumps({t: p for p, t in tokens.items()}))
    return tokens


@dataclass
class Worker:
    """An engine worker process, its web address, its log (to check for leaked identifiers) and a
    bearer token per principal; `env` is what it was started with beyond the test's own."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    key: str
    tokens: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    rol: str | None = None

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
        self.process = _spawn(self.env, self.log, self.rol)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 90) -> None:
        """Returns once /health answers 200; raises (with the log's end) when the process exits first."""
        deadline = time.monotonic() + timeout
        while self.health() != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"worker did not become healthy; log:\n{self.log.read_text()[-4000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM, as an operator stops it; SIGKILL when it has not exited in 30 s."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def replay(self) -> subprocess.CompletedProcess[str]:
        """`engine.tools replay` against this worker: projections from offset 0 vs the live ones."""
        env = {**os.environ, **self.env, "ENGINE_OPS_TOKEN": self.tokens["ops"]}
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

    async def json_zodra(
        self, path: str, principal: str, klaar: Callable[[Any], bool], timeout: float = 30
    ) -> Any:
        """GET `path` as `principal` until a 200 answer's JSON satisfies `klaar`; that answer, or
        the last one (None when it was no 200) at the timeout. Polls without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while True:
            status, _, body = await asyncio.to_thread(self.request, path, principal)
            data = orjson.loads(body) if status == 200 else None
            if (data is not None and klaar(data)) or time.monotonic() > deadline:
                return data
            await asyncio.sleep(0.3)

    def post(
        self, path: str, principal: str, body: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """POST `body` as JSON as `principal`; returns status and body (an error's too)."""
        hs = {"Authorization": f"Bearer {self.tokens[principal]}", "Content-Type": "application/json"}
        request = urllib.request.Request(
            f"{self.url}{path}", orjson.dumps(body), {**hs, **(headers or {})}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

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


def _spawn(env: Mapping[str, str], log: Path, rol: str | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "engine", "worker", "-l", "info", *(["--rol", rol] if rol else [])],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def start_worker(
    tmp: Path,
    key: str,
    tokens: dict[str, str] | None = None,
    *,
    kafka: LocalKafka,
    web_port: int,
    worker_id: str,
    env: Mapping[str, str] | None = None,
    wait: bool = True,
    rol: str | None = None,
) -> Worker:
    """A worker as the engine's principal on `kafka`, its log, data and tokens file in `tmp` (new
    tokens unless given); `env` adds or overrides ENGINE_* settings; `rol` None: the default (alles). Returns once it is healthy,
    unless not `wait` (start several, then wait for each)."""
    tokens_file = tmp / "tokens.json"
    tokens = write_tokens(tokens_file, tokens)
    settings = {
        **kafka.engine_env(),
        "ENGINE_PSEUDONYM_KEY": key,
        "ENGINE_WEB_PORT": str(web_port),
        "ENGINE_APP_ID": APP_ID,
        "ENGINE_WORKER_ID": worker_id,
        "ENGINE_DATA_DIR": str(tmp / "data"),
        "ENGINE_TOPIC_REFRESH_MS": "1000",
        "ENGINE_TOKENS_FILE": str(tokens_file),
        **(env or {}),
    }
    log = tmp / "worker.log"
    url = f"http://127.0.0.1:{web_port}"
    worker = Worker(_spawn(settings, log, rol), url, log, key, tokens, settings, rol)
    if wait:
        worker.wait_healthy()
    return worker


def engine_status(kafka: LocalKafka, urls: list[str], token: str | None) -> str:
    """`python -m engine.tools status` for these workers as the engine's principal on `kafka`, with
    `token` as ENGINE_OPS_TOKEN (None: none at all); its output (it must exit 0)."""
    env = {**os.environ, **kafka.engine_env(), "ENGINE_APP_ID": APP_ID}
    env.pop("ENGINE_OPS_TOKEN", None)
    if token is not None:
        env["ENGINE_OPS_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "engine.tools", "status", *(a for u in urls for a in ("--url", u))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout
