"""Inboxes: the routed signals of each destination (RIEC, LFT, LIEC loket or triage, EURIEC),
newest first, paged. A fold over the route topics: a routed message adds a signal, its withdrawal
(`RouteIngetrokken`: erased or expired) takes it out again as if it had never come."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import orjson

from engine.events.route import INTREKKING_DECODER, ROUTE_INGETROKKEN_TYPE
from engine.projections.jaarverslag import partnergroep_inbreng
from engine.projections.opslag import Filter, Kenmerken, Opslag


@dataclass(frozen=True, slots=True)
class Pagina:
    items: list[dict[str, Any]]
    volgende: str | None
    """Cursor of the next (older) page, or None on the last page."""
    totaal: int


class _Regel(msgspec.Struct):
    regel: str


class _Kop(msgspec.Struct):
    """The only fields of a routed message the chart, the tiles and the filters need (decoding
    skips the rest)."""

    ontvangen_op: datetime
    gemeld_op: datetime | None = None
    signaal_id: str = ""
    themas: list[str] = []
    redenen: list[_Regel] = []


class _Vorm(msgspec.Struct):
    """Only whether a record is a withdrawal, for a record read without its headers."""

    ingetrokken_op: object = None


_KOP = msgspec.json.Decoder(_Kop)
_VORM = msgspec.json.Decoder(_Vorm)
TEGELS = {
    "handhavingsknelpunt": ("handhavingsknelpunt", "handhavingsknelpunt_begrensd"),
    "open_casus": ("open_casus", "open_casus_begrensd"),
}
"""The dashboard's tiles: messages with a reason of these rules (each message once)."""
_TEGEL_VAN = {regel: tegel for tegel, regels in TEGELS.items() for regel in regels}


