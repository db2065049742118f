"""Helpers for pipeline tests that publish RIEC commands and read routes and casus events."""

from __future__ import annotations

import os
import random
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from engine.domain.ingress.bsn import elfproef
from engine.domain.routing import topic_van
from engine.topics import route_bestemmingen
from tests.fixtures import command_headers, encode
from tests.pipeline.kafka import read_until

ROUTE_TOPICS = [topic_van(b) for b in route_bestemmingen()]
SEED = int(os.environ.get("TEST_SEED") or random.randrange(1 << 30))
"""The seed of the BSNs and kentekens these helpers draw; the session's header prints it, and
TEST_SEED=<seed> draws the same ones again."""
rng = random.Random(SEED)


def uniek(prefix: str) -> str:
    # A whole UUID: ten hex characters hold nine digits in a row one time in a hundred, and a tenth of
    # those pass the elfproef, an id the BSN gate refuses (bsn_in_id).
    return f"{prefix}-{uuid.uuid4()}"


def bsn() -> str:
    while not elfproef(candidate := str(rng.randrange(100_000_000, 999_999_999))):
        pass
    return candidate


def kenteken() -> str:
    return "".join(rng.choice("BDFGHJKLNPRSTVXZ") for _ in range(2)) + str(rng.randrange(100, 999)) + "X"


async def opdracht(
    producer: AIOKafkaProducer,
    riec: str,
    soort: str,
    body: dict[str, Any],
    ce_id: str | None = None,
    **hdrs: str,
) -> str:
    """Publish a RIEC office's command; returns its ce_id."""
    ce_id = ce_id or uniek("cmd")
    await producer.send_and_wait(
        f"riec.{riec}.opdrachten",
        encode(body),
        headers=command_headers(riec, f"nl.riec.{soort}.v1", ce_id, **hdrs),
    )
    return ce_id


async def gebeurtenissen(
    broker: str, aggregaat: str, count: int, timeout: float = 20
) -> list[dict[str, Any]]:
    records = await read_until(
        broker,
        ["engine.gebeurtenissen"],
        lambda f: len(f) >= count,
        match=lambda r: r.key == aggregaat.encode(),
        timeout=timeout,
    )
    return [orjson.loads(r.value) for r in records]


async def routes(broker: str, org: str, ce_id: str, expected: int) -> dict[str, dict[str, Any]]:
    """The routed messages of one signal by destination, after waiting for `expected` of them."""
    signaal_id = f"{org}:{ce_id}"
    found = await read_until(
        broker,
        ROUTE_TOPICS,
        lambda f: len(f) >= expected,
        match=lambda r: orjson.loads(r.value)["signaal_id"] == signaal_id,
        linger=1.5,
    )
    by_destination: dict[str, dict[str, Any]] = {}
    for r in found:
        message = orjson.loads(r.value)
        assert message["bestemming"] not in by_destination, "one message per destination"
        by_destination[message["bestemming"]] = message
    return by_destination


async def in_index(broker: str, casus_id: str, identificatoren: int = 1, timeout: float = 30) -> None:
    """Wait until the open-casus index (`engine.casusindex`, which every routing worker reads before
    each batch) names this casus for this many identifiers: a signal sent from now on matches it."""
    await read_until(
        broker,
        ["engine.casusindex"],
        lambda f: len({r.key for r in f}) >= identificatoren,
        match=lambda r: r.value is not None and casus_id.encode() in r.value,
        timeout=timeout,
    )


async def uit_index(broker: str, casus_id: str) -> None:
    """Wait until the index has dropped a closed casus (its `gesloten:` record follows the changes)."""
    await read_until(
        broker,
        ["engine.casusindex"],
        lambda f: len(f) >= 1,
        match=lambda r: r.key == f"gesloten:{casus_id}".encode(),
    )
