"""The BSN leaks of issue 10, replayed on the real broker: given signals and RIEC commands that carry
a BSN in a kenteken, a huisnummer, a ce_id, a theme, free text in every demonstrated form, and every
RIEC command text (an HKP name that routing copies into its reasons), when the engine has handled
them and an analyst has read the inbox (an audit record), then no engine.*, routes.* or audit
record holds the BSN in any form a person reads as one. Also the poison dates of issue 10."""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from engine.domain.ingress.bsn import elfproef
from tests.fixtures import leesbare_bsn, payload
from tests.pipeline.casus_helpers import opdracht
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import Record, header, publish, read_all, read_until, topics

pytestmark = pytest.mark.pipeline
NBSP = "\u00a0"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def vormen(bsn: str) -> list[str]:
    """The forms of issue 10 that survived ingress before the gate."""
    a, b, c = bsn[:3], bsn[3:6], bsn[6:]
    return [bsn, f"{a}/{b}/{c}", f"{a}_{b}_{c}", f"{a}, {b}, {c}", f"{a}{NBSP}{b}{NBSP}{c}",
            bsn.translate(FULL_WIDTH), f"{bsn[:4]}.{bsn[4:6]}.{c}"]  # fmt: skip


def ce_id_in(ids: set[str]) -> Any:
    return lambda r: header(r, "ce_id") in ids


