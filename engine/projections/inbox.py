"""Inboxes: the routed signals of each destination (RIEC, LFT, LIEC loket or triage, EURIEC),
newest first, paged. A fold over the route topics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import orjson


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
    """Keeps each routed message as the bytes it arrived as and decodes only what is read: a page,
    or the two dates of the weekly chart. Millions of decoded dicts made the fold (and a replay)
    spend its time in allocation and the garbage collector's passes over them."""

    def __init__(self) -> None:
        self._per_bestemming: dict[str, list[bytes]] = {}
        self._weken: dict[str, Counter[str]] = {}

    def pas_toe(self, bestemming: str, bericht: bytes) -> None:
        # By the partner's ce_time: when the signal was reported, also for a backlog sent later.
        # Decoded before anything changes, so a message that cannot be read changes nothing.
        w = _WEEK.decode(bericht)
        jaar, week, _ = (w.gemeld_op or w.ontvangen_op).isocalendar()
        self._per_bestemming.setdefault(bestemming, []).append(bericht)
        self._weken.setdefault(bestemming, Counter())[f"{jaar}-W{week:02d}"] += 1

    def versie(self, bestemming: str) -> int:
        """Grows with every message: what a dashboard's ETag is made of."""
        return len(self._per_bestemming.get(bestemming, ()))

    def pagina(self, bestemming: str, limit: int, voor: str | None = None) -> Pagina:
        """Up to `limit` messages, newest first, older than cursor `voor` (from a previous page)."""
        items = self._per_bestemming.get(bestemming, [])
        eind = len(items) if voor is None else max(0, min(int(voor), len(items)))
        begin = max(0, eind - limit)
        gelezen = [orjson.loads(b) for b in items[begin:eind][::-1]]
        return Pagina(gelezen, str(begin) if begin > 0 else None, len(items))

    def per_week(self, bestemming: str) -> dict[str, int]:
        """Signals reported per ISO week (`2026-W09`), for the dashboard's chart."""
        return dict(sorted(self._weken.get(bestemming, Counter()).items()))

    def canoniek(self) -> dict[str, list[dict[str, Any]]]:
        return {k: [orjson.loads(b) for b in v] for k, v in sorted(self._per_bestemming.items())}
