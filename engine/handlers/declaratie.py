"""Declaring the engine's topics on the broker at start: create what is missing, check what exists."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from engine.errors import ConfigurationError
from engine.topics import TopicSpec


async def _check_partitions(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> None:
    """Co-partitioned internal topics must keep the partition count they were created with."""
    if not specs:
        return
    wanted = {s.name: s.partitions for s in specs}
    for topic in await admin.describe_topics(list(wanted)):
        found = len(topic["partitions"])
        if found != wanted[topic["topic"]]:
            raise ConfigurationError(
                f"topic {topic['topic']} has {found} partitions but ENGINE_PARTITIONS asks for "
                f"{wanted[topic['topic']]}; internal topics are co-partitioned, so keep the count they "
                "were created with (or rebuild them)"
            )


async def declare(bootstrap_servers: str, specs: list[TopicSpec], replication_factor: int = 1) -> list[str]:
    """Create the topics that do not exist yet; returns the names created. Idempotent."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        await _check_partitions(
            admin, [s for s in specs if s.name in existing and s.name.startswith("engine.")]
        )
        missing = [s for s in specs if s.name not in existing]
        if missing:
            response = await admin.create_topics(
                [NewTopic(s.name, s.partitions, replication_factor, topic_configs=s.config) for s in missing]
            )
            for topic, code, *_ in response.topic_errors:
                # 36: another worker created it at the same moment, which is fine.
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise ConfigurationError(f"cannot create topic {topic}: Kafka error code {code}")
        return [s.name for s in missing]
    finally:
        await admin.close()
