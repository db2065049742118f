"""The accepted-signal event: what ingress appends to the internal signal log (kept forever).

It is the partner's signal after validation and pseudonymisation. No raw BSN: persons are carried as
a keyed hash (HMAC-SHA256 under ENGINE_PSEUDONYM_KEY), so matching works on pseudonyms only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

from engine.events.signaal import Adres, Locatie, Rechtspersoon, Voertuig

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
    omschrijving: str
    """The partner's text, with anything that passes the elfproef replaced by its pseudonym."""
    waargenomen_op: date
    locatie: Locatie | None = None
    subjecten: list[PseudoSubject] = []


class KoppelingGevraagd(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.koppeling_gevraagd.v1", tag_field="type"
):
    """A casus brought in or linked this signal: its identifiers join the open-casus index.

    Sent to the signal's partition; kept on the signal log while the signal has not arrived yet,
    so a command naming a signal not yet seen has the same outcome as one naming a known signal.
    """

    signaal_id: str
    casus_id: str
    riec: str


SignaalLogRecord = SignaalOntvangen | KoppelingGevraagd
"""What `engine.signalen` and `engine.signalen.kandidaten` hold, keyed by signaal_id."""

SIGNAAL_LOG_ENCODER = msgspec.json.Encoder()
SIGNAAL_LOG_DECODER = msgspec.json.Decoder(SignaalLogRecord)
