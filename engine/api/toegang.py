"""Who may read what (need-to-know): bearer tokens from ENGINE_TOKENS_FILE (held as digests) mapped
to principals `riec:<riec>`, `lft:<lft>`, `liec` or `ops` (or a named person of these two,
`liec:<wie>`, `ops:<wie>`), and the rules of contract.md per resource."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import msgspec

from engine.domain.reference import LFTS, RIECS
from engine.errors import ConfigurationError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Principal:
    naam: str
    """As in the tokens file: `riec:rotterdam`, `lft:omg`, `liec`, `ops`, `liec:<wie>` or `ops:<wie>`."""

    def is_riec(self, riec: str) -> bool:
        return self.naam == f"riec:{riec}"

    def is_lft(self, lft: str) -> bool:
        return self.naam == f"lft:{lft}"

    @property
    def is_liec(self) -> bool:
        """The LIEC, shared (`liec`) or a named person of it (`liec:<wie>`): the same rights."""
        return self.naam.split(":", 1)[0] == "liec"

    @property
    def is_ops(self) -> bool:
        """Ops, shared (`ops`) or a named person of it (`ops:<wie>`): the same rights."""
        return self.naam.split(":", 1)[0] == "ops"

    @property
    def is_benoemd(self) -> bool:
        """A named person of the LIEC or ops: who may file and approve a four-eyes request, where a
        shared `liec` or `ops` token cannot tell two people apart (`engine.domain.vergeten.vieroogen`)."""
        return BENOEMD.fullmatch(self.naam) is not None


GELDIGE_PRINCIPALS = frozenset(
    {*(f"riec:{r}" for r in RIECS), *(f"lft:{lft}" for lft in LFTS), "liec", "ops"}
)
"""The shared principals; the tokens file may name persons of the LIEC and ops too (`BENOEMD`)."""
BENOEMD = re.compile(r"(liec|ops):[a-z][a-z0-9._-]{1,39}")
"""A named person of the LIEC or ops, `ops:jansen`: lower-case, 2 to 40 characters after the role."""


def geldige_principal(naam: str) -> bool:
    """Whether the tokens file may name `naam`."""
    return naam in GELDIGE_PRINCIPALS or BENOEMD.fullmatch(naam) is not None


DIGEST_PREFIX = "sha256:"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
MIN_TOKEN_LENGTE = 20


def digest(token: str) -> bytes:
    """The SHA-256 of a token: what the tokens file may hold (`sha256:<hex>`) and all the worker
    keeps. Unsalted, so tokens must be random (like `secrets.token_urlsafe(32)`), not passwords."""
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


@dataclass(frozen=True, slots=True)
class Tokens:
    """The principal of each token, held as digests only: a memory dump or a traceback shows no
    token, and a presented token is compared with every digest in constant time."""

    _digests: tuple[tuple[bytes, Principal], ...] = field(default=(), repr=False)

    def principal(self, authorization: str | None) -> Principal | None:
        """The principal of an `Authorization: Bearer <token>` header, or None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        presented = digest(authorization.removeprefix("Bearer ").strip())
        found = None
        for known, principal in self._digests:  # all of them: the time tells nothing about which
            if hmac.compare_digest(known, presented):
                found = principal
        return found

    def __len__(self) -> int:
        return len(self._digests)


