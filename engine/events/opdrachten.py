"""RIEC commands on `riec.<riec>.opdrachten` (contract v1), one Struct per `ce_type`.

Persons in `subjecten` carry a raw BSN here, as in signals: ingress pseudonymises them before the
command goes further (see `engine.events.casus`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from engine.events.signaal import Sbi, Subject, Thema, vrije_tekst

Id = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
Tekst = Annotated[str, vrije_tekst(1000)]
SignaalId = Annotated[str, Meta(min_length=3, max_length=230, pattern=r"^[a-z0-9]+:[\x21-\x7e]+$")]
Pc4OfPc6 = Annotated[str, Meta(pattern=r"^[1-9][0-9]{3}( ?[A-Za-z]{2})?$", max_length=7)]
GeplandeDatum = Annotated[date, Meta(description="From 2000-01-01, at most ten years ahead")]
AdviesSoort = Literal["bestuurlijk", "bibob", "strafrechtelijk", "fiscaal", "overig"]


class _Opdracht(msgspec.Struct, frozen=True, kw_only=True):
    pass


class OpenCasus(_Opdracht, frozen=True, kw_only=True):
    casus_id: Id
    naam: Tekst
    bron: Literal["inbreng", "ondermijningsbeeld", "handhavingsknelpunt", "gebiedsscan"]
    signalen: Annotated[list[SignaalId], Meta(max_length=1000)] = []
    themas: Annotated[list[Thema], Meta(max_length=20)] = []
    subjecten: Annotated[list[Subject], Meta(max_length=100)] = []


class KoppelSignaal(_Opdracht, frozen=True, kw_only=True):
    casus_id: Id
    signaal_id: SignaalId


class WijsKoppelingAf(_Opdracht, frozen=True, kw_only=True):
    """The analyst's decision that a candidate link (routing rule 3: the signal shares an identifier
    with an open casus) is not one: recorded on the casus, counted nowhere in the annual tables."""

    casus_id: Id
    signaal_id: SignaalId
    reden: Tekst = ""


class GeefInterventieadvies(_Opdracht, frozen=True, kw_only=True):
    casus_id: Id
    advies_id: Id
    soorten: Annotated[list[AdviesSoort], Meta(min_length=1, max_length=5)]
    uitvoerder: Tekst
    coordinator: Tekst


class RegistreerAfpakken(_Opdracht, frozen=True, kw_only=True):
    casus_id: Id
    soort: Literal["opgelegd", "geind", "beslag"]
    domein: Literal["fiscaal", "strafrechtelijk", "bestuurlijk"]
    bedrag_eurocent: Annotated[int, Meta(gt=0, lt=10**15)]


class SluitCasus(_Opdracht, frozen=True, kw_only=True):
    casus_id: Id
    reden: Tekst


class WijsHandhavingsknelpuntAan(_Opdracht, frozen=True, kw_only=True):
    hkp_id: Id
    naam: Tekst
    soort: Literal["persoon", "groep", "gebied", "branche"]
    subjecten: Annotated[list[Subject], Meta(max_length=100)] = []
    postcodes: Annotated[list[Pc4OfPc6], Meta(max_length=10_000)] = []
    sbi: Annotated[list[Sbi], Meta(max_length=100)] = []
    geldig_van: GeplandeDatum
    geldig_tot: GeplandeDatum | None = None


class BeeindigHandhavingsknelpunt(_Opdracht, frozen=True, kw_only=True):
    hkp_id: Id


class LeverOndermijningsbeeldOp(_Opdracht, frozen=True, kw_only=True):
    beeld_id: Id
    naam: Tekst


Opdracht = (
    OpenCasus
    | KoppelSignaal
    | WijsKoppelingAf
    | GeefInterventieadvies
    | RegistreerAfpakken
    | SluitCasus
    | WijsHandhavingsknelpuntAan
    | BeeindigHandhavingsknelpunt
    | LeverOndermijningsbeeldOp
)

OPDRACHT_TYPES: dict[str, type[Opdracht]] = {
    "nl.riec.casus.openen.v1": OpenCasus,
    "nl.riec.casus.signaal_koppelen.v1": KoppelSignaal,
    "nl.riec.casus.koppeling_afwijzen.v1": WijsKoppelingAf,
    "nl.riec.casus.interventieadvies.v1": GeefInterventieadvies,
    "nl.riec.casus.afpakken.v1": RegistreerAfpakken,
    "nl.riec.casus.afsluiten.v1": SluitCasus,
    "nl.riec.handhavingsknelpunt.aanwijzen.v1": WijsHandhavingsknelpuntAan,
    "nl.riec.handhavingsknelpunt.beeindigen.v1": BeeindigHandhavingsknelpunt,
    "nl.riec.ondermijningsbeeld.opleveren.v1": LeverOndermijningsbeeldOp,
}
"""The contract's command `ce_type`s and the payload each carries."""

OPDRACHT_CE_TYPES: dict[type[Opdracht], str] = {t: ce_type for ce_type, t in OPDRACHT_TYPES.items()}
"""The `ce_type` a command of this payload type is published under."""

OPDRACHT_DECODERS = {ce_type: msgspec.json.Decoder(t) for ce_type, t in OPDRACHT_TYPES.items()}


def aggregaat_sleutel(opdracht: Opdracht) -> str:
    """The aggregate a command is about: its single writer is the partition of this key."""
    match opdracht:
        case WijsHandhavingsknelpuntAan(hkp_id=i) | BeeindigHandhavingsknelpunt(hkp_id=i):
            return f"hkp:{i}"
        case LeverOndermijningsbeeldOp(beeld_id=i):
            return f"beeld:{i}"
        case _:
            return f"casus:{opdracht.casus_id}"
