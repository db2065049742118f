"""The API's path and query parameters, checked strictly: ASCII digits of bounded length, years in
a sane range, names the engine knows, ids as the contract allows them. Anything else raises
`OngeldigVerzoek` (400, or 404 for an unknown name) with a reason that never repeats the input."""

from __future__ import annotations

import msgspec

from engine.events.opdrachten import Id
from engine.projections.webserver import OngeldigVerzoek
from engine.reference import RIECS

JAREN = range(2000, 2101)
"""Years the annual tables are asked for; the projections know nothing outside them."""


def getal(tekst: str | None, naam: str, *, cijfers: int, bereik: range | None = None) -> int:
    """A whole number of at most `cijfers` ASCII digits (not `²` or `٣`, which Python's `int`
    and `isdigit` take), within `bereik` when given; else `OngeldigVerzoek` naming the parameter."""
    uitleg = f"{naam} must be a whole number of at most {cijfers} digits 0-9"
    if bereik is not None:
        uitleg = f"{naam} must be a whole number from {bereik.start} to {bereik.stop - 1}"
    if tekst is None or not 0 < len(tekst) <= cijfers or not tekst.isascii() or not tekst.isdigit():
        raise OngeldigVerzoek(uitleg)
    waarde = int(tekst)
    if bereik is not None and waarde not in bereik:
        raise OngeldigVerzoek(uitleg)
    return waarde


def jaar_van(tekst: str) -> int:
    return getal(tekst, "jaar", cijfers=4, bereik=JAREN)


def casus_id_van(tekst: str) -> str:
    """A casus id as the contract allows it (engine.events.opdrachten.Id)."""
    try:
        return msgspec.convert(tekst, Id)
    except msgspec.ValidationError:
        raise OngeldigVerzoek(
            "casus_id must be 1 to 100 characters: letters, digits and . _ / - (as in the contract)"
        ) from None


def riec_van(riec: str) -> str:
    """A RIEC the engine knows; else 404."""
    if riec not in RIECS:
        raise OngeldigVerzoek(f"unknown RIEC; one of: {', '.join(RIECS)}", status=404)
    return riec


def formaat_van(formaat: str) -> str:
    """The annual tables' format: json, csv or html."""
    if formaat not in ("json", "csv", "html"):
        raise OngeldigVerzoek("formaat must be json, csv or html")
    return formaat
