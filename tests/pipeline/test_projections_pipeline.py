"""Given signals and commands published through the contract, when dashboards read the API, then
the annual tables follow the counting rules cell by cell, need-to-know holds, reads are audited,
and a replay from offset 0 equals the live projections."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.projections.jaarverslag import EENHEDEN
from tests.fixtures import VALID_BSN, payload
from tests.pipeline.casus_helpers import opdracht, routes, uniek
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import publish, read_until

pytestmark = pytest.mark.pipeline
JAAR = 2019  # a year no other test writes in, so this one owns every cell of it
UNITS = list(EENHEDEN)


def leeg() -> dict[str, Any]:
    return {
        "ondermijningsbeelden": 0, "casussen": 0, "casussen_uit_ondermijningsbeeld": 0,
        "ingebracht": {"gemeenten": 0, "om": 0, "politie": 0, "belastingdienst": 0, "overige": 0},
        "themas": {"mensenhandel": 0, "drugs": 0, "witwassen": 0, "vastgoed": 0, "omg": 0, "regionaal": 0},
        "interventieadviezen": 0,
        "adviezen": {"bestuurlijk": 0, "bibob": 0, "strafrechtelijk": 0, "fiscaal": 0, "overig": 0},
    }  # fmt: skip


async def test_a_year_published_through_the_contract_comes_back_exactly(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    t = lambda md: f"{JAAR}-{md}T10:00:00+01:00"  # noqa: E731
    s1, s2, s3, s4 = uniek("jv"), uniek("jv"), uniek("jv"), uniek("jv")

    # No identifiers: linking these signals must not put ones other tests use into the index.
    # Each is located in the region of the RIEC that brings it in or links it: a RIEC may link only
    # signals routed to it (the need-to-know tests show the refusal of any other).
    def kaal(*themas: str, gemeente: str = "GM0363") -> dict[str, Any]:
        return payload(themas=list(themas), subjecten=[], locatie={"gemeente": gemeente})

    await publish(producer, "gm0363", kaal("witwassen"), ce_id=s1, ce_time=t("01-05"))
    await publish(
        producer, "politie", kaal("drugs", "regionaal:vakantieparken"), ce_id=s2, ce_time=t("01-06")
    )
    await publish(producer, "fiod", kaal("mensenhandel", gemeente="GM0599"), ce_id=s3, ce_time=t("01-07"))
    await publish(
        producer,
        "politie",
        kaal("drugs", "regionaal:vakantieparken", gemeente="GM0758"),
        ce_id=s4,
        ce_time=t("01-06"),
    )
    a, r, b = uniek("AA"), uniek("R"), uniek("ZWB")
    # Amsterdam: inbreng by a gemeente and the politie; themes of the casus and its signals.
    await opdracht(producer, "amsterdam-amstelland", "casus.openen", {"casus_id": a, "naam": "n", "bron": "inbreng",
        "signalen": [f"gm0363:{s1}", f"politie:{s2}"], "themas": ["vastgoed", "regionaal:havens"]}, ce_time=t("02-01"))  # fmt: skip
    await opdracht(producer, "amsterdam-amstelland", "casus.interventieadvies", {"casus_id": a, "advies_id": "A1",
        "soorten": ["bibob", "fiscaal"], "uitvoerder": "gm0363", "coordinator": "RIEC"}, ce_time=t("03-01"))  # fmt: skip
    await opdracht(producer, "amsterdam-amstelland", "casus.afpakken", {"casus_id": a, "soort": "geind",
        "domein": "fiscaal", "bedrag_eurocent": 123_456}, ce_time=t("04-01"))  # fmt: skip
    # Rotterdam: from an ondermijningsbeeld; a linked signal adds its theme; two advices.
    await opdracht(producer, "rotterdam", "casus.openen", {"casus_id": r, "naam": "n", "bron": "ondermijningsbeeld",
        "themas": ["omg"]}, ce_time=t("02-02"))  # fmt: skip
    await opdracht(
        producer,
        "rotterdam",
        "casus.signaal_koppelen",
        {"casus_id": r, "signaal_id": f"fiod:{s3}"},
        ce_time=t("02-03"),
    )
    for advies, soorten in (("A1", ["strafrechtelijk"]), ("A2", ["bestuurlijk", "overig"])):
        await opdracht(producer, "rotterdam", "casus.interventieadvies", {"casus_id": r, "advies_id": advies,
            "soorten": soorten, "uitvoerder": "om", "coordinator": "RIEC"}, ce_time=t("05-01"))  # fmt: skip
    await opdracht(producer, "rotterdam", "casus.afpakken", {"casus_id": r, "soort": "beslag", "domein": "strafrechtelijk",
        "bedrag_eurocent": 5_000_000}, ce_time=t("06-01"))  # fmt: skip
    await opdracht(
        producer,
        "rotterdam",
        "ondermijningsbeeld.opleveren",
        {"beeld_id": uniek("OB"), "naam": "b"},
        ce_time=t("01-15"),
    )
    # Zeeland-West-Brabant counts under brabant-zeeland; opened the year before, closed in this one.
    await opdracht(producer, "zeeland-west-brabant", "casus.openen", {"casus_id": b, "naam": "n", "bron": "inbreng",
        "signalen": [f"politie:{s4}"], "themas": []}, ce_time=f"{JAAR - 1}-12-01T10:00:00+01:00")  # fmt: skip
    await opdracht(
        producer,
        "zeeland-west-brabant",
        "casus.afsluiten",
        {"casus_id": b, "reden": "klaar"},
        ce_time=t("07-01"),
    )

    expected1 = {u: leeg() for u in UNITS}
    aa = expected1["amsterdam-amstelland"]
    aa["casussen"] = 1
    aa["ingebracht"]["gemeenten"] = aa["ingebracht"]["politie"] = 1
    aa["themas"].update(vastgoed=1, regionaal=1, witwassen=1, drugs=1)
    aa["interventieadviezen"] = 1
    aa["adviezen"].update(bibob=1, fiscaal=1)
    rt = expected1["rotterdam"]
    rt.update(casussen=1, casussen_uit_ondermijningsbeeld=1, ondermijningsbeelden=1, interventieadviezen=2)
    rt["themas"].update(omg=1, mensenhandel=1)
    rt["adviezen"].update(strafrechtelijk=1, bestuurlijk=1, overig=1)
    bz = expected1["brabant-zeeland"]
    bz["casussen"] = 1
    bz["ingebracht"]["politie"] = 1
    bz["themas"].update(drugs=1, regionaal=1)
    totaal = leeg()
    totaal.update(
        casussen=3, casussen_uit_ondermijningsbeeld=1, ondermijningsbeelden=1, interventieadviezen=3
    )
    totaal["ingebracht"].update(gemeenten=1, politie=2)
    totaal["themas"].update(vastgoed=1, regionaal=2, witwassen=1, drugs=2, omg=1, mensenhandel=1)
    totaal["adviezen"].update(bibob=1, fiscaal=1, strafrechtelijk=1, bestuurlijk=1, overig=1)
    expected1["totaal"] = totaal
    expected2 = {
        u: {"opgelegd_eurocent": 0, "geind_eurocent": 0, "beslag_eurocent": 0} for u in [*UNITS, "totaal"]
    }
    expected2["amsterdam-amstelland"]["geind_eurocent"] = expected2["totaal"]["geind_eurocent"] = 123_456
    expected2["rotterdam"]["beslag_eurocent"] = expected2["totaal"]["beslag_eurocent"] = 5_000_000
    expected = {"jaar": JAAR, "tabel1": expected1, "tabel2": expected2}

    got = await worker.json_zodra(f"/api/v1/jaarverslag/{JAAR}", "liec", lambda d: d == expected)
    assert got is not None
    for unit in [*UNITS, "totaal"]:
        assert got["tabel1"][unit] == expected1[unit], unit
        assert got["tabel2"][unit] == expected2[unit], unit
    assert got == expected
    previous = await worker.json_zodra(
        f"/api/v1/jaarverslag/{JAAR - 1}",
        "liec",
        lambda d: d["tabel1"]["brabant-zeeland"]["casussen"] == 1,
    )
    assert previous["tabel1"]["brabant-zeeland"]["casussen"] == 1, "counted in every year it had an event"
    own = await worker.json_zodra(
        f"/api/v1/riec/oost-brabant/jaarverslag/{JAAR}", "riec:oost-brabant", lambda d: True
    )
    assert own == {
        "jaar": JAAR,
        "eenheid": "brabant-zeeland",
        "tabel1": expected1["brabant-zeeland"],
        "tabel2": expected2["brabant-zeeland"],
    }
    status, headers, body = worker.request(f"/api/v1/jaarverslag/{JAAR}?formaat=csv", "liec")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "1,2 Totaal aantal behandelde RIEC-casussen,1,0,0,0,0,0,1,0,1,3" in body.decode()
    status, _, body = worker.request(f"/api/v1/jaarverslag/{JAAR}?formaat=html", "liec")
    assert (
        status == 200
        and "<td>€ 50.000,00</td>" in body.decode()
        and "Taskforce-RIEC Brabant-Zeeland" in body.decode()
    )


@pytest.mark.parametrize(
    ("path", "principal", "status"),
    [
        ("/api/v1/riec/rotterdam/inbox", None, 401),
        ("/api/v1/riec/rotterdam/inbox", "riec:den-haag", 403),
        ("/api/v1/riec/rotterdam/inbox", "liec", 403),
        ("/api/v1/riec/rotterdam/inbox", "riec:rotterdam", 200),
        ("/api/v1/riec/rotterdam/casussen", "riec:limburg", 403),
        ("/api/v1/riec/rotterdam/casussen", "riec:rotterdam", 200),
        ("/api/v1/riec/rotterdam/jaarverslag/2026", "riec:den-haag", 403),
        ("/api/v1/riec/rotterdam/jaarverslag/2026", "liec", 200),
        ("/api/v1/jaarverslag/2026", "riec:rotterdam", 403),
        ("/api/v1/jaarverslag/2026", "liec", 200),
        ("/api/v1/lft/omg/inbox", "lft:vastgoed", 403),
        ("/api/v1/lft/omg/inbox", "lft:omg", 200),
        ("/api/v1/lft/omg/inbox", "liec", 200),
        ("/metrics", "riec:rotterdam", 403),
        ("/metrics", None, 401),
        ("/metrics", "ops", 200),
        ("/api/v1/ops/projecties", "liec", 403),
        ("/health", None, 200),
    ],
)
def test_need_to_know(worker: Worker, path: str, principal: str | None, status: int) -> None:
    assert worker.request(path, principal)[0] == status


async def test_inbox_pages_newest_first_with_a_cursor_and_etag_and_every_read_is_audited(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    ids = [uniek("inbox") for _ in range(3)]
    for ce_id in ids:
        await publish(producer, "gm0014", payload(locatie={"gemeente": "GM0014"}), ce_id=ce_id)
    for ce_id in ids:
        await routes(broker, "gm0014", ce_id, 1)
    path = "/api/v1/riec/noord-nederland/inbox?limit=2"
    full = await worker.json_zodra("/api/v1/riec/noord-nederland/inbox?limit=200", "riec:noord-nederland",
                           lambda d: {f"gm0014:{i}" for i in ids} <= {x["signaal_id"] for x in d["items"]})  # fmt: skip
    first = orjson.loads(worker.request(path, "riec:noord-nederland")[2])
    second = orjson.loads(worker.request(f"{path}&voor={first['volgende']}", "riec:noord-nederland")[2])
    assert first["items"] + second["items"] == full["items"][:4], (
        "pages follow each other without gap or overlap"
    )
    # Newest first means: the reverse of the order on the route topic.
    shown = [x["signaal_id"] for x in full["items"]]
    on_topic = await read_until(
        broker,
        ["routes.riec.noord-nederland"],
        lambda f: set(shown) <= {orjson.loads(r.value)["signaal_id"] for r in f},
    )
    topic_order = [s for s in (orjson.loads(r.value)["signaal_id"] for r in on_topic) if s in set(shown)]
    assert shown == topic_order[::-1]
    trace = uuid.uuid4().hex
    status, headers, _ = worker.request(
        path, "riec:noord-nederland", {"traceparent": f"00-{trace}-{'a' * 16}-01"}
    )
    assert status == 200
    etag = headers["ETag"]
    assert worker.request(path, "riec:noord-nederland", {"If-None-Match": etag})[0] == 304
    await publish(producer, "gm0014", payload(locatie={"gemeente": "GM0014"}), ce_id=uniek("inbox"))
    assert await worker.json_zodra(
        path,
        "riec:noord-nederland",
        lambda d: d["items"][0]["signaal_id"] != first["items"][0]["signaal_id"],
    )
    assert worker.request(path, "riec:noord-nederland", {"If-None-Match": etag})[0] == 200

    audit = await read_until(
        broker, ["engine.audit"], lambda f: len(f) >= 1, match=lambda r: r.key == trace.encode()
    )
    record = orjson.loads(audit[0].value)
    assert (
        record["trace_id"] == trace and record["parent_span_id"] == "a" * 16 and len(record["span_id"]) == 16
    )
    assert record["status"] == "Ok" and record["start_time"] <= record["end_time"]
    attributes = record["attributes"]
    assert attributes["dpl.core.processing_activity_id"].startswith("urn:nl:riec:verwerkingsactiviteit:")
    assert attributes["dpl.riec.actor"] == "riec:noord-nederland"
    assert attributes["dpl.riec.signaal_ids"] == shown[:2], "the page that was read"
    assert "dpl.core.data_subject_id" not in attributes, "ids only: an erased subject leaves no pseudonym"
    assert VALID_BSN.encode() not in audit[0].value


async def test_casus_detail_has_its_timeline_and_is_audited(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    casus_id = uniek("L")
    await opdracht(
        producer,
        "limburg",
        "casus.openen",
        {"casus_id": casus_id, "naam": "Grensgebied", "bron": "gebiedsscan", "themas": ["drugs"]},
    )
    await opdracht(
        producer,
        "limburg",
        "casus.interventieadvies",
        {
            "casus_id": casus_id,
            "advies_id": "A1",
            "soorten": ["bibob"],
            "uitvoerder": "x",
            "coordinator": "y",
        },
    )
    path = f"/api/v1/riec/limburg/casussen/{casus_id}"
    detail = await worker.json_zodra(path, "riec:limburg", lambda d: len(d["tijdlijn"]) == 2)
    assert detail["status"] == "interventieadvies" and detail["themas"] == ["drugs"]
    assert [e["gebeurtenis"] for e in detail["tijdlijn"]] == ["Casus geopend", "Interventieadvies gegeven"]
    assert worker.request(path, "riec:rotterdam")[0] == 403
    assert worker.request(f"/api/v1/riec/rotterdam/casussen/{casus_id}", "riec:rotterdam")[0] == 404
    audit = await read_until(
        broker,
        ["engine.audit"],
        lambda f: len(f) >= 1,
        match=lambda r: orjson.loads(r.value)["attributes"]["dpl.riec.resource"] == path,
    )
    assert orjson.loads(audit[0].value)["attributes"]["dpl.core.processing_activity_id"].endswith(
        "casus-inzien"
    )


def test_replay_from_offset_0_equals_live(worker: Worker) -> None:
    result = worker.replay()
    assert result.returncode == 0, result.stdout + result.stderr
    # inbox, casussen, jaarverslag, the records the folds skipped (overgeslagen), the inbox's handled
    # marks (behandeld), the four-eyes requests (verzoeken), + the verdict
    assert result.stdout.count("equal") == 7 and "replay equals live" in result.stdout
