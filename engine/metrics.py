"""Domain metrics for Prometheus. Labels are bounded sets (partner group, reason code, destination):
never a signal id, a partner's free text or anything else that grows without limit."""

from __future__ import annotations

from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Kinderen:
    """The children of one labelled metric, each looked up once: prometheus_client validates the
    labels and takes a lock on every `labels()` call, which took 1.7% of a routing worker's time in
    a backlog (a few calls on every signal's path). For bounded label sets only (module doc)."""

    __slots__ = ("_kinderen", "metric")

    def __init__(self, metric: MetricWrapperBase) -> None:
        self.metric = metric
        self._kinderen: dict[tuple[str, ...], Any] = {}

    def __call__(self, *labels: str) -> Any:
        kind = self._kinderen.get(labels)
        if kind is None:
            kind = self._kinderen[labels] = self.metric.labels(*labels)
        return kind


class Metrics:
    """The engine's own metrics, registered in the given registry (one per app, so tests can
    build several apps in one process)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Called once per app. Longer than 60 lines on purpose: a flat list of the metrics, each
        name, help text and labels written once, reads best as one list (a table beside typed
        attributes would write every name twice)."""
        self.registry = registry
        teller, meter = partial(Counter, registry=registry), partial(Gauge, registry=registry)
        self.accepted = teller(
            "riec_signals_accepted_total",
            "Signals accepted into the signal log, by partner group.",
            ["partner_group"],
        )
        self.refused = teller(
            "riec_signals_refused_total",
            "Messages refused to dlq.ingress, by reason code and the topic they came in on (a partner's "
            "or a RIEC office's: a bounded set, the DLQ record's source_topic), so that a partner's bad "
            "release reaches that partner's integrator.",
            ["reason", "source_topic"],
        )
        self.duplicates = teller(
            "riec_signals_duplicate_total",
            "Signals received again under an id already accepted, by partner group.",
            ["partner_group"],
        )
        self.routed = teller(
            "riec_signals_routed_total", "Routed messages written, by destination.", ["destination"]
        )
        self.routing_latency = Histogram(
            "riec_routing_latency_seconds",
            "Time from a partner's message reaching Kafka to its routes being written.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.commands = teller(
            "riec_commands_total",
            "RIEC commands decided, by type and outcome (applied, unchanged, duplicate, refused).",
            ["type", "outcome"],
        )
        self.index_identifiers = meter(
            "riec_open_casus_index_identifiers",
            "Identifiers of open casussen in this worker's copy of the whole index (routing role).",
        )
        self.table_lag = meter(
            "riec_table_lag_records",
            "Records a worker's copy of the routing tables (HKP register, open-casus index) was behind "
            "the end of their logs when it last looked, by table set.",
            ["tables"],
        )
        self.table_read = meter(
            "riec_table_last_read_timestamp_seconds",
            "When a worker last read its routing tables to the end of their logs (unix time): a copy "
            "not read for longer than the tombstones' retention can miss a delete, and is rebuilt.",
            ["tables"],
        )
        self.table_rebuilt = teller(
            "riec_table_rebuilt_total",
            "Times a worker read its routing tables again from offset 0 because it had not read them "
            "for longer than allowed (a stalled or paused process).",
            ["tables"],
        )
        self.regelversie = meter(
            "riec_rule_version_routes",
            "Per rule version this routing worker ships: 1 when it routes (the baseline, or adopted "
            "through four eyes on engine.regelversies), 0 while it is shipped but awaits adoption.",
            ["regelversie", "geldig_vanaf"],
        )
        self.ready = meter(
            "riec_worker_ready",
            "1 while the worker is ready (/health answers 200: every part of its role runs, the read "
            "models caught up), 0 while it starts or when a part stopped.",
        )
        self.batches = teller(
            "riec_stage_batches_total", "Transactions committed by each processing stage.", ["stage"]
        )
        self.last_commit = meter(
            "riec_stage_last_commit_timestamp_seconds",
            "When each stage last committed a transaction (unix time); with records waiting (lag) a "
            "stage whose last commit is minutes old is stalled.",
            ["stage"],
        )
        self.key_store_checked = meter(
            "riec_key_store_checked",
            "1 once this worker's start-up check found the key stores fit its master key (routing "
            "workers; a worker whose check refuses exits instead).",
        )
        self.kafka_requests = teller(
            "riec_kafka_requests_total",
            "Requests this worker's Kafka clients sent, by request type (Fetch, Produce, "
            "AddPartitionsToTxn, EndTxn, Metadata, ...).",
            ["api"],
        )
        self.kafka_request_cpu = teller(
            "riec_kafka_request_cpu_seconds_total",
            "CPU time this worker spent encoding requests and decoding their answers, by request type.",
            ["api"],
        )
        self.paused = meter(
            "riec_stage_partitions_paused",
            "Input partitions a stage does not fetch because they had no record for a while; its "
            "doorbell long-polls them and resumes each on its first record.",
            ["stage"],
        )
        self.records = teller(
            "riec_stage_records_total", "Records consumed by each processing stage.", ["stage"]
        )
        self.fenced = teller(
            "riec_stage_fenced_total",
            "Transactions a stage could not commit because another worker had taken their input "
            "partition over (this worker was paused or cut off past its session timeout); their "
            "outputs are aborted, the new owner handles the records.",
            ["stage"],
        )
        self.quarantined = teller(
            "riec_quarantined_total",
            "Records a stage could not handle, put in dlq.engine, by stage and error (exception class, "
            "or output_too_large).",
            ["stage", "error"],
        )
        self.projection_skipped = teller(
            "riec_projection_skipped_total",
            "Log records a projection fold could not apply and skipped (live; a replay skips the same), "
            "by source (gebeurtenissen, signalen, routes) and exception class.",
            ["source", "error"],
        )
        self.restore_skipped = teller(
            "riec_restore_skipped_total",
            "Log records a stage could not fold while restoring its state, skipped, by stage and "
            "exception class.",
            ["stage", "error"],
        )
        self.lag = meter(
            "riec_stage_consumer_lag_records",
            "Records behind the end of the input topics, per stage (sum over assigned partitions).",
            ["stage"],
        )
