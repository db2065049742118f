"""One partition's share of the open-casus index: identifier → the open casussen that have it.

Partitioned by identifier, so a lookup is one dict access wherever the identifier lives: the cost
per signal does not grow with the number of open casussen. Closed casussen are remembered, so that
an identifier arriving late for a casus already closed is not added back.
"""

from __future__ import annotations

from engine.events.matching import CasusMatch


class CasusIndex:
    def __init__(self) -> None:
        self._per_id: dict[str, dict[str, str]] = {}
        self._per_casus: dict[str, set[str]] = {}
        self._gesloten: set[str] = set()

    def __len__(self) -> int:
        return len(self._per_id)

    def voeg_toe(self, identificator: str, casus_id: str, riec: str) -> bool:
        """Add an identifier of an open casus; False when nothing changed."""
        if casus_id in self._gesloten:
            return False
        casussen = self._per_id.setdefault(identificator, {})
        if casussen.get(casus_id) == riec:
            return False
        casussen[casus_id] = riec
        self._per_casus.setdefault(casus_id, set()).add(identificator)
        return True

    def sluit(self, casus_id: str) -> list[str]:
        """Drop a closed casus; returns the identifiers whose entry changed."""
        self._gesloten.add(casus_id)
        gewijzigd = sorted(self._per_casus.pop(casus_id, set()))
        for identificator in gewijzigd:
            casussen = self._per_id[identificator]
            del casussen[casus_id]
            if not casussen:
                del self._per_id[identificator]
        return gewijzigd

    def zoek(self, identificator: str) -> list[CasusMatch]:
        casussen = self._per_id.get(identificator, {})
        return [
            CasusMatch(casus_id=c, riec=r, identificator=identificator) for c, r in sorted(casussen.items())
        ]

    def stand(self, identificator: str) -> dict[str, str]:
        """The current entry of an identifier (for the changelog); empty when none."""
        return dict(self._per_id.get(identificator, {}))

    def herstel(self, identificator: str, casussen: dict[str, str]) -> None:
        """Restore an identifier's entry from the changelog."""
        for casus_id in self._per_id.pop(identificator, {}):
            self._per_casus.get(casus_id, set()).discard(identificator)
        if casussen:
            self._per_id[identificator] = dict(casussen)
            for casus_id in casussen:
                self._per_casus.setdefault(casus_id, set()).add(identificator)

    def herstel_gesloten(self, casus_id: str) -> None:
        self._gesloten.add(casus_id)
