"""Declaring the engine's topics on the broker at start: create what is missing, and refuse to
start when an existing topic disagrees with its declaration (someone changed its retention,
cleanup policy, partitions or min.insync.replicas behind the engine's back)."""

from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from engine.errors import ConfigurationError
from engine.kafka import clients
from engine.settings import KafkaConnection
from engine.topics import TopicSpec, afwijkingen


async def _configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """The effective configuration of each topic, as the broker reports it."""
    found: dict[str, dict[str, str]] = {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            if resource["error_code"]:
                raise ConfigurationError(
                    f"cannot read the configuration of topic {resource['resource_name']}: "
                    f"Kafka error {resource['error_code']} {resource['error_message'] or ''}"
                )
            found[resource["resource_name"]] = {
                e["config_names"]: e["config_value"] for e in resource["config_entries"]
            }
    return found


async def _check(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> None:
    if not specs:
        return
    partitions = {
        t["topic"]: len(t["partitions"]) for t in await admin.describe_topics([s.name for s in specs])
    }
    configs = await _configs(admin, [s.name for s in specs])
    problems = [p for s in specs for p in afwijkingen(s, partitions.get(s.name, 0), configs.get(s.name, {}))]
    if problems:
        raise ConfigurationError(
            "existing topics differ from what the engine declares; the worker will not start until "
            "they are set back (kafka-configs --alter) or the declaration is changed: " + "; ".join(problems)
        )


async def declare(kafka: KafkaConnection, specs: list[TopicSpec], replication_factor: int = 1) -> list[str]:
    """Create the topics that do not exist yet and check the others; returns the names created.

    Called once at worker start. Idempotent. Raises ConfigurationError naming every difference
    between an existing topic and its declaration.
    """
    admin = clients.admin(kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        await _check(admin, [s for s in specs if s.name in existing])
        missing = [s for s in specs if s.name not in existing]
        if missing:
            response: Any = await admin.create_topics(
                [NewTopic(s.name, s.partitions, replication_factor, topic_configs=s.config) for s in missing]
            )
            for topic, code, *_ in response.topic_errors:
                # 36: another worker created it at the same moment, which is fine.
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise ConfigurationError(f"cannot create topic {topic}: Kafka error code {code}")
        return [s.name for s in missing]
    finally:
        await admin.close()
