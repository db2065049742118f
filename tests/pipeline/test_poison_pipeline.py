"""Given a running engine, when poison reaches it — commands dated at the limits of time, a fan-out
past Kafka's 1 MiB, deeply nested JSON on every kind of topic, outputs too large to write, and a
thousand generated RIEC commands — then the worker stays healthy (also after a restart), each bad
record is in dlq.ingress or dlq.engine with its reason, good traffic after it is routed exactly
once, quarantined records can be re-driven without anything happening twice, and a replay still
equals the live projections.

Records are written straight onto internal topics (as a bug upstream would write them) to reach
the stages and projections behind the front doors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import msgspec
import orjson
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord

from engine.events.casus import BESLUIT_INVOER_DECODER, OpdrachtOntvangen
from engine.events.matching import ZOEKINDEX_ENCODER, CasusMatch, Routebriefje
from engine.events.signaal_ontvangen import SignaalOntvangen
from engine.kafka.quarantine import quarantine_record, read_quarantine, size
from engine.kafka.stage import Output, partition_for
from engine.topics import DLQ_ENGINE, GEBEURTENISSEN, INTERNAL_MAX_BYTES, ZOEKINDEX
from tests.fixtures import command_headers, headers, payload
from tests.pipeline.casus_helpers import (
    ROUTE_TOPICS,
    gebeurtenissen,
    in_index,
    kenteken,
    opdracht,
    routes,
    uniek,
)
from tests.pipeline.conftest import ROOT, Worker, engine_env
from tests.pipeline.kafka import Record, eventually, header, is_signaal, publish, read_until
from tests.pipeline.malformed import generate_commands

pytestmark = pytest.mark.pipeline

LIMIETEN = (
    "9999-12-31T23:30:00Z",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59.999999-23:59",
    "0001-01-01T00:00:00+23:59",
)
DIEP = b"[" * 100_000 + b"]" * 100_000
DIEP_IN_OBJECT = b'{"soort": "signaal", "x": ' + DIEP + b"}"
NU = datetime.now(UTC)

# Kept between the tests of this module, which run in order against one worker.
quarantaine_verwacht: dict[tuple[str, int, int], str] = {}
"""(source topic, partition, offset) → expected reason_code in dlq.engine."""
slachtoffers: list[str] = []
"""Kentekens shared by 70 open casussen (the fan-out test)."""


def bron(r: Record) -> tuple[str, int, int] | None:
    if r.topic != DLQ_ENGINE or header(r, "original_headers") is None:
        return None
    h, _ = read_quarantine(r.headers)
    return (h.source_topic, h.source_partition, h.source_offset)


def opdracht_id(r: Record) -> str | None:
    """The command a record is about: a refusal's ce_id, an event's or a quarantined candidate's."""
    if r.topic == "dlq.ingress":
        return header(r, "ce_id")
    try:
        return str(orjson.loads(r.value or b"")["opdracht_id"]).split(":", 1)[1]
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
        return None


async def waar(broker: str, ce_ids: set[str], timeout: float = 40) -> dict[str, list[str]]:
    """For each command's ce_id, the topics it ended on (dlq.ingress, the casus log, dlq.engine)."""
    found = await read_until(
        broker,
        ["dlq.ingress", GEBEURTENISSEN, DLQ_ENGINE],
        lambda f: {opdracht_id(r) for r in f} >= ce_ids,
        match=lambda r: opdracht_id(r) in ce_ids,
        timeout=timeout,
        linger=1.0,
    )
    result: dict[str, list[str]] = {c: [] for c in ce_ids}
    for r in found:
        result[str(opdracht_id(r))].append(r.topic)
    return result


