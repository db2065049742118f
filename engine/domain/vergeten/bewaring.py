"""Retention: how long each kind of data is kept, and from when (docs/vergeten.md). The one table;
settings may shorten or lengthen a period per rule (ENGINE_RETENTION_<RULE>_DAYS), and changing it
in production is a four-eyes act (`engine.domain.vergeten.vieroogen`, `bewaartermijn_wijzigen`).

The executor (`engine.handlers.vergeten`) applies the signal rules on a schedule; the rules of
topics (`dlq`, `doorgang`, `audit`) are their retention.ms (`engine.topics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from engine.events.vergeten import Regel


@dataclass(frozen=True, slots=True)
class Bewaarregel:
    regel: Regel
    termijn: timedelta
    vanaf: str
    """The moment the period is counted from."""
    waarom: str


JAAR = timedelta(days=365)

BEWAARREGELS: tuple[Bewaarregel, ...] = (
    Bewaarregel(
        "signaal_zonder_casus", 2 * JAAR, "the signal's receipt",
        "a signal that led to no casus in two years is no longer needed for its purpose; two years "
        "covers the annual report of the year it came in and the year after",
    ),
    Bewaarregel(
        "signaal_in_casus", 5 * JAAR, "the casus's closing",
        "kept with its casus: money recovered is often collected years after closing",
    ),
    Bewaarregel(
        "casus", 5 * JAAR, "the casus's closing",
        "the casus's subjects and name; its counts in the annual tables stay (aggregates)",
    ),
    Bewaarregel(
        "audit", 5 * JAAR, "the read",
        "accountability for every read outlives the data read (WGS: every read can be accounted for)",
    ),
    Bewaarregel(
        "dlq", timedelta(days=30), "the refusal",
        "long enough for a partner's integrator to fix and resend; raw bytes may hold a raw BSN",
    ),
    Bewaarregel(
        "doorgang", timedelta(days=7), "the write",
        "topics between stages and the partners' own topics are read within seconds; a week covers an outage",
    ),
)  # fmt: skip


def termijnen(afwijkend: Mapping[str, float] | None = None) -> dict[Regel, timedelta]:
    """Every rule's period, with the days given in `afwijkend` (from the settings) instead."""
    afwijkend = afwijkend or {}
    onbekend = set(afwijkend) - {r.regel for r in BEWAARREGELS}
    if onbekend:
        raise ValueError(f"unknown retention rules: {sorted(onbekend)}")
    return {
        r.regel: timedelta(days=afwijkend[r.regel]) if r.regel in afwijkend else r.termijn
        for r in BEWAARREGELS
    }
