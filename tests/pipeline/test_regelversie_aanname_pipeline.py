"""Adopting a rule version through four eyes, on the real broker and API: given a worker that ships
a version beyond the baseline (ENGINE_EXTRA_REGELVERSIES: the 2022 division from 2021-07-01 with
Brielle in RIEC Zeeland-West-Brabant), routing ignores it; the attacker's tries are refused on the
record (a forged version id, the dry run of another version, approving one's own request); when
ops:anna files the request with its dry run (`engine.tools regelversie aanvragen`) and liec:cor
approves it, then the adoption reaches engine.regelversies and a signal observed after its
geldig_vanaf is routed under it, its route naming the new version."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.domain.proefroutering import Proefroutering, samenvatting
from engine.domain.reference.regelversies import laad_versie, regelversies
from engine.events.regelversie import REGELVERSIE_DECODER
from engine.topics import REGELVERSIES
from tests.fixtures import payload
from tests.pipeline.conftest import TESTVERSIE_VANAF, Worker, engine_env, extra_regelversies
from tests.pipeline.kafka import Record, publish, read_until
from tests.processes import ROOT

pytestmark = pytest.mark.pipeline
PAD = "/api/v1/ops/verzoeken"
V2022 = "dd40bb4107d3f50e"


def tool(worker: Worker, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m engine.tools ARGS` as the engine (for proefrouteer: its principal and key)."""
    env = {**os.environ, **engine_env(), "ENGINE_PSEUDONYM_KEY": worker.key}
    return subprocess.run(
        [sys.executable, "-m", "engine.tools", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip


def post(worker: Worker, path: str, principal: str, body: dict[str, Any]) -> int:
    status, antwoord = worker.post(path, principal, body)
    assert status == 202, antwoord
    return status


def routeert(worker: Worker, versie_id: str) -> float:
    """riec_rule_version_routes of the version on the worker's /metrics."""
    for regel in worker.get("/metrics", "ops").splitlines():
        if regel.startswith("riec_rule_version_routes{") and f'regelversie="{versie_id}"' in regel:
            return float(regel.rsplit(" ", 1)[1])
    raise AssertionError(f"no riec_rule_version_routes for {versie_id}")


async def route_van(broker: str, topic: str, signaal_id: str) -> dict[str, Any]:
    def ours(r: Record) -> bool:
        return bool(orjson.loads(r.value).get("signaal_id") == signaal_id)

    [r] = await read_until(broker, [topic], lambda f: len(f) >= 1, match=ours, timeout=60)
    return dict(orjson.loads(r.value))


async def test_a_version_routes_only_after_a_second_person_approved_its_dry_run(
    worker: Worker, producer: AIOKafkaProducer, broker: str, tmp_path: Path
) -> None:
    map_ = extra_regelversies() / TESTVERSIE_VANAF
    versie = laad_versie(map_)
    assert versie.id not in {v.id for v in regelversies().geleverd}, "beyond the baseline"
    run = uuid.uuid4().hex[:8]
    brielle = payload(waargenomen_op="2021-08-02", locatie={"gemeente": "GM0501"}, subjecten=[])

    # Given the version is shipped and not adopted: a signal of its period routes as before.
    await publish(producer, "politie", brielle, ce_id=f"aanname-{run}-voor")
    voor = await route_van(broker, "routes.riec.rotterdam", f"politie:aanname-{run}-voor")
    assert voor["regelversie"] == V2022
    assert routeert(worker, versie.id) == 0.0 and routeert(worker, V2022) == 1.0
    assert "is shipped but not adopted: routing ignores it" in worker.log.read_text(errors="replace")

    # The dry run of the version over August 2021 names that signal: Rotterdam off, Zeeland-West-Brabant on.
    uit = tmp_path / "proef"
    gedaan = tool(worker, "proefrouteer", "--van", "2021-08-01", "--tot", "2021-08-31", "--regels", str(map_),
                  "--uit", str(uit))  # fmt: skip
    assert gedaan.returncode == 0, gedaan.stderr[-3000:]
    [json] = uit.glob(f"proefroutering-*-{versie.id}.json")
    uitkomst = msgspec.json.decode(json.read_bytes(), type=Proefroutering)
    assert {(v.bestemming, v.wat) for v in uitkomst.verschillen if v.signaal_id.endswith(f"{run}-voor")} == {
        ("riec.rotterdam", "eraf"),
        ("riec.zeeland-west-brabant", "erbij"),
    }
    proef = msgspec.to_builtins(samenvatting(json.read_bytes()))

    # The attacker's tries, each refused and on the record.
    async def geweigerd(verzoek_id: str, principal: str = "ops:bert") -> str:
        v = await worker.json_zodra(f"{PAD}/{verzoek_id}", "ops", lambda v: bool(v.get("weigeringen")))
        assert v is not None, verzoek_id
        [w] = v["weigeringen"]
        assert w["door"] == principal
        return str(w["code"])

    vals = "0123456789abcdef"
    body = {"handeling": "regelversie_aannemen", "reden": "test"}
    post(worker, PAD, "ops:bert", {**body, "verzoek_id": f"vals-{run}", "onderwerp": vals,
                                   "proef": {**proef, "regelversie": vals}})  # fmt: skip
    assert await geweigerd(f"vals-{run}") == "unknown_regelversie", (
        "a forged id: the engine ships no such version"
    )
    post(worker, PAD, "ops:bert", {**body, "verzoek_id": f"ander-{run}", "onderwerp": versie.id,
                                   "proef": {**proef, "regelversie": V2022}})  # fmt: skip
    assert await geweigerd(f"ander-{run}") == "proef_mismatch", "a dry run of another version"
    post(worker, PAD, "ops:bert", {**body, "verzoek_id": f"zonder-{run}", "onderwerp": versie.id})
    assert await geweigerd(f"zonder-{run}") == "proef_missing"

    # When ops:anna files it with the dry run (the tool), and approves it herself: refused.
    verzoek_id = f"regelversie-{run}"
    gedaan = tool(worker, "regelversie", "aanvragen", "--regels", str(map_), "--proef", str(uit),
                  "--reden", "Brielle naar RIEC Zeeland-West-Brabant (test)", "--verzoek-id", verzoek_id,
                  "--url", worker.url, "--token", worker.tokens["ops:anna"])  # fmt: skip
    assert gedaan.returncode == 0, gedaan.stdout + gedaan.stderr
    pad = f"{PAD}/{verzoek_id}"
    v = await worker.json_zodra(pad, "liec:cor", lambda v: v["status"] == "open")
    assert (v["aanvrager"], v["regelversie"]) == ("ops:anna", versie.id)
    assert v["proef"] == proef, "the request shows its dry run"
    post(worker, f"{pad}/goedkeuring", "ops:anna", {})
    assert await geweigerd(verzoek_id, "ops:anna") == "four_eyes"
    assert routeert(worker, versie.id) == 0.0

    # When a second person approves it: the adoption is on engine.regelversies, once.
    post(worker, f"{pad}/goedkeuring", "liec:cor", {})
    v = await worker.json_zodra(pad, "ops", lambda v: v["status"] == "goedgekeurd")
    assert v["beoordelaar"] == "liec:cor"
    [aanname] = await read_until(broker, [REGELVERSIES], lambda f: len(f) >= 1, timeout=60)
    a = REGELVERSIE_DECODER.decode(aanname.value)
    assert (aanname.key, a.regelversie, a.verzoek_id, a.door) == (
        versie.id.encode(),
        versie.id,
        verzoek_id,
        "liec:cor",
    )

    # Then a signal observed after its geldig_vanaf is routed under it, and names it.
    await publish(producer, "politie", brielle, ce_id=f"aanname-{run}-na")
    na = await route_van(broker, "routes.riec.zeeland-west-brabant", f"politie:aanname-{run}-na")
    assert na["regelversie"] == versie.id
    [reden] = na["redenen"]
    assert (
        reden["regel"] == "locatie" and "Brielle (GM0501), RIEC zeeland-west-brabant" in reden["toelichting"]
    )
    assert routeert(worker, versie.id) == 1.0
    # The signal routed before keeps the route it had: a decision is a fact.
    assert (await route_van(broker, "routes.riec.rotterdam", f"politie:aanname-{run}-voor"))[
        "regelversie"
    ] == V2022
