"""How an endpoint of the dashboard API is written: one async function per path and method that
parses and authorises the request, asks a read model or a port (`Ports`), and answers. A table of
`Endpoint` rows registers them on faust's web server as views.

An endpoint refuses by raising: `Refused` (401, 403, 404, 503: answered here with its JSON
reason) or, for a path or query parameter, `OngeldigVerzoek` (answered by the web server's
middleware, `engine.api.webserver`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import faust
import orjson
from aiohttp import web
from faust.web import Request, View

from engine.api.audit import leesregistratie
from engine.api.ports import Ports
from engine.api.toegang import Principal, Tokenbron
from engine.domain import meldingen
from engine.errors import EngineError

log = logging.getLogger(__name__)

Functie = Callable[..., Awaitable[web.StreamResponse]]
"""An endpoint: `(ports, request, **path parameters) -> answer`."""


class Refused(EngineError):
    """A request the endpoint will not answer as asked: `status` with `{"fout": reden, "melding":
    ...}`. The reason (English, for an integrator) says what to do and never repeats what the client
    sent; the melding is what a person reads (Dutch, `engine.domain.meldingen`): the status's
    unless the endpoint has a better one."""

    def __init__(self, status: int, reden: str, melding: str | None = None) -> None:
        super().__init__(reden)
        self.status = status
        self.reden = reden
        self.melding = melding or meldingen.bij_status(status)

    def antwoord(self) -> web.Response:
        return json_response({"fout": self.reden, "melding": self.melding}, self.status)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON answer (orjson: datetimes as RFC 3339)."""
    return web.Response(
        body=orjson.dumps(data), content_type="application/json", status=status, headers=headers
    )


def principal(tokens: Tokenbron, request: web.Request, mag: Callable[[Principal], bool]) -> Principal:
    """The principal of the request's bearer token when `mag` allows it; else `Refused` 401 (no
    valid token) or 403 (need-to-know)."""
    p = tokens.principal(request.headers.get("Authorization"))
    if p is None:
        raise Refused(401, "a valid bearer token is required (Authorization: Bearer <token>)")
    if not mag(p):
        raise Refused(403, f"{p.naam} may not read this (need-to-know)")
    return p


def known(soort: str, naam: str, namen: tuple[str, ...]) -> str:
    """`naam` when it is one of `namen` (the RIECs or the LFTs), else `Refused` 404 listing them."""
    if naam not in namen:
        raise Refused(404, f"unknown {soort.upper()}; one of: {', '.join(namen)}")
    return naam


async def audited(
    c: Ports,
    request: web.Request,
    p: Principal,
    start: datetime,
    *,
    activiteit: str,
    naam: str,
    signaal_ids: Sequence[str] = (),
    casus_ids: Sequence[str] = (),
) -> None:
    """Writes the audit record of a read (or a command) before it is answered: what `p` was shown
    or did. When it cannot be written, `Refused` 503: what cannot be accounted for is not done."""
    record = leesregistratie(
        actor=p.naam,
        activiteit=activiteit,
        naam=naam,
        pad=str(request.url.path),
        start=start,
        eind=c.clock(),
        traceparent=request.headers.get("traceparent"),
        signaal_ids=list(signaal_ids),
        casus_ids=list(casus_ids),
    )
    try:
        await c.audit.schrijf(record)
    except Exception:
        log.exception("an audit record could not be written; the request is refused")
        raise Refused(503, "the request could not be recorded in the audit log; try again later") from None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One row of an endpoint table: a path (with `{parameters}`), its function, its method."""

    pad: str
    functie: Functie
    methode: str = "get"


def view(
    naam: str, functie: Callable[..., Awaitable[web.StreamResponse]], methode: str = "get"
) -> type[View]:
    """A faust view named `naam` that answers `methode` (and HEAD with GET) with `functie(request,
    **path parameters)`; any other method gets faust's 405."""
    return _view(naam, {methode: functie})


def _view(naam: str, functies: Mapping[str, Callable[..., Awaitable[web.StreamResponse]]]) -> type[View]:
    """A faust view named `naam` that answers each method with its function."""

    def methode(functie: Callable[..., Awaitable[web.StreamResponse]]) -> Functie:
        async def beantwoord(self: View, request: Request, **match: str) -> web.StreamResponse:
            try:
                return await functie(request, **match)
            except Refused as e:
                return e.antwoord()

        return beantwoord

    return type(naam, (View,), {m: methode(f) for m, f in functies.items()})


def registreer(app: faust.App, c: Ports, endpoints: Iterable[Endpoint]) -> None:
    """Adds each endpoint of the table to the app, over the ports `c`; rows of one path (a GET and
    a POST) become one view."""
    per_pad: dict[str, dict[str, Functie]] = {}
    for e in endpoints:
        per_pad.setdefault(e.pad, {})[e.methode] = functools.partial(e.functie, c)
    for pad, functies in per_pad.items():
        naam = "_".join(f.func.__name__ for f in functies.values())  # type: ignore[attr-defined]
        app.page(pad)(_view(naam, functies))
