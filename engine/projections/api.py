"""The dashboard API of contract.md on faust's web server: bearer tokens, need-to-know, paging
with a cursor and an ETag, and an audit record for every read of personal data. Every path and
query parameter is checked strictly (ASCII digits, bounded lengths, known names) and answered 400
with a reason when it does not fit."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import faust
import orjson
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from engine.handlers.audit import AuditSchrijver
from engine.jaarverslag import eenheid
from engine.projections import toegang
from engine.projections.audit import leesregistratie
from engine.projections.export import csv_export, html_export
from engine.projections.parameters import (
    casus_id_van,
    formaat_van,
    getal,
    inbox_filter,
    jaar_van,
    riec_van,
)
from engine.projections.staat import ProjectieStaat
from engine.reference import LFTS, RIECS

log = logging.getLogger(__name__)

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


def _json(view: View, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return view.bytes(orjson.dumps(data), content_type="application/json", status=status, headers=headers)


def _fout(view: View, status: int, fout: str) -> Response:
    return _json(view, {"fout": fout}, status)


def _pseudoniemen(items: list[dict[str, Any]]) -> list[str]:
    return [s["pseudoniem"] for i in items for s in i.get("subjecten", ()) if s.get("type") == "persoon"]


async def _met_toegang(
    view: View,
    request: Request,
    tokens: toegang.Tokens,
    mag: Callable[[toegang.Principal], bool],
    antwoord: Callable[[toegang.Principal], Awaitable[Response]],
) -> Response:
    """`antwoord` for the principal of the request's bearer token, or 401, or 403."""
    p = tokens.principal(request.headers.get("Authorization"))
    if p is None:
        return _fout(view, 401, "a valid bearer token is required (Authorization: Bearer <token>)")
    if not mag(p):
        return _fout(view, 403, f"{p.naam} may not read this (need-to-know)")
    return await antwoord(p)


async def registreer_verwerking(
    audit: AuditSchrijver, view: View, request: Request, p: toegang.Principal, start: datetime, **wat: Any
) -> Response | None:
    """Writes the audit record of a read (or a command) before it is answered; None when written,
    else the 503 to answer instead (what cannot be accounted for is not done)."""
    try:
        await audit.schrijf(
            leesregistratie(
                actor=p.naam,
                pad=str(request.url.path),
                start=start,
                eind=datetime.now(UTC),
                traceparent=request.headers.get("traceparent"),
                **wat,
            )
        )
    except Exception:
        log.exception("an audit record could not be written; the request is refused")
        return _fout(view, 503, "the request could not be recorded in the audit log; try again later")
    return None


