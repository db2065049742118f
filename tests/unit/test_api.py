"""Given read models in memory, a fake audit log and a principal's bearer token, when the principal
GETs a page of the dashboard API, then it gets this status and body, and the audit log this record:
before the answer, for every read of personal data, and nothing for a refusal."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from engine.api.dashboard import DASHBOARD_CSP
from engine.api.toegang import Tokens
from tests.unit.dashboard_api import PERSOON, T0, gevulde_staat, omgeving

INBOX = "/api/v1/riec/rotterdam/inbox"
SIGNAAL = "/api/v1/riec/rotterdam/signalen/politie:s2"


async def test_a_riec_reads_its_inbox_newest_first_and_the_read_is_audited() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.get(INBOX, "riec:rotterdam")
        body = await r.json()
        assert r.status == 200 and r.headers["ETag"].startswith('W/"riec.rotterdam-')
        assert [i["signaal_id"] for i in body["items"]] == ["politie:s2", "politie:s1"]
        assert body["items"][1]["behandeling"] == [{"casus_id": "R-1", "status": "gekoppeld"}]
        assert body["volgende"] is None and body["totaal"] == 2
        assert body["tellingen"] == {"totaal": 2, "handhavingsknelpunt": 0, "open_casus": 1, "behandeld": 1}
        [record] = o.audit.records
        assert record.name == "inbox riec.rotterdam lezen"
        assert (record.start_time, record.end_time) == (T0 + timedelta(seconds=1), T0 + timedelta(seconds=2))
        assert record.attributes["dpl.riec.actor"] == "riec:rotterdam"
        assert record.attributes["dpl.riec.resource"] == INBOX
        assert record.attributes["dpl.riec.signaal_ids"] == ["politie:s2", "politie:s1"]
        assert "dpl.core.data_subject_id" not in record.attributes, "ids only: no pseudonym in the audit log"
        assert PERSOON not in str(record)
        assert record.attributes["dpl.core.processing_activity_id"].endswith("signalen-inzien")


async def test_an_unchanged_page_is_304_and_not_read_again() -> None:
    async with omgeving(gevulde_staat()) as o:
        etag = (await o.get(INBOX, "riec:rotterdam")).headers["ETag"]
        r = await o.get(INBOX, "riec:rotterdam", **{"If-None-Match": etag})
        assert r.status == 304 and await r.read() == b"" and r.headers["ETag"] == etag
        assert len(o.audit.records) == 1, "a 304 shows nothing: no audit record"
        andere_vraag = await o.get(INBOX + "?limit=1", "riec:rotterdam", **{"If-None-Match": etag})
        assert andere_vraag.status == 200, "the ETag covers the query"


async def test_pages_follow_the_cursor_and_filters_apply() -> None:
    async with omgeving(gevulde_staat()) as o:
        eerste = await (await o.get(INBOX + "?limit=1", "riec:rotterdam")).json()
        assert [i["signaal_id"] for i in eerste["items"]] == ["politie:s2"] and eerste["totaal"] == 2
        r = await o.get(INBOX + f"?limit=1&voor={eerste['volgende']}", "riec:rotterdam")
        assert [i["signaal_id"] for i in (await r.json())["items"]] == ["politie:s1"]
        gefilterd = await (await o.get(INBOX + "?behandeld=ja", "riec:rotterdam")).json()
        assert [i["signaal_id"] for i in gefilterd["items"]] == ["politie:s1"]


@pytest.mark.parametrize(
    ("pad", "principal", "status", "fout"),
    [
        (INBOX, None, 401, "a valid bearer token is required (Authorization: Bearer <token>)"),
        (INBOX, "riec:limburg", 403, "riec:limburg may not read this (need-to-know)"),
        (INBOX, "liec", 403, "liec may not read this (need-to-know)"),
        ("/api/v1/riec/nergens/inbox", "riec:rotterdam", 404, "unknown RIEC; one of: "),
        ("/api/v1/lft/nergens/inbox", "lft:omg", 404, "unknown LFT; one of: omg, vastgoed, logistiek"),
        ("/api/v1/lft/omg/inbox", "riec:rotterdam", 403, "riec:rotterdam may not read this (need-to-know)"),
        (INBOX + "?limit=²", "riec:rotterdam", 400, "limit must be a whole number of at most 6 digits 0-9"),
        (INBOX + "?limit=²", None, 401, "a valid bearer token is required"),  # the token first
        (INBOX + "?voor=-1", "riec:rotterdam", 400, "voor (a cursor from a previous page) must be"),
        (INBOX + "?thema=fraude", "riec:rotterdam", 400, "thema must be mensenhandel, drugs"),
        ("/api/v1/riec/rotterdam/casussen", "lft:omg", 403, "lft:omg may not read this"),
        ("/api/v1/riec/nergens/casussen", None, 404, "unknown RIEC; one of: "),  # the path first
        ("/api/v1/riec/rotterdam/casussen/R-9", "riec:rotterdam", 404, "RIEC rotterdam has no casus 'R-9'"),
        ("/api/v1/riec/limburg/casussen/R-1", "riec:limburg", 404, "RIEC limburg has no casus 'R-1'"),
        ("/api/v1/riec/rotterdam/casussen/R%20x", "riec:rotterdam", 400, "casus_id must be 1 to 100 characters"),
        ("/api/v1/riec/rotterdam/weken", "riec:limburg", 403, "riec:limburg may not read this"),
        ("/api/v1/riec/rotterdam/jaarverslag/2026", "riec:limburg", 403, "riec:limburg may not read this"),
        ("/api/v1/riec/rotterdam/jaarverslag/1999", "riec:rotterdam", 400, "jaar must be a whole number from 2000"),
        ("/api/v1/jaarverslag/2026", "riec:rotterdam", 403, "riec:rotterdam may not read this"),
        ("/api/v1/jaarverslag/2026?formaat=pdf", "liec", 400, "formaat must be json, csv or html"),
        ("/api/v1/ops/projecties", "liec", 403, "liec may not read this"),
        ("/metrics", "riec:rotterdam", 403, "riec:rotterdam may not read this"),
        ("/metrics", None, 401, "a valid bearer token is required"),
        # the analyst's reads (engine.api.analist)
        (SIGNAAL, None, 401, "a valid bearer token is required"),
        (SIGNAAL, "riec:limburg", 403, "riec:limburg may not read this (need-to-know)"),
        ("/api/v1/riec/limburg/signalen/politie:s2", "riec:limburg", 404,
         "this signal is not in the inbox of riec.limburg (need-to-know)"),
        ("/api/v1/riec/nergens/signalen/politie:s2", "riec:rotterdam", 404, "unknown RIEC; one of: "),
        ("/api/v1/lft/nergens/signalen/om:s3", "lft:omg", 404, "unknown LFT; one of: "),
        ("/api/v1/lft/omg/signalen/om:s3", "riec:rotterdam", 403, "riec:rotterdam may not read this"),
        ("/api/v1/riec/rotterdam/signalen/GEEN-ID", "riec:rotterdam", 400, "signaal_id must be <org>:<ce_id>"),
        ("/api/v1/riec/rotterdam/opdrachten/uitkomst/open", "riec:limburg", 403, "riec:limburg may not read this"),
        ("/api/v1/riec/nergens/opdrachten/uitkomst/open", "riec:rotterdam", 404, "unknown RIEC; one of: "),
    ],
)  # fmt: skip
async def test_a_refusal_has_its_status_and_reason_and_is_not_audited(
    pad: str, principal: str | None, status: int, fout: str
) -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.get(pad, principal)
        assert r.status == status and r.content_type == "application/json"
        assert (await r.json())["fout"].startswith(fout)
        assert o.audit.records == []


async def test_a_token_nobody_holds_is_401() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.client.get(INBOX, headers={"Authorization": "Bearer " + "x" * 40})
        assert r.status == 401
        r = await o.client.get(INBOX, headers={"Authorization": "Basic cm90dGVyZGFtOmdlaGVpbQ=="})
        assert r.status == 401


async def test_an_lft_and_the_liec_read_the_lft_inbox() -> None:
    async with omgeving(gevulde_staat()) as o:
        for principal in ("lft:omg", "liec"):
            r = await o.get("/api/v1/lft/omg/inbox", principal)
            assert r.status == 200 and [i["signaal_id"] for i in (await r.json())["items"]] == ["om:s3"]
        assert [r.attributes["dpl.riec.actor"] for r in o.audit.records] == ["lft:omg", "liec"]


async def test_a_riec_reads_its_casussen_and_a_casus_and_both_are_audited() -> None:
    async with omgeving(gevulde_staat()) as o:
        lijst = await o.get("/api/v1/riec/rotterdam/casussen", "riec:rotterdam")
        assert lijst.status == 200
        body = await lijst.json()
        assert body["totaal"] == 1 and body["items"][0]["casus_id"] == "R-1"
        detail = await o.get("/api/v1/riec/rotterdam/casussen/R-1", "riec:rotterdam")
        casus = await detail.json()
        assert detail.status == 200 and casus["casus_id"] == "R-1" and casus["signaal_ids"] == ["politie:s1"]
        assert [r.name for r in o.audit.records] == ["casussen rotterdam inzien", "casus R-1 inzien"]
        assert [r.attributes["dpl.riec.casus_ids"] for r in o.audit.records] == [["R-1"], ["R-1"]]
        assert o.audit.records[1].attributes["dpl.riec.signaal_ids"] == ["politie:s1"]
        assert "dpl.core.data_subject_id" not in o.audit.records[0].attributes
        assert o.audit.records[0].attributes["dpl.core.processing_activity_id"].endswith("casus-inzien")


async def test_the_callers_trace_is_the_audit_records_trace() -> None:
    trace, span = "a" * 32, "b" * 16
    async with omgeving(gevulde_staat()) as o:
        r = await o.get(
            "/api/v1/riec/rotterdam/casussen", "riec:rotterdam", traceparent=f"00-{trace}-{span}-01"
        )
        assert r.status == 200
        assert (o.audit.records[0].trace_id, o.audit.records[0].parent_span_id) == (trace, span)


@pytest.mark.parametrize(
    "pad",
    [INBOX, "/api/v1/riec/rotterdam/casussen", "/api/v1/riec/rotterdam/casussen/R-1"],
)
async def test_a_read_that_cannot_be_audited_is_not_answered(pad: str) -> None:
    async with omgeving(gevulde_staat()) as o:
        o.audit.kapot = True
        r = await o.get(pad, "riec:rotterdam")
        body = await r.read()
        assert r.status == 503 and b"politie:s1" not in body and b"R-1" not in body
        assert orjson.loads(body) == {
            "fout": "the request could not be recorded in the audit log; try again later",
            "melding": "De engine kan dit nu niet verwerken. Probeer het over een ogenblik opnieuw.",
        }


async def test_counts_per_week_and_annual_tables_are_not_audited() -> None:
    async with omgeving(gevulde_staat()) as o:
        weken = await o.get("/api/v1/riec/rotterdam/weken", "riec:rotterdam")
        assert weken.status == 200 and await weken.json() == {"per_week": {"2026-W18": 2}}
        for principal in ("riec:rotterdam", "liec"):
            r = await o.get("/api/v1/riec/rotterdam/jaarverslag/2026", principal)
            body = await r.json()
            assert r.status == 200 and (body["jaar"], body["eenheid"]) == (2026, "rotterdam")
            assert body["tabel1"]["casussen"] == 1 and set(body["tabel2"]) >= {"opgelegd_eurocent"}
        assert o.audit.records == []


async def test_the_liec_gets_the_national_tables_as_json_csv_and_html() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.get("/api/v1/jaarverslag/2026", "liec")
        body = await r.json()
        assert r.status == 200 and body["jaar"] == 2026 and body["tabel1"]["totaal"]["casussen"] == 1
        csv = await o.get("/api/v1/jaarverslag/2026?formaat=csv", "liec")
        assert csv.status == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert "rotterdam" in await csv.text()
        html = await o.get("/api/v1/jaarverslag/2026?formaat=html", "liec")
        assert html.status == 200 and html.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<table" in await html.text()


async def test_ops_reads_the_projections_hashes_and_positions() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.get("/api/v1/ops/projecties", "ops")
        body = await r.json()
        assert r.status == 200 and body["posities"] == {"routes.riec.rotterdam:0": 3}
        assert set(body["hashes"]) == {
            "inbox",
            "casussen",
            "jaarverslag",
            "overgeslagen",
            "behandeld",
            "verzoeken",
        }
        assert body["overgeslagen"] == {"aantal": 0, "records": []}


async def test_metrics_for_ops_or_for_anyone_when_no_tokens_are_configured() -> None:
    async with omgeving(gevulde_staat()) as o:
        r = await o.get("/metrics", "ops")
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=")
        assert "eindpunten_test_total 1.0" in await r.text()
    async with omgeving(gevulde_staat(), tokens=Tokens()) as o:
        assert (await o.get("/metrics")).status == 200
        assert (await o.get(INBOX)).status == 401, "without tokens the API itself stays closed"


async def test_the_dashboard_and_its_files_are_served_without_a_token() -> None:
    async with omgeving() as o:
        r = await o.get("/dashboard")
        assert r.status == 200 and r.headers["Content-Security-Policy"] == DASHBOARD_CSP
        assert r.headers["Content-Type"] == "text/html; charset=utf-8" and b"<html" in await r.read()
        for pad, soort in (("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css")):
            r = await o.get(pad)
            assert r.status == 200 and r.headers["Content-Type"] == f"{soort}; charset=utf-8"
            assert r.headers["Cache-Control"] == "no-cache"
        head = await o.client.head("/dashboard")
        assert head.status == 200


async def test_a_method_a_page_does_not_have_is_405() -> None:
    async with omgeving(gevulde_staat()) as o:
        assert (await o.post(INBOX, "riec:rotterdam", {})).status == 405
        assert (await o.get("/api/v1/riec/rotterdam/opdrachten/koppelen", "riec:rotterdam")).status == 405
        assert o.audit.records == []
