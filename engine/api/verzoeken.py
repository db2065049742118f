"""Four eyes on the dashboard API: a named person of ops or the LIEC files a request for an
irreversible act, a second one approves or turns it down (`engine.domain.vergeten.vieroogen`), and both
read how
the requests stand.

A command is audited, written to `engine.verzoekopdrachten` with the authenticated principal, and
answered 202; the verzoeken stage decides it (`engine.handlers.verzoeken`), and the request's
status, or the command's refusal, shows in `GET /api/v1/ops/verzoeken/{verzoek_id}`.

A request to adopt a rule version (`regelversie_aannemen`) names the version's id as its subject,
unsealed (it names no person), and carries the summary of its dry run (`proef`), which the request
shows.

An erasure's subject arrives as partners send one (a BSN, KvK number, kenteken or address) and is
turned into the engine's identifier here, at the door: a BSN becomes its pseudonym and never
reaches a topic. No answer and no log line shows a request's subject, only whether it has one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, TypeVar, get_args

import faust
import msgspec
from aiohttp import web
from msgspec import Meta

from engine.api import endpoints, toegang
from engine.api.endpoints import Endpoint, Refused, audited, json_response, principal
from engine.api.ports import Ports
from engine.api.webserver import OngeldigVerzoek
from engine.domain import identificatoren
from engine.domain.ingress.acceptatie import pseudonimiseer_subject
from engine.domain.ingress.bsn import bevat_bsn, maskeer_cijferreeksen, vervang_bsns
from engine.domain.reference import gebiedsindeling
from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.vieroogen import MAG_AANVRAGEN, ONVERZEGELD, rol
from engine.errors import Weigering
from engine.events.signaal import Subject
from engine.events.vieroogen import (
    GELDIGHEID,
    OPDRACHT_ENCODER,
    DienIn,
    Handeling,
    KeurGoed,
    Opdrachtbericht,
    Proefsamenvatting,
    RegelversieId,
    Verzoekopdracht,
    WijsAf,
    soort,
)
from engine.topics import route_bestemmingen

T = TypeVar("T")
PAD = "/api/v1/ops/verzoeken"
HANDELINGEN: tuple[str, ...] = get_args(Handeling)
_VERZOEK_ID = r"^[a-z0-9][a-z0-9._-]{0,63}$"
STATUSSEN = ("open", "goedgekeurd", "afgewezen", "verlopen", "onbekend")

VerzoekId = Annotated[str, Meta(pattern=_VERZOEK_ID)]
Reden = Annotated[str, Meta(min_length=1, max_length=1000)]
Onderwerp = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:=/-]{1,200}$")]
"""The subject of an act other than an erasure: a projection, `<rule>=<days>`, a key id."""


class Indiening(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body of `POST /api/v1/ops/verzoeken`."""

    verzoek_id: VerzoekId
    handeling: Annotated[str, Meta(max_length=40)]
    onderwerp: msgspec.Raw
    reden: Reden
    geldig_uren: Annotated[int, Meta(ge=1, le=168)] = int(GELDIGHEID / timedelta(hours=1))
    proef: Proefsamenvatting | None = None
    """For `regelversie_aannemen`: the dry run's summary (`engine.tools regelversie aanvragen`)."""


