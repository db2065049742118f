"""Every topic the engine reads or writes, with its partitions and retention (declared by
`engine.kafka.declaratie`).

Contract topics keep the names of contract.md. Internal topics start with `engine.`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from engine.domain.reference import LFTS, RIECS, Gebiedsindeling
from engine.domain.routing import (
    EURIEC,
    LIEC_LOKET,
    LIEC_TRIAGE,
    lft_bestemming,
    riec_bestemming,
    topic_van,
)
from engine.settings import Settings

DLQ = "dlq.ingress"
DLQ_ENGINE = "dlq.engine"
"""Quarantine: records a stage could not handle (an exception, an output too large), with their
original key, headers and bytes plus where they came from and why; re-driven by
`engine.tools herverwerk` once the cause is fixed."""
KANDIDATEN = "engine.signalen.kandidaten"
"""Accepted but not yet de-duplicated signals, keyed by signaal_id (ingress → vastleggen)."""
SIGNAAL_LOG = "engine.signalen"
"""The signal log of record: every accepted signal once, keyed by signaal_id, kept forever."""
OPDRACHTEN_KANDIDATEN = "engine.opdrachten.kandidaten"
"""Accepted RIEC commands keyed by aggregate (opdrachten → besluiten)."""
GEBEURTENISSEN = "engine.gebeurtenissen"
"""The casus, HKP and ondermijningsbeeld log of record, keyed by aggregate, kept forever."""
KNELPUNTEN = "engine.knelpunten"
"""The HKP events again, unsealed, on one partition, for the register every worker holds; compacted
by hkp_id, so an HKP forgotten (`AggregaatVergeten`, same key) leaves no name or pseudonym here."""
ZOEKINDEX = "engine.zoekindex"
"""Keyed by identifier: open-casus index changes and the routing slips of signals."""
CASUSINDEX = "engine.casusindex"
"""The open-casus index's changelog (compacted), co-partitioned with engine.zoekindex."""
SLEUTELS = "engine.sleutels"
"""The key store (compacted, keyed by key id): each signal's data key, wrapped under the master
key, on the partition number of its signal; a tombstone destroys it (docs/vergeten.md). Its first
record on partition 0 is `CONTROLE`: the check that the master key fits."""
SLEUTELS_CASUS = "engine.sleutels.casus"
"""The key store of the aggregates (compacted): each casus's, HKP's and ondermijningsbeeld's data
key (`casus:<id>`, `hkp:<id>`, `beeld:<id>`) on the partition of its events; kept apart from the
signals' keys so that a projection worker need not hold a key per signal. Begins with `CONTROLE`."""
CONTROLE = "controle"
VERGETEN = "engine.vergeten"
"""What was forgotten, by an approved erasure or a retention period: ids, rules and times only."""
AUDIT = "engine.audit"
"""LDV records of every read of personal data through the API (kept five years)."""
VERZOEKOPDRACHTEN = "engine.verzoekopdrachten"
"""Four-eyes commands from the API (file, approve, turn down a request), keyed by request id."""
VERZOEKEN = "engine.verzoeken"
"""The four-eyes requests' events (`engine.domain.vergeten.vieroogen`), kept forever: what was asked, by
whom, who
approved, turned down or was refused; the erasure and the other acts read the approvals here."""

REGELVERSIES = "engine.regelversies"
"""The adopted rule versions (`RegelversieAangenomen`), compacted by version id, one partition:
written by the executor of an approved `regelversie_aannemen`, read whole by every routing worker,
which routes only with the baseline and these (`engine.domain.reference.regelversies`)."""

_DAY_MS = 24 * 3600 * 1000
_MIB = 1024 * 1024
DLQ_MAX_BYTES = 8 * _MIB
PARTNER_MAX_BYTES = 2 * _MIB
INTERNAL_MAX_BYTES = _MIB
"""Topics without their own max.message.bytes take the broker's default (1,048,588 bytes); a stage
holds its outputs to 1 MiB, just under it."""


@cache
def max_bericht_bytes(topic: str) -> int:
    """The largest record a stage may write to `topic` (its max.message.bytes as declared below)."""
    if topic.startswith("dlq."):
        return DLQ_MAX_BYTES
    if topic.startswith("partner."):
        return PARTNER_MAX_BYTES
    return INTERNAL_MAX_BYTES


def partner_topic(org: str) -> str:
    return f"partner.{org}.signalen"


def opdrachten_topic(riec: str) -> str:
    return f"riec.{riec}.opdrachten"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)

    @property
    def co_partitioned(self) -> bool:
        """Internal topics are read side by side by partition number: their count is fixed."""
        return self.name.startswith("engine.")


def afwijkingen(spec: TopicSpec, partitions: int, config: dict[str, str]) -> list[str]:
    """How an existing topic (its partition count and effective config) differs from `spec`.

    Every declared config key is compared, and the cleanup policy always (a compacted signal log
    would silently lose signals). Partner and route topics may have more partitions than declared
    (ops may raise them for throughput); co-partitioned internal topics must have exactly as many.
    """
    found: list[str] = []
    if spec.co_partitioned and partitions != spec.partitions:
        found.append(
            f"{spec.name} has {partitions} partitions, declared {spec.partitions} (ENGINE_PARTITIONS): "
            "internal topics are co-partitioned, keep the count they were created with or rebuild them"
        )
    elif partitions < spec.partitions:
        found.append(f"{spec.name} has {partitions} partitions, declared at least {spec.partitions}")
    wanted = {"cleanup.policy": "delete", **spec.config}
    for key, value in sorted(wanted.items()):
        if not _gelijk(key, config.get(key), value):
            found.append(f"{spec.name} has {key}={config.get(key)}, declared {value}")
    return found


