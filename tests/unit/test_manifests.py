"""The deployment manifests say what the engine's code says: every declared topic as declared, every
principal with exactly its ACLs, workers configured as the topics were made (no Kafka needed)."""

from __future__ import annotations

import re
import secrets
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.domain.reference import LFTS, RIECS, gebiedsindeling
from engine.ops.acls import Acl, acls, principal
from engine.ops.deploy import KUBERNETES, OUT, SETTINGS, kafka_acls_args, manifests
from engine.rollen import Rol
from engine.settings import Settings
from engine.topics import afwijkingen, engine_topics

ROOT = Path(__file__).resolve().parents[2]
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


@cache
def _docs(name: str) -> list[dict[str, Any]]:
    """The committed file, read by a real YAML parser (libyaml's when present: 10x faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = (OUT / name).read_text(encoding="utf-8")
    return [d for d in yaml.load_all(text, Loader=loader) if d is not None]


def _kinds() -> list[dict[str, Any]]:
    return [d for name in manifests() if name.endswith(".yaml") for d in _docs(name)]


def _kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in _kinds() if d["kind"] == kind]


def _worker(rol: str) -> dict[str, Any]:
    return next(d for d in _kind("StatefulSet") if d["metadata"]["name"] == f"engine-{rol}")


def test_committed_manifests_are_what_the_engine_generates_now() -> None:
    stale = [
        name
        for name, content in manifests().items()
        if not (OUT / name).exists() or (OUT / name).read_text(encoding="utf-8") != content
    ]
    assert stale == [], "run: make manifests (python -m engine.ops.deploy) and commit deploy/"
    extra = sorted(
        p.name for p in (OUT / KUBERNETES).iterdir() if f"{KUBERNETES}/{p.name}" not in manifests()
    )
    assert extra == [], "deploy/kubernetes/ holds files the generator does not make"


def test_every_declared_topic_has_a_kafkatopic_the_worker_accepts() -> None:
    # Given the topics a worker with the manifests' settings declares at start
    declared = {s.name: s for s in engine_topics(SETTINGS, gebiedsindeling())}
    # When reading the KafkaTopics
    topics = {d["spec"]["topicName"]: d["spec"] for d in _kind("KafkaTopic")}
    # Then there is one per declared topic and no other, and the worker's own check finds no difference
    assert sorted(topics) == sorted(declared)
    for name, spec in topics.items():
        assert spec["replicas"] == 3
        assert spec["partitions"] == declared[name].partitions
        assert afwijkingen(declared[name], spec["partitions"], spec["config"]) == [], name
        assert spec["config"] == {"cleanup.policy": "delete", **declared[name].config}
    assert topics["engine.signalen"]["config"]["min.insync.replicas"] == "2"
    assert topics["engine.casusindex"]["config"]["cleanup.policy"] == "compact"


def _op(name: str) -> str:
    """Strimzi's and kafka-acls' DescribeConfigs as engine.ops.acls' DESCRIBE_CONFIGS."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper()


def _acl(rule: dict[str, Any]) -> Acl:
    """A Strimzi AclRule back as engine.ops.acls writes it."""
    resource = rule["resource"]
    soort = {"topic": "TOPIC", "group": "GROUP", "transactionalId": "TRANSACTIONAL_ID", "cluster": "CLUSTER"}
    operaties = tuple(_op(op) for op in rule["operations"])
    assert rule["host"] == "*"
    if resource["type"] == "cluster":
        return Acl("CLUSTER", "kafka-cluster", "LITERAL", operaties)  # type: ignore[arg-type]
    patroon = {"literal": "LITERAL", "prefix": "PREFIXED"}[resource["patternType"]]
    return Acl(soort[resource["type"]], resource["name"], patroon, operaties)  # type: ignore[arg-type]


