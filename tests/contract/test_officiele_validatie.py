"""The contract documents as the official tools read them: the AsyncAPI document with the AsyncAPI
Initiative's parser (`@asyncapi/parser` 3.x, run by node from tools/contract/, installed by
`make test` with npm), every JSON Schema with a validator of the draft it declares.

A missing tool fails these tests, loudly and with the command that installs it: a contract that
was never validated must not pass as a valid one."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engine.ops.schema import OUT, asyncapi, json_schemas

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "contract"
VOORBEELDEN = {
    "signaal.json": "nl.riec.signaal.v1",
    "casus-openen.json": "nl.riec.casus.openen.v1",
}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not installed, so the AsyncAPI document cannot be validated with the official parser; "
            "install Node.js 18 or later (Debian: apt-get install nodejs npm) and run make test",
            pytrace=False,
        )
    if not (TOOLS / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail(
            "the official AsyncAPI parser is not installed; run: npm ci --prefix tools/contract "
            "(make test does this)",
            pytrace=False,
        )
    return node


def _valideer(pad: Path) -> tuple[int, list[dict[str, Any]]]:
    klaar = subprocess.run(
        [_node(), str(TOOLS / "valideer.mjs"), str(pad)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    regels = [json.loads(r) for r in klaar.stdout.splitlines() if r.startswith("{")]
    if klaar.returncode == 2 or not regels or "samenvatting" not in regels[-1]:
        pytest.fail(f"the AsyncAPI parser did not run (exit {klaar.returncode}): {klaar.stderr[-2000:]}")
    return klaar.returncode, regels[:-1]


def test_the_official_asyncapi_parser_accepts_the_document() -> None:
    status, diagnostieken = _valideer(OUT / "asyncapi.json")
    fouten = [d for d in diagnostieken if d["severity"] == "error"]
    assert fouten == [], f"{len(fouten)} errors, the first: {fouten[:5]}"
    assert status == 0


def test_the_official_asyncapi_parser_refuses_a_broken_document(tmp_path: Path) -> None:
    """The check can fail: the parser reports what the issue once found (a discriminator object)."""
    doc = asyncapi()
    doc["components"]["schemas"]["Signaal"]["discriminator"] = {"propertyName": "soort"}
    pad = tmp_path / "asyncapi.json"
    pad.write_text(json.dumps(doc))
    status, diagnostieken = _valideer(pad)
    assert status == 1 and any(d["severity"] == "error" for d in diagnostieken)


@pytest.mark.parametrize("naam", sorted(json_schemas()))
def test_every_json_schema_is_valid_for_the_draft_it_declares(naam: str) -> None:
    schema = json.loads((OUT / "schemas" / f"{naam}.json").read_text())
    validator = jsonschema.validators.validator_for(schema, default=None)
    assert validator is jsonschema.Draft202012Validator, f"{naam} declares {schema.get('$schema')}"
    validator.check_schema(schema)


def test_the_asyncapi_components_are_valid_draft_07_schemas() -> None:
    """AsyncAPI's schema format is a superset of JSON Schema draft-07."""
    for naam, schema in asyncapi()["components"]["schemas"].items():
        try:
            jsonschema.Draft7Validator.check_schema(schema)
        except jsonschema.SchemaError as e:  # pragma: no cover - the message names the schema
            pytest.fail(f"components.schemas.{naam}: {e.message}")


@pytest.mark.parametrize(("voorbeeld", "soort"), sorted(VOORBEELDEN.items()))
def test_the_documented_examples_validate_against_their_schema(voorbeeld: str, soort: str) -> None:
    schema = json.loads((OUT / "schemas" / f"{soort}.json").read_text())
    bericht = json.loads((ROOT / "docs" / "examples" / voorbeeld).read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(bericht)
