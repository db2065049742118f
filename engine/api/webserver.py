"""The worker's HTTP server: faust's aiohttp driver without faust's own pages, with a header and idle
timeout, a cap on open connections, security headers on every answer and no traceback to a client.

faust builds the aiohttp `Application` and `AppRunner` in its web driver (`faust.web.drivers.aiohttp`)
and picks the driver by the `web` setting's URL scheme from `faust.web.drivers.DRIVERS`; this module
registers a subclass there under `riec://`. Everything else is aiohttp's own settings.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterable
from typing import Any, ClassVar

from aiohttp import web
from faust.types import AppT
from faust.web.drivers import DRIVERS
from faust.web.drivers.aiohttp import Web

from engine.domain import meldingen
from engine.errors import EngineError

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 10.0
"""aiohttp starts this clock when a connection opens, and again after each answer, and closes a
connection that has not completed its next request by then: it is both the header timeout (a client
trickling header lines is dropped) and the keep-alive idle timeout. aiohttp's default is an hour."""
MAX_VERBINDINGEN = 200
"""Open connections at most; one more is answered 503 and closed at once. Dashboards, the LIEC and
Prometheus need a few dozen; the cap keeps slow or idle clients from taking the file descriptors the
worker's Kafka connections need."""
MAX_HEADERS = 64
LINGERING_S = 2.0
"""How long to read (and drop) a request body nobody asked for before closing (aiohttp: 10 s)."""

BEVEILIGINGSKOPPEN = {
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""On every answer unless the view set its own (the dashboard its CSP, static files their caching):
nothing is framed, sniffed, referred or cached, and a JSON answer cannot run anything."""

_VOL_INHOUD = b'{"fout": "too many open connections; try again in a few seconds"}'
VOL_ANTWOORD = (  # what a connection over the cap gets before it is closed
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Retry-After: 5\r\nContent-Length: %d\r\n\r\n%s" % (len(_VOL_INHOUD), _VOL_INHOUD)
)


class OngeldigVerzoek(EngineError):
    """A view raises this for a request it cannot answer as asked: 400 with `reden` as the reason,
    which says what a valid request looks like (and never repeats what the client sent). 404 for
    a name that does not exist."""

    def __init__(self, reden: str, status: int = 400) -> None:
        super().__init__(reden)
        self.reden = reden
        self.status = status


async def _koppen(request: web.BaseRequest, response: web.StreamResponse) -> None:
    for naam, waarde in BEVEILIGINGSKOPPEN.items():
        response.headers.setdefault(naam, waarde)


@web.middleware
async def _geen_traceback(request: web.Request, handler: Any) -> web.StreamResponse:
    """A refused request answers 400 with its reason; an unexpected error answers 500 with a
    reference to its log line, never the traceback."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except OngeldigVerzoek as e:
        return web.json_response(
            {"fout": e.reden, "melding": meldingen.bij_status(e.status)}, status=e.status
        )
    except web.HTTPException:
        raise
    except Exception:
        referentie = secrets.token_hex(6)
        route = request.match_info.route.resource
        pad = route.canonical if route is not None else "?"
        log.exception("%s %s failed (reference %s)", request.method, pad, referentie)
        fout = f"internal error; the operator finds it in the worker's log as {referentie}"
        melding = f"Er ging iets mis in de engine. De beheerder vindt het in het logboek onder {referentie}."
        return web.json_response({"fout": fout, "melding": melding}, status=500)


def beveilig(app: web.Application) -> None:
    """Security headers on every answer of `app`, 400 for `OngeldigVerzoek`, no traceback ever."""
    app.on_response_prepare.append(_koppen)
    app.middlewares.append(_geen_traceback)


class _Begrensd:
    """The listening socket's protocol factory: aiohttp's protocol, counted while its connection
    is open. Counted when the connection is made (not when the factory is called: asyncio calls
    the factory for a whole backlog of accepted sockets before any of them is connected)."""

    def __init__(self, server: web.Server) -> None:
        self.server = server
        self.open = 0

    def __call__(self) -> asyncio.Protocol:
        return _Geteld(self.server(), self)


class _Geteld(asyncio.Protocol):
    """Passes a connection to aiohttp's protocol, or answers 503 and closes it when `MAX_VERBINDINGEN`
    are open already."""

    def __init__(self, binnen: asyncio.Protocol, teller: _Begrensd) -> None:
        self._binnen = binnen
        self._teller = teller
        self._geteld = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._teller.open >= MAX_VERBINDINGEN:
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(VOL_ANTWOORD)
            transport.close()
            return
        self._teller.open += 1
        self._geteld = True
        self._binnen.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._geteld:
            self._geteld = False
            self._teller.open -= 1
            self._binnen.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._geteld:
            self._binnen.data_received(data)

    def eof_received(self) -> bool | None:
        return self._binnen.eof_received() if self._geteld else None

    def pause_writing(self) -> None:
        if self._geteld:
            self._binnen.pause_writing()

    def resume_writing(self) -> None:
        if self._geteld:
            self._binnen.resume_writing()


class _Runner(web.AppRunner):
    _begrensd: _Begrensd | None = None

    @property
    def server(self) -> Any:
        # A site listens with `runner.server` as its protocol factory; the runner itself keeps
        # using the real server (for shutdown) through its own attribute.
        server = super().server
        if server is None:
            return None
        if self._begrensd is None or self._begrensd.server is not server:
            self._begrensd = _Begrensd(server)
        return self._begrensd


class Webserver(Web):
    """faust's aiohttp driver, without faust's pages (`/`, `/router`, `/table`, `/stats`, `/graph`,
    `/performance`): they answer without a token and tell about the cluster and its tables. Empty
    lists rather than faust's `web_*_enabled` settings, which faust lets environment variables
    (`APP_WEB_ROUTER_ENABLED`, ...) switch back on."""

    default_blueprints: ClassVar[Iterable[tuple[str, str]]] = ()
    production_blueprints: ClassVar[Iterable[tuple[str, str]]] = ()
    debug_blueprints: ClassVar[Iterable[tuple[str, str]]] = ()
    optional_blueprints: ClassVar[Iterable[tuple[str, str]]] = ()

    def __init__(self, app: AppT, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        beveilig(self.web_app)
        self._runner = _Runner(
            self.web_app,
            access_log=None,
            keepalive_timeout=IDLE_TIMEOUT_S,
            max_headers=MAX_HEADERS,
            lingering_time=LINGERING_S,
        )


def driver_url() -> str:
    """The `web` setting that makes faust serve with `Webserver`; registers it on first call."""
    DRIVERS["riec"] = f"{__name__}:Webserver"
    return "riec://"
