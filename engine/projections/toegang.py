"""Who may read what (need-to-know): bearer tokens from ENGINE_TOKENS_FILE mapped to principals
`riec:<riec>`, `lft:<lft>`, `liec` or `ops`, and the rules of contract.md per resource."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from engine.errors import ConfigurationError
from engine.reference import LFTS, RIECS


@dataclass(frozen=True, slots=True)
class Principal:
    naam: str
    """As in the tokens file: `riec:rotterdam`, `lft:omg`, `liec` or `ops`."""

    def is_riec(self, riec: str) -> bool:
        return self.naam == f"riec:{riec}"

    def is_lft(self, lft: str) -> bool:
        return self.naam == f"lft:{lft}"

    @property
    def is_liec(self) -> bool:
        return self.naam == "liec"

    @property
    def is_ops(self) -> bool:
        return self.naam == "ops"


GELDIGE_PRINCIPALS = frozenset(
    {*(f"riec:{r}" for r in RIECS), *(f"lft:{lft}" for lft in LFTS), "liec", "ops"}
)


def lees_tokens(pad: Path | None) -> dict[str, Principal]:
    """The tokens file: JSON `{"<token>": "<principal>"}`. An unknown principal or a short token
    stops the worker at start, naming the problem (never the token)."""
    if pad is None:
        return {}
    try:
        ruw = msgspec.json.decode(pad.read_bytes(), type=dict[str, str])
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as e:
        raise ConfigurationError(
            f"ENGINE_TOKENS_FILE {pad} is not a JSON object of token to principal: {e}"
        ) from None
    tokens: dict[str, Principal] = {}
    for token, naam in ruw.items():
        if naam not in GELDIGE_PRINCIPALS:
            raise ConfigurationError(f"ENGINE_TOKENS_FILE names an unknown principal {naam!r}")
        if len(token) < 20:
            raise ConfigurationError(f"ENGINE_TOKENS_FILE: the token of {naam} is shorter than 20 characters")
        tokens[token] = Principal(naam)
    return tokens


def principal_van(authorization: str | None, tokens: dict[str, Principal]) -> Principal | None:
    """The principal of an `Authorization: Bearer <token>` header, or None."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    return tokens.get(authorization.removeprefix("Bearer ").strip())


def mag_riec_lezen(p: Principal, riec: str) -> bool:
    """Inbox and casussen of a RIEC: that RIEC only."""
    return p.is_riec(riec)


def mag_riec_jaarverslag(p: Principal, riec: str) -> bool:
    return p.is_riec(riec) or p.is_liec


def mag_lft_lezen(p: Principal, lft: str) -> bool:
    return p.is_lft(lft) or p.is_liec


def mag_landelijk_jaarverslag(p: Principal) -> bool:
    return p.is_liec
