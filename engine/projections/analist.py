"""The analyst's work on the dashboard API: a signal's detail view (read of personal data: need-to-know
and an audit record, like every read), and commands written to `riec.<riec>.opdrachten` on behalf
of the RIEC whose bearer token asks (202 with the command's id; its outcome once the engine decided).

A command's `ce_id` is derived from the request (a client's `Idempotency-Key`, else the payload), so
a double click writes the same `ce_id` twice and the engine applies it once (`<riec>:<ce_id>`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import faust
import msgspec
from faust.web import Request, Response, View

from engine.events.opdrachten import OPDRACHT_DECODERS, KoppelSignaal, OpenCasus, WijsKoppelingAf
from engine.handlers.audit import AuditSchrijver
from engine.handlers.opdrachtgever import OpdrachtSchrijver
from engine.ingress.bsn import maskeer_cijferreeksen
from engine.projections import toegang
from engine.projections.api import _fout, _json, _met_toegang, registreer_verwerking
from engine.projections.parameters import riec_van, signaal_id_van
from engine.projections.staat import ProjectieStaat
from engine.projections.webserver import OngeldigVerzoek
from engine.reference import LFTS, RIECS

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


def _idempotentiesleutel(request: Request) -> bytes | None:
    sleutel = request.headers.get("Idempotency-Key")
    if sleutel is None:
        return None
    if not 0 < len(sleutel) <= _MAX_SLEUTEL or not sleutel.isascii() or not sleutel.isprintable():
        raise OngeldigVerzoek(f"Idempotency-Key must be 1 to {_MAX_SLEUTEL} printable ASCII characters")
    return sleutel.encode()


def _pseudoniemen(bericht: dict[str, Any]) -> list[str]:
    return [s["pseudoniem"] for s in bericht.get("subjecten", ()) if s.get("type") == "persoon"]


def _signalen(opdracht: msgspec.Struct) -> list[str]:
    match opdracht:
        case KoppelSignaal() | WijsKoppelingAf():
            return [opdracht.signaal_id]
        case OpenCasus():
            return list(opdracht.signalen)
    return []


def registreer(
    app: faust.App,
    *,
    staat: Callable[[], ProjectieStaat],
    tokens: toegang.Tokens,
    audit: AuditSchrijver,
    schrijver: OpdrachtSchrijver,
) -> None:
    """Add the signal detail views, the command views and the outcome view to the app."""

    async def detail(
        view: View, request: Request, bestemming: str, signaal_id: str, p: toegang.Principal
    ) -> Response:
        start = datetime.now(UTC)
        s = staat()
        bericht = s.inbox.bericht(bestemming, signaal_id)
        if bericht is None:
            return _fout(view, 404, f"this signal is not in the inbox of {bestemming} (need-to-know)")
        riec = bestemming.removeprefix("riec.") if bestemming.startswith("riec.") else None
        bericht["behandeling"] = s.inbox.behandeling(bestemming, [signaal_id]).get(signaal_id, [])
        bericht["casussen"] = s.casussen.van_signaal(riec, signaal_id) if riec else []
        casus_ids = sorted(
            {c["casus_id"] for c in bericht["casussen"]}
            | {r["casus_id"] for r in bericht.get("redenen", ()) if r.get("casus_id")}
        )
        geweigerd = await registreer_verwerking(
            audit,
            view,
            request,
            p,
            start,
            activiteit="inbox",
            naam=f"signaal {signaal_id} inzien",
            signaal_ids=[signaal_id],
            pseudoniemen=_pseudoniemen(bericht),
            casus_ids=casus_ids,
        )
        return geweigerd or _json(view, bericht)

    def detail_pagina(
        soort: str, namen: tuple[str, ...], mag: Callable[[toegang.Principal, str], bool]
    ) -> type[View]:
        class Signaal(View):
            async def get(self, request: Request, **match: str) -> Response:
                naam = match[soort]
                if naam not in namen:
                    return _fout(self, 404, f"unknown {soort.upper()}; one of: {', '.join(namen)}")
                signaal_id = signaal_id_van(match["signaal_id"])
                return await _met_toegang(
                    self,
                    request,
                    tokens,
                    lambda p: mag(p, naam),
                    lambda p: detail(self, request, f"{soort}.{naam}", signaal_id, p),
                )

        return Signaal

    app.page("/api/v1/riec/{riec}/signalen/{signaal_id}")(
        detail_pagina("riec", RIECS, toegang.mag_riec_lezen)
    )
    app.page("/api/v1/lft/{lft}/signalen/{signaal_id}")(detail_pagina("lft", LFTS, toegang.mag_lft_lezen))

    async def geef(view: View, request: Request, riec: str, actie: str, p: toegang.Principal) -> Response:
        start = datetime.now(UTC)
        ce_type = ACTIES[actie]
        body = await request.read()
        try:
            opdracht = OPDRACHT_DECODERS[ce_type].decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            return _fout(view, 400, f"the body is not a {ce_type} payload: {maskeer_cijferreeksen(str(e))}")
        s = staat()
        signalen = _signalen(opdracht)
        for signaal_id in signalen:  # need-to-know, at once: the engine would refuse the link too
            if s.inbox.bericht(f"riec.{riec}", signaal_id) is None:
                # Not echoed: an id a client made up may hold anything, a BSN too.
                return _fout(view, 404, f"a signal of this command is not in the inbox of RIEC {riec}")
        payload = msgspec.json.encode(opdracht)
        ce_id = ce_id_van(riec, ce_type, _idempotentiesleutel(request) or payload)
        opdracht_id = f"{riec}:{ce_id}"
        casus_id = getattr(opdracht, "casus_id", "")
        geweigerd = await registreer_verwerking(
            audit,
            view,
            request,
            p,
            start,
            activiteit="opdracht",
            naam=f"opdracht {ce_type} {opdracht_id} geven",
            signaal_ids=signalen,
            pseudoniemen=[],
            casus_ids=[casus_id] if casus_id else [],
        )
        if geweigerd is not None:
            return geweigerd
        try:
            await schrijver.schrijf(
                riec=riec, ce_id=ce_id, ce_type=ce_type, payload=payload, auteur=p.naam, key=casus_id or ce_id
            )
        except Exception:
            return _fout(view, 503, "the command could not be written to the broker; try again (same id)")
        body_uit = {
            "opdracht_id": opdracht_id,
            "ce_id": ce_id,
            "ce_type": ce_type,
            "uitkomst": f"/api/v1/riec/{riec}/opdrachten/uitkomst/{ce_id}",
            **(s.uitkomsten.van(opdracht_id) or {"status": "wachtend"}),
        }
        return _json(view, body_uit, status=202, headers={"Location": body_uit["uitkomst"]})

    @app.page("/api/v1/riec/{riec}/opdrachten/{actie}")
    class Opdracht(View):
        async def post(self, request: Request, riec: str, actie: str) -> Response:
            riec = riec_van(riec)
            if actie not in ACTIES:
                return _fout(self, 404, f"unknown action; one of: {', '.join(ACTIES)}")
            return await _met_toegang(
                self,
                request,
                tokens,
                lambda p: toegang.mag_riec_opdragen(p, riec),
                lambda p: geef(self, request, riec, actie, p),
            )

    @app.page("/api/v1/riec/{riec}/opdrachten/uitkomst/{ce_id}")
    class Uitkomst(View):
        async def get(self, request: Request, riec: str, ce_id: str) -> Response:
            """What became of a command: no personal data, not audited."""
            riec = riec_van(riec)

            async def uitkomst(p: toegang.Principal) -> Response:
                u = staat().uitkomsten.van(f"{riec}:{ce_id}")
                return _json(self, {"opdracht_id": f"{riec}:{ce_id}", **(u or {"status": "wachtend"})})

            return await _met_toegang(
                self, request, tokens, lambda p: toegang.mag_riec_lezen(p, riec), uitkomst
            )
