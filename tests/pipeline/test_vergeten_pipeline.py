"""Forgetting, on a broker of its own with small segments and fast retention (issue 15's Done when).

Given signals about a person X (one names her BSN, one has it in its free text), about a kenteken Y
and about a kenteken Z, all routed, three of them linked to a casus, a second casus and an HKP that
name X themselves, read through the API:
- an inzage of Y holds exactly Y's signal, its routes, its casus and the reads of them; an inzage
  of X also the casus and HKP that name her;
- an erasure of X filed and approved by the same person does nothing;
- approved by a second person, X's signals are forgotten, and the casus and HKP naming her (their
  names read `[gewist]`, the HKP routes no more): once compaction and retention ran, X's
  BSN, pseudonym, free text and the names of that casus and HKP are in no file of the broker, on no topic, in no file of the worker,
  in no API answer and not in the worker's log, while a replay still equals the live read models and
  the annual tables are what they were;
- Z's signal, linked to no casus, runs out of its retention period and is gone the same way, and so
  are the name and closing reason of a casus closed longer than the `casus` rule's period.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.events.vergeten import VERGETEN_DECODER, GegevensVerlopen, OnderwerpGewist
from engine.settings import KafkaConnection
from engine.topics import VERGETEN
from tests.fixtures import payload
from tests.pipeline import kafka as test_kafka
from tests.pipeline.casus_helpers import bsn, kenteken, opdracht, uniek
from tests.pipeline.conftest import BROKER_PORT, WEB_PORT
from tests.pipeline.kafka import publish, read_all, read_until, topics
from tests.processes import ROOT, LocalKafka, Worker, start_worker

pytestmark = pytest.mark.pipeline
KAFKA = LocalKafka(ROOT / ".local/kafka-test-vergeten", BROKER_PORT + 10)
DAG_S = 24 * 3600
_GEEN_CIJFERS = str.maketrans("0123456789", "ghijklmnop")
RIEC = "noord-nederland"
"""GM0014 (Groningen) is routed there."""


@pytest.fixture(scope="module")
def kafka() -> Iterator[KafkaConnection]:
    KAFKA.run("start", fresh=True)
    yield KAFKA.beheerder()
    KAFKA.run("stop")


@pytest.fixture(scope="module")
def worker(kafka: KafkaConnection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker whose retention periods and compaction lags are seconds, not days."""
    w = start_worker(
        tmp_path_factory.mktemp("vergeten"),
        uuid.uuid4().hex + uuid.uuid4().hex,
        kafka=KAFKA,
        web_port=WEB_PORT + 10,
        worker_id="vergeten-worker",
        env={
            "ENGINE_RETENTION_DOORGANG_DAYS": str(40 / DAG_S),
            "ENGINE_RETENTION_DLQ_DAYS": str(20 / DAG_S),
            "ENGINE_RETENTION_SIGNAAL_ZONDER_CASUS_DAYS": str(60 / DAG_S),
            "ENGINE_RETENTION_CASUS_DAYS": str(60 / DAG_S),
            "ENGINE_RETENTION_INTERVAL_S": "2",
            "ENGINE_FORGET_WITHIN_MS": "3000",
        },
    )
    yield w
    w.stop()


