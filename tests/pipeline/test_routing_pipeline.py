"""Given a running engine, when a partner publishes a signal, then exactly the right route topics
get it, with reasons, pseudonymised."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.domain.routing import topic_van
from engine.topics import route_bestemmingen
from tests.fixtures import VALID_BSN, payload
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import Record, publish, read_until

pytestmark = pytest.mark.pipeline
ROUTE_TOPICS = [topic_van(b) for b in route_bestemmingen()]
ADRES_ROTTERDAM = {"type": "adres", "postcode": "3011AA", "huisnummer": "1"}
ADRES_MAASTRICHT = {"type": "adres", "postcode": "6211AA", "huisnummer": "2"}

CASES: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
    ("gemeente", "gm0363", payload(), {"routes.riec.amsterdam-amstelland": "locatie"}),
    ("postcode", "politie", payload(locatie={"postcode": "5611AB"}), {"routes.riec.oost-brabant": "locatie"}),
    (
        "subject addresses, regio-overstijgend vastgoed",
        "belastingdienst",
        payload(themas=["vastgoed"], locatie=None, subjecten=[ADRES_ROTTERDAM, ADRES_MAASTRICHT]),
        {
            "routes.riec.rotterdam": "adres_subject",
            "routes.riec.limburg": "adres_subject",
            "routes.lft.vastgoed": "fenomeentafel",
        },
    ),
    ("abroad", "kmar", payload(locatie={"land": "BE"}), {"routes.euriec": "buitenland"}),
    (
        "bestuurlijk",
        "gm0014",
        payload(soort="bestuurlijk_signaal"),
        {"routes.liec.loket": "bestuurlijk_signaal"},
    ),
    (
        "nothing routable",
        "om",
        payload(locatie=None, subjecten=[{"type": "persoon", "bsn": VALID_BSN}]),
        {"routes.liec.triage": "niet_routeerbaar"},
    ),
    (
        "omg",
        "pv24",
        payload(themas=["omg"], locatie={"gemeente": "GM0202"}),
        {"routes.riec.oost-nederland": "locatie", "routes.lft.omg": "fenomeentafel"},
    ),
]


@pytest.mark.parametrize(("case", "org", "body", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_signal_reaches_exactly_its_destinations_with_reasons(
    worker: Worker,
    producer: AIOKafkaProducer,
    broker: str,
    case: str,
    org: str,
    body: dict[str, Any],
    expected: dict[str, str],
) -> None:
    if body.get("locatie", "") is None:
        body = {k: v for k, v in body.items() if k != "locatie"}
    ce_id = f"{case.replace(' ', '-')}-{uuid.uuid4()}"
    await publish(producer, org, body, ce_id=ce_id)
    signaal_id = f"{org}:{ce_id}"

    def ours(r: Record) -> bool:
        return orjson.loads(r.value)["signaal_id"] == signaal_id

    # Wait for every expected route, then a little longer to catch any unexpected extra one.
    routed = await read_until(broker, ROUTE_TOPICS, lambda f: len(f) >= len(expected), match=ours, linger=1.5)
    by_topic: dict[str, list[Record]] = {}
    for r in routed:
        by_topic.setdefault(r.topic, []).append(r)
    assert sorted(by_topic) == sorted(expected), [orjson.loads(r.value)["redenen"] for r in routed]
    for topic, regel in expected.items():
        [record] = by_topic[topic]  # exactly once per destination
        message = orjson.loads(record.value)
        assert message["bron"] == org and message["bestemming"] == topic.removeprefix("routes.")
        assert regel in [r["regel"] for r in message["redenen"]]
        assert all(r["toelichting"] for r in message["redenen"])
        assert VALID_BSN.encode() not in record.value
        for subject in message["subjecten"]:
            if subject["type"] == "persoon":
                assert len(subject["pseudoniem"]) == 64 and "bsn" not in subject
