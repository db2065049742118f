"""What a casus, HKP or beeld event means beyond its own log, as domain messages (a policy, in the
sense of an event-sourced process): the HKP register learns of an HKP, the open-casus index of a
casus's subjects and of its closing, and vastleggen of each link to decide. Where each message goes
is the edge's business (`engine.handlers.besluiten.topology`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

from engine.domain import identificatoren
from engine.events.casus import (
    AggregaatVergeten,
    CasusAfgesloten,
    CasusGeopend,
    Gebeurtenis,
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
    OpdrachtOntvangen,
    SignaalGekoppeld,
)
from engine.events.matching import CasusGesloten, IdentificatorToegevoegd
from engine.events.signaal_ontvangen import KoppelingGevraagd

Gevolg: TypeAlias = (
    HandhavingsknelpuntAangewezen
    | HandhavingsknelpuntBeeindigd
    | AggregaatVergeten
    | IdentificatorToegevoegd
    | CasusGesloten
    | KoppelingGevraagd
)


def koppeling(
    signaal_id: str, g: CasusGeopend | SignaalGekoppeld, o: OpdrachtOntvangen | None
) -> KoppelingGevraagd:
    """A link for vastleggen to decide on the signal's partition, naming the command that asked."""
    return KoppelingGevraagd(
        signaal_id=signaal_id,
        casus_id=g.casus_id,
        riec=g.riec,
        opdracht_id=g.opdracht_id,
        ce_type=o.ce_type if o else "",
        tijd=g.tijd,
        gevraagd_op=g.vastgelegd_op,
        bron_partitie=o.bron_partitie if o else 0,
        bron_offset=o.bron_offset if o else -1,
        bron_timestamp=o.bron_timestamp if o else 0,
    )


def gevolgen(g: Gebeurtenis, opdracht: OpdrachtOntvangen | None = None) -> Iterator[Gevolg]:
    """What `g` means for the HKP register, the open-casus index and the links (`opdracht`: the
    command the event came from)."""
    match g:
        case HandhavingsknelpuntAangewezen() | HandhavingsknelpuntBeeindigd():
            yield g
        case AggregaatVergeten() if g.aggregaat.startswith("hkp:"):
            yield g  # a forgotten HKP routes no more (no pseudonym in it)
        case CasusGeopend():
            for ident in identificatoren.van_subjecten(g.subjecten):
                yield IdentificatorToegevoegd(identificator=ident, casus_id=g.casus_id, riec=g.riec)
            for signaal_id in g.signalen:
                yield koppeling(signaal_id, g, opdracht)
        case SignaalGekoppeld():
            yield koppeling(g.signaal_id, g, opdracht)
        case CasusAfgesloten():
            yield CasusGesloten(casus_id=g.casus_id)  # to every partition of the index
