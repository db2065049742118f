"""The ACLs as data: what each principal may do, decided the way the broker's authorizer does."""

import pytest

from engine.domain.reference import LFTS, RIECS
from engine.ops.acls import acls, mag, principal
from engine.topics import VERZOEKEN, VERZOEKOPDRACHTEN


def test_a_partner_may_only_write_its_own_topic() -> None:
    p = principal("partner:gm0363")
    assert mag(p, "TOPIC", "partner.gm0363.signalen", "WRITE")
    assert not mag(p, "TOPIC", "partner.gm0599.signalen", "WRITE")
    assert not mag(p, "TOPIC", "riec.rotterdam.opdrachten", "WRITE")
    assert not mag(p, "TOPIC", "partner.gm0363.signalen", "READ")
    assert not mag(p, "TOPIC", "partner.gm0363.signalen", "CREATE")
    assert not any(mag(p, "TOPIC", f"routes.riec.{r}", "READ") for r in RIECS)


def test_a_riec_writes_its_commands_and_reads_its_routes_only() -> None:
    p = principal("riec:rotterdam")
    assert mag(p, "TOPIC", "riec.rotterdam.opdrachten", "WRITE")
    assert mag(p, "TOPIC", "routes.riec.rotterdam", "READ")
    assert mag(p, "GROUP", "riec.rotterdam.dashboard", "READ")
    assert not mag(p, "TOPIC", "riec.amsterdam-amstelland.opdrachten", "WRITE")
    assert not mag(p, "TOPIC", "routes.riec.amsterdam-amstelland", "READ")
    assert not mag(p, "TOPIC", "routes.riec.rotterdam", "WRITE")
    assert not mag(p, "GROUP", "riec.amsterdam-amstelland.dashboard", "READ")


def test_only_the_engine_creates_topics_and_writes_engine_routes_and_dlq() -> None:
    others = [principal(n) for n in ("partner:politie", "riec:limburg", "lft:omg", "liec", "ops")]
    engine = principal("engine")
    for topic in ("engine.signalen", "routes.riec.limburg", "routes.lft.omg", "dlq.ingress"):
        assert mag(engine, "TOPIC", topic, "WRITE")
        assert not any(mag(p, "TOPIC", topic, "WRITE") for p in others), topic
    for topic in ("partner.politie.signalen", "engine.audit", "routes.euriec"):
        assert mag(engine, "TOPIC", topic, "CREATE")
        assert not any(mag(p, "TOPIC", topic, "CREATE") for p in others), topic
        assert not any(mag(p, "TOPIC", topic, "ALTER_CONFIGS") for p in [*others, engine]), topic
    assert mag(engine, "GROUP", "riec-engine-vastleggen", "READ")
    assert not any(mag(p, "GROUP", "riec-engine-vastleggen", "READ") for p in others)
    assert mag(engine, "TRANSACTIONAL_ID", "riec-engine-vastleggen-w1", "WRITE")


def test_lfts_and_the_liec_read_their_routes() -> None:
    for lft in LFTS:
        assert mag(principal(f"lft:{lft}"), "TOPIC", f"routes.lft.{lft}", "READ")
        assert not mag(principal(f"lft:{lft}"), "TOPIC", "routes.liec.loket", "READ")
    liec = principal("liec")
    assert all(
        mag(liec, "TOPIC", t, "READ") for t in ("routes.liec.loket", "routes.liec.triage", "routes.lft.omg")
    )
    assert not mag(liec, "TOPIC", "routes.riec.rotterdam", "READ")


def test_ops_sees_shapes_and_lag_but_no_personal_data() -> None:
    ops = principal("ops")
    assert mag(ops, "TOPIC", "engine.audit", "DESCRIBE_CONFIGS")
    assert mag(ops, "GROUP", "riec-engine-vastleggen", "DESCRIBE")
    for topic in (
        "routes.riec.rotterdam",
        "engine.signalen",
        "dlq.ingress",
        "dlq.engine",
        "partner.om.signalen",
    ):
        assert not mag(ops, "TOPIC", topic, "READ"), topic


@pytest.mark.parametrize(
    "naam", ["partner:gm99999", "riec:utrecht", "lft:wapens", "admin", "partner:", "riec:rotterdam:x"]
)
def test_unknown_principals_are_refused(naam: str) -> None:
    with pytest.raises(ValueError, match="unknown principal"):
        principal(naam)


def test_user_names_are_valid_kubernetes_names() -> None:
    # Strimzi names a KafkaUser after its SCRAM user: lower case, digits, '-' and '.'.
    for naam in ["partner:gm0363", "riec:zeeland-west-brabant", "lft:omg", "liec", "ops", "engine"]:
        user = principal(naam).gebruikersnaam
        assert user.replace("-", "").replace(".", "").isalnum() and user == user.lower()
        assert acls(principal(naam))


def test_the_engine_writes_riec_commands_for_its_dashboard_and_no_partner_topic() -> None:
    engine = principal("engine")
    assert all(mag(engine, "TOPIC", f"riec.{r}.opdrachten", "WRITE") for r in RIECS)
    assert not mag(engine, "TOPIC", "partner.gm0363.signalen", "WRITE")
    assert not mag(engine, "TOPIC", "riec.rotterdam.anders", "WRITE")


def test_only_the_engine_writes_and_reads_the_four_eyes_topics() -> None:
    """Both roles of a worker are the engine's principal: the projection role writes the commands
    and reads the events, the routing role reads the commands and writes the events. A person files
    and approves through the API only, never on the broker, so the API's checks cannot be bypassed."""
    engine = principal("engine")
    others = [principal(n) for n in ("partner:politie", "riec:limburg", "lft:omg", "liec", "ops")]
    for topic in (VERZOEKOPDRACHTEN, VERZOEKEN):
        for operatie in ("READ", "WRITE"):
            assert mag(engine, "TOPIC", topic, operatie)
            assert not any(mag(p, "TOPIC", topic, operatie) for p in others), (topic, operatie)
