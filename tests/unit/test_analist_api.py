"""Given read models in memory, a fake audit log, a fake command topic and an analyst's bearer token,
when the analyst reads a signal or gives a command on the dashboard, then this status and body, this
audit record and this command written: nothing written or shown for a refusal, no command that
cannot be accounted for, and never an id a client made up echoed back."""

from __future__ import annotations

import io

import orjson
import pytest

from engine.api.analist import ce_id_van
from engine.topics import DLQ
from tests.fixtures import VALID_BSN
from tests.unit.dashboard_api import gevulde_staat, omgeving

SIGNAAL = "/api/v1/riec/rotterdam/signalen/politie:s2"
KOPPELEN = "/api/v1/riec/rotterdam/opdrachten/koppelen"
KOPPELING = {"casus_id": "R-1", "signaal_id": "politie:s2"}
KOPPELEN_V1 = "nl.riec.casus.signaal_koppelen.v1"


async def test_a_riec_reads_a_signal_with_its_handling_and_casussen_and_it_is_audited() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.get("/api/v1/riec/rotterdam/signalen/politie:s1", "riec:rotterdam")
        bericht = await r.json()
        assert r.status == 200 and bericht["signaal_id"] == "politie:s1"
        assert bericht["behandeling"] == [{"casus_id": "R-1", "status": "gekoppeld"}]
        assert [c["casus_id"] for c in bericht["casussen"]] == ["R-1"]
        [record] = o.audit.records
        assert record.name == "signaal politie:s1 inzien"
        assert record.attributes["dpl.riec.signaal_ids"] == ["politie:s1"]
        assert record.attributes["dpl.riec.casus_ids"] == ["R-1"]
        assert "dpl.core.data_subject_id" not in record.attributes, "ids only: no pseudonym"


async def test_a_candidate_signal_names_the_casus_of_its_reason_in_the_audit_record() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.get(SIGNAAL, "riec:rotterdam")
        assert r.status == 200 and (await r.json())["casussen"] == []
        assert o.audit.records[0].attributes["dpl.riec.casus_ids"] == ["R-1"], "from its open_casus reason"


async def test_an_lft_reads_a_signal_of_its_own_inbox_without_casussen() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.get("/api/v1/lft/omg/signalen/om:s3", "lft:omg")
        assert r.status == 200 and (await r.json())["casussen"] == []
        assert o.audit.records[0].attributes["dpl.riec.actor"] == "lft:omg"


async def test_a_command_is_audited_then_written_and_answered_202_with_its_outcome() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.post(KOPPELEN, "riec:rotterdam", KOPPELING)
        body = await r.json()
        ce_id = ce_id_van("rotterdam", KOPPELEN_V1, orjson.dumps(KOPPELING))
        uitkomst = f"/api/v1/riec/rotterdam/opdrachten/uitkomst/{ce_id}"
        assert r.status == 202 and r.headers["Location"] == uitkomst
        assert body == {"opdracht_id": f"rotterdam:{ce_id}", "ce_id": ce_id, "ce_type": KOPPELEN_V1,
                        "uitkomst": uitkomst, "status": "wachtend"}  # fmt: skip
        assert o.opdrachten.geschreven == [
            {"riec": "rotterdam", "ce_id": ce_id, "ce_type": KOPPELEN_V1, "payload": KOPPELING,
             "auteur": "riec:rotterdam", "key": "R-1"}
        ]  # fmt: skip
        [record] = o.audit.records
        assert record.name == f"opdracht {KOPPELEN_V1} rotterdam:{ce_id} geven"
        assert record.attributes["dpl.core.processing_activity_id"].endswith("casus-behandelen")
        assert record.attributes["dpl.riec.signaal_ids"] == ["politie:s2"]
        assert record.attributes["dpl.riec.casus_ids"] == ["R-1"]
        assert (await (await o.get(uitkomst, "riec:rotterdam")).json())["status"] == "wachtend"


async def test_a_double_click_is_one_command_id_and_an_idempotency_key_names_it() -> None:
    async with omgeving(gevulde_staat()) as o:
        a = await (await o.post(KOPPELEN, "riec:rotterdam", KOPPELING)).json()
        b = await (await o.post(KOPPELEN, "riec:rotterdam", KOPPELING)).json()
        assert a["ce_id"] == b["ce_id"], "the engine applies <riec>:<ce_id> once"
        sleutel = {"Idempotency-Key": "klik-1"}
        c = await (await o.post(KOPPELEN, "riec:rotterdam", KOPPELING, **sleutel)).json()
        d = await (
            await o.post(KOPPELEN, "riec:rotterdam", {**KOPPELING, "casus_id": "R-2"}, **sleutel)
        ).json()
        assert c["ce_id"] == d["ce_id"] == ce_id_van("rotterdam", KOPPELEN_V1, b"klik-1") != a["ce_id"]


