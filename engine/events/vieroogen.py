"""The four-eyes requests' events and commands (`engine.verzoeken`, `engine.verzoekopdrachten`):
what was asked, by whom, who approved, turned down or was refused. The decisions on them are
`engine.domain.vergeten.vieroogen`'s."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Handeling = Literal[
    "wissen", "sleutel_vernietigen", "projectie_herbouwen", "bewaartermijn_wijzigen", "regelversie_aannemen"
]
Status = Literal["open", "goedgekeurd", "afgewezen", "verlopen"]

GELDIGHEID = timedelta(hours=72)
"""How long a request waits for its second pair of eyes before it runs out."""


Aantal = Annotated[int, Meta(ge=0)]
RegelversieId = Annotated[str, Meta(pattern=r"^[0-9a-f]{16}$")]
"""A rule version's id: 16 hex digits of the hash of its folder (`engine.domain.reference.regelversies`)."""


class Telling(msgspec.Struct, frozen=True, kw_only=True):
    """One destination in a dry run's diff: how many signals it would get in addition, no longer,
    or for other reasons."""

    erbij: Aantal = 0
    eraf: Aantal = 0
    andere_redenen: Aantal = 0


class Proefsamenvatting(msgspec.Struct, frozen=True, kw_only=True):
    """What a `regelversie_aannemen` request carries of the dry run of its version
    (`python -m engine.tools proefrouteer`): the summary a second person approves, and the sha256
    of the whole JSON the dry run wrote, so that the file they read is the one summarised (the full
    diff names signals and stays with the people who ran it, not on a log kept forever)."""

    regelversie: RegelversieId
    """The candidate the dry run routed with: must be the request's `onderwerp`."""
    geldig_vanaf: date
    van: date
    tot: date
    """The period of observation dates the dry run routed again."""
    signalen: Aantal
    """Signals of the period routed again."""
    anders: Aantal
    """Signals whose routes would differ."""
    bestemmingen: Annotated[
        dict[Annotated[str, Meta(pattern=r"^[a-z][a-z.-]{0,79}$")], Telling], Meta(max_length=64)
    ]
    """Per destination (`riec.rotterdam`, `liec.triage`, ...) with a difference: the counts. No
    digits: no destination has one, and a key is kept on the log for as long as the request, so a
    number typed there (a BSN) must not get in."""
    sha256: Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
    """Of the JSON file the dry run wrote, as written."""


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
    proef: Proefsamenvatting | None = None
    """For `regelversie_aannemen`: the dry run of the version (an addition; None on older records
    and for every other act)."""


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
    (the stage seals it then), or an act whose subject is never sealed (`regelversie_aannemen`)."""
    proef: Proefsamenvatting | None = None
    """For `regelversie_aannemen`: the dry run of the version, required there, refused elsewhere."""


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
