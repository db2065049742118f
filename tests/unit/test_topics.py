"""A topic someone changed behind the engine's back is named, difference by difference."""

from engine.domain.reference import gebiedsindeling
from engine.settings import KafkaConnection, Settings
from engine.topics import AUDIT, CASUSINDEX, SIGNAAL_LOG, TopicSpec, afwijkingen, engine_topics


def _spec(name: str) -> TopicSpec:
    settings = Settings(pseudonym_key=b"k" * 32, kafka=KafkaConnection(security_protocol="PLAINTEXT"))
    return next(s for s in engine_topics(settings, gebiedsindeling()) if s.name == name)


def test_a_topic_as_declared_has_no_differences() -> None:
    audit = _spec(AUDIT)
    assert afwijkingen(audit, 1, {"cleanup.policy": "delete", **audit.config}) == []


def test_shortened_retention_is_named() -> None:
    # Given engine.audit's retention cut to one second (an attack the issue demonstrated)
    audit = _spec(AUDIT)
    found = afwijkingen(audit, 1, {**audit.config, "cleanup.policy": "delete", "retention.ms": "1000"})
    assert found == [f"engine.audit has retention.ms=1000, declared {audit.config['retention.ms']}"]


def test_a_compacted_signal_log_and_a_lower_min_isr_are_named() -> None:
    log = _spec(SIGNAAL_LOG)
    found = afwijkingen(
        log, log.partitions, {**log.config, "cleanup.policy": "compact", "min.insync.replicas": "0"}
    )
    assert len(found) == 2 and "cleanup.policy=compact" in found[0] and "min.insync.replicas=0" in found[1]


def test_partition_counts_fixed_for_internal_topics_and_a_minimum_for_the_others() -> None:
    index = _spec(CASUSINDEX)
    assert (
        "co-partitioned"
        in afwijkingen(index, index.partitions + 1, {"cleanup.policy": "compact", **index.config})[0]
    )
    partner = _spec("partner.kmar.signalen")
    config = {"cleanup.policy": "delete", **partner.config}
    assert afwijkingen(partner, 4, config) == []  # ops raised it for throughput: fine
    assert afwijkingen(partner, 0, config) != []


def test_min_isr_follows_the_replication_factor() -> None:
    for rf, isr in [(1, "1"), (2, "1"), (3, "2"), (5, "2")]:
        settings = Settings(pseudonym_key=b"k" * 32, replication_factor=rf)
        assert {s.config["min.insync.replicas"] for s in engine_topics(settings, gebiedsindeling())} == {isr}


def test_route_topics_are_compacted_and_a_route_topic_left_at_delete_is_named() -> None:
    # Given a route topic as declared: compacted by signal id and time-bounded
    route = _spec("routes.riec.limburg")
    assert route.config["cleanup.policy"] == "compact,delete"
    assert route.config["max.compaction.lag.ms"] == str(24 * 3600 * 1000), "ENGINE_FORGET_WITHIN_MS"
    # Then the broker's list in either order is as declared
    assert afwijkingen(route, 1, {**route.config, "cleanup.policy": "delete,compact"}) == []
    # And one created before withdrawals (delete only) stops the worker until ops alter it
    found = afwijkingen(route, 1, {**route.config, "cleanup.policy": "delete"})
    assert found == ["routes.riec.limburg has cleanup.policy=delete, declared compact,delete"]


def test_every_compacted_topic_keeps_its_tombstones_twice_as_long_as_a_table_reader_may_be_away() -> None:
    """A reader of a compacted table that was away longer than `delete.retention.ms` would never
    see a delete; it reads the table again from offset 0 after `tabel_max_afwezig_s`, which must
    leave a margin below the retention of every compacted topic (for a read that itself takes long)."""
    for binnen in (3000, 24 * 3600 * 1000):
        settings = Settings(pseudonym_key=b"k" * 32, vergeet_binnen_ms=binnen)
        compacted = [
            s
            for s in engine_topics(settings, gebiedsindeling())
            if "compact" in s.config.get("cleanup.policy", "")
        ]
        assert {CASUSINDEX, "engine.knelpunten"} <= {s.name for s in compacted}
        for spec in compacted:
            assert int(spec.config["delete.retention.ms"]) >= 2 * settings.tabel_max_afwezig_s * 1000, (
                spec.name
            )
