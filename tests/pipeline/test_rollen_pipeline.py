"""Given the session's worker (role `alles`), when a worker of another role starts beside it, then
it does its role's part only: a projection replica folds the same read models and serves the same
API, a routing worker shares the routing (every signal routed once) and serves no API."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures import payload
from tests.pipeline.conftest import WEB_PORT, Worker, start_worker
from tests.pipeline.kafka import publish, read_until

pytestmark = pytest.mark.pipeline


@pytest.fixture
def replica(worker: Worker, tmp_path: Path) -> Iterator[Worker]:
    w = start_worker(
        tmp_path, worker.key, rol="projecties", web_port=WEB_PORT + 1, worker_id="test-projecties"
    )
    yield w
    w.stop()


@pytest.fixture
def router(worker: Worker, tmp_path: Path) -> Iterator[Worker]:
    w = start_worker(tmp_path, worker.key, rol="routering", web_port=WEB_PORT + 2, worker_id="test-routering")
    yield w
    w.stop()


def _projecties(w: Worker) -> dict[str, object]:
    return dict(orjson.loads(w.get("/api/v1/ops/projecties")))


async def test_a_projection_replica_folds_the_same_read_models_and_serves_them(
    worker: Worker, replica: Worker, producer: AIOKafkaProducer, broker: str, tmp_path: Path
) -> None:
    # Given signals routed by the session's worker
    ids = [f"rep-{uuid.uuid4()}" for _ in range(5)]
    for ce_id in ids:
        await publish(producer, "gm0363", payload(subjecten=[]), ce_id=ce_id)
    await read_until(broker, ["routes.riec.amsterdam-amstelland"], lambda f: len(f) >= 5,
                     match=lambda r: any(i.encode() in (r.key or b"") + (r.value or b"") for i in ids))  # fmt: skip
    # When the replica reports on itself, then it is a projection worker, caught up, with no stages
    health = orjson.loads(replica.get("/health"))
    assert health == {"status": "ok", "rol": "projecties", "stages": [], "projecties": "bijgewerkt"}
    # And once both have read the same positions, its read models hash as the worker's
    deadline = time.monotonic() + 30
    while True:
        live, rep = _projecties(worker), _projecties(replica)
        if live["posities"] == rep["posities"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert rep["posities"] == live["posities"]
    assert rep["hashes"] == live["hashes"]
    # And its API answers as the worker's, for that RIEC
    pad = "/api/v1/riec/amsterdam-amstelland/inbox?limit=5"
    assert replica.get(pad, "riec:amsterdam-amstelland") == worker.get(pad, "riec:amsterdam-amstelland")
    # And its inbox store is a file in its data dir, removed when it stops
    store = tmp_path / "data" / "projecties-test-projecties.sqlite3"
    assert store.is_file()
    replica.stop()
    assert replica.process.returncode == 0 and not store.exists()


async def test_a_routing_worker_routes_beside_the_worker_and_serves_no_api(
    worker: Worker, router: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    # Given a routing worker that joined the stages' consumer groups
    health = orjson.loads(router.get("/health"))
    assert health["status"] == "ok" and health["rol"] == "routering" and "projecties" not in health
    assert "vastleggen" in health["stages"]
    # When signals are published, then each is routed exactly once (the two workers share the work)
    ids = [f"rou-{uuid.uuid4()}" for _ in range(20)]
    for ce_id in ids:
        await publish(producer, "gm0363", payload(subjecten=[]), ce_id=ce_id)
    found = await read_until(
        broker,
        ["routes.riec.amsterdam-amstelland"],
        lambda f: len(f) >= len(ids),
        match=lambda r: any(i.encode() in (r.value or b"") for i in ids),
        timeout=90,
        linger=3,
    )
    assert sorted(orjson.loads(r.value)["signaal_id"] for r in found) == sorted(f"gm0363:{i}" for i in ids)
    # And the routing worker did part of it
    metrics = router.get("/metrics")
    verwerkt = sum(float(v) for v in re.findall(r"^riec_stage_records_total\{[^}]*\} (\S+)$", metrics, re.M))
    assert verwerkt > 0
    # And it serves no API and no dashboard (those are the projection role's)
    assert router.request("/api/v1/riec/amsterdam-amstelland/inbox", "riec:amsterdam-amstelland")[0] == 404
    assert router.request("/api/v1/ops/projecties", "ops")[0] == 404
    assert router.request("/dashboard", None)[0] == 404
