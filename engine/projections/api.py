"""The dashboard API of contract.md on faust's web server: bearer tokens, need-to-know, paging
with a cursor and an ETag, and an audit record for every read of personal data."""

from __future__ import annotations

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
from engine.projections.staat import ProjectieStaat
from engine.reference import LFTS, RIECS

_MAX_LIMIT = 200


def _json(view: View, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return view.bytes(orjson.dumps(data), content_type="application/json", status=status, headers=headers)


def _fout(view: View, status: int, fout: str) -> Response:
    return _json(view, {"fout": fout}, status)


def _pseudoniemen(items: list[dict[str, Any]]) -> list[str]:
    return [s["pseudoniem"] for i in items for s in i.get("subjecten", ()) if s.get("type") == "persoon"]


def registreer(
    app: faust.App,
    *,
    staat: Callable[[], ProjectieStaat],
    posities: Callable[[], dict[str, int]],
    tokens: dict[str, toegang.Principal],
    audit: AuditSchrijver,
    registry: CollectorRegistry,
) -> None:
    """Add the API pages to the app. `staat` returns the live projections."""

    def principal(request: Request) -> toegang.Principal | None:
        return toegang.principal_van(request.headers.get("Authorization"), tokens)

    async def met_toegang(
        view: View,
        request: Request,
        mag: Callable[[toegang.Principal], bool],
        antwoord: Callable[[toegang.Principal], Awaitable[Response]],
    ) -> Response:
        p = principal(request)
        if p is None:
            return _fout(view, 401, "a valid bearer token is required (Authorization: Bearer <token>)")
        if not mag(p):
            return _fout(view, 403, f"{p.naam} may not read this (need-to-know)")
        return await antwoord(p)

    async def inbox(view: View, request: Request, bestemming: str, p: toegang.Principal) -> Response:
        start = datetime.now(UTC)
        try:
            limit = max(1, min(int(request.query.get("limit", "50")), _MAX_LIMIT))
        except ValueError:
            return _fout(view, 400, "limit must be a whole number")
        voor = request.query.get("voor")
        if voor is not None and not voor.isdigit():
            return _fout(view, 400, "voor must be a cursor from a previous page")
        inbox = staat().inbox
        etag = f'W/"{bestemming}-{inbox.versie(bestemming)}-{limit}-{voor}"'
        if request.headers.get("If-None-Match") == etag:
            return view.bytes(b"", status=304, headers={"ETag": etag})
        pagina = inbox.pagina(bestemming, limit, voor)
        await audit.schrijf(
            leesregistratie(
                actor=p.naam,
                activiteit="inbox",
                naam=f"inbox {bestemming} lezen",
                pad=str(request.url.path),
                start=start,
                eind=datetime.now(UTC),
                traceparent=request.headers.get("traceparent"),
                signaal_ids=[i["signaal_id"] for i in pagina.items],
                pseudoniemen=_pseudoniemen(pagina.items),
            )
        )
        body = {"items": pagina.items, "volgende": pagina.volgende, "totaal": pagina.totaal}
        return _json(view, body, headers={"ETag": etag, "Cache-Control": "no-store"})

    def inbox_pagina(
        soort: str, namen: tuple[str, ...], mag: Callable[[toegang.Principal, str], bool]
    ) -> type[View]:
        """The inbox view of one kind of destination (`riec` or `lft`), its names and access rule."""

        class Inbox(View):
            async def get(self, request: Request, **match: str) -> Response:
                naam = match[soort]
                if naam not in namen:
                    return _fout(self, 404, f"unknown {soort.upper()} {naam!r}")
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
            async def lijst(p: toegang.Principal) -> Response:
                items = staat().casussen.lijst(riec)
                return _json(self, {"items": items, "totaal": len(items)})

            return await met_toegang(self, request, lambda p: toegang.mag_riec_lezen(p, riec), lijst)

    @app.page("/api/v1/riec/{riec}/casussen/{casus_id}")
    class RiecCasus(View):
        async def get(self, request: Request, riec: str, casus_id: str) -> Response:
            async def detail(p: toegang.Principal) -> Response:
                start = datetime.now(UTC)
                casus = staat().casussen.detail(riec, casus_id)
                if casus is None:
                    return _fout(self, 404, f"RIEC {riec} has no casus {casus_id!r}")
                await audit.schrijf(
                    leesregistratie(
                        actor=p.naam,
                        activiteit="casus",
                        naam=f"casus {casus_id} inzien",
                        pad=str(request.url.path),
                        start=start,
                        eind=datetime.now(UTC),
                        traceparent=request.headers.get("traceparent"),
                        signaal_ids=casus["signaal_ids"],
                        pseudoniemen=[],
                    )
                )
                return _json(self, casus)

            return await met_toegang(self, request, lambda p: toegang.mag_riec_lezen(p, riec), detail)

    @app.page("/api/v1/riec/{riec}/weken")
    class RiecWeken(View):
        async def get(self, request: Request, riec: str) -> Response:
            async def weken(p: toegang.Principal) -> Response:
                return _json(self, {"per_week": staat().inbox.per_week(f"riec.{riec}")})

            return await met_toegang(self, request, lambda p: toegang.mag_riec_lezen(p, riec), weken)

    @app.page("/api/v1/riec/{riec}/jaarverslag/{jaar}")
    class RiecJaarverslag(View):
        async def get(self, request: Request, riec: str, jaar: str) -> Response:
            if not jaar.isdigit():
                return _fout(self, 400, "jaar must be a year, like 2026")

            async def tabellen(p: toegang.Principal) -> Response:
                alles = staat().boek.tabellen(int(jaar))
                unit = eenheid(riec)
                body = {
                    "jaar": int(jaar),
                    "eenheid": unit,
                    "tabel1": alles["tabel1"][unit],
                    "tabel2": alles["tabel2"][unit],
                }
                return _json(self, body)

            return await met_toegang(self, request, lambda p: toegang.mag_riec_jaarverslag(p, riec), tabellen)

    @app.page("/api/v1/jaarverslag/{jaar}")
    class Jaarverslag(View):
        async def get(self, request: Request, jaar: str) -> Response:
            if not jaar.isdigit():
                return _fout(self, 400, "jaar must be a year, like 2026")

            async def tabellen(p: toegang.Principal) -> Response:
                alles = staat().boek.tabellen(int(jaar))
                formaat = request.query.get("formaat", "json")
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

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            async def metrics(p: toegang.Principal) -> Response:
                return self.bytes(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

            if not tokens:  # no tokens configured: the API is closed, /metrics open on ENGINE_WEB_BIND
                return await metrics(toegang.Principal("ops"))
            return await met_toegang(self, request, lambda p: p.is_ops, metrics)

    dashboard = resources.files(__package__).joinpath("dashboard.html").read_bytes()

    @app.page("/dashboard")
    class Dashboard(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(dashboard, headers={"Content-Type": "text/html; charset=utf-8"})
