"""The records on `routes.*`: a signal with the reasons it reached this destination, and its
withdrawal (erased or expired)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from engine.events.signaal import Locatie
from engine.events.signaal_ontvangen import PseudoSubject, SignaalOntvangen

Regel = Literal[
    "locatie",
    "adres_subject",
    "buitenland",
    "handhavingsknelpunt",
    "handhavingsknelpunt_begrensd",
    "open_casus",
    "open_casus_begrensd",
    "fenomeentafel",
    "bestuurlijk_signaal",
    "niet_routeerbaar",
]
"""Which routing rule of the domain sent the signal (domain.md, rules 1–6). `open_casus_begrensd`
adds to rule 3: more open casussen share an identifier than the reasons name (fan-out caps);
`handhavingsknelpunt_begrensd` likewise to rule 2: more of one RIEC's HKPs match than are named."""


ROUTE_TYPE = "nl.riec.gerouteerd_signaal.v1"
ROUTE_SOURCE = "urn:nl:riec:engine"


class Reden(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One reason a signal reached a destination, readable by the analyst who receives it."""

    regel: Regel
    toelichting: str
    hkp_id: str | None = None
    casus_id: str | None = None


class GerouteerdSignaal(msgspec.Struct, frozen=True, kw_only=True):
    """Contract v1 fields first; `bestemming`, `soort`, `omschrijving`, `waargenomen_op` and
    `gemeld_op`, `besloten_op`, `regelversie`, `hkp_positie` are additions (documented in the
    AsyncAPI document)."""

    signaal_id: str
    ontvangen_op: datetime
    bron: str
    themas: list[str]
    locatie: Locatie | None
    subjecten: list[PseudoSubject]
    redenen: list[Reden]
    bestemming: str
    soort: Literal["signaal", "bestuurlijk_signaal"]
    omschrijving: str
    waargenomen_op: date
    gemeld_op: datetime
    besloten_op: datetime | None = None
    """When the routing decision was made: it holds the HKPs and open casussen known then."""
    regelversie: str | None = None
    """The version of the reference data that decided this route: the one in force on
    `waargenomen_op`, named by the hash of its files (`engine.domain.reference.regelversies`).
    None on messages written before versions existed."""
    hkp_positie: int | None = None
    """How far the HKP register the decision used had read its log: every HKP designated or ended
    before this position of `engine.knelpunten` counted, none after it. Two routes with the same
    position saw the same register. None on messages written before it was recorded."""

    @classmethod
    def van(
        cls,
        signaal: SignaalOntvangen,
        bestemming: str,
        redenen: list[Reden],
        besloten_op: datetime | None = None,
        regelversie: str | None = None,
        hkp_positie: int | None = None,
    ) -> GerouteerdSignaal:
        """The message for one destination of an accepted signal."""
        return cls(
            signaal_id=signaal.signaal_id,
            ontvangen_op=signaal.ontvangen_op,
            bron=signaal.bron,
            themas=signaal.themas,
            locatie=signaal.locatie,
            subjecten=signaal.subjecten,
            redenen=redenen,
            bestemming=bestemming,
            soort=signaal.soort,
            omschrijving=signaal.omschrijving,
            waargenomen_op=signaal.waargenomen_op,
            gemeld_op=signaal.gemeld_op,
            besloten_op=besloten_op,
            regelversie=regelversie,
            hkp_positie=hkp_positie,
        )


ROUTE_INGETROKKEN_TYPE = "nl.riec.route_ingetrokken.v1"

Intrekkingsreden = Literal["gewist", "verlopen"]
"""`gewist`: the signal was erased on request (a subject's erasure, approved by four eyes);
`verlopen`: its retention period ended (`engine.domain.vergeten.bewaring`)."""


class RouteIngetrokken(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A routed signal withdrawn from one destination: its receiver deletes its copy of the signal
    with this id, wherever it stored it. Keyed by the signal id like the routed message, so that
    compaction of the route topic keeps this record and drops the message. Ids and codes only:
    never personal data."""

    signaal_id: str
    bestemming: str
    reden: Intrekkingsreden
    ingetrokken_op: datetime
    verzoek_id: str | None = None
    """The approved erasure request (`engine.domain.vergeten.vieroogen`), for `gewist`."""
    bewaarregel: Annotated[str, msgspec.Meta(pattern="^[a-z_]{1,40}$")] | None = None
    """The retention rule whose period ended (`engine.domain.vergeten.bewaring`), for `verlopen`."""


ROUTE_ENCODER = msgspec.json.Encoder()
ROUTE_DECODER = msgspec.json.Decoder(GerouteerdSignaal)
INTREKKING_DECODER = msgspec.json.Decoder(RouteIngetrokken)
