"""Inboxes: the routed signals of each destination (RIEC, LFT, LIEC loket or triage, EURIEC),
newest first, paged. A fold over the route topics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Pagina:
    items: list[dict[str, Any]]
    volgende: str | None
    """Cursor of the next (older) page, or None on the last page."""
    totaal: int


class Inbox:
    def __init__(self) -> None:
        self._per_bestemming: dict[str, list[dict[str, Any]]] = {}

    def pas_toe(self, bestemming: str, bericht: dict[str, Any]) -> None:
        self._per_bestemming.setdefault(bestemming, []).append(bericht)

    def versie(self, bestemming: str) -> int:
        """Grows with every message: what a dashboard's ETag is made of."""
        return len(self._per_bestemming.get(bestemming, ()))

    def pagina(self, bestemming: str, limit: int, voor: str | None = None) -> Pagina:
        """Up to `limit` messages, newest first, older than cursor `voor` (from a previous page)."""
        items = self._per_bestemming.get(bestemming, [])
        eind = len(items) if voor is None else max(0, min(int(voor), len(items)))
        begin = max(0, eind - limit)
        return Pagina(items[begin:eind][::-1], str(begin) if begin > 0 else None, len(items))

    def per_week(self, bestemming: str) -> dict[str, int]:
        """Signals reported per ISO week (`2026-W09`), for the dashboard's chart."""
        weken: Counter[str] = Counter()
        for item in self._per_bestemming.get(bestemming, ()):
            # By the partner's ce_time: when the signal was reported, also for a backlog sent later.
            jaar, week, _ = datetime.fromisoformat(
                item.get("gemeld_op") or item["ontvangen_op"]
            ).isocalendar()
            weken[f"{jaar}-W{week:02d}"] += 1
        return dict(sorted(weken.items()))

    def canoniek(self) -> dict[str, list[dict[str, Any]]]:
        return {k: v for k, v in sorted(self._per_bestemming.items())}
