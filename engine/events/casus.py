"""Accepted RIEC commands and the domain events they become (the casus, HKP and beeld log).

Every event names the command it came from (`opdracht_id` = `<riec>:<ce_id>`), the RIEC, the
command's `ce_time` (`tijd`: the moment the annual tables count it in) and when the engine recorded
it (`vastgelegd_op`). Persons appear only as pseudonyms.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from engine.events.signaal_ontvangen import PERSOONLIJK, KoppelingBeslist, PseudoSubject


class OpdrachtOntvangen(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.opdracht_ontvangen.v1", tag_field="type"
):
    """A command that passed the front door, keyed by its aggregate for the single writer."""

    opdracht_id: str
    riec: str
    ce_type: str
    tijd: datetime
    ontvangen_op: datetime
    aggregaat: str
    opdracht: msgspec.Raw
    """The command's payload as JSON, its `subjecten` left out (they are below, pseudonymised)."""
    subjecten: list[PseudoSubject] = []
    auteur: str = ""
    """Who gave the command, from its header `riec_auteur` (the dashboard writes its principal,
    `riec:<riec>`); empty when the RIEC office's system did not say."""
    bron_topic: str = ""
    bron_partitie: int = 0
    bron_offset: int = 0
    bron_timestamp: int = 0


class _Gebeurtenis(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    opdracht_id: str
    riec: str
    tijd: datetime
    vastgelegd_op: datetime
    auteur: str = ""
    """Who gave the command (`OpdrachtOntvangen.auteur`); empty for a link's outcome, which the
    engine decides."""
    versleuteld: str = ""
    """The event's personal fields (a name, subjects, a free-text reason), sealed under its
    aggregate's data key: the fields marked `PERSOONLIJK` (`engine.domain.vergeten.verzegeling`);
    those fields are then left empty.
    Empty on an event without personal fields, and on one logged before sealing."""


class CasusGeopend(_Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.casus_geopend.v1"):
    casus_id: str
    naam: Annotated[str, PERSOONLIJK]
    bron: str
    signalen: list[str]
    themas: list[str]
    subjecten: Annotated[list[PseudoSubject], PERSOONLIJK]


class SignaalGekoppeld(_Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.signaal_gekoppeld.v1"):
    casus_id: str
    signaal_id: str


class KoppelingBevestigd(
    _Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.koppeling_bevestigd.v1"
):
    """A signal brought in or linked was routed to the casus's RIEC: from now on it counts in the
    casus (its partner, its themes) and its identifiers are in the open-casus index. `opdracht_id`
    and `tijd` are those of the command that asked for the link."""

    casus_id: str
    signaal_id: str


class KoppelingGeweigerd(
    _Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.koppeling_geweigerd.v1"
):
    """A signal brought in or linked was not routed to the casus's RIEC: nothing of it enters the
    casus (need-to-know)."""

    casus_id: str
    signaal_id: str
    code: str
    reden: str


class KoppelingVerlopen(_Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.koppeling_verlopen.v1"):
    """No signal with this id arrived within the pending-link period: the link is dropped."""

    casus_id: str
    signaal_id: str
    reden: str


class KoppelingAfgewezen(
    _Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.koppeling_afgewezen.v1"
):
    """The RIEC's analyst decided that a signal routed to it as a candidate link of this casus does
    not belong to it. Changes nothing in the casus and counts in no annual table: it records the
    decision (and marks the signal handled in the RIEC's inbox)."""

    casus_id: str
    signaal_id: str
    reden: Annotated[str, PERSOONLIJK] = ""


class InterventieadviesGegeven(
    _Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.interventieadvies_gegeven.v1"
):
    casus_id: str
    advies_id: str
    soorten: list[str]
    uitvoerder: str
    coordinator: str


class AfpakkenGeregistreerd(
    _Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.afpakken_geregistreerd.v1"
):
    casus_id: str
    soort: Literal["opgelegd", "geind", "beslag"]
    domein: str
    bedrag_eurocent: int


class CasusAfgesloten(_Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.casus_afgesloten.v1"):
    casus_id: str
    reden: Annotated[str, PERSOONLIJK]


class HandhavingsknelpuntAangewezen(
    _Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.handhavingsknelpunt_aangewezen.v1"
):
    hkp_id: str
    naam: Annotated[str, PERSOONLIJK]
    soort: Literal["persoon", "groep", "gebied", "branche"]
    pseudoniemen: Annotated[list[str], PERSOONLIJK] = []
    postcodes: list[str] = []
    sbi: list[str] = []
    geldig_van: date
    geldig_tot: date | None = None


class HandhavingsknelpuntBeeindigd(
    _Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.handhavingsknelpunt_beeindigd.v1"
):
    hkp_id: str


class OndermijningsbeeldOpgeleverd(
    _Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.ondermijningsbeeld_opgeleverd.v1"
):
    beeld_id: str
    naam: Annotated[str, PERSOONLIJK]


class AggregaatVergeten(_Gebeurtenis, frozen=True, kw_only=True, tag="nl.riec.engine.aggregaat_vergeten.v1"):
    """The aggregate's data key was destroyed (an erasure of a subject it names, or its retention
    period): its name, subjects and reasons are unreadable in every copy of its events. An HKP
    forgotten stops routing, as if ended. `opdracht_id` is `vergeten:<request id or rule>`."""

    aggregaat: str
    """`casus:<id>`, `hkp:<id>` or `beeld:<id>`."""
    grond: Literal["gewist", "verlopen"]


class VergeetAggregaat(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.vergeet_aggregaat.v1", tag_field="type"
):
    """The executor of forgetting asks the aggregate's single writer to destroy its data key."""

    aggregaat: str
    grond: Literal["gewist", "verlopen"]
    waarom: str
    """The approved request's id (`gewist`) or the retention rule (`verlopen`)."""
    op: datetime


KoppelingUitkomst = KoppelingBevestigd | KoppelingGeweigerd | KoppelingVerlopen
CasusGebeurtenis = (
    CasusGeopend
    | SignaalGekoppeld
    | KoppelingUitkomst
    | KoppelingAfgewezen
    | InterventieadviesGegeven
    | AfpakkenGeregistreerd
    | CasusAfgesloten
)
KnelpuntGebeurtenis = HandhavingsknelpuntAangewezen | HandhavingsknelpuntBeeindigd
Gebeurtenis = CasusGebeurtenis | KnelpuntGebeurtenis | OndermijningsbeeldOpgeleverd | AggregaatVergeten

GEBEURTENIS_ENCODER = msgspec.json.Encoder()
GEBEURTENIS_DECODER = msgspec.json.Decoder(Gebeurtenis)
BesluitInvoer = OpdrachtOntvangen | KoppelingBeslist | VergeetAggregaat
"""What `engine.opdrachten.kandidaten` holds, keyed by aggregate: accepted commands, vastleggen's
decisions on the links they asked for, and the executor's requests to forget an aggregate."""
BESLUIT_INVOER_DECODER = msgspec.json.Decoder(BesluitInvoer)
