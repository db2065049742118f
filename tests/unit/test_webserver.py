"""Given the worker's aiohttp application, when a view fails or refuses, or no view matches, then
the client gets a JSON reason or a reference to the log, the security headers, and no traceback."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from engine.api.webserver import BEVEILIGINGSKOPPEN, OngeldigVerzoek, beveilig


async def faalt(request: web.Request) -> web.Response:
    raise ZeroDivisionError("geheim detail uit /pad/naar/bron.py")


async def weigert(request: web.Request) -> web.Response:
    raise OngeldigVerzoek("jaar must be a whole number from 2000 to 2100")


async def eigen_csp(request: web.Request) -> web.Response:
    return web.Response(text="ok", headers={"Content-Security-Policy": "default-src 'self'"})


async def client() -> TestClient[web.Request, web.Application]:
    app = web.Application()
    beveilig(app)
    app.router.add_get("/faalt", faalt)
    app.router.add_get("/weigert", weigert)
    app.router.add_get("/eigen", eigen_csp)
    c = TestClient(TestServer(app))
    await c.start_server()
    return c


async def test_an_error_answers_500_with_a_reference_and_no_traceback() -> None:
    c = await client()
    try:
        r = await c.get("/faalt", headers={"Accept": "text/html"})
        body = await r.text()
        assert r.status == 500 and r.content_type == "application/json"
        assert "Traceback" not in body and "geheim" not in body and "bron.py" not in body
        assert "worker's log as" in (await r.json())["fout"]
    finally:
        await c.close()


async def test_a_refusal_answers_400_with_its_reason_and_every_answer_has_the_headers() -> None:
    c = await client()
    try:
        r = await c.get("/weigert")
        assert r.status == 400 and (await r.json()) == {
            "fout": "jaar must be a whole number from 2000 to 2100",
            "melding": "Het verzoek is niet volledig of niet geldig. Controleer de ingevulde velden.",
        }
        for pad in ("/weigert", "/faalt", "/nergens"):
            r = await c.get(pad)
            for naam, waarde in BEVEILIGINGSKOPPEN.items():
                assert r.headers[naam] == waarde, (pad, naam)
        r = await c.get("/eigen")
        assert r.headers["Content-Security-Policy"] == "default-src 'self'", "a view's own CSP stays"
        assert r.headers["X-Frame-Options"] == "DENY"
    finally:
        await c.close()
