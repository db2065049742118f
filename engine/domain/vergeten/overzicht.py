"""Forgetting, the domain part (docs/vergeten.md): which signals an erasure or a retention period
reaches, and the records that say what was forgotten. No Kafka here: the executor
(`engine.handlers.vergeten`) reads the logs into an `Overzicht`, asks this module, and writes.

A signal is forgotten by destroying its data key; what must follow (its routes withdrawn, its
identifiers out of the open-casus index and out of vastleggen's state) follows from the ids here.
The records carry ids, rules and times only: never the subject that was erased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import get_args

from engine.domain.identificatoren import van_signaal
from engine.events.signaal_ontvangen import SignaalOntvangen
from engine.events.vergeten import Regel


@dataclass(slots=True)
class Signaalspoor:
    """Where one signal left traces: what the executor needs to forget it, or to show it (inzage)."""

    signaal_id: str
    partitie: int
    """Its partition of the signal log and of the key store."""
    ontvangen_op: datetime
    leesbaar: bool = True
    """False once its key is destroyed: it is forgotten."""
    signaal: SignaalOntvangen | None = None
    """Opened, when the reader was asked to keep it (an erasure's or an inzage's signals)."""
    bestemmingen: list[str] = field(default_factory=list)
    casussen: dict[str, str] = field(default_factory=dict)
    """casus_id → riec of every casus the signal is linked to (confirmed)."""


@dataclass(slots=True)
class Aggregaatspoor:
    """A casus, HKP or beeld: whether its data key is still there, and, opened when the reader was
    asked to (an erasure's, an inzage's), its name and the identifiers of the subjects it names."""

    aggregaat: str
    """`casus:<id>`, `hkp:<id>` or `beeld:<id>`: its key's id, and the key of its events."""
    riec: str
    leesbaar: bool = True
    naam: str = ""
    identificatoren: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Overzicht:
    """The signals the logs hold, opened with the keys there are, and the casussen they are in."""

    signalen: dict[str, Signaalspoor] = field(default_factory=dict)
    gesloten: dict[str, datetime] = field(default_factory=dict)
    """casus_id → when it closed."""
    aggregaten: dict[str, Aggregaatspoor] = field(default_factory=dict)

    def leesbaar(self) -> list[Signaalspoor]:
        return [s for s in self.signalen.values() if s.leesbaar]


_SCHEIDING = re.compile(r"[\s-]")


def _waarde(identificator: str) -> str:
    return _SCHEIDING.sub("", identificator.split(":", 1)[1]).upper()


def noemt(signaal: SignaalOntvangen, identificator: str) -> bool:
    """Whether the signal is about the subject: one of its identifiers, or its value in the free
    text (a BSN there is already its pseudonym, `[persoon:<pseudonym>]`; a kenteken with or without
    dashes)."""
    if identificator in van_signaal(signaal):
        return True
    return _waarde(identificator) in _SCHEIDING.sub("", signaal.omschrijving).upper()


def noemt_aggregaat(a: Aggregaatspoor, identificator: str) -> bool:
    """Whether a casus, HKP or beeld names the subject: among its subjects, or in its name."""
    if identificator in a.identificatoren:
        return True
    return _waarde(identificator) in _SCHEIDING.sub("", a.naam).upper()


def genoemd_in(overzicht: Overzicht, identificator: str) -> list[Aggregaatspoor]:
    """Every readable casus, HKP and beeld that names the subject, by key."""
    return sorted(
        (a for a in overzicht.aggregaten.values() if a.leesbaar and noemt_aggregaat(a, identificator)),
        key=lambda a: a.aggregaat,
    )


def over(overzicht: Overzicht, identificator: str) -> list[Signaalspoor]:
    """Every readable signal about the subject, by id."""
    return sorted(
        (s for s in overzicht.leesbaar() if s.signaal is not None and noemt(s.signaal, identificator)),
        key=lambda s: s.signaal_id,
    )


def verlopen(overzicht: Overzicht, termijnen: dict[Regel, timedelta], nu: datetime) -> dict[Regel, list[str]]:
    """The readable signals whose period ran out, by rule: a signal in no casus two years (by
    default) after its receipt; a signal in a casus when the last of its casussen has been closed
    for five years (one still open keeps it)."""
    uit: dict[Regel, list[str]] = {"signaal_zonder_casus": [], "signaal_in_casus": []}
    for s in overzicht.leesbaar():
        if not s.casussen:
            if nu - s.ontvangen_op >= termijnen["signaal_zonder_casus"]:
                uit["signaal_zonder_casus"].append(s.signaal_id)
            continue
        sluitingen = [overzicht.gesloten.get(c) for c in s.casussen]
        if all(t is not None for t in sluitingen):
            laatste = max(t for t in sluitingen if t is not None)
            if nu - laatste >= termijnen["signaal_in_casus"]:
                uit["signaal_in_casus"].append(s.signaal_id)
    return {regel: sorted(ids) for regel, ids in uit.items() if ids}


def verlopen_casussen(overzicht: Overzicht, termijn: timedelta, nu: datetime) -> list[str]:
    """The readable casussen (`casus:<id>`) closed for longer than the `casus` rule's period: their
    names and subjects are forgotten; their counts stay."""
    return sorted(
        f"casus:{casus_id}"
        for casus_id, gesloten in overzicht.gesloten.items()
        if nu - gesloten >= termijn
        and (a := overzicht.aggregaten.get(f"casus:{casus_id}")) is not None
        and a.leesbaar
    )


def termijnwijziging(onderwerp: str) -> tuple[Regel, float] | None:
    """`<regel>=<dagen>` of a request to change a retention period; None when it is not one."""
    regel, _, dagen = onderwerp.partition("=")
    if regel not in get_args(Regel):
        return None
    try:
        waarde = float(dagen)
    except ValueError:
        return None
    return (regel, waarde) if 0 < waarde < 100 * 366 else None  # type: ignore[return-value]  # checked above