async def test_commands_and_signals_dated_at_the_limits_of_time_are_refused_or_counted(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    beelden: dict[str, str] = {}
    for tijd in LIMIETEN:
        beeld_ce = await opdracht(
            producer,
            "rotterdam",
            "ondermijningsbeeld.opleveren",
            {"beeld_id": uniek("OB"), "naam": "Haven"},
            ce_time=tijd,
        )
        beelden[beeld_ce] = tijd
        await opdracht(producer, "limburg", "casus.openen", {
            "casus_id": uniek("L"), "naam": "n", "bron": "inbreng", "themas": ["drugs"]}, ce_time=tijd)  # fmt: skip
        await opdracht(producer, "limburg", "handhavingsknelpunt.aanwijzen", {
            "hkp_id": uniek("H"), "naam": "n", "soort": "gebied", "postcodes": ["9991"],
            "geldig_van": "0001-01-01", "geldig_tot": "9999-12-31"}, ce_time=tijd)  # fmt: skip
    signalen = []
    for i, tijd in enumerate(LIMIETEN):
        ce_id = uniek("grens")
        waargenomen = "0001-01-01" if i % 2 else "9999-12-31"
        await publish(producer, "politie", payload(waargenomen_op=waargenomen), ce_id=ce_id, ce_time=tijd)
        signalen.append(ce_id)
    toekomst = uniek("toekomst")  # a record timestamp 35,000 years ahead
    await producer.send_and_wait(
        "partner.politie.signalen",
        orjson.dumps(payload()),
        headers=headers("politie", toekomst),
        timestamp_ms=2**50,
    )

    uitkomst = await waar(broker, set(beelden))
    assert all(len(v) == 1 and v[0] in ("dlq.ingress", GEBEURTENISSEN) for v in uitkomst.values()), uitkomst
    for ce_id in [*signalen, toekomst]:
        gevonden = await read_until(
            broker,
            ["dlq.ingress", *ROUTE_TOPICS],
            lambda f: len(f) >= 1,
            match=lambda r, c=ce_id: (
                header(r, "ce_id") == c or f"politie:{c}".encode() in (r.value or b"")[:300]
            ),
        )
        assert gevonden, f"{ce_id} is routed or refused"
    geteld = [t for c, t in beelden.items() if uitkomst[c] == [GEBEURTENISSEN]]
    jaren = {"9999-12-31T23:30:00Z": 10000, "0001-01-01T00:30:00+01:00": 0}
    for tijd in geteld:
        if tijd in jaren:
            tabel = orjson.loads(worker.get(f"/api/v1/jaarverslag/{jaren[tijd]}", "liec"))
            assert tabel["tabel1"]["rotterdam"]["ondermijningsbeelden"] >= 1
    assert orjson.loads(worker.get("/api/v1/ops/projecties"))["overgeslagen"]["aantal"] == 0
    assert worker.health() == 200 and worker.process.poll() is None


async def test_deeply_nested_json_on_every_kind_of_topic_is_refused_quarantined_or_skipped(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    refused: dict[str, bytes] = {}
    for value in (DIEP, DIEP_IN_OBJECT):
        ce_id = uniek("diep")
        await publish(producer, "gm0363", value=value, ce_id=ce_id)
        refused[ce_id] = value
        ce_id = uniek("diep-opdracht")
        await producer.send_and_wait(
            "riec.rotterdam.opdrachten",
            value,
            headers=command_headers("rotterdam", "nl.riec.casus.openen.v1", ce_id),
        )
        refused[ce_id] = value
    interne = [
        ("engine.signalen.kandidaten", b"politie:diep"),
        ("engine.opdrachten.kandidaten", b"casus:diep"),
        (ZOEKINDEX, b"kenteken:DIEP"),
    ]
    for topic, key in interne:
        meta = await producer.send_and_wait(topic, DIEP_IN_OBJECT, key=key, partition=0)
        quarantaine_verwacht[(topic, 0, meta.offset)] = "handler_error"
    # Logs a stage restores its state from (the HKP register before every routing batch, the index
    # changelog at the restart in the last test): skipped there, counted.
    for topic, key in (("engine.knelpunten", b"hkp:diep"), ("engine.casusindex", b"kenteken:DIEPX")):
        await producer.send_and_wait(topic, DIEP_IN_OBJECT, key=key, partition=0)
    # Route topics hold JSON for every reader (other tests too): a route the inbox cannot fold.
    onleesbare_route = orjson.dumps({"signaal_id": f"politie:{uniek('diep')}", "ontvangen_op": "geen datum"})
    overslaan = []
    for topic, value in ((GEBEURTENISSEN, DIEP_IN_OBJECT), ("routes.liec.triage", onleesbare_route)):
        meta = await producer.send_and_wait(topic, value, key=b"diep", partition=0)
        overslaan.append({"topic": topic, "partition": 0, "offset": meta.offset})

    dlq = await read_until(
        broker,
        ["dlq.ingress"],
        lambda f: len(f) >= len(refused),
        match=lambda r: header(r, "ce_id") in refused,
    )
    assert sorted(header(r, "ce_id") or "" for r in dlq) == sorted(refused)
    for r in dlq:
        assert r.value == refused[header(r, "ce_id") or ""] and header(r, "reason")
    wanted = set(quarantaine_verwacht)
    quarantined = await read_until(
        broker, [DLQ_ENGINE], lambda f: {bron(r) for r in f} >= wanted, match=lambda r: bron(r) in wanted
    )
    assert {bron(r) for r in quarantined} == wanted
    for r in quarantined:
        herkomst, eigen = read_quarantine(r.headers)
        assert r.value == DIEP_IN_OBJECT and eigen == []
        assert (
            herkomst.reason_code == quarantaine_verwacht[(herkomst.source_topic, 0, herkomst.source_offset)]
        )
        assert herkomst.reason and herkomst.error
        assert herkomst.stage in ("vastleggen", "besluiten", "zoekindex")

    def alle_overgeslagen() -> bool:
        gemeld = orjson.loads(worker.get("/api/v1/ops/projecties"))["overgeslagen"]["records"]
        return all(any(o.items() <= g.items() for g in gemeld) for o in overslaan)

    assert await eventually(alle_overgeslagen), "the live projections list what they skipped"

    def register_sloeg_over() -> bool:
        regels = worker.get("/metrics").splitlines()
        return any(r.startswith("riec_restore_skipped_total{") and 'stage="knelpunten"' in r for r in regels)

    assert await eventually(register_sloeg_over), "the HKP register skipped the bad record, counted"
    assert worker.health() == 200 and worker.process.poll() is None


def signaal(signaal_id: str, omschrijving: str = "x") -> SignaalOntvangen:
    return SignaalOntvangen(
        signaal_id=signaal_id,
        bron="politie",
        gemeld_op=NU,
        aangeboden_op=NU,
        ontvangen_op=NU,
        soort="signaal",
        themas=["drugs"],
        omschrijving=omschrijving,
        waargenomen_op=date(2026, 3, 1),
    )


async def naar_zoekindex(producer: AIOKafkaProducer, value: bytes, key: bytes) -> tuple[str, int, int]:
    """Write a record onto the index partition of its key, as the stages would; its coordinates."""
    partitions = sorted(await producer.partitions_for(ZOEKINDEX))
    partition = partition_for(key, partitions, partitions)
    meta = await producer.send_and_wait(ZOEKINDEX, value, key=key, partition=partition)
    return (ZOEKINDEX, partition, meta.offset)


async def test_seventy_casussen_sharing_a_hundred_kentekens_route_one_signal_once_with_capped_reasons(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    kentekens = sorted({kenteken() for _ in range(130)})[:100]
    slachtoffers.extend(kentekens)
    casussen = [uniek("R") for _ in range(70)]
    voertuigen = [{"type": "voertuig", "kenteken": k} for k in kentekens]
    for casus_id in casussen:
        await opdracht(producer, "rotterdam", "casus.openen", {
            "casus_id": casus_id, "naam": "n", "bron": "gebiedsscan", "subjecten": voertuigen})  # fmt: skip
    await gebeurtenissen(broker, f"casus:{casussen[-1]}", 1, timeout=40)
    await in_index(broker, casussen[-1], identificatoren=len(kentekens), timeout=60)
    ce_id = uniek("fanout")

    await publish(producer, "politie", payload(subjecten=voertuigen), ce_id=ce_id)

    got = await routes(broker, "politie", ce_id, 2)
    assert sorted(got) == ["riec.amsterdam-amstelland", "riec.rotterdam"]
    redenen = got["riec.rotterdam"]["redenen"]
    assert sorted(r["casus_id"] for r in redenen if r["regel"] == "open_casus") == sorted(casussen)
    assert [r["regel"] for r in redenen].count("open_casus_begrensd") == 1
    assert worker.health() == 200 and worker.process.poll() is None


async def test_a_slip_from_before_the_caps_is_routed_capped_and_an_output_too_large_is_quarantined(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    oud_id = f"politie:{uniek('oud')}"
    oud = [
        CasusMatch(casus_id=f"OUD-{i:05d}-{'x' * 40}", riec="rotterdam", identificator="kenteken:X")
        for i in range(7000)
    ]
    oud_briefje = Routebriefje(signaal=signaal(oud_id), te_zoeken=["kenteken:GEEN1X"], matches=oud)
    await naar_zoekindex(producer, ZOEKINDEX_ENCODER.encode(oud_briefje), b"kenteken:GEEN1X")

    # A slip just under 1 MiB whose next hop gains 25 matches of the seventy casussen: over 1 MiB.
    groot_id = f"politie:{uniek('groot')}"
    te_zoeken = [f"kenteken:{slachtoffers[0]}", "kenteken:GEEN2X"]
    briefje = Routebriefje(signaal=signaal(groot_id), te_zoeken=te_zoeken)
    n = len(ZOEKINDEX_ENCODER.encode(briefje))
    doel = INTERNAL_MAX_BYTES - 1000
    briefje = Routebriefje(signaal=signaal(groot_id, "x" * (doel - n - 200)), te_zoeken=te_zoeken)
    value = ZOEKINDEX_ENCODER.encode(briefje)
    assert (
        INTERNAL_MAX_BYTES - 1600 < size(Output(ZOEKINDEX, te_zoeken[0].encode(), value)) < INTERNAL_MAX_BYTES
    )
    key = te_zoeken[0].encode()
    coordinaten = await naar_zoekindex(producer, value, key)

    routed = await read_until(
        broker,
        ROUTE_TOPICS,
        lambda f: len(f) >= 1,
        match=lambda r: oud_id.encode() in (r.value or b"")[:300],
        linger=1.5,
    )
    assert [r.topic for r in routed] == ["routes.riec.rotterdam"]
    regels = [r["regel"] for r in orjson.loads(routed[0].value or b"")["redenen"]]
    assert regels.count("open_casus") == 100 and regels.count("open_casus_begrensd") == 1
    [q] = await read_until(
        broker, [DLQ_ENGINE], lambda f: len(f) >= 1, match=lambda r: bron(r) == coordinaten
    )
    herkomst, _ = read_quarantine(q.headers)
    assert (herkomst.reason_code, herkomst.stage) == ("output_too_large", "zoekindex")
    assert q.value == value and q.key == key
    quarantaine_verwacht[coordinaten] = "output_too_large"
    assert worker.health() == 200 and worker.process.poll() is None


async def test_a_thousand_generated_riec_commands_each_end_in_one_place(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    prefix = uniek("gen")
    commands = generate_commands(1000, prefix)
    ce_ids = [f"{prefix}-{i}" for i in range(len(commands))]
    sent = [
        await producer.send(
            f"riec.{c.riec}.opdrachten",
            c.value,
            headers=command_headers(c.riec, c.ce_type, ce_id, ce_time=c.ce_time),
        )
        for c, ce_id in zip(commands, ce_ids, strict=True)
    ]
    await asyncio.gather(*sent)

    uitkomst = await waar(broker, set(ce_ids), timeout=60)

    meer = {c: t for c, t in uitkomst.items() if len(t) != 1}
    assert not meer, (
        f"each command once in dlq.ingress, the casus log or dlq.engine: {list(meer.items())[:5]}"
    )
    assert worker.health() == 200 and worker.process.poll() is None


def herverwerk(*args: str) -> str:
    env = {**os.environ, **engine_env(), "ENGINE_APP_ID": "riec-engine-test"}  # as the engine's principal
    done = subprocess.run(
        [sys.executable, "-m", "engine.tools", "herverwerk", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout


async def kandidaat(broker: str, topic: str, opdracht_of_signaal_id: str) -> Record:
    """The command or the signal itself (the candidates topic of signals also carries where each
    signal was routed, which names it too)."""

    def zelf(r: Record) -> bool:
        noemt = opdracht_of_signaal_id.encode() in (r.value or b"")
        return noemt and (topic != "engine.signalen.kandidaten" or is_signaal(r))

    [r] = await read_until(broker, [topic], lambda f: len(f) >= 1, match=zelf)
    return r


async def in_dlq_engine(producer: AIOKafkaProducer, r: Record, stage: str) -> None:
    """Quarantine `r` as its stage would have, had it failed on it (a bug since fixed)."""
    bericht = quarantine_record(r, stage=stage, fout=RuntimeError("bug, since fixed"), nu=datetime.now(UTC))
    await producer.send_and_wait(DLQ_ENGINE, bericht.value, key=bericht.key, headers=list(bericht.headers))


async def test_quarantined_records_are_re_driven_once_fixed_and_nothing_happens_twice(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    # Given a command and a signal that were handled, and a command never handled, all quarantined.
    casus_id = uniek("RD")
    ce_cmd = await opdracht(
        producer, "rotterdam", "casus.openen", {"casus_id": casus_id, "naam": "n", "bron": "inbreng"}
    )
    ce_sig = uniek("rd-sig")
    await publish(producer, "gm0363", ce_id=ce_sig)
    await routes(broker, "gm0363", ce_sig, 1)
    await gebeurtenissen(broker, f"casus:{casus_id}", 1)
    cmd = await kandidaat(broker, "engine.opdrachten.kandidaten", f"rotterdam:{ce_cmd}")
    sig = await kandidaat(broker, "engine.signalen.kandidaten", f"gm0363:{ce_sig}")
    nieuw_id, ce_nieuw = uniek("RD"), uniek("cmd")
    o = BESLUIT_INVOER_DECODER.decode(cmd.value or b"")
    assert isinstance(o, OpdrachtOntvangen)
    nieuw = msgspec.structs.replace(
        o,
        opdracht_id=f"rotterdam:{ce_nieuw}",
        aggregaat=f"casus:{nieuw_id}",
        opdracht=msgspec.Raw(orjson.dumps({"casus_id": nieuw_id, "naam": "n", "bron": "inbreng"})),
    )
    partitions = sorted(await producer.partitions_for("engine.opdrachten.kandidaten"))
    key = nieuw.aggregaat.encode()
    nooit = ConsumerRecord(
        "engine.opdrachten.kandidaten", partition_for(key, partitions, partitions), 0, cmd.timestamp, 0, key,
        msgspec.json.encode(nieuw), None, 0, 0, [],
    )  # fmt: skip
    for r, stage in ((cmd, "besluiten"), (sig, "vastleggen"), (nooit, "besluiten")):
        await in_dlq_engine(producer, r, stage)
    bronnen = (
        "--source-topic",
        "engine.opdrachten.kandidaten",
        "--source-topic",
        "engine.signalen.kandidaten",
    )

    # When re-driven, again (nothing left), and once more by force.
    def offsets(uitvoer: str) -> set[str]:
        regels = [line for line in uitvoer.splitlines() if "dlq.engine@" in line]
        return {line.split("dlq.engine@")[1].split(" ")[0] for line in regels}

    eerste = offsets(herverwerk(*bronnen))
    assert len(eerste) >= 5, "the three above and the nested garbage of before"
    assert not eerste & offsets(herverwerk(*bronnen)), (
        "a second run re-drives only what was quarantined since"
    )
    herverwerk("--opnieuw", *[a for off in sorted(eerste) for a in ("--offset", off)])

    # Then each is handled exactly once, and the garbage of before is quarantined again.
    events = await read_until(
        broker,
        [GEBEURTENISSEN],
        lambda f: len(f) >= 2,
        match=lambda r: r.key in (f"casus:{casus_id}".encode(), f"casus:{nieuw_id}".encode()),
        linger=3,
    )
    assert sorted(r.key or b"" for r in events) == sorted(
        [f"casus:{casus_id}".encode(), f"casus:{nieuw_id}".encode()]
    )
    log = await read_until(
        broker,
        ["engine.signalen"],
        lambda f: len(f) >= 1,
        match=lambda r: r.key == f"gm0363:{ce_sig}".encode() and is_signaal(r),
        linger=1,
    )
    assert len(log) == 1
    await routes(broker, "gm0363", ce_sig, 1)  # asserts one message per destination
    opnieuw = await read_until(
        broker,
        [DLQ_ENGINE],
        lambda f: len(f) >= 2,
        match=lambda r: (
            r.value == DIEP_IN_OBJECT and bron(r) is not None and bron(r) not in quarantaine_verwacht
        ),
    )
    assert {read_quarantine(r.headers)[0].source_topic for r in opnieuw} == {
        "engine.opdrachten.kandidaten",
        "engine.signalen.kandidaten",
    }


async def test_after_all_of_it_the_worker_survives_a_restart_routes_good_traffic_once_and_replays_equal(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    worker.kill_and_restart()  # a restart meets every record above again, from committed offsets
    goed = [uniek("goed") for _ in range(20)]
    for ce_id in goed:
        await publish(producer, "gm0363", ce_id=ce_id)

    ids = {f"gm0363:{c}" for c in goed}
    routed = await read_until(
        broker,
        ["routes.riec.amsterdam-amstelland"],
        lambda f: len(f) >= len(goed),
        match=lambda r: orjson.loads(r.value or b"")["signaal_id"] in ids,
        linger=2,
    )
    assert sorted(orjson.loads(r.value or b"")["signaal_id"] for r in routed) == sorted(ids), (
        "each exactly once"
    )
    assert worker.health() == 200 and worker.process.poll() is None
    replay = worker.replay()
    assert replay.returncode == 0 and "replay equals live" in replay.stdout, replay.stdout + replay.stderr
