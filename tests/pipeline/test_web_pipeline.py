"""Given a running worker, when an attacker probes its web server (odd numbers, faust's own pages,
no token, a page in a frame, a list of casussen, slow clients), then every answer is a deliberate
one: 400 with a JSON reason, 404, security headers, an audit record, and connections that end."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.api.webserver import IDLE_TIMEOUT_S, MAX_VERBINDINGEN, VOL_ANTWOORD
from tests.pipeline.casus_helpers import opdracht, uniek
from tests.pipeline.conftest import WEB_PORT, Worker
from tests.pipeline.kafka import read_until

pytestmark = pytest.mark.pipeline
LANG = "9" * 5000


@pytest.mark.parametrize(
    ("path", "principal"),
    [
        ("/api/v1/riec/rotterdam/inbox?voor=²", "riec:rotterdam"),
        ("/api/v1/riec/rotterdam/inbox?voor=٣", "riec:rotterdam"),  # Arabic-Indic three
        (f"/api/v1/riec/rotterdam/inbox?voor={LANG}", "riec:rotterdam"),
        ("/api/v1/riec/rotterdam/inbox?voor=-1", "riec:rotterdam"),
        ("/api/v1/riec/rotterdam/inbox?voor=", "riec:rotterdam"),
        ("/api/v1/riec/rotterdam/inbox?limit=²", "riec:rotterdam"),
        (f"/api/v1/riec/rotterdam/inbox?limit={LANG}", "riec:rotterdam"),
        ("/api/v1/riec/rotterdam/inbox?limit=%200x10", "riec:rotterdam"),
        ("/api/v1/lft/omg/inbox?voor=²", "lft:omg"),
        ("/api/v1/riec/rotterdam/jaarverslag/²", "riec:rotterdam"),
        (f"/api/v1/riec/rotterdam/jaarverslag/{LANG}", "riec:rotterdam"),
        ("/api/v1/riec/rotterdam/jaarverslag/0", "riec:rotterdam"),
        ("/api/v1/riec/rotterdam/jaarverslag/99999", "riec:rotterdam"),
        ("/api/v1/jaarverslag/²", "liec"),
        (f"/api/v1/jaarverslag/{LANG}", "liec"),
        ("/api/v1/jaarverslag/1", "liec"),
        ("/api/v1/jaarverslag/2026?formaat=xml", "liec"),
        (f"/api/v1/riec/rotterdam/casussen/{'x' * 5000}", "riec:rotterdam"),
        (f"/api/v1/riec/rotterdam/casussen/{urllib.parse.quote('R<script>')}", "riec:rotterdam"),
    ],
)
def test_an_odd_number_or_id_is_a_400_with_a_reason_never_a_traceback(
    worker: Worker, path: str, principal: str
) -> None:
    status, headers, body = worker.request(urllib.parse.quote(path, safe="/?=&%"), principal)
    assert status == 400, body[:300]
    assert headers["Content-Type"].startswith("application/json")
    assert orjson.loads(body)["fout"]
    assert b"Traceback" not in body and b'File "' not in body


def test_a_year_far_away_is_refused_also_without_a_token(worker: Worker) -> None:
    """Validation of the path does not depend on who asks, and never reaches the projections."""
    status, _, body = worker.request(urllib.parse.quote("/api/v1/jaarverslag/²"), None)
    assert status in (400, 401) and b"Traceback" not in body


@pytest.mark.parametrize(
    "path",
    ["/", "/router/", "/router", "/table/", "/table", "/stats/", "/graph/", "/assignment/",
     "/performance/", "/router/key/x/", "/table/dummy/"],
)  # fmt: skip
def test_faust_own_pages_are_not_served(worker: Worker, path: str) -> None:
    for principal in (None, "ops"):
        status, _, _ = worker.request(path, principal)
        assert status == 404, f"{path} answered {status}"


def test_every_answer_carries_the_security_headers(worker: Worker) -> None:
    for path, principal in [
        ("/dashboard", None),
        ("/api/v1/riec/rotterdam/inbox", "riec:rotterdam"),
        ("/api/v1/riec/rotterdam/inbox", None),
        ("/api/v1/riec/rotterdam/casussen/onbekend", "riec:rotterdam"),
        ("/bestaat-niet", None),
        ("/health", None),
    ]:
        _, headers, _ = worker.request(path, principal)
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
    _, headers, _ = worker.request("/api/v1/riec/rotterdam/casussen", "riec:rotterdam")
    assert headers["Cache-Control"] == "no-store"
    _, headers, body = worker.request("/dashboard", None)
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert b"<script>" not in body and b"<style>" not in body and b" style=" not in body


async def test_the_casus_list_is_audited_before_it_is_answered(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    casus_id = uniek("AUD")
    await opdracht(
        producer,
        "midden-nederland",
        "casus.openen",
        {"casus_id": casus_id, "naam": "Lijst", "bron": "gebiedsscan", "themas": ["drugs"]},
    )
    path = "/api/v1/riec/midden-nederland/casussen"
    deadline = time.monotonic() + 30
    while casus_id.encode() not in worker.request(path, "riec:midden-nederland")[2]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.5)
    trace = uuid.uuid4().hex
    assert (
        worker.request(path, "riec:midden-nederland", {"traceparent": f"00-{trace}-{'b' * 16}-01"})[0] == 200
    )
    audit = await read_until(
        broker, ["engine.audit"], lambda f: len(f) >= 1, match=lambda r: r.key == trace.encode()
    )
    attributes = orjson.loads(audit[0].value)["attributes"]
    assert attributes["dpl.riec.actor"] == "riec:midden-nederland"
    assert attributes["dpl.riec.resource"] == path
    assert attributes["dpl.core.processing_activity_id"].endswith("casus-inzien")
    assert casus_id in attributes["dpl.riec.casus_ids"], "which casussen were shown"
    assert worker.request(path, "riec:rotterdam")[0] == 403


async def _trickle(started: float) -> tuple[float, bytes]:
    """A client that sends one header line a second and never finishes its request. Returns when
    the server closed the connection (seconds since `started`) and what it answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", WEB_PORT)
    answer = b""
    try:
        writer.write(b"GET /health HTTP/1.1\r\nHost: engine\r\n")
        for i in range(60):
            writer.write(f"X-Langzaam-{i}: ja\r\n".encode())
            await writer.drain()
            try:
                chunk = await asyncio.wait_for(reader.read(4096), 1.0)
            except TimeoutError:
                continue
            answer += chunk
            if not chunk:
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()
    return time.monotonic() - started, answer


