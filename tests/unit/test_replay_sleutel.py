"""Given the local broker `make run` made (its pseudonym key in `.local/pseudonym.key`, beside the
broker's directory), when `engine.tools replay` runs as the run's hint prints it (no key in the
environment), then it finds the master key the workers have, so it can open casus names as they do;
a key in the environment wins."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from engine.ops import tools
from engine.settings import hoofdsleutel_uit


def test_the_replay_finds_the_local_master_key_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kafka").mkdir()
    lokaal = tmp_path / "pseudonym.key"
    lokaal.write_text(secrets.token_hex(32) + "\n")
    for naam in (
        "ENGINE_MASTER_KEY",
        "ENGINE_MASTER_KEY_FILE",
        "ENGINE_PSEUDONYM_KEY",
        "ENGINE_PSEUDONYM_KEY_FILE",
    ):
        monkeypatch.delenv(naam, raising=False)
    monkeypatch.setenv("KAFKA_ADMIN_CONFIG", str(tmp_path / "kafka" / "admin.json"))

    assert tools._hoofdsleutel() == hoofdsleutel_uit({"ENGINE_PSEUDONYM_KEY_FILE": str(lokaal)})

    eigen = secrets.token_hex(32)
    monkeypatch.setenv("ENGINE_PSEUDONYM_KEY", eigen)
    assert tools._hoofdsleutel() == hoofdsleutel_uit({"ENGINE_PSEUDONYM_KEY": eigen})
    assert tools._hoofdsleutel() != hoofdsleutel_uit({"ENGINE_PSEUDONYM_KEY_FILE": str(lokaal)})
