"""The API's path and query parameters, checked strictly: ASCII digits of bounded length, years in
a sane range, names the engine knows, ids as the contract allows them. Anything else raises
`OngeldigVerzoek` (400, or 404 for an unknown name) with a reason that never repeats the input."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import get_args

import msgspec

from engine.api.webserver import OngeldigVerzoek
from engine.domain.reference import RIECS
from engine.events.opdrachten import Id, SignaalId
from engine.events.route import Regel
from engine.events.signaal import Thema
from engine.projections.opslag import Filter

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


PARTNERGROEPEN = ("gemeenten", "om", "politie", "belastingdienst", "overige")
"""The partner groups of Tabel 1, by which the inbox can be filtered."""
REGELS = get_args(Regel)


def signaal_id_van(tekst: str) -> str:
    """A signal id as the contract writes it (`<org>:<ce_id>`)."""
    try:
        return msgspec.convert(tekst, SignaalId)
    except msgspec.ValidationError:
        raise OngeldigVerzoek(
            "signaal_id must be <org>:<ce_id> (lower-case org, printable ASCII id, at most 230 characters)"
        ) from None


def _datum(tekst: str, naam: str) -> str:
    try:
        if len(tekst) != 10 or not tekst.isascii():
            raise ValueError
        return date.fromisoformat(tekst).isoformat()
    except ValueError:
        raise OngeldigVerzoek(f"{naam} must be a date YYYY-MM-DD") from None


def inbox_filter(query: Mapping[str, str]) -> Filter:
    """The inbox's filters from its query: `thema`, `partnergroep`, `regel`, `van` and `tot`
    (days, both included, of when the signal was reported), `behandeld` (ja or nee)."""
    thema = query.get("thema") or None
    if thema is not None:
        try:
            msgspec.convert(thema, Thema)
        except msgspec.ValidationError:
            raise OngeldigVerzoek(
                "thema must be mensenhandel, drugs, witwassen, vastgoed, omg, logistiek or regionaal:<naam>"
            ) from None
    groep = query.get("partnergroep") or None
    if groep is not None and groep not in PARTNERGROEPEN:
        raise OngeldigVerzoek(f"partnergroep must be one of: {', '.join(PARTNERGROEPEN)}")
    regel = query.get("regel") or None
    if regel is not None and regel not in REGELS:
        raise OngeldigVerzoek(f"regel must be one of: {', '.join(REGELS)}")
    behandeld = query.get("behandeld") or None
    if behandeld is not None and behandeld not in ("ja", "nee"):
        raise OngeldigVerzoek("behandeld must be ja or nee")
    van, tot = query.get("van") or None, query.get("tot") or None
    return Filter(
        thema=thema,
        partnergroep=groep,
        regel=regel,
        van=None if van is None else _datum(van, "van"),
        tot=None if tot is None else _datum(tot, "tot"),
        behandeld=None if behandeld is None else behandeld == "ja",
    )
