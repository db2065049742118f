"""The open-casus index: identifier → the open casussen that have it.

The zoekindex stage keeps it partitioned by identifier (the single writer of its changelog); every
routing worker holds the whole of it, read from that changelog. A lookup is one dict access: the
cost per signal does not grow with the number of open casussen. Closed casussen are remembered, so that
an identifier arriving late for a casus already closed is not added back.

Fan-out is bounded (`kies`): a signal's routing slip names each casus once, however many of its
identifiers the casus shares, takes at most `MAX_NIEUW_PER_IDENTIFICATOR` new casussen per
identifier and `MAX_MATCHES_PER_SIGNAAL` in all. Seventy casussen naming the same hundred
kentekens made one slip of 7,000 matches, past Kafka's 1 MiB. A cap never changes where a signal
goes: a casus of a RIEC the slip has not reached yet is always taken (at most one per RIEC, so at
most ten more); it only bounds how many casussen the reasons name, and the routes then say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from engine.events.matching import CasusMatch

MAX_NIEUW_PER_IDENTIFICATOR = 25
MAX_MATCHES_PER_SIGNAAL = 100


def kies(
    kandidaten: Iterable[CasusMatch],
    al: Sequence[CasusMatch] = (),
    max_nieuw: int = MAX_NIEUW_PER_IDENTIFICATOR,
) -> tuple[list[CasusMatch], bool]:
    """The candidates to add to a slip that already holds `al`, and whether any was left out.

    Called for every identifier a slip visits, and once more when it is routed (for slips written
    before these caps). Casussen already in the slip are skipped; a casus of a RIEC not yet reached
    is always taken; others while there is room (`max_nieuw`, and `MAX_MATCHES_PER_SIGNAAL` in all).
    """
    gezien = {m.casus_id for m in al}
    riecs = {m.riec for m in al}
    ruimte = max(0, min(max_nieuw, MAX_MATCHES_PER_SIGNAAL - len(al)))
    gekozen: dict[str, CasusMatch] = {}
    overige: list[CasusMatch] = []
    for m in kandidaten:
        if m.casus_id in gezien or m.casus_id in gekozen:
            continue
        if m.riec not in riecs:
            riecs.add(m.riec)
            gekozen[m.casus_id] = m
        else:
            overige.append(m)
    begrensd = False
    for m in overige:
        if m.casus_id in gekozen:
            continue
        if len(gekozen) >= ruimte:
            begrensd = True
            break
        gekozen[m.casus_id] = m
    return sorted(gekozen.values(), key=lambda m: m.casus_id), begrensd


def zoek_alle(index: CasusIndex, identificatoren: Iterable[str]) -> tuple[list[CasusMatch], bool]:
    """The open casussen a signal with these identifiers matches (each once, capped as `kies`
    says), and whether a cap left any out."""
    matches: list[CasusMatch] = []
    begrensd = False
    for ident in identificatoren:
        nieuw, weg = kies(index.kandidaten(ident), matches)
        matches += nieuw
        begrensd = begrensd or weg
    return matches, begrensd


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

    def wis(self, identificator: str) -> bool:
        """Drop an erased subject's identifier from every casus; False when it was not there."""
        casussen = self._per_id.pop(identificator, None)
        for casus_id in casussen or {}:
            self._per_casus.get(casus_id, set()).discard(identificator)
        return casussen is not None

    def zoek(self, identificator: str) -> list[CasusMatch]:
        """Every open casus with this identifier, by casus id."""
        return list(self.kandidaten(identificator))

    def kandidaten(self, identificator: str) -> Iterator[CasusMatch]:
        casussen = self._per_id.get(identificator, {})
        for c, r in sorted(casussen.items()):
            yield CasusMatch(casus_id=c, riec=r, identificator=identificator)

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
