"""The BSN gate: the last check of ingress, over every string of an accepted signal or command.

A BSN may travel past ingress only as a pseudonym. The gate walks the accepted record generically
(every field of every msgspec Struct, list and dict, and a command's raw JSON payload), so a field
added to the contract later is covered without a change here. A BSN in any form a person reads as
one (`engine.domain.ingress.bsn`) is

- replaced by `[persoon:<pseudonym>]` in free text: the fields the contract marks with
  `VRIJE_TEKST` (omschrijving, the names of casussen, HKPs and beelden, reden, uitvoerder,
  coordinator);
- refused everywhere else: `bsn_in_id` in ids (the partner's ce_id, casus_id, hkp_id, beeld_id,
  advies_id, signaal ids), `bsn_in_veld` in themes and structured values (kenteken, huisnummer, ...).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, TypeVar

import msgspec

from engine.domain.ingress.bsn import BSN_LENGTE, bevat_bsn, vervang_bsns
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.errors import Weigering
from engine.events.opdrachten import OPDRACHT_TYPES
from engine.events.signaal import VRIJE_TEKST, Signaal

T = TypeVar("T")

IDS = frozenset(
    {"signaal_id", "opdracht_id", "aggregaat", "signalen", "casus_id", "hkp_id", "beeld_id", "advies_id"}
)
"""Fields that hold ids (the contract's and those the engine composes from them)."""

ENGINE_WAARDEN = frozenset({"pseudoniem"})
"""Fields whose value the engine computed itself (an HMAC): nothing a partner typed."""

_PARTNER_NAAM = {"signaal_id": "ce_id", "opdracht_id": "ce_id", "aggregaat": "casus_id, hkp_id or beeld_id"}
"""How a refusal names a field the engine composed: by the partner's field it came from."""


def _vrije_tekst(info: msgspec.inspect.Type, velden: set[str]) -> None:
    match info:
        case msgspec.inspect.StructType(fields=fields):
            for f in fields:
                if isinstance(f.type, msgspec.inspect.Metadata) and (f.type.extra_json_schema or {}).get(
                    VRIJE_TEKST
                ):
                    velden.add(f.name)
                _vrije_tekst(f.type, velden)
        case msgspec.inspect.Metadata(type=t) | msgspec.inspect.ListType(item_type=t):
            _vrije_tekst(t, velden)
        case msgspec.inspect.UnionType(types=types):
            for t in types:
                _vrije_tekst(t, velden)


@cache
def vrije_tekst_velden() -> frozenset[str]:
    """The names of the free-text fields, as the contract's structs mark them (`VRIJE_TEKST`)."""
    velden: set[str] = set()
    for info in msgspec.inspect.multi_type_info([Signaal, *OPDRACHT_TYPES.values()]):
        _vrije_tekst(info, velden)
    return frozenset(velden)


class _BsnGevonden(Exception):
    """Raised deep in the walk; each level on the way up adds its part of the field's path."""

    def __init__(self, soort: int) -> None:
        super().__init__(soort)
        self.soort = soort
        self.pad: list[str | int] = []

    def weigering(self) -> Weigering:
        pad = list(reversed(self.pad))
        if pad and pad[0] == "opdracht":  # the command's payload: name fields as the RIEC sent them
            pad = pad[1:]
        elif len(pad) == 1 and isinstance(pad[0], str):
            pad[0] = _PARTNER_NAAM.get(pad[0], pad[0])
        naam = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in pad).lstrip(".")
        if self.soort == _ID:
            return Weigering(
                "bsn_in_id",
                f"{naam} holds a number that passes the elfproef (a BSN), read with spaces, dots or "
                "dashes ignored; ids travel on to RIECs and indexes, so use an opaque id (a UUID)",
            )
        return Weigering(
            "bsn_in_veld",
            f"{naam} holds a number that passes the elfproef (a BSN), read with spaces and "
            "punctuation ignored; send a person only as a persoon subject (its bsn is pseudonymised), "
            "or in free text such as omschrijving",
        )


_VELD, _ID, _VRIJE_TEKST = 0, 1, 2
"""How a field's strings are read: structured value, id, or free text."""


@cache
def _soort(veld: str) -> int:
    if veld in vrije_tekst_velden():
        return _VRIJE_TEKST
    return _ID if veld in IDS else _VELD


def _alleen_ascii(patroon: str) -> bool:
    """Whether every match of a schema pattern is ASCII: no `.`, no escapes (`\\d` and `\\w` match
    other scripts' digits), no negated classes; only literal ASCII and ranges such as `[0-9A-Z]`."""
    return patroon.isascii() and re.search(r"\.|\\|\[\^", patroon) is None


def _kan_tekst_bevatten(info: msgspec.inspect.Type) -> bool:
    """False for a type whose values cannot hold nine digits, even after NFKC."""
    match info:
        case (
            msgspec.inspect.LiteralType()  # the contract's own words: no partner input
            | msgspec.inspect.IntType()
            | msgspec.inspect.FloatType()
            | msgspec.inspect.BoolType()
            | msgspec.inspect.NoneType()
            | msgspec.inspect.DateType()
            | msgspec.inspect.DateTimeType()
        ):
            return False
        case msgspec.inspect.StrType(max_length=int(lengte), pattern=str(patroon)) if (
            lengte < BSN_LENGTE and _alleen_ascii(patroon)
        ):
            return False  # the schema keeps it below nine ASCII characters (a kvk, an SBI code)
        case msgspec.inspect.StructType(cls=cls):
            return bool(_plan(cls))
        case msgspec.inspect.Metadata(type=t) | msgspec.inspect.ListType(item_type=t):
            return _kan_tekst_bevatten(t)
        case msgspec.inspect.UnionType(types=types):
            return any(_kan_tekst_bevatten(t) for t in types)
    return True  # strings, raw JSON, and any type added later


