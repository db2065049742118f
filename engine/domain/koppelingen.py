"""Need-to-know for casus links: a RIEC may bring in or link only signals that were routed to it.

A link (`casus.openen` `signalen`, `casus.signaal_koppelen`) is decided on the partition that owns
the signal's id (vastleggen), which learns each signal's destinations from the record its routing
writes back (`SignaalGerouteerd`). Each link gets one decision:
- bevestigd: the signal was routed to the casus's RIEC (`routes.riec.<riec>`); its identifiers join
  the open-casus index, and from then on its partner and themes count in the casus;
- verlopen: no signal with that id reached the RIEC's inbox within the pending-link period.
Until then the link waits. A signal routed only to other RIECs is, to this RIEC, a signal that does
not exist: a link to it waits and expires exactly as a link to an id never seen, with the same
words at the same time, so that a RIEC cannot probe which signals exist elsewhere (partner ids are
often guessable). Older logs may hold `geweigerd` decisions (`signaal_niet_gerouteerd`); they are
read as they were written. The state is a fold of the signal log: expiry decisions are on the log
too, so restoring from the log never decides again by the clock.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TypedDict

from engine.domain.identificatoren import van_signaal
from engine.domain.ingress.tijdvenster import ONTDUBBEL_HORIZON
from engine.errors import Weigering
from engine.events.casus import KoppelingBevestigd, KoppelingGeweigerd, KoppelingUitkomst, KoppelingVerlopen
from engine.events.signaal_ontvangen import (
    KoppelingBeslist,
    KoppelingGevraagd,
    SignaalGerouteerd,
    SignaalLogRecord,
    SignaalOntvangen,
)

TERMIJN = timedelta(days=7)
VERWERKINGSMARGE = timedelta(days=7)
"""How much longer than ingress's horizon vastleggen remembers a signal id: a duplicate accepted at
the edge of the horizon is still recognised after a backlog (an outage) of up to a week."""
"""How long a link waits for a signal not seen yet (ENGINE_PENDING_LINK_EXPIRY_S)."""


@cache
def _riecs(bestemmingen: tuple[str, ...]) -> frozenset[str]:
    # Cached: millions of signals share a few dozen sets of RIECs, so each set is held once.
    return frozenset(b.removeprefix("riec.") for b in bestemmingen if b.startswith("riec."))


def _duur(termijn: timedelta) -> str:
    if termijn >= timedelta(days=1):
        return f"{termijn / timedelta(days=1):g} days"
    return f"{termijn.total_seconds():g} seconds"


def verlopen(k: KoppelingGevraagd, termijn: timedelta) -> Weigering:
    """The one answer for a signal that is not in the RIEC's inbox, whether it exists or not."""
    return Weigering(
        "koppeling_verlopen",
        f"no signaal {k.signaal_id} reached the inbox of RIEC {k.riec} within {_duur(termijn)} of the "
        f"link to casus {k.casus_id}; check the id, and link it again (casus.signaal_koppelen) once "
        "it is in your inbox",
    )


def beslis(k: KoppelingGevraagd, riecs: frozenset[str], nu: datetime) -> KoppelingBeslist | None:
    """The decision on a link to a signal whose routing is known: confirmed when it reached the
    casus's RIEC; otherwise None, it waits as a link to an unknown signal does (module doc)."""
    if k.riec in riecs:
        return KoppelingBeslist(koppeling=k, uitkomst="bevestigd", besloten_op=nu)
    return None