async def _first_answer() -> bytes:
    """What the server says to a client that connects and has not sent anything yet."""
    reader, writer = await asyncio.open_connection("127.0.0.1", WEB_PORT)
    try:
        return await asyncio.wait_for(reader.read(4096), 3.0)
    except TimeoutError:
        return b""
    finally:
        writer.close()


async def _slow_clients(n: int) -> list[tuple[float, bytes]]:
    started = time.monotonic()
    return await asyncio.gather(*(_trickle(started) for _ in range(n)))


async def test_slow_clients_are_dropped_in_time_and_capped_and_others_still_served(worker: Worker) -> None:
    # Under the cap: the slow ones are dropped after the idle timeout, a normal request is answered
    # meanwhile.
    attack = asyncio.ensure_future(_slow_clients(100))
    await asyncio.sleep(2)
    assert await asyncio.to_thread(worker.health) == 200, "answered while 100 slow clients hang on"
    ended = await attack
    assert all(t < IDLE_TIMEOUT_S + 3 for t, _ in ended), max(t for t, _ in ended)

    # Over the cap: the excess is refused at once (a client still sending as the server closes
    # sees a reset instead of the 503), the rest dropped after the timeout.
    attack = asyncio.ensure_future(_slow_clients(500))
    await asyncio.sleep(2)
    assert await _first_answer() == VOL_ANTWOORD, "a client over the cap is told so"
    ended = await attack
    refused = [answer for t, answer in ended if t < 3]
    assert len(refused) >= 500 - MAX_VERBINDINGEN, len(refused)
    assert all(answer in (b"", VOL_ANTWOORD) for answer in refused), "none of them served"
    assert all(t < IDLE_TIMEOUT_S + 3 for t, _ in ended), max(t for t, _ in ended)
    assert await asyncio.to_thread(worker.health) == 200
