"""Four eyes (het vier-ogenprincipe) on irreversible acts: erasing a subject's data, destroying a
key, rebuilding a projection, changing a retention period.

Each act is a request (`VerzoekIngediend`) that takes effect only when a second, different
principal approves it (`VerzoekGoedgekeurd`); it can be turned down (`VerzoekAfgewezen`) or run
out (`VerzoekVerlopen`, after `GELDIGHEID` unless the request says otherwise). Like a casus, a
request is an aggregate with a single writer: `beslis` turns a command into events or a
`Weigering`, `pas_toe` folds an event. The act itself is carried out by whoever reads the approval
(the erasure, the key store, the projections, the retention table), never by this module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

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
}
"""Which roles may ask for, and approve, each act. A principal is `<rol>:<wie>` (`ops:jansen`), so
two people of one role are two principals: four eyes, not one role twice."""


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


def beslis(verzoek: Verzoek | None, o: Verzoekopdracht, door: str, nu: datetime) -> list[Verzoekgebeurtenis]:
    """The events a command on a request becomes; raises Weigering when it may not happen."""
    if isinstance(o, DienIn):
        if verzoek is not None:
            raise Weigering("duplicate_id", f"request {o.verzoek_id} exists already; choose a new id")
        _mag(door, o.handeling, "file")
        return [
            VerzoekIngediend(
                verzoek_id=o.verzoek_id, door=door, op=nu, handeling=o.handeling,
                onderwerp=o.onderwerp, reden=o.reden, verloopt_op=nu + o.geldig,
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
