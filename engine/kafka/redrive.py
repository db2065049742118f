"""Re-driving quarantined records: once the cause is fixed, put records of `dlq.engine` back on
their source topic and partition, as they came (key, own headers, bytes, timestamp), for their
stage to handle again (`python -m engine.tools herverwerk`).

Safe to repeat. Each re-drive is recorded on dlq.engine itself by a marker (in the same transaction
as the re-driven record), and a record already re-driven is left alone unless asked (`opnieuw`).
And the stages are idempotent where a record can arrive twice anyway: vastleggen de-duplicates
signal ids, besluiten command ids, the index changes are sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeAlias

import msgspec
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition

from engine.events.headers import QuarantaineHerkomst
from engine.kafka import clients
from engine.kafka.quarantine import read_quarantine
from engine.kafka.state import KafkaLog
from engine.settings import KafkaConnection
from engine.topics import DLQ_ENGINE, DLQ_MAX_BYTES

Record: TypeAlias = ConsumerRecord[bytes, bytes]
MARKER = "redriven_dlq_offset"
"""The first header of a marker record: the dlq.engine offset of the quarantined record re-driven.
A marker has exactly these headers, so a quarantined record cannot pass for one by the headers it
brought (those come before the quarantine headers)."""
_MARKER_HEADERS = [MARKER, "redriven_to", "redriven_at"]


@dataclass(frozen=True, slots=True)
class Selection:
    """Which quarantined records to re-drive; an empty field selects all."""

    stages: frozenset[str] = frozenset()
    errors: frozenset[str] = frozenset()
    reason_codes: frozenset[str] = frozenset()
    source_topics: frozenset[str] = frozenset()
    offsets: frozenset[int] = frozenset()
    """Offsets on dlq.engine."""
    opnieuw: bool = False
    """Also records re-driven before."""

    def matches(self, offset: int, h: QuarantaineHerkomst) -> bool:
        return all(
            not wanted or value in wanted
            for wanted, value in (
                (self.stages, h.stage),
                (self.errors, h.error),
                (self.reason_codes, h.reason_code),
                (self.source_topics, h.source_topic),
                (self.offsets, offset),
            )
        )


@dataclass(frozen=True, slots=True)
class Redrive:
    """One quarantined record to put back."""

    dlq_offset: int
    herkomst: QuarantaineHerkomst
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def select(records: Iterable[Record], keuze: Selection) -> list[Redrive]:
    """The quarantined records of dlq.engine (read from offset 0) that `keuze` selects, in order."""
    gedaan: set[int] = set()
    gevonden: list[Redrive] = []
    for r in records:
        if [name for name, _ in r.headers] == _MARKER_HEADERS:
            gedaan.add(int(r.headers[0][1]))
            continue
        try:
            herkomst, eigen = read_quarantine(r.headers)
        except (KeyError, ValueError, msgspec.ValidationError):
            continue  # not written by a stage: nothing to re-drive
        if keuze.matches(r.offset, herkomst):
            gevonden.append(Redrive(r.offset, herkomst, r.key, r.value, eigen))
    return [h for h in gevonden if keuze.opnieuw or h.dlq_offset not in gedaan]


def _producer(kafka: KafkaConnection, app_id: str) -> AIOKafkaProducer:
    # One transactional id for the command, so a re-drive interrupted half-way is aborted, not half done.
    return clients.producer(
        kafka,
        transactional_id=f"{app_id}-herverwerk",
        max_request_size=DLQ_MAX_BYTES + 1024 * 1024,
    )


async def redrive(
    kafka: KafkaConnection, keuze: Selection, *, app_id: str = "riec-engine", proef: bool = False
) -> list[Redrive]:
    """Re-drive the selected records in one transaction (with their markers); returns them.
    `proef`: only select and return them. A record whose value was too large to keep
    (`value_form=omitted`) is not re-driven: it is still on its source topic at its offset."""
    records = [r async for r in KafkaLog(kafka).read(TopicPartition(DLQ_ENGINE, 0))]
    gekozen = [h for h in select(records, keuze) if h.herkomst.value_form == "original"]
    if proef or not gekozen:
        return gekozen
    producer = _producer(kafka, app_id)
    await producer.start()
    try:
        async with producer.transaction():
            for h in gekozen:
                await _send(producer, h)
    finally:
        await producer.stop()
    return gekozen


async def _send(producer: AIOKafkaProducer, h: Redrive) -> None:
    herkomst = h.herkomst
    await producer.send(
        herkomst.source_topic,
        h.value,
        key=h.key,
        partition=herkomst.source_partition,
        timestamp_ms=herkomst.source_timestamp,
        headers=h.headers,
    )
    naar = f"{herkomst.source_topic}[{herkomst.source_partition}]"
    marker = [
        (MARKER, str(h.dlq_offset).encode()),
        ("redriven_to", naar.encode()),
        ("redriven_at", datetime.now(UTC).isoformat().encode()),
    ]
    await producer.send(DLQ_ENGINE, b"", key=str(h.dlq_offset).encode(), headers=marker)
