import pytest

from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.errors import ConfigurationError
from tests.fixtures import OTHER_BSN, TEST_KEY, VALID_BSN


def test_same_bsn_same_key_gives_same_pseudonym() -> None:
    assert Pseudonimiseerder(TEST_KEY).bsn(VALID_BSN) == Pseudonimiseerder(TEST_KEY).bsn(VALID_BSN)


def test_pseudonym_depends_on_bsn_and_key_and_hides_both() -> None:
    pseudonym = Pseudonimiseerder(TEST_KEY).bsn(VALID_BSN)
    assert pseudonym != Pseudonimiseerder(TEST_KEY).bsn(OTHER_BSN)
    assert pseudonym != Pseudonimiseerder(b"x" * 32).bsn(VALID_BSN)
    assert VALID_BSN not in pseudonym and len(pseudonym) == 64


def test_short_key_is_refused_with_how_to_make_one() -> None:
    with pytest.raises(ConfigurationError, match=r"secrets\.token_hex"):
        Pseudonimiseerder(b"too short")


def test_key_never_shows_in_repr() -> None:
    assert "kkkk" not in repr(Pseudonimiseerder(TEST_KEY))
