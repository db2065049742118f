"""Given the dashboard API over in-memory ports, when a person of ops or the LIEC files, approves or
turns down a four-eyes request, then the command is audited and written to engine.verzoekopdrachten
with the authenticated principal, an erasure's BSN as its pseudonym only; and the requests read back
show their status and refusals, never their subject."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import orjson
import pytest

from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.sleutels import Sleutelring
from engine.events.vieroogen import (
    OPDRACHT_DECODER,
    VERZOEK_ENCODER,
    DienIn,
    KeurGoed,
    OpdrachtGeweigerd,
    VerzoekIngediend,
    WijsAf,
)
from engine.topics import VERZOEKEN
from tests.unit.dashboard_api import HOOFDSLEUTEL, PSEUDONIEMSLEUTEL, T0, Omgeving, omgeving

PAD = "/api/v1/ops/verzoeken"
BSN = "111222333"  # passes the elfproef
PSEUDONIEM = Pseudonimiseerder(PSEUDONIEMSLEUTEL).bsn(BSN)


def wissen(onderwerp: Any, **velden: Any) -> dict[str, Any]:
    return {
        "verzoek_id": "wis-1",
        "handeling": "wissen",
        "onderwerp": onderwerp,
        "reden": "AVG art. 17",
        **velden,
    }


def geschreven(o: Omgeving) -> list[Any]:
    """The commands on engine.verzoekopdrachten, decoded as the stage decodes them."""
    return [OPDRACHT_DECODER.decode(orjson.dumps(v)) for _, v in o.verzoekopdrachten.geschreven]


def geopend(opdracht: DienIn) -> str | None:
    """A filed request's subject, opened as the engine does with the key the command carries."""
    ring, sleutel_id = Sleutelring(HOOFDSLEUTEL), verzegeling.verzoek_sleutel_id(opdracht.verzoek_id)
    ring.herstel(sleutel_id, opdracht.sleutel)
    return verzegeling.open_tekst(ring, sleutel_id, opdracht.onderwerp)


async def test_an_erasure_is_filed_with_the_bsns_pseudonym_by_the_authenticated_principal() -> None:
    async with omgeving() as o:
        r = await o.post(PAD, "ops:anna", wissen({"type": "persoon", "bsn": BSN}, geldig_uren=5))
        assert r.status == 202 and r.headers["Location"] == f"{PAD}/wis-1"
        body = await r.json()
        assert body == {
            "verzoek_id": "wis-1",
            "opdracht": "dien_in",
            "door": "ops:anna",
            "verzoek": f"{PAD}/wis-1",
        }
        [bericht] = geschreven(o)
        assert bericht.door == "ops:anna"
        assert geopend(bericht.opdracht) == f"persoon:{PSEUDONIEM}", "sealed at the door, opened with its key"
        assert msgspec.structs.replace(bericht.opdracht, onderwerp="", sleutel=None) == DienIn(
            verzoek_id="wis-1", handeling="wissen", onderwerp="", reden="AVG art. 17", geldig=timedelta(hours=5),
        )  # fmt: skip
        assert o.verzoekopdrachten.geschreven[0][0] == "wis-1", "keyed by the request"
        [record] = o.audit.records
        assert record.name == "verzoek wis-1 dien_in" and record.attributes["dpl.riec.actor"] == "ops:anna"
        alles = orjson.dumps([o.verzoekopdrachten.geschreven, o.audit.attributen()]) + await r.read()
        assert BSN.encode() not in alles
        assert PSEUDONIEM.encode() not in alles, (
            "the subject is in the clear on no topic (sealed at the door)"
        )


