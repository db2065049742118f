"""Forgetting without side doors (issue 25), on a broker of its own whose compacted topics drop a
tombstone seconds after cleaning (`ENGINE_FORGET_WITHIN_MS` 3000), so that "after the tombstone's
retention" is a minute, not a day:

- an erased signal takes back what it taught the open-casus index: a kenteken it brought to a casus
  by a confirmed link leaves every record of `engine.casusindex` and every routing table;
- a routing worker that routes nothing while a casus closes and a subject is erased, until
  compaction has dropped even the tombstones, matches nothing that is gone afterwards;
- a reader of the routing tables that was paused longer than allowed reads them again from offset
  0, and would otherwise have kept a deleted entry;
- the erasure request's subject is in the clear on no topic, `engine.verzoekopdrachten` included.

Only this module's worker writes here: no signal reaches it but the ones a test sends, so "idle"
means idle (the shared session worker has traffic from every other test).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic

from engine.domain.casusindex import CasusIndex
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.events.vergeten import VERGETEN_DECODER, OnderwerpGewist
from engine.kafka.tables import Tables, restore_index
from engine.settings import KafkaConnection
from engine.topics import CASUSINDEX, VERGETEN, VERZOEKOPDRACHTEN
from tests.fixtures import payload
from tests.pipeline import kafka as test_kafka
from tests.pipeline.casus_helpers import bsn, kenteken, opdracht, uniek
from tests.pipeline.conftest import BROKER_PORT, WEB_PORT
from tests.pipeline.kafka import Record, publish, read_all, read_until, topics
from tests.processes import ROOT, LocalKafka, Worker, start_worker

pytestmark = pytest.mark.pipeline
KAFKA = LocalKafka(ROOT / ".local/kafka-test-zijdeuren", BROKER_PORT + 20)
RIEC = "noord-nederland"
"""GM0014 (Groningen) is routed there; GM0599 (Rotterdam) to riec.rotterdam."""
COMPACTIE_S = 240
"""How long a test waits for the broker's cleaner (it looks every 15 s; a log is cleaned only
once a segment rolled, which takes a write after `segment.ms`: the tests nudge every partition)."""


@pytest.fixture(scope="module")
def kafka() -> Iterator[KafkaConnection]:
    KAFKA.run("start", fresh=True)
    yield KAFKA.beheerder()
    KAFKA.run("stop")


@pytest.fixture(scope="module")
def worker(kafka: KafkaConnection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    w = start_worker(
        tmp_path_factory.mktemp("zijdeuren"),
        uuid.uuid4().hex + uuid.uuid4().hex,
        kafka=KAFKA,
        web_port=WEB_PORT + 20,
        worker_id="zijdeuren-worker",
        env={"ENGINE_FORGET_WITHIN_MS": "3000"},
    )
    yield w
    w.stop()


@pytest.fixture
async def producer(kafka: KafkaConnection) -> AsyncIterator[AIOKafkaProducer]:
    """This module's broker's producer (the session's `producer` writes to the session broker)."""
    p = test_kafka.producer(kafka)
    await p.start()
    yield p
    await p.stop()


async def signaal(
    producer: AIOKafkaProducer, partner: str, gemeente: str, subjecten: list[dict[str, str]]
) -> str:
    ce_id = uniek("sig")
    await publish(
        producer, partner, payload(locatie={"gemeente": gemeente}, subjecten=subjecten), ce_id=ce_id
    )
    return f"{partner}:{ce_id}"


async def riecs_van(kafka: KafkaConnection, signaal_id: str) -> set[str]:
    """The RIECs a signal was routed to (waits for its first route, then two seconds more)."""
    routed = await read_until(
        kafka, [t for t in await topics(kafka) if t.startswith("routes.riec.")], lambda f: len(f) >= 1,
        match=lambda r: r.key == signaal_id.encode(), linger=2.0,
    )  # fmt: skip
    return {r.topic.removeprefix("routes.riec.") for r in routed}


async def index(kafka: KafkaConnection, verboden: list[bytes]) -> list[Record]:
    """Every record of `engine.casusindex` (tombstones too) whose key or value holds one of these."""
    return [
        r
        for r in await read_all(kafka, [CASUSINDEX], settle=1.0)
        if any(v in (r.key or b"") + (r.value or b"") for v in verboden)
    ]


async def duw(kafka: KafkaConnection, topic: str) -> None:
    """A tombstone of an unused key on every partition: a segment rolls only when a record is
    appended after `segment.ms`, and only a rolled segment is cleaned."""
    p = test_kafka.producer(kafka)
    await p.start()
    try:
        for partitie in sorted(await p.partitions_for(topic)):
            await p.send_and_wait(topic, None, key=b"test:duwtje", partition=partitie)
    finally:
        await p.stop()


async def tot_gecompacteerd(kafka: KafkaConnection, topic: str, verboden: list[bytes]) -> list[Record]:
    """Nudges `topic` until no record of it holds any of `verboden`; what is left after the wait."""
    deadline = time.monotonic() + COMPACTIE_S
    while True:
        over = [
            r
            for r in await read_all(kafka, [topic], settle=1.0)
            if any(v in (r.key or b"") + (r.value or b"") for v in verboden)
        ]
        if not over or time.monotonic() > deadline:
            return over
        await duw(kafka, topic)
        await asyncio.sleep(4)


async def wis(kafka: KafkaConnection, worker: Worker, onderwerp: dict[str, str]) -> str:
    """An erasure filed by one named person and approved by another; returns once it took effect."""
    verzoek_id = f"wis-{uuid.uuid4().hex[:12]}"
    body = {"verzoek_id": verzoek_id, "handeling": "wissen", "reden": "AVG art. 17", "onderwerp": onderwerp}
    assert worker.post("/api/v1/ops/verzoeken", "ops:anna", body)[0] == 202
    pad = f"/api/v1/ops/verzoeken/{verzoek_id}"
    await worker.json_zodra(pad, "ops:anna", lambda v: v["status"] == "open")
    assert worker.post(f"{pad}/goedkeuring", "liec:cor", {})[0] == 202
    await read_until(
        kafka, [VERGETEN], lambda f: len(f) >= 1, timeout=60,
        match=lambda r: isinstance(g := VERGETEN_DECODER.decode(r.value), OnderwerpGewist)
        and g.verzoek_id == verzoek_id,
    )  # fmt: skip
    return verzoek_id


async def test_an_erased_signal_takes_back_the_kenteken_it_brought_to_an_open_casus(
    kafka: KafkaConnection, worker: Worker, producer: AIOKafkaProducer
) -> None:
    # Given X's signal naming her and a kenteken, linked to an open casus of noord-nederland
    x, k = bsn(), kenteken()
    px = Pseudonimiseerder(worker.key.encode()).bsn(x)
    van_x = await signaal(
        producer, "politie", "GM0014", [{"type": "persoon", "bsn": x}, {"type": "voertuig", "kenteken": k}]
    )
    assert RIEC in await riecs_van(kafka, van_x)
    casus = uniek("NI")
    await opdracht(
        producer,
        RIEC,
        "casus.openen",
        {"casus_id": casus, "naam": "n", "bron": "inbreng", "signalen": [van_x]},
    )
    await read_until(
        kafka, ["engine.gebeurtenissen"], lambda f: any(b"koppeling_bevestigd" in r.value for r in f),
        match=lambda r: r.key == f"casus:{casus}".encode(),
    )  # fmt: skip
    # The kenteken joined the index by that link (the search finds it, else it proves nothing) ...
    assert await read_until(
        kafka, [CASUSINDEX], lambda f: len(f) >= 1, match=lambda r: r.key == f"kenteken:{k}".encode()
    )
    # ... and makes a signal elsewhere with that kenteken reach the casus's RIEC
    elders = await signaal(producer, "om", "GM0599", [{"type": "voertuig", "kenteken": k}])
    assert await riecs_van(kafka, elders) == {"rotterdam", RIEC}

    # When X is erased
    await wis(kafka, worker, {"type": "persoon", "bsn": x})

    # Then the kenteken's entry is gone from the index (a tombstone), and no worker matches it
    tombstone = await read_until(
        kafka, [CASUSINDEX], lambda f: bool(f) and f[-1].value is None, timeout=30,
        match=lambda r: r.key == f"kenteken:{k}".encode(),
    )  # fmt: skip
    assert tombstone and tombstone[-1].value is None
    later = await signaal(producer, "om", "GM0599", [{"type": "voertuig", "kenteken": k}])
    assert await riecs_van(kafka, later) == {"rotterdam"}, "nothing of X's signal matches any more"
    # and once compaction ran, no record of the index holds it, nor X's pseudonym or signal id
    assert await tot_gecompacteerd(kafka, CASUSINDEX, [k.encode(), px.encode()]) == []
    # The erasure request's subject was sealed at the door: in the clear on no command topic
    opdrachten = await read_all(kafka, [VERZOEKOPDRACHTEN, "engine.verzoeken"], settle=1.0)
    assert opdrachten and not [r for r in opdrachten if x.encode() in r.value or px.encode() in r.value]


async def test_a_routing_worker_idle_past_the_tombstones_retention_matches_nothing_that_is_gone(
    kafka: KafkaConnection, worker: Worker, producer: AIOKafkaProducer
) -> None:
    # Given a casus with a kenteken of its own and one naming person Y, both in the index
    k, y = kenteken(), bsn()
    py = Pseudonimiseerder(worker.key.encode()).bsn(y)
    met_kenteken, met_persoon = uniek("NK"), uniek("NP")
    await opdracht(producer, RIEC, "casus.openen", {"casus_id": met_kenteken, "naam": "n", "bron": "inbreng",
                   "subjecten": [{"type": "voertuig", "kenteken": k}]})  # fmt: skip
    await opdracht(producer, RIEC, "casus.openen", {"casus_id": met_persoon, "naam": "n", "bron": "inbreng",
                   "subjecten": [{"type": "persoon", "bsn": y}]})  # fmt: skip
    sleutels = {f"kenteken:{k}".encode(), f"persoon:{py}".encode()}
    await read_until(
        kafka, [CASUSINDEX], lambda f: {r.key for r in f} == sleutels, match=lambda r: r.key in sleutels
    )
    voor = await signaal(producer, "om", "GM0599", [{"type": "voertuig", "kenteken": k}])
    assert await riecs_van(kafka, voor) == {"rotterdam", RIEC}, "the routing worker matches the index"

    # When, while no signal arrives, the one casus closes and Y is erased (no signal names Y, so
    # nothing of this reaches the routing stage), and compaction drops even their tombstones
    await opdracht(producer, RIEC, "casus.afsluiten", {"casus_id": met_kenteken, "reden": "klaar"})
    await wis(kafka, worker, {"type": "persoon", "bsn": y})
    await read_until(
        kafka, [CASUSINDEX], lambda f: {r.key for r in f if r.value is None} == sleutels, timeout=30,
        match=lambda r: r.key in sleutels,
    )  # fmt: skip
    assert await tot_gecompacteerd(kafka, CASUSINDEX, [k.encode(), py.encode()]) == []

    # Then signals about that kenteken and that person reach their own region only
    na_kenteken = await signaal(producer, "om", "GM0599", [{"type": "voertuig", "kenteken": k}])
    na_persoon = await signaal(producer, "om", "GM0599", [{"type": "persoon", "bsn": y}])
    assert await riecs_van(kafka, na_kenteken) == {"rotterdam"}, "the closed casus matches no more"
    assert await riecs_van(kafka, na_persoon) == {"rotterdam"}, "the erased subject matches no more"


async def test_a_table_reader_paused_longer_than_allowed_reads_its_table_again_from_the_start(
    kafka: KafkaConnection,
) -> None:
    """Given a reader of a compacted table that stopped reading (a paused process: no background
    reads), when an entry is deleted and compaction drops the tombstone before it reads again, then
    a reader back within its allowed absence keeps the deleted entry (the side door), and one back
    after it reads the table from offset 0 and has it no more."""
    topic = f"test.tabel-{uuid.uuid4().hex[:8]}"
    beheer = test_kafka.admin(kafka)
    await beheer.start()
    try:
        snel = {"cleanup.policy": "compact", "segment.ms": "1000", "delete.retention.ms": "1000",
                "max.compaction.lag.ms": "1000", "min.cleanable.dirty.ratio": "0.01"}  # fmt: skip
        await beheer.create_topics([NewTopic(topic, 1, 1, topic_configs=snel)])
    finally:
        await beheer.close()
    p = test_kafka.producer(kafka)
    await p.start()
    try:
        await p.send_and_wait(topic, b'{"C-1":"rotterdam"}', key=b"kenteken:WEG1X")
        await p.send_and_wait(topic, b'{"C-2":"limburg"}', key=b"kenteken:BLIJF1X")
    finally:
        await p.stop()
    klok = [time.time()]

    def lezer() -> Tables[CasusIndex]:
        return Tables(
            kafka, lambda: CasusIndex(herkomst=False), {topic: restore_index},
            max_afwezig_s=60, interval_s=10**9, klok=lambda: klok[0],
        )  # fmt: skip

    terug_op_tijd, terug_te_laat = lezer(), lezer()
    try:
        for t in (terug_op_tijd, terug_te_laat):
            await t.refresh()
            assert [m.casus_id for m in t.staat.zoek("kenteken:WEG1X")] == ["C-1"]
        p = test_kafka.producer(kafka)
        await p.start()
        try:
            await p.send_and_wait(topic, None, key=b"kenteken:WEG1X")
        finally:
            await p.stop()
        assert await tot_gecompacteerd(kafka, topic, [b"WEG1X"]) == [], "the tombstone is gone too"

        klok[0] += 59
        await terug_op_tijd.refresh()
        klok[0] += 2
        await terug_te_laat.refresh()  # 61 s after its last read: longer than allowed

        assert terug_op_tijd.staat.zoek("kenteken:WEG1X") != [], "within its absence it cannot see it"
        assert terug_te_laat.staat.zoek("kenteken:WEG1X") == [] and terug_te_laat.herbouwd == 1
        assert [m.casus_id for m in terug_te_laat.staat.zoek("kenteken:BLIJF1X")] == ["C-2"]
    finally:
        for t in (terug_op_tijd, terug_te_laat):
            await t.stop()
