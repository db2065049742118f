"""Pseudonymisation: a BSN becomes an HMAC-SHA256 under the engine's secret key.

The same key pseudonymises signals and handhavingsknelpunten, so a person can be matched on the
pseudonym alone. Without the key the pseudonym cannot be reversed or recomputed from a BSN.
"""

from __future__ import annotations

import hmac

from engine.errors import ConfigurationError

MIN_KEY_BYTES = 32


class Pseudonimiseerder:
    """Turns BSNs into pseudonyms; holds the only copy of the key in the process."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ConfigurationError(
                f"ENGINE_PSEUDONYM_KEY must be at least {MIN_KEY_BYTES} bytes; "
                "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        self._key = key

    def bsn(self, bsn: str) -> str:
        """The pseudonym of a BSN: 64 hex characters, stable for as long as the key is."""
        return hmac.digest(self._key, b"bsn:" + bsn.encode("ascii"), "sha256").hex()

    def __repr__(self) -> str:  # never show the key, not even in a traceback
        return "Pseudonimiseerder(<key hidden>)"
