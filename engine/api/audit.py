"""Accounting for every read of personal data: one record per read in the form of the Dutch
standard Logboek Dataverwerkingen (LDV): trace and span ids, status, name, start and end time,
resource, and `dpl.*` attributes. It holds ids only: no identifier, no pseudonym."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Literal

import msgspec

from engine.domain.vergeten.inzage import Lezing

VERWERKINGSACTIVITEITEN = {
    "inbox": "urn:nl:riec:verwerkingsactiviteit:signalen-inzien",
    "casus": "urn:nl:riec:verwerkingsactiviteit:casus-inzien",
    "opdracht": "urn:nl:riec:verwerkingsactiviteit:casus-behandelen",
    "vieroogen": "urn:nl:riec:verwerkingsactiviteit:vier-ogen",
    "inzage": "urn:nl:riec:verwerkingsactiviteit:inzage-betrokkene",
}
"""Processing activities (register of the AVG art. 30) a dashboard read belongs to."""
DOEL = "Integrale aanpak ondermijning: RIEC-LIEC-convenant, Wet gegevensverwerking samenwerkingsverbanden"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


class Verwerkingslog(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One LDV log line (Logboek Dataverwerkingen, component Logboek, interface)."""

    trace_id: str
    span_id: str
    status: Literal["Unset", "Ok", "Error"]
    name: str
    start_time: datetime
    end_time: datetime
    parent_span_id: str | None = None
    resource: dict[str, dict[str, str]] = {}
    attributes: dict[str, str | list[str]] = {}


AUDIT_ENCODER = msgspec.json.Encoder()
AUDIT_DECODER = msgspec.json.Decoder(Verwerkingslog)


def trace_context(traceparent: str | None) -> tuple[str, str | None]:
    """The trace id to log under, and the caller's span: from a W3C `traceparent`, or a new trace."""
    match = _TRACEPARENT.match(traceparent or "")
    if match is None:
        return secrets.token_hex(16), None
    return match.group(1), match.group(2)


def _lijst(attributen: dict[str, str | list[str]], naam: str) -> list[str]:
    waarde = attributen.get(naam, [])
    return [waarde] if isinstance(waarde, str) else list(waarde)


def als_lezing(v: Verwerkingslog) -> Lezing:
    """An audit record as a read an inzage lists: who, when, what, which signals and casussen."""
    return Lezing(
        door=str(v.attributes.get("dpl.riec.actor", "")),
        op=v.start_time,
        wat=str(v.attributes.get("dpl.riec.resource", v.name)),
        signaal_ids=_lijst(v.attributes, "dpl.riec.signaal_ids"),
        casus_ids=_lijst(v.attributes, "dpl.riec.casus_ids"),
    )


def leesregistratie(
    *,
    actor: str,
    activiteit: str,
    naam: str,
    pad: str,
    start: datetime,
    eind: datetime,
    traceparent: str | None,
    signaal_ids: list[str],
    casus_ids: list[str] | None = None,
    status: Literal["Unset", "Ok", "Error"] = "Ok",
) -> Verwerkingslog:
    """The log line of one read by `actor` of the resource at `pad`: the signals and casussen it
    showed. Ids only, no pseudonym (`dpl.core.data_subject_id` is left out): the log is kept five
    years, and an erased subject must leave no pseudonym in it; an inzage finds the reads of a
    subject through the ids of its signals and casussen (`engine.domain.vergeten.inzage`)."""
    trace_id, parent = trace_context(traceparent)
    attributes: dict[str, str | list[str]] = {
        "dpl.core.processing_activity_id": VERWERKINGSACTIVITEITEN[activiteit],
        "dpl.riec.actor": actor,
        "dpl.riec.purpose": DOEL,
        "dpl.riec.resource": pad,
        "dpl.riec.signaal_ids": signaal_ids,
    }
    if casus_ids:
        attributes["dpl.riec.casus_ids"] = casus_ids
    return Verwerkingslog(
        trace_id=trace_id,
        span_id=secrets.token_hex(8),
        status=status,
        name=naam,
        start_time=start,
        end_time=eind,
        parent_span_id=parent,
        resource={"attributes": {"service.name": "riec-engine"}},
        attributes=attributes,
    )