async def test_no_demonstrated_bsn_leak_reaches_an_engine_route_or_audit_topic(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    seed = random.randrange(1 << 30)
    print(f"seed={seed}")
    rng = random.Random(seed)
    while not elfproef(bsn := f"{rng.randrange(100_000_000, 999_999_999)}"):
        pass
    run = uuid.uuid4()
    rotterdam = {"gemeente": "GM0599"}

    # Given: signals that must be refused, each naming the field, never the BSN.
    geweigerd = {
        f"kenteken-{run}": ("gm0599", payload(subjecten=[{"type": "voertuig", "kenteken": bsn}])),
        f"huisnummer-{run}": ("gm0599", payload(locatie={"postcode": "3011AA", "huisnummer": bsn})),
        f"melding{bsn}": ("gm0599", payload(locatie=rotterdam)),
        f"thema-{run}": ("gm0599", payload(themas=[f"regionaal:p{bsn}"], locatie=rotterdam)),
        f"toevoeging-{run}": (
            "gm0599",
            payload(
                subjecten=[{"type": "adres", "postcode": "3011AA", "huisnummer": f"{bsn[:5]}-{bsn[5:]}"}]
            ),
        ),
        f"nooit-{run}": ("gm0599", payload(waargenomen_op="9999-12-31")),
    }
    for ce_id, (org, body) in geweigerd.items():
        await publish(producer, org, body, ce_id=ce_id)
    await publish(producer, "gm0599", ce_id=f"toekomst-{run}", ce_time="9999-12-31T23:30:00Z")
    await publish(producer, "gm0599", ce_id=f"verleden-{run}", ce_time="0001-01-01T00:30:00+01:00")

    # ... and signals whose free text holds the BSN in every demonstrated form: accepted.
    vrij = [f"vrij-{i}-{run}" for i in range(len(vormen(bsn)))]
    for ce_id, vorm in zip(vrij, vormen(bsn), strict=True):
        body = payload(omschrijving=f"Eigenaar {vorm} koopt contant.", locatie=rotterdam)
        await publish(producer, "politie", body, ce_id=ce_id)

    # Given: RIEC commands with the BSN in every free text, and in ids (refused).
    casus, hkp, beeld = f"R-{run}", f"HKP-{run}", f"B-{run}"
    v = vormen(bsn)
    await opdracht(producer, "rotterdam", "handhavingsknelpunt.aanwijzen",
                   {"hkp_id": hkp, "naam": f"Pand van {v[1]}", "soort": "gebied", "postcodes": ["3011"],
                    "geldig_van": "2026-01-01"})  # fmt: skip
    await opdracht(producer, "rotterdam", "casus.openen",
                   {"casus_id": casus, "naam": f"Casus {v[2]}", "bron": "gebiedsscan",
                    "subjecten": [{"type": "persoon", "bsn": bsn}]})  # fmt: skip
    await opdracht(producer, "rotterdam", "casus.interventieadvies",
                   {"casus_id": casus, "advies_id": "A1", "soorten": ["bibob"], "uitvoerder": f"Uitvoerder {v[3]}",
                    "coordinator": f"Coördinator {v[4]}"})  # fmt: skip
    await opdracht(
        producer, "rotterdam", "ondermijningsbeeld.opleveren", {"beeld_id": beeld, "naam": f"Beeld {v[5]}"}
    )
    await opdracht(producer, "rotterdam", "casus.afsluiten", {"casus_id": casus, "reden": f"Reden {v[6]}"})
    fout = {
        await opdracht(producer, "rotterdam", "casus.afsluiten", {"casus_id": f"R-{bsn}", "reden": "x"}): "bsn_in_id",
        await opdracht(producer, "rotterdam", "ondermijningsbeeld.opleveren", {"beeld_id": f"B-{run}-2", "naam": "n"},
                       ce_time="9999-12-31T23:30:00Z"): "ce_time_out_of_range",
        await opdracht(producer, "rotterdam", "casus.afsluiten", {"casus_id": f"R-{run}-2", "reden": "x"},
                       ce_time="0001-01-01T00:30:00+01:00"): "ce_time_out_of_range",
    }  # fmt: skip

    # When: the HKP has been designated, a signal in its area is routed with the HKP named.
    await read_until(
        broker, ["engine.knelpunten"], lambda f: len(f) >= 1, match=lambda r: hkp.encode() in (r.value or b"")
    )
    in_gebied = f"gebied-{run}"
    await publish(producer, "om", payload(locatie={"postcode": "3011AA"}), ce_id=in_gebied)
    routed = await read_until(
        broker,
        ["routes.riec.rotterdam"],
        lambda f: len(f) >= len(vrij) + 1,
        match=lambda r: str(run).encode() in (r.key or b""),
        timeout=30,
    )
    hkp_reden = [
        reden["toelichting"]
        for r in routed
        for reden in orjson.loads(r.value)["redenen"]
        if reden.get("hkp_id") == hkp
    ]
    assert hkp_reden and "Pand van [persoon:" in hkp_reden[0]

    # ... every refusal is in the DLQ with its code, and an analyst reads the inbox (audit).
    refused = await read_until(
        broker,
        ["dlq.ingress"],
        lambda f: len(f) >= len(geweigerd) + 2 + len(fout),
        match=ce_id_in({*geweigerd, f"toekomst-{run}", f"verleden-{run}", *fout}),
        timeout=30,
    )
    codes = {header(r, "ce_id"): header(r, "reason_code") for r in refused}
    assert codes == {
        f"kenteken-{run}": "payload_invalid",
        f"huisnummer-{run}": "payload_invalid",
        f"melding{bsn}": "bsn_in_id",
        f"thema-{run}": "bsn_in_veld",
        f"toevoeging-{run}": "bsn_in_veld",
        f"nooit-{run}": "date_out_of_range",
        f"toekomst-{run}": "ce_time_out_of_range",
        f"verleden-{run}": "ce_time_out_of_range",
        **fout,
    }
    for r in refused:
        assert not leesbare_bsn(header(r, "reason") or "", bsn), header(r, "reason")
    status, _, _ = worker.request("/api/v1/riec/rotterdam/inbox?limit=50", "riec:rotterdam")
    assert status == 200

    # Then: no record on any engine.*, routes.* topic or the audit log holds the BSN, in any form.
    gelezen = [t for t in await topics(broker) if t.startswith(("engine.", "routes."))]
    assert {"engine.signalen", "engine.gebeurtenissen", "engine.audit", "engine.zoekindex"} <= set(gelezen)
    records: list[Record] = await read_all(broker, gelezen)
    assert any(r.topic == "engine.audit" and str(run).encode() in (r.value or b"") for r in records)
    lekken = [
        f"{r.topic}@{r.offset}"
        for r in records
        if any(leesbare_bsn(data, bsn) for data in (r.value or b"", r.key or b"", *(v for _, v in r.headers)))
    ]
    assert lekken == [], f"the BSN is readable in {lekken}"
    assert not leesbare_bsn(worker.log.read_bytes(), bsn)
    assert not leesbare_bsn(worker.get("/metrics"), bsn)
