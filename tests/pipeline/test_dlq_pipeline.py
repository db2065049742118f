"""Given a running engine, when partners publish bad input, then every message lands in
dlq.ingress with its bytes, where it came from and a reason; and the worker keeps going."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures import encode, headers, payload
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import header, publish, read_until

pytestmark = pytest.mark.pipeline


def body(**overrides: Any) -> bytes:
    return encode(payload(**overrides))


# (case, org, value, header overrides or None for no headers at all, reason code)
BAD: list[tuple[str, str, bytes, dict[str, str] | None, str]] = [
    ("not json", "gm0363", b"<signaal/>", {}, "not_json"),
    ("no envelope", "gm0363", body(), None, "envelope_invalid"),
    ("spoofed source", "politie", body(), {"ce_source": "urn:nl:riec:partner:om"}, "source_mismatch"),
    ("failed elfproef", "om", body(subjecten=[{"type": "persoon", "bsn": "111222334"}]), {}, "elfproef"),
    ("unknown gemeente", "gm0363", body(locatie={"gemeente": "GM9999"}), {}, "unknown_gemeente"),
    ("unknown theme", "gm0363", body(themas=["fraude"]), {}, "payload_invalid"),
    ("oversize text", "nvwa", body(omschrijving="x" * 10_001), {}, "payload_invalid"),
    ("wrong types", "uwv", body(waargenomen_op=20260301), {}, "payload_invalid"),
    ("missing fields", "ind", encode({"soort": "signaal"}), {}, "payload_invalid"),
    ("too large", "douane", b"{" + b" " * (1024 * 1024 + 10) + b"}", {}, "too_large"),
    ("toeslagen", "toeslagen", body(), {}, "partner_not_permitted"),
]


async def test_every_kind_of_bad_input_is_kept_with_a_reason_and_the_stream_goes_on(
    worker: Worker, producer: AIOKafkaProducer, broker: str
) -> None:
    sent: dict[bytes, tuple[str, bytes, int, str]] = {}
    for case, org, value, hdrs, code in BAD:
        key = f"{case}-{uuid.uuid4()}".encode()
        topic = f"partner.{org}.signalen"
        hs = [] if hdrs is None else headers(org, str(uuid.uuid4()), **hdrs)
        meta = await producer.send_and_wait(topic, value, key=key, headers=hs)
        sent[key] = (topic, value, meta.offset, code)
    good_id = f"after-bad-{uuid.uuid4()}"
    await publish(producer, "gm0363", ce_id=good_id)

    refused = await read_until(
        broker, ["dlq.ingress"], lambda f: len(f) >= len(sent), match=lambda r: r.key in sent, timeout=45
    )
    assert sorted(r.key for r in refused) == sorted(sent)  # type: ignore[type-var]
    for record in refused:
        assert record.key is not None
        topic, value, offset, code = sent[record.key]
        assert record.value == value, "the original bytes are kept"
        assert header(record, "reason_code") == code
        reason = header(record, "reason")
        assert reason and len(reason) > 15
        assert header(record, "source_topic") == topic
        assert header(record, "source_offset") == str(offset)
        assert header(record, "source_partition") == "0"

    routed = await read_until(
        broker,
        ["routes.riec.amsterdam-amstelland"],
        lambda f: len(f) >= 1,
        match=lambda r: orjson.loads(r.value)["signaal_id"] == f"gm0363:{good_id}",
    )
    assert len(routed) == 1, "a good signal after bad ones is still routed"
    assert worker.process.poll() is None
