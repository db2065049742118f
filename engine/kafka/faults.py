"""Fault injection for the fault tests: a worker started with ENGINE_TEST_FREEZE_AT=<stage>:<point>
stops itself (SIGSTOP, as an operator's `kill -STOP` would) the first time that stage reaches that
point after the file ENGINE_TEST_FREEZE_FILE exists, so a test can freeze it at the one moment a
random pause seldom finds: between a transaction's offset commit and its end, say. Unset, as in
production, `freeze_at` is a comparison of two strings.

Points: `after_offsets` (TxnOffsetCommit accepted, EndTxn not sent), `between_polls` (a batch
committed, the next not fetched).
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

log = logging.getLogger(__name__)

_WAAR = os.environ.get("ENGINE_TEST_FREEZE_AT", "")
_BESTAND = os.environ.get("ENGINE_TEST_FREEZE_FILE", "")
_bevroren: list[str] = []


def freeze_at(stage: str, point: str) -> None:
    """Stop this process here, once, when the test asked for it and armed it (module doc)."""
    if not _WAAR or f"{stage}:{point}" != _WAAR or _bevroren:
        return
    if _BESTAND and not Path(_BESTAND).exists():
        return
    _bevroren.append(point)
    log.warning("%s: freezing at %s (ENGINE_TEST_FREEZE_AT)", stage, point)
    os.kill(os.getpid(), signal.SIGSTOP)
