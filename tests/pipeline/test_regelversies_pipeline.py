"""Given a running engine, when a partner sends signals in Brielle observed on both sides of
1 January 2023 (the day Brielle, Hellevoetsluis and Westvoorne became Voorne aan Zee), then each
route and the signal's log name the version of the reference data in force on its day."""

from __future__ import annotations

import uuid
from datetime import date

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.domain.reference.regelversies import regelversies
from engine.topics import SIGNAAL_LOG
from tests.fixtures import payload
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import Record, publish, read_until

pytestmark = pytest.mark.pipeline

CASES = [
    # (waargenomen_op, code sent, gemeente named in the reason)
    ("2022-12-31", "GM0501", "Brielle (GM0501)"),
    ("2023-01-01", "GM0501", "Voorne aan Zee (GM1992)"),
    ("2022-12-31", "GM1992", "Voorne aan Zee (GM1992)"),
    ("2026-03-01", "GM1992", "Voorne aan Zee (GM1992)"),
]


async def test_each_route_across_the_merger_names_the_version_in_force(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    run = uuid.uuid4().hex[:8]
    verwacht: dict[str, tuple[str, str]] = {}
    for i, (dag, code, naam) in enumerate(CASES):
        ce_id = f"voorne-{run}-{i}"
        await publish(
            producer, "politie", payload(waargenomen_op=dag, locatie={"gemeente": code}), ce_id=ce_id
        )
        verwacht[f"politie:{ce_id}"] = (regelversies().op(date.fromisoformat(dag)).id, naam)

    def ours(r: Record) -> bool:
        return orjson.loads(r.value).get("signaal_id") in verwacht

    routes = await read_until(
        broker, ["routes.riec.rotterdam"], lambda f: len(f) >= len(verwacht), match=ours, timeout=60
    )
    gelezen = {m["signaal_id"]: m for m in (orjson.loads(r.value) for r in routes)}
    assert sorted(gelezen) == sorted(verwacht), [(r.topic, r.offset, r.value[:200]) for r in routes]
    for signaal_id, (versie, naam) in verwacht.items():
        m = gelezen[signaal_id]
        assert m["regelversie"] == versie, (signaal_id, m["waargenomen_op"])
        assert isinstance(m["hkp_positie"], int) and m["hkp_positie"] >= 0
        [reden] = m["redenen"]
        assert reden["regel"] == "locatie" and f"in {naam}, RIEC rotterdam" in reden["toelichting"]
    # The 2022 signal and the 2023 one were decided under different versions.
    assert len({v for v, _ in verwacht.values()}) == 2

    def gerouteerd(r: Record) -> bool:
        return b'"nl.riec.engine.signaal_gerouteerd.v1"' in (r.value or b"") and ours(r)

    log = await read_until(
        broker, [SIGNAAL_LOG], lambda f: len(f) >= len(verwacht), match=gerouteerd, timeout=60
    )
    for r in log:
        m = orjson.loads(r.value)
        assert m["regelversie"] == verwacht[m["signaal_id"]][0]
        assert m["hkp_positie"] == gelezen[m["signaal_id"]]["hkp_positie"]
