"""Given a casus, when besluiten reads vastleggen's decision on one of its links, then it records
the decision once: the same decision record read again (a stage retaken after a broker crash
reprocesses its last batch) writes nothing, neither on the casus log nor in the DLQ. Besluiten seals
the personal fields of what it logs under the aggregate's key, and forgets an aggregate by
destroying that key."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import CollectorRegistry

from engine.domain.knelpunten import Knelpuntenregister
from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.sleutels import Sleutelring
from engine.events.casus import (
    GEBEURTENIS_DECODER,
    GEBEURTENIS_ENCODER,
    AggregaatVergeten,
    CasusAfgesloten,
    CasusGeopend,
    HandhavingsknelpuntAangewezen,
    KoppelingBevestigd,
    KoppelingGeweigerd,
    OpdrachtOntvangen,
    VergeetAggregaat,
)
from engine.events.matching import CasusGesloten, IdentificatorToegevoegd
from engine.events.signaal import Voertuig
from engine.events.signaal_ontvangen import (
    SIGNAAL_LOG_DECODER,
    SIGNAAL_LOG_ENCODER,
    KoppelingBeslist,
    KoppelingGevraagd,
    PersoonPseudoniem,
)
from engine.handlers.besluiten import Besluiten
from engine.kafka.tables import restore_knelpunt
from engine.kafka.topology import DataSleutel, Log, Weigeringsbericht
from engine.metrics import Metrics
from engine.topics import (
    DLQ,
    GEBEURTENISSEN,
    KANDIDATEN,
    KNELPUNTEN,
    OPDRACHTEN_KANDIDATEN,
    SLEUTELS_CASUS,
    ZOEKINDEX,
)
from tests.unit.fakes import LogInMemory

NU = datetime(2026, 3, 1, 12, tzinfo=UTC)
CASUS = "DH-2026-7"
HOOFDSLEUTEL = bytes(range(32))


async def besluiten(log: LogInMemory | None = None) -> Besluiten:
    """Besluiten with partition 0 restored from `log`: by default one open casus on it."""
    if log is None:
        log = LogInMemory()
        geopend = CasusGeopend(
            opdracht_id="den-haag:open-1", riec="den-haag", tijd=NU, vastgelegd_op=NU, casus_id=CASUS,
            naam="x", bron="inbreng", signalen=["kmar:s-1"], themas=["drugs"], subjecten=[],
        )  # fmt: skip
        log.append(GEBEURTENISSEN, f"casus:{CASUS}".encode(), GEBEURTENIS_ENCODER.encode(geopend))
    b = Besluiten(
        log_reader=log, zoekindex_partities=2, metrics=Metrics(CollectorRegistry()), clock=lambda: NU,
        hoofdsleutel=HOOFDSLEUTEL,
    )  # fmt: skip
    await b.prepare({TopicPartition(OPDRACHTEN_KANDIDATEN, 0)})
    return b


def beslissing(
    uitkomst: str, signaal_id: str = "kmar:s-1", opdracht_id: str = "den-haag:open-1"
) -> ConsumerRecord:
    k = KoppelingGevraagd(signaal_id=signaal_id, casus_id=CASUS, riec="den-haag", opdracht_id=opdracht_id,
                          ce_type="nl.riec.casus.openen.v1", tijd=NU, gevraagd_op=NU)  # fmt: skip
    b = KoppelingBeslist(koppeling=k, uitkomst=uitkomst, besloten_op=NU, reden_code="signaal_niet_gerouteerd",
                         reden="not routed to den-haag")  # fmt: skip
    return ConsumerRecord(
        OPDRACHTEN_KANDIDATEN,
        0,
        0,
        0,
        0,
        f"casus:{CASUS}".encode(),
        SIGNAAL_LOG_ENCODER.encode(b),
        None,
        0,
        0,
        [],
    )


async def test_a_refused_link_is_recorded_on_the_casus_and_sent_to_the_dlq_once() -> None:
    b = await besluiten()
    gelogd, weigering = list(b.verwerk(beslissing("geweigerd")))
    assert isinstance(gelogd, Log) and isinstance(gelogd.bericht, KoppelingGeweigerd)
    assert isinstance(weigering, Weigeringsbericht) and weigering.weigering.code == "signaal_niet_gerouteerd"
    assert weigering.value_form == "besluit" and weigering.ce_id == "open-1"

    assert list(b.verwerk(beslissing("geweigerd"))) == [], "the same decision read again records nothing"


async def test_a_confirmed_link_read_again_records_nothing() -> None:
    b = await besluiten()
    [gelogd] = list(b.verwerk(beslissing("bevestigd")))
    assert isinstance(gelogd, Log) and isinstance(gelogd.bericht, KoppelingBevestigd)
    assert list(b.verwerk(beslissing("bevestigd"))) == []


async def test_another_command_linking_the_same_signal_again_is_decided_again() -> None:
    """A refused link leaves the casus; a later command may ask for it again and gets its own decision."""
    b = await besluiten()
    list(b.verwerk(beslissing("geweigerd")))
    [opnieuw] = list(b.verwerk(beslissing("bevestigd", opdracht_id="den-haag:koppel-2")))
    assert isinstance(opnieuw, Log) and isinstance(opnieuw.bericht, KoppelingBevestigd)


def opdracht(
    ce_type: str, ce_id: str, casus_id: str = "RT-9", riec: str = "rotterdam", **payload: object
) -> ConsumerRecord:
    o = OpdrachtOntvangen(
        opdracht_id=f"{riec}:{ce_id}", riec=riec, ce_type=f"nl.riec.{ce_type}.v1", tijd=NU, ontvangen_op=NU,
        aggregaat=f"casus:{casus_id}", opdracht=msgspec.Raw(msgspec.json.encode({"casus_id": casus_id, **payload})),
        subjecten=[Voertuig(kenteken="AB123C")] if ce_type == "casus.openen" else [],
        bron_topic=f"riec.{riec}.opdrachten", bron_offset=41,
    )  # fmt: skip
    return ConsumerRecord(
        OPDRACHTEN_KANDIDATEN, 0, 0, 0, 0, o.aggregaat.encode(), GEBEURTENIS_ENCODER.encode(o), None, 0, 0, []
    )


OPENEN = {"naam": "Loods", "bron": "inbreng", "signalen": ["kmar:s-2"], "themas": ["drugs"], "subjecten": []}


async def test_opening_a_casus_logs_it_indexes_its_identifiers_and_asks_for_its_signals() -> None:
    b = await besluiten()
    uit = list(b.verwerk(opdracht("casus.openen", "c-1", **OPENEN)))

    sleutel, gelogd, toegevoegd, link = uit
    assert isinstance(sleutel, DataSleutel) and sleutel.sleutel_id == "casus:RT-9"
    assert (
        isinstance(gelogd, Log)
        and isinstance(gelogd.bericht, CasusGeopend)
        and gelogd.bericht.casus_id == "RT-9"
    )
    assert toegevoegd == IdentificatorToegevoegd(
        identificator="kenteken:AB123C", casus_id="RT-9", riec="rotterdam"
    )
    assert isinstance(link, KoppelingGevraagd) and (link.signaal_id, link.riec) == ("kmar:s-2", "rotterdam")


async def test_a_command_applied_before_changes_nothing_also_after_a_restore_from_the_log() -> None:
    log = LogInMemory()
    b = await besluiten(log)
    openen = opdracht("casus.openen", "c-1", **OPENEN)
    log.write(
        b.topology.outputs([m for m in b.verwerk(openen) if isinstance(m, Log)], openen)
    )  # its log only
    assert list(b.verwerk(opdracht("casus.openen", "c-1", **OPENEN))) == []

    opnieuw = await besluiten(log)

    assert list(opnieuw.verwerk(opdracht("casus.openen", "c-1", **OPENEN))) == []
    [weigering] = list(opnieuw.verwerk(opdracht("casus.openen", "c-2", **OPENEN)))
    assert isinstance(weigering, Weigeringsbericht), "another command opening the same casus is refused"
    assert weigering.weigering.code == "impossible_transition"


async def test_a_refused_command_goes_to_the_dlq_with_its_bytes_and_where_it_came_from() -> None:
    b = await besluiten()
    r = opdracht("casus.afsluiten", "s-1", casus_id="ONBEKEND", reden="afgerond")
    [weigering] = list(b.verwerk(r))
    assert isinstance(weigering, Weigeringsbericht) and weigering.value == r.value
    assert weigering.weigering.code == "unknown_casus" and weigering.herkomst[2] == 41
    assert weigering.value_form == "pseudonymised" and weigering.ce_id == "s-1"


async def test_closing_a_casus_tells_every_index_partition() -> None:
    log = LogInMemory()
    b = await besluiten(log)
    list(b.verwerk(opdracht("casus.openen", "c-1", **OPENEN)))
    uit = list(b.verwerk(opdracht("casus.afsluiten", "s-1", reden="afgerond")))
    assert [type(m) for m in uit] == [Log, CasusGesloten] and uit[1] == CasusGesloten(casus_id="RT-9")
    # The topology sends it to every partition of the index.
    naar = list(b.topology.outputs(uit[1:], opdracht("casus.afsluiten", "s-1")))
    assert [(u.topic, u.key, u.partition) for u in naar] == [(ZOEKINDEX, b"RT-9", 0), (ZOEKINDEX, b"RT-9", 1)]


def stap(b: Besluiten, log: LogInMemory, record: ConsumerRecord) -> list[object]:
    """The messages of a record; what the stage writes of them reaches the (in-memory) logs."""
    berichten = list(b.verwerk(record))
    log.write(b.topology.outputs(berichten, record))
    return berichten


def gelogde(berichten: Iterable[object]) -> list[object]:
    """The events among a record's messages that go on the casus log."""
    return [m.bericht for m in berichten if isinstance(m, Log)]


