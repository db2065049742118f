"""Given a stage's handler and a batch, when a record's handling raises or makes an output too
large, then that record goes to dlq.engine with its coordinates and reason, writes nothing else,
leaves no half-changed state behind, and every other record is handled once.

In-memory fakes: a transactional producer that keeps what was committed, and a de-duplicating
handler whose state, like vastleggen's, is reloaded from what it committed to its log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry

from engine.kafka.output import Output
from engine.kafka.quarantine import Batch, BatchProcessing, quarantine_record, read_quarantine
from engine.metrics import Metrics
from engine.topics import DLQ_ENGINE
from tests.unit.fake_batches import BatchesViaSend

IN = "engine.in"
LOG = "engine.log"
MIB = 1024 * 1024


def record(partition: int, offset: int, **body: Any) -> ConsumerRecord[bytes, bytes]:
    value = orjson.dumps(body)
    return ConsumerRecord(
        topic=IN,
        partition=partition,
        offset=offset,
        timestamp=1_700_000_000_000 + offset,
        timestamp_type=0,
        key=str(body.get("id", "")).encode(),
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(value),
        headers=[("ce_id", f"id-{offset}".encode())],
    )


def batch(*records: ConsumerRecord[bytes, bytes]) -> Batch:
    result: Batch = {}
    for r in records:
        result.setdefault(TopicPartition(r.topic, r.partition), []).append(r)
    return result


@dataclass
class FakeProducer(BatchesViaSend):
    """Keeps committed outputs and offsets; drops what an aborted transaction sent."""

    committed: list[Output] = field(default_factory=list)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    _open: list[Output] | None = None
    _open_offsets: dict[TopicPartition, int] = field(default_factory=dict)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self._open, self._open_offsets = [], {}
        try:
            yield
        except BaseException:
            self.events.append("abort")
            raise
        else:
            self.committed += self._open
            self.offsets.update(self._open_offsets)
            self.events.append("commit")
        finally:
            self._open = None

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]:
        assert self._open is not None, "sent outside a transaction"
        self._open.append(Output(topic, key, value, headers or [], partition))
        self.events.append(f"send {topic}")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def send_offsets_to_transaction(self, offsets: dict[TopicPartition, int], group_id: str) -> None:
        self._open_offsets.update(offsets)

    def on(self, topic: str) -> list[Output]:
        return [u for u in self.committed if u.topic == topic]


class Ontdubbelaar:
    """Like vastleggen: logs each id once per partition; its state is what its log holds."""

    name = "ontdubbelaar"

    def __init__(self, producer: FakeProducer) -> None:
        self.producer = producer
        self.gezien: dict[int, set[str]] = {}
        self.herladen: list[int] = []

    async def before_batch(self) -> None:
        pass

    async def prepare(self, partitions: set[TopicPartition]) -> None:
        for tp in sorted(partitions):
            if tp.partition not in self.gezien:
                self.herladen.append(tp.partition)
                self.producer.events.append(f"reload {tp.partition}")
                log = [u for u in self.producer.committed if u.topic == LOG and u.partition == tp.partition]
                self.gezien[tp.partition] = {orjson.loads(u.value or b"")["id"] for u in log}

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self.gezien.pop(tp.partition, None)

    def process(self, r: ConsumerRecord[bytes, bytes]) -> Iterator[Output]:
        body = orjson.loads(r.value or b"")
        gezien = self.gezien[r.partition]
        if body["id"] in gezien:
            return
        gezien.add(body["id"])  # changed before anything below can fail
        yield Output(LOG, r.key, orjson.dumps({"id": body["id"]}), partition=r.partition)
        if body.get("fout"):
            raise ValueError(f"kapot op {body['id']} met bsn 111222333")
        if body.get("groot"):
            yield Output("engine.uit", r.key, b"x" * (MIB + 1))


def stage() -> tuple[BatchProcessing, FakeProducer, Ontdubbelaar, Metrics]:
    producer = FakeProducer()
    handler = Ontdubbelaar(producer)
    metrics = Metrics(CollectorRegistry())
    processing = BatchProcessing(
        handler,
        producer,
        group_id="g",
        metrics=metrics,
        assigned=lambda: {TopicPartition(IN, 0), TopicPartition(IN, 1)},
        max_request_size=9 * MIB,
    )
    return processing, producer, handler, metrics


def logged(producer: FakeProducer) -> list[str]:
    return [orjson.loads(u.value or b"")["id"] for u in producer.on(LOG)]


def quarantined(metrics: Metrics, error: str) -> float:
    value = metrics.registry.get_sample_value(
        "riec_quarantined_total", {"stage": "ontdubbelaar", "error": error}
    )
    return value or 0.0


async def test_a_failing_record_goes_to_dlq_engine_and_the_rest_of_the_batch_is_handled_once() -> None:
    processing, producer, _, metrics = stage()
    poison = record(0, 11, id="b", fout=True)

    await processing.process(
        batch(record(0, 10, id="a"), poison, record(0, 12, id="c"), record(1, 40, id="d"))
    )

    assert logged(producer) == ["a", "c", "d"], "the failing record's own log output is not written"
    [q] = producer.on(DLQ_ENGINE)
    assert (q.key, q.value) == (poison.key, poison.value)
    herkomst, originele = read_quarantine(q.headers)
    assert originele == list(poison.headers)
    assert (herkomst.source_topic, herkomst.source_partition, herkomst.source_offset) == (IN, 0, 11)
    assert herkomst.source_timestamp == poison.timestamp
    assert (herkomst.stage, herkomst.error, herkomst.reason_code) == (
        "ontdubbelaar",
        "ValueError",
        "handler_error",
    )
    assert "111222333" not in herkomst.reason and herkomst.reason.startswith("ValueError: kapot op b")
    assert producer.offsets == {TopicPartition(IN, 0): 13, TopicPartition(IN, 1): 41}
    assert processing.positions == producer.offsets
    assert quarantined(metrics, "ValueError") == 1


async def test_state_the_failing_record_changed_is_reloaded_from_the_log_and_other_partitions_keep_theirs() -> (
    None
):
    processing, producer, handler, _ = stage()
    await processing.process(batch(record(0, 0, id="x0"), record(1, 0, id="y0")))
    assert handler.herladen == [0, 1]
    start = len(producer.events)

    # b marks itself seen, then fails: a later b (a re-send) must still be logged once.
    await processing.process(
        batch(
            record(0, 1, id="b", fout=True), record(0, 2, id="b"), record(0, 3, id="b"), record(1, 1, id="y1")
        )
    )

    assert logged(producer) == ["x0", "y0", "b", "y1"]
    assert handler.herladen == [0, 1, 0], "only the failing record's partition is reloaded"
    # The reload comes after the commit of what preceded the failure and after the quarantine
    # record was sent (which waits for that commit at the broker) and committed on its own.
    assert producer.events[start : start + 4] == ["commit", f"send {DLQ_ENGINE}", "commit", "reload 0"]


async def test_an_output_too_large_for_its_topic_quarantines_the_record_with_that_reason() -> None:
    processing, producer, _, metrics = stage()

    await processing.process(batch(record(0, 5, id="groot", groot=True), record(0, 6, id="na")))

    assert producer.on("engine.uit") == []
    assert logged(producer) == ["na"], "nothing of the oversized record is written"
    [q] = producer.on(DLQ_ENGINE)
    herkomst, _ = read_quarantine(q.headers)
    assert herkomst.reason_code == "output_too_large"
    assert "engine.uit" in herkomst.reason and "1048576" in herkomst.reason
    assert quarantined(metrics, "output_too_large") == 1
    assert producer.offsets[TopicPartition(IN, 0)] == 7


async def test_a_batch_of_nothing_but_failures_is_quarantined_whole_and_committed_to_its_end() -> None:
    processing, producer, _, metrics = stage()
    records = [record(p, o, id=f"f{p}{o}", fout=True) for p in (0, 1) for o in range(3)]

    await processing.process(batch(*records))

    assert logged(producer) == []
    assert [read_quarantine(q.headers)[0].source_offset for q in producer.on(DLQ_ENGINE)] == [0, 1, 2] * 2
    assert producer.offsets == {TopicPartition(IN, 0): 3, TopicPartition(IN, 1): 3}
    assert quarantined(metrics, "ValueError") == 6
    assert "abort" not in producer.events


def test_headers_a_record_brought_cannot_pass_for_the_quarantine_headers() -> None:
    spoofed = record(0, 1, id="s")
    spoofed.headers = [("original_headers", b"0"), ("source_topic", b"partner.om.signalen")]

    bericht = quarantine_record(spoofed, stage="s", fout=KeyError("k"), nu=datetime.now(UTC))
    herkomst, originele = read_quarantine(bericht.headers)
    assert herkomst.source_topic == IN
    assert originele == spoofed.headers


async def test_a_batch_the_broker_refuses_aborts_the_transaction_and_commits_no_offset() -> None:
    """aiokafka's commit waits for the transaction's batches but does not fail when the broker
    refused one (MESSAGE_TOO_LARGE, INVALID_RECORD): the stage itself must, or the offsets of records
    whose outputs are gone would commit (found in a review of batch-level produce)."""
    processing, producer, _, _ = stage()

    async def geweigerd(batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_exception(KafkaError("the broker refused the batch"))
        return future

    producer.send_batch = geweigerd  # type: ignore[method-assign]
    with pytest.raises(KafkaError):
        await processing.process(batch(record(0, 10, id="a"), record(1, 40, id="d")))
    assert producer.offsets == {} and producer.committed == [] and producer.events[-1] == "abort"
    assert processing.positions == {}
