"""Inzage (AVG art. 15): for one subject, every signal about it, where each was routed, the casussen
it is linked to, and every read of those signals and casussen from the audit log; as JSON and as
a page a person can read. Built from what the executor's reader opened (`engine.vergeten.Overzicht`)
and the audit records; no Kafka here.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import msgspec

from engine.domain.vergeten.overzicht import Overzicht, genoemd_in, over
from engine.events.signaal import Locatie
from engine.events.signaal_ontvangen import PseudoSubject


class Signaalinzage(msgspec.Struct, frozen=True, kw_only=True):
    signaal_id: str
    bron: str
    soort: str
    gemeld_op: datetime
    ontvangen_op: datetime
    themas: list[str]
    omschrijving: str
    locatie: Locatie | None
    subjecten: list[PseudoSubject]
    routes: list[str]
    """Every destination the signal was routed to (`routes.<bestemming>`)."""
    casussen: dict[str, str]
    """casus_id → RIEC of every casus it is linked to."""


class Genoemd(msgspec.Struct, frozen=True, kw_only=True):
    """A casus, HKP or ondermijningsbeeld that names the subject itself (among its subjects or in
    its name), not only through a linked signal."""

    aggregaat: str
    """`casus:<id>`, `hkp:<id>` or `beeld:<id>`."""
    riec: str
    naam: str


class Lezing(msgspec.Struct, frozen=True, kw_only=True):
    """One read of signals or casussen, as the audit log holds it
    (`engine.api.audit.als_lezing`)."""

    door: str
    op: datetime
    wat: str
    signaal_ids: list[str]
    casus_ids: list[str]


class Inzage(msgspec.Struct, frozen=True, kw_only=True):
    soort: str
    """What kind of subject was asked about (persoon, kvk, kenteken, adres); not the identifier
    itself: the asker knows it, and an answer after an erasure must not hold it."""
    opgesteld_op: datetime
    opgesteld_door: str
    signalen: list[Signaalinzage]
    genoemd_in: list[Genoemd]
    lezingen: list[Lezing]


def ids_van(overzicht: Overzicht, identificator: str) -> tuple[set[str], set[str]]:
    """The ids of what an inzage shows of one subject: its signals, and the casussen they are linked
    to or that name it; a read of any of them belongs in the export."""
    signalen = over(overzicht, identificator)
    casussen = {c for s in signalen for c in s.casussen}
    casussen |= {
        a.aggregaat.removeprefix("casus:")
        for a in genoemd_in(overzicht, identificator)
        if a.aggregaat.startswith("casus:")
    }
    return {s.signaal_id for s in signalen}, casussen


def stel_op(overzicht: Overzicht, identificator: str, audit: list[Lezing], door: str, nu: datetime) -> Inzage:
    """The export for one subject: its signals, their routes and casussen, the casussen, HKPs and
    beelden that name it, and the reads (from the audit log) that showed one of those signals or
    casussen, each with the ids of the subject's it showed."""
    signalen = [
        Signaalinzage(
            signaal_id=s.signaal_id,
            bron=s.signaal.bron,
            soort=s.signaal.soort,
            gemeld_op=s.signaal.gemeld_op,
            ontvangen_op=s.ontvangen_op,
            themas=s.signaal.themas,
            omschrijving=s.signaal.omschrijving,
            locatie=s.signaal.locatie,
            subjecten=s.signaal.subjecten,
            routes=sorted(s.bestemmingen),
            casussen=dict(s.casussen),
        )
        for s in over(overzicht, identificator)
        if s.signaal is not None
    ]
    genoemd = [
        Genoemd(aggregaat=a.aggregaat, riec=a.riec, naam=a.naam) for a in genoemd_in(overzicht, identificator)
    ]
    ids, casussen = ids_van(overzicht, identificator)
    lezingen = [
        msgspec.structs.replace(
            lz, signaal_ids=sorted(set(lz.signaal_ids) & ids), casus_ids=sorted(set(lz.casus_ids) & casussen)
        )
        for lz in audit
        if set(lz.signaal_ids) & ids or set(lz.casus_ids) & casussen
    ]
    return Inzage(
        soort=identificator.split(":", 1)[0], opgesteld_op=nu, opgesteld_door=door, signalen=signalen,
        genoemd_in=genoemd, lezingen=sorted(lezingen, key=lambda lz: (lz.op, lz.door)),
    )  # fmt: skip


def _cel(waarde: Any) -> str:
    if isinstance(waarde, list | dict):
        waarde = msgspec.json.encode(waarde).decode()
    return f"<td>{html.escape(str(waarde))}</td>"


def als_html(inzage: Inzage) -> str:
    """The export as a page a person reads: every value escaped, no script, no outside resource."""
    rijen = "".join(
        "<tr>" + "".join(_cel(v) for v in msgspec.to_builtins(s).values()) + "</tr>" for s in inzage.signalen
    )
    koppen = "".join(f"<th>{html.escape(k)}</th>" for k in Signaalinzage.__struct_fields__)
    lezingen = "".join(
        "<tr>" + "".join(_cel(v) for v in msgspec.to_builtins(lz).values()) + "</tr>"
        for lz in inzage.lezingen
    )
    lkoppen = "".join(f"<th>{html.escape(k)}</th>" for k in Lezing.__struct_fields__)
    genoemd = "".join(
        "<tr>" + "".join(_cel(v) for v in msgspec.to_builtins(g).values()) + "</tr>"
        for g in inzage.genoemd_in
    )
    gkoppen = "".join(f"<th>{html.escape(k)}</th>" for k in Genoemd.__struct_fields__)
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Inzage</title></head><body>'
        f"<h1>Inzage ({html.escape(inzage.soort)})</h1>"
        f"<p>Opgesteld op {inzage.opgesteld_op.isoformat()} door {html.escape(inzage.opgesteld_door)}.</p>"
        f"<h2>Signalen ({len(inzage.signalen)})</h2><table><tr>{koppen}</tr>{rijen}</table>"
        f"<h2>Genoemd in ({len(inzage.genoemd_in)})</h2><table><tr>{gkoppen}</tr>{genoemd}</table>"
        f"<h2>Inzage door anderen ({len(inzage.lezingen)})</h2><table><tr>{lkoppen}</tr>{lezingen}</table>"
        "</body></html>"
    )
