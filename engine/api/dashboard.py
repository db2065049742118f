"""The dashboard API of contract.md on faust's web server: bearer tokens, need-to-know, paging
with a cursor and an ETag, and an audit record for every read of personal data. Every path and
query parameter is checked strictly (ASCII digits, bounded lengths, known names) and answered 400
with a reason when it does not fit.

One function per endpoint over the injected ports (`engine.api.ports`), registered from
the table `ENDPOINTS` (`engine.api.endpoints`)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from importlib import resources

import faust
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from engine.api import endpoints, toegang
from engine.api.endpoints import Endpoint, audited, json_response, known, principal
from engine.api.export import csv_export, html_export
from engine.api.parameters import (
    casus_id_van,
    formaat_van,
    getal,
    inbox_filter,
    jaar_van,
    riec_van,
)
from engine.api.ports import Ports
from engine.domain import meldingen
from engine.domain.reference import LFTS, RIECS
from engine.domain.reference import namen as reference_namen
from engine.domain.routing import lft_bestemming, riec_bestemming
from engine.projections.inbox import Inbox
from engine.projections.jaarverslag import eenheid
from engine.projections.opslag import Filter

_MAX_LIMIT = 200
_STATISCH = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
DASHBOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""The dashboard's own script and style files, its API calls, nothing inline and nothing else."""


def _paginavraag(query: Mapping[str, str]) -> tuple[int, str | None, Filter]:
    """The inbox page asked for: `limit` (1 to 200), the cursor `voor`, the filters."""
    limit = max(1, min(getal(query.get("limit", "50"), "limit", cijfers=6), _MAX_LIMIT))
    voor = query.get("voor")
    if voor is not None:
        voor = str(getal(voor, "voor (a cursor from a previous page)", cijfers=12))
    return limit, voor, inbox_filter(query)


def _etag(request: web.Request, bestemming: str, inbox: Inbox) -> str:
    """Changes with the destination's messages, their handling, and the query."""
    versie = f"{inbox.versie(bestemming)}.{inbox.behandeld_versie}"
    vraag = hashlib.sha256(str(sorted(request.query.items())).encode()).hexdigest()[:16]
    return f'W/"{bestemming}-{versie}-{vraag}"'


async def _inbox(c: Ports, request: web.Request, p: toegang.Principal, bestemming: str) -> web.Response:
    """A page of a destination's inbox, newest first, with how each signal was handled."""
    start = c.clock()
    limit, voor, filter_ = _paginavraag(request.query)
    inbox = c.staat().inbox
    etag = _etag(request, bestemming, inbox)
    if request.headers.get("If-None-Match") == etag:
        return web.Response(body=b"", status=304, headers={"ETag": etag})
    pagina = inbox.gefilterde_pagina(bestemming, filter_, limit, voor)
    ids = [i["signaal_id"] for i in pagina.items]
    behandeling = inbox.behandeling(bestemming, ids)
    for item in pagina.items:
        item["behandeling"] = behandeling.get(item["signaal_id"], [])
    await audited(c, request, p, start, activiteit="inbox", naam=f"inbox {bestemming} lezen", signaal_ids=ids)
    body = {"items": pagina.items, "volgende": pagina.volgende, "totaal": pagina.totaal}
    return json_response({**body, "tellingen": inbox.tellingen(bestemming)}, headers={"ETag": etag})


async def riec_inbox(c: Ports, request: web.Request, riec: str) -> web.Response:
    riec = known("riec", riec, RIECS)
    p = principal(c.tokens, request, lambda p: toegang.mag_riec_lezen(p, riec))
    return await _inbox(c, request, p, riec_bestemming(riec))


async def lft_inbox(c: Ports, request: web.Request, lft: str) -> web.Response:
    lft = known("lft", lft, LFTS)
    p = principal(c.tokens, request, lambda p: toegang.mag_lft_lezen(p, lft))
    return await _inbox(c, request, p, lft_bestemming(lft))


async def riec_casussen(c: Ports, request: web.Request, riec: str) -> web.Response:
    riec = riec_van(riec)
    p = principal(c.tokens, request, lambda p: toegang.mag_riec_lezen(p, riec))
    start = c.clock()
    items = c.staat().casussen.lijst(riec)
    ids = [i["casus_id"] for i in items]
    await audited(c, request, p, start, activiteit="casus", naam=f"casussen {riec} inzien", casus_ids=ids)
    return json_response({"items": items, "totaal": len(items)})


async def riec_casus(c: Ports, request: web.Request, riec: str, casus_id: str) -> web.Response:
    riec, casus_id = riec_van(riec), casus_id_van(casus_id)
    p = principal(c.tokens, request, lambda p: toegang.mag_riec_lezen(p, riec))
    start = c.clock()
    casus = c.staat().casussen.detail(riec, casus_id)
    if casus is None:
        raise endpoints.Refused(
            404, f"RIEC {riec} has no casus {casus_id!r}", meldingen.bij_code("unknown_casus")
        )
    await audited(
        c, request, p, start, activiteit="casus", naam=f"casus {casus_id} inzien",
        signaal_ids=casus["signaal_ids"], casus_ids=[casus_id],
    )  # fmt: skip
    return json_response(casus)


