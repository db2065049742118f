"""Helpers for pipeline tests: publish like a partner, read topics like a dashboard would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.fixtures import encode, headers, payload

Record = ConsumerRecord[bytes, bytes]


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
    bootstrap: str,
    topics: list[str],
    done: Callable[[list[Record]], bool],
    *,
    match: Callable[[Record], bool] = lambda r: True,
    timeout: float = 30.0,
    linger: float = 0.0,
) -> list[Record]:
    """Read `topics` from the start (read_committed) keeping matching records until `done`, then
    `linger` seconds more, so that a test can see an unexpected extra record too."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[Record] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(found):
            batch = await consumer.getmany(timeout_ms=250)
            found += [r for records in batch.values() for r in records if match(r)]
        linger_until = time.monotonic() + linger
        while time.monotonic() < linger_until:
            batch = await consumer.getmany(timeout_ms=250)
            found += [r for records in batch.values() for r in records if match(r)]
        return found
    finally:
        await consumer.stop()


async def read_all(bootstrap: str, topics: list[str], settle: float = 2.0) -> list[Record]:
    """Everything on `topics` now: reads until nothing new arrives for `settle` seconds."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[Record] = []
    try:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < settle:
            batch = await consumer.getmany(timeout_ms=250)
            new = [r for records in batch.values() for r in records]
            if new:
                found += new
                quiet_since = time.monotonic()
        return found
    finally:
        await consumer.stop()


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


async def topics(bootstrap: str) -> list[str]:
    """Every topic on the broker but Kafka's own."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return [t for t in await admin.list_topics() if not t.startswith("__")]
    finally:
        await admin.close()


async def maak_topic(bootstrap: str, topic: str, partitions: int = 1) -> None:
    """Create a topic as any client could on a broker without ACLs (the attacks of issue 10)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
