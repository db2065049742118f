"""From a RIEC office's Kafka message to an accepted command, or a refusal with a reason.

Checks everything that needs no state: attribution by topic, envelope and its time window, the
command's type and payload and its dates, subjects (elfproef, pseudonymised), the
handhavingsknelpunt's shape, and last the BSN gate over every field (`engine.domain.ingress.poort`).
Whether the command fits its casus or HKP (exists, owned by this RIEC, allowed in its state) is
decided after, by the aggregate's single writer (`engine.domain.casus.beslis`).
"""

from __future__ import annotations

import re
from datetime import datetime

import msgspec

from engine.domain.casus import encode_zonder_subjecten
from engine.domain.ingress.acceptatie import Bericht, lees_envelope, lees_payload, pseudonimiseer_subject
from engine.domain.ingress.poort import bewaak
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.ingress.tijdvenster import controleer_datums, controleer_tijd
from engine.domain.reference import RIECS, Gebiedsindeling
from engine.errors import Weigering
from engine.events.casus import OpdrachtOntvangen
from engine.events.envelope import riec_source
from engine.events.opdrachten import (
    OPDRACHT_DECODERS,
    OPDRACHT_TYPES,
    WijsHandhavingsknelpuntAan,
    aggregaat_sleutel,
)
from engine.events.signaal import MAX_MESSAGE_BYTES, normaliseer_postcode
from engine.events.signaal_ontvangen import PersoonPseudoniem, PseudoSubject

OPDRACHT_TOPIC = re.compile(r"^riec\.([a-z-]+)\.opdrachten$")
"""Every RIEC office's command topic; its middle part names the RIEC."""
AUTEUR_HEADER = "riec_auteur"
_AUTEUR = re.compile(r"^[\x21-\x7e]{1,100}$")


def _auteur(bericht: Bericht) -> str:
    """Who gave the command, from its optional header `riec_auteur` (the dashboard writes the
    principal of the analyst's token); a value that is not 1 to 100 printable ASCII characters is
    refused."""
    for naam, waarde in bericht.headers:
        if naam == AUTEUR_HEADER:
            tekst = waarde.decode("ascii", "replace")
            if not _AUTEUR.match(tekst):
                raise Weigering(
                    "envelope_invalid", "header riec_auteur must be 1 to 100 printable ASCII characters"
                )
            return tekst
    return ""


def _controleer_knelpunt(hkp: WijsHandhavingsknelpuntAan, subjecten: list[PseudoSubject]) -> None:
    personen = [s for s in subjecten if isinstance(s, PersoonPseudoniem)]
    if len(personen) != len(subjecten):
        raise Weigering("payload_invalid", "handhavingsknelpunt subjecten may only be persons (type persoon)")
    if hkp.soort == "persoon" and len(personen) != 1:
        raise Weigering("payload_invalid", "a handhavingsknelpunt of soort persoon names exactly one person")
    if hkp.soort == "groep" and not personen:
        raise Weigering("payload_invalid", "a handhavingsknelpunt of soort groep names at least one person")
    if hkp.soort == "gebied" and not hkp.postcodes:
        raise Weigering(
            "payload_invalid", "a handhavingsknelpunt of soort gebied needs postcodes (PC4 or PC6)"
        )
    if hkp.soort == "branche" and not hkp.sbi:
        raise Weigering(
            "payload_invalid", "a handhavingsknelpunt of soort branche needs sbi codes or prefixes"
        )
    if hkp.geldig_tot is not None and hkp.geldig_tot < hkp.geldig_van:
        raise Weigering("payload_invalid", "geldig_tot lies before geldig_van")


def _binnen_eigen_regio(hkp: WijsHandhavingsknelpuntAan, riec: str, gebied: Gebiedsindeling) -> None:
    """An area HKP covers only the designating RIEC's own gemeenten: its stuurgroep designates it,
    and an area elsewhere would route another region's signals to it (need-to-know)."""
    for i, pc in enumerate(hkp.postcodes):
        gemeente = gebied.gemeente_van_postcode(normaliseer_postcode(pc))
        if gemeente is not None and gemeente.riec != riec:
            raise Weigering(
                "hkp_gebied_buiten_regio",
                f"postcodes[{i}]: PC4 {pc[:4]} lies in {gemeente.naam} ({gemeente.code}), RIEC "
                f"{gemeente.riec}; a handhavingsknelpunt gebied of RIEC {riec} may only cover its own "
                "gemeenten (that RIEC can designate its part)",
            )


def accepteer_opdracht(
    bericht: Bericht, *, gebied: Gebiedsindeling, pseudo: Pseudonimiseerder, nu: datetime
) -> OpdrachtOntvangen:
    """Accept a RIEC command for its aggregate's writer, or raise `Weigering` for the DLQ.

    Called by the command ingress for every message on a `riec.<riec>.opdrachten` topic.
    """
    match = OPDRACHT_TOPIC.match(bericht.topic)
    if match is None or match.group(1) not in RIECS:
        raise Weigering("unknown_riec", f"topic {bericht.topic!r} is not a known RIEC command topic")
    riec = match.group(1)
    if bericht.value is not None and len(bericht.value) > MAX_MESSAGE_BYTES:
        raise Weigering("too_large", f"message is {len(bericht.value)} bytes; at most 1 MiB is accepted")
    envelope = lees_envelope(bericht.headers)
    if envelope.source != riec_source(riec):
        raise Weigering(
            "source_mismatch", f"ce_source does not match topic {bericht.topic}: expected {riec_source(riec)}"
        )
    decoder = OPDRACHT_DECODERS.get(envelope.type)
    if decoder is None:
        raise Weigering(
            "unknown_type",
            f"ce_type {envelope.type!r} is not a RIEC command; expected one of {sorted(OPDRACHT_TYPES)}",
        )
    controleer_tijd(envelope.time, nu)
    opdracht: msgspec.Struct = lees_payload(decoder, bericht.value, envelope.type)
    controleer_datums(opdracht, nu)
    raw_subjecten = getattr(opdracht, "subjecten", [])
    subjecten = [pseudonimiseer_subject(i, s, gebied, pseudo) for i, s in enumerate(raw_subjecten)]
    if isinstance(opdracht, WijsHandhavingsknelpuntAan):
        _controleer_knelpunt(opdracht, subjecten)
        for i, pc in enumerate(opdracht.postcodes):
            if gebied.gemeente_van_postcode(normaliseer_postcode(pc)) is None:
                raise Weigering("unknown_postcode", f"postcodes[{i}]: PC4 {pc[:4]} does not exist")
        _binnen_eigen_regio(opdracht, riec, gebied)
        opdracht = msgspec.structs.replace(
            opdracht, postcodes=sorted({normaliseer_postcode(pc) for pc in opdracht.postcodes})
        )
    ontvangen = OpdrachtOntvangen(
        opdracht_id=f"{riec}:{envelope.id}",
        riec=riec,
        ce_type=envelope.type,
        tijd=envelope.time,
        ontvangen_op=nu,
        aggregaat=aggregaat_sleutel(opdracht),  # type: ignore[arg-type]
        opdracht=msgspec.Raw(encode_zonder_subjecten(opdracht)),
        subjecten=subjecten,
        auteur=_auteur(bericht),
        bron_topic=bericht.topic,
        bron_partitie=bericht.partition,
        bron_offset=bericht.offset,
        bron_timestamp=bericht.timestamp_ms,
    )
    return bewaak(ontvangen, pseudo)
