"""Idempotent ingest, new partner topics, privacy and metrics on the running engine."""

from __future__ import annotations

import random
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.domain.ingress.bsn import elfproef
from engine.domain.routing import topic_van
from engine.topics import route_bestemmingen
from tests.fixtures import payload
from tests.pipeline import kafka as test_kafka
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import (
    Record,
    eventually,
    header,
    is_signaal,
    maak_topic,
    publish,
    read_all,
    read_until,
)

pytestmark = pytest.mark.pipeline
ROUTE_TOPICS = [topic_van(b) for b in route_bestemmingen()]


def random_bsn(rng: random.Random) -> str:
    while True:
        candidate = f"{rng.randrange(100_000_000, 999_999_999)}"
        if elfproef(candidate):
            return candidate


def signaal_id_is(signaal_id: str):  # type: ignore[no-untyped-def]
    return lambda r: orjson.loads(r.value)["signaal_id"] == signaal_id


async def test_the_same_ce_id_again_is_counted_and_never_a_second_signal(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    ce_id = f"dup-{uuid.uuid4()}"
    for key in (b"a", b"b", b"c"):
        await publish(producer, "gm0599", ce_id=ce_id, key=key)
    match = signaal_id_is(f"gm0599:{ce_id}")
    routed = await read_until(
        broker, ["routes.riec.amsterdam-amstelland"], lambda f: len(f) >= 1, match=match, linger=2
    )
    assert len(routed) == 1
    log = await read_all(broker, ["engine.signalen"])
    assert len([r for r in log if r.key == f"gm0599:{ce_id}".encode() and is_signaal(r)]) == 1
    assert await eventually(
        lambda: 'riec_signals_duplicate_total{partner_group="gemeente"}' in worker.get("/metrics")
    )


async def test_a_new_partner_topic_is_picked_up_within_seconds(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    # Created behind the engine's back (issue 10: any client could, before ACLs), for a gemeente
    # code that exists in no reference data: read within seconds, and refused as partner.
    topic = "partner.gm9999.signalen"
    await maak_topic(broker, topic)
    ce_id = f"new-topic-{uuid.uuid4()}"
    await publish(producer, "gm9999", ce_id=ce_id)
    refused = await read_until(
        broker,
        ["dlq.ingress"],
        lambda f: len(f) >= 1,
        match=lambda r: header(r, "ce_id") == ce_id,
        timeout=20,
    )
    assert [header(r, "reason_code") for r in refused] == ["unknown_partner"]
    assert "gm9999 is not a gemeente in the CBS reference data" in (header(refused[0], "reason") or "")
    routed = await read_all(broker, ROUTE_TOPICS, settle=1)
    assert not [r for r in routed if r.key and b"gm9999" in r.key]


async def test_a_gemeente_born_of_a_merger_publishes_once_allow_listed(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    # ENGINE_EXTRA_GEMEENTEN=gm1999 (conftest): the worker declared its topic and accepts it.
    ce_id = f"merger-{uuid.uuid4()}"
    await publish(producer, "gm1999", ce_id=ce_id)
    routed = await read_until(
        broker, ROUTE_TOPICS, lambda f: len(f) >= 1, match=signaal_id_is(f"gm1999:{ce_id}"), timeout=20
    )
    assert [r.topic for r in routed] == ["routes.riec.amsterdam-amstelland"]


async def test_no_raw_bsn_past_ingress_on_any_topic_log_line_or_metric(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    print(f"seed={seed}")
    rng.seed(seed)
    bsn = random_bsn(rng)
    bad_bsn = bsn[:-1] + str((int(bsn[-1]) + 1) % 10)  # fails the elfproef: refused to the DLQ
    ce_id = f"privacy-{uuid.uuid4()}"
    body = payload(
        omschrijving=f"Eigenaar met BSN {bsn} koopt contant.",
        subjecten=[{"type": "persoon", "bsn": bsn}],
    )
    await publish(producer, "fiod", body, ce_id=ce_id)
    await publish(
        producer, "fiod", payload(subjecten=[{"type": "persoon", "bsn": bad_bsn}]), ce_id=f"x-{ce_id}"
    )
    await read_until(
        broker, ROUTE_TOPICS, lambda f: len(f) >= 1, match=signaal_id_is(f"fiod:{ce_id}"), timeout=20
    )
    await read_until(
        broker, ["dlq.ingress"], lambda f: len(f) >= 1, match=lambda r: bad_bsn.encode() in r.value
    )

    admin = test_kafka.admin(broker)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if not t.startswith("__")]
    finally:
        await admin.close()
    allowed = [t for t in topics if t.startswith("partner.") or t == "dlq.ingress"]
    checked = [t for t in topics if t not in allowed]
    assert "engine.signalen" in checked and "routes.riec.amsterdam-amstelland" in checked
    records: list[Record] = await read_all(broker, checked)
    for raw in (bsn, bad_bsn):
        leaks = [r.topic for r in records if raw.encode() in (r.value or b"") + (r.key or b"")]
        assert leaks == [], f"raw BSN found on {leaks}"
        assert raw not in worker.log.read_text(errors="replace")
        assert raw not in worker.get("/metrics")
    assert any(raw.encode() in (r.value or b"") for r in await read_all(broker, allowed) for raw in (bsn,))


async def test_metrics_expose_domain_and_faust_metrics_with_bounded_labels(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    ce_id = f"metrics-{uuid.uuid4()}"
    await publish(producer, "politie", ce_id=ce_id)
    await read_until(broker, ROUTE_TOPICS, lambda f: len(f) >= 1, match=signaal_id_is(f"politie:{ce_id}"))
    assert await eventually(
        lambda: 'riec_signals_accepted_total{partner_group="politie"}' in worker.get("/metrics")
    )
    text = worker.get("/metrics")
    for name in (
        "riec_signals_routed_total{destination=",
        "riec_routing_latency_seconds_bucket",
        "riec_stage_consumer_lag_records",
        "faust_",
    ):
        assert name in text, name
    assert ce_id not in text
    assert worker.get("/health").startswith('{"status":"ok"')
