"""Given make run's sample traffic, when its RIEC offices open casussen from signals (inbreng), then
each signal brought in is one the routing rules send to that RIEC: the engine would refuse others."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.domain.reference import gebiedsindeling
from engine.domain.reference.regelversies import regelversies
from engine.domain.routing import riec_bestemming, route
from engine.events.opdrachten import OPDRACHT_DECODERS, OpenCasus
from engine.events.signaal import SIGNAAL_DECODER, SIGNAAL_TYPE, Signaal
from engine.events.signaal_ontvangen import SignaalOntvangen
from engine.ops.sample import SampleTraffic


def test_sample_inbreng_brings_in_only_signals_routed_to_the_opening_riec() -> None:
    gebied, vandaag = gebiedsindeling(), date(2026, 5, 1)
    traffic = SampleTraffic(gebied, seed=7)
    signalen = {f"{s.org}:{s.ce_id}": s for s in traffic.stroom(400, vandaag)}
    openingen = [
        c for c in traffic.inbreng(list(signalen.values()), vandaag) if c.ce_type.endswith("openen.v1")
    ]
    assert len(openingen) == 40
    for casus in openingen:
        assert isinstance(casus.inhoud, OpenCasus)
        for signaal_id in casus.inhoud.signalen:
            body = signalen[signaal_id].inhoud
            assert isinstance(body, Signaal) and body.locatie is not None
            signaal = SignaalOntvangen(
                signaal_id=signaal_id, bron="x", gemeld_op=datetime.now(UTC), aangeboden_op=datetime.now(UTC),
                ontvangen_op=datetime.now(UTC), soort=body.soort, themas=body.themas, omschrijving="",
                waargenomen_op=vandaag, locatie=body.locatie,
            )  # fmt: skip
            assert riec_bestemming(casus.org) in {r.bestemming for r in route(signaal, regelversies())}


def test_no_sample_message_is_dated_after_today() -> None:
    # The engine refuses a ce_time more than a day ahead (ce_time_out_of_range): sample traffic that
    # is meant to be accepted must not be refused for it.
    from datetime import timedelta

    gebied, vandaag = gebiedsindeling(), date(2026, 5, 1)
    traffic = SampleTraffic(gebied, seed=7)
    stroom = list(traffic.stroom(400, vandaag))
    alles = [*traffic.opdrachten(vandaag), *stroom, *traffic.inbreng(stroom, vandaag)]
    grens = datetime.combine(vandaag, datetime.min.time(), UTC) + timedelta(days=1)
    assert [m.ce_id for m in alles if m.ce_time is not None and m.ce_time > grens] == []


def test_every_sample_message_meant_to_be_accepted_is_valid_contract_json() -> None:
    # Given sample traffic built from the contract's structs, when its bytes are decoded as the
    # front doors decode them, then each good message passes the contract's constraints and is the
    # payload it was built from; each bad one is refused by something.
    gebied, vandaag = gebiedsindeling(), date(2026, 5, 1)
    traffic = SampleTraffic(gebied, seed=11, bad_ratio=0.1)
    stroom = list(traffic.stroom(300, vandaag))
    alles = [*traffic.opdrachten(vandaag), *stroom, *traffic.inbreng(stroom, vandaag)]
    assert {m.ce_type for m in alles} >= {SIGNAAL_TYPE, *OPDRACHT_DECODERS} - {
        "nl.riec.casus.signaal_koppelen.v1",
        "nl.riec.casus.koppeling_afwijzen.v1",
        "nl.riec.handhavingsknelpunt.beeindigen.v1",
    }
    for m in alles:
        if m.fout:
            continue
        decoder = SIGNAAL_DECODER if m.ce_type == SIGNAAL_TYPE else OPDRACHT_DECODERS[m.ce_type]
        assert decoder.decode(m.value) == m.inhoud
    assert any(m.fout for m in stroom)
