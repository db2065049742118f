"""Forgetting goes on while workers come and go.

The executor of forgetting runs on every worker and acts on one: the member its consumer group
gives `engine.verzoeken`'s only partition. Its producer's transactional id is the same on every
worker (it fences a stalled predecessor). Found in session 11: each worker made that producer when
it started, so a second worker that merely started fenced the first one's for good, and whichever
of them held the partition could be the fenced one: no approved request and no retention round
took effect until a restart.

Given the session's worker and a second one started beside it, when an approved request is filed,
then it is carried out; and when the second worker stops again, a next one is carried out too.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from engine.events.vergeten import VERGETEN_DECODER, SleutelVernietigd
from engine.topics import VERGETEN
from tests.pipeline.conftest import WEB_PORT, Worker, start_worker
from tests.pipeline.kafka import read_until

pytestmark = pytest.mark.pipeline


async def uitgevoerd(broker: str, worker: Worker) -> SleutelVernietigd:
    """File and approve (two people of ops) the destruction of a key no signal has; the executor's
    record of it on `engine.vergeten` (it finds nothing to destroy, and says so)."""
    verzoek_id = f"vernietig-{uuid.uuid4().hex[:12]}"
    body = {"verzoek_id": verzoek_id, "handeling": "sleutel_vernietigen", "reden": "test: forgetting goes on",
            "onderwerp": f"signaal:{uuid.uuid4()}"}  # fmt: skip
    pad = f"/api/v1/ops/verzoeken/{verzoek_id}"
    assert worker.post("/api/v1/ops/verzoeken", "ops:anna", body)[0] == 202
    assert (await worker.json_zodra(pad, "ops", lambda v: v["status"] == "open"))["status"] == "open"
    assert worker.post(f"{pad}/goedkeuring", "ops:bert", {})[0] == 202
    records = await read_until(
        broker, [VERGETEN], lambda rs: len(rs) >= 1, timeout=60, match=lambda r: r.key == verzoek_id.encode()
    )
    [record] = [VERGETEN_DECODER.decode(r.value) for r in records]
    assert isinstance(record, SleutelVernietigd) and record.verzoek_id == verzoek_id
    return record


async def test_forgetting_goes_on_when_a_second_worker_starts_and_stops(
    broker: str, worker: Worker, tmp_path: Path
) -> None:
    tweede = start_worker(tmp_path, worker.key, web_port=WEB_PORT + 3, worker_id="test-tweede-vergeter")
    try:
        assert (await uitgevoerd(broker, worker)).gevonden is False, "carried out with two workers"
    finally:
        tweede.stop()
    assert (await uitgevoerd(broker, worker)).gevonden is False, "carried out after the second one left"
