"""Given a casus, when besluiten reads vastleggen's decision on one of its links, then it records
the decision once: the same decision record read again (a stage retaken after a broker crash
reprocesses its last batch) writes nothing, neither on the casus log nor in the DLQ."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from engine.casus import pas_toe
from engine.events.casus import GEBEURTENIS_DECODER, CasusGeopend, KoppelingGeweigerd
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER, KoppelingBeslist, KoppelingGevraagd
from engine.handlers.besluiten import Besluiten
from engine.metrics import Metrics
from engine.settings import KafkaConnection
from engine.topics import DLQ, GEBEURTENISSEN, OPDRACHTEN_KANDIDATEN

NU = datetime(2026, 3, 1, 12, tzinfo=UTC)
CASUS = "DH-2026-7"


def besluiten() -> Besluiten:
    """Besluiten holding one open casus on partition 0, as voorbereiden restores it from the log."""
    b = Besluiten(
        kafka=KafkaConnection(), zoekindex_partities=1, metrics=Metrics(CollectorRegistry()), klok=lambda: NU
    )
    geopend = CasusGeopend(
        opdracht_id="den-haag:open-1", riec="den-haag", tijd=NU, vastgelegd_op=NU, casus_id=CASUS,
        naam="x", bron="riec", signalen=["kmar:s-1"], themas=[], subjecten=[],
    )  # fmt: skip
    casus = pas_toe(None, geopend)
    assert casus is not None
    b._aggregaten[0] = {CASUS: casus}
    return b


def beslissing(
    uitkomst: str, signaal_id: str = "kmar:s-1", opdracht_id: str = "den-haag:open-1"
) -> ConsumerRecord:
    k = KoppelingGevraagd(signaal_id=signaal_id, casus_id=CASUS, riec="den-haag", opdracht_id=opdracht_id,
                          ce_type="nl.riec.casus.openen.v1", tijd=NU, gevraagd_op=NU)  # fmt: skip
    b = KoppelingBeslist(koppeling=k, uitkomst=uitkomst, besloten_op=NU, reden_code="signaal_niet_gerouteerd",
                         reden="not routed to den-haag")  # fmt: skip
    return ConsumerRecord(
        OPDRACHTEN_KANDIDATEN, 0, 0, 0, 0, CASUS.encode(), SIGNAAL_LOG_ENCODER.encode(b), None, 0, 0, []
    )


def test_a_refused_link_is_recorded_on_the_casus_and_sent_to_the_dlq_once() -> None:
    b = besluiten()
    eerst = list(b.verwerk(beslissing("geweigerd")))
    assert [u.topic for u in eerst] == [GEBEURTENISSEN, DLQ]
    assert isinstance(GEBEURTENIS_DECODER.decode(eerst[0].value), KoppelingGeweigerd)

    assert list(b.verwerk(beslissing("geweigerd"))) == [], "the same decision read again records nothing"


def test_a_confirmed_link_read_again_records_nothing() -> None:
    b = besluiten()
    assert len(list(b.verwerk(beslissing("bevestigd")))) == 1
    assert list(b.verwerk(beslissing("bevestigd"))) == []


def test_another_command_linking_the_same_signal_again_is_decided_again() -> None:
    """A refused link leaves the casus; a later command may ask for it again and gets its own decision."""
    b = besluiten()
    list(b.verwerk(beslissing("geweigerd")))
    opnieuw = list(b.verwerk(beslissing("bevestigd", opdracht_id="den-haag:koppel-2")))
    assert [u.topic for u in opnieuw] == [GEBEURTENISSEN]
