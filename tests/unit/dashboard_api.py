"""Fakes and a client for unit tests of the dashboard API's endpoints: the pages registered on a real
faust App (its aiohttp web server, the worker's middleware), over in-memory read models, a fake audit
log, a fake command topic and a fixed clock. No broker: each request takes milliseconds."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
import orjson
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry, Counter

from engine.api import analist, verzoeken, webserver
from engine.api import dashboard as api
from engine.api.audit import Verwerkingslog
from engine.api.ports import Ports
from engine.api.toegang import Principal, Tokens, digest
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.vergeten.sleutels import Sleutelring
from engine.projections.staat import ProjectieStaat

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PRINCIPALS = ("riec:rotterdam", "riec:limburg", "lft:omg", "liec", "ops", "ops:anna", "ops:bert", "liec:cor")
PSEUDONIEMSLEUTEL = b"k" * 32
HOOFDSLEUTEL = b"h" * 32
"""The master key the fake worker seals a request's subject under (tests open it with it)."""


def token(principal: str) -> str:
    return f"token-van-{principal}-0123456789"


TOKENS = Tokens(tuple((digest(token(p)), Principal(p)) for p in PRINCIPALS))


def als(principal: str | None, **headers: str) -> dict[str, str]:
    """The request headers of `principal`'s bearer token (none for None), and `headers`."""
    return headers if principal is None else {"Authorization": f"Bearer {token(principal)}", **headers}


@dataclass
class Audit:
    """The audit port in memory: the records it stored, or an error when `kapot`."""

    records: list[Verwerkingslog] = field(default_factory=list)
    kapot: bool = False

    async def schrijf(self, log: Verwerkingslog) -> None:
        if self.kapot:
            raise OSError("the audit topic is not reachable")
        self.records.append(log)

    def attributen(self) -> list[dict[str, Any]]:
        return [dict(r.attributes) for r in self.records]


@dataclass
class Opdrachten:
    """The command topic in memory: what was written, or an error when `kapot`."""

    geschreven: list[dict[str, Any]] = field(default_factory=list)
    kapot: bool = False

    async def schrijf(
        self, *, riec: str, ce_id: str, ce_type: str, payload: bytes, auteur: str, key: str
    ) -> datetime:
        if self.kapot:
            raise OSError("the broker did not take the command")
        self.geschreven.append(
            {"riec": riec, "ce_id": ce_id, "ce_type": ce_type, "payload": orjson.loads(payload),
             "auteur": auteur, "key": key}
        )  # fmt: skip
        return T0


@dataclass
class Verzoekopdrachten:
    """engine.verzoekopdrachten in memory: the records written (key, decoded value), or an error."""

    geschreven: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    kapot: bool = False

    async def schrijf(self, *, verzoek_id: str, value: bytes) -> None:
        if self.kapot:
            raise OSError("the broker did not take the command")
        self.geschreven.append((verzoek_id, orjson.loads(value)))


@dataclass
class Clock:
    """A clock that moves one second each time it is read."""

    nu: datetime = T0

    def __call__(self) -> datetime:
        self.nu += timedelta(seconds=1)
        return self.nu


@dataclass
class Omgeving:
    """What the endpoints run over in one test, and a client of the app that serves them."""

    staat: ProjectieStaat
    audit: Audit
    opdrachten: Opdrachten
    client: TestClient[web.Request, web.Application]
    verzoekopdrachten: Verzoekopdrachten = field(default_factory=Verzoekopdrachten)

    async def get(self, pad: str, principal: str | None = None, **headers: str) -> ClientResponse:
        return await self.client.get(pad, headers=als(principal, **headers))

    async def post(self, pad: str, principal: str | None, body: Any, **headers: str) -> ClientResponse:
        data = body if isinstance(body, bytes | io.BytesIO) else orjson.dumps(body)
        return await self.client.post(pad, data=data, headers=als(principal, **headers))


