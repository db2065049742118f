"""Kafka headers described by Structs, so their names live in one place (and in the schemas)."""

from __future__ import annotations

from datetime import datetime

import msgspec


def kafka_headers(attributes: msgspec.Struct) -> list[tuple[str, bytes]]:
    """A Struct as Kafka headers: its encoded field names, values as UTF-8 text."""
    builtins = msgspec.to_builtins(attributes)
    return [(name, str(value).encode()) for name, value in builtins.items() if value is not None]


class DlqHerkomst(msgspec.Struct, frozen=True, kw_only=True):
    """Headers `dlq.ingress` adds to a refused message, after the message's own headers."""

    reason: str
    """Why it was refused, for the partner's integrator to act on. Never holds a raw identifier."""
    reason_code: str
    """A short code for the reason, as in the metric riec_signals_refused_total."""
    source_topic: str
    source_partition: int
    source_offset: int
    source_timestamp: int
    """The refused record's Kafka timestamp, in milliseconds since the epoch."""
    refused_at: datetime
    value_form: str = "original"
    """`original`: the value is the refused message's bytes. `pseudonymised`: the command was
    refused after ingress (by its casus or HKP), so the value is the command as accepted, with
    pseudonyms; the original stays on its source topic at the offset above. `besluit`: a link the
    command asked for (casus.openen `signalen`, casus.signaal_koppelen) was refused or expired
    after the command was applied; the value is that decision (casus_id, signaal_id, code, reden)."""


class QuarantaineHerkomst(msgspec.Struct, frozen=True, kw_only=True):
    """Headers `dlq.engine` adds to a quarantined record, after the record's own headers."""

    reason: str
    """What went wrong, for the operator: the exception's text with digit runs masked, or which
    output was too large. Never holds a raw identifier."""
    reason_code: str
    """`handler_error` (the stage's handler raised) or `output_too_large`."""
    error: str
    """The exception's class (as in the metric riec_quarantined_total)."""
    stage: str
    source_topic: str
    source_partition: int
    source_offset: int
    source_timestamp: int
    """The record's Kafka timestamp, in milliseconds since the epoch (kept when it is re-driven)."""
    quarantined_at: datetime
    original_headers: int
    """How many headers before these are the record's own: re-driving sends exactly those."""
    value_form: str = "original"
    """`original`: the value is the record's bytes. `omitted`: too large to keep here (over 8 MiB);
    the record stays on its source topic at the offset above."""
