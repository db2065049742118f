"""What a stage's handler gives the stage: the outputs of one record, and the methods a stage
calls (`before_batch`, `prepare`, `on_revoked`, `process`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import ConsumerRecord, TopicPartition


@dataclass(frozen=True, slots=True)
class Output:
    """One message a handler wants written, inside the batch's transaction."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()
    partition: int | None = None
    """Set when the output must land on the same partition number as its input (co-partitioning)."""


class StageHandler(Protocol):
    """What a stage needs from the code that knows the domain."""

    name: str

    async def before_batch(self) -> None:
        """Called once before each batch the stage read, before its transactions begin: bring what
        the handler reads but does not own (the HKP register, the open-casus index) up to date."""

    async def prepare(self, partitions: set[TopicPartition]) -> None:
        """Called before every transaction with the partitions assigned: load the state any of them lacks.

        Per batch, not in the rebalance listener: aiokafka may return records of a newly assigned
        partition before the listener's on_partitions_assigned has finished.
        """

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        """Drop the state of these partitions: they are no longer ours (after the batch in flight
        committed), or a record of theirs failed after its handler may have changed their state
        (the next `prepare` reloads it from the log, which holds only what was committed)."""

    def process(self, record: ConsumerRecord[bytes, bytes]) -> Iterable[Output]:
        """The outputs for one record. The stage materialises them before writing any; when this
        raises, none is written and the record is quarantined to dlq.engine."""
