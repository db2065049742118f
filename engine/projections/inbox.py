"""Inboxes: the routed signals of each destination (RIEC, LFT, LIEC loket or triage, EURIEC),
newest first, paged. A fold over the route topics."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import orjson

from engine.jaarverslag import partnergroep_inbreng
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


_KOP = msgspec.json.Decoder(_Kop)
TEGELS = {
    "handhavingsknelpunt": ("handhavingsknelpunt", "handhavingsknelpunt_begrensd"),
    "open_casus": ("open_casus", "open_casus_begrensd"),
}
"""The dashboard's tiles: messages with a reason of these rules (each message once)."""
_TEGEL_VAN = {regel: tegel for tegel, regels in TEGELS.items() for regel in regels}


class Inbox:
    """Keeps in memory only what is small and asked for often: per destination how many messages
    it has (the paging cursor and the ETag) and how many per week (the chart). The messages
    themselves, as the bytes they arrived as, are in the store (`Opslag`) and are decoded only when a
    page is read: all of them in memory took about 800 MB per worker at 1M identifiers (and decoded
    dicts made the fold spend its time in allocation and the garbage collector)."""

    def __init__(self, opslag: Opslag | None = None) -> None:
        self._opslag = opslag if opslag is not None else Opslag()
        self._aantal: dict[str, int] = {}
        self._weken: dict[str, Counter[str]] = {}
        self._tegels: dict[str, Counter[str]] = {}
        self.behandeld_versie = 0
        """Grows with every handled mark: part of the ETag, so that a page shows a mark at once."""

    def pas_toe(self, bestemming: str, bericht: bytes) -> None:
        # By the partner's ce_time: when the signal was reported, also for a backlog sent later.
        # Decoded before anything changes, so a message that cannot be read changes nothing.
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
        nr = self._aantal.get(bestemming, 0)
        self._opslag.voeg_toe(bestemming, nr, bericht, kenmerken)
        self._aantal[bestemming] = nr + 1
        weken = self._weken.get(bestemming)
        if weken is None:
            weken = self._weken[bestemming] = Counter()
        weken[f"{jaar}-W{week:02d}"] += 1
        tegels = self._tegels.get(bestemming)
        if tegels is None:
            tegels = self._tegels[bestemming] = Counter()
        for tegel in {t for r in regels if (t := _TEGEL_VAN.get(r)) is not None}:
            tegels[tegel] += 1

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
        """Grows with every message: what a dashboard's ETag is made of."""
        return self._aantal.get(bestemming, 0)

    def pagina(self, bestemming: str, limit: int, voor: str | None = None) -> Pagina:
        """Up to `limit` messages, newest first, older than cursor `voor` (from a previous page)."""
        totaal = self._aantal.get(bestemming, 0)
        begin, eind = paginagrenzen(totaal, limit, voor)
        gelezen = [orjson.loads(b) for b in self._opslag.berichten(bestemming, begin, eind)]
        return Pagina(gelezen, str(begin) if begin > 0 else None, totaal)

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


def paginagrenzen(totaal: int, limit: int, voor: str | None) -> tuple[int, int]:
    """The messages `begin` up to `eind` (numbered from 0, oldest first) of the page of at most
    `limit` before cursor `voor`: a cursor is the number of the oldest message on the page before,
    so pages stay put while new messages arrive; one past the end is held to the end."""
    eind = totaal if voor is None else max(0, min(int(voor), totaal))
    return max(0, eind - limit), eind
