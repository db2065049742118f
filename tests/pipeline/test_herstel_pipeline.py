"""Restoring a partition's state waits for the previous owner's open transaction (`KafkaLog`,
settled), against the real broker.

A stage that takes a partition over reads its log back with read_committed. The previous owner's
last transaction may still be open on that log when the new owner starts: its commit markers are
written after the coordinator has answered the commit (and its offset commit may be visible
first), or its worker was paused mid-transaction. Read only up to the stable offset, the new owner
would miss what that transaction commits a moment later: a signal it then logs and routes again when
the front door brings it twice, a waiting link it never decides (seen in `make test-cluster`).

Given a log partition with a committed record and an open transaction after it:
- a settled read does not end until the transaction is decided, and then yields what it committed;
- after an abort it yields only what was committed before, and ends;
- an unsettled read (the tools' and re-drive's, of logs others keep writing) ends at the stable
  offset it found, as before.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from engine.kafka.state import KafkaLog
from tests.pipeline import kafka as test_kafka
from tests.pipeline.kafka import maak_topic

pytestmark = pytest.mark.pipeline


@pytest.fixture
async def log_tp(broker: str) -> TopicPartition:
    topic = f"herstel.{uuid.uuid4().hex[:8]}.log"
    await maak_topic(broker, topic)
    return TopicPartition(topic, 0)


@pytest.fixture
async def vorige_eigenaar(broker: str) -> AsyncIterator[AIOKafkaProducer]:
    """The previous owner's transactional producer."""
    p = test_kafka.producer(
        broker, transactional_id=f"herstel-{uuid.uuid4().hex[:8]}", enable_idempotence=True
    )
    await p.start()
    yield p
    await p.stop()


async def lees(log: KafkaLog, tp: TopicPartition) -> list[bytes | None]:
    return [r.value async for r in log.read(tp)]


async def open_transactie(p: AIOKafkaProducer, tp: TopicPartition) -> None:
    """A committed record, then a transaction that wrote one and is not decided yet."""
    async with p.transaction():
        await p.send_and_wait(tp.topic, b"eerder", partition=tp.partition)
    await p.begin_transaction()
    await p.send_and_wait(tp.topic, b"open", partition=tp.partition)


@pytest.mark.parametrize(
    ("beslissing", "verwacht"),
    [("commit_transaction", [b"eerder", b"open"]), ("abort_transaction", [b"eerder"])],
    ids=["commit", "abort"],
)
async def test_a_settled_read_waits_for_the_open_transaction_and_yields_what_it_decided(
    broker: str,
    log_tp: TopicPartition,
    vorige_eigenaar: AIOKafkaProducer,
    beslissing: str,
    verwacht: list[bytes],
) -> None:
    await open_transactie(vorige_eigenaar, log_tp)
    lezen = asyncio.create_task(lees(KafkaLog(test_kafka.beheerder(), settled=True), log_tp))
    await asyncio.sleep(2.0)
    assert not lezen.done(), "the read ended while a transaction on the partition was open"
    await getattr(vorige_eigenaar, beslissing)()
    assert await asyncio.wait_for(lezen, 10) == verwacht


async def test_an_unsettled_read_ends_at_the_stable_offset(
    broker: str, log_tp: TopicPartition, vorige_eigenaar: AIOKafkaProducer
) -> None:
    await open_transactie(vorige_eigenaar, log_tp)
    try:
        assert await asyncio.wait_for(lees(KafkaLog(test_kafka.beheerder()), log_tp), 10) == [b"eerder"]
    finally:
        await vorige_eigenaar.abort_transaction()


async def test_a_settled_read_of_an_empty_log_ends(broker: str, log_tp: TopicPartition) -> None:
    assert await asyncio.wait_for(lees(KafkaLog(test_kafka.beheerder(), settled=True), log_tp), 10) == []


async def test_a_settled_read_that_waits_long_says_which_partition_it_waits_for(
    broker: str, log_tp: TopicPartition, vorige_eigenaar: AIOKafkaProducer, caplog: pytest.LogCaptureFixture
) -> None:
    await open_transactie(vorige_eigenaar, log_tp)
    log = KafkaLog(test_kafka.beheerder(), settled=True)
    log.MELD_NA_S = 0.5  # 30 s in a worker
    with caplog.at_level("WARNING", logger="engine.kafka.state"):
        lezen = asyncio.create_task(lees(log, log_tp))
        await asyncio.sleep(2.0)
        assert not lezen.done()
        gemeld = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
        assert gemeld and f"{log_tp.topic}[0]: waiting" in gemeld[0] and "open transaction" in gemeld[0]
    await vorige_eigenaar.abort_transaction()
    assert await asyncio.wait_for(lezen, 10) == [b"eerder"]


async def test_partition_after_partition_each_read_yields_its_own_records(
    broker: str, vorige_eigenaar: AIOKafkaProducer
) -> None:
    topic = f"herstel.{uuid.uuid4().hex[:8]}.log"
    await maak_topic(broker, topic, partitions=3)
    async with vorige_eigenaar.transaction():
        for p in range(3):
            for i in range(p + 1):
                await vorige_eigenaar.send_and_wait(topic, f"{p}-{i}".encode(), partition=p)
    log = KafkaLog(test_kafka.beheerder(), settled=True)
    gelezen = [await lees(log, TopicPartition(topic, p)) for p in (2, 0, 1, 2)]
    assert gelezen == [[b"2-0", b"2-1", b"2-2"], [b"0-0"], [b"1-0", b"1-1"], [b"2-0", b"2-1", b"2-2"]]