def test_every_principal_has_a_kafkauser_with_exactly_its_acls() -> None:
    users = {d["metadata"]["annotations"]["riec-engine/principal"]: d for d in _kind("KafkaUser")}
    expected = {"engine", "ops", "liec", *(f"riec:{r}" for r in RIECS), *(f"lft:{lft}" for lft in LFTS)}
    expected |= {f"partner:{org}" for org in gebiedsindeling().partner_orgs}
    assert set(users) == expected
    for naam, user in users.items():
        p = principal(naam)
        assert user["metadata"]["name"] == p.gebruikersnaam
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["spec"]["authorization"]["type"] == "simple"
        found = [_acl(rule) for rule in user["spec"]["authorization"]["acls"]]
        assert found == acls(p, SETTINGS.app_id), naam


def test_a_partner_user_may_write_its_own_topic_only() -> None:
    user = next(d for d in _kind("KafkaUser") if d["metadata"]["name"] == "partner.gm0363")
    assert user["spec"]["authorization"]["acls"] == [
        {
            "resource": {"type": "topic", "name": "partner.gm0363.signalen", "patternType": "literal"},
            "operations": ["Write", "Describe"],
            "host": "*",
        }
    ]


def test_the_kafka_cluster_is_three_kraft_nodes_with_scram_over_tls_and_acls() -> None:
    (pool,) = _kind("KafkaNodePool")
    (kafka,) = _kind("Kafka")
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True and listener["authentication"] == {"type": "scram-sha-512"}
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple"}
    assert kafka["spec"]["kafka"]["config"]["min.insync.replicas"] == 2
    for d in _kind("KafkaTopic") + _kind("KafkaUser"):
        assert d["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert _DNS_SUBDOMAIN.fullmatch(d["metadata"]["name"]), d["metadata"]["name"]


def _settings_of(container: dict[str, Any], tmp_path: Path) -> Settings:
    """The Settings a worker reads from the container's environment, secrets stood in by test files."""
    key, ca = tmp_path / "key", tmp_path / "ca.crt"
    key.write_text(secrets.token_hex(32))
    ca.write_text("test CA")
    env = {e["name"]: e.get("value", "from-a-secret") for e in container["env"]}
    env |= {"ENGINE_PSEUDONYM_KEY_FILE": str(key), "KAFKA_SSL_CAFILE": str(ca), "ENGINE_TOKENS_FILE": ""}
    return Settings.from_env(env)


def test_a_worker_declares_exactly_the_topics_of_the_manifests(tmp_path: Path) -> None:
    # Given the environment the alles worker runs with
    (container,) = _worker("alles")["spec"]["template"]["spec"]["containers"]
    settings = _settings_of(container, tmp_path)
    # Then the topics it declares at start are the KafkaTopics, as they are configured
    declared = engine_topics(settings, gebiedsindeling())
    topics = {d["spec"]["topicName"]: d["spec"] for d in _kind("KafkaTopic")}
    assert sorted(s.name for s in declared) == sorted(topics)
    assert all(afwijkingen(s, topics[s.name]["partitions"], topics[s.name]["config"]) == [] for s in declared)
    # And it authenticates as the engine's KafkaUser, with the password its User Operator wrote
    assert settings.kafka.security_protocol == "SASL_SSL" and settings.kafka.sasl_username == "engine"
    password = next(e for e in container["env"] if e["name"] == "KAFKA_SASL_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"] == {"name": "engine", "key": "password"}
    assert "engine" in {d["metadata"]["name"] for d in _kind("KafkaUser")}


def test_the_manifests_have_a_statefulset_for_each_role_the_engine_has() -> None:
    components = {d["metadata"]["labels"]["app.kubernetes.io/component"] for d in _kind("StatefulSet")}
    assert components == {r.value for r in Rol}


@pytest.mark.parametrize("rol", [r.value for r in Rol])
def test_each_role_has_health_probes_a_service_and_a_disruption_budget(rol: str) -> None:
    worker = _worker(rol)
    pod = worker["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "web"}
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    labels = worker["spec"]["selector"]["matchLabels"]
    assert worker["spec"]["template"]["metadata"]["labels"] == labels
    (service,) = [d for d in _kind("Service") if d["metadata"]["name"] == f"engine-{rol}"]
    (pdb,) = [d for d in _kind("PodDisruptionBudget") if d["metadata"]["name"] == f"engine-{rol}"]
    assert service["spec"]["selector"] == labels and pdb["spec"]["selector"]["matchLabels"] == labels
    assert service["spec"]["ports"][0]["targetPort"] == "web"
    # The pod runs the worker in its role (`worker --rol`, here through ENGINE_ROL)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ENGINE_ROL"] == rol and container["args"][0] == "worker" and "--rol" not in container["args"]
    # Routing workers share the partitions, projection replicas serve the API; `alles` is the
    # small installation's alternative to both, so it runs nothing unless scaled up.
    if rol == "alles":
        assert worker["spec"]["replicas"] == 0 and "riec-engine/replicas" in worker["metadata"]["annotations"]
    else:
        assert worker["spec"]["replicas"] >= 2


def test_the_container_runs_the_worker_as_a_non_root_user_with_a_health_check() -> None:
    text = (ROOT / "deploy/container/Containerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (healthcheck,) = re.findall(r"^HEALTHCHECK (?:[^\n]*\\\n)*[^\n]*", text, re.MULTILINE)
    assert "/health" in healthcheck
    assert 'ENTRYPOINT ["python", "-m", "engine"]' in text and re.search(
        r'^CMD \["worker"', text, re.MULTILINE
    )
    assert re.search(r"pip install \.$", text, re.MULTILINE), "the engine and its reference data installed"
    # The user the pods run as is the image's.
    uid = users[-1].split(":")[0]
    for rol in ("alles", "routering", "projecties"):
        assert str(_worker(rol)["spec"]["template"]["spec"]["securityContext"]["runAsUser"]) == uid


def test_the_compose_cluster_grants_the_engine_the_same_acls() -> None:
    # Given the kafka-acls.sh arguments of deploy/compose/engine-acls.sh
    script = (OUT / "compose/engine-acls.sh").read_text(encoding="utf-8")
    found = []
    for args in kafka_acls_args(principal("engine")):
        assert "acl " + " ".join(args) in script
        ops = tuple(_op(args[i + 1]) for i, a in enumerate(args) if a == "--operation")
        if "--cluster" in args:
            found.append(Acl("CLUSTER", "kafka-cluster", "LITERAL", ops))  # type: ignore[arg-type]
            continue
        soort = {"--topic": "TOPIC", "--group": "GROUP", "--transactional-id": "TRANSACTIONAL_ID"}
        i = next(i for i, a in enumerate(args) if a in soort)
        found.append(Acl(soort[args[i]], args[i + 1], args[i + 3].upper(), ops))  # type: ignore[arg-type]
    # Then they are the engine's ACLs, rule by rule
    assert found == acls(principal("engine"))


def test_the_compose_workers_use_the_manifests_settings_and_are_prometheus_targets() -> None:
    compose = yaml.safe_load((OUT / "compose/compose.yaml").read_text(encoding="utf-8"))
    prometheus = yaml.safe_load((OUT / "prometheus/prometheus.yml").read_text(encoding="utf-8"))
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    rollen = []
    for target in targets:
        service = compose["services"][target.split(":")[0]]
        env = service["environment"]
        assert env["ENGINE_REPLICATION_FACTOR"] == str(SETTINGS.replication_factor)
        assert env["ENGINE_PARTITIONS"] == str(SETTINGS.partitions)
        assert env["ENGINE_PARTNER_PARTITIONS"] == str(SETTINGS.partner_partitions)
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["KAFKA_SASL_USERNAME"] == "engine"
        assert env["ENGINE_WORKER_ID"] == target.split(":")[0]
        rollen.append(Rol(env["ENGINE_ROL"]))
    assert {"kafka-1", "kafka-2", "kafka-3", "grafana", "prometheus"} <= set(compose["services"])
    # Every engine service is scraped, and both the stages and the read models run
    engine = {n for n, s in compose["services"].items() if "ENGINE_ROL" in s.get("environment", {})}
    assert engine == {t.split(":")[0] for t in targets}
    assert any(r.routeert for r in rollen) and any(r.projecteert for r in rollen)
