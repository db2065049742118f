"""The worker's command line: refuses to start without its key or with an unknown role."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys


def test_worker_refuses_to_start_without_a_pseudonym_key() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGINE_PSEUDONYM_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "engine", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "ENGINE_PSEUDONYM_KEY" in result.stderr


def _engine(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m engine ARGS` with a valid key, a plaintext broker setting and ENV (no broker is reached)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ENGINE_", "KAFKA_"))}
    base |= {"ENGINE_PSEUDONYM_KEY": secrets.token_hex(32), "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], env=base | env, capture_output=True, text=True, timeout=60
    )


def test_the_worker_command_has_a_role_option_that_reads_engine_rol_too() -> None:
    result = _engine("worker", "--help")
    assert result.returncode == 0
    assert "--rol [routering|projecties|alles]" in result.stdout
    assert "ENGINE_ROL" in result.stdout and "default: alles" in result.stdout
    # faust's own worker options are still there
    assert "--web-port" in result.stdout and "--loglevel" in result.stdout


def test_an_unknown_role_is_refused_before_the_worker_starts() -> None:
    for result in (_engine("worker", "--rol", "alles-behalve"), _engine("worker", ENGINE_ROL="lezen")):
        assert result.returncode == 2
        assert (
            "Invalid value for '--rol'" in result.stderr
            and "'routering', 'projecties', 'alles'" in result.stderr
        )
