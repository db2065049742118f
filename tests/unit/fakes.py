"""Fakes for handler unit tests: a log held in memory, written by a handler's own outputs, from
which a handler restores its partitions as it would from Kafka (`engine.kafka.state.LogReader`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable

from aiokafka import ConsumerRecord, TopicPartition

from engine.kafka.output import Output

Record = ConsumerRecord[bytes, bytes]


def record(topic: str, key: bytes | None, value: bytes | None, partition: int = 0, offset: int = 0) -> Record:
    """A consumed record as aiokafka gives it (timestamp 0, no headers)."""
    return ConsumerRecord(topic, partition, offset, 0, 0, key, value, None, 0, 0, [])


class LogInMemory:
    """Topics as lists of records per partition; `read` is `KafkaLog.read` without a broker."""

    def __init__(self) -> None:
        self.partities: dict[TopicPartition, list[Record]] = defaultdict(list)

    def append(self, topic: str, key: bytes | None, value: bytes | None, partition: int = 0) -> Record:
        tp = TopicPartition(topic, partition)
        r = record(topic, key, value, partition, len(self.partities[tp]))
        self.partities[tp].append(r)
        return r

    def write(self, outputs: Iterable[Output]) -> list[Output]:
        """Commit a handler's outputs (each on its own partition, 0 when it names none)."""
        written = list(outputs)
        for u in written:
            self.append(u.topic, u.key, u.value, u.partition or 0)
        return written

    def records(self, topic: str, partition: int = 0) -> list[Record]:
        return list(self.partities[TopicPartition(topic, partition)])

    async def read(self, tp: TopicPartition) -> AsyncIterator[Record]:
        for r in list(self.partities[tp]):
            yield r
