import pytest

from engine.errors import ConfigurationError
from engine.settings import KafkaConnection, Settings

KEY = "0123456789abcdef0123456789abcdef"
PLAIN = {"ENGINE_PSEUDONYM_KEY": KEY, "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}


def test_worker_refuses_to_start_without_a_key() -> None:
    with pytest.raises(ConfigurationError, match="ENGINE_PSEUDONYM_KEY"):
        Settings.from_env({})
    with pytest.raises(ConfigurationError, match="ENGINE_PSEUDONYM_KEY"):
        Settings.from_env({"ENGINE_PSEUDONYM_KEY": "short"})


def test_defaults_and_overrides() -> None:
    default = Settings.from_env(PLAIN)
    assert (default.kafka.bootstrap_servers, default.web_port) == ("localhost:9092", 6066)
    assert default.geweigerde_partners == {"toeslagen"}
    custom = Settings.from_env({**PLAIN, "KAFKA_BOOTSTRAP_SERVERS": "k:1", "ENGINE_REFUSED_PARTNERS": ""})
    assert custom.kafka.bootstrap_servers == "k:1" and custom.geweigerde_partners == frozenset()


def test_a_bad_number_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="ENGINE_WEB_PORT"):
        Settings.from_env({**PLAIN, "ENGINE_WEB_PORT": "http"})


def test_the_broker_connection_is_authenticated_unless_plaintext_is_asked_for() -> None:
    # Given no KAFKA_* at all, when the settings are read, then SASL_SSL is asked for and its
    # missing credentials named: a worker never talks to a broker anonymously by accident.
    with pytest.raises(ConfigurationError, match="KAFKA_SASL_USERNAME"):
        KafkaConnection.from_env({})
    with pytest.raises(ConfigurationError, match="KAFKA_SECURITY_PROTOCOL"):
        KafkaConnection.from_env({"KAFKA_SECURITY_PROTOCOL": "SASL_NOPE"})
    k = KafkaConnection.from_env(
        {"KAFKA_SASL_USERNAME": "engine", "KAFKA_SASL_PASSWORD": "geheim-wachtwoord"}
    )
    assert (k.security_protocol, k.sasl_mechanism, k.sasl and k.tls) == ("SASL_SSL", "SCRAM-SHA-512", True)


def test_the_kafka_password_never_shows_in_a_repr() -> None:
    k = KafkaConnection.from_env(
        {"KAFKA_SASL_USERNAME": "engine", "KAFKA_SASL_PASSWORD": "geheim-wachtwoord"}
    )
    assert "geheim-wachtwoord" not in repr(k)
    assert "geheim-wachtwoord" not in repr(Settings(pseudonym_key=KEY.encode(), kafka=k))


def test_a_missing_ca_file_is_named() -> None:
    with pytest.raises(ConfigurationError, match="KAFKA_SSL_CAFILE"):
        KafkaConnection.from_env(
            {
                "KAFKA_SASL_USERNAME": "e",
                "KAFKA_SASL_PASSWORD": "p",
                "KAFKA_SSL_CAFILE": "/nonexistent/ca.crt",
            }
        )


def test_pending_links_expire_after_seven_days_unless_set() -> None:
    assert Settings.from_env(PLAIN).pending_link_expiry_s == 7 * 24 * 3600
    custom = Settings.from_env({**PLAIN, "ENGINE_PENDING_LINK_EXPIRY_S": "20"})
    assert custom.pending_link_expiry_s == 20


def test_extra_gemeenten_are_read_as_lower_case_codes_and_a_bad_one_is_named() -> None:
    assert Settings.from_env(PLAIN).extra_gemeenten == frozenset()
    settings = Settings.from_env({**PLAIN, "ENGINE_EXTRA_GEMEENTEN": " GM1999, gm1998 ,"})
    assert settings.extra_gemeenten == {"gm1999", "gm1998"}
    with pytest.raises(ConfigurationError, match="ENGINE_EXTRA_GEMEENTEN: 'gemeente-x'"):
        Settings.from_env({**PLAIN, "ENGINE_EXTRA_GEMEENTEN": "gm1999,gemeente-x"})