@asynccontextmanager
async def omgeving(staat: ProjectieStaat | None = None, tokens: Tokens = TOKENS) -> AsyncIterator[Omgeving]:
    """Given these read models (empty by default) and these tokens: the worker's pages over fakes."""
    s = staat if staat is not None else ProjectieStaat()
    audit, opdrachten, verzoekopdrachten = Audit(), Opdrachten(), Verzoekopdrachten()
    ports = Ports(
        staat=lambda: s, tokens=tokens, audit=audit, opdrachten=opdrachten, clock=Clock(),
        posities=lambda: {"routes.riec.rotterdam:0": 3}, verzoekopdrachten=verzoekopdrachten,
        pseudo=Pseudonimiseerder(PSEUDONIEMSLEUTEL), verzegelaar=Sleutelring(HOOFDSLEUTEL),
    )  # fmt: skip
    app = faust.App("endpoints-test", web=webserver.driver_url(), autodiscover=False, store="memory://")
    registry = CollectorRegistry()
    Counter("eindpunten_test", "a metric the test can find", registry=registry).inc()
    api.registreer_metrics(app, tokens=tokens, registry=registry)
    api.registreer(app, ports)
    analist.registreer(app, ports)
    verzoeken.registreer(app, ports)
    client = TestClient(TestServer(app.web.web_app))
    await client.start_server()
    try:
        yield Omgeving(s, audit, opdrachten, client, verzoekopdrachten)
    finally:
        await client.close()
        s.sluit()


PERSOON = "c" * 64
META = {"riec": "rotterdam", "tijd": datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        "vastgelegd_op": datetime(2026, 5, 1, 9, 0, tzinfo=UTC)}  # fmt: skip


def routebericht(signaal_id: str, dag: str, regel: str = "locatie", casus_id: str | None = None) -> bytes:
    """A routed message as the engine writes it to `routes.*`, about one (pseudonymised) person."""
    reden: dict[str, Any] = {"regel": regel, "toelichting": "t"}
    if casus_id is not None:
        reden["casus_id"] = casus_id
    return orjson.dumps(
        {"signaal_id": signaal_id, "ontvangen_op": f"{dag}T10:00:00Z", "gemeld_op": f"{dag}T09:00:00Z",
         "bron": signaal_id.split(":")[0], "themas": ["drugs"], "redenen": [reden],
         "subjecten": [{"type": "persoon", "pseudoniem": PERSOON}, {"type": "voertuig", "pseudoniem": "v" * 64}]}
    )  # fmt: skip


def gevulde_staat() -> ProjectieStaat:
    """Rotterdam's inbox holds politie:s1 (linked to casus R-1) and politie:s2 (a candidate for R-1),
    LFT omg's holds om:s3; Rotterdam has casus R-1, opened with politie:s1 by command rotterdam:open."""
    from engine.events.casus import GEBEURTENIS_ENCODER, CasusGeopend, KoppelingBevestigd
    from engine.topics import GEBEURTENISSEN

    s = ProjectieStaat()
    s.pas_toe("routes.riec.rotterdam", routebericht("politie:s1", "2026-05-01"))
    s.pas_toe("routes.riec.rotterdam", routebericht("politie:s2", "2026-05-02", "open_casus", "R-1"))
    s.pas_toe("routes.lft.omg", routebericht("om:s3", "2026-05-03"))
    for g in (
        CasusGeopend(**META, opdracht_id="rotterdam:open", casus_id="R-1", naam="Haven", bron="inbreng",
                     signalen=["politie:s1"], themas=["drugs"], subjecten=[]),
        KoppelingBevestigd(**META, opdracht_id="rotterdam:open", casus_id="R-1", signaal_id="politie:s1"),
    ):  # fmt: skip
        s.pas_toe(GEBEURTENISSEN, GEBEURTENIS_ENCODER.encode(g))
    s.vastleggen()
    return s
