"""The Grafana dashboard in deploy/ queries only metrics the engine exposes."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry, generate_latest

from engine.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards" / "riec-engine.json"


def test_every_metric_the_dashboard_queries_exists() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    exposed = generate_latest(registry).decode()
    panels = json.loads(DASHBOARD.read_text())["panels"]
    queried = {m for p in panels for t in p["targets"] for m in re.findall(r"\briec_[a-z_]+", t["expr"])}
    assert queried, "the dashboard queries the engine's metrics"
    for metric in queried:
        assert f"# TYPE {metric.removesuffix('_bucket').removesuffix('_total')}" in exposed, metric
    titles = " ".join(p["title"] for p in panels)
    for subject in ("Ingest", "Refusals", "latency", "lag"):
        assert subject in titles


PROMETHEUS = DASHBOARD.parents[2] / "prometheus"


def test_the_poison_metrics_are_alerted_on_and_shown() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    exposed = generate_latest(registry).decode()
    alerts = (PROMETHEUS / "alerts.yml").read_text()
    assert "alerts.yml" in (PROMETHEUS / "prometheus.yml").read_text(), "prometheus.yml loads the rules"
    exprs = [r["expr"] for g in yaml.safe_load(alerts)["groups"] for r in g["rules"]]
    # A histogram is alerted on by its buckets; its TYPE line names it without `_bucket`.
    alerted = {re.sub(r"_bucket$", "", m) for e in exprs for m in re.findall(r"\briec_[a-z_]+", e)}
    assert {
        "riec_quarantined_total",
        "riec_projection_skipped_total",
        "riec_restore_skipped_total",
        "riec_table_last_read_timestamp_seconds",
        "riec_table_rebuilt_total",
        "riec_stage_last_commit_timestamp_seconds",
        "riec_stage_consumer_lag_records",
    } <= alerted
    for metric in alerted:
        assert re.search(rf"^# TYPE {metric} (counter|gauge|histogram)$", exposed, re.MULTILINE), metric
    panels = json.loads(DASHBOARD.read_text())["panels"]
    shown = {
        re.sub(r"_bucket$", "", m)
        for p in panels
        for t in p["targets"]
        for m in re.findall(r"\briec_[a-z_]+", t["expr"])
    }
    assert alerted <= shown
