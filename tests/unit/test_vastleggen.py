"""Given the open-casus index a routing worker holds, when vastleggen takes a new signal, then it
logs it, routes it and logs where it went, all in the outputs of that one record (one transaction,
no hop through an index partition); a duplicate writes nothing, and a link that waited for the
signal is decided at once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from engine.domain.reference.regelversies import regelversies
from engine.events.matching import IdentificatorToegevoegd
from engine.events.route import ROUTE_DECODER
from engine.events.signaal import Locatie, Voertuig
from engine.events.signaal_ontvangen import (
    SIGNAAL_LOG_DECODER,
    SIGNAAL_LOG_ENCODER,
    KoppelingBeslist,
    KoppelingGevraagd,
    SignaalGerouteerd,
    SignaalLogRecord,
    SignaalOntvangen,
)
from engine.handlers.vastleggen import TOPOLOGY, Vastleggen
from engine.kafka.routeren import Routeren
from engine.kafka.stage import Output
from engine.kafka.topology import DataSleutel, Log
from engine.metrics import Metrics
from engine.settings import KafkaConnection
from engine.topics import KANDIDATEN, OPDRACHTEN_KANDIDATEN, SIGNAAL_LOG, SLEUTELS, ZOEKINDEX
from tests.unit.fakes import LogInMemory

NU = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOOFD = bytes(range(32))


async def vastleggen(log: LogInMemory | None = None) -> tuple[Vastleggen, Routeren]:
    """Vastleggen with partition 0 restored from `log` (empty when not given) and an in-memory
    index; no broker is reached (the tables are read only by `refresh`, which the stage calls and
    this test does not)."""
    metrics = Metrics(CollectorRegistry())
    router = Routeren(regels=regelversies(), kafka=KafkaConnection(), metrics=metrics, clock=lambda: NU)
    v = Vastleggen(
        log_reader=log or LogInMemory(),
        routeren=router,
        metrics=metrics,
        clock=lambda: NU,
        hoofdsleutel=HOOFD,
    )
    await v.prepare({TopicPartition(KANDIDATEN, 0)})
    return v, router


def record(value: SignaalLogRecord, offset: int = 0) -> ConsumerRecord[bytes, bytes]:
    encoded = SIGNAAL_LOG_ENCODER.encode(value)
    key = getattr(value, "signaal_id", "").encode()
    return ConsumerRecord(KANDIDATEN, 0, offset, int(NU.timestamp() * 1000), 0, key, encoded, None, 0, 0, [])


def signaal(kenteken: str) -> SignaalOntvangen:
    return SignaalOntvangen(
        signaal_id="kmar:s-1", bron="kmar", gemeld_op=NU, aangeboden_op=NU, ontvangen_op=NU,
        soort="signaal", themas=["drugs"], omschrijving="x", waargenomen_op=date(2026, 3, 1),
        locatie=Locatie(gemeente="GM0014"), subjecten=[Voertuig(kenteken=kenteken)],
    )  # fmt: skip


def logboek(v: Vastleggen, log: LogInMemory, r: ConsumerRecord[bytes, bytes]) -> None:
    """What vastleggen writes of a record to its own log and key store reaches the (in-memory) logs."""
    eigen = [m for m in v.verwerk(r) if isinstance(m, Log | DataSleutel)]
    log.write(v.topology.outputs(eigen, r))


def routes(uit: list[object]) -> dict[str, list[str]]:
    """The routed messages among a record's messages (built by the router as outputs, with headers)."""
    return {
        u.topic: [r.regel for r in ROUTE_DECODER.decode(u.value).redenen]
        for u in uit
        if isinstance(u, Output) and u.topic.startswith("routes.") and u.value is not None
    }


