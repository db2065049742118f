"""Given the alert rules ops page on (deploy/prometheus/alerts.yml), then Prometheus's own tool finds
them valid and its unit tests (alerts_test.yml) see every rule fire on what it is about and stay
silent next to it; every rule has a severity that means something and a runbook that exists and is
linked from the README. promtool comes from Debian's `prometheus` package (.ci/run installs it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail(
            "promtool is not installed, so the alert rules cannot be checked "
            "(Debian: apt-get install prometheus; .ci/run does it)",
            pytrace=False,
        )
    return subprocess.run([tool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)


def regels() -> list[dict[str, object]]:
    groepen = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [r for g in groepen for r in g["rules"]]


def test_promtool_finds_the_rules_valid() -> None:
    uit = promtool("check", "rules", "alerts.yml")
    assert uit.returncode == 0 and f"SUCCESS: {len(regels())} rules found" in uit.stdout, (
        uit.stdout + uit.stderr
    )


def test_every_rule_fires_and_stays_silent_as_its_promtool_test_says() -> None:
    uit = promtool("test", "rules", "alerts_test.yml")
    assert uit.returncode == 0 and "SUCCESS" in uit.stdout, uit.stdout + uit.stderr
    getest = set(re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts_test.yml").read_text()))
    assert getest == {str(r["alert"]) for r in regels()}, "every rule has a test"


def test_every_rule_pages_or_tickets_and_has_a_runbook_the_readme_links() -> None:
    readme = (ROOT / "README.md").read_text()
    for r in regels():
        naam, labels, annotaties = str(r["alert"]), r["labels"], r["annotations"]
        assert isinstance(labels, dict) and labels["severity"] in ("page", "ticket"), naam
        assert isinstance(annotaties, dict) and annotaties["summary"], naam
        assert annotaties["runbook_url"] == f"docs/runbooks/{naam}.md", naam
        runbook = ROOT / "docs" / "runbooks" / f"{naam}.md"
        assert runbook.is_file(), f"{naam} has no runbook"
        for kop in ("## What it means", "## Confirm", "## Act", "## Recovered when", "## Do not"):
            assert kop in runbook.read_text(), f"{naam}: {kop}"
        assert f"(docs/runbooks/{naam}.md)" in readme, f"the README links {naam}'s runbook"
