"""Four eyes (het vier-ogenprincipe) on irreversible acts: erasing a subject's data, destroying a
key, rebuilding a projection, changing a retention period, adopting a rule version.

Each act is a request (`VerzoekIngediend`) that takes effect only when a second, different
principal approves it (`VerzoekGoedgekeurd`); it can be turned down (`VerzoekAfgewezen`) or run
out (`VerzoekVerlopen`, after `GELDIGHEID` unless the request says otherwise). Like a casus, a
request is an aggregate with a single writer: `beslis` turns a command into events or a
`Weigering`, `pas_toe` folds an event. The act itself is carried out by whoever reads the approval
(the erasure, the key store, the projections, the retention table), never by this module.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from engine.domain.reference.regelversies import BASISLIJN
from engine.errors import Weigering
from engine.events.vieroogen import (
    DienIn,
    Handeling,
    KeurGoed,
    Status,
    VerzoekAfgewezen,
    Verzoekgebeurtenis,
    VerzoekGoedgekeurd,
    VerzoekIngediend,
    Verzoekopdracht,
    Verzoekregel,
    VerzoekVerlopen,
)

MAG_AANVRAGEN: dict[Handeling, frozenset[str]] = {
    "wissen": frozenset({"liec", "ops"}),
    "sleutel_vernietigen": frozenset({"ops"}),
    "projectie_herbouwen": frozenset({"ops"}),
    "bewaartermijn_wijzigen": frozenset({"liec", "ops"}),
    # A rule version decides which RIEC or LFT gets a signal: the LIEC answers for routing across
    # the country (its loket and triage are where the rules end), ops ship the version and run the
    # dry run. Both may ask and approve, so a LIEC person can hold ops to a diff and the other way
    # round; a RIEC may not: one region must not move signals between regions.
    "regelversie_aannemen": frozenset({"liec", "ops"}),
}
"""Which roles may ask for, and approve, each act. A principal is `<rol>:<wie>` (`ops:jansen`), so
two people of one role are two principals: four eyes, not one role twice."""

ONVERZEGELD: frozenset[Handeling] = frozenset({"regelversie_aannemen"})
"""Acts whose `onderwerp` names no person and is not sealed: a rule version's id, which this
decision checks against the versions shipped and the dry run, and every routing worker reads from
the adoption as it is. Every other act's subject is sealed at the door (it may name a person)."""


@dataclass(frozen=True, slots=True)
class Verzoek:
    verzoek_id: str
    handeling: Handeling
    onderwerp: str
    aanvrager: str
    verloopt_op: datetime
    status: Status = "open"


def rol(principal: str) -> str:
    return principal.split(":", 1)[0]


def _mag(principal: str, handeling: Handeling, wat: str) -> None:
    if rol(principal) not in MAG_AANVRAGEN[handeling] or ":" not in principal:
        rollen = ", ".join(sorted(MAG_AANVRAGEN[handeling]))
        raise Weigering(
            "not_authorised",
            f"only a named principal of {rollen} (<rol>:<wie>) may {wat} a request to {handeling}",
        )


def _regelversie(o: DienIn, regelversies: Collection[str]) -> None:
    """A request to adopt a rule version names one this engine ships and is not adopted from the
    start, with the dry run of exactly that version: what the second person approves is that diff."""
    if o.handeling != "regelversie_aannemen":
        if o.proef is not None:
            raise Weigering(
                "proef_unexpected",
                f"only a request to regelversie_aannemen carries a proef, not {o.handeling}",
            )
        return
    if o.onderwerp in BASISLIJN:
        raise Weigering(
            "already_adopted", f"rule version {o.onderwerp} is in the baseline: it routes already"
        )
    if o.onderwerp not in regelversies:
        raise Weigering(
            "unknown_regelversie",
            "the engine ships no rule version with this id: deploy the version's folder to every "
            "worker first (its id is the hash of its files: python -m engine.tools regelversie aanvragen)",
        )
    if o.proef is None:
        raise Weigering(
            "proef_missing",
            "a rule version is adopted with its dry run: attach the proef (proefrouteer's diff)",
        )
    if o.proef.regelversie != o.onderwerp:
        raise Weigering(
            "proef_mismatch",
            # The proef's id is not echoed: it is typed by the requester, this reason kept forever.
            f"the proef is a dry run of another rule version, not of {o.onderwerp}: "
            "run proefrouteer with --regels of this version",
        )


