"""Given make run's sample traffic, when its RIEC offices open casussen from signals (inbreng), then
each signal brought in is one the routing rules send to that RIEC: the engine would refuse others."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.events.signaal import Locatie
from engine.events.signaal_ontvangen import SignaalOntvangen
from engine.reference import gebiedsindeling
from engine.routing import riec_bestemming, route
from engine.sample import SampleTraffic


def test_sample_inbreng_brings_in_only_signals_routed_to_the_opening_riec() -> None:
    gebied, vandaag = gebiedsindeling(), date(2026, 5, 1)
    traffic = SampleTraffic(gebied, seed=7)
    signalen = {f"{s.org}:{s.ce_id}": s for s in traffic.stroom(400, vandaag)}
    openingen = [
        c for c in traffic.inbreng(list(signalen.values()), vandaag) if c.ce_type.endswith("openen.v1")
    ]
    assert len(openingen) == 40
    for casus in openingen:
        assert isinstance(casus.value, dict)
        for signaal_id in casus.value["signalen"]:
            body = signalen[signaal_id].value
            assert isinstance(body, dict)
            signaal = SignaalOntvangen(
                signaal_id=signaal_id, bron="x", gemeld_op=datetime.now(UTC), aangeboden_op=datetime.now(UTC),
                ontvangen_op=datetime.now(UTC), soort=body["soort"], themas=body["themas"], omschrijving="",
                waargenomen_op=vandaag, locatie=Locatie(**body["locatie"]),
            )  # fmt: skip
            assert riec_bestemming(casus.org) in {r.bestemming for r in route(signaal, gebied)}


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
