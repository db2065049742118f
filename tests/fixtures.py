"""Builders shared by unit and pipeline tests: contract-shaped signals and CloudEvents headers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

TEST_KEY = b"k" * 32
VALID_BSN = "111222333"  # passes the elfproef
OTHER_BSN = "123456782"  # passes the elfproef


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid nl.riec.signaal.v1 payload about Amsterdam; override any field."""
    body: dict[str, Any] = {
        "soort": "signaal",
        "themas": ["witwassen"],
        "omschrijving": "Contante aankoop van een pand boven de vraagprijs.",
        "waargenomen_op": "2026-03-01",
        "locatie": {"postcode": "1013AB", "huisnummer": "12", "gemeente": "GM0363"},
        "subjecten": [
            {"type": "persoon", "bsn": VALID_BSN},
            {"type": "rechtspersoon", "kvk": "12345678", "sbi": ["6831"]},
            {"type": "voertuig", "kenteken": "ab-123-c"},
        ],
    }
    body.update(overrides)
    return body


def headers(org: str, ce_id: str | None = None, **overrides: str) -> list[tuple[str, bytes]]:
    """CloudEvents binary-mode headers for a partner's signal; `ce_source=...` etc. override."""
    attributes = {
        "ce_specversion": "1.0",
        "ce_id": ce_id or str(uuid.uuid4()),
        "ce_source": f"urn:nl:riec:partner:{org}",
        "ce_type": "nl.riec.signaal.v1",
        "ce_time": datetime.now(UTC).isoformat(),
        "content-type": "application/json",
    }
    attributes.update(overrides)
    return [(k, v.encode()) for k, v in attributes.items()]


def encode(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body)


def command_headers(
    riec: str, ce_type: str, ce_id: str | None = None, **overrides: str
) -> list[tuple[str, bytes]]:
    """CloudEvents headers of a RIEC office's command."""
    attributes = {"ce_source": f"urn:nl:riec:riec:{riec}", "ce_type": ce_type, **overrides}
    return headers("x", ce_id, **attributes)
