"""The secured broker does what engine/ops/acls.py says, and nothing more: each principal's writes,
reads, topic creation, config changes and group joins are tried on the real broker and compared
with the ACLs as data. Impersonation, cross-reading and topic alteration fail with the broker's
authorization error; anonymous clients and wrong passwords cannot connect at all."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from engine.kafka import clients
from engine.ops import onboarding
from engine.ops.acls import mag, principal
from engine.settings import KafkaConnection
from tests.pipeline import kafka as test_kafka
from tests.pipeline.conftest import APP_ID, Worker, toegang

pytestmark = pytest.mark.pipeline

PRINCIPALS = ["partner:gm0363", "riec:rotterdam", "lft:omg", "liec", "ops", "engine"]
WRITES = [
    "partner.gm0363.signalen",
    "partner.gm0599.signalen",
    "riec.rotterdam.opdrachten",
    "riec.limburg.opdrachten",
    "routes.riec.rotterdam",
    "engine.signalen",
    "dlq.ingress",
]
READS = [
    "routes.riec.rotterdam",
    "routes.riec.limburg",
    "routes.lft.omg",
    "routes.liec.triage",
    "engine.signalen",
    "dlq.ingress",
    "partner.gm0363.signalen",
]
AUTHORIZATION_FAILED = 29  # Kafka's TOPIC_AUTHORIZATION_FAILED in admin responses


def _verbinding(naam: str) -> KafkaConnection:
    return onboarding.verbinding(toegang(naam)[naam])


async def _writes(k: KafkaConnection) -> dict[str, bool]:
    """Per topic: did the broker accept a record from this principal? (A record that lands on a
    partner or command topic is refused by the engine as not JSON: harmless.)"""
    producer = clients.producer(k)
    await producer.start()
    found = {}
    try:
        for topic in WRITES:
            try:
                await producer.send_and_wait(topic, b"acl-test", headers=[("ce_id", b"acl-test")])
                found[topic] = True
            except TopicAuthorizationFailedError:
                found[topic] = False
    finally:
        await producer.stop()
    return found


async def _read(k: KafkaConnection, topic: str, group: str) -> bool:
    consumer = clients.consumer(k, topic, group_id=group, auto_offset_reset="latest")
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=200)
        return True
    except (TopicAuthorizationFailedError, GroupAuthorizationFailedError):
        return False
    finally:
        await consumer.stop()


async def _admin_ops(k: KafkaConnection, run: str) -> dict[str, bool]:
    admin = clients.admin(k)
    await admin.start()
    try:
        created = await admin.create_topics([NewTopic(f"partner.gm{run}.signalen", 1, 1)])
        altered = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, "engine.audit", {"retention.ms": "1000"})]
        )
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "engine.audit")])
    finally:
        await admin.close()
    alter_errors = [r["error_code"] for a in altered for r in a.to_object()["resources"]]
    describe_errors = [r["error_code"] for d in described for r in d.to_object()["resources"]]
    return {
        "CREATE": created.topic_errors[0][1] != AUTHORIZATION_FAILED,
        "ALTER_CONFIGS": alter_errors != [AUTHORIZATION_FAILED],
        "DESCRIBE_CONFIGS": describe_errors != [AUTHORIZATION_FAILED],
    }


def _schrijft(naam: str) -> bool:
    # The engine's writes are what the whole suite exercises; a test record on its own logs would
    # be folded by the session's worker.
    return naam != "engine"


async def _observed(naam: str) -> dict[tuple[str, str], bool]:
    k = _verbinding(naam)
    own_group = f"{principal(naam).gebruikersnaam}.acl-test"
    found = {("WRITE", t): ok for t, ok in (await _writes(k)).items()} if _schrijft(naam) else {}
    for topic in READS:
        found["READ", topic] = await _read(k, topic, own_group)
    found["JOIN", f"{APP_ID}-vastleggen"] = await _read(k, "engine.signalen.kandidaten", f"{APP_ID}-acl-test")
    run = f"{uuid.uuid4().int % 10_000:04d}"
    for operatie, ok in (await _admin_ops(k, run)).items():
        found[operatie, "topics"] = ok
    return found


def _expected(naam: str) -> dict[tuple[str, str], bool]:
    p = principal(naam)
    expected = {("WRITE", t): mag(p, "TOPIC", t, "WRITE", APP_ID) for t in WRITES if _schrijft(naam)}
    own_group = f"{p.gebruikersnaam}.acl-test"
    for topic in READS:
        expected["READ", topic] = mag(p, "TOPIC", topic, "READ", APP_ID) and mag(
            p, "GROUP", own_group, "READ", APP_ID
        )
    expected["JOIN", f"{APP_ID}-vastleggen"] = mag(
        p, "TOPIC", "engine.signalen.kandidaten", "READ", APP_ID
    ) and mag(p, "GROUP", f"{APP_ID}-acl-test", "READ", APP_ID)
    expected["CREATE", "topics"] = mag(p, "TOPIC", "partner.gm0000.signalen", "CREATE", APP_ID)
    expected["ALTER_CONFIGS", "topics"] = mag(p, "TOPIC", "engine.audit", "ALTER_CONFIGS", APP_ID)
    expected["DESCRIBE_CONFIGS", "topics"] = mag(p, "TOPIC", "engine.audit", "DESCRIBE_CONFIGS", APP_ID)
    return expected


async def test_each_principal_can_do_exactly_what_its_acls_say(worker: Worker, broker: str) -> None:
    # Given every kind of principal onboarded with `toegang`, when each tries every kind of access,
    # then the broker allows exactly what engine/ops/acls.py allows.
    observed = [await _observed(n) for n in PRINCIPALS]
    for naam, found in zip(PRINCIPALS, observed, strict=True):
        wrong = {k: v for k, v in found.items() if v != _expected(naam)[k]}
        assert wrong == {}, f"{naam}: the broker answered otherwise than the ACLs say: {wrong}"
    # The matrix is not trivially empty: every principal may do something, and is refused something.
    for naam in PRINCIPALS:
        assert True in _expected(naam).values() and False in _expected(naam).values()


async def test_a_partner_cannot_write_as_another_partner_or_as_a_riec(worker: Worker, broker: str) -> None:
    producer = clients.producer(_verbinding("partner:gm0363"))
    await producer.start()
    try:
        for topic in ("partner.gm0599.signalen", "riec.rotterdam.opdrachten"):
            with pytest.raises(TopicAuthorizationFailedError):
                await producer.send_and_wait(topic, b"{}")
    finally:
        await producer.stop()


async def test_waiting_for_acls_returns_for_a_topic_allowed_and_refuses_one_never_allowed(
    worker: Worker, broker: str
) -> None:
    # What a tool waits on before a just-onboarded partner publishes (bench/schaal.py).
    partner = _verbinding("partner:gm0363")
    await clients.wait_until_authorised(partner, ("partner.gm0363.signalen",), timeout=10)
    with pytest.raises(TopicAuthorizationFailedError):
        await clients.wait_until_authorised(partner, ("partner.gm0599.signalen",), timeout=1)


async def test_a_riec_cannot_read_another_riecs_routes(worker: Worker, broker: str) -> None:
    assert await _read(_verbinding("riec:rotterdam"), "routes.riec.rotterdam", "riec.rotterdam.dashboard")
    assert not await _read(
        _verbinding("riec:rotterdam"), "routes.riec.amsterdam-amstelland", "riec.rotterdam.x"
    )
    assert not await _read(_verbinding("riec:rotterdam"), "routes.riec.limburg", "riec.limburg.dashboard")


async def test_nobody_but_the_admin_alters_a_topic_not_even_the_engine(worker: Worker, broker: str) -> None:
    for naam in ("partner:gm0363", "riec:rotterdam", "ops", "engine"):
        assert (await _admin_ops(_verbinding(naam), "0001"))["ALTER_CONFIGS"] is False, naam


async def _connects(k: KafkaConnection) -> bool:
    producer = clients.producer(k, request_timeout_ms=15_000)
    try:
        await asyncio.wait_for(producer.start(), 15)
        return True
    except KafkaConnectionError:
        return False
    finally:
        await producer.stop()


async def test_anonymous_clients_and_wrong_passwords_cannot_connect(worker: Worker, broker: str) -> None:
    engine = _verbinding("engine")
    assert await _connects(engine)
    assert not await _connects(dataclasses.replace(engine, sasl_password="not-the-password"))
    assert not await _connects(dataclasses.replace(engine, sasl_username="nobody"))
    anonymous = AIOKafkaProducer(bootstrap_servers=broker, request_timeout_ms=3000)
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(anonymous.start(), 15)
    await anonymous.stop()
    log = (test_kafka.STATE / "logs/server.log").read_text(errors="replace")
    assert "invalid credentials with SASL mechanism SCRAM-SHA-512" in log
