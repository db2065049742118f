"""Record batches for the fake producers of the unit tests: a batch keeps its records, and sending
it sends them one by one through the fake's own `send` (what a test asserts on)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

PARTITIONS = 8
"""How many partitions every topic has for `partitions_for`."""


@dataclass
class FakeBatch:
    records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = field(default_factory=list)

    def append(
        self,
        *,
        timestamp: float | None,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> Any:
        self.records.append((key, value, headers))
        return object()

    def size(self) -> int:
        return sum(len(k or b"") + len(v or b"") for k, v, _ in self.records)

    def record_count(self) -> int:
        return len(self.records)


class BatchesViaSend:
    """create_batch / send_batch / partitions_for of a fake producer that has `send`."""

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None, **kw: Any) -> Any:
        raise NotImplementedError

    def create_batch(self) -> FakeBatch:
        return FakeBatch()

    async def send_batch(self, batch: FakeBatch, topic: str, *, partition: int) -> asyncio.Future[Any]:
        for key, value, headers in batch.records:
            await self.send(topic, value, key=key, partition=partition, headers=headers)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(PARTITIONS))
