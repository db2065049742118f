"""Given a RIEC's open casus and signals routed to it as candidate links, when its analyst works
through the dashboard API, then each action is one command on `riec.<riec>.opdrachten` with its
author, the engine decides it, the API shows the outcome, the inbox marks the signal handled, and
another RIEC is refused."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures import payload
from tests.pipeline.casus_helpers import bsn, gebeurtenissen, in_index, kenteken, opdracht, routes, uniek
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import publish, read_until

pytestmark = pytest.mark.pipeline


def post(
    worker: Worker, path: str, principal: str, body: dict[str, Any], sleutel: str | None = None
) -> tuple[int, dict[str, Any]]:
    status, antwoord = worker.post(path, principal, body, {"Idempotency-Key": sleutel} if sleutel else None)
    return status, orjson.loads(antwoord)


def get(worker: Worker, path: str, principal: str = "riec:rotterdam") -> tuple[int, dict[str, Any]]:
    status, _, body = worker.request(path, principal)
    return status, orjson.loads(body)


PERSOON = bsn()


async def kandidaat(producer: AIOKafkaProducer, broker: str, auto: str) -> str:
    ce_id = uniek("ana")
    signaal = payload(
        locatie={"gemeente": "GM0599"},
        subjecten=[{"type": "voertuig", "kenteken": auto}, {"type": "persoon", "bsn": PERSOON}],
        omschrijving="Busje met kenteken van de casus bij een loods",
    )
    await publish(producer, "politie", signaal, ce_id=ce_id)
    await routes(broker, "politie", ce_id, 1)
    return f"politie:{ce_id}"


async def test_an_analyst_confirms_one_candidate_link_and_rejects_another(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    casus_id, auto = uniek("ROT"), kenteken()
    await opdracht(producer, "rotterdam", "casus.openen", {
        "casus_id": casus_id, "naam": "Loods", "bron": "ondermijningsbeeld", "themas": ["drugs"],
        "subjecten": [{"type": "voertuig", "kenteken": auto}]})  # fmt: skip
    await gebeurtenissen(broker, f"casus:{casus_id}", 1)
    await in_index(broker, casus_id)  # routing matches a casus once its identifiers are in the index
    eerste, tweede = await kandidaat(producer, broker, auto), await kandidaat(producer, broker, auto)
    pad = f"/api/v1/riec/rotterdam/signalen/{eerste}"
    detail = await worker.json_zodra(pad, "riec:rotterdam", lambda b: True)
    assert detail["omschrijving"] == "Busje met kenteken van de casus bij een loods"
    assert ("open_casus", casus_id) in [(r["regel"], r.get("casus_id")) for r in detail["redenen"]]
    assert PERSOON not in orjson.dumps(detail).decode(), "persons as pseudonyms"
    assert [s["type"] for s in detail["subjecten"]] == ["voertuig", "persoon"]
    assert detail["behandeling"] == [] and detail["casussen"] == []

    # When the analyst confirms the first link, twice (a double click): one command, applied.
    vraag = {"casus_id": casus_id, "signaal_id": eerste}
    pad_k = "/api/v1/riec/rotterdam/opdrachten/koppelen"
    (s1, a1), (s2, a2) = (post(worker, pad_k, "riec:rotterdam", vraag, "klik-1") for _ in range(2))
    assert s1 == s2 == 202 and a1["opdracht_id"] == a2["opdracht_id"]
    uitkomst = await worker.json_zodra(
        a1["uitkomst"], "riec:rotterdam", lambda b: b.get("koppelingen", {}).get(eerste) == "bevestigd"
    )
    assert uitkomst["status"] == "toegepast", uitkomst
    ce_id = a1["ce_id"]
    geschreven = await read_until(
        broker, ["riec.rotterdam.opdrachten"], lambda f: len(f) >= 2,
        match=lambda r: dict(r.headers).get("ce_id") == ce_id.encode(),
    )  # fmt: skip
    assert {dict(r.headers)["riec_auteur"] for r in geschreven} == {b"riec:rotterdam"}
    events = [
        orjson.loads(r.value)
        for r in await read_until(
            broker, ["engine.gebeurtenissen"], lambda f: False,
            match=lambda r: r.key == f"casus:{casus_id}".encode(), timeout=5,
        )
    ]  # fmt: skip
    assert [e["type"] for e in events if e["opdracht_id"] == f"rotterdam:{ce_id}"].count(
        "nl.riec.engine.signaal_gekoppeld.v1"
    ) == 1, "a double click is one command"
    [gekoppeld] = [e for e in events if e["type"] == "nl.riec.engine.signaal_gekoppeld.v1"]
    assert gekoppeld["auteur"] == "riec:rotterdam", "the author in the log of record"
    detail = await worker.json_zodra(pad, "riec:rotterdam", lambda b: bool(b["behandeling"]))
    assert detail["behandeling"] == [{"casus_id": casus_id, "status": "gekoppeld"}]
    assert detail["casussen"][0]["koppeling"] == "bevestigd"

    # When the analyst rejects the second: recorded, marked handled, the casus unchanged.
    status, afwijzing = post(
        worker, "/api/v1/riec/rotterdam/opdrachten/afwijzen", "riec:rotterdam",
        {"casus_id": casus_id, "signaal_id": tweede, "reden": "Ander busje"},
    )  # fmt: skip
    assert status == 202
    toegepast = await worker.json_zodra(
        afwijzing["uitkomst"], "riec:rotterdam", lambda b: b["status"] != "wachtend"
    )
    assert toegepast["status"] == "toegepast"
    afgewezen = await worker.json_zodra(
        "/api/v1/riec/rotterdam/inbox?behandeld=ja&regel=open_casus&limit=200", "riec:rotterdam",
        lambda b: tweede in [i["signaal_id"] for i in b["items"]],
    )  # fmt: skip
    rij = next(i for i in afgewezen["items"] if i["signaal_id"] == tweede)
    assert rij["behandeling"] == [{"casus_id": casus_id, "status": "afgewezen"}]
    onbehandeld = get(worker, "/api/v1/riec/rotterdam/inbox?behandeld=nee&limit=200")[1]
    assert not {eerste, tweede} & {i["signaal_id"] for i in onbehandeld["items"]}
    casus = get(worker, f"/api/v1/riec/rotterdam/casussen/{casus_id}")[1]
    assert casus["afgewezen"] == [{"signaal_id": tweede, "reden": "Ander busje"}]
    assert tweede not in casus["signaal_ids"]

    # A command the engine refuses shows its reason.
    status, sluit = post(worker, "/api/v1/riec/rotterdam/opdrachten/afsluiten", "riec:rotterdam",
                         {"casus_id": uniek("NIET"), "reden": "klaar"})  # fmt: skip
    geweigerd = await worker.json_zodra(
        sluit["uitkomst"], "riec:rotterdam", lambda b: b["status"] != "wachtend"
    )
    assert (status, geweigerd["status"], geweigerd["code"]) == (202, "geweigerd", "unknown_casus")


async def test_another_riec_can_neither_read_nor_act_on_the_signal(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    casus_id, auto = uniek("ROT"), kenteken()
    await opdracht(producer, "rotterdam", "casus.openen", {
        "casus_id": casus_id, "naam": "Loods", "bron": "gebiedsscan",
        "subjecten": [{"type": "voertuig", "kenteken": auto}]})  # fmt: skip
    await gebeurtenissen(broker, f"casus:{casus_id}", 1)
    signaal_id = await kandidaat(producer, broker, auto)
    await worker.json_zodra(f"/api/v1/riec/rotterdam/signalen/{signaal_id}", "riec:rotterdam", lambda b: True)
    vraag = {"casus_id": casus_id, "signaal_id": signaal_id}
    assert get(worker, f"/api/v1/riec/rotterdam/signalen/{signaal_id}", "riec:limburg")[0] == 403
    assert post(worker, "/api/v1/riec/rotterdam/opdrachten/koppelen", "riec:limburg", vraag)[0] == 403
    status, body = post(worker, "/api/v1/riec/limburg/opdrachten/koppelen", "riec:limburg", vraag)
    assert status == 404 and "not in the inbox of RIEC limburg" in body["fout"]
    assert get(worker, f"/api/v1/riec/limburg/signalen/{signaal_id}", "riec:limburg")[0] == 404
    status, body = post(
        worker, "/api/v1/riec/rotterdam/opdrachten/koppelen", "riec:rotterdam", {"casus_id": 1}
    )
    assert status == 400 and "nl.riec.casus.signaal_koppelen.v1" in body["fout"]
