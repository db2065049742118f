"""Sealing personal fields for the logs of record: a signal's free text, location and subjects
under the signal's own data key; a casus's, HKP's or beeld's name, subjects and reasons under the
aggregate's key. Destroying a key forgets them in every copy of the log (crypto-shredding,
docs/vergeten.md). What the annual tables count (partner, themes, kind, dates, amounts) stays
readable: erasing a subject changes no count.
"""

from __future__ import annotations

import base64
import typing
from typing import Any, TypeVar

import msgspec
from cryptography.exceptions import InvalidTag

from engine.domain.vergeten.sleutels import Sleutelring
from engine.events.casus import (
    AggregaatVergeten,
    CasusGeopend,
    Gebeurtenis,
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
    OndermijningsbeeldOpgeleverd,
)
from engine.events.signaal import Locatie
from engine.events.signaal_ontvangen import PseudoSubject, SignaalOntvangen


class Inhoud(msgspec.Struct, frozen=True, kw_only=True):
    """The personal fields of a signal: what is sealed."""

    omschrijving: str
    locatie: Locatie | None = None
    subjecten: list[PseudoSubject] = []


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Inhoud)
G = TypeVar("G", bound=Gebeurtenis)


def sleutel_id(signaal_id: str) -> str:
    """The id of a signal's data key in the key store."""
    return f"signaal:{signaal_id}"


def verzegel(signaal: SignaalOntvangen, ring: Sleutelring) -> tuple[bytes, SignaalOntvangen]:
    """The signal as the log holds it, and its new data key wrapped for the key store."""
    inhoud = Inhoud(omschrijving=signaal.omschrijving, locatie=signaal.locatie, subjecten=signaal.subjecten)
    verpakt, blob = ring.verzegel(sleutel_id(signaal.signaal_id), _ENCODER.encode(inhoud), signaal.signaal_id)
    gesloten = msgspec.structs.replace(
        signaal, omschrijving="", locatie=None, subjecten=[], versleuteld=base64.b64encode(blob).decode()
    )
    return verpakt, gesloten


def open_(signaal: SignaalOntvangen, ring: Sleutelring) -> SignaalOntvangen | None:
    """The signal with its personal fields back; None when its key was destroyed (it is forgotten:
    erased or expired). A signal logged before sealing is returned as it is."""
    if not signaal.versleuteld:
        return signaal
    klaar = ring.ontsleutel(
        sleutel_id(signaal.signaal_id), base64.b64decode(signaal.versleuteld), signaal.signaal_id
    )
    if klaar is None:
        return None
    inhoud = _DECODER.decode(klaar)
    return msgspec.structs.replace(
        signaal,
        omschrijving=inhoud.omschrijving,
        locatie=inhoud.locatie,
        subjecten=inhoud.subjecten,
        versleuteld="",
    )


VERZEGELD = "verzegeld:"
"""The prefix of a sealed text field (a four-eyes request's subject)."""


def verzoek_sleutel_id(verzoek_id: str) -> str:
    """The id of a four-eyes request's data key: its subject is sealed under it."""
    return f"verzoek:{verzoek_id}"


def verzegel_tekst(ring: Sleutelring, sleutel_id: str, tekst: str) -> tuple[bytes, str]:
    """A text field sealed under a new data key: (the wrapped key, the field's new value)."""
    verpakt, blob = ring.verzegel(sleutel_id, tekst.encode(), sleutel_id)
    return verpakt, VERZEGELD + base64.b64encode(blob).decode()


def open_tekst(ring: Sleutelring, sleutel_id: str, waarde: str) -> str | None:
    """A sealed text field opened; None when its key was destroyed. Unsealed text is returned as is."""
    if not waarde.startswith(VERZEGELD):
        return waarde
    klaar = ring.ontsleutel(sleutel_id, base64.b64decode(waarde.removeprefix(VERZEGELD)), sleutel_id)
    return None if klaar is None else klaar.decode()


def persoonlijke_velden(soort: type) -> tuple[str, ...]:
    """The fields of a struct marked `PERSOONLIJK` on the struct itself (`engine.events`), in order."""
    hints = typing.get_type_hints(soort, include_extras=True)
    return tuple(
        naam
        for naam in soort.__struct_fields__  # type: ignore[attr-defined]
        if any(
            isinstance(m, msgspec.Meta) and (m.extra or {}).get("persoonlijk")
            for m in getattr(hints[naam], "__metadata__", ())
        )
    )


