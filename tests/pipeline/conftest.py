"""The pipeline test session: a real local Kafka broker (started here, on its own port and with
fresh state) and a real engine worker process against it."""

from __future__ import annotations

import functools
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests import processes
from tests.fixtures import regelversie_map
from tests.pipeline import casus_helpers
from tests.pipeline import kafka as test_kafka
from tests.processes import APP_ID, PRINCIPALS, ROOT, LocalKafka, Worker, write_tokens

__all__ = [
    "APP_ID",
    "PRINCIPALS",
    "ROOT",
    "Worker",
    "engine_env",
    "kafka",
    "start_worker",
    "toegang",
    "write_tokens",
]

BROKER_PORT = int(os.environ.get("TEST_KAFKA_PORT", "19092"))
BOOTSTRAP = f"127.0.0.1:{BROKER_PORT}"
WEB_PORT = int(os.environ.get("TEST_ENGINE_WEB_PORT", "16066"))
PENDING_LINK_EXPIRY_S = 20
"""The test worker's pending-link period: long enough for a link sent just before its signal."""
KAFKA = LocalKafka(test_kafka.STATE, BROKER_PORT)


def pytest_report_header() -> str:
    return f"pipeline random identifiers: TEST_SEED={casus_helpers.SEED} (set it to draw the same again)"


def kafka(command: str, *, fresh: bool = False) -> None:
    """deploy/local/kafka.sh start|stop|kill for the test broker (secured: SASL_SSL, ACLs);
    `fresh` wipes its state first."""
    KAFKA.run(command, fresh=fresh)


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    """A fresh single-node KRaft broker for this test session; stopped afterwards."""
    kafka("start", fresh=True)
    test_kafka.beheerder.cache_clear()
    yield BOOTSTRAP
    kafka("stop")


def toegang(*namen: str) -> dict[str, dict[str, str]]:
    """Client settings of these principals on the test broker, created with their ACLs on first use."""
    return KAFKA.toegang(*namen)


def engine_env() -> dict[str, str]:
    """KAFKA_* for a process that connects as the engine's principal (a worker, the replay tool)."""
    return KAFKA.engine_env()


TESTVERSIE_VANAF = "2021-07-01"
"""The date of the rule version every test worker ships beyond the baseline, not adopted: the 2022
division with Brielle (GM0501) in RIEC Zeeland-West-Brabant. Only test_regelversie_aanname_pipeline
adopts it; from then on it decides the signals observed from 2021-07-01 to 2021-12-31 (the baseline's
first version takes over on 2022-01-01), dates no other test sends."""


@functools.cache
def extra_regelversies() -> Path:
    """ENGINE_EXTRA_REGELVERSIES of every test worker: made afresh once per session (the same bytes,
    so the same id, every time)."""
    map_ = ROOT / ".local" / "test-regelversies"
    shutil.rmtree(map_, ignore_errors=True)
    map_.mkdir(parents=True)
    regelversie_map(map_, TESTVERSIE_VANAF, van="2022-01-01", code="GM0501", riec="Zeeland-West-Brabant")
    return map_


def start_worker(
    tmp: Path,
    key: str,
    tokens: dict[str, str] | None = None,
    *,
    rol: str | None = None,
    web_port: int = WEB_PORT,
    worker_id: str = "test-worker",
    env: dict[str, str] | None = None,
) -> Worker:
    """The session's worker (also a test's own second one, of a role), healthy; its log and data
    in `tmp`; `rol` None: the default (alles)."""
    return processes.start_worker(
        tmp,
        key,
        tokens,
        kafka=KAFKA,
        web_port=web_port,
        worker_id=worker_id,
        rol=rol,
        env={
            "ENGINE_PENDING_LINK_EXPIRY_S": str(PENDING_LINK_EXPIRY_S),
            "ENGINE_EXTRA_GEMEENTEN": "gm1999",  # a gemeente born of a merger, admitted by the operators
            # The annual-table tests own a year no other test writes in (2019): beyond the default
            # 400-day horizon, so this worker remembers (and accepts) signals from then.
            "ENGINE_DEDUP_HORIZON_DAYS": "10000",
            "ENGINE_EXTRA_REGELVERSIES": str(extra_regelversies()),
            **(env or {}),
        },
    )


@pytest.fixture(scope="session")
def worker(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """One engine worker for the session; tests use unique ce_ids so they do not interfere."""
    w = start_worker(tmp_path_factory.mktemp("worker"), secrets.token_hex(32))
    yield w
    w.stop()


@pytest.fixture(scope="session")
async def producer(broker: str) -> AsyncIterator[AIOKafkaProducer]:
    p = test_kafka.producer(broker, max_request_size=3 * 1024 * 1024)
    await p.start()
    yield p
    await p.stop()
