"""Given a partition of records the engine sealed and a notary chain over them, when someone with
the broker's admin credentials changes, adds or removes records, then the verifier names the first
offset that is not what the engine wrote; retention and compaction (a withdrawal replacing its route
under the same key, the erasure's way) remove records without breaking anything."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest

from engine.domain.keten import (
    Beleid,
    Blok,
    Breuk,
    Schakel,
    Waarneming,
    begin,
    blok,
    controleer,
    sleutel_hash,
    zegel,
)

K = b"k" * 32
T = "routes.riec.rotterdam"
NU = 1_800_000_000_000
DAG = 86_400_000
ROUTES = Beleid(retentie_ms=365 * DAG, compact=True)
AUDIT = Beleid(retentie_ms=30 * DAG, compact=False)


def record(offset: int, key: str, value: str, *, tijd_ms: int = NU - DAG, sleutel: bytes = K) -> Waarneming:
    ce_id = f"{key}/{offset}"
    z = zegel(sleutel, T, key.encode(), value.encode(), ce_id)
    return Waarneming(offset, key.encode(), value.encode(), ce_id, z, tijd_ms)


def notaris(records: list[Waarneming], per: int = 4) -> list[Blok]:
    """Blocks of `per` links, as the notary writes them while it reads the partition."""
    blokken, vorige = [], begin(T, 0)
    for i in range(0, len(records), per):
        deel = [
            Schakel(r.offset, sleutel_hash(K, r.key), r.zegel or "", r.tijd_ms) for r in records[i : i + per]
        ]
        blokken.append(blok(K, T, 0, vorige, deel))
        vorige = blokken[-1].keten
    return blokken


def log(n: int = 10) -> list[Waarneming]:
    return [record(i, f"s{i}", f"route {i}") for i in range(n)]


def verifieer(blokken: list[Blok], records: list[Waarneming], beleid: Beleid = ROUTES) -> Breuk | None:
    return controleer(K, T, 0, blokken, records, beleid, NU)


def test_what_the_engine_wrote_and_the_notary_listed_verifies() -> None:
    records = log()
    assert verifieer(notaris(records), records) is None


def test_a_record_rewritten_in_place_is_found_at_its_offset() -> None:
    records = log()
    blokken = notaris(records)
    records[6] = dataclasses.replace(records[6], value=b"route naar elders")
    assert verifieer(blokken, records) == Breuk(
        6, "not as the engine sealed it (written or changed by another)"
    )


def test_a_record_appended_by_the_admin_is_found_though_the_notary_has_not_reached_it() -> None:
    records = log()
    blokken = notaris(records)
    nep = Waarneming(10, b"s3", b"route 3", "s3/10", "0" * 64, NU)
    assert verifieer(blokken, [*records, nep]) == Breuk(
        10, "not as the engine sealed it (written or changed by another)"
    )


def test_a_genuine_record_appended_again_is_a_copy() -> None:
    records = log()
    kopie = dataclasses.replace(records[2], offset=10)
    assert verifieer(notaris(records), [*records, kopie]) == Breuk(
        10, "a copy of offset 2 (the same CloudEvents id)"
    )


def test_records_deleted_from_the_start_before_their_retention_are_found_at_the_first() -> None:
    records = log()
    blokken = notaris(records)
    # kafka-delete-records.sh up to offset 5
    assert verifieer(blokken, records[5:]) == Breuk(
        0, "listed by the notary and gone, not by retention or compaction"
    )


def test_records_gone_by_retention_are_not_a_break() -> None:
    oud = [record(i, f"s{i}", f"route {i}", tijd_ms=NU - 400 * DAG) for i in range(5)]
    records = oud + [record(i, f"s{i}", f"route {i}") for i in range(5, 10)]
    assert verifieer(notaris(records), records[5:]) is None


def test_a_route_compacted_away_after_its_withdrawal_under_the_same_key_still_verifies() -> None:
    records = log()
    records.append(record(10, "s2", "ingetrokken"))  # the erasure's withdrawal of s2's route
    blokken = notaris(records)
    na_compactie = [r for r in records if r.offset != 2]
    assert verifieer(blokken, na_compactie) is None
    # On a topic that is not compacted (the audit log), the same gap is a break
    assert verifieer(blokken, na_compactie, AUDIT) == Breuk(
        2, "listed by the notary and gone, not by retention or compaction"
    )


def test_a_route_the_admin_replaced_under_its_key_is_found_though_compaction_removed_it() -> None:
    records = log()
    blokken = notaris(records)
    # The admin writes another record with s4's key; compaction then drops the original
    nep = Waarneming(10, b"s4", b"route naar elders", "s4/10", None, NU)
    gevonden = verifieer(blokken, [*[r for r in records if r.offset != 4], nep])
    assert gevonden == Breuk(4, "listed by the notary and gone, not by retention or compaction")


def test_a_notary_block_changed_or_removed_breaks_the_chain_after_what_it_still_proves() -> None:
    records = log(12)
    blokken = notaris(records)
    zonder = [blokken[0], blokken[2]]
    assert verifieer(zonder, records) == Breuk(4, "the notary's chain is broken after this")
    schakels = list(blokken[1].schakels)
    schakels[0] = msgspec.structs.replace(
        schakels[0], zegel=records[4].zegel.upper() if records[4].zegel else ""
    )
    veranderd = [blokken[0], msgspec.structs.replace(blokken[1], schakels=tuple(schakels)), blokken[2]]
    assert verifieer(veranderd, records) == Breuk(4, "the notary's chain is broken after this")


def test_a_record_the_notary_did_not_list_below_its_head_was_slipped_in() -> None:
    records = log()
    blokken = notaris([r for r in records if r.offset != 3])
    assert verifieer(blokken, records) == Breuk(
        3, "the record is not the one the notary listed at this offset"
    )


@pytest.mark.parametrize("andere", [b"x" * 32, b"k" * 31 + b"K"])
def test_under_another_key_nothing_verifies(andere: bytes) -> None:
    records = log()
    gevonden = controleer(andere, T, 0, notaris(records), records, ROUTES, NU)
    assert gevonden is not None and gevonden.offset == 0


def test_the_chain_names_no_record_key_and_holds_no_content() -> None:
    records = log()
    gecodeerd = b"".join(msgspec.json.encode(b) for b in notaris(records))
    for r in records:
        assert r.value and r.value not in gecodeerd
        assert b'"' + (r.key or b"") + b'"' not in gecodeerd
