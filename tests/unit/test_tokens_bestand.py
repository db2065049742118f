"""Given an operator who creates a tokens file, then it is readable by its owner only from its very
first byte (never created open and chmod-ed afterwards), and with --digests it holds no token."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import stat
import struct
import subprocess
import sys
from pathlib import Path

from engine.api.toegang import Principal, lees_tokens

IN_ATTRIB, IN_CREATE = 0x4, 0x100


def gebeurtenissen(fd: int) -> list[tuple[str, int]]:
    """The (name, mask) events inotify holds for the watched directory."""
    try:
        data = os.read(fd, 65536)
    except BlockingIOError:
        return []
    out, i = [], 0
    while i < len(data):
        _, mask, _, lengte = struct.unpack_from("iIII", data, i)
        out.append((data[i + 16 : i + 16 + lengte].rstrip(b"\0").decode(), mask))
        i += 16 + lengte
    return out


def tokens(pad: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # umask 0: a file created without an explicit mode would be world-readable (0666).
    return subprocess.run(
        [sys.executable, "-m", "engine.tools", "tokens", str(pad), *args],
        capture_output=True, text=True, umask=0, timeout=60, check=False,
    )  # fmt: skip


def test_the_tokens_file_is_created_0600_and_never_chmod_ed(tmp_path: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    assert fd >= 0 and libc.inotify_add_watch(fd, os.fsencode(tmp_path), IN_CREATE | IN_ATTRIB) >= 0
    try:
        assert tokens(tmp_path / "tokens.json").returncode == 0
        events = [mask for naam, mask in gebeurtenissen(fd) if naam == "tokens.json"]
    finally:
        os.close(fd)
    assert stat.S_IMODE((tmp_path / "tokens.json").stat().st_mode) == 0o600
    assert events and events[0] & IN_CREATE
    assert not any(mask & IN_ATTRIB for mask in events), "its mode was changed after it was created"


def test_with_digests_the_file_holds_no_token_and_the_printed_ones_work(tmp_path: Path) -> None:
    pad = tmp_path / "tokens.json"
    result = tokens(pad, "--digests")
    assert result.returncode == 0, result.stderr
    printed = dict(line.split(" ") for line in result.stdout.splitlines())
    stored = json.loads(pad.read_text())
    assert set(stored.values()) == set(printed) and all(k.startswith("sha256:") for k in stored)
    for principal, token in printed.items():
        assert token not in pad.read_text()
        assert stored["sha256:" + hashlib.sha256(token.encode()).hexdigest()] == principal
    assert lees_tokens(pad).principal(f"Bearer {printed['liec']}") == Principal("liec")


def test_a_planted_link_is_not_followed(tmp_path: Path) -> None:
    elders = tmp_path / "elders.json"
    (tmp_path / "tokens.json").symlink_to(elders)
    result = tokens(tmp_path / "tokens.json")
    assert result.returncode != 0 and "link" in result.stderr
    assert not elders.exists()