def registreer_metrics(app: faust.App, *, tokens: toegang.Tokens, registry: CollectorRegistry) -> None:
    """Add `/metrics` (every role): for an ops token, or open when no tokens are configured."""

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            async def metrics(p: toegang.Principal) -> Response:
                return self.bytes(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

            if not tokens:  # no tokens configured: the API is closed, /metrics open on ENGINE_WEB_BIND
                return await metrics(toegang.Principal("ops"))
            return await _met_toegang(self, request, tokens, lambda p: p.is_ops, metrics)


def registreer(
    app: faust.App,
    *,
    staat: Callable[[], ProjectieStaat],
    posities: Callable[[], dict[str, int]],
    tokens: toegang.Tokens,
    audit: AuditSchrijver,
) -> None:
    """Add the API pages and the dashboard to the app (workers that fold the read models).
    `staat` returns the live projections."""

    async def met_toegang(
        view: View,
        request: Request,
        mag: Callable[[toegang.Principal], bool],
        antwoord: Callable[[toegang.Principal], Awaitable[Response]],
    ) -> Response:
        return await _met_toegang(view, request, tokens, mag, antwoord)

    async def registreer_lezing(
        view: View, request: Request, p: toegang.Principal, start: datetime, **wat: Any
    ) -> Response | None:
        return await registreer_verwerking(audit, view, request, p, start, **wat)

    async def inbox(view: View, request: Request, bestemming: str, p: toegang.Principal) -> Response:
        start = datetime.now(UTC)
        limit = max(1, min(getal(request.query.get("limit", "50"), "limit", cijfers=6), _MAX_LIMIT))
        voor = request.query.get("voor")
        if voor is not None:
            voor = str(getal(voor, "voor (a cursor from a previous page)", cijfers=12))
        filter_ = inbox_filter(request.query)
        inbox = staat().inbox
        versie = f"{inbox.versie(bestemming)}.{inbox.behandeld_versie}"
        vraag = hashlib.sha256(str(sorted(request.query.items())).encode()).hexdigest()[:16]
        etag = f'W/"{bestemming}-{versie}-{vraag}"'
        if request.headers.get("If-None-Match") == etag:
            return view.bytes(b"", status=304, headers={"ETag": etag})
        pagina = inbox.gefilterde_pagina(bestemming, filter_, limit, voor)
        behandeling = inbox.behandeling(bestemming, [i["signaal_id"] for i in pagina.items])
        for item in pagina.items:
            item["behandeling"] = behandeling.get(item["signaal_id"], [])
        geweigerd = await registreer_lezing(
            view,
            request,
            p,
            start,
            activiteit="inbox",
            naam=f"inbox {bestemming} lezen",
            signaal_ids=[i["signaal_id"] for i in pagina.items],
            pseudoniemen=_pseudoniemen(pagina.items),
        )
        if geweigerd is not None:
            return geweigerd
        body = {
            "items": pagina.items,
            "volgende": pagina.volgende,
            "totaal": pagina.totaal,
            "tellingen": inbox.tellingen(bestemming),
        }
        return _json(view, body, headers={"ETag": etag})

    def inbox_pagina(
        soort: str, namen: tuple[str, ...], mag: Callable[[toegang.Principal, str], bool]
    ) -> type[View]:
        """The inbox view of one kind of destination (`riec` or `lft`), its names and access rule."""

        class Inbox(View):
            async def get(self, request: Request, **match: str) -> Response:
                naam = match[soort]
                if naam not in namen:
                    return _fout(self, 404, f"unknown {soort.upper()}; one of: {', '.join(namen)}")
                return await met_toegang(
                    self,
                    request,
                    lambda p: mag(p, naam),
                    lambda p: inbox(self, request, f"{soort}.{naam}", p),
                )

        return Inbox

    app.page("/api/v1/riec/{riec}/inbox")(inbox_pagina("riec", RIECS, toegang.mag_riec_lezen))
    app.page("/api/v1/lft/{lft}/inbox")(inbox_pagina("lft", LFTS, toegang.mag_lft_lezen))

    @app.page("/api/v1/riec/{riec}/casussen")
    class RiecCasussen(View):
        async def get(self, request: Request, riec: str) -> Response:
            riec = riec_van(riec)

            async def lijst(p: toegang.Principal) -> Response:
                start = datetime.now(UTC)
                items = staat().casussen.lijst(riec)
                geweigerd = await registreer_lezing(
                    self,
                    request,
                    p,
                    start,
                    activiteit="casus",
                    naam=f"casussen {riec} inzien",
                    signaal_ids=[],
                    pseudoniemen=[],
                    casus_ids=[c["casus_id"] for c in items],
                )
                return geweigerd or _json(self, {"items": items, "totaal": len(items)})

            return await met_toegang(self, request, lambda p: toegang.mag_riec_lezen(p, riec), lijst)

    @app.page("/api/v1/riec/{riec}/casussen/{casus_id}")
    class RiecCasus(View):
        async def get(self, request: Request, riec: str, casus_id: str) -> Response:
            riec, casus_id = riec_van(riec), casus_id_van(casus_id)

            async def detail(p: toegang.Principal) -> Response:
                start = datetime.now(UTC)
                casus = staat().casussen.detail(riec, casus_id)
                if casus is None:
                    return _fout(self, 404, f"RIEC {riec} has no casus {casus_id!r}")
                geweigerd = await registreer_lezing(
                    self,
                    request,
                    p,
                    start,
                    activiteit="casus",
                    naam=f"casus {casus_id} inzien",
                    signaal_ids=casus["signaal_ids"],
                    pseudoniemen=[],
                    casus_ids=[casus_id],
                )
                return geweigerd or _json(self, casus)

            return await met_toegang(self, request, lambda p: toegang.mag_riec_lezen(p, riec), detail)

    @app.page("/api/v1/riec/{riec}/weken")
    class RiecWeken(View):
        # Counts per week, no signal, casus or person: not a read of personal data, not audited.
        async def get(self, request: Request, riec: str) -> Response:
            riec = riec_van(riec)

            async def weken(p: toegang.Principal) -> Response:
                return _json(self, {"per_week": staat().inbox.per_week(f"riec.{riec}")})

            return await met_toegang(self, request, lambda p: toegang.mag_riec_lezen(p, riec), weken)

    @app.page("/api/v1/riec/{riec}/jaarverslag/{jaar}")
    class RiecJaarverslag(View):
        async def get(self, request: Request, riec: str, jaar: str) -> Response:
            riec, j = riec_van(riec), jaar_van(jaar)

            async def tabellen(p: toegang.Principal) -> Response:
                alles = staat().boek.tabellen(j)
                unit = eenheid(riec)
                body = {
                    "jaar": j,
                    "eenheid": unit,
                    "tabel1": alles["tabel1"][unit],
                    "tabel2": alles["tabel2"][unit],
                }
                return _json(self, body)

            return await met_toegang(self, request, lambda p: toegang.mag_riec_jaarverslag(p, riec), tabellen)

    @app.page("/api/v1/jaarverslag/{jaar}")
    class Jaarverslag(View):
        async def get(self, request: Request, jaar: str) -> Response:
            j = jaar_van(jaar)
            formaat = formaat_van(request.query.get("formaat", "json"))

            async def tabellen(p: toegang.Principal) -> Response:
                alles = staat().boek.tabellen(j)
                if formaat == "csv":
                    return self.bytes(
                        csv_export(alles).encode(), headers={"Content-Type": "text/csv; charset=utf-8"}
                    )
                if formaat == "html":
                    return self.html(html_export(alles))
                return _json(self, alles)

            return await met_toegang(self, request, toegang.mag_landelijk_jaarverslag, tabellen)

    @app.page("/api/v1/ops/projecties")
    class Projecties(View):
        async def get(self, request: Request) -> Response:
            async def hashes(p: toegang.Principal) -> Response:
                # Both in one synchronous step, so they describe the same moment.
                s = staat()
                body = {"hashes": s.hashes(), "posities": posities(), "overgeslagen": s.overgeslagen_json()}
                return _json(self, body)

            return await met_toegang(self, request, lambda p: p.is_ops, hashes)

    bestanden = resources.files(__package__)
    dashboard = bestanden.joinpath("dashboard.html").read_bytes()

    @app.page("/dashboard")
    class Dashboard(View):
        async def get(self, request: Request) -> Response:
            koppen = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": DASHBOARD_CSP}
            return self.bytes(dashboard, headers=koppen)

    for naam, soort in _STATISCH.items():
        app.page(f"/{naam}")(_statisch(bestanden.joinpath(naam).read_bytes(), soort))


def _statisch(inhoud: bytes, soort: str) -> type[View]:
    """A file of the dashboard (no personal data): may be cached, revalidated on every load."""

    class Statisch(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(inhoud, headers={"Content-Type": soort, "Cache-Control": "no-cache"})

    return Statisch
