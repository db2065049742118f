"""Helpers for pipeline tests: publish like a partner, read topics like a dashboard would."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from engine.kafka import clients
from engine.ops import onboarding
from engine.settings import KafkaConnection
from tests.fixtures import encode, headers, payload

Record = ConsumerRecord[bytes, bytes]
ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".local/kafka-test"
"""The test broker's state (conftest starts it); its admin's settings are in admin.json."""
Bootstrap = str | KafkaConnection
"""Where the helpers below connect: the test broker's address, as its admin; or a connection as it
is (the cluster tests pass their cluster's admin)."""


@functools.cache
def beheerder() -> KafkaConnection:
    """The test broker's admin (a super user): what the tests publish and read with, unless a test
    is about what one principal may do (test_acls_pipeline)."""
    return onboarding.verbinding(onboarding.lees_config(STATE / "admin.json"))


def consumer(bootstrap: Bootstrap, *topics: str, **kwargs: Any) -> AIOKafkaConsumer:
    """A consumer of the test broker as its admin."""
    return clients.consumer(_op(bootstrap), *topics, **kwargs)


def producer(bootstrap: Bootstrap, **kwargs: Any) -> AIOKafkaProducer:
    """A producer on the test broker as its admin."""
    return clients.producer(_op(bootstrap), **kwargs)


def admin(bootstrap: Bootstrap) -> AIOKafkaAdminClient:
    """An admin client of the test broker (alters topics the engine's principal may not)."""
    return clients.admin(_op(bootstrap))


def _op(bootstrap: Bootstrap) -> KafkaConnection:
    if isinstance(bootstrap, KafkaConnection):
        return bootstrap
    return dataclasses.replace(beheerder(), bootstrap_servers=bootstrap)


async def publish(
    producer: AIOKafkaProducer,
    org: str,
    body: dict[str, Any] | None = None,
    *,
    value: bytes | None = None,
    ce_id: str,
    topic: str | None = None,
    key: bytes | None = None,
    **hdrs: str,
) -> None:
    """Publish one message on a partner topic as that partner's system would."""
    raw = value if value is not None else encode(body if body is not None else payload())
    await producer.send_and_wait(
        topic or f"partner.{org}.signalen", raw, key=key, headers=headers(org, ce_id, **hdrs)
    )


async def read_until(
    bootstrap: Bootstrap,
    topics: list[str],
    done: Callable[[list[Record]], bool],
    *,
    match: Callable[[Record], bool] = lambda r: True,
    timeout: float = 30.0,
    linger: float = 0.0,
) -> list[Record]:
    """Read `topics` from the start (read_committed) keeping matching records until `done`, then
    `linger` seconds more, so that a test can see an unexpected extra record too."""
    c = consumer(
        bootstrap,
        *topics,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    await c.start()
    found: list[Record] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(found):
            batch = await c.getmany(timeout_ms=250)
            found += [r for records in batch.values() for r in records if match(r)]
        linger_until = time.monotonic() + linger
        while time.monotonic() < linger_until:
            batch = await c.getmany(timeout_ms=250)
            found += [r for records in batch.values() for r in records if match(r)]
        return found
    finally:
        await c.stop()


async def read_all(bootstrap: Bootstrap, topics: list[str], settle: float = 2.0) -> list[Record]:
    """Everything on `topics` now: reads until nothing new arrives for `settle` seconds."""
    c = consumer(bootstrap, *topics, auto_offset_reset="earliest", enable_auto_commit=False)
    await c.start()
    found: list[Record] = []
    try:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < settle:
            batch = await c.getmany(timeout_ms=250)
            new = [r for records in batch.values() for r in records]
            if new:
                found += new
                quiet_since = time.monotonic()
        return found
    finally:
        await c.stop()


def is_signaal(record: Record) -> bool:
    """A signal on `engine.signalen`, which also holds where each signal was routed, and links."""
    return b'"nl.riec.engine.signaal_ontvangen.v1"' in (record.value or b"")


def header(record: Record, name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return value.decode()
    return None


async def eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.25)
    return check()


async def topics(bootstrap: Bootstrap) -> list[str]:
    """Every topic on the broker but Kafka's own."""
    client = admin(bootstrap)
    await client.start()
    try:
        return [t for t in await client.list_topics() if not t.startswith("__")]
    finally:
        await client.close()


async def maak_topic(bootstrap: Bootstrap, topic: str, partitions: int = 1) -> None:
    """Create a topic as the broker's admin (now that ACLs stop anyone else: test_acls_pipeline)."""
    client = admin(bootstrap)
    await client.start()
    try:
        await client.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await client.close()
