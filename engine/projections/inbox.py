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

from engine.projections.opslag import Opslag


@dataclass(frozen=True, slots=True)
class Pagina:
    items: list[dict[str, Any]]
    volgende: str | None
    """Cursor of the next (older) page, or None on the last page."""
    totaal: int


class _Week(msgspec.Struct):
    """The only fields of a routed message the weekly chart needs (decoding skips the rest)."""

    ontvangen_op: datetime
    gemeld_op: datetime | None = None


_WEEK = msgspec.json.Decoder(_Week)


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

    def pas_toe(self, bestemming: str, bericht: bytes) -> None:
        # By the partner's ce_time: when the signal was reported, also for a backlog sent later.
        # Decoded before anything changes, so a message that cannot be read changes nothing.
        w = _WEEK.decode(bericht)
        jaar, week, _ = (w.gemeld_op or w.ontvangen_op).isocalendar()
        nr = self._aantal.get(bestemming, 0)
        self._opslag.voeg_toe(bestemming, nr, bericht)
        self._aantal[bestemming] = nr + 1
        weken = self._weken.get(bestemming)
        if weken is None:
            weken = self._weken[bestemming] = Counter()
        weken[f"{jaar}-W{week:02d}"] += 1

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
