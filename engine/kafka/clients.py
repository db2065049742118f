"""Every Kafka client of the engine and its tools, built from one `KafkaConnection`: the only place
that constructs aiokafka clients, so none of them can forget the credentials or the CA."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import TopicAuthorizationFailedError
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.metadata import MetadataRequest

from engine.settings import KafkaConnection


def _ssl_context(k: KafkaConnection) -> ssl.SSLContext | None:
    if not k.tls:
        return None
    # The CA of the broker's certificate; without one, the system's trusted CAs.
    context: ssl.SSLContext = create_ssl_context(cafile=str(k.ssl_cafile) if k.ssl_cafile else None)
    return context


def security_kwargs(k: KafkaConnection) -> dict[str, Any]:
    """aiokafka's connection arguments for `k`: bootstrap servers, protocol, SASL and TLS."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": k.bootstrap_servers,
        "security_protocol": k.security_protocol,
    }
    if k.sasl:
        kwargs |= {
            "sasl_mechanism": k.sasl_mechanism,
            "sasl_plain_username": k.sasl_username,
            "sasl_plain_password": k.sasl_password,
        }
    context = _ssl_context(k)
    if context is not None:
        kwargs["ssl_context"] = context
    return kwargs


def consumer(k: KafkaConnection, *topics: str, **kwargs: Any) -> AIOKafkaConsumer:
    """A consumer (not started) of `topics` with the engine's credentials."""
    return AIOKafkaConsumer(*topics, **security_kwargs(k), **kwargs)


def log_consumer(k: KafkaConnection, *topics: str, **kwargs: Any) -> AIOKafkaConsumer:
    """A consumer (not started) that reads logs back: committed records only, from the start of a
    partition it has no position in, and no group offsets (it assigns partitions itself). What
    restores a stage's state, reads the tables, feeds the projections and tails topics for a tool."""
    return consumer(
        k,
        *topics,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        **kwargs,
    )


def producer(k: KafkaConnection, **kwargs: Any) -> AIOKafkaProducer:
    """A producer (not started) with the engine's credentials."""
    return AIOKafkaProducer(**security_kwargs(k), **kwargs)


def admin(k: KafkaConnection) -> AIOKafkaAdminClient:
    """An admin client (not started) with the engine's credentials."""
    return AIOKafkaAdminClient(**security_kwargs(k))


async def partitions_of(k: KafkaConnection, topics: tuple[str, ...]) -> list[TopicPartition]:
    """Every partition of these topics, as the broker describes them now; a missing topic raises."""
    client = admin(k)
    await client.start()
    try:
        beschreven = await client.describe_topics(list(topics))
    finally:
        await client.close()
    gevonden = {
        t["topic"]: sorted(p["partition"] for p in t["partitions"]) for t in beschreven if t["partitions"]
    }
    missing = [t for t in topics if t not in gevonden]
    if missing:
        raise RuntimeError(f"topics not found on the broker: {missing}")
    return [TopicPartition(t, p) for t in topics for p in gevonden[t]]


def faust_credentials(k: KafkaConnection) -> faust.types.auth.CredentialsT | None:
    """faust's broker credentials for its own clients (its assignor topic and group)."""
    if k.sasl:
        return faust.SASLCredentials(
            username=k.sasl_username,
            password=k.sasl_password,
            ssl_context=_ssl_context(k),
            mechanism=k.sasl_mechanism,
        )
    context = _ssl_context(k)
    return faust.SSLCredentials(context) if context is not None else None


async def wait_until_authorised(k: KafkaConnection, topics: tuple[str, ...], timeout: float = 30.0) -> None:
    """Return once every broker lets `k`'s principal see `topics`; raise after `timeout` seconds.

    ACLs just created reach each broker through the metadata log, a moment apart: a client that
    starts producing at once can meet a broker that does not know them yet and be refused for
    good (TopicAuthorizationFailed is not retried). Each broker answers a Metadata request with
    its own view of the ACLs, so asking every one of them is the check."""
    client = AIOKafkaClient(**security_kwargs(k))
    await client.bootstrap()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        waiting = {b.nodeId for b in client.cluster.brokers()}
        while waiting:
            for node in sorted(waiting):
                answer = await client.send(node, MetadataRequest(list(topics)))
                if all(t[0] != TopicAuthorizationFailedError.errno for t in answer.topics):
                    waiting.discard(node)
            if waiting:
                if asyncio.get_running_loop().time() > deadline:
                    raise TopicAuthorizationFailedError(f"brokers {sorted(waiting)} refuse {topics}")
                await asyncio.sleep(0.2)
    finally:
        await client.close()


async def end_offsets(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """`consumer.end_offsets`, with the metadata of all their topics asked for in one request first.

    An unsubscribed consumer knows no topic: aiokafka's `end_offsets` then asks for the metadata of
    one unknown topic per round and waits its retry backoff between rounds, so the end offsets of the
    front door's 285 partner topics took 29 s on the local cluster (`engine.tools status` timed out).
    Adding every topic before the first round makes it one request: 0.04 s."""
    client = consumer._client  # aiokafka has no public way to track topics in bulk
    pending = [client.add_topic(t) for t in {tp.topic for tp in partitions}]
    await asyncio.gather(*pending)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    return ends
