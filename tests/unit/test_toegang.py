"""Given a tokens file, when a request presents a bearer token, then the worker finds its principal
from digests only: plain tokens or their digests in the file, nothing plain kept in memory."""

import hashlib
import json
import pickle
from pathlib import Path

import pytest

from engine.api.toegang import Principal, lees_tokens, mag_landelijk_jaarverslag, mag_lft_lezen
from engine.errors import ConfigurationError

TOKEN = "local-4mZ0m6Tq9cQm1T5cH1n0b7uJ9kVq2wXe"
ANDER = "local-Yb3uR0yq8dJ6sW2tK9pL1mN4vC7xZ5aE"


def schrijf(tmp_path: Path, inhoud: dict[str, str]) -> Path:
    pad = tmp_path / "tokens.json"
    pad.write_text(json.dumps(inhoud))
    return pad


def test_plain_tokens_and_digests_both_name_their_principal(tmp_path: Path) -> None:
    digest = "sha256:" + hashlib.sha256(ANDER.encode()).hexdigest()
    tokens = lees_tokens(schrijf(tmp_path, {TOKEN: "riec:rotterdam", digest: "ops"}))
    assert tokens.principal(f"Bearer {TOKEN}") == Principal("riec:rotterdam")
    assert tokens.principal(f"Bearer {ANDER}") == Principal("ops")
    assert tokens.principal(f"Bearer {digest}") is None, "a digest is not a token"
    assert tokens.principal(f"Bearer {TOKEN[:-1]}") is None
    assert tokens.principal(TOKEN) is None and tokens.principal(None) is None
    assert tokens.principal("Bearer ²\udcff") is None
    assert len(tokens) == 2


def test_the_worker_keeps_no_plain_token(tmp_path: Path) -> None:
    tokens = lees_tokens(schrijf(tmp_path, {TOKEN: "liec"}))
    assert TOKEN not in repr(tokens)
    assert TOKEN.encode() not in pickle.dumps(tokens)


@pytest.mark.parametrize(
    ("inhoud", "fout"),
    [
        ({"sha256:" + "A" * 64: "ops"}, "digest of ops"),
        ({"sha256:" + "a" * 63: "ops"}, "digest of ops"),
        ({"kort": "ops"}, "shorter than 20"),
        ({TOKEN: "riec:nergens"}, "unknown principal"),
        ({TOKEN: "ops:J"}, "unknown principal"),
        ({TOKEN: "ops:" + "a" * 41}, "unknown principal"),
        ({TOKEN: "ops:1jansen"}, "unknown principal"),
        ({TOKEN: "riec:rotterdam:jansen"}, "unknown principal"),
        ({TOKEN: "lft:omg:jansen"}, "unknown principal"),
        ({TOKEN: "ops", "sha256:" + hashlib.sha256(TOKEN.encode()).hexdigest(): "liec"}, "twice"),
    ],
)
def test_a_bad_tokens_file_stops_the_worker_without_showing_a_token(
    tmp_path: Path, inhoud: dict[str, str], fout: str
) -> None:
    with pytest.raises(ConfigurationError, match=fout) as refused:
        lees_tokens(schrijf(tmp_path, inhoud))
    assert TOKEN not in str(refused.value) and "kort" not in str(refused.value)


def test_named_persons_of_ops_and_the_liec_have_their_roles_rights(tmp_path: Path) -> None:
    tokens = lees_tokens(schrijf(tmp_path, {TOKEN: "ops:jansen", ANDER: "liec:de.vries-2"}))
    ops, liec = tokens.principal(f"Bearer {TOKEN}"), tokens.principal(f"Bearer {ANDER}")
    assert ops == Principal("ops:jansen") and liec == Principal("liec:de.vries-2")
    assert ops.is_ops and not ops.is_liec and ops.is_benoemd
    assert liec.is_liec and not liec.is_ops and liec.is_benoemd
    assert mag_landelijk_jaarverslag(liec) and mag_lft_lezen(liec, "omg")


def test_shared_and_other_principals_are_not_named_persons() -> None:
    for naam in ("ops", "liec", "riec:rotterdam", "lft:omg"):
        assert not Principal(naam).is_benoemd, naam
    assert Principal("ops").is_ops and Principal("liec").is_liec
    assert not Principal("riec:rotterdam").is_ops and not Principal("lft:omg").is_liec