class Signaalpartitie:
    """What vastleggen knows of one partition's signals: a fold of that partition of the signal log.

    Live, the handler asks for a decision first (`koppel`, `bij_routering`, `verlopen`), writes what
    must be remembered to the log, and folds the same record with `pas_toe`; restoring folds the log.
    """

    def __init__(self, termijn: timedelta = TERMIJN, horizon: timedelta = ONTDUBBEL_HORIZON) -> None:
        self.termijn = termijn
        self.horizon = horizon
        self.grens = datetime.min.replace(tzinfo=UTC)
        """Signals reported (ce_time) before this are forgotten; moved on by `vergeet`."""
        self.signalen: dict[str, list[str]] = {}
        """signaal_id → its identifiers."""
        self._gemeld: list[tuple[datetime, str]] = []
        """(ce_time, signaal_id) of the signals held, oldest first: what `vergeet` forgets next."""
        self.riecs: dict[str, frozenset[str]] = {}
        """signaal_id → the RIECs it was routed to, once routed."""
        self.wachtend: dict[str, list[KoppelingGevraagd]] = {}
        """signaal_id (not seen, or not routed yet) → links waiting for it."""
        self._termijnen: list[tuple[datetime, str, str]] = []
        """(asked at, signaal_id, casus_id) of waiting links, oldest first; stale entries are skipped."""

    def pas_toe(self, record: SignaalLogRecord) -> None:
        """Fold one record of the signal log (live after writing it, or when restoring)."""
        match record:
            case SignaalOntvangen() if record.gemeld_op >= self.grens:
                self.signalen[record.signaal_id] = van_signaal(record)
                heapq.heappush(self._gemeld, (record.gemeld_op, record.signaal_id))
            case SignaalGerouteerd() if record.signaal_id in self.signalen:  # else forgotten
                riecs = self.riecs[record.signaal_id] = _riecs(tuple(record.bestemmingen))
                # Confirmed by bij_routering; links of other RIECs wait on, to expire.
                over = [w for w in self.wachtend.pop(record.signaal_id, []) if w.riec not in riecs]
                if over:
                    self.wachtend[record.signaal_id] = over
            case KoppelingGevraagd():
                self.wachtend.setdefault(record.signaal_id, []).append(record)
                if record.gevraagd_op is not None:
                    heapq.heappush(self._termijnen, (record.gevraagd_op, record.signaal_id, record.casus_id))
            case KoppelingBeslist(koppeling=k):
                over = [w for w in self.wachtend.get(k.signaal_id, []) if w.casus_id != k.casus_id]
                if over:
                    self.wachtend[k.signaal_id] = over
                else:
                    self.wachtend.pop(k.signaal_id, None)

    def vergeet_signaal(self, signaal_id: str) -> None:
        """A forgotten signal keeps its id (a copy of it is still refused) but no identifier."""
        if signaal_id in self.signalen:
            self.signalen[signaal_id] = []

    def vergeet(self, nu: datetime) -> None:
        """Forget the signals beyond the de-duplication horizon (ingress refuses them, and any
        duplicate of them), with a week's margin for a backlog between ingress and here. Called
        before a restore (so the fold skips them) and then as time passes. A link to a forgotten
        signal waits and expires as one to a signal never seen."""
        self.grens = nu - self.horizon - VERWERKINGSMARGE
        while self._gemeld and self._gemeld[0][0] < self.grens:
            _, signaal_id = heapq.heappop(self._gemeld)
            self.signalen.pop(signaal_id, None)
            self.riecs.pop(signaal_id, None)

    def koppel(self, k: KoppelingGevraagd, nu: datetime) -> KoppelingBeslist | None:
        """The decision on a link now, or None: it must wait (write it to the log and fold it)."""
        riecs = self.riecs.get(k.signaal_id)
        return None if riecs is None else beslis(k, riecs, nu)

    def bij_routering(self, r: SignaalGerouteerd, nu: datetime) -> list[KoppelingBeslist]:
        """The confirmations of the links waiting for a signal, now that its routing is known."""
        riecs = _riecs(tuple(r.bestemmingen))
        besluiten = (beslis(k, riecs, nu) for k in self.wachtend.get(r.signaal_id, []))
        return [b for b in besluiten if b is not None]

    def verlopen(self, nu: datetime) -> list[KoppelingBeslist]:
        """Links whose signal did not reach their RIEC within the period, as decisions to log and fold.

        A link to a signal seen but not routed yet does not expire: its routing is on its way (only
        slips of the partitioned design ever made one wait).
        """
        besluiten: list[KoppelingBeslist] = []
        onderweg: list[tuple[datetime, str, str]] = []
        while self._termijnen and self._termijnen[0][0] + self.termijn <= nu:
            termijn = heapq.heappop(self._termijnen)
            _, signaal_id, casus_id = termijn
            if signaal_id in self.signalen and signaal_id not in self.riecs:
                onderweg.append(termijn)  # looked at again: routed elsewhere, it expires then
                continue
            for k in self.wachtend.get(signaal_id, []):
                if k.casus_id == casus_id:
                    w = verlopen(k, self.termijn)
                    besluiten.append(
                        KoppelingBeslist(
                            koppeling=k, uitkomst="verlopen", besloten_op=nu, reden_code=w.code, reden=w.reden
                        )
                    )
                    break
        for termijn in onderweg:
            heapq.heappush(self._termijnen, termijn)
        return besluiten


class _Meta(TypedDict):
    opdracht_id: str
    riec: str
    tijd: datetime
    vastgelegd_op: datetime


def gebeurtenis(b: KoppelingBeslist, vastgelegd_op: datetime) -> KoppelingUitkomst:
    """The casus event of a decision, written by the casus's single writer.

    It carries the command's `opdracht_id` and `tijd`: a confirmed link counts in the year of the
    command that asked for it.
    """
    k = b.koppeling
    meta = _Meta(
        opdracht_id=k.opdracht_id, riec=k.riec, tijd=k.tijd or b.besloten_op, vastgelegd_op=vastgelegd_op
    )
    if b.uitkomst == "bevestigd":
        return KoppelingBevestigd(**meta, casus_id=k.casus_id, signaal_id=k.signaal_id)
    if b.uitkomst == "geweigerd":
        return KoppelingGeweigerd(
            **meta, casus_id=k.casus_id, signaal_id=k.signaal_id, code=b.reden_code, reden=b.reden
        )
    return KoppelingVerlopen(**meta, casus_id=k.casus_id, signaal_id=k.signaal_id, reden=b.reden)
