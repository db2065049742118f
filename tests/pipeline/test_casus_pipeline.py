"""Given RIEC commands on the real broker, when signals arrive, then every rule of domain.md routes
as written, with its reasons; a RIEC cannot touch another RIEC's casus or HKP."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from engine.domain.routing import topic_van
from engine.topics import route_bestemmingen
from tests.fixtures import payload
from tests.pipeline.casus_helpers import (
    bsn,
    gebeurtenissen,
    in_index,
    kenteken,
    opdracht,
    routes,
    uit_index,
    uniek,
)
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import Record, header, publish, read_until

pytestmark = pytest.mark.pipeline
ROUTE_TOPICS = [topic_van(b) for b in route_bestemmingen()]


def regels(message: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["regel"], r.get("hkp_id") or r.get("casus_id")) for r in message["redenen"]]


async def test_rule_2_person_hkp_of_another_riec_and_rule_4_regio_overstijgend_vastgoed(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    persoon, hkp_id = bsn(), uniek("HKP")
    await opdracht(producer, "amsterdam-amstelland", "handhavingsknelpunt.aanwijzen", {
        "hkp_id": hkp_id, "naam": "Malafide verhuurder", "soort": "persoon",
        "subjecten": [{"type": "persoon", "bsn": persoon}], "geldig_van": "2020-01-01"})  # fmt: skip
    await gebeurtenissen(broker, f"hkp:{hkp_id}", 1)
    ce_id = uniek("sig")
    body = payload(
        themas=["vastgoed"], locatie={"gemeente": "GM0935"}, subjecten=[{"type": "persoon", "bsn": persoon}]
    )
    await publish(producer, "politie", body, ce_id=ce_id)
    got = await routes(broker, "politie", ce_id, 3)
    assert sorted(got) == ["lft.vastgoed", "riec.amsterdam-amstelland", "riec.limburg"]
    assert regels(got["riec.amsterdam-amstelland"]) == [("handhavingsknelpunt", hkp_id)]
    assert regels(got["riec.limburg"]) == [("locatie", None)]
    assert persoon not in str(got)


async def test_rule_2_area_and_branche_hkps_and_an_ended_hkp(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    gebied, branche = uniek("GEB"), uniek("BR")
    await opdracht(producer, "rotterdam", "handhavingsknelpunt.aanwijzen", {
        "hkp_id": gebied, "naam": "Havengebied", "soort": "gebied", "postcodes": ["3089"], "geldig_van": "2020-01-01"})  # fmt: skip
    await opdracht(producer, "oost-nederland", "handhavingsknelpunt.aanwijzen", {
        "hkp_id": branche, "naam": "Sauna's", "soort": "branche", "sbi": ["9604"], "geldig_van": "2020-01-01"})  # fmt: skip
    await gebeurtenissen(broker, f"hkp:{branche}", 1)
    await gebeurtenissen(broker, f"hkp:{gebied}", 1)
    ce_id = uniek("sig")
    subjecten = [
        {"type": "adres", "postcode": "3089AB", "huisnummer": "7"},
        {"type": "rechtspersoon", "kvk": "87654321", "sbi": ["96041"]},
    ]
    await publish(producer, "gm0363", payload(subjecten=subjecten), ce_id=ce_id)
    got = await routes(broker, "gm0363", ce_id, 3)
    assert regels(got["riec.rotterdam"]) == [("handhavingsknelpunt", gebied)]
    assert regels(got["riec.oost-nederland"]) == [("handhavingsknelpunt", branche)]

    await opdracht(producer, "rotterdam", "handhavingsknelpunt.beeindigen", {"hkp_id": gebied})
    await gebeurtenissen(broker, f"hkp:{gebied}", 2)
    ce_id = uniek("sig")
    await publish(producer, "gm0363", payload(subjecten=subjecten[:1]), ce_id=ce_id)
    assert sorted(await routes(broker, "gm0363", ce_id, 1)) == ["riec.amsterdam-amstelland"], (
        "the ended HKP no longer routes"
    )


async def test_rule_3_open_casus_of_another_riec_until_it_is_closed(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    casus_id, auto = uniek("DH"), kenteken()
    await opdracht(producer, "den-haag", "casus.openen", {
        "casus_id": casus_id, "naam": "Katvangers", "bron": "ondermijningsbeeld", "themas": ["witwassen"],
        "subjecten": [{"type": "voertuig", "kenteken": auto}]})  # fmt: skip
    await gebeurtenissen(broker, f"casus:{casus_id}", 1)
    await in_index(broker, casus_id)
    ce_id = uniek("sig")
    await publish(
        producer,
        "kmar",
        payload(locatie={"gemeente": "GM0014"}, subjecten=[{"type": "voertuig", "kenteken": auto}]),
        ce_id=ce_id,
    )
    got = await routes(broker, "kmar", ce_id, 2)
    assert regels(got["riec.den-haag"]) == [("open_casus", casus_id)]
    assert "kandidaat-koppeling" in got["riec.den-haag"]["redenen"][0]["toelichting"]

    await opdracht(producer, "den-haag", "casus.afsluiten", {"casus_id": casus_id, "reden": "afgerond"})
    await gebeurtenissen(broker, f"casus:{casus_id}", 2)
    await uit_index(broker, casus_id)
    ce_id = uniek("sig")
    await publish(
        producer,
        "kmar",
        payload(locatie={"gemeente": "GM0014"}, subjecten=[{"type": "voertuig", "kenteken": auto}]),
        ce_id=ce_id,
    )
    assert sorted(await routes(broker, "kmar", ce_id, 1)) == ["riec.noord-nederland"], (
        "a closed casus no longer matches"
    )


async def test_a_riec_cannot_touch_another_riecs_casus(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    casus_id = uniek("R")
    await opdracht(
        producer, "rotterdam", "casus.openen", {"casus_id": casus_id, "naam": "n", "bron": "inbreng"}
    )
    await gebeurtenissen(broker, f"casus:{casus_id}", 1)
    intruder = await opdracht(
        producer, "limburg", "casus.afsluiten", {"casus_id": casus_id, "reden": "not mine"}
    )
    spoofed = await opdracht(
        producer,
        "limburg",
        "casus.afsluiten",
        {"casus_id": casus_id, "reden": "x"},
        ce_source="urn:nl:riec:riec:rotterdam",
    )

    def ours(r: Record) -> bool:
        return header(r, "ce_id") in (intruder, spoofed)

    refused = {
        header(r, "ce_id"): r
        for r in await read_until(broker, ["dlq.ingress"], lambda f: len(f) >= 2, match=ours)
    }
    assert header(refused[intruder], "reason_code") == "unknown_casus", "as if it did not exist"
    assert header(refused[intruder], "value_form") == "pseudonymised"
    assert header(refused[intruder], "source_topic") == "riec.limburg.opdrachten"
    assert header(refused[spoofed], "reason_code") == "source_mismatch"
    await opdracht(producer, "rotterdam", "casus.interventieadvies", {
        "casus_id": casus_id, "advies_id": "A1", "soorten": ["bibob"], "uitvoerder": "gm0599", "coordinator": "RIEC"})  # fmt: skip
    events = await gebeurtenissen(broker, f"casus:{casus_id}", 2)
    assert [e["type"] for e in events] == [
        "nl.riec.engine.casus_geopend.v1",
        "nl.riec.engine.interventieadvies_gegeven.v1",
    ]


async def test_the_same_command_twice_is_one_event(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    beeld = uniek("OB")
    for _ in range(2):
        await opdracht(
            producer,
            "noord-holland",
            "ondermijningsbeeld.opleveren",
            {"beeld_id": beeld, "naam": "Beeld"},
            ce_id=f"c-{beeld}",
        )
    events = await read_until(
        broker,
        ["engine.gebeurtenissen"],
        lambda f: False,
        match=lambda r: r.key == f"beeld:{beeld}".encode(),
        timeout=6,
    )
    assert len(events) == 1


@pytest.mark.parametrize("signal_first", [True, False], ids=["signal before casus", "casus before signal"])
async def test_inbreng_links_a_signal_whichever_comes_first(
    worker: Worker, producer: AIOKafkaProducer, broker: str, signal_first: bool
) -> None:
    casus_id, auto, ce_id = uniek("MN"), kenteken(), uniek("sig")
    brought_in = payload(locatie={"gemeente": "GM0344"}, subjecten=[{"type": "voertuig", "kenteken": auto}])
    open_casus = {"casus_id": casus_id, "naam": "n", "bron": "inbreng", "signalen": [f"politie:{ce_id}"]}
    if signal_first:
        await publish(producer, "politie", brought_in, ce_id=ce_id)
        await routes(broker, "politie", ce_id, 1)
        await opdracht(producer, "midden-nederland", "casus.openen", open_casus)
    else:
        await opdracht(producer, "midden-nederland", "casus.openen", open_casus)
        await gebeurtenissen(broker, f"casus:{casus_id}", 1)
        await publish(producer, "politie", brought_in, ce_id=ce_id)
    await gebeurtenissen(broker, f"casus:{casus_id}", 1)
    await read_until(  # the brought-in signal's identifier reached the index
        broker,
        ["engine.casusindex"],
        lambda f: len(f) >= 1,
        match=lambda r: r.key == f"kenteken:{auto}".encode(),
    )
    later = uniek("sig")
    await publish(
        producer,
        "douane",
        payload(locatie={"gemeente": "GM0014"}, subjecten=[{"type": "voertuig", "kenteken": auto}]),
        ce_id=later,
    )
    got = await routes(broker, "douane", later, 2)
    assert regels(got["riec.midden-nederland"]) == [("open_casus", casus_id)]
