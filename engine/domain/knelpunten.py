"""The register of handhavingsknelpunten and rule 2: which active HKPs a signal matches.

Small by nature (tens per RIEC), so every worker holds all of it, folded from the HKP events.
Persons are matched on pseudonyms only, areas on PC4 or PC6, branches on SBI codes or prefixes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from engine.events.casus import (
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
    KnelpuntGebeurtenis,
)
from engine.events.signaal import Adres, Rechtspersoon, normaliseer_postcode
from engine.events.signaal_ontvangen import PersoonPseudoniem, SignaalOntvangen


@dataclass(frozen=True, slots=True)
class KnelpuntMatch:
    """An active HKP a signal matches, and why (without identifiers a reader may not see)."""

    hkp_id: str
    riec: str
    toelichting: str


class Knelpuntenregister:
    """Active handhavingsknelpunten, indexed for matching. Apply events in log order."""

    def __init__(self) -> None:
        self.positie = 0
        """How far along its log the register has read (the position of the next record to apply),
        set by whoever folds the log into it; a route names it, so one can tell which HKPs it saw."""
        self._hkps: dict[str, HandhavingsknelpuntAangewezen] = {}
        self._per_persoon: dict[str, set[str]] = defaultdict(set)
        self._per_postcode: dict[str, set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._hkps)

    def pas_toe(self, g: KnelpuntGebeurtenis) -> None:
        match g:
            case HandhavingsknelpuntAangewezen():
                self._hkps[g.hkp_id] = g
                for p in g.pseudoniemen:
                    self._per_persoon[p].add(g.hkp_id)
                for pc in g.postcodes:
                    self._per_postcode[normaliseer_postcode(pc)].add(g.hkp_id)
            case HandhavingsknelpuntBeeindigd():
                self.vergeet(g.hkp_id)

    def vergeet(self, hkp_id: str) -> None:
        """The HKP leaves the register: ended, or forgotten (its name and pseudonyms erased)."""
        ended = self._hkps.pop(hkp_id, None)
        if ended is None:
            return
        for index, sleutels in (
            (self._per_persoon, ended.pseudoniemen),
            (self._per_postcode, [normaliseer_postcode(pc) for pc in ended.postcodes]),
        ):
            for k in sleutels:
                index[k].discard(hkp_id)
                if not index[k]:
                    del index[k]  # no pseudonym of a forgotten HKP stays behind as a key

    def _geldig(self, hkp_id: str, dag: date) -> HandhavingsknelpuntAangewezen | None:
        hkp = self._hkps.get(hkp_id)
        if hkp is None or dag < hkp.geldig_van or (hkp.geldig_tot is not None and dag > hkp.geldig_tot):
            return None
        return hkp

    def matches(self, signaal: SignaalOntvangen) -> list[KnelpuntMatch]:
        """Rule 2: every HKP valid on the day the signal was received that the signal matches."""
        dag = signaal.ontvangen_op.date()
        gevonden: dict[str, str] = {}
        for s in signaal.subjecten:
            if isinstance(s, PersoonPseudoniem):
                for hkp_id in self._per_persoon.get(s.pseudoniem, ()):
                    gevonden.setdefault(hkp_id, "een persoon uit het knelpunt")
        postcodes = [s.postcode for s in signaal.subjecten if isinstance(s, Adres)]
        if signaal.locatie is not None and signaal.locatie.postcode:
            postcodes.append(signaal.locatie.postcode)
        for pc in postcodes:
            for key in (normaliseer_postcode(pc), normaliseer_postcode(pc)[:4]):
                for hkp_id in self._per_postcode.get(key, ()):
                    gevonden.setdefault(hkp_id, f"postcode {key} in het gebied")
        sbi = [code for s in signaal.subjecten if isinstance(s, Rechtspersoon) for code in s.sbi]
        if sbi:
            for branche in self._hkps.values():
                if branche.soort == "branche":
                    for code in sbi:
                        if any(code.startswith(prefix) for prefix in branche.sbi):
                            gevonden.setdefault(branche.hkp_id, f"SBI {code} in de branche")
        matches = []
        for hkp_id, waarom in sorted(gevonden.items()):
            geldig = self._geldig(hkp_id, dag)
            if geldig is not None:
                toelichting = f"Handhavingsknelpunt {geldig.naam} ({hkp_id}, RIEC {geldig.riec}): {waarom}"
                matches.append(KnelpuntMatch(hkp_id, geldig.riec, toelichting))
        return matches