async def test_a_command_without_a_casus_is_keyed_by_its_id_and_an_outcome_already_known_is_shown() -> None:
    async with omgeving(gevulde_staat()) as o:
        payload = {"casus_id": "R-1", "reden": "afgerond"}
        ce_id = ce_id_van("rotterdam", "nl.riec.casus.afsluiten.v1", orjson.dumps(payload))
        o.staat.verwerk(DLQ, 0, 0, b"", [("ce_id", ce_id.encode()), ("source_topic", b"riec.rotterdam.opdrachten"),
                                         ("reason_code", b"not_owner"), ("reason", b"not yours")])  # fmt: skip
        r = await o.post("/api/v1/riec/rotterdam/opdrachten/afsluiten", "riec:rotterdam", payload)
        body = await r.json()
        assert r.status == 202 and (body["status"], body["code"]) == ("geweigerd", "not_owner")
        uitkomst = await o.get("/api/v1/riec/rotterdam/opdrachten/uitkomst/open", "riec:rotterdam")
        assert (await uitkomst.json())["status"] == "toegepast", "opened by command rotterdam:open"
        assert o.audit.records[0].attributes["dpl.riec.signaal_ids"] == []


@pytest.mark.parametrize(
    ("pad", "principal", "body", "status", "fout"),
    [
        (KOPPELEN, None, KOPPELING, 401, "a valid bearer token is required"),
        (KOPPELEN, "riec:limburg", KOPPELING, 403, "riec:limburg may not read this (need-to-know)"),
        (KOPPELEN, "liec", KOPPELING, 403, "liec may not read this"),
        ("/api/v1/riec/limburg/opdrachten/koppelen", "riec:limburg", KOPPELING, 404,
         "a signal of this command is not in the inbox of RIEC limburg"),
        (KOPPELEN, "riec:rotterdam", {"casus_id": "R-1", "signaal_id": "politie:s9"}, 404,
         "a signal of this command is not in the inbox of RIEC rotterdam"),
        ("/api/v1/riec/rotterdam/opdrachten/openen", "riec:rotterdam",
         {"casus_id": "R-2", "naam": "n", "bron": "inbreng", "signalen": ["om:s3"], "themas": ["drugs"]}, 404,
         "a signal of this command is not in the inbox of RIEC rotterdam"),  # om:s3 is LFT omg's
        ("/api/v1/riec/rotterdam/opdrachten/springen", "riec:rotterdam", {}, 404, "unknown action; one of: koppelen"),
        ("/api/v1/riec/nergens/opdrachten/koppelen", "riec:rotterdam", KOPPELING, 404, "unknown RIEC; one of: "),
        (KOPPELEN, "riec:rotterdam", b"{nee", 400, f"the body is not a {KOPPELEN_V1} payload: "),
        (KOPPELEN, "riec:rotterdam", {"casus_id": "R-1"}, 400, f"the body is not a {KOPPELEN_V1} payload: "),
        (KOPPELEN, "riec:rotterdam", {"casus_id": "R-1", "signaal_id": int(VALID_BSN)}, 400, "the body is not a"),
    ],
)  # fmt: skip
async def test_a_refused_command_is_neither_written_nor_audited(
    pad: str, principal: str | None, body: object, status: int, fout: str
) -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.post(pad, principal, body)
        tekst = await r.text()
        assert r.status == status and orjson.loads(tekst)["fout"].startswith(fout)
        assert "politie:s9" not in tekst and VALID_BSN not in tekst, "nothing the client made up comes back"
        assert o.opdrachten.geschreven == [] and o.audit.records == []


async def test_a_body_over_a_mebibyte_is_413_and_an_odd_idempotency_key_400() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.post(KOPPELEN, "riec:rotterdam", io.BytesIO(b"{" + b" " * (1024 * 1024) + b"}"))
        assert r.status == 413
        r = await o.post(KOPPELEN, "riec:rotterdam", KOPPELING, **{"Idempotency-Key": "k" * 101})
        assert (
            r.status == 400 and "Idempotency-Key must be 1 to 100 printable ASCII" in (await r.json())["fout"]
        )
        assert o.opdrachten.geschreven == [] and o.audit.records == []


async def test_a_command_that_cannot_be_audited_is_not_written() -> None:
    async with omgeving(gevulde_staat()) as o:
        o.audit.kapot = True
        r = await o.post(KOPPELEN, "riec:rotterdam", KOPPELING)
        assert r.status == 503 and "audit log" in (await r.json())["fout"]
        assert o.opdrachten.geschreven == []


async def test_a_command_the_broker_did_not_take_is_503_to_retry_with_the_same_id() -> None:
    async with omgeving(gevulde_staat()) as o:
        o.opdrachten.kapot = True
        r = await o.post(KOPPELEN, "riec:rotterdam", KOPPELING)
        assert r.status == 503 and await r.json() == {
            "fout": "the command could not be written to the broker; try again (same id)",
            "melding": "De engine kan dit nu niet verwerken. Probeer het over een ogenblik opnieuw.",
        }
        assert len(o.audit.records) == 1, "audited before it was tried"