class Inbox:
    """Keeps in memory only what is small and asked for often: per destination how many messages
    it has, the number of its next one, its ETag's version and how many per week (the chart). The
    messages themselves, as the bytes they arrived as, are in the store (`Opslag`) and are decoded
    only when a page is read: all of them in memory took about 800 MB per worker at 1M identifiers
    (and decoded dicts made the fold spend its time in allocation and the garbage collector)."""

    def __init__(self, opslag: Opslag | None = None) -> None:
        self._opslag = opslag if opslag is not None else Opslag()
        self._aantal: dict[str, int] = {}
        """Messages present per destination (none: no entry, as if the destination was never seen)."""
        self._volgend: dict[str, int] = {}
        """The number of the next message per destination: never reused, so that a withdrawal leaves
        a gap and cursors of pages already read keep their place."""
        self._versies: dict[str, int] = {}
        self._weken: dict[str, Counter[str]] = {}
        self._tegels: dict[str, Counter[str]] = {}
        self.behandeld_versie = 0
        """Grows with every handled mark: part of the ETag, so that a page shows a mark at once."""

    def pas_toe(self, bestemming: str, bericht: bytes, headers: Sequence[tuple[str, bytes]] = ()) -> None:
        """Fold one record of `routes.<bestemming>`: a routed message, or its withdrawal (by its
        ce_type; by its fields for a record read without headers). Raises when it cannot be read,
        before anything changed."""
        if _is_intrekking(bericht, headers):
            self.trek_in(bestemming, INTREKKING_DECODER.decode(bericht).signaal_id)
            return
        # Decoded before anything changes, so a message that cannot be read changes nothing.
        week, tegels, kenmerken = _lees(bericht)
        nr = self._volgend.get(bestemming, 0)
        self._opslag.voeg_toe(bestemming, nr, bericht, kenmerken)
        self._volgend[bestemming] = nr + 1
        self._aantal[bestemming] = self._aantal.get(bestemming, 0) + 1
        self._versies[bestemming] = self._versies.get(bestemming, 0) + 1
        weken = self._weken.get(bestemming)
        if weken is None:
            weken = self._weken[bestemming] = Counter()
        weken[week] += 1
        teller = self._tegels.get(bestemming)
        if teller is None:
            teller = self._tegels[bestemming] = Counter()
        for tegel in tegels:
            teller[tegel] += 1

    def trek_in(self, bestemming: str, signaal_id: str) -> None:
        """A signal was withdrawn from a destination: its messages leave the store and every count.
        The state is then what it would be had the messages never come, so a replay of a compacted
        route topic (the withdrawal only) equals the live fold; a withdrawal of a signal not in the
        inbox changes nothing. Handled marks (ids, from the casus log) stay, as they would have come
        without the message too; they show only beside a message the inbox holds."""
        for bericht in self._opslag.verwijder(bestemming, signaal_id):
            week, tegels, _ = _lees(bericht)
            _neem_terug(self._weken, bestemming, [week])
            _neem_terug(self._tegels, bestemming, tegels)
            self._aantal[bestemming] -= 1
            if not self._aantal[bestemming]:
                del self._aantal[bestemming]
            self._versies[bestemming] = self._versies.get(bestemming, 0) + 1

    def behandel(self, riec: str, signaal_id: str, casus_id: str, status: str) -> None:
        """A signal of a RIEC's inbox was linked to a casus (`gekoppeld`) or its candidate link to a
        casus rejected (`afgewezen`): from the casus log, in whatever order it meets the routes."""
        self._opslag.behandel(riec, signaal_id, casus_id, status)
        self.behandeld_versie += 1

    def tellingen(self, bestemming: str) -> dict[str, int]:
        """The tiles over the whole inbox: every message, by rule, and (a RIEC's) handled signals."""
        tegels = self._tegels.get(bestemming, Counter())
        uit = {"totaal": self._aantal.get(bestemming, 0), **{t: tegels[t] for t in TEGELS}}
        if bestemming.startswith("riec."):
            uit["behandeld"] = self._opslag.aantal_behandeld(bestemming.removeprefix("riec."))
        return uit

    def gefilterde_pagina(self, bestemming: str, filter_: Filter, limit: int, voor: str | None) -> Pagina:
        """Up to `limit` messages matching `filter_`, newest first, older than cursor `voor`."""
        if filter_.leeg:
            return self.pagina(bestemming, limit, voor)
        g = self._opslag.gefilterd(bestemming, filter_, limit, None if voor is None else int(voor))
        volgende = None if g.volgende is None else str(g.volgende)
        return Pagina([orjson.loads(b) for b in g.berichten], volgende, g.totaal)

    def bericht(self, bestemming: str, signaal_id: str) -> dict[str, Any] | None:
        """The message of a destination about one signal (the newest, should it have been routed
        there twice), or None."""
        gevonden = self._opslag.zoek(bestemming, signaal_id)
        return None if gevonden is None else dict(orjson.loads(gevonden))

    def behandeling(self, bestemming: str, signaal_ids: list[str]) -> dict[str, list[dict[str, str]]]:
        """How each of these signals was handled by the destination's RIEC (none for an LFT)."""
        if not bestemming.startswith("riec."):
            return {}
        return self._opslag.behandeling(bestemming.removeprefix("riec."), signaal_ids)

    def versie(self, bestemming: str) -> int:
        """Grows with every message and every withdrawal: what a dashboard's ETag is made of."""
        return self._versies.get(bestemming, 0)

    def pagina(self, bestemming: str, limit: int, voor: str | None = None) -> Pagina:
        """Up to `limit` messages, newest first, older than cursor `voor` (from a previous page): the
        number of the oldest message on that page, so pages stay put while new messages arrive."""
        cursor = None if voor is None else int(voor)
        g = self._opslag.gefilterd(bestemming, Filter(), limit, cursor, tel=False)
        volgende = None if g.volgende is None else str(g.volgende)
        return Pagina([orjson.loads(b) for b in g.berichten], volgende, self._aantal.get(bestemming, 0))

    def per_week(self, bestemming: str) -> dict[str, int]:
        """Signals reported per ISO week (`2026-W09`), for the dashboard's chart."""
        return dict(sorted(self._weken.get(bestemming, Counter()).items()))

    def canoniek(self) -> dict[str, list[dict[str, Any]]]:
        """Every message decoded, per destination: for tests; the hash is `canonieke_hash`."""
        return {k: [orjson.loads(b) for b in self._opslag.alle_berichten(k)] for k in sorted(self._aantal)}

    def canonieke_hash(self) -> str:
        """SHA-256 of `canoniek()` as JSON with sorted keys, computed one message at a time, so
        that hashing a million messages does not hold them all (the same bytes as dumping it whole)."""
        h = hashlib.sha256(b"{")
        for i, bestemming in enumerate(sorted(self._aantal)):
            h.update(b"," if i else b"")
            h.update(orjson.dumps(bestemming) + b":[")
            for j, bericht in enumerate(self._opslag.alle_berichten(bestemming)):
                h.update(b"," if j else b"")
                h.update(orjson.dumps(orjson.loads(bericht), option=orjson.OPT_SORT_KEYS))
            h.update(b"]")
        h.update(b"}")
        return h.hexdigest()


def _is_intrekking(bericht: bytes, headers: Sequence[tuple[str, bytes]]) -> bool:
    for naam, waarde in headers:
        if naam == "ce_type":
            return waarde == ROUTE_INGETROKKEN_TYPE.encode()
    return _VORM.decode(bericht).ingetrokken_op is not None


def _lees(bericht: bytes) -> tuple[str, set[str], Kenmerken]:
    """A routed message's ISO week (by the partner's ce_time: when the signal was reported, also for
    a backlog sent later), its tiles and what it is filtered by: the same when it is withdrawn."""
    w = _KOP.decode(bericht)
    gemeld = w.gemeld_op or w.ontvangen_op
    jaar, week, _ = gemeld.isocalendar()
    regels = tuple(dict.fromkeys(r.regel for r in w.redenen))
    kenmerken = Kenmerken(
        signaal_id=w.signaal_id,
        datum=gemeld.date().isoformat(),  # in the sender's own offset: any moment converts
        partnergroep=partnergroep_inbreng(w.signaal_id) if w.signaal_id else "",
        themas=tuple(w.themas),
        regels=regels,
    )
    tegels = {t for r in regels if (t := _TEGEL_VAN.get(r)) is not None}
    return f"{jaar}-W{week:02d}", tegels, kenmerken


def _neem_terug(tellers: dict[str, Counter[str]], bestemming: str, sleutels: Iterable[str]) -> None:
    """Count a withdrawn message out again; a count at zero goes, as if never counted."""
    teller = tellers[bestemming]
    for sleutel in sleutels:
        teller[sleutel] -= 1
        if teller[sleutel] <= 0:
            del teller[sleutel]
