"""A transaction's outputs written as whole record batches, one per topic partition.

`producer.send()` costs about 6.7 µs per record (a future, a lookup of the partition's open batch,
a check of the accumulator's size) where appending to a batch the stage builds itself costs about
1.3 µs, and a signal makes four or five records. With `send()` the accumulator also closes a batch
at the producer's `max_batch_size` (16 KiB by default), so a poll of a few hundred signals went out
as many small batches, each its own entry in a produce request. Here a stage appends every output
of a transaction to a builder per topic partition (`create_batch`), and hands each builder to the
producer (`send_batch`) when it is full or when the transaction is about to commit its offsets.

The order of a partition's records is the order they were added: a full builder is sent before
the next one is started, and the producer keeps a partition's batches in order. A batch is never
larger than its topic's `max.message.bytes` (the broker refuses a larger one); a single record
that large or larger was refused before it got here (`quarantine.check_size`).
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import Callable
from typing import Any, Protocol

from engine.kafka.output import Output
from engine.topics import max_bericht_bytes


def partition_for(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """The partition of a key on internal topics: crc32 (in C) instead of aiokafka's pure-Python
    murmur2, which took 8% of a worker's time. Every stage producer uses it, so records with the
    same key still meet on the same partition; partner topics are never written with it."""
    if key is None:
        return random.choice(available or all_partitions)
    return zlib.crc32(key) % len(all_partitions)  # Kafka partitions are numbered 0..n-1


BATCH_BYTES = 512 * 1024
"""The largest batch a stage builds (the producer's `max_batch_size` must be at least this): big
enough that a poll's outputs to one partition fit in one, well under the internal topics' 1 MiB."""


def _ruw(out: Output) -> int:
    """An output's size in a batch, roughly (a record's own overhead is a few dozen bytes): enough
    to keep a batch under `max_bytes`, which leaves half of the topic's limit to spare."""
    kop = sum(len(k) + len(v) for k, v in out.headers)
    return len(out.key or b"") + len(out.value or b"") + kop + 64


class Batch(Protocol):
    """aiokafka's `BatchBuilder`, as far as it is used here (a fake in unit tests)."""

    def append(
        self,
        *,
        timestamp: float | None,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> Any: ...

    def size(self) -> int: ...

    def record_count(self) -> int: ...


class BatchProducer(Protocol):
    def create_batch(self) -> Batch: ...

    async def send_batch(self, batch: Batch, topic: str, *, partition: int) -> asyncio.Future[Any]: ...

    async def partitions_for(self, topic: str) -> set[int]: ...


class RecordBatches:
    """The open batches of one transaction; `add` each output, then `send` before the offsets."""

    def __init__(
        self,
        producer: BatchProducer,
        partitioner: Callable[[bytes | None, list[int], list[int]], int],
        max_bytes: int = BATCH_BYTES,
    ) -> None:
        self.producer = producer
        self.partitioner = partitioner
        self.max_bytes = max_bytes
        self._open: dict[tuple[str, int], Batch] = {}
        self._partitions: dict[str, list[int]] = {}
        self.sent: list[asyncio.Future[Any]] = []

    async def add(self, out: Output) -> None:
        partition = out.partition
        if partition is None:
            partitions = self._partitions.get(out.topic)
            if partitions is None:
                partitions = self._partitions[out.topic] = sorted(
                    await self.producer.partitions_for(out.topic)
                )
            partition = self.partitioner(out.key, partitions, partitions)
        plek = (out.topic, partition)
        batch = self._open.get(plek)
        if batch is not None and batch.size() + _ruw(out) > min(self.max_bytes, max_bericht_bytes(out.topic)):
            await self._send(plek, batch)
            batch = None
        if batch is None:
            batch = self._open[plek] = self.producer.create_batch()
        if batch.append(timestamp=None, key=out.key, value=out.value, headers=list(out.headers)) is None:
            # Only when the producer's max_batch_size is below `max_bytes`: send and start again.
            await self._send(plek, batch)
            batch = self._open[plek] = self.producer.create_batch()
            if batch.append(timestamp=None, key=out.key, value=out.value, headers=list(out.headers)) is None:
                raise AssertionError("a first record always fits an empty batch")

    async def send(self) -> list[asyncio.Future[Any]]:
        """Hand every open batch to the producer; the futures of all batches sent."""
        for plek, batch in list(self._open.items()):
            await self._send(plek, batch)
        return self.sent

    async def _send(self, plek: tuple[str, int], batch: Batch) -> None:
        del self._open[plek]
        if batch.record_count():
            self.sent.append(await self.producer.send_batch(batch, plek[0], partition=plek[1]))
