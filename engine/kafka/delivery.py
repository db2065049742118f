"""How a front door delivers: at least once, without a transaction, where the internal stages use
exactly-once transactions (`engine.kafka.stage`).

A front door's outputs are idempotent downstream by design: vastleggen drops a signal whose id it
has logged, besluiten a command its aggregate has applied, as they drop a partner's or an office's
own duplicates. So a front door need not pay a transaction per poll (begin, AddPartitionsToTxn,
AddOffsetsToTxn, TxnOffsetCommit, EndTxn: four round trips, and markers on every partition it
wrote) nor make vastleggen wait for its commit markers before reading. It sends a batch's outputs,
waits until the broker has acknowledged every one (acks=all, idempotent producer: no duplicate from
its own retries), and only then commits the consumed offsets. After a crash between the two the
batch is read again: its signals and commands are written twice and dropped downstream; a refusal
is written twice to `dlq.ingress`, with the same source coordinates (topic, partition, offset), by
which a reader of the DLQ recognises it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


class AtLeastOnce:
    """A producer that looks like a transactional one to `BatchProcessing` (`TransactionalProducer`),
    but whose "transaction" is: send, wait for every acknowledgement, then commit the offsets."""

    def __init__(self, producer: AIOKafkaProducer, consumer: AIOKafkaConsumer) -> None:
        self.producer = producer
        self.consumer = consumer
        self._in_flight: list[asyncio.Future[Any]] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            self._in_flight.clear()  # on an error the batch is read again from the last commit

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = await self.producer.send(
            topic, value, key=key, partition=partition, timestamp_ms=timestamp_ms, headers=headers
        )
        self._in_flight.append(fut)
        return fut

    def create_batch(self) -> Any:
        return self.producer.create_batch()

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = await self.producer.send_batch(batch, topic, partition=partition)
        self._in_flight.append(fut)
        return fut

    async def partitions_for(self, topic: str) -> set[int]:
        return set(await self.producer.partitions_for(topic))

    async def send_offsets_to_transaction(self, offsets: dict[TopicPartition, int], group_id: str) -> None:
        """Commit `offsets` once every output sent before is acknowledged; raises (and commits
        nothing) when one failed, so the batch is read again."""
        onderweg, self._in_flight = self._in_flight, []
        await asyncio.gather(*onderweg)
        await self.consumer.commit(offsets)
