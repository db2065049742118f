"""From a partner's Kafka message to an accepted signal, or a refusal with a reason.

`accepteer` is the whole front door: attribution by topic, partner policy, size, CloudEvents
envelope and its time window, payload schema and its dates, the checks a schema cannot express
(elfproef, known gemeente and PC4 on the day observed), pseudonymisation, and last the BSN gate
over every field. It is pure: the caller passes the clock, the key and the reference data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import msgspec

from engine.domain.ingress.bsn import elfproef, maskeer_cijferreeksen
from engine.domain.ingress.poort import bewaak
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.ingress.tijdvenster import (
    ONTDUBBEL_HORIZON,
    controleer_datums,
    controleer_horizon,
    controleer_tijd,
)
from engine.domain.reference import GEWEIGERDE_PARTNERS, Gebiedsindeling, onbekende_partner
from engine.domain.reference.regelversies import Regelversies
from engine.errors import Weigering
from engine.events.envelope import CloudEventHeaders, partner_source
from engine.events.signaal import (
    MAX_MESSAGE_BYTES,
    SIGNAAL_DECODER,
    SIGNAAL_TYPE,
    Adres,
    Locatie,
    Persoon,
    Signaal,
    Subject,
    Voertuig,
    normaliseer_kenteken,
    normaliseer_postcode,
)
from engine.events.signaal_ontvangen import PersoonPseudoniem, PseudoSubject, SignaalOntvangen

T = TypeVar("T")

PARTNER_TOPIC = re.compile(r"^partner\.([a-z0-9]+)\.signalen$")
"""Every partner topic; its middle part names the sender."""


@dataclass(frozen=True, slots=True)
class Beleid:
    """Policy settings of the front door."""

    geweigerde_partners: frozenset[str] = GEWEIGERDE_PARTNERS
    """Partners that may not (yet) provide information: their signals are refused and kept."""
    extra_gemeenten: frozenset[str] = frozenset()
    """Gemeente codes (`gm1999`) admitted as partners beyond the CBS reference data: mergers."""
    ontdubbel_horizon: timedelta = ONTDUBBEL_HORIZON
    """Signals whose ce_time is older are refused: their ids are no longer remembered."""


@dataclass(frozen=True, slots=True)
class Bericht:
    """One Kafka message from a front-door topic (partner or RIEC office), as the consumer saw it."""

    topic: str
    headers: Sequence[tuple[str, bytes]]
    value: bytes | None
    timestamp_ms: int
    partition: int = 0
    offset: int = 0


_ENVELOPE_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type")


def afzender(topic: str, gebied: Gebiedsindeling, extra_gemeenten: frozenset[str] = frozenset()) -> str:
    """The partner organisation a topic belongs to; the topic is authoritative for the sender.
    Refuses a topic of no convenantpartner (`unknown_partner`), saying why."""
    match = PARTNER_TOPIC.match(topic)
    if match is None:
        raise Weigering("unknown_partner", f"topic {topic!r} is not a partner topic (partner.<org>.signalen)")
    waarom = onbekende_partner(match.group(1), gebied.gemeenten, extra_gemeenten)
    if waarom is not None:
        raise Weigering("unknown_partner", f"topic {topic!r} is not a known partner topic: {waarom}")
    return match.group(1)


def lees_envelope(headers: Sequence[tuple[str, bytes]]) -> CloudEventHeaders:
    """The CloudEvents attributes from the Kafka headers, or a refusal saying which is wrong."""
    attributes: dict[str, str] = {}
    for name, raw in headers:
        if name in _ENVELOPE_HEADERS:
            try:
                attributes[name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Weigering("envelope_invalid", f"header {name} is not UTF-8") from None
    try:
        return msgspec.convert(attributes, CloudEventHeaders)
    except msgspec.ValidationError as e:
        raise Weigering(
            "envelope_invalid",
            f"CloudEvents header invalid: {maskeer_cijferreeksen(str(e))} "
            "(binary mode: ce_specversion=1.0, ce_id, ce_source, ce_type, ce_time RFC 3339 with "
            "offset, content-type=application/json)",
        ) from None


def lees_payload(decoder: msgspec.json.Decoder[T], value: bytes | None, ce_type: str) -> T:
    """The JSON payload of a `ce_type`, or a refusal naming the field and what was expected."""
    if not value:
        raise Weigering("not_json", f"message value is empty; expected a JSON {ce_type} payload")
    try:
        return decoder.decode(value)
    except msgspec.ValidationError as e:
        raise Weigering(
            "payload_invalid", f"payload does not match {ce_type}: {maskeer_cijferreeksen(str(e))}"
        ) from None
    except msgspec.DecodeError as e:
        raise Weigering("not_json", f"message value is not valid JSON: {e}") from None


def controleer_locatie(locatie: Locatie, regels: Regelversies, dag: date) -> Locatie:
    """Check a location against the reference data of the day it was observed (`dag`) and return
    it normalised (postcode as 1234AB). A gemeente code that merged away before `dag` is accepted
    as it was sent: routing maps it forward by the merger table and says so in its reason."""
    if locatie.land != "NL":
        return locatie
    if locatie.gemeente is None and locatie.postcode is None:
        raise Weigering(
            "locatie_incomplete",
            "locatie in NL needs a gemeente (CBS code) or a postcode; for abroad set land",
        )
    if locatie.gemeente is not None and regels.gemeente(locatie.gemeente, dag) is None:
        versie = regels.op(dag)
        raise Weigering(
            "unknown_gemeente",
            f"locatie.gemeente {locatie.gemeente} is not a CBS gemeente code: not in the division in force "
            f"on {dag.isoformat()} (from {versie.geldig_vanaf.isoformat()}), a later one, or a merger",
        )
    postcode = None
    if locatie.postcode is not None:
        postcode = normaliseer_postcode(locatie.postcode)
        if regels.gemeente_van_postcode(postcode, dag) is None:
            raise Weigering("unknown_postcode", f"locatie.postcode: PC4 {postcode[:4]} does not exist")
    return msgspec.structs.replace(locatie, postcode=postcode)


def pseudonimiseer_subject(
    index: int, subject: Subject, gebied: Gebiedsindeling, pseudo: Pseudonimiseerder
) -> PseudoSubject:
    """A subject as it may travel past ingress: BSN checked and pseudonymised, the rest normalised."""
    match subject:
        case Persoon(bsn=bsn):
            if not elfproef(bsn):
                raise Weigering("elfproef", f"subjecten[{index}].bsn fails the elfproef (not a valid BSN)")
            return PersoonPseudoniem(pseudoniem=pseudo.bsn(bsn))
        case Adres(postcode=postcode):
            normalised = normaliseer_postcode(postcode)
            if gebied.gemeente_van_postcode(normalised) is None:
                raise Weigering(
                    "unknown_postcode",
                    f"subjecten[{index}].postcode: PC4 {normalised[:4]} does not exist",
                )
            return msgspec.structs.replace(subject, postcode=normalised)
        case Voertuig(kenteken=kenteken):
            return Voertuig(kenteken=normaliseer_kenteken(kenteken))
        case _:
            return subject


def accepteer(
    bericht: Bericht,
    *,
    regels: Regelversies,
    pseudo: Pseudonimiseerder,
    beleid: Beleid,
    nu: datetime,
) -> SignaalOntvangen:
    """Accept a partner message as a signal, or raise `Weigering` with a reason for the DLQ.

    Called by the ingress handler for every message on a partner topic. The checks run from the
    cheapest and most fundamental (who sent it) to the most specific, and the first failure wins.
    Partners and subjects' addresses are today's (`regels.nieuwste`); the location is checked
    against the division of the day it was observed.
    """
    gebied = regels.nieuwste.gebied
    org = afzender(bericht.topic, gebied, beleid.extra_gemeenten)
    if org in beleid.geweigerde_partners:
        raise Weigering(
            "partner_not_permitted",
            f"{org} may not yet provide information under the convenant; the message is kept here",
        )
    if bericht.value is not None and len(bericht.value) > MAX_MESSAGE_BYTES:
        raise Weigering("too_large", f"message is {len(bericht.value)} bytes; at most 1 MiB is accepted")
    envelope = lees_envelope(bericht.headers)
    if envelope.source != partner_source(org):
        raise Weigering(
            "source_mismatch",
            f"ce_source does not match topic {bericht.topic}: expected {partner_source(org)}",
        )
    if envelope.type != SIGNAAL_TYPE:
        raise Weigering("envelope_invalid", f"ce_type must be {SIGNAAL_TYPE} on a partner topic")
    controleer_tijd(envelope.time, nu)
    controleer_horizon(envelope.time, nu, beleid.ontdubbel_horizon)
    signaal: Signaal = lees_payload(SIGNAAL_DECODER, bericht.value, SIGNAAL_TYPE)
    controleer_datums(signaal, nu)
    locatie = controleer_locatie(signaal.locatie, regels, signaal.waargenomen_op) if signaal.locatie else None
    subjecten = [pseudonimiseer_subject(i, s, gebied, pseudo) for i, s in enumerate(signaal.subjecten)]
    ontvangen = SignaalOntvangen(
        signaal_id=f"{org}:{envelope.id}",
        bron=org,
        gemeld_op=envelope.time,
        aangeboden_op=datetime.fromtimestamp(bericht.timestamp_ms / 1000, UTC),
        ontvangen_op=nu,
        soort=signaal.soort,
        themas=list(dict.fromkeys(signaal.themas)),
        omschrijving=signaal.omschrijving,
        waargenomen_op=signaal.waargenomen_op,
        locatie=locatie,
        subjecten=subjecten,
    )
    return bewaak(ontvangen, pseudo)
