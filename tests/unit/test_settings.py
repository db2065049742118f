import pytest

from engine.errors import ConfigurationError
from engine.settings import Settings

KEY = "0123456789abcdef0123456789abcdef"


def test_worker_refuses_to_start_without_a_key() -> None:
    with pytest.raises(ConfigurationError, match="ENGINE_PSEUDONYM_KEY"):
        Settings.from_env({})
    with pytest.raises(ConfigurationError, match="ENGINE_PSEUDONYM_KEY"):
        Settings.from_env({"ENGINE_PSEUDONYM_KEY": "short"})


def test_defaults_and_overrides() -> None:
    default = Settings.from_env({"ENGINE_PSEUDONYM_KEY": KEY})
    assert (default.bootstrap_servers, default.web_port) == ("localhost:9092", 6066)
    assert default.geweigerde_partners == {"toeslagen"}
    custom = Settings.from_env(
        {"ENGINE_PSEUDONYM_KEY": KEY, "KAFKA_BOOTSTRAP_SERVERS": "k:1", "ENGINE_REFUSED_PARTNERS": ""}
    )
    assert custom.bootstrap_servers == "k:1" and custom.geweigerde_partners == frozenset()


def test_a_bad_number_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="ENGINE_WEB_PORT"):
        Settings.from_env({"ENGINE_PSEUDONYM_KEY": KEY, "ENGINE_WEB_PORT": "http"})


def test_pending_links_expire_after_seven_days_unless_set() -> None:
    assert Settings.from_env({"ENGINE_PSEUDONYM_KEY": KEY}).pending_link_expiry_s == 7 * 24 * 3600
    custom = Settings.from_env({"ENGINE_PSEUDONYM_KEY": KEY, "ENGINE_PENDING_LINK_EXPIRY_S": "20"})
    assert custom.pending_link_expiry_s == 20
