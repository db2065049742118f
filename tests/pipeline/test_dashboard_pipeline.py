"""Given a running engine with traffic, when a RIEC analyst opens the dashboard in a real browser
(Debian's headless Chromium), then it shows that RIEC's inbox with reasons, its casussen and its
annual table, from the API, with the analyst's token."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures import payload
from tests.pipeline.casus_helpers import opdracht, routes, uniek
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import publish

pytestmark = pytest.mark.pipeline
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def render(url: str) -> str:
    """The page's DOM after its scripts ran."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
             "--virtual-time-budget=8000", "--dump-dom", url],
            capture_output=True, text=True, timeout=90, check=True,
        )  # fmt: skip
    return result.stdout


async def test_a_riec_analyst_sees_inbox_casussen_and_annual_table(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    ce_id, casus_id = uniek("dash"), uniek("DASH")
    await publish(producer, "politie", payload(locatie={"gemeente": "GM0935"}, subjecten=[]), ce_id=ce_id)
    await opdracht(
        producer,
        "limburg",
        "casus.openen",
        {"casus_id": casus_id, "naam": "Drugslab Zuid", "bron": "gebiedsscan", "themas": ["drugs"]},
    )
    await routes(broker, "politie", ce_id, 1)
    await worker.json_zodra(
        "/api/v1/riec/limburg/casussen", "riec:limburg", lambda d: casus_id in orjson.dumps(d).decode()
    )
    totaal = orjson.loads(worker.request("/api/v1/riec/limburg/inbox?limit=1", "riec:limburg")[2])["totaal"]

    dom = render(f"{worker.url}/dashboard#riec=limburg&token={worker.tokens['riec:limburg']}")
    assert "RIEC Limburg" in dom, "the RIEC by its name"
    assert f"politie:{ce_id}" in dom and "Locatie (gemeente) in Maastricht (GM0935), RIEC limburg" in dom
    assert casus_id in dom and "Drugslab Zuid" in dom
    assert f'id="kpi-inbox">{totaal:,}<'.replace(",", ".") in dom, "counted as a Dutch reader writes it"
    assert "Behandelde RIEC-casussen" in dom and "<svg" in dom

    wrong = render(f"{worker.url}/dashboard#riec=limburg&token={worker.tokens['riec:rotterdam']}")
    assert "Uw aanmelding geeft geen toegang tot deze gegevens." in wrong and f"politie:{ce_id}" not in wrong