async def test_a_signal_is_logged_matched_routed_and_its_destinations_logged_in_one_step() -> None:
    v, router = await vastleggen()
    router.index.voeg_toe("kenteken:AB123C", "DH-2026-1", "den-haag")

    uit = list(v.verwerk(record(signaal("AB-123-C"))))

    assert routes(uit) == {"routes.riec.noord-nederland": ["locatie"], "routes.riec.den-haag": ["open_casus"]}
    gelogd = [b.bericht for b in uit if isinstance(b, Log)]
    assert isinstance(gelogd[0], SignaalOntvangen)
    assert isinstance(gelogd[1], SignaalGerouteerd)
    assert sorted(gelogd[1].bestemmingen) == ["riec.den-haag", "riec.noord-nederland"]
    [sleutel] = [b for b in uit if isinstance(b, DataSleutel)]
    assert sleutel.sleutel_id == "signaal:kmar:s-1"
    assert len(uit) == 3 + 2, "the key, the signal and where it went, its two routes: nothing else"


async def test_the_same_signal_again_writes_nothing() -> None:
    v, _ = await vastleggen()
    list(v.verwerk(record(signaal("AB-123-C"))))

    assert list(v.verwerk(record(signaal("AB-123-C"), offset=1))) == []


async def test_a_link_that_waited_for_the_signal_is_decided_when_it_is_routed() -> None:
    v, router = await vastleggen()
    router.index.voeg_toe("kenteken:AB123C", "DH-2026-1", "den-haag")
    gevraagd = KoppelingGevraagd(signaal_id="kmar:s-1", casus_id="DH-2026-1", riec="den-haag", gevraagd_op=NU)
    wacht = list(v.verwerk(record(gevraagd)))
    assert wacht == [Log(gevraagd)], "kept on the log until the signal comes"

    uit = list(v.verwerk(record(signaal("AB-123-C"), offset=1)))

    [besluit] = [b for b in uit if isinstance(b, KoppelingBeslist)]
    assert besluit.uitkomst == "bevestigd" and besluit.koppeling.casus_id == "DH-2026-1"
    toegevoegd = [b for b in uit if isinstance(b, IdentificatorToegevoegd)]
    assert [(t.identificator, t.casus_id, t.signaal_id) for t in toegevoegd] == [
        ("kenteken:AB123C", "DH-2026-1", "kmar:s-1")
    ], "its identifiers join the casus in the index, named after the signal that brought them"


async def test_after_a_restart_restored_from_its_own_log_a_signal_seen_before_is_still_a_duplicate() -> None:
    """Given the signal log as vastleggen wrote it, when a new owner restores the partition from it,
    then the same signal (a partner's duplicate, or a batch read again) writes nothing, and a link
    to it is decided from what the log says about its routing."""
    log = LogInMemory()
    v, router = await vastleggen(log)
    router.index.voeg_toe("kenteken:AB123C", "DH-2026-1", "den-haag")
    logboek(v, log, record(signaal("AB-123-C")))

    opnieuw, _ = await vastleggen(log)

    assert list(opnieuw.verwerk(record(signaal("AB-123-C"), offset=1))) == []
    gevraagd = KoppelingGevraagd(signaal_id="kmar:s-1", casus_id="RT-1", riec="rotterdam", gevraagd_op=NU)
    wacht = list(opnieuw.verwerk(record(gevraagd, offset=2)))
    assert wacht == [Log(gevraagd)], "routed elsewhere: the link waits as one to an unknown id does"


async def test_a_record_on_the_log_the_fold_cannot_take_is_skipped_and_counted() -> None:
    log = LogInMemory()
    log.append(SIGNAAL_LOG, b"kmar:x", b"not json")
    v, _ = await vastleggen(log)
    assert list(v.process(record(signaal("AB-123-C"))))
    assert v.metrics.restore_skipped.labels("vastleggen", "DecodeError")._value.get() == 1