def beslis(
    verzoek: Verzoek | None,
    o: Verzoekopdracht,
    door: str,
    nu: datetime,
    regelversies: Collection[str] = frozenset(),
) -> list[Verzoekgebeurtenis]:
    """The events a command on a request becomes; raises Weigering when it may not happen.

    `regelversies`: the ids of the rule versions this engine ships (adopted or not), against which
    a request to adopt one is checked when filed and again when approved (a worker that lacks the
    version must not make it route elsewhere)."""
    if isinstance(o, DienIn):
        if verzoek is not None:
            raise Weigering("duplicate_id", f"request {o.verzoek_id} exists already; choose a new id")
        _mag(door, o.handeling, "file")
        _regelversie(o, regelversies)
        return [
            VerzoekIngediend(
                verzoek_id=o.verzoek_id, door=door, op=nu, handeling=o.handeling,
                onderwerp=o.onderwerp, reden=o.reden, verloopt_op=nu + o.geldig, proef=o.proef,
            )
        ]  # fmt: skip
    if verzoek is None:
        raise Weigering("unknown_request", f"request {o.verzoek_id} does not exist")
    if verzoek.status != "open":
        raise Weigering("impossible_transition", f"request {o.verzoek_id} is {verzoek.status} already")
    if nu >= verzoek.verloopt_op:
        raise Weigering(
            "request_expired", f"request {o.verzoek_id} ran out at {verzoek.verloopt_op:%Y-%m-%d %H:%M}"
        )
    _mag(door, verzoek.handeling, "approve or turn down")
    if door == verzoek.aanvrager:
        raise Weigering("four_eyes", f"request {o.verzoek_id} needs a second principal: {door} filed it")
    if isinstance(o, KeurGoed):
        if verzoek.handeling == "regelversie_aannemen" and verzoek.onderwerp not in regelversies:
            raise Weigering(
                "unknown_regelversie",
                f"the engine ships no rule version {verzoek.onderwerp} (any more): deploy it to every worker",
            )
        return [
            VerzoekGoedgekeurd(
                verzoek_id=o.verzoek_id,
                door=door,
                op=nu,
                handeling=verzoek.handeling,
                onderwerp=verzoek.onderwerp,
            )
        ]
    return [VerzoekAfgewezen(verzoek_id=o.verzoek_id, door=door, op=nu, reden=o.reden)]


def verlopen(verzoek: Verzoek, nu: datetime, door: str = "engine") -> list[Verzoekgebeurtenis]:
    """The expiry of an open request whose time has come (the engine checks on a schedule)."""
    if verzoek.status == "open" and nu >= verzoek.verloopt_op:
        return [VerzoekVerlopen(verzoek_id=verzoek.verzoek_id, door=door, op=nu)]
    return []


def pas_toe(verzoek: Verzoek | None, g: Verzoekregel) -> Verzoek | None:
    """The request after an event: a pure fold, live and when restoring from the log."""
    match g:
        case VerzoekIngediend():
            return Verzoek(g.verzoek_id, g.handeling, g.onderwerp, g.door, g.verloopt_op)
        case VerzoekGoedgekeurd() if verzoek is not None:
            return replace(verzoek, status="goedgekeurd")
        case VerzoekAfgewezen() if verzoek is not None:
            return replace(verzoek, status="afgewezen")
        case VerzoekVerlopen() if verzoek is not None:
            return replace(verzoek, status="verlopen")
    return verzoek
