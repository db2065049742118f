"""Vastleggen: de-duplicate accepted signals on `<org>:<ce_id>`, append each once to the log and
route it in the same transaction (against the HKP register and the whole open-casus index this
worker holds: `engine.kafka.routeren`); decide casus links to signals (`engine.domain.koppelingen`):
confirmed only for a RIEC the signal was routed to.

The state — per signal id its identifiers and, once routed, its RIECs; links waiting for a signal
not seen or not routed yet — is derived from the log itself: before the first batch of a partition,
the same partition of `engine.signalen` is read back. The log partition of an id is the candidates
partition it arrived on, so the log is its own changelog and nothing else must be kept in step with
it. A signal's destinations are logged after it (`SignaalGerouteerd`; slips of the partitioned
design still write them back here); so is every expiry of a waiting link, so a restore never
decides one again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

import msgspec
from aiokafka import ConsumerRecord

from engine.domain.ingress.tijdvenster import ONTDUBBEL_HORIZON
from engine.domain.koppelingen import TERMIJN, Signaalpartitie
from engine.domain.reference import partnergroep
from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.sleutels import Sleutelring
from engine.events.matching import ZOEKINDEX_ENCODER, IdentificatorToegevoegd
from engine.events.signaal_ontvangen import (
    SIGNAAL_LOG_DECODER,
    SIGNAAL_LOG_ENCODER,
    KoppelingBeslist,
    KoppelingGevraagd,
    SignaalGerouteerd,
    SignaalLogRecord,
    SignaalOntvangen,
    SignaalVergeten,
)
from engine.kafka.routeren import Routeren
from engine.kafka.stage import Output, Source
from engine.kafka.state import Handler, LogReader, PartitionState
from engine.kafka.topology import Address, DataSleutel, Log, Topology
from engine.metrics import Kinderen, Metrics
from engine.topics import KANDIDATEN, OPDRACHTEN_KANDIDATEN, SIGNAAL_LOG, SLEUTELS, ZOEKINDEX

log = logging.getLogger(__name__)

_CONTROLE = timedelta(seconds=1)
"""How often, at most, a worker looks for waiting links that expired."""
Record: TypeAlias = ConsumerRecord[bytes, bytes]


def _gedateerd(r: SignaalLogRecord, record: Record) -> SignaalLogRecord:
    """A link from before links had a date (`gevraagd_op`) is dated by its Kafka record."""
    if isinstance(r, KoppelingGevraagd) and r.gevraagd_op is None:
        return msgspec.structs.replace(r, gevraagd_op=datetime.fromtimestamp(record.timestamp / 1000, UTC))
    return r


def _toevoegingen(koppeling: KoppelingGevraagd, ids: list[str]) -> Iterator[IdentificatorToegevoegd]:
    for ident in ids:
        yield IdentificatorToegevoegd(
            identificator=ident, casus_id=koppeling.casus_id, riec=koppeling.riec,
            signaal_id=koppeling.signaal_id,
        )  # fmt: skip


def _besluit(partitie: Signaalpartitie, b: KoppelingBeslist) -> Iterator[Bericht]:
    """A confirmed link's identifiers join the index; every decision goes to the casus's writer."""
    k = b.koppeling
    if b.uitkomst == "bevestigd":
        yield from _toevoegingen(k, partitie.signalen.get(k.signaal_id, []))
    yield b


def _gerouteerd(partitie: Signaalpartitie, g: SignaalGerouteerd, nu: datetime) -> Iterator[Bericht]:
    """Log where a signal went, after it on its partition, and decide the links that waited for it."""
    besluiten = partitie.bij_routering(g, nu)
    partitie.pas_toe(g)
    yield Log(g)
    for b in besluiten:
        yield from _besluit(partitie, b)


def _casus_sleutel(b: KoppelingBeslist) -> bytes:
    # Keyed as the casus's commands are (`aggregaat_sleutel`): its single writer records the outcome.
    return f"casus:{b.koppeling.casus_id}".encode()


TOPOLOGY = Topology(
    stage="vastleggen",
    inputs=(KANDIDATEN,),
    log=Address(SIGNAAL_LOG, value=SIGNAAL_LOG_ENCODER.encode, partition="input"),
    addresses={
        DataSleutel: Address(
            SLEUTELS, key=lambda s: s.sleutel_id.encode(), value=lambda s: s.verpakt, partition="input"
        ),
        IdentificatorToegevoegd: Address(
            ZOEKINDEX, key=lambda t: t.identificator.encode(), value=ZOEKINDEX_ENCODER.encode
        ),
        KoppelingBeslist: Address(
            OPDRACHTEN_KANDIDATEN, key=_casus_sleutel, value=SIGNAAL_LOG_ENCODER.encode
        ),
    },
    extra=("routes.*",),
)
"""Vastleggen's wiring: its own log is the signal log (signals, where they went, links waiting and
their expiries), keys go to the key store beside it, confirmed identifiers to the index, every
decision on a link to the casus's writer, and routes to the route topics."""
Bericht: TypeAlias = Log | DataSleutel | IdentificatorToegevoegd | KoppelingBeslist | Output
SOURCE = Source(topics=TOPOLOGY.inputs)


