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

THEMA_PATTERN = r"^(mensenhandel|drugs|witwassen|vastgoed|omg|logistiek|regionaal:[a-z][a-z0-9-]{0,39})$"
Thema = Annotated[str, Meta(pattern=THEMA_PATTERN, description="A national theme or regionaal:<naam>")]
Postcode = Annotated[str, Meta(pattern=r"^[1-9][0-9]{3} ?[A-Za-z]{2}$", description="Dutch postcode")]
Huisnummer = Annotated[str, Meta(pattern=r"^[1-9][0-9]{0,4}([ -]?[A-Za-z0-9]{1,6})?$")]
GemeenteCode = Annotated[str, Meta(pattern=r"^GM[0-9]{4}$", description="CBS gemeente code")]
Land = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Bsn = Annotated[str, Meta(pattern=r"^[0-9]{9}$", description="BSN; must pass the elfproef")]
Kvk = Annotated[str, Meta(pattern=r"^[0-9]{8}$")]
Sbi = Annotated[str, Meta(pattern=r"^[0-9]{2,5}$", description="SBI code or prefix, digits only")]
Kenteken = Annotated[str, Meta(pattern=r"^[A-Za-z0-9-]{1,10}$")]


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
    omschrijving: Annotated[str, Meta(max_length=10_000)]
    waargenomen_op: date
    locatie: Locatie | None = None
    subjecten: Annotated[list[Subject], Meta(max_length=100)] = []


SIGNAAL_DECODER = msgspec.json.Decoder(Signaal)
MAX_MESSAGE_BYTES = 1024 * 1024
