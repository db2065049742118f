"""Given the layers' import contract (pyproject.toml, run by `make lint`), when a domain module
imports Kafka, or one stage handler imports another, then `lint-imports` fails and names the import:
the contract is checked, not prose. Runs on a copy of the code, with the violation written into it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(kopie: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(kopie)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(kopie / "pyproject.toml"), "--no-cache"],
        cwd=kopie, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def kopie(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "engine", tmp_path / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_as_it_is_keeps_every_contract(kopie: Path) -> None:
    uit = lint_imports(kopie)
    assert uit.returncode == 0 and "0 broken" in uit.stdout, uit.stdout + uit.stderr


def test_kafka_in_the_domain_breaks_the_contract(kopie: Path) -> None:
    casus = kopie / "engine" / "domain" / "casus.py"
    casus.write_text(casus.read_text() + "\nimport aiokafka  # noqa\n")
    uit = lint_imports(kopie)
    assert uit.returncode != 0 and "BROKEN" in uit.stdout
    assert "engine.domain.casus -> aiokafka" in uit.stdout


def test_a_handler_importing_another_breaks_the_contract(kopie: Path) -> None:
    vastleggen = kopie / "engine" / "handlers" / "vastleggen.py"
    vastleggen.write_text(vastleggen.read_text() + "\nfrom engine.handlers import besluiten  # noqa\n")
    uit = lint_imports(kopie)
    assert uit.returncode != 0 and "engine.handlers.vastleggen -> engine.handlers.besluiten" in uit.stdout
