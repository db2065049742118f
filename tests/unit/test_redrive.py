"""Given dlq.engine with quarantined records and the markers of earlier re-drives, when records are
chosen for re-driving, then the options select them, a record re-driven before is left alone, and
no header a record brought can hide it or pass for a marker."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from engine.errors import OutputTooLarge
from engine.kafka.quarantine import quarantine_record
from engine.kafka.redrive import MARKER, Selection, select
from engine.topics import DLQ_ENGINE

NU = datetime(2026, 3, 1, tzinfo=UTC)


def consumed(
    topic: str, offset: int, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, 0, offset, 1_700_000_000_000, 0, key, value, None, 0, 0, headers)


def quarantined(
    dlq_offset: int, source: str, stage: str, fout: Exception, **extra: bytes
) -> ConsumerRecord[bytes, bytes]:
    origineel = consumed(
        source, 40 + dlq_offset, b"k", b"v%d" % dlq_offset, [("ce_id", b"x"), *extra.items()]
    )
    bericht = quarantine_record(origineel, stage=stage, fout=fout, nu=NU)
    return consumed(DLQ_ENGINE, dlq_offset, bericht.key, bericht.value, list(bericht.headers))


def marker(dlq_offset: int, of: int) -> ConsumerRecord[bytes, bytes]:
    headers = [(MARKER, str(of).encode()), ("redriven_to", b"t[0]"), ("redriven_at", b"2026")]
    return consumed(DLQ_ENGINE, dlq_offset, str(of).encode(), b"", headers)


DLQ = [
    quarantined(0, "engine.zoekindex", "zoekindex", OutputTooLarge("routes.riec.limburg", 2, 1)),
    quarantined(1, "engine.opdrachten.kandidaten", "besluiten", ValueError("v")),
    marker(2, of=1),
    quarantined(3, "engine.signalen.kandidaten", "vastleggen", KeyError("k"), redriven_dlq_offset=b"0"),
    consumed(DLQ_ENGINE, 4, None, b"written by hand", []),
]


def test_every_quarantined_record_not_re_driven_before_is_chosen_with_its_own_headers() -> None:
    gekozen = select(DLQ, Selection())

    assert [h.dlq_offset for h in gekozen] == [0, 3]
    assert gekozen[0].headers == [("ce_id", b"x")]
    assert gekozen[0].value == b"v0"
    assert (gekozen[0].herkomst.source_topic, gekozen[0].herkomst.source_offset) == ("engine.zoekindex", 40)
    assert gekozen[1].headers == [("ce_id", b"x"), ("redriven_dlq_offset", b"0")], "kept as it came"


def test_options_select_by_stage_error_reason_topic_and_offset() -> None:
    assert [h.dlq_offset for h in select(DLQ, Selection(stages=frozenset({"vastleggen"})))] == [3]
    assert [h.dlq_offset for h in select(DLQ, Selection(errors=frozenset({"KeyError"})))] == [3]
    assert [h.dlq_offset for h in select(DLQ, Selection(reason_codes=frozenset({"output_too_large"})))] == [0]
    assert [h.dlq_offset for h in select(DLQ, Selection(source_topics=frozenset({"engine.zoekindex"})))] == [
        0
    ]
    assert [h.dlq_offset for h in select(DLQ, Selection(offsets=frozenset({1})))] == []
    assert [h.dlq_offset for h in select(DLQ, Selection(offsets=frozenset({1}), opnieuw=True))] == [1]
