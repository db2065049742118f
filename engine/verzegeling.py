"""Sealing a signal's personal fields for the signal log: its free text, location and subjects are
encrypted under the signal's own data key, so destroying that key forgets them in every copy of
the log (crypto-shredding, docs/vergeten.md). What the annual tables count (partner, themes, kind,
dates) stays readable: erasing a subject changes no count.
"""

from __future__ import annotations

import base64

import msgspec

from engine.events.signaal import Locatie
from engine.events.signaal_ontvangen import PseudoSubject, SignaalOntvangen
from engine.sleutels import Sleutelring


class Inhoud(msgspec.Struct, frozen=True, kw_only=True):
    """The personal fields of a signal: what is sealed."""

    omschrijving: str
    locatie: Locatie | None = None
    subjecten: list[PseudoSubject] = []


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Inhoud)


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
