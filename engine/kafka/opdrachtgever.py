"""Writes a RIEC command from the dashboard to `riec.<riec>.opdrachten`, as CloudEvents in binary
mode, acknowledged by the broker before the API answers 202. The command then takes the same road
as one a RIEC office's own system writes: ingress checks it, the aggregate's writer decides it."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from engine.domain.ingress.opdrachten import AUTEUR_HEADER
from engine.events.envelope import riec_source
from engine.kafka import clients
from engine.settings import KafkaConnection
from engine.topics import opdrachten_topic

KANAAL_HEADER = "riec_kanaal"


class CommandWriter:
    def __init__(self, kafka: KafkaConnection) -> None:
        self.kafka = kafka
        self._producer: AIOKafkaProducer | None = None

    async def schrijf(
        self, *, riec: str, ce_id: str, ce_type: str, payload: bytes, auteur: str, key: str
    ) -> datetime:
        """Raises when the broker did not take the command; the caller must then not answer 202.
        Returns the command's `ce_time`."""
        if self._producer is None:  # created in the worker's event loop, on first use
            self._producer = clients.producer(self.kafka, acks="all", enable_idempotence=True)
            await self._producer.start()
        nu = datetime.now(UTC)
        headers = [
            ("ce_specversion", b"1.0"),
            ("ce_id", ce_id.encode()),
            ("ce_source", riec_source(riec).encode()),
            ("ce_type", ce_type.encode()),
            ("ce_time", nu.isoformat().encode()),
            ("content-type", b"application/json"),
            (AUTEUR_HEADER, auteur.encode()),
            (KANAAL_HEADER, b"dashboard"),
        ]
        await self._producer.send_and_wait(opdrachten_topic(riec), payload, key=key.encode(), headers=headers)
        return nu

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
