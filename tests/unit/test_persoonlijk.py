"""Given the events, when a field names or may name a person, then it is marked so on the struct
itself (`PERSOONLIJK`), and what the engine seals and forgets is derived from those marks: a field
added to an event with the mark is sealed without touching the sealing code."""

from __future__ import annotations

from typing import Annotated

import msgspec

from engine.domain.vergeten.verzegeling import PERSOONLIJKE_VELDEN, Inhoud, persoonlijke_velden
from engine.events.casus import (
    CasusAfgesloten,
    CasusGeopend,
    HandhavingsknelpuntAangewezen,
    KoppelingAfgewezen,
    OndermijningsbeeldOpgeleverd,
)
from engine.events.signaal_ontvangen import PERSOONLIJK, SignaalOntvangen


def test_the_sealed_fields_of_the_aggregates_events_are_their_marked_fields() -> None:
    assert {
        CasusGeopend: ("naam", "subjecten"),
        CasusAfgesloten: ("reden",),
        KoppelingAfgewezen: ("reden",),
        HandhavingsknelpuntAangewezen: ("naam", "pseudoniemen"),
        OndermijningsbeeldOpgeleverd: ("naam",),
    } == PERSOONLIJKE_VELDEN


def test_a_signal_seals_exactly_its_marked_fields() -> None:
    assert persoonlijke_velden(SignaalOntvangen) == Inhoud.__struct_fields__


def test_a_new_marked_field_is_found_by_its_mark() -> None:
    class Voorbeeld(msgspec.Struct):
        riec: str
        notitie: Annotated[str, PERSOONLIJK] = ""

    assert persoonlijke_velden(Voorbeeld) == ("notitie",)
