"""`nl.riec.signaal.v1`: the payload a partner publishes on `partner.<org>.signalen`.

Schema evolution: add fields with defaults only; never retype, rename or reorder (contract v1).
Unknown fields are ignored, so partners may send a newer minor version without being refused.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

SIGNAAL_TYPE = "nl.riec.signaal.v1"

VRIJE_TEKST = "x-riec-vrije-tekst"
"""Marks a free-text field in the schemas: a BSN typed into it is replaced by its pseudonym at
ingress, where in any other field it is refused (`engine.domain.ingress.poort`)."""


def vrije_tekst(max_length: int) -> Meta:
    """The constraints of a free-text field: its length, and the mark ingress replaces a BSN in by."""
    return Meta(
        max_length=max_length,
        extra_json_schema={VRIJE_TEKST: True},
        description="Free text; a BSN in it is replaced by its pseudonym at ingress",
    )


THEMA_PATTERN = r"^(mensenhandel|drugs|witwassen|vastgoed|omg|logistiek|regionaal:[a-z][a-z0-9-]{0,39})$"
Thema = Annotated[
    str, Meta(pattern=THEMA_PATTERN, max_length=50, description="A national theme or regionaal:<naam>")
]
Postcode = Annotated[
    str, Meta(pattern=r"^[1-9][0-9]{3} ?[A-Za-z]{2}$", max_length=7, description="Dutch postcode")
]


def normaliseer_postcode(postcode: str) -> str:
    """A postcode (PC6 or PC4) as the engine stores and compares it: no space, upper case (1234AB)."""
    return postcode.replace(" ", "").upper()


def normaliseer_kenteken(kenteken: str) -> str:
    """A kenteken as the engine stores and compares it: no dashes, upper case (12KBX3)."""
    return kenteken.replace("-", "").upper()


Huisnummer = Annotated[
    str,
    Meta(
        # 1-99999, then a huisletter and/or a toevoeging of at most four characters as in the BAG
        # (12, 12A, 12 A, 12-a, 12A-1, 12 bis, 12-2); a toevoeging of digits needs its separator,
        # so that 111222333 is never a huisnummer.
        pattern=r"^[1-9][0-9]{0,4}(?:[ -]?[A-Za-z](?:[ -]?[A-Za-z0-9]{1,4})?|[ -][0-9][A-Za-z0-9]{0,3})?$",
        max_length=12,
        description="Huisnummer (at most 5 digits) with an optional huisletter and toevoeging",
    ),
]
GemeenteCode = Annotated[str, Meta(pattern=r"^GM[0-9]{4}$", max_length=6, description="CBS gemeente code")]
Land = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", max_length=2, description="ISO 3166-1 alpha-2")]
Bsn = Annotated[str, Meta(pattern=r"^[0-9]{9}$", max_length=9, description="BSN; must pass the elfproef")]
Kvk = Annotated[str, Meta(pattern=r"^[0-9]{8}$", max_length=8)]
Sbi = Annotated[
    str, Meta(pattern=r"^[0-9]{2,5}$", max_length=5, description="SBI code or prefix, digits only")
]
Kenteken = Annotated[
    str,
    Meta(
        # Every RDW sidecode (XX-99-99, 99-99-XX, ..., 99-XXX-9, X-999-XX, XXX-99-X, 9-XX-999) is six
        # letters and digits, at least one a letter, written with or without its two dashes.
        pattern=r"^(?=[0-9-]*[A-Za-z])(?:[A-Za-z0-9]-?){5}[A-Za-z0-9]$",
        max_length=8,
        description="Dutch kenteken in an RDW sidecode: 6 letters and digits, dashes optional",
    ),
]
Omschrijving = Annotated[str, vrije_tekst(10_000)]


class Locatie(msgspec.Struct, frozen=True, kw_only=True):
    """Where the signal is about. In NL it needs a gemeente or a postcode; abroad only a land."""

    postcode: Postcode | None = None
    huisnummer: Huisnummer | None = None
    gemeente: GemeenteCode | None = None
    land: Land = "NL"


class Persoon(msgspec.Struct, frozen=True, kw_only=True, tag="persoon", tag_field="type"):
    bsn: Bsn


class Rechtspersoon(msgspec.Struct, frozen=True, kw_only=True, tag="rechtspersoon", tag_field="type"):
    kvk: Kvk
    sbi: Annotated[list[Sbi], Meta(max_length=20)] = []


class Adres(msgspec.Struct, frozen=True, kw_only=True, tag="adres", tag_field="type"):
    postcode: Postcode
    huisnummer: Huisnummer


class Voertuig(msgspec.Struct, frozen=True, kw_only=True, tag="voertuig", tag_field="type"):
    kenteken: Kenteken


Subject = Persoon | Rechtspersoon | Adres | Voertuig


class Signaal(msgspec.Struct, frozen=True, kw_only=True):
    """A partner's signal as published; `bsn` is raw here and must not leave ingress."""

    soort: Literal["signaal", "bestuurlijk_signaal"]
    themas: Annotated[list[Thema], Meta(min_length=1, max_length=20)]
    omschrijving: Omschrijving
    waargenomen_op: Annotated[
        date, Meta(description="The day it was observed: from 2000-01-01, not after tomorrow")
    ]
    locatie: Locatie | None = None
    subjecten: Annotated[list[Subject], Meta(max_length=100)] = []


SIGNAAL_DECODER = msgspec.json.Decoder(Signaal)
MAX_MESSAGE_BYTES = 1024 * 1024
