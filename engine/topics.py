"""Every topic the engine reads or writes, with its partitions and retention, and their declaration.

Contract topics keep the names of contract.md. Internal topics start with `engine.`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from engine.errors import ConfigurationError
from engine.reference import LFTS, RIECS, Gebiedsindeling
from engine.routing import (
    EURIEC,
    LIEC_LOKET,
    LIEC_TRIAGE,
    lft_bestemming,
    riec_bestemming,
    topic_van,
)
from engine.settings import Settings

DLQ = "dlq.ingress"
KANDIDATEN = "engine.signalen.kandidaten"
"""Accepted but not yet de-duplicated signals, keyed by signaal_id (ingress → vastleggen)."""
SIGNAAL_LOG = "engine.signalen"
"""The signal log of record: every accepted signal once, keyed by signaal_id, kept forever."""

_DAY_MS = 24 * 3600 * 1000
_MIB = 1024 * 1024


def partner_topic(org: str) -> str:
    return f"partner.{org}.signalen"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def route_bestemmingen() -> list[str]:
    """Every destination a signal can be routed to."""
    return (
        [riec_bestemming(r) for r in RIECS]
        + [lft_bestemming(lft) for lft in LFTS]
        + [LIEC_LOKET, LIEC_TRIAGE, EURIEC]
    )


def engine_topics(settings: Settings, gebied: Gebiedsindeling) -> list[TopicSpec]:
    """The topics a worker declares at start (missing ones are created, existing ones kept)."""
    # Partner topics and the DLQ hold raw BSNs: bounded retention, access-restricted (README).
    partner = {"retention.ms": str(14 * _DAY_MS), "max.message.bytes": str(2 * _MIB)}
    specs = [
        TopicSpec(partner_topic(org), settings.partner_partitions, partner) for org in gebied.partner_orgs
    ]
    specs.append(TopicSpec(DLQ, 1, {"retention.ms": str(30 * _DAY_MS), "max.message.bytes": str(8 * _MIB)}))
    specs.append(TopicSpec(KANDIDATEN, settings.partitions, {"retention.ms": str(7 * _DAY_MS)}))
    specs.append(TopicSpec(SIGNAAL_LOG, settings.partitions, {"retention.ms": "-1"}))
    specs += [TopicSpec(topic_van(b), 1, {"retention.ms": str(365 * _DAY_MS)}) for b in route_bestemmingen()]
    return specs


async def declare(bootstrap_servers: str, specs: list[TopicSpec], replication_factor: int = 1) -> list[str]:
    """Create the topics that do not exist yet; returns the names created. Idempotent."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
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
