"""No record stops a stage: a record whose handling raises, or whose output is too large to write,
goes to the quarantine topic `dlq.engine` with where it came from and why, and the stage goes on.

A batch runs in transactions (`BatchProcessing`). A record's outputs are materialised and
size-checked before any is sent, so a failing record writes nothing. When record r of partition p
fails, the transaction commits what came before r (the outputs and offsets of the records already
handled) and the handler's state of p is dropped: its `process` may have changed that state before
raising, and the log, which holds only what was committed, is the truth. A transaction of its own then
sends r's quarantine record, waits for it (the broker adds a partition to a producer's transaction
only once its previous transaction is complete, so what was just committed is readable) and commits
r's offset; the next transaction reloads p from the log before it writes anything (a restore may
take longer than the broker's transaction timeout, which starts at a transaction's first write),
and the rest of the batch follows. Nothing is done twice,
no counter counts twice, and the other partitions' state, consistent with what was committed, stays.
"""

from __future__ import annotations

import asyncio
import logging
import re
import traceback
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeAlias

import msgspec
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from engine.domain.ingress.bsn import maskeer_cijferreeksen
from engine.errors import OutputTooLarge, foutsoort
from engine.events.headers import QuarantaineHerkomst, kafka_headers
from engine.kafka import faults
from engine.kafka.batches import RecordBatches, partition_for
from engine.kafka.output import Output, StageHandler
from engine.metrics import Metrics
from engine.topics import DLQ_ENGINE, max_bericht_bytes

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Batch: TypeAlias = dict[TopicPartition, list[Record]]

HANDLER_ERROR = "handler_error"
OUTPUT_TOO_LARGE = "output_too_large"
_MAX_REASON = 500
_HEX = re.compile(r"[0-9a-fA-F]{32,}")


def size(out: Output) -> int:
    """An output's size as the producer counts it against max_request_size (aiokafka's estimate of
    a batch holding only this record: what the broker checks against max.message.bytes)."""
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(out.key, out.value, list(out.headers)))


def check_size(out: Output, max_request_size: int) -> None:
    """Raise `OutputTooLarge` when `out` is larger than its topic or the producer takes."""
    maximum = min(max_request_size, max_bericht_bytes(out.topic))
    n = size(out)
    if n > maximum:
        raise OutputTooLarge(out.topic, n, maximum)


def reason_text(fout: Exception) -> str:
    """What the operator reads in the `reason` header: the exception's text, digit runs and
    pseudonyms masked (an error may echo a field of the record), and short."""
    tekst = _HEX.sub("<pseudoniem>", maskeer_cijferreeksen(str(fout)))
    return f"{type(fout).__name__}: {tekst}"[:_MAX_REASON]


def quarantine_record(record: Record, *, stage: str, fout: Exception, nu: datetime) -> Output:
    """The record as it came (key, headers, bytes) plus, after its own headers, where it came from
    and why it is quarantined. Without its value in the (impossible below 8 MiB) case that it would
    not fit dlq.engine: the record stays at its offset."""
    herkomst = QuarantaineHerkomst(
        reason=reason_text(fout),
        reason_code=OUTPUT_TOO_LARGE if isinstance(fout, OutputTooLarge) else HANDLER_ERROR,
        error=foutsoort(fout),
        stage=stage,
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        source_timestamp=record.timestamp,
        quarantined_at=nu,
        original_headers=len(record.headers),
    )
    bericht = Output(DLQ_ENGINE, record.key, record.value, [*record.headers, *kafka_headers(herkomst)])
    if size(bericht) <= max_bericht_bytes(DLQ_ENGINE):
        return bericht
    herkomst = msgspec.structs.replace(herkomst, value_form="omitted")
    return Output(DLQ_ENGINE, record.key, b"", [*record.headers, *kafka_headers(herkomst)])


def read_quarantine(
    headers: Sequence[tuple[str, bytes]],
) -> tuple[QuarantaineHerkomst, list[tuple[str, bytes]]]:
    """A quarantined record's herkomst and its own original headers (for re-driving it).

    The herkomst headers come last, so a record that brought headers of the same names cannot
    pass for them: `original_headers` is read from the last header of that name.
    """
    laatste = {name: value.decode() for name, value in headers}
    n = int(laatste["original_headers"])
    velden = {name: value.decode() for name, value in headers[n:]}
    return msgspec.convert(velden, QuarantaineHerkomst, strict=False), list(headers[:n])


class TransactionalProducer(Protocol):
    """The part of aiokafka's transactional producer a stage uses (a fake in unit tests)."""

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]: ...

    async def send_offsets_to_transaction(
        self, offsets: dict[TopicPartition, int], group_id: str
    ) -> None: ...

    def create_batch(self) -> Any: ...

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]: ...

    async def partitions_for(self, topic: str) -> set[int]: ...


@dataclass(frozen=True, slots=True)
class _Failed:
    tp: TopicPartition
    index: int
    fout: Exception


