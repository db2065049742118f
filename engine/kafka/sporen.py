"""Reading the logs with the keys there are: the key store whole, and every signal the signal log
holds (opened when asked), with where it was routed and the casussen it is linked to. What the
executor of forgetting (`engine.handlers.vergeten`) and inzage (`engine.domain.vergeten.inzage`) work from.

Reading whole logs is slow for a million signals (about the replay's speed) and holds ids and times
of each; fine for a rare act and an hourly schedule, not for a stage's batch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeAlias

from aiokafka import ConsumerRecord

from engine.api.audit import AUDIT_DECODER, als_lezing
from engine.domain import identificatoren
from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.inzage import Inzage, Lezing, ids_van, stel_op
from engine.domain.vergeten.overzicht import Aggregaatspoor, Overzicht, Signaalspoor, noemt
from engine.domain.vergeten.sleutels import Sleutelring
from engine.events.casus import (
    GEBEURTENIS_DECODER,
    CasusAfgesloten,
    CasusGeopend,
    Gebeurtenis,
    HandhavingsknelpuntAangewezen,
    KoppelingBevestigd,
)
from engine.events.signaal_ontvangen import SIGNAAL_LOG_DECODER, SignaalGerouteerd, SignaalOntvangen
from engine.kafka import clients
from engine.kafka.state import KafkaLog, restore
from engine.settings import KafkaConnection
from engine.topics import AUDIT, GEBEURTENISSEN, SIGNAAL_LOG, SLEUTELS, SLEUTELS_CASUS

Record: TypeAlias = ConsumerRecord[bytes, bytes]


async def lees(kafka: KafkaConnection, topic: str, fold: Callable[[Record], None]) -> None:
    """Fold every committed record of every partition of `topic`; a record the fold cannot take
    is skipped, logged by its coordinates and counted, as when a stage restores its state: one
    poison record on a log must not stop an erasure, an inzage or the retention schedule."""
    reader = KafkaLog(kafka)
    for tp in await clients.partitions_of(kafka, (topic,)):
        await restore(reader, tp, fold, stage="vergeten")


async def lees_sleutels(kafka: KafkaConnection, hoofdsleutel: bytes, topic: str = SLEUTELS) -> Sleutelring:
    """Every data key a key store holds (a destroyed one is not there): the signals' (`SLEUTELS`)
    or the casussen's, HKPs' and beelden's (`SLEUTELS_CASUS`)."""
    ring = Sleutelring(hoofdsleutel)
    await lees(kafka, topic, lambda r: ring.herstel(r.key.decode(), r.value))
    return ring


def _aggregaat(g: Gebeurtenis, ring: Sleutelring, openen: bool) -> Aggregaatspoor:
    """A casus, HKP or beeld from its first event: readable while its key is there; opened (name and
    subjects' identifiers) when an erasure or an inzage asks."""
    sleutel = verzegeling.aggregaat_van(g)
    spoor = Aggregaatspoor(sleutel, g.riec, leesbaar=not g.versleuteld or sleutel in ring)
    if openen and spoor.leesbaar:
        g = verzegeling.open_gebeurtenis(g, ring)
        spoor.naam = getattr(g, "naam", "")
        if isinstance(g, CasusGeopend):
            spoor.identificatoren = identificatoren.van_subjecten(g.subjecten)
        elif isinstance(g, HandhavingsknelpuntAangewezen):
            spoor.identificatoren = sorted(f"persoon:{p}" for p in g.pseudoniemen)
    return spoor


async def lees_overzicht(
    kafka: KafkaConnection,
    ring: Sleutelring,
    bewaar: Callable[[SignaalOntvangen], bool] | None,
    casusring: Sleutelring | None = None,
) -> Overzicht:
    """Every signal the log holds, opened with the keys of `ring`, with its routes and casussen;
    with `casusring`, also every casus, HKP and beeld, readable while its key is there.

    Only the signals `bewaar` accepts keep their opened fields (an erasure's, an inzage's); of the
    rest the overview keeps ids, partitions and times, so that reading a million signals for the
    retention schedule does not hold a million texts. Without `bewaar` (the schedule) nothing is
    opened: a signal is readable when its key is there. With `bewaar`, the aggregates are opened
    (their names and subjects: one per casus, far fewer than signals)."""
    overzicht = Overzicht()

    def signaal(r: Record) -> None:
        g = SIGNAAL_LOG_DECODER.decode(r.value)
        if isinstance(g, SignaalOntvangen):
            overzicht.signalen[g.signaal_id] = _spoor(g, r.partition, ring, bewaar)
        elif isinstance(g, SignaalGerouteerd) and g.signaal_id in overzicht.signalen:
            overzicht.signalen[g.signaal_id].bestemmingen = list(g.bestemmingen)

    def gebeurtenis(r: Record) -> None:
        g = GEBEURTENIS_DECODER.decode(r.value)
        if isinstance(g, KoppelingBevestigd) and g.signaal_id in overzicht.signalen:
            overzicht.signalen[g.signaal_id].casussen[g.casus_id] = g.riec
        elif isinstance(g, CasusAfgesloten):
            overzicht.gesloten[g.casus_id] = g.tijd
        elif casusring is not None and verzegeling.opent_aggregaat(g):
            spoor = _aggregaat(g, casusring, openen=bewaar is not None)
            overzicht.aggregaten[spoor.aggregaat] = spoor

    await lees(kafka, SIGNAAL_LOG, signaal)
    await lees(kafka, GEBEURTENISSEN, gebeurtenis)
    return overzicht


def _spoor(
    g: SignaalOntvangen, partitie: int, ring: Sleutelring, bewaar: Callable[[SignaalOntvangen], bool] | None
) -> Signaalspoor:
    if bewaar is None:  # the schedule: readable when its key is there, nothing opened
        leesbaar = not g.versleuteld or verzegeling.sleutel_id(g.signaal_id) in ring
        return Signaalspoor(g.signaal_id, partitie, g.ontvangen_op, leesbaar)
    open_ = verzegeling.open_(g, ring)
    spoor = Signaalspoor(g.signaal_id, partitie, g.ontvangen_op, leesbaar=open_ is not None)
    spoor.signaal = open_ if open_ is not None and bewaar(open_) else None
    return spoor


async def over_onderwerp(kafka: KafkaConnection, hoofdsleutel: bytes, identificator: str) -> Overzicht:
    """The overview with the signals about one subject, and every casus, HKP and beeld, opened (an
    erasure's, an inzage's)."""
    ring = await lees_sleutels(kafka, hoofdsleutel)
    casusring = await lees_sleutels(kafka, hoofdsleutel, SLEUTELS_CASUS)
    return await lees_overzicht(kafka, ring, lambda s: noemt(s, identificator), casusring)


async def inzage(kafka: KafkaConnection, hoofdsleutel: bytes, identificator: str, door: str) -> Inzage:
    """The inzage export of one subject (`engine.domain.vergeten.inzage`): its signals opened from the
    logs, and the
    audit records of reads that showed one of them or one of their casussen."""
    overzicht = await over_onderwerp(kafka, hoofdsleutel, identificator)
    signalen, casussen = ids_van(overzicht, identificator)
    lezingen: list[Lezing] = []

    def lezing(r: Record) -> None:
        lz = als_lezing(AUDIT_DECODER.decode(r.value))
        if signalen & set(lz.signaal_ids) or casussen & set(lz.casus_ids):
            lezingen.append(lz)

    await lees(kafka, AUDIT, lezing)
    return stel_op(overzicht, identificator, lezingen, door, datetime.now(UTC))