class Vastleggen(Handler):
    """Appends a candidate to the signal log unless its id is already there; decides links."""

    name = "vastleggen"
    state: PartitionState[Signaalpartitie]

    def __init__(
        self,
        *,
        log_reader: LogReader,
        routeren: Routeren,
        metrics: Metrics,
        hoofdsleutel: bytes,
        termijn: timedelta = TERMIJN,
        horizon: timedelta = ONTDUBBEL_HORIZON,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.routeren = routeren
        self.ring = Sleutelring(hoofdsleutel)
        """Seals each new signal under a new data key; holds no key (the writer never reads back)."""
        self._herstelringen: dict[int, Sleutelring] = {}
        """The keys of the partitions being restored, to read their signals; dropped after."""
        self.metrics = metrics
        self._geaccepteerd, self._dubbel = Kinderen(metrics.accepted), Kinderen(metrics.duplicates)
        self.termijn = termijn
        self.horizon = horizon
        self.clock = clock
        self.state = PartitionState(
            stage=self.name,
            log_topic=SIGNAAL_LOG,
            read_first=(SLEUTELS,),
            reader=log_reader,
            new=self._nieuwe_partitie,
            fold=self._herstel,
            size=lambda p: len(p.signalen),
            metrics=metrics,
            after_restore=self._herstelringen.clear,
        )
        self._volgende_controle: dict[int, datetime] = {}

    async def before_batch(self) -> None:
        await self.routeren.refresh()  # "as of" the batch: every HKP and open casus committed before it

    def _nieuwe_partitie(self) -> Signaalpartitie:
        partitie = Signaalpartitie(self.termijn, self.horizon)
        partitie.vergeet(self.clock())  # the fold skips what is beyond the horizon
        return partitie

    def _herstel(self, partitie: Signaalpartitie, record: Record) -> None:
        """Fold one record of the key store, then of the signal log (restoring the partition)."""
        ring = self._herstelringen.setdefault(record.partition, Sleutelring(self.ring.hoofdsleutel))
        if record.topic == SLEUTELS:
            ring.herstel(record.key.decode(), record.value)
            return
        r = _gedateerd(SIGNAAL_LOG_DECODER.decode(record.value), record)
        if isinstance(r, SignaalOntvangen):
            # A forgotten signal (its key destroyed) keeps its id, so a copy of it is still refused.
            r = verzegeling.open_(r, ring) or msgspec.structs.replace(r, versleuteld="")
        partitie.pas_toe(r)

    topology = TOPOLOGY

    def verwerk(self, record: Record) -> Iterator[Bericht]:
        nu = self.clock()
        partitie = self.state[record.partition]
        yield from self._verloop(nu, record.partition, partitie)
        kandidaat = _gedateerd(SIGNAAL_LOG_DECODER.decode(record.value), record)
        match kandidaat:
            case SignaalOntvangen():
                yield from self._signaal(partitie, kandidaat)
            case KoppelingGevraagd():
                besluit = partitie.koppel(kandidaat, nu)
                if besluit is None:  # not in the RIEC's inbox (yet): the link waits on the log
                    partitie.pas_toe(kandidaat)
                    yield Log(kandidaat)
                else:
                    yield from _besluit(partitie, besluit)
            case SignaalGerouteerd() if kandidaat.signaal_id not in partitie.riecs:
                yield from _gerouteerd(partitie, kandidaat, nu)
            case SignaalVergeten():
                partitie.vergeet_signaal(kandidaat.signaal_id)

    def _signaal(self, partitie: Signaalpartitie, signaal: SignaalOntvangen) -> Iterator[Bericht]:
        groep = partnergroep(signaal.bron)
        if signaal.signaal_id in partitie.signalen:
            self._dubbel(groep).inc()
            return
        partitie.pas_toe(signaal)
        self._geaccepteerd(groep).inc()
        verpakt, gesloten = verzegeling.verzegel(signaal, self.ring)
        # The key before the record it opens, in the same transaction: no reader meets one without the other.
        yield DataSleutel(verzegeling.sleutel_id(signaal.signaal_id), verpakt)
        yield Log(gesloten)
        routering = self.routeren.routeer(signaal, partitie.signalen[signaal.signaal_id])
        yield from routering.berichten
        yield from _gerouteerd(partitie, routering.gerouteerd, self.clock())

    def _verloop(self, nu: datetime, p: int, partitie: Signaalpartitie) -> Iterator[Bericht]:
        """Expire the waiting links of the record's partition, at most once a second.

        Runs while records arrive (every signal brings two), so on an idle partition a link expires
        at the partition's first record after its time. Each expiry is logged where its link waits,
        in the transaction of that partition: only its owner may write it (fencing).
        """
        if nu < self._volgende_controle.get(p, datetime.min.replace(tzinfo=UTC)):
            return
        self._volgende_controle[p] = nu + _CONTROLE
        partitie.vergeet(nu)
        for b in partitie.verlopen(nu):
            partitie.pas_toe(b)
            yield Log(b, key=b.koppeling.signaal_id.encode())  # where its link waits
            yield from _besluit(partitie, b)
