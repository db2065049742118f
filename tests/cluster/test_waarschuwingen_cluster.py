"""The shipped alert rules, live: a real Prometheus (Debian's `prometheus`, as promtool) scrapes the
three workers with deploy/prometheus/alerts.yml unchanged, and its own `/api/v1/alerts` is the
evidence that

- a worker paused (SIGSTOP) fires RiecWorkerDown within what the rule promises (`for: 2m`, plus a
  scrape that times out and an evaluation), and it resolves once the worker runs again (SIGCONT);
- with records waiting, a broker that stops answering (all three nodes paused) fires
  RiecStageStalled within what that rule promises (no commit for 5 minutes, `for: 1m`), and it
  resolves once the brokers run again and the stage commits.

Scraped and evaluated every 5 s here instead of the 15 s of deploy/prometheus/prometheus.yml, so
that the test waits on the rules' own durations and not on the intervals. What was measured goes
to .local/cluster-faults.json beside the fault tests' figures. Runs last (the brokers are paused)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.kafka import clients
from engine.ops import onboarding
from engine.settings import KafkaConnection
from tests.cluster.conftest import CLUSTER, Ploeg
from tests.fixtures import encode, headers, payload
from tests.processes import ROOT, engine_status

pytestmark = pytest.mark.cluster

PROMETHEUS_PORT = int(os.environ.get("TEST_PROMETHEUS_PORT", "19990"))
INTERVAL_S = 5
SCRAPE_TIMEOUT_S = 4
MARGE_S = INTERVAL_S + SCRAPE_TIMEOUT_S + 2 * INTERVAL_S
"""Beyond a rule's own durations: the first failed scrape (interval plus its timeout) and the
evaluations that see it pending and then firing."""
DOWN_BELOOFD_S = 120 + MARGE_S
STALLED_BELOOFD_S = 300 + 60 + MARGE_S
METINGEN = ROOT / ".local/cluster-faults.json"


def _api(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())["data"]


@pytest.fixture
def prometheus(ploeg: Ploeg, tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not installed: apt-get install prometheus (.ci/run installs it)"
    targets = [w.url.removeprefix("http://") for w in ploeg.workers.values()]
    config = {
        "global": {
            "scrape_interval": f"{INTERVAL_S}s",
            "evaluation_interval": f"{INTERVAL_S}s",
            "scrape_timeout": f"{SCRAPE_TIMEOUT_S}s",
        },
        "rule_files": [str(ROOT / "deploy/prometheus/alerts.yml")],
        "scrape_configs": [
            {
                "job_name": "riec-engine",
                "authorization": {"credentials": ploeg.tokens["ops"]},
                "static_configs": [{"targets": targets}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{PROMETHEUS_PORT}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                up = _api(f"{url}/api/v1/query?query=up")["result"]
                if len(up) == len(targets) and all(r["value"][1] == "1" for r in up):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "prometheus.log").read_text()[-3000:]
            time.sleep(1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _alerts(url: str, naam: str) -> list[dict[str, Any]]:
    return [a for a in _api(f"{url}/api/v1/alerts")["alerts"] if a["labels"]["alertname"] == naam]


async def _tot(check: Callable[[], bool], timeout: float, wat: str) -> float:
    """Seconds until `check` holds; fails after `timeout`."""
    begin = time.monotonic()
    while not await asyncio.to_thread(check):
        assert time.monotonic() - begin < timeout, f"{wat}: not within {timeout:.0f} s"
        await asyncio.sleep(1)
    return time.monotonic() - begin


def _meet(naam: str, meting: dict[str, Any]) -> None:
    alle = json.loads(METINGEN.read_text()) if METINGEN.is_file() else {}
    alle[naam] = meting
    METINGEN.write_text(json.dumps(alle, indent=2) + "\n")
    print(f"\n{naam}: {json.dumps(meting)}")


def _brokers(sig: signal.Signals) -> None:
    for i in range(1, CLUSTER.nodes + 1):
        os.kill(int((CLUSTER.state / f"node-{i}" / "kafka.pid").read_text()), sig)


def _status(ploeg: Ploeg) -> str:
    return engine_status(CLUSTER, [w.url for w in ploeg.workers.values()], ploeg.tokens["ops"])


async def test_a_paused_worker_pages_as_down_and_resolves(ploeg: Ploeg, prometheus: str) -> None:
    w = ploeg.workers[3]
    instance = w.url.removeprefix("http://")

    def vuurt() -> bool:
        return any(
            a["labels"].get("instance") == instance and a["state"] == "firing"
            for a in _alerts(prometheus, "RiecWorkerDown")
        )

    def weg() -> bool:
        return not any(a["labels"].get("instance") == instance for a in _alerts(prometheus, "RiecWorkerDown"))

    w.process.send_signal(signal.SIGSTOP)
    try:
        gevuurd = await _tot(vuurt, DOWN_BELOOFD_S, "RiecWorkerDown firing")
        antwoord = _alerts(prometheus, "RiecWorkerDown")
    finally:
        w.process.send_signal(signal.SIGCONT)
    opgelost = await _tot(weg, 60, "RiecWorkerDown resolved")
    _meet(
        "alert_worker_down",
        {
            "firing_after_s": round(gevuurd, 1),
            "resolved_after_sigcont_s": round(opgelost, 1),
            "alerts": antwoord,
        },
    )


async def test_a_stage_with_records_waiting_and_no_broker_pages_as_stalled_and_resolves(
    ploeg: Ploeg, prometheus: str, cluster: KafkaConnection
) -> None:
    await asyncio.sleep(20)  # the paused worker of the test before has its partitions back
    print("\nengine.tools status on the running cluster:\n" + _status(ploeg))
    partner = onboarding.verbinding(CLUSTER.toegang("partner:politie")["partner:politie"])
    await clients.wait_until_authorised(partner, ("partner.politie.signalen",))
    producer = clients.producer(partner, linger_ms=20)
    await producer.start()
    try:
        body = encode(payload(locatie={"gemeente": "GM0599"}))
        # Several seconds of work for the stages, and the brokers paused as soon as it is written:
        # with batch-level produce and KIP-447 three workers routed 4,000 signals within the two
        # seconds this test once waited, and no stage had records waiting when the brokers stopped.
        for i in range(16_000):
            await producer.send("partner.politie.signalen", body, headers=headers("politie", f"stil-{i}"))
        await producer.flush()
    finally:
        await producer.stop()

    def vuurt() -> bool:
        return any(a["state"] == "firing" for a in _alerts(prometheus, "RiecStageStalled"))

    def weg() -> bool:
        return not _alerts(prometheus, "RiecStageStalled")

    _brokers(signal.SIGSTOP)
    try:
        gevuurd = await _tot(vuurt, STALLED_BELOOFD_S, "RiecStageStalled firing")
        antwoord = _alerts(prometheus, "RiecStageStalled")
        print("\nengine.tools status with the brokers paused:\n" + _status(ploeg))
    finally:
        _brokers(signal.SIGCONT)
    opgelost = await _tot(weg, 180, "RiecStageStalled resolved")
    _meet(
        "alert_stage_stalled",
        {
            "firing_after_s": round(gevuurd, 1),
            "resolved_after_brokers_back_s": round(opgelost, 1),
            "stages": sorted({(a["labels"]["instance"], a["labels"]["stage"]) for a in antwoord}),
            "alerts": antwoord,
        },
    )
