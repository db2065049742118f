"""What a refusal writes to `dlq.ingress`: the refused record as it came (or its decision, or its
pseudonymised form), with headers that say why and where it came from. Shared by the front doors and
the casus writer (besluiten), which refuses commands after the door."""

from __future__ import annotations

from datetime import datetime

from aiokafka import ConsumerRecord

from engine.errors import Weigering
from engine.events.headers import DlqHerkomst, kafka_headers
from engine.kafka.output import Output
from engine.topics import DLQ


def herkomst_headers(
    weigering: Weigering,
    coordinates: tuple[str, int, int, int],
    nu: datetime,
    value_form: str = "original",
) -> list[tuple[str, bytes]]:
    """The DLQ headers saying why a message was refused and where (topic, partition, offset,
    timestamp) the refused message came from."""
    topic, partition, offset, timestamp = coordinates
    herkomst = DlqHerkomst(
        reason=weigering.reden,
        reason_code=weigering.code,
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        source_timestamp=timestamp,
        refused_at=nu,
        value_form=value_form,
    )
    return kafka_headers(herkomst)


def dlq_bericht(record: ConsumerRecord[bytes, bytes], weigering: Weigering, nu: datetime) -> Output:
    """The refused message as it came (key, headers, bytes) plus where it came from and why."""
    coordinates = (record.topic, record.partition, record.offset, record.timestamp)
    return Output(
        DLQ, record.key, record.value, [*record.headers, *herkomst_headers(weigering, coordinates, nu)]
    )