def ring_van(log: LogInMemory) -> Sleutelring:
    """The keys a reader of the key store holds."""
    ring = Sleutelring(HOOFDSLEUTEL)
    for r in log.records(SLEUTELS_CASUS):
        ring.herstel(r.key.decode(), r.value)
    return ring


def vergeet(aggregaat: str, waarom: str = "wis-1") -> ConsumerRecord:
    v = VergeetAggregaat(aggregaat=aggregaat, grond="gewist", waarom=waarom, op=NU)
    return ConsumerRecord(
        OPDRACHTEN_KANDIDATEN, 0, 0, 0, 0, aggregaat.encode(), msgspec.json.encode(v), None, 0, 0, []
    )


async def test_a_casus_is_logged_sealed_with_its_new_key_first_and_opens_with_it() -> None:
    log = LogInMemory()
    b = await besluiten(log)
    sleutel, gelogd, *_ = stap(b, log, opdracht("casus.openen", "c-1", **OPENEN))
    assert isinstance(sleutel, DataSleutel) and sleutel.sleutel_id == "casus:RT-9", "the key before the event"
    assert isinstance(gelogd, Log)
    geopend = gelogd.bericht
    assert isinstance(geopend, CasusGeopend) and geopend.versleuteld
    assert (geopend.naam, geopend.subjecten) == ("", []) and b"Loods" not in log.records(GEBEURTENISSEN)[
        0
    ].value
    assert b"AB123C" not in log.records(GEBEURTENISSEN)[0].value
    opened = verzegeling.open_gebeurtenis(geopend, ring_van(log))
    assert opened.naam == "Loods" and opened.subjecten == [Voertuig(kenteken="AB123C")]

    # A later event with a reason is sealed under the same key.
    [afgesloten] = gelogde(stap(b, log, opdracht("casus.afsluiten", "s-1", reden="Dossier Jansen")))
    assert isinstance(afgesloten, CasusAfgesloten) and afgesloten.reden == ""
    assert verzegeling.open_gebeurtenis(afgesloten, ring_van(log)).reden == "Dossier Jansen"