async def test_the_log_holds_a_signals_personal_fields_only_sealed_under_its_own_key() -> None:
    """Given a signal with a kenteken and free text, when vastleggen logs it, then the signal log's
    record holds neither (only what the tables count: partner, themes, dates), and the signal's
    data key goes to the key store, wrapped, on the same partition, in the same transaction."""
    v, _ = await vastleggen()

    uit = list(v.verwerk(record(signaal("AB-123-C"))))

    [sleutel] = [b for b in uit if isinstance(b, DataSleutel)]
    assert sleutel.sleutel_id == "signaal:kmar:s-1" and sleutel.verpakt is not None
    g = next(b.bericht for b in uit if isinstance(b, Log))
    gelogd = SIGNAAL_LOG_ENCODER.encode(g)
    assert b"AB-123-C" not in gelogd and b"AB123C" not in gelogd and b'"omschrijving":"x"' not in gelogd
    assert isinstance(g, SignaalOntvangen) and g.themas == ["drugs"] and g.subjecten == [] and g.versleuteld
    assert b"AB123C" not in sleutel.verpakt
    assert uit.index(sleutel) < uit.index(Log(g)), "the key before the record it opens"


async def restored_after(key_destroyed: bool) -> list[object]:
    """The outputs of a link by the RIEC the signal was routed to, decided by a new owner restored
    from the log (and the key store, with the signal's key destroyed or not)."""
    log = LogInMemory()
    v, router = await vastleggen(log)
    router.index.voeg_toe("kenteken:AB123C", "DH-2026-1", "den-haag")
    logboek(v, log, record(signaal("AB-123-C")))
    if key_destroyed:
        log.append(SLEUTELS, b"signaal:kmar:s-1", None)
    opnieuw, _ = await vastleggen(log)
    assert list(opnieuw.verwerk(record(signaal("AB-123-C"), offset=1))) == [], "still a duplicate"
    gevraagd = KoppelingGevraagd(signaal_id="kmar:s-1", casus_id="DH-2", riec="den-haag", gevraagd_op=NU)
    return list(opnieuw.verwerk(record(gevraagd, offset=2)))


async def test_a_restored_owner_opens_the_sealed_signals_and_a_forgotten_one_keeps_only_its_id() -> None:
    """Given a logged signal, when a new owner restores the partition, then a confirmed link adds the
    signal's identifiers to the index; with its key destroyed (erased or expired), the link is
    still confirmed (its routing is not personal) but no identifier of it comes back."""
    gelezen = await restored_after(key_destroyed=False)
    vergeten = await restored_after(key_destroyed=True)

    assert [b.identificator for b in gelezen if isinstance(b, IdentificatorToegevoegd)] == ["kenteken:AB123C"]
    assert [type(b) for b in vergeten] == [KoppelingBeslist]


async def test_the_topology_maps_vastleggens_messages_to_its_topics_keys_and_partitions() -> None:
    """The one place vastleggen's messages meet Kafka: its own log and the key store on the input's
    partition, identifiers by their key to the index, decisions to the casus's writer."""
    v, router = await vastleggen()
    router.index.voeg_toe("kenteken:AB123C", "DH-2026-1", "den-haag")
    gevraagd = KoppelingGevraagd(signaal_id="kmar:s-1", casus_id="DH-2026-1", riec="den-haag", gevraagd_op=NU)
    list(v.process(record(gevraagd)))
    invoer = ConsumerRecord(KANDIDATEN, 5, 0, 0, 0, b"kmar:s-1", b"", None, 0, 0, [])

    uit = [u for u in TOPOLOGY.outputs(v.verwerk(record(signaal("AB-123-C"), offset=1)), invoer)]

    waar = [(u.topic, u.key, u.partition) for u in uit if not u.topic.startswith("routes.")]
    assert waar == [
        (SLEUTELS, b"signaal:kmar:s-1", 5),
        (SIGNAAL_LOG, b"kmar:s-1", 5),
        (SIGNAAL_LOG, b"kmar:s-1", 5),
        (ZOEKINDEX, b"kenteken:AB123C", None),
        (OPDRACHTEN_KANDIDATEN, b"casus:DH-2026-1", None),
    ]
    assert isinstance(SIGNAAL_LOG_DECODER.decode(uit[-1].value or b""), KoppelingBeslist)
