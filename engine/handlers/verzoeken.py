"""Verzoeken: the single writer of the four-eyes requests (`engine.domain.vergeten.vieroogen`).

The API writes each command (file, approve, turn down) with the principal it authenticated to
`engine.verzoekopdrachten` (one partition: every request is decided by one worker, in order). This
stage decides it against the request's state, folded from its own log `engine.verzoeken`, and
writes what `vieroogen.beslis` made of it there, in the transaction that consumes the command. A
refused command is written there too, as `OpdrachtGeweigerd` with its code and reason: the API's
read model shows it, and every attempt (a self-approval too) is on record next to the request.

Whoever carries out an act reads the approvals (`VerzoekGoedgekeurd`) from `engine.verzoeken`
with `engine.events.vieroogen.VERZOEK_DECODER`; this stage carries out nothing.

Expiry runs when a command arrives, after it is decided: an open request past its `verloopt_op`
gets `VerzoekVerlopen`. On a quiet topic that is late (at the next command), which is safe: an
approval after `verloopt_op` is refused (`request_expired`) whether or not the expiry is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from typing import TypeAlias

import msgspec
from aiokafka import ConsumerRecord
from aiokafka.producer import AIOKafkaProducer

from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.sleutels import Sleutelring
from engine.domain.vergeten.vieroogen import ONVERZEGELD, Verzoek, beslis, pas_toe, verlopen
from engine.errors import Weigering
from engine.events.vieroogen import (
    OPDRACHT_DECODER,
    VERZOEK_DECODER,
    VERZOEK_ENCODER,
    DienIn,
    OpdrachtGeweigerd,
    VerzoekIngediend,
    Verzoekregel,
    soort,
)
from engine.kafka import clients
from engine.kafka.stage import Output, Source
from engine.kafka.state import Handler, LogReader, PartitionState
from engine.metrics import Metrics
from engine.settings import KafkaConnection
from engine.topics import SLEUTELS, VERZOEKEN, VERZOEKOPDRACHTEN

log = logging.getLogger(__name__)

SOURCE = Source(topics=(VERZOEKOPDRACHTEN,))
Verzoeken: TypeAlias = dict[str, Verzoek]
"""The requests of the partition by id."""


def _herstel(verzoeken: Verzoeken, record: ConsumerRecord[bytes, bytes]) -> None:
    """Fold one record of engine.verzoeken into its request (restoring the state)."""
    g = VERZOEK_DECODER.decode(record.value)
    nieuw = pas_toe(verzoeken.get(g.verzoek_id), g)
    if nieuw is not None:
        verzoeken[g.verzoek_id] = nieuw


class Verzoekbeslisser(Handler):
    """Decides each four-eyes command against its request's state."""

    name = "verzoeken"
    state: PartitionState[Verzoeken]

    def __init__(
        self,
        *,
        log_reader: LogReader,
        metrics: Metrics,
        hoofdsleutel: bytes,
        regelversies: Collection[str] = frozenset(),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`regelversies`: the ids of the rule versions this worker ships (a request to adopt
        another is refused)."""
        self.metrics = metrics
        self.regelversies = frozenset(regelversies)
        self.ring = Sleutelring(hoofdsleutel)
        self.clock = clock
        self.state = PartitionState[Verzoeken](
            stage=self.name,
            log_topic=VERZOEKEN,
            reader=log_reader,
            new=dict,
            fold=_herstel,
            size=len,
            metrics=metrics,
        )

    def process(self, record: ConsumerRecord[bytes, bytes]) -> Iterator[Output]:
        """A command that cannot be decoded raises (the stage quarantines it to dlq.engine): only
        the API writes this topic, so that is a bug, not a client's mistake."""
        verzoeken = self.state[record.partition]
        bericht = OPDRACHT_DECODER.decode(record.value)
        o, nu = bericht.opdracht, self.clock()
        label = f"verzoek.{soort(o)}"
        gebeurtenissen: list[Verzoekregel]
        try:
            gebeurtenissen = [*beslis(verzoeken.get(o.verzoek_id), o, bericht.door, nu, self.regelversies)]
            self.metrics.commands.labels(label, "applied").inc()
        except Weigering as w:
            self.metrics.commands.labels(label, "refused").inc()
            self.metrics.refused.labels(w.code, record.topic).inc()
            log.info("verzoeken: refused %s at offset %d: %s", label, record.offset, w.code)
            gebeurtenissen = [
                OpdrachtGeweigerd(
                    verzoek_id=o.verzoek_id, door=bericht.door, op=nu, opdracht=soort(o),
                    code=w.code, reden=w.reden,
                )
            ]  # fmt: skip
        yield from self._verzegel(gebeurtenissen, o.sleutel if isinstance(o, DienIn) else None)
        yield from _schrijf(verzoeken, gebeurtenissen, record.partition)
        yield from self._verloop(verzoeken, nu, record.partition)

    def _verzegel(self, gebeurtenissen: list[Verzoekregel], sleutel: bytes | None) -> Iterator[Output]:
        """A new request's subject (for an erasure: a pseudonym or identifier) is sealed under a key
        of its own, and its key goes to the key store in the transaction that logs the request: the
        executor opens it, and destroys the key once the erasure took effect. The API seals it at
        the door (`sleutel`: its wrapped key), so it is never in the clear on the command topic;
        a command from before that is sealed here. A subject that names no person (`ONVERZEGELD`:
        a rule version's id) is left as it is, and no key is filed."""
        for i, g in enumerate(gebeurtenissen):
            if isinstance(g, VerzoekIngediend) and g.handeling not in ONVERZEGELD:
                sleutel_id = verzegeling.verzoek_sleutel_id(g.verzoek_id)
                if sleutel is None:
                    sleutel, onderwerp = verzegeling.verzegel_tekst(self.ring, sleutel_id, g.onderwerp)
                    gebeurtenissen[i] = msgspec.structs.replace(g, onderwerp=onderwerp)
                yield Output(SLEUTELS, sleutel_id.encode(), sleutel, partition=0)

    def _verloop(self, verzoeken: Verzoeken, nu: datetime, partition: int) -> Iterator[Output]:
        """Expire every open request whose time has come (a handful are open at any time)."""
        for verzoek in [v for v in verzoeken.values() if v.status == "open"]:
            gebeurtenissen = verlopen(verzoek, nu)
            if gebeurtenissen:
                self.metrics.commands.labels("verzoek.verlopen", "applied").inc()
            yield from _schrijf(verzoeken, [*gebeurtenissen], partition)


def _schrijf(verzoeken: Verzoeken, gebeurtenissen: list[Verzoekregel], partition: int) -> Iterator[Output]:
    """Apply the events to the state and write them to the log the state is restored from."""
    for g in gebeurtenissen:
        nieuw = pas_toe(verzoeken.get(g.verzoek_id), g)
        if nieuw is not None:
            verzoeken[g.verzoek_id] = nieuw
        yield Output(VERZOEKEN, g.verzoek_id.encode(), VERZOEK_ENCODER.encode(g), partition=partition)


class VerzoekopdrachtWriter:
    """The API's port to engine.verzoekopdrachten (`engine.api.ports.Verzoekopdrachten`):
    a command acknowledged by every in-sync replica before the API answers 202."""

    def __init__(self, kafka: KafkaConnection) -> None:
        self.kafka = kafka
        self._producer: AIOKafkaProducer | None = None

    async def schrijf(self, *, verzoek_id: str, value: bytes) -> None:
        """Raises when the broker did not take the command; the caller must then not answer 202."""
        if self._producer is None:  # created in the worker's event loop, on first use
            self._producer = clients.producer(self.kafka, acks="all", enable_idempotence=True)
            await self._producer.start()
        await self._producer.send_and_wait(VERZOEKOPDRACHTEN, value, key=verzoek_id.encode(), partition=0)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
