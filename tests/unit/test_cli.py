import os
import subprocess
import sys


def test_worker_refuses_to_start_without_a_pseudonym_key() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGINE_PSEUDONYM_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "engine", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "ENGINE_PSEUDONYM_KEY" in result.stderr
