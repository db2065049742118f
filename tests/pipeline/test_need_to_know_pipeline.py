"""Given signals routed to one RIEC, when another RIEC brings them into a casus, links them or
designates an area in a region not its own, then it learns nothing: the link expires exactly as one
to an id that exists nowhere (an event on its casus and a DLQ record, the same words), another
RIEC's casus is refused as an unknown one, its casus and annual tables show nothing of the signal,
and later signals about the same person do not reach it. Links to signals routed to the RIEC are confirmed
in either order; a link to a signal that never comes expires, once, also across a restart."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.kafka.stage import partition_for
from engine.settings import Settings
from tests.fixtures import payload
from tests.pipeline.casus_helpers import bsn, gebeurtenissen, kenteken, opdracht, routes, uniek
from tests.pipeline.conftest import PENDING_LINK_EXPIRY_S, Worker, engine_env
from tests.pipeline.kafka import Record, header, publish, read_until

pytestmark = pytest.mark.pipeline
JAAR = 2017  # a year no other test writes in: Rotterdam's cells of it are this file's


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].removeprefix("nl.riec.engine.").removesuffix(".v1") for e in events]


async def refused(broker: str, ce_id: str) -> Record:
    [record] = await read_until(
        broker, ["dlq.ingress"], lambda f: len(f) >= 1, match=lambda r: header(r, "ce_id") == ce_id, linger=1
    )
    return record


async def index_entries(broker: str, casus_id: str, seconds: float = 3) -> list[Record]:
    """Changelog records of the open-casus index that name this casus (read for a few seconds)."""
    return await read_until(
        broker,
        ["engine.casusindex"],
        lambda f: False,
        match=lambda r: r.value is not None and casus_id.encode() in r.value,
        timeout=seconds,
    )


def zonder_ids(data: Any, ids: dict[str, str]) -> Any:
    """`data` as JSON text with each id replaced by its role's name and every time field dropped:
    what must be byte-identical between two answers that may differ only in ids and times."""
    # Times, positions on a log, and ciphertexts (random per record): all differ between any two.
    weg = {"tijd", "vastgelegd_op", "besloten_op", "ontvangen_op", "laatst", "versleuteld", "bron_offset",
           "bron_timestamp"}  # fmt: skip

    def schoon(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: schoon(v) for k, v in sorted(x.items()) if k not in weg}
        if isinstance(x, list):
            return [schoon(v) for v in x]
        return x

    tekst = orjson.dumps(schoon(data), option=orjson.OPT_SORT_KEYS).decode()
    for id_, rol in ids.items():
        tekst = tekst.replace(id_, f"<{rol}>")
    return tekst


def dlq_zonder_ids(record: Record, ids: dict[str, str]) -> Any:
    """A refusal on dlq.ingress as the RIEC's integrator sees it, without what is its own per
    command (its id, its offset, its time)."""
    eigen = {"ce_id", "source_offset", "ce_time", "source_timestamp", "refused_at", "traceparent"}
    koppen = {k: v.decode() for k, v in record.headers if k not in eigen}
    return zonder_ids({"headers": koppen, "value": orjson.loads(record.value)}, ids)


async def test_rotterdam_cannot_tell_a_signal_routed_only_to_amsterdam_from_one_that_does_not_exist(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    persoon, auto, ce_id, casus_id = bsn(), kenteken(), uniek("ams"), uniek("R")
    nergens, casus_nergens = uniek("ams"), uniek("R")
    geheim = f"Alleen voor Amsterdam {uniek('x')}"
    subjecten = [{"type": "persoon", "bsn": persoon}, {"type": "voertuig", "kenteken": auto}]
    amsterdams = payload(themas=["vastgoed", "regionaal:grachten"], omschrijving=geheim,
                         locatie={"gemeente": "GM0363"}, subjecten=subjecten)  # fmt: skip
    await publish(producer, "gm0363", amsterdams, ce_id=ce_id)
    assert sorted(await routes(broker, "gm0363", ce_id, 1)) == ["riec.amsterdam-amstelland"]

    # When Rotterdam names it in a casus of its own, and an id that exists nowhere in another
    commands = {}
    for c, signaal in ((casus_id, ce_id), (casus_nergens, nergens)):
        commands[c] = await opdracht(producer, "rotterdam", "casus.openen", {"casus_id": c, "naam": "n",
            "bron": "inbreng", "signalen": [f"gm0363:{signaal}"], "themas": []}, ce_time=f"{JAAR}-03-01T10:00:00+01:00")  # fmt: skip
    wachtend = {f"gm0363:{ce_id}".encode(), f"gm0363:{nergens}".encode()}
    await read_until(  # both links wait on the signal log, alike
        broker, ["engine.signalen"], lambda f: {r.key for r in f} == wachtend,
        match=lambda r: r.key in wachtend and b"koppeling_gevraagd" in r.value,
    )  # fmt: skip
    asked = time.monotonic()
    await asyncio.sleep(max(0.0, asked + PENDING_LINK_EXPIRY_S + 1 - time.monotonic()))
    for signaal in (ce_id, nergens):  # a record on each partition: its owner expires the link
        tik = _op_partitie_van(f"gm0363:{signaal}", "gm0014")
        await publish(producer, "gm0014", payload(locatie={"gemeente": "GM0014"}), ce_id=tik)

    # then both links expire, on the casus and in the DLQ, with the same words, and nothing of the signal
    events = await gebeurtenissen(broker, f"casus:{casus_id}", 2, timeout=30)
    events_nergens = await gebeurtenissen(broker, f"casus:{casus_nergens}", 2, timeout=30)
    assert types(events) == types(events_nergens) == ["casus_geopend", "koppeling_verlopen"]
    ids = {f"gm0363:{ce_id}": "signaal", casus_id: "casus", commands[casus_id]: "opdracht"}
    ids_nergens = {
        f"gm0363:{nergens}": "signaal",
        casus_nergens: "casus",
        commands[casus_nergens]: "opdracht",
    }
    assert zonder_ids(events, ids) == zonder_ids(events_nergens, ids_nergens)
    dlq, dlq_nergens = (
        await refused(broker, commands[casus_id]),
        await refused(broker, commands[casus_nergens]),
    )
    assert header(dlq, "reason_code") == "koppeling_verlopen"
    assert dlq_zonder_ids(dlq, ids) == dlq_zonder_ids(dlq_nergens, ids_nergens)
    everything = str(events).encode() + dlq.value + str(dlq.headers).encode()
    for secret in (geheim, persoon, auto, "vastgoed", "grachten", "amsterdam"):
        assert secret.encode() not in everything

    # and Rotterdam's two casussen read alike, showing nothing of the signal
    detail, detail_nergens = [
        await worker.json_zodra(path, "riec:rotterdam", lambda d: len(d["tijdlijn"]) == 2)
        for path in (f"/api/v1/riec/rotterdam/casussen/{c}" for c in (casus_id, casus_nergens))
    ]
    assert detail["koppelingen"] == [{"signaal_id": f"gm0363:{ce_id}", "status": "verlopen"}]
    assert zonder_ids(detail, ids) == zonder_ids(detail_nergens, ids_nergens)
    assert (detail["themas"], detail["inbrengers"], detail["signalen"], detail["signaal_ids"]) == (
        [],
        [],
        0,
        [],
    )
    for secret in (geheim, persoon, auto, "vastgoed", "grachten"):
        assert secret not in str(detail)
    tabel = await worker.json_zodra(
        f"/api/v1/riec/rotterdam/jaarverslag/{JAAR}", "liec", lambda d: d["tabel1"]["casussen"] > 1
    )
    rij = tabel["tabel1"]
    assert rij["casussen"] == 2
    assert set(rij["ingebracht"].values()) == {0} and set(rij["themas"].values()) == {0}

    # and later signals about that person and that car do not reach Rotterdam
    assert await index_entries(broker, casus_id) == []
    later = uniek("ams")
    await publish(
        producer, "politie", payload(locatie={"gemeente": "GM0363"}, subjecten=subjecten), ce_id=later
    )
    assert sorted(await routes(broker, "politie", later, 1)) == ["riec.amsterdam-amstelland"]


async def test_another_riecs_casus_is_refused_exactly_as_one_that_does_not_exist(
    producer: AIOKafkaProducer, broker: str
) -> None:
    """Given Amsterdam's casus, when Rotterdam links a signal to it, closes it or advises in it,
    and does the same with a casus id no one uses, then the refusals differ only in those ids."""
    amsterdams, onbekend = uniek("A"), uniek("A")
    await opdracht(producer, "amsterdam-amstelland", "casus.openen",
                   {"casus_id": amsterdams, "naam": "geheim", "bron": "inbreng"})  # fmt: skip
    await gebeurtenissen(broker, f"casus:{amsterdams}", 1)
    stappen = [
        ("casus.signaal_koppelen", {"signaal_id": "gm0599:iets"}),
        ("casus.afsluiten", {"reden": "niet van ons"}),
        ("casus.koppeling_afwijzen", {"signaal_id": "gm0599:iets", "reden": "ander"}),
    ]
    for soort, body in stappen:
        antwoorden = []
        for c in (amsterdams, onbekend):
            command = await opdracht(producer, "rotterdam", soort, {"casus_id": c, **body},
                                     ce_time="2026-03-01T10:00:00+01:00")  # fmt: skip
            antwoorden.append(
                dlq_zonder_ids(await refused(broker, command), {c: "casus", command: "opdracht"})
            )
        assert antwoorden[0] == antwoorden[1], soort
        assert "unknown_casus" in antwoorden[0] and "geheim" not in antwoorden[0]


@pytest.mark.parametrize(
    "signal_first", [True, False], ids=["signal, then koppelen", "casus.openen, then signal"]
)
async def test_a_signal_routed_to_the_riec_is_linked_whichever_comes_first(
    worker: Worker, producer: AIOKafkaProducer, broker: str, signal_first: bool
) -> None:
    auto, ce_id, casus_id = kenteken(), uniek("rdam"), uniek("R")
    rotterdams = payload(
        themas=["drugs"], locatie={"gemeente": "GM0599"}, subjecten=[{"type": "voertuig", "kenteken": auto}]
    )
    openen = {"casus_id": casus_id, "naam": "n", "bron": "inbreng", "themas": ["witwassen"]}
    if signal_first:
        await publish(producer, "om", rotterdams, ce_id=ce_id)
        assert sorted(await routes(broker, "om", ce_id, 1)) == ["riec.rotterdam"]
        await opdracht(producer, "rotterdam", "casus.openen", openen)
        await opdracht(
            producer,
            "rotterdam",
            "casus.signaal_koppelen",
            {"casus_id": casus_id, "signaal_id": f"om:{ce_id}"},
        )
        expected = ["casus_geopend", "signaal_gekoppeld", "koppeling_bevestigd"]
    else:
        await opdracht(producer, "rotterdam", "casus.openen", {**openen, "signalen": [f"om:{ce_id}"]})
        await gebeurtenissen(broker, f"casus:{casus_id}", 1)
        await publish(producer, "om", rotterdams, ce_id=ce_id)
        expected = ["casus_geopend", "koppeling_bevestigd"]
    assert types(await gebeurtenissen(broker, f"casus:{casus_id}", len(expected))) == expected

    detail = await worker.json_zodra(f"/api/v1/riec/rotterdam/casussen/{casus_id}", "riec:rotterdam",
                             lambda d: d["signaal_ids"] == [f"om:{ce_id}"])  # fmt: skip
    assert detail["themas"] == ["drugs", "witwassen"]
    assert detail["inbrengers"] == ([] if signal_first else ["om"])
    assert await index_entries(broker, casus_id), "the linked signal's kenteken joined the index"
    later = uniek("gron")
    await publish(producer, "kmar", payload(locatie={"gemeente": "GM0014"},
                  subjecten=[{"type": "voertuig", "kenteken": auto}]), ce_id=later)  # fmt: skip
    got = await routes(broker, "kmar", later, 2)
    assert [(r["regel"], r.get("casus_id")) for r in got["riec.rotterdam"]["redenen"]] == [
        ("open_casus", casus_id)
    ]


def _op_partitie_van(signaal_id: str, partner: str) -> str:
    """A fresh ce_id whose signal from `partner` lands on the same log partition as `signaal_id`."""
    env = {**engine_env(), "ENGINE_PSEUDONYM_KEY": secrets.token_hex(32)}  # as the test worker's
    alle = list(range(Settings.from_env(env).partitions))
    doel = partition_for(signaal_id.encode(), alle, alle)
    return next(
        c
        for c in (uniek("tik") for _ in range(10_000))
        if partition_for(f"{partner}:{c}".encode(), alle, alle) == doel
    )


async def test_a_link_to_a_signal_that_never_comes_expires_once_also_across_a_restart(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    nooit, casus_id, auto = uniek("nooit"), uniek("R"), kenteken()
    command = await opdracht(producer, "rotterdam", "casus.openen", {"casus_id": casus_id, "naam": "n",
                             "bron": "inbreng", "signalen": [f"politie:{nooit}"]})  # fmt: skip
    await read_until(  # the link waits on the signal log ...
        broker,
        ["engine.signalen"],
        lambda f: len(f) >= 1,
        match=lambda r: r.key == f"politie:{nooit}".encode() and b"koppeling_gevraagd" in r.value,
    )
    asked = time.monotonic()
    worker.kill_and_restart()  # ... and is still waiting after a restart
    await asyncio.sleep(max(0.0, asked + PENDING_LINK_EXPIRY_S + 1 - time.monotonic()))
    # Any record on the partition where the link waits: its owner expires it, in its transaction.
    tik = _op_partitie_van(f"politie:{nooit}", "gm0014")
    await publish(producer, "gm0014", payload(locatie={"gemeente": "GM0014"}), ce_id=tik)

    events = await gebeurtenissen(broker, f"casus:{casus_id}", 2, timeout=30)
    assert types(events) == ["casus_geopend", "koppeling_verlopen"]
    dlq = await refused(broker, command)
    assert header(dlq, "reason_code") == "koppeling_verlopen" and f"politie:{nooit}" in (
        header(dlq, "reason") or ""
    )
    detail = await worker.json_zodra(f"/api/v1/riec/rotterdam/casussen/{casus_id}", "riec:rotterdam",
                             lambda d: d["koppelingen"][0]["status"] == "verlopen")  # fmt: skip
    assert detail["koppelingen"] == [{"signaal_id": f"politie:{nooit}", "status": "verlopen"}]

    # The signal arriving after all joins no casus: its kenteken does not route to Rotterdam.
    laat = payload(locatie={"gemeente": "GM0599"}, subjecten=[{"type": "voertuig", "kenteken": auto}])
    await publish(producer, "politie", laat, ce_id=nooit)
    assert sorted(await routes(broker, "politie", nooit, 1)) == ["riec.rotterdam"]
    later = uniek("gron")
    await publish(producer, "kmar", payload(locatie={"gemeente": "GM0014"},
                  subjecten=[{"type": "voertuig", "kenteken": auto}]), ce_id=later)  # fmt: skip
    assert sorted(await routes(broker, "kmar", later, 1)) == ["riec.noord-nederland"]
    assert types(await gebeurtenissen(broker, f"casus:{casus_id}", 3, timeout=3)) == types(events), (
        "decided once: no second expiry after the restart, no late confirmation"
    )


async def test_an_area_hkp_in_another_riecs_region_is_refused_at_the_door(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    hkp_id = uniek("GEB")
    command = await opdracht(producer, "rotterdam", "handhavingsknelpunt.aanwijzen", {"hkp_id": hkp_id,
        "naam": "Grachtengordel", "soort": "gebied", "postcodes": ["3089", "1013"], "geldig_van": "2020-01-01"})  # fmt: skip
    dlq = await refused(broker, command)
    assert header(dlq, "reason_code") == "hkp_gebied_buiten_regio"
    assert "postcodes[1]" in (header(dlq, "reason") or "") and "amsterdam-amstelland" in (
        header(dlq, "reason") or ""
    )
    assert await gebeurtenissen(broker, f"hkp:{hkp_id}", 1, timeout=3) == []
    ce_id = uniek("ams")
    await publish(
        producer,
        "gm0363",
        payload(locatie={"postcode": "1013AB", "huisnummer": "7"}, subjecten=[]),
        ce_id=ce_id,
    )
    assert sorted(await routes(broker, "gm0363", ce_id, 1)) == ["riec.amsterdam-amstelland"]


def test_replay_from_offset_0_equals_live_after_refusals_and_expiries(worker: Worker) -> None:
    result = worker.replay()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replay equals live" in result.stdout
