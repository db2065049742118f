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
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from engine.errors import Weigering

Handeling = Literal["wissen", "sleutel_vernietigen", "projectie_herbouwen", "bewaartermijn_wijzigen"]
Status = Literal["open", "goedgekeurd", "afgewezen", "verlopen"]

GELDIGHEID = timedelta(hours=72)
"""How long a request waits for its second pair of eyes before it runs out."""

MAG_AANVRAGEN: dict[Handeling, frozenset[str]] = {
    "wissen": frozenset({"liec", "ops"}),
    "sleutel_vernietigen": frozenset({"ops"}),
    "projectie_herbouwen": frozenset({"ops"}),
    "bewaartermijn_wijzigen": frozenset({"liec", "ops"}),
}
"""Which roles may ask for, and approve, each act. A principal is `<rol>:<wie>` (`ops:jansen`), so
two people of one role are two principals: four eyes, not one role twice."""


class _Verzoekgebeurtenis(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    verzoek_id: str
    door: str
    """The principal (`<rol>:<wie>`) that gave the command; the engine for an expiry."""
    op: datetime


class VerzoekIngediend(
    _Verzoekgebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.verzoek_ingediend.v1"
):
    handeling: Handeling
    onderwerp: str
    """What the act is about: a subject's pseudonymised identifier, a projection, a retention rule."""
    reden: str
    verloopt_op: datetime


class VerzoekGoedgekeurd(
    _Verzoekgebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.verzoek_goedgekeurd.v1"
):
    """The second principal approved: the act takes effect now."""

    handeling: Handeling
    onderwerp: str


class VerzoekAfgewezen(
    _Verzoekgebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.verzoek_afgewezen.v1"
):
    reden: str


class VerzoekVerlopen(
    _Verzoekgebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.verzoek_verlopen.v1"
):
    pass


Verzoekgebeurtenis = VerzoekIngediend | VerzoekGoedgekeurd | VerzoekAfgewezen | VerzoekVerlopen


Opdrachtsoort = Literal["dien_in", "keur_goed", "wijs_af"]


class OpdrachtGeweigerd(
    _Verzoekgebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.verzoekopdracht_geweigerd.v1"
):
    """A command on a request that was refused (`Weigering`): on the log, so that the API shows
    why, and so that every attempt (a self-approval too) is on record. Changes no request."""

    opdracht: Opdrachtsoort
    code: str
    reden: str


Verzoekregel = Verzoekgebeurtenis | OpdrachtGeweigerd
"""A record of `engine.verzoeken`."""


class DienIn(msgspec.Struct, frozen=True, kw_only=True, tag="dien_in", tag_field="soort"):
    verzoek_id: str
    handeling: Handeling
    onderwerp: str
    """Sealed by the API at the door (`verzegeling.verzegel_tekst`) under the key in `sleutel`."""
    reden: str
    geldig: timedelta = GELDIGHEID
    sleutel: bytes | None = None
    """The data key `onderwerp` is sealed under, wrapped by the master key: the verzoeken stage
    puts it in the key store when the request is filed. None: a command from before the API sealed
    (the stage seals it then)."""


class KeurGoed(msgspec.Struct, frozen=True, kw_only=True, tag="keur_goed", tag_field="soort"):
    verzoek_id: str


class WijsAf(msgspec.Struct, frozen=True, kw_only=True, tag="wijs_af", tag_field="soort"):
    verzoek_id: str
    reden: str


Verzoekopdracht = DienIn | KeurGoed | WijsAf


def soort(o: Verzoekopdracht) -> Opdrachtsoort:
    """The kind of a command, as its tag on the wire and in `OpdrachtGeweigerd`."""
    match o:
        case DienIn():
            return "dien_in"
        case KeurGoed():
            return "keur_goed"
    return "wijs_af"


class Opdrachtbericht(msgspec.Struct, frozen=True, kw_only=True):
    """A record of `engine.verzoekopdrachten`: a command and the principal the API authenticated."""

    door: str
    opdracht: Verzoekopdracht


OPDRACHT_ENCODER = msgspec.json.Encoder()
OPDRACHT_DECODER = msgspec.json.Decoder(Opdrachtbericht)
VERZOEK_ENCODER = msgspec.json.Encoder()
VERZOEK_DECODER = msgspec.json.Decoder(Verzoekregel)
"""Reads every record of `engine.verzoeken`; an act's executor matches `VerzoekGoedgekeurd`."""


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
