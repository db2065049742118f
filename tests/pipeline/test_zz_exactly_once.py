"""Runs last (files run in name order): over everything the session published, every signal is on
each route topic at most once, and on the signal log exactly once (read_committed)."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from engine.routing import topic_van
from engine.topics import route_bestemmingen
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import read_until

pytestmark = pytest.mark.pipeline


async def test_no_signal_twice_on_any_route_topic_or_the_log(worker: Worker, broker: str) -> None:
    routed = await read_until(
        broker, [topic_van(b) for b in route_bestemmingen()], lambda f: False, timeout=4
    )
    per_topic = Counter((r.topic, orjson.loads(r.value)["signaal_id"]) for r in routed)
    assert [k for k, n in per_topic.items() if n > 1] == []
    log = await read_until(broker, ["engine.signalen"], lambda f: False, timeout=3)
    signals = Counter(r.key for r in log if b'"nl.riec.engine.signaal_ontvangen.v1"' in r.value)
    assert [k for k, n in signals.items() if n > 1] == []
    assert len(signals) > 3000