async def riec_weken(c: Ports, request: web.Request, riec: str) -> web.Response:
    """Counts per week, no signal, casus or person: not a read of personal data, not audited."""
    riec = riec_van(riec)
    principal(c.tokens, request, lambda p: toegang.mag_riec_lezen(p, riec))
    return json_response({"per_week": c.staat().inbox.per_week(riec_bestemming(riec))})


async def riec_jaarverslag(c: Ports, request: web.Request, riec: str, jaar: str) -> web.Response:
    riec, j = riec_van(riec), jaar_van(jaar)
    principal(c.tokens, request, lambda p: toegang.mag_riec_jaarverslag(p, riec))
    alles, unit = c.staat().boek.tabellen(j), eenheid(riec)
    return json_response(
        {"jaar": j, "eenheid": unit, "tabel1": alles["tabel1"][unit], "tabel2": alles["tabel2"][unit]}
    )


async def jaarverslag(c: Ports, request: web.Request, jaar: str) -> web.Response:
    j, formaat = jaar_van(jaar), formaat_van(request.query.get("formaat", "json"))
    principal(c.tokens, request, toegang.mag_landelijk_jaarverslag)
    alles = c.staat().boek.tabellen(j)
    if formaat == "csv":
        return web.Response(
            body=csv_export(alles).encode(), headers={"Content-Type": "text/csv; charset=utf-8"}
        )
    if formaat == "html":
        return web.Response(text=html_export(alles), content_type="text/html")
    return json_response(alles)


async def ops_projecties(c: Ports, request: web.Request) -> web.Response:
    principal(c.tokens, request, lambda p: p.is_ops)
    s = c.staat()  # hashes and positions in one synchronous step: they describe the same moment
    return json_response(
        {
            "hashes": s.hashes(),
            "posities": c.posities(),
            "overgeslagen": s.overgeslagen_json(),
            "herbouwd": c.herbouwd(),
        }
    )


@functools.cache
def _bestand(naam: str) -> bytes:
    return resources.files(__package__).joinpath(naam).read_bytes()


async def dashboard(c: Ports, request: web.Request) -> web.Response:
    koppen = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": DASHBOARD_CSP}
    return web.Response(body=_bestand("dashboard.html"), headers=koppen)


async def namen(c: Ports, request: web.Request) -> web.Response:
    """The names of the RIECs, LFTs, partners, gemeenten and partner groups (`engine.domain.reference.namen`):
    public reference data, no token asked (the login form lists the RIECs by name)."""
    return json_response(_namen(), headers={"Cache-Control": "no-cache"})


@functools.cache
def _namen() -> dict[str, dict[str, str]]:
    return reference_namen.alle()


async def statisch(c: Ports, request: web.Request) -> web.Response:
    """A file of the dashboard (no personal data): may be cached, revalidated on every load."""
    naam = request.path.removeprefix("/")
    return web.Response(
        body=_bestand(naam), headers={"Content-Type": _STATISCH[naam], "Cache-Control": "no-cache"}
    )


ENDPOINTS = (
    Endpoint("/api/v1/riec/{riec}/inbox", riec_inbox),
    Endpoint("/api/v1/lft/{lft}/inbox", lft_inbox),
    Endpoint("/api/v1/riec/{riec}/casussen", riec_casussen),
    Endpoint("/api/v1/riec/{riec}/casussen/{casus_id}", riec_casus),
    Endpoint("/api/v1/riec/{riec}/weken", riec_weken),
    Endpoint("/api/v1/riec/{riec}/jaarverslag/{jaar}", riec_jaarverslag),
    Endpoint("/api/v1/jaarverslag/{jaar}", jaarverslag),
    Endpoint("/api/v1/ops/projecties", ops_projecties),
    Endpoint("/api/v1/namen", namen),
    Endpoint("/dashboard", dashboard),
    *(Endpoint(f"/{naam}", statisch) for naam in _STATISCH),
)
"""The API of the workers that fold the read models, and the dashboard that reads it."""


def registreer(app: faust.App, c: Ports) -> None:
    """Add the API pages and the dashboard to the app (the projection role). Reads the dashboard's
    files now, so that a missing one stops the worker at start rather than failing a request."""
    for naam in ("dashboard.html", *_STATISCH):
        _bestand(naam)
    endpoints.registreer(app, c, ENDPOINTS)


def registreer_metrics(app: faust.App, *, tokens: toegang.Tokenbron, registry: CollectorRegistry) -> None:
    """Add `/metrics` (every role): for an ops token, or open when no tokens are configured."""

    async def metrics(request: web.Request) -> web.Response:
        if tokens:  # no tokens configured: the API is closed, /metrics open on ENGINE_WEB_BIND
            principal(tokens, request, lambda p: p.is_ops)
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.page("/metrics")(endpoints.view("Metrics", metrics))