class BatchProcessing:
    """Turns batches into transactions for one handler; quarantines the records it cannot handle."""

    def __init__(
        self,
        handler: StageHandler,
        producer: TransactionalProducer,
        *,
        group_id: str,
        metrics: Metrics,
        assigned: Callable[[], set[TopicPartition]],
        max_request_size: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        group_metadata: Callable[[], str] | None = None,
    ) -> None:
        self.handler = handler
        self.producer = producer
        self.group_id = group_id
        self.group_metadata = group_metadata or (lambda: group_id)
        """The group the offsets are committed for, at the moment of the commit: with the
        consumer's membership (`engine.kafka.kip447`), so that a zombie's commit is refused."""
        self.metrics = metrics
        self.assigned = assigned
        self.max_request_size = max_request_size
        self.clock = clock
        self.positions: dict[TopicPartition, int] = {}
        """The next offset to read of every partition committed so far (for the lag gauge)."""
        self._quarantine: tuple[TopicPartition, int, Output] | None = None

    async def process(self, batch: Batch) -> None:
        """Handle a batch in one transaction, or in one more per record that failed."""
        # The membership under which the batch was read, taken before anything is written: aiokafka
        # resets the consumer's generation when its heartbeat finds it expelled, and a commit under
        # "no generation" would be accepted as a manual one (test_zombie_pipeline saw it).
        group = self.group_metadata()
        rest = batch
        while rest or self._quarantine is not None:
            rest = await self._transaction(rest, group)

    async def _transaction(self, rest: Batch, group: str) -> Batch:
        if self._quarantine is not None:
            await self._quarantaine(self._quarantine, group)
            self._quarantine = None
        offsets: dict[TopicPartition, int] = {}
        mislukt: _Failed | None = None
        async with self.producer.transaction():
            # Before this transaction's first send: the broker's transaction timeout starts at its
            # first write, and restoring a partition can take longer than that timeout.
            await self.handler.prepare(set(rest) | self.assigned())
            batches = RecordBatches(self.producer, partition_for)
            for tp, records in rest.items():
                for i, record in enumerate(records):
                    try:
                        uitvoer = self._output(record)
                    except Exception as fout:  # any failure of this record's own handling
                        mislukt = _Failed(tp, i, fout)
                        break
                    for out in uitvoer:
                        await batches.add(out)
                    offsets[tp] = record.offset + 1
                if mislukt is not None:
                    break
            verzonden = await batches.send()
            if offsets:
                await self.producer.send_offsets_to_transaction(offsets, group)
                faults.freeze_at(self.handler.name, "after_offsets")
            # Every batch acknowledged before the commit: aiokafka's commit waits for them but does
            # not fail on one the broker refused, and would commit the offsets without its records.
            await asyncio.gather(*verzonden)
        self.positions.update(offsets)
        if mislukt is None:
            return {}
        return await self._after_failure(rest, mislukt)

    async def _quarantaine(self, quarantaine: tuple[TopicPartition, int, Output], group: str) -> None:
        """The failed record to dlq.engine and its offset committed, in a transaction of its own.
        Its send waits at the broker for the previous transaction's markers (module doc), so once
        it commits, the handler's reload of the partition (in the next transaction, before any
        write) reads everything committed before the record."""
        tp, offset, bericht = quarantaine
        async with self.producer.transaction():
            await (await self._send(bericht))
            await self.producer.send_offsets_to_transaction({tp: offset + 1}, group)
        self.positions[tp] = offset + 1

    def _output(self, record: Record) -> list[Output]:
        uitvoer = list(self.handler.process(record))
        for out in uitvoer:
            check_size(out, self.max_request_size)
        return uitvoer

    async def _send(self, out: Output) -> asyncio.Future[Any]:
        return await self.producer.send(
            out.topic, out.value, key=out.key, headers=list(out.headers), partition=out.partition
        )

    async def _after_failure(self, rest: Batch, mislukt: _Failed) -> Batch:
        """Quarantine the failed record in the next transaction; drop the state it may have changed;
        return the records after it."""
        tp, i, fout = mislukt.tp, mislukt.index, mislukt.fout
        record = rest[tp][i]
        stage = self.handler.name
        bericht = quarantine_record(record, stage=stage, fout=fout, nu=self.clock())
        self._quarantine = (tp, record.offset, bericht)
        error = OUTPUT_TOO_LARGE if isinstance(fout, OutputTooLarge) else foutsoort(fout)
        self.metrics.quarantined.labels(stage, error).inc()
        # Coordinates and the error's class only: its text may echo the record. The frames say where.
        log.warning(
            "%s: quarantined %s[%d]@%d to %s: %s\n%s",
            stage,
            record.topic,
            record.partition,
            record.offset,
            DLQ_ENGINE,
            error,
            "".join(traceback.format_tb(fout.__traceback__)),
        )
        await self.handler.on_revoked({tp})
        volgende: Batch = {}
        if rest[tp][i + 1 :]:
            volgende[tp] = rest[tp][i + 1 :]
        partities = list(rest)
        for later in partities[partities.index(tp) + 1 :]:
            volgende[later] = rest[later]
        return volgende