async def test_forgetting_a_casus_destroys_its_key_once_also_after_a_restore() -> None:
    log = LogInMemory()
    b = await besluiten(log)
    stap(b, log, opdracht("casus.openen", "c-1", **OPENEN))
    uit = stap(b, log, vergeet("casus:RT-9"))
    assert uit[0] == DataSleutel("casus:RT-9", None), "its key destroyed first"
    [vergeten] = gelogde(uit)
    assert isinstance(vergeten, AggregaatVergeten) and (vergeten.aggregaat, vergeten.grond) == (
        "casus:RT-9",
        "gewist",
    )
    [geopend] = [GEBEURTENIS_DECODER.decode(r.value) for r in log.records(GEBEURTENISSEN)][:1]
    assert verzegeling.open_gebeurtenis(geopend, ring_van(log)).naam == verzegeling.GEWIST

    assert list(b.verwerk(vergeet("casus:RT-9"))) == [], "read again: nothing"
    assert list((await besluiten(log)).verwerk(vergeet("casus:RT-9"))) == [], "nor after a restore"
    assert list(b.verwerk(vergeet("casus:ONBEKEND"))) == [], "an aggregate never opened: nothing"
    # What the forgotten casus logs later names no one: its reason is left out, not sealed.
    [afgesloten] = gelogde(b.verwerk(opdracht("casus.afsluiten", "s-1", reden="Dossier Jansen")))
    assert isinstance(afgesloten, CasusAfgesloten) and (afgesloten.reden, afgesloten.versleuteld) == ("", "")


