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
