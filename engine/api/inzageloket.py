"""Inzage (AVG art. 15) on the dashboard API: a named person of the LIEC or ops asks, for one
subject, for everything the engine holds about it (`engine.domain.vergeten.inzage`): `POST /api/v1/ops/inzage`
with `{"onderwerp": {...}}`, a subject as partners send one (a BSN is pseudonymised at the door).
The answer is JSON, or with `?formaat=html` a page a person can read. Every export is audited with
the ids of the signals and casussen it showed."""

from __future__ import annotations

import faust
import msgspec
from aiohttp import web

from engine.api import endpoints
from engine.api.endpoints import Endpoint, Refused, audited, json_response
from engine.api.ports import Ports
from engine.api.verzoeken import benoemd, lees, onderwerp_van
from engine.domain.vergeten.inzage import als_html

PAD = "/api/v1/ops/inzage"
_PAGINA_CSP = "default-src 'none'; style-src 'unsafe-inline'"
"""The export page: nothing loads, nothing runs."""


class Inzageverzoek(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    onderwerp: msgspec.Raw


async def inzage(c: Ports, request: web.Request) -> web.Response:
    p, start = benoemd(c, request), c.clock()
    formaat = request.query.get("formaat", "json")
    if formaat not in ("json", "html"):
        raise Refused(400, "formaat must be json or html")
    identificator = onderwerp_van(c, "wissen", (await lees(request, Inzageverzoek)).onderwerp)
    if c.inzage is None:
        raise Refused(503, "inzage is not configured on this worker")
    export = await c.inzage(identificator, p.naam)
    await audited(
        c, request, p, start, activiteit="inzage", naam="inzage",
        signaal_ids=[s.signaal_id for s in export.signalen],
        casus_ids=sorted({k for s in export.signalen for k in s.casussen}),
    )  # fmt: skip
    if formaat == "html":
        headers = {"Content-Security-Policy": _PAGINA_CSP, "Cache-Control": "no-store"}
        return web.Response(text=als_html(export), content_type="text/html", headers=headers)
    return json_response(msgspec.to_builtins(export), headers={"Cache-Control": "no-store"})


ENDPOINTS = (Endpoint(PAD, inzage, methode="post"),)


def registreer(app: faust.App, c: Ports) -> None:
    """Add the inzage endpoint to the app (the projection role)."""
    endpoints.registreer(app, c, ENDPOINTS)