def _gelijk(key: str, found: str | None, declared: str) -> bool:
    """A list-valued config (cleanup.policy `compact,delete`) is the same in any order and spacing."""
    if key == "cleanup.policy" and found is not None:
        return {p.strip() for p in found.split(",")} == {p.strip() for p in declared.split(",")}
    return found == declared


def route_bestemmingen() -> list[str]:
    """Every destination a signal can be routed to."""
    return (
        [riec_bestemming(r) for r in RIECS]
        + [lft_bestemming(lft) for lft in LFTS]
        + [LIEC_LOKET, LIEC_TRIAGE, EURIEC]
    )


def engine_topics(settings: Settings, gebied: Gebiedsindeling) -> list[TopicSpec]:
    """The topics a worker declares at start (missing ones are created, existing ones kept)."""
    # A write is acknowledged by two replicas when there are three (one on a single node).
    isr = {"min.insync.replicas": str(max(1, min(2, settings.replication_factor - 1)))}
    termijn = {regel: str(int(t.total_seconds() * 1000)) for regel, t in settings.termijnen().items()}
    # A segment is deleted whole once its newest record is past retention: segments of at most
    # `vergeet_binnen_ms` keep what ran out from waiting for a week-long segment to fill.
    segmenten = {"segment.ms": str(min(settings.vergeet_binnen_ms, int(termijn["doorgang"])))}
    week = {"retention.ms": termijn["doorgang"], **segmenten}  # passing through: read within seconds
    # Partner topics and the DLQ hold raw BSNs: bounded retention, access-restricted (README).
    partner = {**week, "max.message.bytes": str(PARTNER_MAX_BYTES)}
    orgs = [*gebied.partner_orgs, *sorted(settings.extra_gemeenten)]
    specs = [TopicSpec(partner_topic(org), settings.partner_partitions, partner) for org in orgs]
    dlq = {"retention.ms": termijn["dlq"], "max.message.bytes": str(DLQ_MAX_BYTES), **segmenten}
    specs.append(TopicSpec(DLQ, 1, dlq))
    # Quarantined records keep their original bytes, raw BSNs too when they came from a front door:
    # access-restricted and bounded like dlq.ingress.
    specs.append(TopicSpec(DLQ_ENGINE, 1, dlq))
    specs.append(TopicSpec(KANDIDATEN, settings.partitions, week))
    specs.append(TopicSpec(SIGNAAL_LOG, settings.partitions, {"retention.ms": "-1"}))
    # Commands may name persons (raw BSN) too: access-restricted like partner topics.
    specs += [TopicSpec(opdrachten_topic(r), 1, week) for r in RIECS]
    specs.append(TopicSpec(OPDRACHTEN_KANDIDATEN, settings.partitions, week))
    specs.append(TopicSpec(GEBEURTENISSEN, settings.partitions, {"retention.ms": "-1"}))
    specs.append(TopicSpec(ZOEKINDEX, settings.partitions, week))
    # What forgetting writes must leave the brokers' disks in `vergeet_binnen_ms`: the segment
    # holding a destroyed key, a routed message or an erased identifier rolls and is compacted that
    # long after (KIP-354), and a tombstone (its key may be an identifier) goes as soon after.
    binnen = str(settings.vergeet_binnen_ms)
    vergeet = {"max.compaction.lag.ms": binnen, "segment.ms": binnen, "delete.retention.ms": binnen}
    specs.append(TopicSpec(CASUSINDEX, settings.partitions, {"cleanup.policy": "compact", **vergeet}))
    specs.append(TopicSpec(SLEUTELS, settings.partitions, {"cleanup.policy": "compact", **vergeet}))
    specs.append(TopicSpec(SLEUTELS_CASUS, settings.partitions, {"cleanup.policy": "compact", **vergeet}))
    specs.append(TopicSpec(KNELPUNTEN, 1, {"cleanup.policy": "compact", **vergeet}))
    specs.append(TopicSpec(AUDIT, 1, {"retention.ms": termijn["audit"]}))
    specs.append(TopicSpec(VERGETEN, 1, {"retention.ms": "-1"}))
    # A request's subject (a pseudonym or identifier at most: the API pseudonymises a BSN) is
    # sealed by the API at the door, on the command topic as on the requests' log.
    specs.append(TopicSpec(VERZOEKOPDRACHTEN, 1, week))
    specs.append(TopicSpec(VERZOEKEN, 1, {"retention.ms": "-1"}))
    # Ids, principals and times, no personal data: compacted, kept as long as the engine runs; read
    # as a table, so its (never written) tombstones keep the tables' retention like the others.
    specs.append(TopicSpec(REGELVERSIES, 1, {"cleanup.policy": "compact", **vergeet}))
    # Compacted by signal id as well as time-bounded: a withdrawal (`RouteIngetrokken`, same key)
    # makes compaction drop the routed message, so a consumer that starts late sees only the withdrawal.
    routes = {"cleanup.policy": "compact,delete", "retention.ms": str(365 * _DAY_MS), **vergeet}
    specs += [TopicSpec(topic_van(b), 1, routes) for b in route_bestemmingen()]
    return [TopicSpec(s.name, s.partitions, {**isr, **s.config}) for s in specs]