async def test_a_forgotten_hkp_leaves_the_register_and_its_record_there_is_replaced() -> None:
    log = LogInMemory()
    b = await besluiten(log)
    o = OpdrachtOntvangen(
        opdracht_id="rotterdam:h-1", riec="rotterdam", ce_type="nl.riec.handhavingsknelpunt.aanwijzen.v1",
        tijd=NU, ontvangen_op=NU, aggregaat="hkp:H-1", subjecten=[PersoonPseudoniem(pseudoniem="p-jansen")],
        opdracht=msgspec.Raw(msgspec.json.encode(
            {"hkp_id": "H-1", "naam": "Familie J", "soort": "persoon", "geldig_van": "2026-01-01"}
        )),
    )  # fmt: skip
    aanwijzen = ConsumerRecord(
        OPDRACHTEN_KANDIDATEN, 0, 0, 0, 0, b"hkp:H-1", GEBEURTENIS_ENCODER.encode(o), None, 0, 0, []
    )
    uit = stap(b, log, aanwijzen)
    register = Knelpuntenregister()
    for r in log.records(KNELPUNTEN):
        restore_knelpunt(register, r)
    assert len(register) == 1
    [hkp] = gelogde(uit)
    assert isinstance(hkp, HandhavingsknelpuntAangewezen) and hkp.pseudoniemen == [] and hkp.versleuteld
    [voor_het_register] = [m for m in uit if isinstance(m, HandhavingsknelpuntAangewezen)]
    assert voor_het_register.pseudoniemen == ["p-jansen"], "the register matches on the pseudonym"

    uit = stap(b, log, vergeet("hkp:H-1"))
    [vervangen] = [m for m in uit if isinstance(m, AggregaatVergeten)]
    assert vervangen.aggregaat == "hkp:H-1" and b"p-jansen" not in GEBEURTENIS_ENCODER.encode(vervangen)
    assert [r.key for r in log.records(KNELPUNTEN)] == [b"H-1", b"H-1"], "compaction keeps this instead"
    for r in log.records(KNELPUNTEN)[1:]:
        restore_knelpunt(register, r)
    assert len(register) == 0, "a forgotten HKP routes no more"


async def test_the_topology_maps_besluitens_messages_to_topics_keys_and_partitions() -> None:
    """The one place besluiten's messages meet Kafka: its log and key store on the input's partition
    and keyed as it, identifiers and links by their key, refusals with their DLQ headers."""
    b = await besluiten()
    invoer = opdracht("casus.openen", "c-1", **OPENEN)

    uit = list(b.process(invoer))

    assert [(u.topic, u.key, u.partition) for u in uit] == [
        (SLEUTELS_CASUS, b"casus:RT-9", 0),
        (GEBEURTENISSEN, b"casus:RT-9", 0),
        (ZOEKINDEX, b"kenteken:AB123C", None),
        (KANDIDATEN, b"kmar:s-2", None),
    ]
    assert isinstance(SIGNAAL_LOG_DECODER.decode(uit[3].value or b""), KoppelingGevraagd)
    [dlq] = list(b.process(opdracht("casus.afsluiten", "s-1", casus_id="ONBEKEND", reden="afgerond")))
    headers = dict(dlq.headers)
    assert (
        dlq.topic == DLQ and headers["reason_code"] == b"unknown_casus" and headers["source_offset"] == b"41"
    )
    assert headers["ce_id"] == b"s-1" and headers["value_form"] == b"pseudonymised"


def test_the_readme_prints_the_stages_wiring_as_their_topologies_say_it() -> None:
    from pathlib import Path

    from engine.handlers.__main__ import PARTITIES, regels
    from engine.settings import Settings

    assert Settings(pseudonym_key=b"k" * 32).partitions == PARTITIES
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "```text\n" + "\n".join(regels()) + "\n```" in readme
