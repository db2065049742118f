"""The ports the dashboard API's endpoints work over: the read models, the tokens, the audit log, the
command topic and the clock. `engine/app.py` builds the Kafka-backed ones; unit tests pass in-memory
fakes. Nothing here imports Kafka, and no projection imports a handler: the handlers import us."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from engine.api.audit import Verwerkingslog
from engine.api.toegang import Tokenbron
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.vergeten.inzage import Inzage
from engine.domain.vergeten.sleutels import Sleutelring
from engine.projections.staat import ProjectieStaat


class Audit(Protocol):
    """Where the record of every read of personal data (and every command) goes."""

    async def schrijf(self, log: Verwerkingslog) -> None:
        """Called before a read is answered; raises when the record was not stored, and the read
        must then not be answered."""


class Opdrachten(Protocol):
    """Where a command given on the dashboard goes: the RIEC's own command topic."""

    async def schrijf(
        self, *, riec: str, ce_id: str, ce_type: str, payload: bytes, auteur: str, key: str
    ) -> datetime:
        """Called after the command was audited; raises when the broker did not take it (then no
        202). Returns the command's `ce_time`."""


class Verzoekopdrachten(Protocol):
    """Where a four-eyes command goes: engine.verzoekopdrachten
    (`engine.events.vieroogen.Opdrachtbericht`)."""

    async def schrijf(self, *, verzoek_id: str, value: bytes) -> None:
        """Called after the command was audited; raises when the broker did not take it (then no 202)."""


Clock = Callable[[], datetime]
"""The time now (aware, UTC): when a read started and ended, for its audit record."""


@dataclass(frozen=True, slots=True)
class Ports:
    """What every endpoint may use, injected once when the pages are registered."""

    staat: Callable[[], ProjectieStaat]
    """The live read models (replaced when the projections are rebuilt, so asked for per request)."""
    tokens: Tokenbron
    audit: Audit
    opdrachten: Opdrachten
    clock: Clock
    posities: Callable[[], dict[str, int]]
    """How far the projections have read, `topic:partition` to offset (ops only)."""
    herbouwd: Callable[[], list[str]] = list
    """The approved rebuild requests this worker carried out since it started (ops only)."""
    verzoekopdrachten: Verzoekopdrachten | None = None
    """The four-eyes command topic; None: the four-eyes commands answer 503."""
    pseudo: Pseudonimiseerder | None = field(default=None, repr=False)
    """Turns the BSN of an erasure request into its pseudonym at the door."""
    verzegelaar: Sleutelring | None = field(default=None, repr=False)
    """Seals a four-eyes request's subject at the door (`engine.domain.vergeten.verzegeling`); None:
    filing 503."""
    inzage: Callable[[str, str], Awaitable[Inzage]] | None = None
    """The inzage export of a subject's identifier, drawn up for a principal; None: 503."""
