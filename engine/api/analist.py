"""The analyst's work on the dashboard API: a signal's detail view (read of personal data: need-to-know
and an audit record, like every read), and commands written to `riec.<riec>.opdrachten` on behalf
of the RIEC whose bearer token asks (202 with the command's id; its outcome once the engine decided).

A command's `ce_id` is derived from the request (a client's `Idempotency-Key`, else the payload), so
a double click writes the same `ce_id` twice and the engine applies it once (`<riec>:<ce_id>`)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import faust
import msgspec
from aiohttp import web

from engine.api import endpoints, toegang
from engine.api.endpoints import Endpoint, Refused, audited, json_response, known, principal
from engine.api.parameters import riec_van, signaal_id_van
from engine.api.ports import Ports
from engine.api.webserver import OngeldigVerzoek
from engine.domain import meldingen
from engine.domain.ingress.bsn import maskeer_cijferreeksen
from engine.domain.reference import LFTS, RIECS
from engine.domain.routing import lft_bestemming, riec_bestemming
from engine.events.opdrachten import OPDRACHT_DECODERS, KoppelSignaal, OpenCasus, WijsKoppelingAf
from engine.projections.staat import ProjectieStaat

ACTIES = {
    "koppelen": "nl.riec.casus.signaal_koppelen.v1",
    "afwijzen": "nl.riec.casus.koppeling_afwijzen.v1",
    "openen": "nl.riec.casus.openen.v1",
    "advies": "nl.riec.casus.interventieadvies.v1",
    "afpakken": "nl.riec.casus.afpakken.v1",
    "afsluiten": "nl.riec.casus.afsluiten.v1",
}
"""What the dashboard may ask, by the last part of its path, and the command it becomes."""
_MAX_SLEUTEL = 100


def ce_id_van(riec: str, ce_type: str, sleutel: bytes) -> str:
    """The command's `ce_id`: the same request gives the same id. Letters only, so that no run of
    digits in it can read as a BSN (ingress refuses such ids)."""
    digest = hashlib.sha256(b"\n".join([riec.encode(), ce_type.encode(), sleutel])).hexdigest()[:32]
    return "dashboard-" + "".join(chr(ord("a") + int(c, 16)) for c in digest)


def _idempotentiesleutel(request: web.Request) -> bytes | None:
    sleutel = request.headers.get("Idempotency-Key")
    if sleutel is None:
        return None
    if not 0 < len(sleutel) <= _MAX_SLEUTEL or not sleutel.isascii() or not sleutel.isprintable():
        raise OngeldigVerzoek(f"Idempotency-Key must be 1 to {_MAX_SLEUTEL} printable ASCII characters")
    return sleutel.encode()


def _signalen(opdracht: msgspec.Struct) -> list[str]:
    match opdracht:
        case KoppelSignaal() | WijsKoppelingAf():
            return [opdracht.signaal_id]
        case OpenCasus():
            return list(opdracht.signalen)
    return []


async def _signaal(
    c: Ports, request: web.Request, p: toegang.Principal, bestemming: str, signaal_id: str, riec: str | None
) -> web.Response:
    """One signal of a destination's inbox, with how it was handled and (a RIEC's) the casussen it
    is in."""
    start = c.clock()
    s = c.staat()
    bericht = s.inbox.bericht(bestemming, signaal_id)
    if bericht is None:
        raise Refused(
            404, f"this signal is not in the inbox of {bestemming} (need-to-know)", meldingen.NIET_IN_INBOX
        )
    bericht["behandeling"] = s.inbox.behandeling(bestemming, [signaal_id]).get(signaal_id, [])
    bericht["casussen"] = s.casussen.van_signaal(riec, signaal_id) if riec else []
    casus_ids = sorted(
        {k["casus_id"] for k in bericht["casussen"]}
        | {r["casus_id"] for r in bericht.get("redenen", ()) if r.get("casus_id")}
    )
    await audited(
        c, request, p, start, activiteit="inbox", naam=f"signaal {signaal_id} inzien",
        signaal_ids=[signaal_id], casus_ids=casus_ids,
    )  # fmt: skip
    return json_response(bericht)


async def riec_signaal(c: Ports, request: web.Request, riec: str, signaal_id: str) -> web.Response:
    riec, signaal_id = known("riec", riec, RIECS), signaal_id_van(signaal_id)
    p = principal(c.tokens, request, lambda p: toegang.mag_riec_lezen(p, riec))
    return await _signaal(c, request, p, riec_bestemming(riec), signaal_id, riec)


async def lft_signaal(c: Ports, request: web.Request, lft: str, signaal_id: str) -> web.Response:
    lft, signaal_id = known("lft", lft, LFTS), signaal_id_van(signaal_id)
    p = principal(c.tokens, request, lambda p: toegang.mag_lft_lezen(p, lft))
    return await _signaal(c, request, p, lft_bestemming(lft), signaal_id, None)


async def _lees_opdracht(request: web.Request, ce_type: str) -> msgspec.Struct:
    """The request's body as a command of `ce_type`, else 400 (digit runs masked: a BSN may be in
    the body). A body over aiohttp's limit (1 MiB) is answered 413 by aiohttp."""
    body = await request.read()
    try:
        opdracht: msgspec.Struct = OPDRACHT_DECODERS[ce_type].decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise Refused(400, f"the body is not a {ce_type} payload: {maskeer_cijferreeksen(str(e))}") from None
    return opdracht


