"""The KIP-447 pieces of `engine.kafka.kip447` without a broker (the broker's answers are in
tests/pipeline/test_kip447_pipeline.py): what goes on the wire, failing closed on an old broker,
and aborting after a refused commit in whatever state the transaction is."""

from __future__ import annotations

import asyncio
from io import BytesIO

import pytest
from aiokafka.errors import IllegalGenerationError, IncompatibleBrokerVersion
from aiokafka.producer.transaction_manager import TransactionManager, TransactionState
from aiokafka.protocol.transaction import TxnOffsetCommitRequest_v0

from engine.kafka import kip447

LID = kip447.ConsumerGroupMetadata("g", 7, "lid-1", "g-werker-1")
TOPICS = [("engine.signalen.kandidaten", [(3, 120, "")])]


def test_v3_carries_the_membership_field_by_field() -> None:
    request = kip447.TxnOffsetCommitRequest("t", LID, 42, 2, TOPICS).build(kip447.TxnOffsetCommitRequest_v3)
    terug = kip447.TxnOffsetCommitRequest_v3.SCHEMA.decode(BytesIO(request.encode()))
    assert terug[:7] == ("t", "g", 42, 2, 7, "lid-1", "g-werker-1")
    [(topic, [(partitie, offset, leider_epoch, metadata, _)], _)] = terug[7]
    assert (topic, partitie, offset, leider_epoch, metadata) == ("engine.signalen.kandidaten", 3, 120, -1, "")
    assert str(LID) == "g" and isinstance(LID, str), "it passes aiokafka's group id checks"


def test_an_old_broker_gets_no_commit_that_should_have_been_fenced() -> None:
    with pytest.raises(IncompatibleBrokerVersion):
        kip447.TxnOffsetCommitRequest("t", LID, 42, 2, TOPICS).build(TxnOffsetCommitRequest_v0)
    zonder = kip447.ConsumerGroupMetadata("g")  # no membership asked for: v0 is what it was
    assert kip447.TxnOffsetCommitRequest("t", zonder, 42, 2, TOPICS).build(TxnOffsetCommitRequest_v0)


def test_offset_fetch_v7_asks_for_stable_offsets() -> None:
    request = kip447.OffsetFetchRequest("g", [("x", [0, 1])]).build(kip447.OffsetFetchRequest_v7)
    groep, topics, stabiel, _ = kip447.OffsetFetchRequest_v7.SCHEMA.decode(BytesIO(request.encode()))
    assert (groep, [(t, ps) for t, ps, _ in topics], stabiel) == ("g", [("x", [0, 1])], True)


async def manager_in(state: TransactionState) -> tuple[TransactionManager, asyncio.Future[None]]:
    tm = TransactionManager("t", 15_000)
    tm.set_pid_and_epoch(1, 0)
    tm.begin_transaction()
    tm.maybe_add_partition_to_txn(kip447.TopicPartition("out", 0))
    tm.partition_added(kip447.TopicPartition("out", 0))
    offsets = tm.add_offsets_to_txn({}, "g")
    if state == TransactionState.ABORTING_TRANSACTION:
        tm.aborting_transaction()
    return tm, offsets


async def test_a_refused_commit_leaves_the_transaction_abortable_with_its_partitions() -> None:
    tm, offsets = await manager_in(TransactionState.IN_TRANSACTION)
    kip447._abortable(tm, kip447.ZombieCommitError(IllegalGenerationError()))
    assert tm.state == TransactionState.ABORTABLE_ERROR
    assert tm.txn_partitions, "kept: the abort must send EndTxn for them"
    assert isinstance(offsets.exception(), kip447.ZombieCommitError)
    tm.aborting_transaction()
    assert not tm.is_empty_transaction() and tm.needs_transaction_commit() is not None


async def test_a_refusal_that_arrives_while_aborting_does_not_stop_the_abort() -> None:
    tm, offsets = await manager_in(TransactionState.ABORTING_TRANSACTION)
    kip447._abortable(tm, kip447.ZombieCommitError(IllegalGenerationError()))
    assert tm.state == TransactionState.ABORTING_TRANSACTION and tm.needs_transaction_commit() is not None
    assert isinstance(offsets.exception(), kip447.ZombieCommitError)