class Afwijzing(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The body of `POST …/{verzoek_id}/afwijzing`."""

    reden: Reden


def _verzoek_id_van(tekst: str) -> str:
    """A request id: 1 to 64 of `a-z 0-9 . _ -`, and no BSN in it; else 400."""
    try:
        verzoek_id: str = msgspec.convert(tekst, VerzoekId)
    except msgspec.ValidationError:
        raise OngeldigVerzoek(
            "verzoek_id must be 1 to 64 characters a-z 0-9 . _ - (a-z or 0-9 first)"
        ) from None
    if bevat_bsn(verzoek_id, als_id=True):
        raise OngeldigVerzoek("verzoek_id must not hold a BSN: choose an opaque id")
    return verzoek_id


def _geen_bsn(reden: str) -> str:
    """A reason is kept forever on engine.verzoeken: a BSN in it is refused, not pseudonymised."""
    if vervang_bsns(reden, lambda _: "") != reden:
        raise Refused(400, "reden must not hold a BSN: the subject goes in onderwerp, given once")
    return reden


async def lees(request: web.Request, soort_: type[T]) -> T:
    """The request's body as `soort_`, else 400 (digit runs masked: a BSN may be in the body)."""
    try:
        return msgspec.json.decode(await request.read(), type=soort_)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise Refused(400, f"the body does not fit: {maskeer_cijferreeksen(str(e))}") from None


def onderwerp_van(c: Ports, handeling: Handeling, ruw: msgspec.Raw) -> str:
    """The engine's identifier of an erasure's subject (a BSN pseudonymised, else normalised), or
    the plain subject of another act; 400 when it does not fit."""
    try:
        if handeling == "regelversie_aannemen":
            # A content hash, not typed text: checked for a BSN it would be refused now and then
            # (one id in 500 has a nine-digit run that passes the elfproef), and a version is
            # never renamed. The stage refuses an id the engine does not ship without echoing it.
            versie_id: str = msgspec.json.decode(ruw, type=RegelversieId)
            return versie_id
        if handeling != "wissen":
            onderwerp: str = msgspec.json.decode(ruw, type=Onderwerp)
            if bevat_bsn(onderwerp, als_id=True):
                raise Refused(400, "onderwerp must not hold a BSN; only an erasure names a person")
            return onderwerp
        subject = msgspec.json.decode(ruw, type=Subject)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        vorm = {
            "wissen": "a subject {type, bsn|kvk|kenteken|postcode+huisnummer}",
            "regelversie_aannemen": "a rule version's id: 16 of 0-9 a-f",
        }.get(handeling, "1 to 200 of A-Z a-z 0-9 . _ : = / -")
        raise Refused(400, f"onderwerp must be {vorm}: {maskeer_cijferreeksen(str(e))}") from None
    if c.pseudo is None:
        raise Refused(503, "this worker cannot pseudonymise a subject; try another")
    try:
        return identificatoren.van_subject(pseudonimiseer_subject(0, subject, gebiedsindeling(), c.pseudo))
    except Weigering as w:
        raise Refused(400, f"onderwerp refused ({w.code}): {w.reden.replace('subjecten[0].', '')}") from None


def benoemd(c: Ports, request: web.Request) -> toegang.Principal:
    """A named person of ops or the LIEC: 401 without a token, 403 for anyone else."""
    p = principal(c.tokens, request, lambda p: p.is_ops or p.is_liec)
    if not p.is_benoemd:
        raise Refused(
            403, f"{p.naam} is shared: only a named principal (ops:<wie>, liec:<wie>) files or approves"
        )
    return p


async def _geef(
    c: Ports, request: web.Request, p: toegang.Principal, start: datetime, o: Verzoekopdracht
) -> web.Response:
    """Audits the command, writes it to engine.verzoekopdrachten, answers 202 with where to look."""
    if c.verzoekopdrachten is None:
        raise Refused(503, "four-eyes commands are not configured on this worker")
    naam = f"verzoek {o.verzoek_id} {soort(o)}"
    await audited(c, request, p, start, activiteit="vieroogen", naam=naam)
    value = OPDRACHT_ENCODER.encode(Opdrachtbericht(door=p.naam, opdracht=o))
    try:
        await c.verzoekopdrachten.schrijf(verzoek_id=o.verzoek_id, value=value)
    except Exception:
        raise Refused(503, "the command could not be written to the broker; try again") from None
    locatie = f"{PAD}/{o.verzoek_id}"
    body = {"verzoek_id": o.verzoek_id, "opdracht": soort(o), "door": p.naam, "verzoek": locatie}
    return json_response(body, status=202, headers={"Location": locatie})


async def dien_in(c: Ports, request: web.Request) -> web.Response:
    p, start = benoemd(c, request), c.clock()
    i = await lees(request, Indiening)
    if i.handeling not in HANDELINGEN:
        raise Refused(400, f"unknown handeling; one of: {', '.join(HANDELINGEN)}")
    handeling: Handeling = i.handeling  # type: ignore[assignment]  # checked just above
    if rol(p.naam) not in MAG_AANVRAGEN[handeling]:
        rollen = ", ".join(sorted(MAG_AANVRAGEN[handeling]))
        raise Refused(403, f"{p.naam} may not ask to {handeling}: only a named principal of {rollen}")
    _verzoek_id_van(i.verzoek_id)
    onderwerp = onderwerp_van(c, handeling, i.onderwerp)
    if i.proef is not None and not set(i.proef.bestemmingen) <= set(route_bestemmingen()):
        raise Refused(400, "proef.bestemmingen names something that is not a destination of the engine")
    if handeling in ONVERZEGELD:  # a rule version's id: the stage checks it, routing reads it
        o = DienIn(
            verzoek_id=i.verzoek_id, handeling=handeling, onderwerp=onderwerp, reden=_geen_bsn(i.reden),
            geldig=timedelta(hours=i.geldig_uren), proef=i.proef,
        )  # fmt: skip
        return await _geef(c, request, p, start, o)
    if c.verzegelaar is None:
        raise Refused(503, "this worker cannot seal a request's subject; try another")
    # Sealed here, so the subject is in the clear on no topic: the stage files the key with it.
    sleutel_id = verzegeling.verzoek_sleutel_id(i.verzoek_id)
    sleutel, verzegeld = verzegeling.verzegel_tekst(c.verzegelaar, sleutel_id, onderwerp)
    o = DienIn(
        verzoek_id=i.verzoek_id, handeling=handeling, onderwerp=verzegeld, reden=_geen_bsn(i.reden),
        geldig=timedelta(hours=i.geldig_uren), sleutel=sleutel, proef=i.proef,
    )  # fmt: skip
    return await _geef(c, request, p, start, o)


async def keur_goed(c: Ports, request: web.Request, verzoek_id: str) -> web.Response:
    verzoek_id = _verzoek_id_van(verzoek_id)
    p, start = benoemd(c, request), c.clock()
    return await _geef(c, request, p, start, KeurGoed(verzoek_id=verzoek_id))


async def wijs_af(c: Ports, request: web.Request, verzoek_id: str) -> web.Response:
    verzoek_id = _verzoek_id_van(verzoek_id)
    p, start = benoemd(c, request), c.clock()
    a = await lees(request, Afwijzing)
    return await _geef(c, request, p, start, WijsAf(verzoek_id=verzoek_id, reden=_geen_bsn(a.reden)))


async def lijst(c: Ports, request: web.Request) -> web.Response:
    """Every request (no subject: not a read of personal data, not audited); `?status=` filters."""
    principal(c.tokens, request, lambda p: p.is_ops or p.is_liec)
    status = request.query.get("status")
    if status is not None and status not in STATUSSEN:
        raise OngeldigVerzoek(f"status must be one of: {', '.join(STATUSSEN)}")
    items = c.staat().verzoeken.lijst(status)
    return json_response({"items": items, "totaal": len(items)})


async def verzoek(c: Ports, request: web.Request, verzoek_id: str) -> web.Response:
    verzoek_id = _verzoek_id_van(verzoek_id)
    principal(c.tokens, request, lambda p: p.is_ops or p.is_liec)
    v = c.staat().verzoeken.van(verzoek_id)
    if v is None:
        raise Refused(404, "no request with this id (yet: a command just given takes a moment)")
    return json_response(v)


ENDPOINTS = (
    Endpoint(PAD, dien_in, methode="post"),
    Endpoint(PAD, lijst),
    Endpoint(PAD + "/{verzoek_id}", verzoek),
    Endpoint(PAD + "/{verzoek_id}/goedkeuring", keur_goed, methode="post"),
    Endpoint(PAD + "/{verzoek_id}/afwijzing", wijs_af, methode="post"),
)
"""Filing, approving and turning down requests, and reading how they stand."""


def registreer(app: faust.App, c: Ports) -> None:
    """Add the four-eyes endpoints to the app (the projection role)."""
    endpoints.registreer(app, c, ENDPOINTS)
