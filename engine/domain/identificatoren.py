"""Identifiers a signal and a casus can share: a person's pseudonym, a KvK number, an address
(postcode + huisnummer) and a kenteken. Written as `<kind>:<value>`; never a raw BSN."""

from __future__ import annotations

from collections.abc import Iterable

from engine.events.signaal import (
    Adres,
    Locatie,
    Rechtspersoon,
    Voertuig,
    normaliseer_kenteken,
    normaliseer_postcode,
)
from engine.events.signaal_ontvangen import PersoonPseudoniem, PseudoSubject, SignaalOntvangen


def adres(postcode: str, huisnummer: str) -> str:
    """The identifier of an address; huisnummer toevoegingen normalised (12-a, 12 A → 12A)."""
    nummer = huisnummer.upper().replace(" ", "").replace("-", "")
    return f"adres:{normaliseer_postcode(postcode)}{nummer}"


def van_subject(subject: PseudoSubject) -> str:
    match subject:
        case PersoonPseudoniem(pseudoniem=p):
            return f"persoon:{p}"
        case Rechtspersoon(kvk=kvk):
            return f"kvk:{kvk}"
        case Adres(postcode=postcode, huisnummer=huisnummer):
            return adres(postcode, huisnummer)
        case Voertuig(kenteken=kenteken):
            return f"kenteken:{normaliseer_kenteken(kenteken)}"
    raise TypeError(f"unknown subject type {type(subject).__name__}")


def van_subjecten(subjecten: Iterable[PseudoSubject], locatie: Locatie | None = None) -> list[str]:
    """Every identifier of these subjects (and of an exact location), sorted, each once."""
    ids = {van_subject(s) for s in subjecten}
    if locatie is not None and locatie.postcode and locatie.huisnummer:
        ids.add(adres(locatie.postcode, locatie.huisnummer))
    return sorted(ids)


def van_signaal(signaal: SignaalOntvangen) -> list[str]:
    return van_subjecten(signaal.subjecten, signaal.locatie)