@pytest.mark.parametrize(
    ("onderwerp", "identificator"),
    [
        ({"type": "rechtspersoon", "kvk": "12345678"}, "kvk:12345678"),
        ({"type": "voertuig", "kenteken": "ab-12-cd"}, "kenteken:AB12CD"),
        ({"type": "adres", "postcode": "3011 ab", "huisnummer": "12 a"}, "adres:3011AB12A"),
    ],
)
async def test_other_subjects_become_the_engines_identifiers(
    onderwerp: dict[str, str], identificator: str
) -> None:
    async with omgeving() as o:
        assert (await o.post(PAD, "liec:cor", wissen(onderwerp))).status == 202
        [bericht] = geschreven(o)
        assert geopend(bericht.opdracht) == identificator
        assert identificator.split(":", 1)[1].encode() not in orjson.dumps(o.verzoekopdrachten.geschreven)


async def test_a_second_principal_approves_or_turns_down() -> None:
    async with omgeving() as o:
        r = await o.post(f"{PAD}/wis-1/goedkeuring", "ops:bert", {})
        assert r.status == 202 and (await r.json())["opdracht"] == "keur_goed"
        r = await o.post(f"{PAD}/wis-2/afwijzing", "liec:cor", {"reden": "geen grond"})
        assert r.status == 202 and r.headers["Location"] == f"{PAD}/wis-2"
        assert [(b.door, b.opdracht) for b in geschreven(o)] == [
            ("ops:bert", KeurGoed(verzoek_id="wis-1")),
            ("liec:cor", WijsAf(verzoek_id="wis-2", reden="geen grond")),
        ]
        assert [a["dpl.riec.actor"] for a in o.audit.attributen()] == ["ops:bert", "liec:cor"]


@pytest.mark.parametrize(
    ("pad", "principal", "body", "status", "fout"),
    [
        (PAD, None, wissen({"type": "persoon", "bsn": BSN}), 401, "a valid bearer token is required"),
        (PAD, "ops", wissen({"type": "persoon", "bsn": BSN}), 403, "ops is shared: only a named principal"),
        (PAD, "liec", wissen({"type": "persoon", "bsn": BSN}), 403, "liec is shared"),
        (PAD, "riec:rotterdam", wissen({"type": "persoon", "bsn": BSN}), 403, "may not read this"),
        (PAD + "/wis-1/goedkeuring", "ops", {}, 403, "ops is shared"),
        (PAD, "liec:cor", {**wissen("inbox"), "handeling": "sleutel_vernietigen"}, 403,
         "liec:cor may not ask to sleutel_vernietigen: only a named principal of ops"),
        (PAD, "ops:anna", {**wissen("x"), "handeling": "verbranden"}, 400,
         "unknown handeling; one of: wissen, sleutel_vernietigen, projectie_herbouwen, bewaartermijn_wijzigen"),
        (PAD, "ops:anna", wissen({"type": "persoon", "bsn": "111222334"}), 400,
         "onderwerp refused (elfproef): bsn fails the elfproef"),
        (PAD, "ops:anna", wissen({"type": "adres", "postcode": "1000AA", "huisnummer": "1"}), 400,
         "onderwerp refused (unknown_postcode)"),
        (PAD, "ops:anna", wissen({"type": "persoon", "bsn": "12"}), 400, "onderwerp must be a subject"),
        (PAD, "ops:anna", wissen("persoon:abc"), 400, "onderwerp must be a subject"),
        (PAD, "ops:anna", {**wissen("a b"), "handeling": "projectie_herbouwen"}, 400, "onderwerp must be 1 to 200"),
        (PAD, "ops:anna", {**wissen(f"signaal:{BSN}"), "handeling": "sleutel_vernietigen"}, 400,
         "onderwerp must not hold a BSN"),
        (PAD, "ops:anna", wissen({"type": "rechtspersoon", "kvk": "12345678"}, reden=f"betrokkene {BSN}"), 400,
         "reden must not hold a BSN"),
        (PAD, "ops:anna", wissen({"type": "rechtspersoon", "kvk": "12345678"}, verzoek_id="Wis 1"), 400,
         "the body does not fit"),
        (PAD, "ops:anna", wissen({"type": "rechtspersoon", "kvk": "12345678"}, verzoek_id=f"w-{BSN}"), 400,
         "verzoek_id must not hold a BSN"),
        (PAD, "ops:anna", wissen({"type": "rechtspersoon", "kvk": "12345678"}, geldig_uren=169), 400,
         "the body does not fit"),
        (PAD, "ops:anna", wissen({"type": "rechtspersoon", "kvk": "12345678"}, extra=1), 400, "the body does not fit"),
        (PAD + "/wis-1/afwijzing", "ops:bert", {}, 400, "the body does not fit"),
        (PAD + f"/w{BSN}/goedkeuring", "ops:bert", {}, 400, "verzoek_id must not hold a BSN"),
        (PAD + "/W!/goedkeuring", "ops:bert", {}, 400, "verzoek_id must be 1 to 64 characters"),
    ],
)  # fmt: skip
async def test_a_refused_command_is_neither_written_nor_audited_and_repeats_no_bsn(
    pad: str, principal: str | None, body: dict[str, Any], status: int, fout: str
) -> None:
    async with omgeving() as o:
        r = await o.post(pad, principal, body)
        antwoord = await r.read()
        assert r.status == status and fout in orjson.loads(antwoord)["fout"], antwoord
        assert b"111222" not in antwoord
        assert o.verzoekopdrachten.geschreven == [] and o.audit.records == []