# The aggregates' events (casus, HKP, ondermijningsbeeld): the personal fields of each kind, sealed
# under the aggregate's data key, which its single writer (besluiten) creates with its first event.
PERSOONLIJKE_VELDEN: dict[type, tuple[str, ...]] = {
    soort: velden for soort in typing.get_args(Gebeurtenis) if (velden := persoonlijke_velden(soort))
}
"""What of an event names or may name a person: a name, subjects, an analyst's free-text reason, as
marked on the events. What the annual tables count (riec, themes, source, signals, dates, amounts)
stays readable."""
GEWIST = "[gewist]"
"""What a forgotten text field reads as."""
_LIJSTEN = frozenset({"subjecten", "pseudoniemen"})
_OPENINGEN = (CasusGeopend, HandhavingsknelpuntAangewezen, OndermijningsbeeldOpgeleverd)


def aggregaat_van(g: Gebeurtenis) -> str:
    """The key of the aggregate an event belongs to: its data key's id (and the log's record key)."""
    match g:
        case HandhavingsknelpuntAangewezen() | HandhavingsknelpuntBeeindigd():
            return f"hkp:{g.hkp_id}"
        case OndermijningsbeeldOpgeleverd():
            return f"beeld:{g.beeld_id}"
        case AggregaatVergeten():
            return g.aggregaat
        case _:
            return f"casus:{g.casus_id}"


def opent_aggregaat(g: Gebeurtenis) -> bool:
    """Whether the event is its aggregate's first: its data key is created with it."""
    return isinstance(g, _OPENINGEN)


def verzegel_gebeurtenis(g: G, ring: Sleutelring) -> G:
    """The event as the log holds it: its personal fields sealed under its aggregate's key (held in
    `ring`); when that key was destroyed (the aggregate is forgotten) they are left out instead."""
    velden = PERSOONLIJKE_VELDEN.get(type(g))
    if not velden:
        return g
    sleutel = aggregaat_van(g)
    leeg: dict[str, Any] = {v: [] if v in _LIJSTEN else "" for v in velden}
    if sleutel not in ring:
        return msgspec.structs.replace(g, **leeg)
    klaar = _ENCODER.encode({v: getattr(g, v) for v in velden})
    blob = ring.versleutel(sleutel, klaar, g.opdracht_id)
    return msgspec.structs.replace(g, **leeg, versleuteld=base64.b64encode(blob).decode())


def open_gebeurtenis(g: G, ring: Sleutelring) -> G:
    """The event with its personal fields back; `[gewist]` (texts) and empty (lists) when its
    aggregate's key was destroyed. An event without sealed fields is returned as it is."""
    if type(g) not in PERSOONLIJKE_VELDEN or not g.versleuteld:
        return g
    waarden = open_velden(ring, type(g), aggregaat_van(g), g.opdracht_id, g.versleuteld)
    return msgspec.convert({**msgspec.to_builtins(g), **waarden, "versleuteld": ""}, type(g))


VERZEGELD_ZONDER_SLEUTEL = "[verzegeld]"
"""What a sealed text reads as to a reader without the master key (a tool run without it)."""
ONLEESBAAR = "[onleesbaar]"
"""What a sealed text reads as when its ciphertext does not decrypt under its key (damaged)."""


def open_velden(
    ring: Sleutelring | None, soort: type, sleutel_id: str, record_id: str, blob: str
) -> dict[str, Any]:
    """The sealed fields of an event of kind `soort` as plain data (a read model keeps the event
    sealed and opens it when it answers, so a destroyed key takes effect at once): `[gewist]` and
    empty lists once the key is destroyed, `[verzegeld]` for a reader without a key ring."""
    velden = PERSOONLIJKE_VELDEN[soort]
    try:
        klaar = None if ring is None else ring.ontsleutel(sleutel_id, base64.b64decode(blob), record_id)
        if klaar is not None:
            return dict(msgspec.json.decode(klaar))
        tekst = GEWIST if ring is not None else VERZEGELD_ZONDER_SLEUTEL
    except (InvalidTag, ValueError, msgspec.DecodeError):
        # One damaged record must not fail every answer (a RIEC's list, the replay's hashes).
        tekst = ONLEESBAAR
    return {v: [] if v in _LIJSTEN else tekst for v in velden}