@cache
def _plan(cls: type[msgspec.Struct]) -> tuple[tuple[str, int], ...]:
    """The fields of a Struct that may hold text, with how to read them: computed once per type,
    so the walk over a signal visits only those (the signal front door is the hot path)."""
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    velden = [f for f in info.fields if f.name not in ENGINE_WAARDEN and _kan_tekst_bevatten(f.type)]
    # Nested values first: a refusal then names the payload's field (casus_id) rather than the id
    # the engine composed from it (aggregaat = casus:<casus_id>).
    velden.sort(key=lambda f: isinstance(f.type, msgspec.inspect.StrType))
    return tuple((f.name, _soort(f.name)) for f in velden)


class _Poort:
    """One walk over one record: replaces BSNs in free text, raises `_BsnGevonden` elsewhere."""

    __slots__ = ("pseudo",)

    def __init__(self, pseudo: Pseudonimiseerder) -> None:
        self.pseudo = pseudo

    def _persoon(self, bsn: str) -> str:
        return f"[persoon:{self.pseudo.bsn(bsn)}]"

    def tekst(self, waarde: str, soort: int) -> str:
        if len(waarde) < BSN_LENGTE and waarde.isascii():  # most values: codes, names, short ids
            return waarde  # (not other text: NFKC reads ⑪⑫②②③③③, seven characters, as 111222333)
        if soort == _VRIJE_TEKST:
            return vervang_bsns(waarde, self._persoon)
        if bevat_bsn(waarde, als_id=soort == _ID):
            raise _BsnGevonden(soort)
        return waarde

    def struct(self, waarde: msgspec.Struct) -> msgspec.Struct:
        gewijzigd: dict[str, Any] | None = None
        for naam, soort in _plan(type(waarde)):
            oud = getattr(waarde, naam)
            if oud is None or (oud.__class__ is str and len(oud) < BSN_LENGTE and oud.isascii()):
                continue  # inline: most fields of a signal are short codes
            try:
                nieuw = self.tekst(oud, soort) if oud.__class__ is str else self.waarde(oud, soort)
            except _BsnGevonden as e:
                e.pad.append(naam)
                raise
            if nieuw is not oud:
                gewijzigd = gewijzigd or {}
                gewijzigd[naam] = nieuw
        return msgspec.structs.replace(waarde, **gewijzigd) if gewijzigd else waarde

    def lijst(self, waarde: list[Any], soort: int) -> list[Any]:
        gewijzigd: list[Any] | None = None
        for i, oud in enumerate(waarde):
            if oud.__class__ is str and len(oud) < BSN_LENGTE and oud.isascii():
                continue
            try:
                nieuw = self.tekst(oud, soort) if oud.__class__ is str else self.waarde(oud, soort)
            except _BsnGevonden as e:
                e.pad.append(i)
                raise
            if nieuw is not oud:
                gewijzigd = gewijzigd or list(waarde)
                gewijzigd[i] = nieuw
        return waarde if gewijzigd is None else gewijzigd

    def mapping(self, waarde: dict[str, Any]) -> dict[str, Any]:
        gewijzigd: dict[str, Any] | None = None
        for naam, oud in waarde.items():
            try:
                nieuw = self.waarde(oud, _soort(naam))
            except _BsnGevonden as e:
                e.pad.append(naam)
                raise
            if nieuw is not oud:
                gewijzigd = gewijzigd or dict(waarde)
                gewijzigd[naam] = nieuw
        return waarde if gewijzigd is None else gewijzigd

    def waarde(self, waarde: Any, soort: int) -> Any:
        if isinstance(waarde, str):
            return self.tekst(waarde, soort)
        if isinstance(waarde, msgspec.Struct):
            return self.struct(waarde)
        if isinstance(waarde, list):
            return self.lijst(waarde, soort)
        if isinstance(waarde, dict):
            return self.mapping(waarde)
        if isinstance(waarde, msgspec.Raw):  # a command's payload as JSON: read as plain JSON
            inhoud = msgspec.json.decode(waarde)
            nieuw = self.waarde(inhoud, soort)
            return waarde if nieuw is inhoud else msgspec.Raw(msgspec.json.encode(nieuw))
        return waarde  # numbers, booleans, dates, None: no text to read


def bewaak(record: T, pseudo: Pseudonimiseerder) -> T:
    """The accepted record with every BSN in free text pseudonymised, or `Weigering` when a BSN
    sits in an id or a structured field.

    Called by ingress as the last step for every accepted signal (`SignaalOntvangen`) and command
    (`OpdrachtOntvangen`): nothing it lets through holds a raw BSN in a form a person reads as one.
    The refusal names the field, never its value.
    """
    try:
        resultaat: T = _Poort(pseudo).waarde(record, _VELD)
    except _BsnGevonden as e:
        raise e.weigering() from None
    return resultaat
