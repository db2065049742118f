"""Tamper evidence for the logs others rely on (the route topics, `engine.audit`): a seal on every
record, a hash chain per partition, and the rules by which a verifier names the first offset where a
log was changed. Pure: the writers, the notary and `verifieer` (not yet wired: issue 31) bring the
records and the keys.

Why not a chain inside the records: every route topic and the audit topic have many writers at once
(every worker's vastleggen transaction, every worker's API), so no writer knows the record before
its own. The design therefore has two parts:

- **A seal per record**, made by its writer: `zegel` = HMAC-SHA256 under a key only the engine
  holds (derived from the master key) over the topic, the key, the value and the CloudEvents id.
  Whoever holds the broker's admin credentials can append or rewrite a record, but not seal it: a
  forged or rewritten record is found by its seal alone. A genuine record appended again has a
  duplicate CloudEvents id.
- **A chain per partition**, kept by one writer (the notary) on a topic of its own: blocks that each
  list the partition's next records as links (offset, a keyed hash of the record key, the seal, the
  record's timestamp) and carry the chain value before and after them, `keten` = HMAC over the
  previous value and the links. A record removed from the log shows as a link without its record.

Erasure and retention must not break it, and do not: what a link names may be missing when the
record aged out (its timestamp is older than the topic's retention) or, on a compacted topic, when
a later link has the same record key (a withdrawal replaces its route under the same key, and
compaction keeps the latest). Anything else missing, a record present with a wrong seal, or a
record the chain does not list below its head, is a break, named by its offset. The chain holds no
content: keyed hashes only, so a forgotten signal's route leaves nothing readable in it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

ZEGEL_HEADER = "keten_zegel"
"""The record header that carries a record's seal."""


def _veld(h: hmac.HMAC, waarde: bytes | None) -> None:
    # The length before each field keeps two fields' bytes from running into one another; -1 is null.
    h.update(b"-1:" if waarde is None else f"{len(waarde)}:".encode())
    h.update(waarde or b"")


def zegel(sleutel: bytes, topic: str, key: bytes | None, value: bytes | None, ce_id: str) -> str:
    """A record's seal: who holds the engine's key wrote exactly these bytes to this topic."""
    h = hmac.new(sleutel, b"riec-engine zegel v1\0", hashlib.sha256)
    for veld in (topic.encode(), key, value, ce_id.encode()):
        _veld(h, veld)
    return h.hexdigest()


def sleutel_hash(sleutel: bytes, key: bytes | None) -> str:
    """A record key as the chain names it: keyed, so the chain reveals no signal id."""
    h = hmac.new(sleutel, b"riec-engine sleutel v1\0", hashlib.sha256)
    _veld(h, key)
    return h.hexdigest()[:32]


class Schakel(msgspec.Struct, frozen=True, array_like=True):
    """One record as the notary saw it."""

    offset: int
    sleutel: str
    zegel: str
    tijd_ms: int


class Blok(msgspec.Struct, frozen=True, kw_only=True):
    """A notary record: the next links of one partition, and the chain before and after them."""

    topic: str
    partitie: int
    schakels: tuple[Schakel, ...]
    vorige: str
    keten: str


def begin(topic: str, partitie: int) -> str:
    """The chain value before a partition's first block."""
    return hashlib.sha256(f"riec-engine keten v1\0{topic}\0{partitie}".encode()).hexdigest()


def volgende(sleutel: bytes, vorige: str, schakels: Sequence[Schakel]) -> str:
    """The chain value after these links."""
    h = hmac.new(sleutel, vorige.encode(), hashlib.sha256)
    for s in schakels:
        h.update(f"\0{s.offset}\0{s.sleutel}\0{s.zegel}\0{s.tijd_ms}".encode())
    return h.hexdigest()


def blok(sleutel: bytes, topic: str, partitie: int, vorige: str, schakels: Sequence[Schakel]) -> Blok:
    """The notary's next block for a partition."""
    return Blok(
        topic=topic,
        partitie=partitie,
        schakels=tuple(schakels),
        vorige=vorige,
        keten=volgende(sleutel, vorige, schakels),
    )


@dataclass(frozen=True, slots=True)
class Waarneming:
    """A record of the partition as the verifier reads it."""

    offset: int
    key: bytes | None
    value: bytes | None
    ce_id: str
    zegel: str | None
    tijd_ms: int


@dataclass(frozen=True, slots=True)
class Breuk:
    """Where a log stops being what the engine wrote, and how."""

    offset: int
    reden: str


@dataclass(frozen=True, slots=True)
class Beleid:
    """What a topic's own rules may remove: records past retention, superseded ones if compacted."""

    retentie_ms: int | None
    compact: bool


def controleer(
    sleutel: bytes,
    topic: str,
    partitie: int,
    blokken: Iterable[Blok],
    records: Iterable[Waarneming],
    beleid: Beleid,
    nu_ms: int,
) -> Breuk | None:
    """The first offset where the partition differs from what the engine wrote and notarised,
    or None when everything present is sealed and everything notarised is there or rightly gone."""
    breuken: list[Breuk] = []
    schakels: dict[int, Schakel] = {}
    keten = begin(topic, partitie)
    for b in blokken:
        if b.vorige != keten or volgende(sleutel, b.vorige, b.schakels) != b.keten:
            # Named by the first offset after what the intact chain listed: a block was changed or removed.
            breuken.append(Breuk(max(schakels, default=-1) + 1, "the notary's chain is broken after this"))
            break
        keten = b.keten
        schakels.update((s.offset, s) for s in b.schakels)
    kop = max(schakels, default=-1)
    aanwezig: dict[int, Waarneming] = {}
    gezien: dict[str, int] = {}
    for r in records:
        aanwezig[r.offset] = r
        echt = zegel(sleutel, topic, r.key, r.value, r.ce_id)
        if r.zegel is None or not hmac.compare_digest(r.zegel, echt):
            breuken.append(Breuk(r.offset, "not as the engine sealed it (written or changed by another)"))
            continue
        if r.ce_id in gezien:
            breuken.append(Breuk(r.offset, f"a copy of offset {gezien[r.ce_id]} (the same CloudEvents id)"))
            continue
        gezien[r.ce_id] = r.offset
        s = schakels.get(r.offset)
        if r.offset <= kop and (s is None or s.zegel != echt):
            breuken.append(Breuk(r.offset, "the record is not the one the notary listed at this offset"))
    laatste_per_sleutel: dict[str, int] = {}
    for s in schakels.values():
        laatste_per_sleutel[s.sleutel] = max(s.offset, laatste_per_sleutel.get(s.sleutel, -1))
    for offset, s in sorted(schakels.items()):
        if offset in aanwezig:
            continue
        verlopen = beleid.retentie_ms is not None and s.tijd_ms + beleid.retentie_ms <= nu_ms
        vervangen = beleid.compact and laatste_per_sleutel[s.sleutel] > offset
        if not verlopen and not vervangen:
            breuken.append(Breuk(offset, "listed by the notary and gone, not by retention or compaction"))
            break
    return min(breuken, key=lambda b: b.offset) if breuken else None
