"""`python -m engine.tools status` against the session's worker and broker: it answers for a
worker that runs, one that is down and the broker's committed offsets, and refuses no one quietly
(a wrong token is said so)."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from engine.ops.status import STAGES
from tests.fixtures import encode, headers, payload
from tests.pipeline.conftest import KAFKA, Worker
from tests.pipeline.kafka import eventually
from tests.processes import engine_status

pytestmark = pytest.mark.pipeline


def _status(*urls: str, token: str | None) -> str:
    return engine_status(KAFKA, list(urls), token)


async def test_status_shows_each_stage_and_each_worker_up_or_down(
    worker: Worker, producer: AIOKafkaProducer
) -> None:
    await producer.send_and_wait(
        "partner.politie.signalen", encode(payload()), headers=headers("politie", "status-1")
    )
    # The signal went through the front door and vastleggen: both committed since.
    assert await eventually(lambda: "s ago" in _stage_regel(worker, "vastleggen"), timeout=30)

    out = _status(worker.url, "http://127.0.0.1:9", token=worker.tokens["ops"])
    print(out)
    assert f"{worker.url:<28} ready, role alles, key store checked" in out
    assert "http://127.0.0.1:9" in out and "DOWN" in out
    for stage in STAGES:
        regel = next(r for r in out.splitlines() if r.strip().startswith(stage + " "))
        waiting, *_ = regel.split()[1:]
        assert waiting.isdigit() or waiting == "-", regel
    vastleggen = next(r for r in out.splitlines() if r.strip().startswith("vastleggen "))
    assert vastleggen.split()[-1] == "1", "one worker runs the stage"


def _stage_regel(worker: Worker, stage: str) -> str:
    out = _status(worker.url, token=worker.tokens["ops"])
    return next(r for r in out.splitlines() if r.strip().startswith(stage + " "))


def test_status_with_a_token_that_is_not_ops_says_so_and_still_reports_the_broker(worker: Worker) -> None:
    out = _status(worker.url, token=worker.tokens["riec:rotterdam"])
    assert "/metrics answered 403" in out or "/metrics answered 401" in out
    assert "UNREACHABLE" not in out


async def test_end_offsets_of_many_topics_ask_the_broker_for_their_metadata_once(broker: str) -> None:
    """The front door reads one topic per partner (285 on the local cluster): aiokafka's own
    `end_offsets` asked for one unknown topic's metadata per round, with its retry backoff between
    rounds, and `status` gave up on the broker after 20 s."""
    from aiokafka.admin import NewTopic

    from engine.kafka import clients

    k = KAFKA.beheerder()
    topics = [f"status-veel-{i}" for i in range(40)]
    admin = clients.admin(k)
    await admin.start()
    try:
        bestaand = set(await admin.list_topics())
        nieuw = [NewTopic(t, 1, 1) for t in topics if t not in bestaand]
        if nieuw:
            await admin.create_topics(nieuw)
    finally:
        await admin.close()
    # Created and led, so that every metadata round counted below is one the call asked for.
    warm = clients.consumer(k, enable_auto_commit=False)
    await warm.start()
    try:
        await clients.end_offsets(warm, [TopicPartition(t, 0) for t in topics])
    finally:
        await warm.stop()
    consumer = clients.consumer(k, enable_auto_commit=False)
    await consumer.start()
    try:
        client = consumer._client
        rondes = 0
        echt = client._metadata_update

        async def geteld(*args: object, **kwargs: object) -> bool:
            nonlocal rondes
            rondes += 1
            return await echt(*args, **kwargs)

        client._metadata_update = geteld
        tps = [TopicPartition(t, 0) for t in topics]
        ends = await clients.end_offsets(consumer, tps)
        assert set(ends) == set(tps) and all(v == 0 for v in ends.values())
        assert rondes <= 2, f"{rondes} metadata rounds for {len(topics)} topics"
    finally:
        await consumer.stop()
