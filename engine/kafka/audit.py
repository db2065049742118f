"""Writes LDV audit records to `engine.audit`, acknowledged by the broker before a read is answered."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from engine.api.audit import AUDIT_ENCODER, Verwerkingslog
from engine.kafka import clients
from engine.settings import KafkaConnection
from engine.topics import AUDIT


class AuditWriter:
    def __init__(self, kafka: KafkaConnection) -> None:
        self.kafka = kafka
        self._producer: AIOKafkaProducer | None = None

    async def schrijf(self, log: Verwerkingslog) -> None:
        """Raises when the record could not be stored; the caller must then not answer the read."""
        if self._producer is None:  # created in the worker's event loop, on first use
            self._producer = clients.producer(self.kafka, acks="all")
            await self._producer.start()
        await self._producer.send_and_wait(AUDIT, AUDIT_ENCODER.encode(log), key=log.trace_id.encode())

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