def lees_tokens(pad: Path | None) -> Tokens:
    """The tokens file: JSON `{"<token>": "<principal>"}`, where a key may instead be the token's
    digest `sha256:<64 hex>` (so that no plain token is stored). An unknown principal, a short
    token or a malformed digest stops the worker at start, naming the problem (never the token)."""
    if pad is None:
        return Tokens()
    try:
        ruw = msgspec.json.decode(pad.read_bytes(), type=dict[str, str])
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as e:
        raise ConfigurationError(
            f"ENGINE_TOKENS_FILE {pad} is not a JSON object of token to principal: {e}"
        ) from None
    digests: dict[bytes, Principal] = {}
    for token, naam in ruw.items():
        if not geldige_principal(naam):
            raise ConfigurationError(
                f"ENGINE_TOKENS_FILE names an unknown principal {naam!r}: riec:<riec>, lft:<lft>, liec, "
                "ops, or a named person liec:<wie> or ops:<wie> (wie: a-z first, then a-z 0-9 . _ -, 2-40)"
            )
        if token.startswith(DIGEST_PREFIX):
            if not _DIGEST.fullmatch(token):
                raise ConfigurationError(
                    f"ENGINE_TOKENS_FILE: the digest of {naam} is not sha256: and 64 lower-case hex digits"
                )
            d = bytes.fromhex(token.removeprefix(DIGEST_PREFIX))
        elif len(token) < MIN_TOKEN_LENGTE:
            raise ConfigurationError(
                f"ENGINE_TOKENS_FILE: the token of {naam} is shorter than {MIN_TOKEN_LENGTE} characters"
            )
        else:
            d = digest(token)
        if d in digests:
            raise ConfigurationError(f"ENGINE_TOKENS_FILE holds the token of {naam} twice")
        digests[d] = Principal(naam)
    return Tokens(tuple(digests.items()))


class Tokenbron(Protocol):
    """Where a request's principal comes from: the tokens as read (`Tokens`) or the file itself."""

    def principal(self, authorization: str | None) -> Principal | None: ...

    def __len__(self) -> int: ...


class Tokenbestand:
    """ENGINE_TOKENS_FILE, read again when it changes (looked at at most once a `interval_s`): a
    token taken out of the file, or rotated, is refused from then on, without a restart, so the
    dashboard of whoever held it is cleared at its next request. A file that no longer reads (a
    half-written edit) refuses every token until it does: a revocation must never be undone by a
    typo; every dashboard then asks to log in again and Prometheus's scrape fails, which is seen."""

    def __init__(self, pad: Path | None, interval_s: float = 1.0, klok: Callable[[], float] = time.monotonic):
        self.pad = pad
        self.interval_s = interval_s
        self.klok = klok
        self._tokens = lees_tokens(pad)  # at start a bad file stops the worker
        self._stand = self._bestandstand()
        self._gekeken = klok()

    def principal(self, authorization: str | None) -> Principal | None:
        self._ververs()
        return self._tokens.principal(authorization)

    def __len__(self) -> int:
        return len(self._tokens)

    def _bestandstand(self) -> tuple[int, int, int] | None:
        if self.pad is None:
            return None
        try:
            st = os.stat(self.pad)  # follows a symlink: a Kubernetes Secret is swapped under one
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _ververs(self) -> None:
        nu = self.klok()
        if self.pad is None or nu - self._gekeken < self.interval_s:
            return
        self._gekeken = nu
        stand = self._bestandstand()
        if stand == self._stand:
            return
        self._stand = stand
        try:
            self._tokens = lees_tokens(self.pad)
            log.info("ENGINE_TOKENS_FILE changed: %d tokens", len(self._tokens))
        except ConfigurationError as e:
            self._tokens = Tokens()
            log.error(
                "ENGINE_TOKENS_FILE changed and does not read; every token is refused until it does: %s", e
            )


def mag_riec_lezen(p: Principal, riec: str) -> bool:
    """Inbox and casussen of a RIEC: that RIEC only."""
    return p.is_riec(riec)


def mag_riec_opdragen(p: Principal, riec: str) -> bool:
    """Commands on a RIEC's casussen through the dashboard: that RIEC only (as on the broker)."""
    return p.is_riec(riec)


def mag_riec_jaarverslag(p: Principal, riec: str) -> bool:
    return p.is_riec(riec) or p.is_liec


def mag_lft_lezen(p: Principal, lft: str) -> bool:
    return p.is_lft(lft) or p.is_liec


def mag_landelijk_jaarverslag(p: Principal) -> bool:
    return p.is_liec
