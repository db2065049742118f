"""The key store on Kafka (`engine.sleutels`): the check at start that it is there and fits the
master key, and reading it whole for what must open sealed records (erasure, inzage, expiry).

A worker that would seal signals under a key store it cannot read back, or next to a log whose keys
are gone, refuses to start (docs/vergeten.md): data written then could never be opened again.
"""

from __future__ import annotations

import logging

from aiokafka import TopicPartition

from engine.handlers import clients
from engine.settings import KafkaConnection
from engine.sleutels import Sleutelfout, Sleutelring
from engine.topics import CONTROLE, SIGNAAL_LOG, SLEUTELS

log = logging.getLogger(__name__)


async def _eerste(kafka: KafkaConnection, tp: TopicPartition) -> tuple[bytes | None, bytes | None] | None:
    """The first committed record of a partition (key, value), or None when it has none."""
    consumer = clients.log_consumer(kafka, fetch_max_wait_ms=100)
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        if (await consumer.end_offsets([tp]))[tp] == await consumer.position(tp):
            return None
        while True:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=1)
            for r in batch.get(tp, ()):
                return r.key, r.value
    finally:
        await consumer.stop()


async def _heeft_records(kafka: KafkaConnection, topic: str) -> bool:
    tps = await clients.partitions_of(kafka, (topic,))
    consumer = clients.log_consumer(kafka)
    await consumer.start()
    try:
        eind = await consumer.end_offsets(tps)
        begin = await consumer.beginning_offsets(tps)
        return any(eind[tp] > begin[tp] for tp in tps)
    finally:
        await consumer.stop()


async def check(kafka: KafkaConnection, hoofdsleutel: bytes) -> None:
    """Called at start by a worker that seals signals, after the topics are declared. Writes the
    check record into a new, empty key store; raises Sleutelfout when the key store was lost (empty
    beside a signal log that holds records) or was made with another master key."""
    ring = Sleutelring(hoofdsleutel)
    eerste = await _eerste(kafka, TopicPartition(SLEUTELS, 0))
    if eerste is None:
        if await _heeft_records(kafka, SIGNAAL_LOG):
            raise Sleutelfout(
                f"the key store {SLEUTELS} is empty but {SIGNAAL_LOG} is not: the keys of the signals "
                "logged are lost. Restore the topic from a backup; starting would write signals beside "
                "ones that can never be read (to start afresh on purpose, delete the signal log too)"
            )
        await _schrijf_controle(kafka, ring.nieuw(CONTROLE))
        log.info("key store %s: check record written", SLEUTELS)
        return
    key, value = eerste
    if key != CONTROLE.encode():
        raise Sleutelfout(f"the key store {SLEUTELS} does not begin with its check record: not a key store")
    ring.herstel(CONTROLE, value)  # raises Sleutelfout under another master key


async def _schrijf_controle(kafka: KafkaConnection, verpakt: bytes) -> None:
    producer = clients.producer(kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(SLEUTELS, verpakt, key=CONTROLE.encode(), partition=0)
    finally:
        await producer.stop()
