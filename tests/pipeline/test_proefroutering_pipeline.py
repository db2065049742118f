"""Given a running engine that routed signals observed in February 2022 under the 2022 division,
when `python -m engine.tools proefrouteer` tries the division of 1 January 2023 (Brielle,
Hellevoetsluis and Westvoorne became Voorne aan Zee) on that month, then its diff names exactly the
signals from those three gemeenten, each with the reason it was routed with and the one it would get,
and no signal from elsewhere or from outside the period; as JSON and as a readable page."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import msgspec
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.domain.proefroutering import Proefroutering
from engine.domain.reference.regelversies import regelversies
from tests.fixtures import payload
from tests.pipeline.conftest import Worker, engine_env
from tests.pipeline.kafka import Record, publish, read_until
from tests.processes import ROOT

pytestmark = pytest.mark.pipeline

VAN, TOT = "2022-02-01", "2022-02-28"
SIGNALEN = [
    # (waargenomen_op, gemeente code, RIEC topic, changes under the 2023 division)
    ("2022-02-10", "GM0501", "routes.riec.rotterdam", True),  # Brielle
    ("2022-02-11", "GM0530", "routes.riec.rotterdam", True),  # Hellevoetsluis
    ("2022-02-28", "GM0614", "routes.riec.rotterdam", True),  # Westvoorne, the period's last day
    ("2022-02-13", "GM0363", "routes.riec.amsterdam-amstelland", False),
    ("2022-02-14", "GM0599", "routes.riec.rotterdam", False),  # Rotterdam itself
    ("2022-03-01", "GM0501", "routes.riec.rotterdam", False),  # Brielle, after the period
]


def proefrouteer(worker: Worker, uit: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **engine_env(), "ENGINE_PSEUDONYM_KEY": worker.key}  # as the engine, with its key
    return subprocess.run(
        [sys.executable, "-m", "engine.tools", "proefrouteer", "--uit", str(uit), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


async def test_the_dry_run_of_the_voorne_aan_zee_merger_names_exactly_the_signals_it_changes(
    worker: Worker, producer: AIOKafkaProducer, broker: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    verwacht: set[str] = set()
    ids: dict[str, str] = {}
    for i, (dag, code, topic, verandert) in enumerate(SIGNALEN):
        ce_id = f"proef-{run}-{i}"
        body = payload(waargenomen_op=dag, locatie={"gemeente": code}, subjecten=[])
        await publish(producer, "politie", body, ce_id=ce_id)
        ids[f"politie:{ce_id}"] = topic
        if verandert:
            verwacht.add(f"politie:{ce_id}")

    def ours(r: Record) -> bool:
        return orjson.loads(r.value).get("signaal_id") in ids

    topics = sorted(set(ids.values()))
    await read_until(broker, topics, lambda f: len(f) >= len(ids), match=ours, timeout=60)

    gedaan = proefrouteer(worker, tmp_path, "--van", VAN, "--tot", TOT, "--regels", "2023-01-01")
    assert gedaan.returncode == 0, gedaan.stderr[-3000:]
    versie = regelversies().op(date(2023, 1, 1)).id
    naam = f"proefroutering-{VAN}-{TOT}-{versie}"
    uitkomst = msgspec.json.decode((tmp_path / f"{naam}.json").read_bytes(), type=Proefroutering)

    # Ours: exactly the three merged gemeenten, and only as other reasons for the same RIEC.
    van_ons = [v for v in uitkomst.verschillen if v.signaal_id in ids]
    assert {v.signaal_id for v in van_ons} == verwacht, gedaan.stdout[-3000:]
    for v in van_ons:
        assert (v.bestemming, v.wat) == ("riec.rotterdam", "andere_redenen")
        assert v.regelversie_gerouteerd == regelversies().op(date(2022, 2, 1)).id
        [voor], [na] = v.redenen_gerouteerd, v.redenen_proef
        assert voor.regel == na.regel == "locatie"
        assert "Voorne aan Zee (GM1992), RIEC rotterdam" in na.toelichting
        assert "Voorne aan Zee" not in voor.toelichting
    # Anyone's (an earlier run of this test): only signals of those gemeenten differ in the period.
    for v in uitkomst.verschillen:
        assert any(code in v.redenen_gerouteerd[0].toelichting for code in ("GM0501", "GM0530", "GM0614")), v
    assert uitkomst.signalen >= 5
    assert uitkomst.regelversie == versie

    pagina = (tmp_path / f"{naam}.md").read_text()
    assert pagina in gedaan.stdout
    assert "## riec.rotterdam" in pagina
    for signaal_id in verwacht:
        assert f"`{signaal_id}`" in pagina
    for signaal_id in set(ids) - verwacht:
        assert signaal_id not in pagina


def test_an_unknown_rule_set_is_refused_with_the_versions_there_are(worker: Worker, tmp_path: Path) -> None:
    gedaan = proefrouteer(worker, tmp_path, "--van", VAN, "--tot", TOT, "--regels", "2099-01-01")
    assert gedaan.returncode == 2
    assert "neither a shipped version" in gedaan.stderr and "2023-01-01" in gedaan.stderr
    assert not list(tmp_path.iterdir())