def bestanden(map_: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file's bytes but Kafka's offset and time indexes: those hold offsets, positions and
    timestamps only, in files preallocated to 10 MB each (reading them took a minute)."""
    for pad in sorted(map_.rglob("*")):
        if pad.is_file() and pad.suffix not in (".index", ".timeindex"):
            try:
                yield pad, pad.read_bytes()
            except FileNotFoundError:  # deleted by the broker meanwhile
                continue


def gevonden(verboden: list[bytes], inhoud: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Where any of the forbidden byte strings occurs."""
    return [(waar, v) for waar, data in inhoud for v in verboden if v in data]


async def sporen(kafka: KafkaConnection, worker: Worker, verboden: list[bytes]) -> list[tuple[str, bytes]]:
    """Every place a forbidden string is still readable: the broker's files (every segment, index,
    checkpoint), every record of every topic (key, value, headers), the worker's files (the read
    models' store) and its log."""
    inhoud = [(f"broker:{p.relative_to(KAFKA.state)}", b) for p, b in bestanden(KAFKA.state / "data")]
    for r in await read_all(kafka, await topics(kafka), settle=1.0):
        kop = b"".join(k.encode() + v for k, v in r.headers)
        inhoud.append((f"{r.topic}[{r.partition}]@{r.offset}", (r.key or b"") + (r.value or b"") + kop))
    data = Path(worker.env["ENGINE_DATA_DIR"])
    inhoud += [(f"worker:{p.name}", b) for p, b in bestanden(data)]
    inhoud.append(("worker log", worker.log.read_bytes()))
    return gevonden(verboden, inhoud)


def plek(waar: str) -> str:
    """The topic of a place `sporen` names (a record, or a broker's segment file), or the worker's."""
    if waar.startswith("broker:"):  # broker:data/<topic>-<partition>/<segment>
        return waar.removeprefix("broker:").split("/")[1].rsplit("-", 1)[0]
    return waar.split("[")[0] if "[" in waar else waar


async def routes_van(kafka: KafkaConnection, signaal_id: str) -> set[str]:
    routed = await read_until(
        kafka, [t for t in await topics(kafka) if t.startswith("routes.")], lambda f: len(f) >= 1,
        match=lambda r: r.key == signaal_id.encode(), linger=2.0,
    )  # fmt: skip
    return {r.topic.removeprefix("routes.") for r in routed}


async def vergeten(
    kafka: KafkaConnection, soort: type, timeout: float, waarvan: Callable[[Any], bool] = lambda _: True
) -> list[Any]:
    """The records of `engine.vergeten` of this kind (and `waarvan` holds), once there is one."""
    records = await read_until(
        kafka, [VERGETEN], lambda f: len(f) >= 1, timeout=timeout,
        match=lambda r: isinstance(g := VERGETEN_DECODER.decode(r.value), soort) and waarvan(g),
    )  # fmt: skip
    return [VERGETEN_DECODER.decode(r.value) for r in records]


async def lees_casus(worker: Worker, casus: str) -> list[str]:
    """The casus detail as its RIEC reads it (audited when it is there): the ids of its signals."""
    status, _, body = await asyncio.to_thread(
        worker.request, f"/api/v1/riec/{RIEC}/casussen/{casus}", f"riec:{RIEC}"
    )
    return list(orjson.loads(body)["signaal_ids"]) if status == 200 else []


async def signalen(producer: AIOKafkaProducer, x: str, y: str, z: str) -> dict[str, tuple[str, bytes]]:
    """Publishes the four signals; returns name → (signal id, its distinctive free text)."""
    uit = {}
    bodies = {
        "A1": ([{"type": "persoon", "bsn": x}], ""),
        "A2": ([], f" gezien met bsn {x}"),
        "B": ([{"type": "voertuig", "kenteken": y}], ""),
        "C": ([{"type": "voertuig", "kenteken": z}], ""),
    }
    for naam, (subjecten, extra) in bodies.items():
        # Letters only after the name: a run of nine hex digits passing the elfproef (858303371 in
        # one CI run) is a BSN to the engine's gate, which rightly pseudonymised it in the text.
        ce_id, tekst = uniek("sig"), f"tekst-{naam}-{uuid.uuid4().hex.translate(_GEEN_CIJFERS)}"
        body = payload(locatie={"gemeente": "GM0014"}, subjecten=subjecten, omschrijving=tekst + extra)
        await publish(producer, "politie", body, ce_id=ce_id)
        uit[naam] = (f"politie:{ce_id}", tekst.encode())
    return uit


async def test_erasure_and_retention_leave_nothing_readable_and_inzage_is_complete(
    kafka: KafkaConnection, worker: Worker
) -> None:
    x, y, z = bsn(), kenteken(), kenteken()
    px = Pseudonimiseerder(worker.key.encode()).bsn(x)
    producer = test_kafka.producer(kafka)
    await producer.start()
    try:
        s = await signalen(producer, x, y, z)
        verboden_x = [x.encode(), px.encode(), s["A1"][1], s["A2"][1]]
        verboden_z = [z.encode(), z.replace("-", "").encode(), s["C"][1]]
        alles = {*verboden_x, *verboden_z}
        # The search finds every one of them before they are forgotten (else it proves nothing).
        assert {v for _, v in await sporen(kafka, worker, [*alles])} == alles
        for naam, (signaal_id, _) in s.items():
            assert await routes_van(kafka, signaal_id), f"{naam} was routed"
        casus = uniek("NN")
        koppel = [s["A1"][0], s["A2"][0], s["B"][0]]
        await opdracht(
            producer,
            RIEC,
            "casus.openen",
            {"casus_id": casus, "naam": "n", "bron": "inbreng", "signalen": koppel},
        )
        await read_until(  # opened, and the three links confirmed
            kafka, ["engine.gebeurtenissen"], lambda f: len(f) >= 4, timeout=30,
            match=lambda r: r.key == f"casus:{casus}".encode(),
        )  # fmt: skip
        over_x, hkp = uniek("NX"), uniek("HKP")
        namen = {over_x: f"dossier-{uuid.uuid4().hex}", hkp: f"knelpunt-{uuid.uuid4().hex}"}
        x_als_subject = [{"type": "persoon", "bsn": x}]
        await opdracht(producer, RIEC, "casus.openen", {
            "casus_id": over_x, "naam": namen[over_x], "bron": "inbreng", "subjecten": x_als_subject})  # fmt: skip
        await opdracht(producer, RIEC, "handhavingsknelpunt.aanwijzen", {
            "hkp_id": hkp, "naam": namen[hkp], "soort": "persoon", "subjecten": x_als_subject,
            "geldig_van": "2020-01-01"})  # fmt: skip
        for aggregaat in (f"casus:{over_x}", f"hkp:{hkp}"):
            await read_until(
                kafka, ["engine.gebeurtenissen"], lambda f: len(f) >= 1, timeout=30,
                match=lambda r, a=aggregaat: r.key == a.encode(),  # type: ignore[misc]
            )  # fmt: skip
        verboden_x += [n.encode() for n in namen.values()]
        # A casus closed at once: its name and reason run out of the `casus` rule's 60 seconds.
        afgesloten, naam_w, reden_w = uniek("NW"), f"gesloten-{uuid.uuid4().hex}", f"reden-{uuid.uuid4().hex}"
        await opdracht(
            producer, RIEC, "casus.openen", {"casus_id": afgesloten, "naam": naam_w, "bron": "inbreng"}
        )
        await opdracht(producer, RIEC, "casus.afsluiten", {"casus_id": afgesloten, "reden": reden_w})
        verboden_z += [naam_w.encode(), reden_w.encode()]
    finally:
        await producer.stop()
    # The names are sealed on the casus log from the start: they are on the command topics (kept a
    # week) and the HKP register (compacted), nowhere else.
    plekken = {plek(w) for w, _ in await sporen(kafka, worker, verboden_x[-2:])}
    assert plekken == {f"riec.{RIEC}.opdrachten", "engine.opdrachten.kandidaten", "engine.knelpunten"}
    detail = await worker.json_zodra(
        f"/api/v1/riec/{RIEC}/casussen/{over_x}", f"riec:{RIEC}", lambda d: d["naam"] == namen[over_x]
    )
    assert detail["naam"] == namen[over_x], "read with its key"
    # Reads that the audit log records (ids only); every read is kept: the inzage must list them.
    gelezen = [await lees_casus(worker, casus)]
    while len(gelezen[-1]) < 3:
        await asyncio.sleep(0.3)
        gelezen.append(await lees_casus(worker, casus))
    for naam in ("A1", "B"):
        assert worker.request(f"/api/v1/riec/{RIEC}/signalen/{s[naam][0]}", f"riec:{RIEC}")[0] == 200
        gelezen.append([s[naam][0]])
    jaar = datetime.now(UTC).year
    w = await worker.json_zodra(  # the closed casus is in the read models before the tables are read
        f"/api/v1/riec/{RIEC}/casussen/{afgesloten}", f"riec:{RIEC}", lambda d: d["status"] == "afgesloten"
    )
    assert w["status"] == "afgesloten"
    jaarverslag = worker.get(f"/api/v1/jaarverslag/{jaar}", "liec")
    totaal = orjson.loads(jaarverslag)["tabel1"]["totaal"]
    assert totaal["casussen"] == 3 and totaal["themas"]["witwassen"] == 1, "the tables count what is erased"

    # (3) An inzage of Y: exactly its signal, where it went, its casus, and the reads of them.
    status, body = worker.post(
        "/api/v1/ops/inzage", "liec:cor", {"onderwerp": {"type": "voertuig", "kenteken": y}}
    )
    assert status == 200, body
    inzage = orjson.loads(body)
    assert [i["signaal_id"] for i in inzage["signalen"]] == [s["B"][0]]
    [b] = inzage["signalen"]
    assert set(b["routes"]) == await routes_van(kafka, s["B"][0]) and b["casussen"] == {casus: RIEC}
    assert s["B"][1].decode() in b["omschrijving"] and b["subjecten"] == [{"type": "voertuig", "kenteken": y}]
    # Each read of the casus showed it (and B once linked); each signal read showed its casus.
    verwacht = [(f"riec:{RIEC}", [i for i in ids if i == s["B"][0]], [casus]) for ids in gelezen]
    assert [(lz["door"], lz["signaal_ids"], lz["casus_ids"]) for lz in inzage["lezingen"]] == verwacht
    status, pagina = worker.post(
        "/api/v1/ops/inzage?formaat=html",
        "liec:cor",
        {"onderwerp": {"type": "voertuig", "kenteken": y}},
    )
    assert status == 200 and s["B"][0].encode() in pagina and b"<script" not in pagina
    status, body = worker.post("/api/v1/ops/inzage", "ops:anna", {"onderwerp": {"type": "persoon", "bsn": x}})
    assert sorted(i["signaal_id"] for i in orjson.loads(body)["signalen"]) == sorted([s["A1"][0], s["A2"][0]])
    assert [(g["aggregaat"], g["naam"]) for g in orjson.loads(body)["genoemd_in"]] == sorted(
        [(f"casus:{over_x}", namen[over_x]), (f"hkp:{hkp}", namen[hkp])]
    )

    # (4) Filed and approved by the same person: refused, and nothing is erased.
    wis = {"verzoek_id": f"wis-{uuid.uuid4().hex[:12]}", "handeling": "wissen", "reden": "AVG art. 17",
           "onderwerp": {"type": "persoon", "bsn": x}}  # fmt: skip
    pad = f"/api/v1/ops/verzoeken/{wis['verzoek_id']}"
    assert worker.post("/api/v1/ops/verzoeken", "ops:anna", wis)[0] == 202
    assert (await worker.json_zodra(pad, "ops:anna", lambda v: v["status"] == "open"))["status"] == "open"
    assert worker.post(f"{pad}/goedkeuring", "ops:anna", {})[0] == 202
    assert (await worker.json_zodra(pad, "ops:anna", lambda v: bool(v.get("weigeringen"))))["weigeringen"]
    await asyncio.sleep(5)  # the executor polls every half second: it had time to act, if it would
    assert await vergeten(kafka, OnderwerpGewist, timeout=2) == []
    assert worker.request(f"/api/v1/riec/{RIEC}/signalen/{s['A1'][0]}", f"riec:{RIEC}")[0] == 200

    # (1) Approved by a second person: X's signals are forgotten.
    assert worker.post(f"{pad}/goedkeuring", "liec:cor", {})[0] == 202
    [gewist] = await vergeten(kafka, OnderwerpGewist, timeout=60)
    assert gewist.signalen == sorted([s["A1"][0], s["A2"][0]])
    assert gewist.aggregaten == sorted([f"casus:{over_x}", f"hkp:{hkp}"])
    nx = await worker.json_zodra(
        f"/api/v1/riec/{RIEC}/casussen/{over_x}", f"riec:{RIEC}", lambda d: d["naam"] == "[gewist]"
    )
    assert nx["naam"] == "[gewist]" and nx["status"] == "geopend", "its name forgotten, the casus goes on"
    inbox = await worker.json_zodra(
        f"/api/v1/riec/{RIEC}/inbox", f"riec:{RIEC}", lambda i: s["A1"][0] not in str(i)
    )
    assert inbox is not None and s["A1"][0] not in str(inbox)
    assert worker.request(f"/api/v1/riec/{RIEC}/signalen/{s['A1'][0]}", f"riec:{RIEC}")[0] == 404
    status, body = worker.post("/api/v1/ops/inzage", "ops:anna", {"onderwerp": {"type": "persoon", "bsn": x}})
    assert status == 200 and orjson.loads(body)["signalen"] == [] and orjson.loads(body)["genoemd_in"] == []

    # (2) Z's signal, in no casus, runs out of its 60 seconds.
    [verlopen] = [v for v in await vergeten(kafka, GegevensVerlopen, timeout=90) if s["C"][0] in v.signalen]
    assert verlopen.regel == "signaal_zonder_casus" and s["B"][0] not in verlopen.signalen, "B is in a casus"
    [casus_verlopen] = await vergeten(
        kafka, GegevensVerlopen, timeout=90, waarvan=lambda v: f"casus:{afgesloten}" in v.aggregaten
    )
    assert casus_verlopen.regel == "casus" and casus_verlopen.aggregaten == [f"casus:{afgesloten}"]
    gesloten = await worker.json_zodra(
        f"/api/v1/riec/{RIEC}/casussen/{afgesloten}", f"riec:{RIEC}", lambda d: d["naam"] == "[gewist]"
    )
    assert (
        gesloten["naam"] == "[gewist]" and gesloten["status"] == "afgesloten" and reden_w not in str(gesloten)
    )

    # Once retention and compaction ran, nothing readable is left anywhere.
    deadline, over = time.monotonic() + 180, await sporen(kafka, worker, verboden_x + verboden_z)
    while over and time.monotonic() < deadline:
        await asyncio.sleep(5)
        over = await sporen(kafka, worker, verboden_x + verboden_z)
    assert over == [], f"still readable after {180 - (deadline - time.monotonic()):.0f} s: {over[:10]}"
    antwoorden = [
        worker.request(f"/api/v1/riec/{RIEC}/inbox", f"riec:{RIEC}")[2],
        worker.request(f"/api/v1/riec/{RIEC}/casussen/{casus}", f"riec:{RIEC}")[2],
        worker.request(f"/api/v1/riec/{RIEC}/casussen/{over_x}", f"riec:{RIEC}")[2],
        worker.request(f"/api/v1/riec/{RIEC}/casussen/{afgesloten}", f"riec:{RIEC}")[2],
        worker.request(f"/api/v1/riec/{RIEC}/casussen", f"riec:{RIEC}")[2],
        worker.request("/api/v1/ops/verzoeken", "ops")[2],
        worker.request(pad, "ops")[2],
        worker.post("/api/v1/ops/inzage", "ops:anna", {"onderwerp": {"type": "persoon", "bsn": x}})[1],
        worker.post(
            "/api/v1/ops/inzage?formaat=html",
            "ops:anna",
            {"onderwerp": {"type": "persoon", "bsn": x}},
        )[1],
    ]
    assert gevonden(verboden_x + verboden_z, [(str(i), a) for i, a in enumerate(antwoorden)]) == []
    assert worker.get(f"/api/v1/jaarverslag/{jaar}", "liec") == jaarverslag, "aggregates, not personal data"
    replay = worker.replay()
    assert replay.returncode == 0 and "replay equals live" in replay.stdout, replay.stdout + replay.stderr


def weigert_te_starten(w: Worker, timeout: float = 90) -> str:
    """Waits for a worker that must not start to exit; its log."""
    try:
        w.process.wait(timeout=timeout)
    finally:
        w.stop()
    return w.log.read_text(errors="replace")


async def test_a_worker_refuses_to_start_with_another_master_key_or_without_its_key_store(
    kafka: KafkaConnection, worker: Worker, tmp_path: Path
) -> None:
    """Given the logs and key stores the test above left, when a worker starts with another master
    key, or after either key store topic was lost, then it stops before it writes anything."""
    env = {k: v for k, v in worker.env.items() if k.startswith(("ENGINE_RETENTION", "ENGINE_FORGET"))}
    (tmp_path / "ander").mkdir()
    ander = start_worker(
        tmp_path / "ander", worker.key, kafka=KAFKA, web_port=WEB_PORT + 11, worker_id="ander-worker",
        env={**env, "ENGINE_MASTER_KEY": uuid.uuid4().hex + uuid.uuid4().hex}, wait=False,
    )  # fmt: skip
    log = weigert_te_starten(ander)
    assert ander.process.returncode != 0 and "does not unwrap with this master key" in log

    worker.stop()
    verloren = [
        ("engine.sleutels.casus", "the keys of the casus, HKP and beeld events logged are lost"),
        ("engine.sleutels", "the keys of the signals logged are lost"),
    ]
    for i, (topic, melding) in enumerate(verloren):
        beheer = test_kafka.admin(kafka)
        await beheer.start()
        try:
            await beheer.delete_topics([topic])
        finally:
            await beheer.close()
        await asyncio.sleep(3)
        (tmp_path / f"zonder-{i}").mkdir()
        zonder = start_worker(
            tmp_path / f"zonder-{i}", worker.key, kafka=KAFKA, web_port=WEB_PORT + 12 + i,
            worker_id=f"zonder-worker-{i}", env=env, wait=False,
        )  # fmt: skip
        log = weigert_te_starten(zonder)
        assert zonder.process.returncode != 0 and melding in log, topic
