"""Four eyes through the real API and broker: given a person of ops who files an erasure of a
person (by BSN), when she approves it herself, then the engine refuses (four_eyes) and approves
nothing; when a second person approves, then engine.verzoeken holds VerzoekGoedgekeurd with the
person's pseudonym sealed, and the raw BSN is on no topic of the broker. A rebuild of the read
models, likewise, happens only after a second person approved it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
import pytest

from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.vergeten.verzegeling import VERZEGELD
from engine.events.vieroogen import VERZOEK_DECODER, OpdrachtGeweigerd, VerzoekGoedgekeurd, VerzoekIngediend
from engine.topics import VERZOEKEN
from tests.pipeline.casus_helpers import bsn
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import read_all, read_until, topics

pytestmark = pytest.mark.pipeline
PAD = "/api/v1/ops/verzoeken"


def post(worker: Worker, path: str, principal: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, antwoord = worker.post(path, principal, body)
    return status, orjson.loads(antwoord)


async def test_an_erasure_takes_a_second_person_and_its_bsn_reaches_no_topic(
    worker: Worker, broker: str
) -> None:
    persoon, verzoek_id = bsn(), f"wis-{uuid.uuid4()}"
    pseudoniem = Pseudonimiseerder(worker.key.encode()).bsn(persoon)
    indiening = {"verzoek_id": verzoek_id, "handeling": "wissen", "reden": "AVG art. 17, verzoek betrokkene",
                 "onderwerp": {"type": "persoon", "bsn": persoon}}  # fmt: skip
    assert post(worker, PAD, "ops", indiening)[0] == 403, "a shared ops token files nothing"
    status, body = post(worker, PAD, "ops:anna", indiening)
    assert status == 202 and body["verzoek"] == f"{PAD}/{verzoek_id}"
    pad = f"{PAD}/{verzoek_id}"
    v = await worker.json_zodra(pad, "ops", lambda v: v["status"] == "open")
    assert v["aanvrager"] == "ops:anna" and v["heeft_onderwerp"] is True

    # When she approves her own request: refused, shown on the request, nothing approved.
    assert post(worker, f"{pad}/goedkeuring", "ops:anna", {})[0] == 202
    v = await worker.json_zodra(pad, "ops", lambda v: bool(v.get("weigeringen")))
    assert [(w["code"], w["door"]) for w in v["weigeringen"]] == [("four_eyes", "ops:anna")]
    assert v["status"] == "open"

    # When a second person approves it: approved, on the log the executor reads.
    assert post(worker, f"{pad}/goedkeuring", "liec:cor", {})[0] == 202
    v = await worker.json_zodra(pad, "liec", lambda v: v["status"] == "goedgekeurd")
    assert v["status"] == "goedgekeurd" and v["beoordelaar"] == "liec:cor"
    records = await read_until(
        broker, [VERZOEKEN], lambda rs: len(rs) >= 3, match=lambda r: r.key == verzoek_id.encode()
    )
    gebeurtenissen = [VERZOEK_DECODER.decode(r.value) for r in records]
    assert [type(g) for g in gebeurtenissen] == [VerzoekIngediend, OpdrachtGeweigerd, VerzoekGoedgekeurd]
    goedgekeurd = gebeurtenissen[2]
    assert isinstance(goedgekeurd, VerzoekGoedgekeurd) and goedgekeurd.door == "liec:cor"
    assert goedgekeurd.handeling == "wissen" and goedgekeurd.onderwerp.startswith(VERZEGELD)
    assert pseudoniem not in goedgekeurd.onderwerp, "sealed under the request's own key"

    # Then the raw BSN is on no topic (the API pseudonymised it), nor in any API answer.
    alles = await read_all(broker, await topics(broker))
    assert not [(r.topic, r.offset) for r in alles if persoon.encode() in (r.value or b"") + (r.key or b"")]
    for antwoord in (worker.request(pad, "ops")[2], worker.request(PAD, "ops")[2]):
        assert persoon.encode() not in antwoord and pseudoniem.encode() not in antwoord
    assert persoon not in worker.log.read_text(errors="replace")


async def test_a_rebuild_of_the_read_models_takes_a_second_person_and_then_the_engine_does_it(
    worker: Worker,
) -> None:
    """Given a person of ops who asks to rebuild the read models, when she approves it herself, then
    nothing is rebuilt; when a second person of ops approves, then the worker drops its read models
    and folds them again from offset 0 (not ready meanwhile), and afterwards they equal a replay."""
    verzoek_id = f"herbouw-{uuid.uuid4()}"
    indiening = {"verzoek_id": verzoek_id, "handeling": "projectie_herbouwen", "onderwerp": "alle",
                 "reden": "a fold was fixed"}  # fmt: skip
    pad = f"{PAD}/{verzoek_id}"
    assert post(worker, PAD, "ops:anna", indiening)[0] == 202
    assert (await worker.json_zodra(pad, "ops", lambda v: v["status"] == "open"))["status"] == "open"
    assert post(worker, f"{pad}/goedkeuring", "ops:anna", {})[0] == 202
    v = await worker.json_zodra(pad, "ops", lambda v: bool(v.get("weigeringen")))
    assert [w["code"] for w in v["weigeringen"]] == ["four_eyes"]
    await asyncio.sleep(2)  # the projections read engine.verzoeken continuously: time to act, if they would
    assert verzoek_id not in orjson.loads(worker.get("/api/v1/ops/projecties"))["herbouwd"]
    assert "rebuilding every read model" not in worker.log.read_text(errors="replace")

    assert post(worker, f"{pad}/goedkeuring", "ops:bert", {})[0] == 202
    status = await worker.json_zodra(
        "/api/v1/ops/projecties", "ops", lambda p: verzoek_id in p["herbouwd"], timeout=60
    )
    assert verzoek_id in status["herbouwd"]
    assert f"rebuilding every read model from offset 0 (approved: {verzoek_id})" in worker.log.read_text()
    worker.wait_healthy(timeout=120)  # caught up again
    replay = worker.replay()
    assert replay.returncode == 0 and "replay equals live" in replay.stdout, replay.stdout + replay.stderr
