"""The key stores on Kafka (`engine.sleutels`, `engine.sleutels.casus`): the check at start that
each is there and fits the master key.

A worker that would seal signals under a key store it cannot read back, or next to a log whose keys
are gone, refuses to start (docs/vergeten.md): data written then could never be opened again.
"""

from __future__ import annotations

import logging

from aiokafka import TopicPartition

from engine.domain.vergeten.sleutels import Sleutelfout, Sleutelring
from engine.kafka import clients
from engine.settings import KafkaConnection
from engine.topics import CONTROLE, GEBEURTENISSEN, SIGNAAL_LOG, SLEUTELS, SLEUTELS_CASUS

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


SLEUTELSTORES = (
    (SLEUTELS, SIGNAAL_LOG, "signals"),
    (SLEUTELS_CASUS, GEBEURTENISSEN, "casus, HKP and beeld events"),
)
"""Each key store, the log its keys open, and what that log holds (for the message)."""


async def check(kafka: KafkaConnection, hoofdsleutel: bytes) -> None:
    """Called at start by a worker that seals records, after the topics are declared. Writes the
    check record into a new, empty key store; raises Sleutelfout when a key store was lost (empty
    beside a log that holds records) or was made with another master key."""
    for sleutels, log_topic, wat in SLEUTELSTORES:
        await _check(kafka, hoofdsleutel, sleutels, log_topic, wat)


async def _check(
    kafka: KafkaConnection, hoofdsleutel: bytes, sleutels: str, log_topic: str, wat: str
) -> None:
    ring = Sleutelring(hoofdsleutel)
    eerste = await _eerste(kafka, TopicPartition(sleutels, 0))
    if eerste is None:
        if await _heeft_records(kafka, log_topic):
            raise Sleutelfout(
                f"the key store {sleutels} is empty but {log_topic} is not: the keys of the {wat} "
                "logged are lost. Restore the topic from a backup; starting would write records beside "
                "ones that can never be read (to start afresh on purpose, delete that log too)"
            )
        await _schrijf_controle(kafka, sleutels, ring.nieuw(CONTROLE))
        log.info("key store %s: check record written", sleutels)
        return
    key, value = eerste
    if key != CONTROLE.encode():
        raise Sleutelfout(f"the key store {sleutels} does not begin with its check record: not a key store")
    ring.herstel(CONTROLE, value)  # raises Sleutelfout under another master key


async def _schrijf_controle(kafka: KafkaConnection, sleutels: str, verpakt: bytes) -> None:
    producer = clients.producer(kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(sleutels, verpakt, key=CONTROLE.encode(), partition=0)
    finally:
        await producer.stop()
