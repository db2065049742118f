"""Given route topics and dlq.engine as operators read them with `python -m engine.tools`, when
they hold a withdrawal, a tombstone or a re-drive marker beside routed messages, then `tail` and
`summary` show what they can and stop at nothing (found while writing the runbooks)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord
from click.testing import CliRunner

from engine.ops import tools


def _record(topic: str, value: bytes | None, offset: int = 0, headers: list[Any] | None = None) -> Any:
    return ConsumerRecord(topic, 0, offset, 1, 0, b"k", value, None, 0, 0, headers or [])


ROUTED = orjson.dumps(
    {"signaal_id": "kmar:1", "themas": ["drugs"], "redenen": [{"regel": "locatie", "toelichting": "t"}]}
)
WITHDRAWN = orjson.dumps(
    {"signaal_id": "kmar:1", "bestemming": "riec.limburg", "ingetrokken_op": "2026-12-07T10:00:00Z"}
)


@pytest.fixture
def records(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    gelezen: list[Any] = []

    async def _tail(topics: list[str], seconds: float) -> list[Any]:
        return [r for r in gelezen if r.topic in topics]

    monkeypatch.setattr(tools, "_tail", _tail)
    return gelezen


def test_tail_shows_a_marker_and_a_tombstone_without_stopping(records: list[Any]) -> None:
    records += [
        _record("dlq.engine", b"", 0),
        _record("dlq.engine", None, 1),
        _record("dlq.engine", ROUTED, 2),
    ]
    uit = CliRunner().invoke(tools.cli, ["tail", "dlq.engine", "--show", "3"])
    assert uit.exit_code == 0, uit.output
    assert "(offset 0: no message, 0 bytes)" in uit.output and "kmar:1" in uit.output


def test_summary_counts_routes_and_passes_withdrawals_and_tombstones(records: list[Any]) -> None:
    records += [
        _record("routes.riec.limburg", ROUTED, 0),
        _record("routes.riec.limburg", WITHDRAWN, 1),
        _record("routes.riec.limburg", None, 2),
    ]
    uit = CliRunner().invoke(tools.cli, ["summary"])
    assert uit.exit_code == 0, uit.output
    assert "locatie" in uit.output and "routes.riec.limburg" in uit.output