async def test_a_command_the_broker_or_the_audit_log_did_not_take_is_503() -> None:
    async with omgeving() as o:
        o.verzoekopdrachten.kapot = True
        assert (await o.post(f"{PAD}/wis-1/goedkeuring", "ops:bert", {})).status == 503
        o.verzoekopdrachten.kapot, o.audit.kapot = False, True
        assert (await o.post(f"{PAD}/wis-1/goedkeuring", "ops:bert", {})).status == 503
        assert o.verzoekopdrachten.geschreven == [], "what cannot be accounted for is not done"


async def test_the_requests_show_status_and_refusals_but_never_their_subject() -> None:
    async with omgeving() as o:
        ingediend = VerzoekIngediend(
            verzoek_id="wis-1", door="ops:anna", op=T0, handeling="wissen", onderwerp=f"persoon:{PSEUDONIEM}",
            reden="AVG art. 17", verloopt_op=T0 + timedelta(hours=72),
        )  # fmt: skip
        geweigerd = OpdrachtGeweigerd(
            verzoek_id="wis-1", door="ops:anna", op=T0, opdracht="keur_goed", code="four_eyes",
            reden="request wis-1 needs a second principal: ops:anna filed it",
        )  # fmt: skip
        for g in (ingediend, geweigerd):
            o.staat.pas_toe(VERZOEKEN, VERZOEK_ENCODER.encode(g))
        r = await o.get(f"{PAD}/wis-1", "ops")
        v = await r.json()
        assert r.status == 200 and v["status"] == "open" and v["aanvrager"] == "ops:anna"
        assert v["handeling"] == "wissen" and v["heeft_onderwerp"] is True and "onderwerp" not in v
        assert [(w["opdracht"], w["code"]) for w in v["weigeringen"]] == [("keur_goed", "four_eyes")]
        lijst = await (await o.get(PAD + "?status=open", "liec")).json()
        assert [i["verzoek_id"] for i in lijst["items"]] == ["wis-1"] and lijst["totaal"] == 1
        assert (await (await o.get(PAD + "?status=verlopen", "ops:bert")).json())["items"] == []
        for antwoord in (await (await o.get(f"{PAD}/wis-1", "ops")).read(), orjson.dumps(lijst)):
            assert PSEUDONIEM.encode() not in antwoord
        assert (await o.get(f"{PAD}/wis-9", "ops")).status == 404
        assert (await o.get(PAD + "?status=weg", "ops")).status == 400
        assert (await o.get(PAD, "riec:rotterdam")).status == 403
        assert o.audit.records == [], "no subject shown: not a read of personal data"
