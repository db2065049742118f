"""Every refusal code the engine can give is explained in the README's Refusals table, with what
the sender does about it: an integrator reading `reason_code` on dlq.ingress finds it there."""

import re
from pathlib import Path

from engine.kafka.quarantine import HANDLER_ERROR, OUTPUT_TOO_LARGE

ROOT = Path(__file__).resolve().parents[2]
WEIGERING = re.compile(r'Weigering\(\s*"([a-z_]+)"')


def _codes() -> set[str]:
    return {c for p in (ROOT / "engine").rglob("*.py") for c in WEIGERING.findall(p.read_text())}


def _tabel() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Refusals")
    return readme[start : readme.index("\n## ", start + 1)]


def test_the_scan_finds_the_codes_it_should() -> None:
    # The regex is no stub: it finds codes from the front doors, the casus writer and the link rules.
    assert {"elfproef", "bsn_in_id", "unknown_casus", "koppeling_verlopen"} <= _codes()


def test_every_refusal_code_is_in_the_readme_table() -> None:
    tabel = _tabel()
    rows = [line for line in tabel.splitlines() if line.startswith("| `")]
    documented = {c for row in rows for c in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
    assert sorted(_codes() - documented) == []


def test_quarantine_codes_of_dlq_engine_are_explained() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"`{HANDLER_ERROR}`" in readme and f"`{OUTPUT_TOO_LARGE}`" in readme
