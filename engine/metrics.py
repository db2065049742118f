"""Domain metrics for Prometheus. Labels are bounded sets (partner group, reason code, destination):
never a signal id, a partner's free text or anything else that grows without limit."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The engine's own metrics, registered in the given registry (one per app, so tests can
    build several apps in one process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.accepted = Counter(
            "riec_signals_accepted_total",
            "Signals accepted into the signal log, by partner group.",
            ["partner_group"],
            registry=registry,
        )
        self.refused = Counter(
            "riec_signals_refused_total",
            "Messages refused to dlq.ingress, by reason code.",
            ["reason"],
            registry=registry,
        )
        self.duplicates = Counter(
            "riec_signals_duplicate_total",
            "Signals received again under an id already accepted, by partner group.",
            ["partner_group"],
            registry=registry,
        )
        self.routed = Counter(
            "riec_signals_routed_total",
            "Routed messages written, by destination.",
            ["destination"],
            registry=registry,
        )
        self.routing_latency = Histogram(
            "riec_routing_latency_seconds",
            "Time from a partner's message reaching Kafka to its routes being written.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.commands = Counter(
            "riec_commands_total",
            "RIEC commands decided, by type and outcome (applied, unchanged, duplicate, refused).",
            ["type", "outcome"],
            registry=registry,
        )
        self.index_identifiers = Gauge(
            "riec_open_casus_index_identifiers",
            "Identifiers of open casussen in this worker's copy of the whole index (routing role).",
            registry=registry,
        )
        self.batches = Counter(
            "riec_stage_batches_total",
            "Transactions committed by each processing stage.",
            ["stage"],
            registry=registry,
        )
        self.records = Counter(
            "riec_stage_records_total",
            "Records consumed by each processing stage.",
            ["stage"],
            registry=registry,
        )
        self.fenced = Counter(
            "riec_stage_fenced_total",
            "Transactions a stage could not commit because another worker had taken their input "
            "partition over (this worker was paused or cut off past its session timeout); their "
            "outputs are aborted, the new owner handles the records.",
            ["stage"],
            registry=registry,
        )
        self.quarantined = Counter(
            "riec_quarantined_total",
            "Records a stage could not handle, put in dlq.engine, by stage and error (exception class, "
            "or output_too_large).",
            ["stage", "error"],
            registry=registry,
        )
        self.projection_skipped = Counter(
            "riec_projection_skipped_total",
            "Log records a projection fold could not apply and skipped (live; a replay skips the same), "
            "by source (gebeurtenissen, signalen, routes) and exception class.",
            ["source", "error"],
            registry=registry,
        )
        self.restore_skipped = Counter(
            "riec_restore_skipped_total",
            "Log records a stage could not fold while restoring its state, skipped, by stage and "
            "exception class.",
            ["stage", "error"],
            registry=registry,
        )
        self.lag = Gauge(
            "riec_stage_consumer_lag_records",
            "Records behind the end of the input topics, per stage (sum over assigned partitions).",
            ["stage"],
            registry=registry,
        )
