"""Given any text an attacker puts in a path or query parameter, then the API's checks either give
a value in its bounds or refuse with OngeldigVerzoek; never another exception, never the input."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.api.parameters import JAREN, casus_id_van, formaat_van, getal, jaar_van, riec_van
from engine.api.webserver import OngeldigVerzoek

tekst = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(categories=["Nd", "No"])),  # digits of every script, ², ½
    st.text(alphabet="0123456789", min_size=1, max_size=5000),
)


def reden(check: Callable[[str], object]) -> str:
    """The reason a check gives for a value it refuses: the same for every refused value."""
    with pytest.raises(OngeldigVerzoek) as refused:
        check("\x00")
    return refused.value.reden


@given(tekst)
def test_a_number_is_ascii_digits_in_bounds_or_refused(ruw: str) -> None:
    voor = functools.partial(getal, naam="voor", cijfers=12)
    try:
        waarde = voor(ruw)
    except OngeldigVerzoek as e:
        assert e.status == 400 and e.reden == reden(voor)
        return
    assert ruw.isascii() and 0 <= waarde < 10**12


@given(tekst)
def test_a_year_is_in_range_or_refused(ruw: str) -> None:
    try:
        assert jaar_van(ruw) in JAREN
    except OngeldigVerzoek as e:
        assert e.status == 400


@given(st.text())
def test_other_parameters_are_known_values_or_refused(ruw: str) -> None:
    for check in (casus_id_van, formaat_van, riec_van):
        try:
            assert check(ruw) == ruw
        except OngeldigVerzoek as e:
            assert e.status in (400, 404) and e.reden == reden(check)


@pytest.mark.parametrize("ruw", ["²", "٣", "１", "0" * 13, "", " 1", "1 ", "+1", "-1", "1_0", "0x1"])
def test_the_demonstrated_attacks_are_refused(ruw: str) -> None:
    with pytest.raises(OngeldigVerzoek):
        getal(ruw, "voor", cijfers=12)


def test_a_limit_and_a_year_as_the_dashboard_sends_them() -> None:
    assert getal("50", "limit", cijfers=6) == 50 and getal("007", "voor", cijfers=12) == 7
    assert jaar_van("2026") == 2026
    for buiten in ("1999", "2101", "0", "99999"):
        with pytest.raises(OngeldigVerzoek, match="from 2000 to 2100"):
            jaar_van(buiten)