def _in_inbox(s: ProjectieStaat, riec: str, signalen: list[str]) -> None:
    """Need-to-know at once (the engine would refuse the link too): else 404, without the id (an
    id a client made up may hold anything, a BSN too)."""
    for signaal_id in signalen:
        if s.inbox.bericht(riec_bestemming(riec), signaal_id) is None:
            raise Refused(
                404, f"a signal of this command is not in the inbox of RIEC {riec}", meldingen.NIET_IN_INBOX
            )


async def _geef(
    c: Ports, request: web.Request, p: toegang.Principal, riec: str, ce_type: str, start: datetime
) -> web.Response:
    """Audits the command, writes it to the RIEC's command topic, answers 202 with its outcome so far."""
    opdracht = await _lees_opdracht(request, ce_type)
    s, signalen = c.staat(), _signalen(opdracht)
    _in_inbox(s, riec, signalen)
    payload = msgspec.json.encode(opdracht)
    ce_id = ce_id_van(riec, ce_type, _idempotentiesleutel(request) or payload)
    opdracht_id, casus_id = f"{riec}:{ce_id}", getattr(opdracht, "casus_id", "")
    await audited(
        c, request, p, start, activiteit="opdracht", naam=f"opdracht {ce_type} {opdracht_id} geven",
        signaal_ids=signalen, casus_ids=[casus_id] if casus_id else [],
    )  # fmt: skip
    try:
        await c.opdrachten.schrijf(
            riec=riec, ce_id=ce_id, ce_type=ce_type, payload=payload, auteur=p.naam, key=casus_id or ce_id
        )
    except Exception:
        raise Refused(503, "the command could not be written to the broker; try again (same id)") from None
    uitkomst = f"/api/v1/riec/{riec}/opdrachten/uitkomst/{ce_id}"
    body = {"opdracht_id": opdracht_id, "ce_id": ce_id, "ce_type": ce_type, "uitkomst": uitkomst}
    body |= s.uitkomsten.van(opdracht_id) or {"status": "wachtend"}
    return json_response(body, status=202, headers={"Location": uitkomst})


async def geef_opdracht(c: Ports, request: web.Request, riec: str, actie: str) -> web.Response:
    riec = riec_van(riec)
    if actie not in ACTIES:
        raise Refused(404, f"unknown action; one of: {', '.join(ACTIES)}")
    p = principal(c.tokens, request, lambda p: toegang.mag_riec_opdragen(p, riec))
    return await _geef(c, request, p, riec, ACTIES[actie], c.clock())


async def opdracht_uitkomst(c: Ports, request: web.Request, riec: str, ce_id: str) -> web.Response:
    """What became of a command: no personal data, not audited."""
    riec = riec_van(riec)
    principal(c.tokens, request, lambda p: toegang.mag_riec_lezen(p, riec))
    u = c.staat().uitkomsten.van(f"{riec}:{ce_id}")
    return json_response({"opdracht_id": f"{riec}:{ce_id}", **(u or {"status": "wachtend"})})


ENDPOINTS = (
    Endpoint("/api/v1/riec/{riec}/signalen/{signaal_id}", riec_signaal),
    Endpoint("/api/v1/lft/{lft}/signalen/{signaal_id}", lft_signaal),
    Endpoint("/api/v1/riec/{riec}/opdrachten/{actie}", geef_opdracht, methode="post"),
    Endpoint("/api/v1/riec/{riec}/opdrachten/uitkomst/{ce_id}", opdracht_uitkomst),
)
"""The signal detail views, the command views and the outcome view."""


def registreer(app: faust.App, c: Ports) -> None:
    """Add the analyst's endpoints to the app (the projection role)."""
    endpoints.registreer(app, c, ENDPOINTS)
