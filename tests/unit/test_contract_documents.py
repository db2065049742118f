"""The committed contract documents are what the Structs generate, and they agree with ingress."""

from __future__ import annotations

import jsonschema
import pytest

from engine.ops.schema import OUT, documents, json_schemas
from tests.fixtures import payload


def test_committed_contract_documents_are_fresh() -> None:
    stale = [
        p for p, content in documents().items() if not (OUT / p).exists() or (OUT / p).read_bytes() != content
    ]
    assert stale == [], "run: python -m engine.ops.schema"


def test_a_partner_can_validate_with_the_published_schema() -> None:
    schema = json_schemas()["nl.riec.signaal.v1"]
    jsonschema.validate(payload(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload(themas=["fraude"]), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload(subjecten=[{"type": "persoon", "bsn": 111222333}]), schema)


def test_asyncapi_names_every_contract_topic() -> None:
    doc = documents()["asyncapi.json"].decode()
    for address in ("partner.{org}.signalen", "routes.riec.{riec}", "routes.lft.{lft}", "routes.liec.loket",
                    "routes.liec.triage", "routes.euriec", "dlq.ingress"):  # fmt: skip
        assert f'"{address}"' in doc
