"""The retention table: every rule has a period, a moment it counts from and a reason; settings
may change a period per rule, never invent a rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.domain.vergeten.bewaring import BEWAARREGELS, termijnen


def test_every_rule_says_how_long_from_when_and_why() -> None:
    assert {r.regel for r in BEWAARREGELS} == set(termijnen())
    assert all(r.termijn > timedelta(0) and r.vanaf and len(r.waarom) > 20 for r in BEWAARREGELS)


def test_a_period_can_be_changed_per_rule_but_no_rule_invented() -> None:
    assert termijnen({"dlq": 14})["dlq"] == timedelta(days=14)
    assert termijnen({"dlq": 14})["audit"] == termijnen()["audit"]
    with pytest.raises(ValueError, match="signalen"):
        termijnen({"signalen": 1})
