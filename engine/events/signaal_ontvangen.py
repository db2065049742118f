"""The accepted-signal event: what ingress appends to the internal signal log (kept forever).

It is the partner's signal after validation and pseudonymisation. No raw BSN: persons are carried as
a keyed hash (HMAC-SHA256 under ENGINE_PSEUDONYM_KEY), so matching works on pseudonyms only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from engine.events.signaal import Adres, Locatie, Rechtspersoon, Voertuig

PERSOONLIJK = msgspec.Meta(extra={"persoonlijk": True})
"""Marks a field that names or may name a person (a name, subjects, free text, a location): sealed
under its record's data key on the logs and forgotten with it (`engine.domain.vergeten.verzegeling`
derives what to seal from these marks). What the annual tables count stays unmarked and readable."""

SIGNAAL_ONTVANGEN_TYPE = "nl.riec.engine.signaal_ontvangen.v1"


class PersoonPseudoniem(msgspec.Struct, frozen=True, kw_only=True, tag="persoon", tag_field="type"):
    """A natural person, known only by the pseudonym of their BSN."""

    pseudoniem: str


PseudoSubject = PersoonPseudoniem | Rechtspersoon | Adres | Voertuig


class SignaalOntvangen(
    msgspec.Struct, frozen=True, kw_only=True, tag=SIGNAAL_ONTVANGEN_TYPE, tag_field="type"
):
    """A partner's signal, accepted once under its id `<org>:<ce_id>`."""

    signaal_id: str
    bron: str
    gemeld_op: datetime
    """The partner's `ce_time`."""
    aangeboden_op: datetime
    """When the partner's message reached Kafka (its record timestamp): the start of routing latency."""
    ontvangen_op: datetime
    """When ingress accepted it."""
    soort: Literal["signaal", "bestuurlijk_signaal"]
    themas: list[str]
    waargenomen_op: date
    omschrijving: Annotated[str, PERSOONLIJK] = ""
    """The partner's text, with anything that passes the elfproef replaced by its pseudonym."""
    locatie: Annotated[Locatie | None, PERSOONLIJK] = None
    subjecten: Annotated[list[PseudoSubject], PERSOONLIJK] = []
    versleuteld: str = ""
    """On the signal log: `omschrijving`, `locatie` and `subjecten` (then empty), encrypted under
    the signal's data key (`engine.domain.vergeten.verzegeling`); empty on the hops before it."""


class KoppelingGevraagd(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.koppeling_gevraagd.v1", tag_field="type"
):
    """A casus brought in or linked this signal; vastleggen decides it (`engine.domain.koppelingen`).

    Sent to the signal's partition; kept on the signal log while the signal has not arrived or not
    been routed yet, so a command naming a signal not yet seen has the same outcome as one naming a
    known signal. The fields after `riec` name the command, for the casus event and a refusal.
    """

    signaal_id: str
    casus_id: str
    riec: str
    opdracht_id: str = ""
    """The command that asked for the link (`<riec>:<ce_id>`)."""
    ce_type: str = ""
    tijd: datetime | None = None
    """The command's `ce_time`: a confirmed link counts in the annual tables of this year."""
    gevraagd_op: datetime | None = None
    """When the link was recorded: a link to a signal not seen expires a fixed time after it."""
    bron_partitie: int = 0
    bron_offset: int = -1
    """Where the command is on `riec.<riec>.opdrachten`, for the DLQ record of a refusal."""
    bron_timestamp: int = 0


class SignaalGerouteerd(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.signaal_gerouteerd.v1", tag_field="type"
):
    """Where a signal was routed: written back to the signal's partition by the stage that routed
    it, in the same transaction, so that vastleggen knows which RIECs may link it."""

    signaal_id: str
    bestemmingen: list[str]
    besloten_op: datetime
    regelversie: str | None = None
    """The reference data version that decided the routes (as on each routed message)."""
    hkp_positie: int | None = None
    """The HKP register's position on `engine.knelpunten` when they were decided."""


class KoppelingBeslist(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.koppeling_beslist.v1", tag_field="type"
):
    """Vastleggen's decision on a link, sent to the casus's single writer; an expiry is also kept on
    the signal log, so that restoring from the log never decides it again."""

    koppeling: KoppelingGevraagd
    uitkomst: Literal["bevestigd", "geweigerd", "verlopen"]
    besloten_op: datetime
    reden_code: str = ""
    """For geweigerd and verlopen: the bounded code of the refusal."""
    reden: str = ""
    """For geweigerd and verlopen: what the RIEC can do about it; never personal data."""


class SignaalVergeten(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.signaal_vergeten.v1", tag_field="type"
):
    """The signal's key was destroyed (erased or expired): vastleggen drops its identifiers, so a
    link confirmed later adds none of them to the open-casus index. Sent to its candidates
    partition by the executor (`engine.handlers.vergeten`); not logged: a restore finds the key gone."""

    signaal_id: str


SignaalLogRecord = (
    SignaalOntvangen | KoppelingGevraagd | SignaalGerouteerd | KoppelingBeslist | SignaalVergeten
)
"""What `engine.signalen` and `engine.signalen.kandidaten` hold, keyed by signaal_id."""

SIGNAAL_LOG_ENCODER = msgspec.json.Encoder()
SIGNAAL_LOG_DECODER = msgspec.json.Decoder(SignaalLogRecord)
