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


def test_extra_gemeenten_are_read_as_lower_case_codes_and_a_bad_one_is_named() -> None:
    assert Settings.from_env({"ENGINE_PSEUDONYM_KEY": KEY}).extra_gemeenten == frozenset()
    settings = Settings.from_env({"ENGINE_PSEUDONYM_KEY": KEY, "ENGINE_EXTRA_GEMEENTEN": " GM1999, gm1998 ,"})
    assert settings.extra_gemeenten == {"gm1999", "gm1998"}
    with pytest.raises(ConfigurationError, match="ENGINE_EXTRA_GEMEENTEN: 'gemeente-x'"):
        Settings.from_env({"ENGINE_PSEUDONYM_KEY": KEY, "ENGINE_EXTRA_GEMEENTEN": "gm1999,gemeente-x"})
