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

from engine.events.matching import CasusMatch, Stand, Vermelding

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


EIGEN = ""
"""The source of an identifier that is one of the casus's own subjects (not a linked signal's)."""


class CasusIndex:
    """One partition of the index (zoekindex, `herkomst`: it remembers which linked signal brought
    which identifier to which casus), or a routing worker's copy of the whole (no sources: it only
    looks up)."""

    def __init__(self, herkomst: bool = True) -> None:
        self._per_id: dict[str, dict[str, str]] = {}
        self._per_casus: dict[str, set[str]] = {}
        self._gesloten: set[str] = set()
        self.herkomst = herkomst
        self._bronnen: dict[tuple[str, str], set[str]] = {}
        """(identifier, casus) → its sources (`EIGEN`, signal ids) when a linked signal brought it;
        an entry not here came from the casus's own subjects only (most of them: no set held)."""
        self._per_signaal: dict[str, set[tuple[str, str]]] = {}
        """signal id → the (identifier, casus) pairs it brought."""
        self._ingetrokken: set[str] = set()
        """Forgotten signals: what they bring after their withdrawal is not added (a link decided
        just before the erasure, committed just after it)."""

    def __len__(self) -> int:
        return len(self._per_id)

    def voeg_toe(self, identificator: str, casus_id: str, riec: str, signaal_id: str | None = None) -> bool:
        """Add an identifier of an open casus (one of its subjects, or one a linked signal brought);
        False when nothing changed."""
        if casus_id in self._gesloten or (signaal_id is not None and signaal_id in self._ingetrokken):
            return False
        casussen = self._per_id.setdefault(identificator, {})
        gewijzigd = casussen.get(casus_id) != riec
        if self.herkomst:
            bestond = casus_id in casussen
            gewijzigd = self._bron_erbij(identificator, casus_id, signaal_id or EIGEN, bestond) or gewijzigd
        casussen[casus_id] = riec
        self._per_casus.setdefault(casus_id, set()).add(identificator)
        return gewijzigd

    def _bron_erbij(self, identificator: str, casus_id: str, bron: str, bestond: bool) -> bool:
        paar = (identificator, casus_id)
        bronnen = self._bronnen.get(paar)
        if bronnen is None:
            if bron == EIGEN:
                return not bestond
            bronnen = {EIGEN} if bestond else set()
            self._bronnen[paar] = bronnen
        if bron in bronnen:
            return False
        bronnen.add(bron)
        if bron != EIGEN:
            self._per_signaal.setdefault(bron, set()).add(paar)
        return True

    def trek_in(self, signaal_id: str) -> list[str]:
        """A forgotten signal takes back every identifier it brought (an entry stays for a casus
        whose own subjects or other signals have it too); returns the identifiers whose entry changed."""
        self._ingetrokken.add(signaal_id)
        gewijzigd: set[str] = set()
        for paar in self._per_signaal.pop(signaal_id, set()):
            bronnen = self._bronnen.get(paar)
            if bronnen is None or signaal_id not in bronnen:
                continue
            bronnen.discard(signaal_id)
            gewijzigd.add(paar[0])
            if not bronnen:
                self._verwijder(*paar)
            elif bronnen == {EIGEN}:
                del self._bronnen[paar]
        return sorted(gewijzigd)

    def _verwijder(self, identificator: str, casus_id: str) -> None:
        casussen = self._per_id.get(identificator, {})
        casussen.pop(casus_id, None)
        if not casussen:
            self._per_id.pop(identificator, None)
        self._per_casus.get(casus_id, set()).discard(identificator)
        self._vergeet_bronnen(identificator, casus_id)

    def _vergeet_bronnen(self, identificator: str, casus_id: str) -> None:
        for bron in self._bronnen.pop((identificator, casus_id), set()) - {EIGEN}:
            paren = self._per_signaal.get(bron)
            if paren is not None:
                paren.discard((identificator, casus_id))
                if not paren:
                    del self._per_signaal[bron]

    def sluit(self, casus_id: str) -> list[str]:
        """Drop a closed casus; returns the identifiers whose entry changed."""
        self._gesloten.add(casus_id)
        gewijzigd = sorted(self._per_casus.pop(casus_id, set()))
        for identificator in gewijzigd:
            casussen = self._per_id[identificator]
            del casussen[casus_id]
            if not casussen:
                del self._per_id[identificator]
            self._vergeet_bronnen(identificator, casus_id)
        return gewijzigd

    def wis(self, identificator: str) -> bool:
        """Drop an erased subject's identifier from every casus; False when it was not there."""
        casussen = self._per_id.pop(identificator, None)
        for casus_id in casussen or {}:
            self._per_casus.get(casus_id, set()).discard(identificator)
            self._vergeet_bronnen(identificator, casus_id)
        return casussen is not None

    def zoek(self, identificator: str) -> list[CasusMatch]:
        """Every open casus with this identifier, by casus id."""
        return list(self.kandidaten(identificator))

    def kandidaten(self, identificator: str) -> Iterator[CasusMatch]:
        casussen = self._per_id.get(identificator, {})
        for c, r in sorted(casussen.items()):
            yield CasusMatch(casus_id=c, riec=r, identificator=identificator)

    def stand(self, identificator: str) -> Stand:
        """The current entry of an identifier (for the changelog); empty when none."""
        stand: Stand = {}
        for casus_id, riec in self._per_id.get(identificator, {}).items():
            bronnen = self._bronnen.get((identificator, casus_id))
            if bronnen is None:
                stand[casus_id] = riec
            else:
                signalen = sorted(bronnen - {EIGEN})
                stand[casus_id] = Vermelding(riec=riec, eigen=EIGEN in bronnen, signalen=signalen)
        return stand

    def herstel(self, identificator: str, stand: Stand) -> None:
        """Restore an identifier's entry from the changelog."""
        for casus_id in self._per_id.pop(identificator, {}):
            self._per_casus.get(casus_id, set()).discard(identificator)
            self._vergeet_bronnen(identificator, casus_id)
        if not stand:
            return
        casussen: dict[str, str] = {}
        for casus_id, waarde in stand.items():
            if isinstance(waarde, str):
                casussen[casus_id] = waarde
                continue
            casussen[casus_id] = waarde.riec
            if self.herkomst:
                paar = (identificator, casus_id)
                self._bronnen[paar] = {*waarde.signalen, *([EIGEN] if waarde.eigen else [])}
                for s in waarde.signalen:
                    self._per_signaal.setdefault(s, set()).add(paar)
        self._per_id[identificator] = casussen
        for casus_id in casussen:
            self._per_casus.setdefault(casus_id, set()).add(identificator)

    def herstel_gesloten(self, casus_id: str) -> None:
        self._gesloten.add(casus_id)

    def herstel_ingetrokken(self, signaal_id: str) -> None:
        if self.herkomst:
            self._ingetrokken.add(signaal_id)
