"""KIP-447 for aiokafka 0.14: transactional offset commits that carry the consumer's group
membership, and offset fetches that wait for pending transactional commits.

aiokafka 0.14 sends `TxnOffsetCommit` v0 (a group id only) and `OffsetFetch` v1-v3. With those, a
worker that lost its partitions in a rebalance (a "zombie": paused past its session timeout) can
still commit offsets for them, so exactly-once needs a transactional producer per input partition
whose id moves with the partition (the new owner fences the old by epoch). KIP-447 (Kafka 2.5)
moves the fencing to the group coordinator instead:

- `TxnOffsetCommit` v3 carries the consumer's generation id, member id and group instance id. The
  coordinator refuses a commit from an older generation (ILLEGAL_GENERATION), an unknown member
  (UNKNOWN_MEMBER_ID) or a static member replaced by a newer instance (FENCED_INSTANCE_ID); the
  producer must then abort, and none of what the zombie wrote in that transaction becomes readable.
  So one producer per worker can commit for all its partitions.
- `OffsetFetch` v7 with `require_stable`: while a transaction that holds an offset commit for a
  partition is still open, the coordinator answers UNSTABLE_OFFSET_COMMIT instead of the last
  stable offset. A new owner that retries until it gets an answer starts exactly after what the
  previous owner's transaction committed, or after what it had before if that transaction aborted.

Shaped so it can be offered upstream: the request and response versions as aiokafka declares
them, `ConsumerGroupMetadata` as Kafka's Java client names it, and `install()` changing three
places of aiokafka (the transaction manager's offset commit request and its response handling,
the group coordinator's offset fetch). Tested with aiokafka 0.14.0 against Kafka 3.9
(tests/pipeline/test_kip447_pipeline.py); pyproject pins aiokafka below 0.15 for that reason.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass
from typing import Any

import aiokafka.errors as Errors
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.consumer import group_coordinator
from aiokafka.producer import sender as sender_module
from aiokafka.producer.transaction_manager import TransactionState
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.commit import (
    OffsetFetchRequest_v1,
    OffsetFetchRequest_v2,
    OffsetFetchRequest_v3,
)
from aiokafka.protocol.transaction import TxnOffsetCommitRequest_v0
from aiokafka.protocol.types import (
    Boolean,
    CompactArray,
    CompactString,
    Int16,
    Int32,
    Int64,
    Schema,
    TaggedFields,
)
from aiokafka.structs import OffsetAndMetadata

log = logging.getLogger(__name__)

UNKNOWN_OFFSET = -1


class FencedInstanceIdError(Errors.BrokerResponseError):  # type: ignore[misc]
    errno = 82
    message = "FENCED_INSTANCE_ID"
    description = "A static member with this group instance id was replaced by a newer instance."


class UnstableOffsetCommitError(Errors.BrokerResponseError):  # type: ignore[misc]
    errno = 88
    message = "UNSTABLE_OFFSET_COMMIT"
    description = "A transaction holding an offset commit for the partition is still open."
    retriable = True


_ERRORS: dict[int, type[Errors.KafkaError]] = {
    FencedInstanceIdError.errno: FencedInstanceIdError,
    UnstableOffsetCommitError.errno: UnstableOffsetCommitError,
}


def error_for(code: int) -> type[Errors.KafkaError]:
    """aiokafka's error class for a code, or one of those it lacks (82, 88)."""
    return _ERRORS.get(code) or Errors.for_code(code)


GROUP_FENCING = (Errors.IllegalGenerationError, Errors.UnknownMemberIdError, FencedInstanceIdError)
"""What the coordinator answers a commit from a member that is no longer (or never was) the
owner of its partitions in the current generation."""


class ZombieCommitError(Errors.CommitFailedError):  # type: ignore[misc]
    """The transaction's offset commit was refused by the group coordinator (GROUP_FENCING): the
    consumer is not in the group's current generation. Abort; the partitions belong to another."""

    def __init__(self, cause: Errors.KafkaError) -> None:
        super().__init__(f"offset commit refused: {type(cause).__name__}")
        self.cause = cause


class ConsumerGroupMetadata(str):
    """A group id (a `str`, so it passes through aiokafka's `send_offsets_to_transaction`
    unchanged) that also carries the consumer's membership at the moment of the commit."""

    generation_id: int
    member_id: str
    group_instance_id: str | None

    def __new__(
        cls, group_id: str, generation_id: int = -1, member_id: str = "", group_instance_id: str | None = None
    ) -> ConsumerGroupMetadata:
        self = super().__new__(cls, group_id)
        self.generation_id, self.member_id, self.group_instance_id = (
            generation_id,
            member_id,
            group_instance_id,
        )
        return self

    def __repr__(self) -> str:
        return f"ConsumerGroupMetadata({str(self)!r}, generation {self.generation_id}, {self.member_id!r})"


def group_metadata(consumer: AIOKafkaConsumer) -> ConsumerGroupMetadata:
    """The consumer's group membership now (Java's `KafkaConsumer.groupMetadata()`)."""
    c = consumer._coordinator
    return ConsumerGroupMetadata(c.group_id, c.generation, c.member_id, c._group_instance_id)


def member_metadata(consumer: AIOKafkaConsumer) -> ConsumerGroupMetadata:
    """`group_metadata`, for a commit that must be fenced: raises when the consumer is in no
    generation (never joined, or its heartbeat found it expelled and aiokafka reset it to -1).
    The coordinator treats a transactional commit without a generation and member id as a manual
    one and accepts it, whoever owns the partitions now."""
    metadata = group_metadata(consumer)
    if metadata.generation_id < 0 or not metadata.member_id:
        raise ZombieCommitError(Errors.UnknownMemberIdError())
    return metadata


# --- TxnOffsetCommit v3 (first flexible version, KIP-447 fields) -----------------------------


class TxnOffsetCommitResponse_v3(Response):  # type: ignore[misc]
    API_KEY = 28
    API_VERSION = 3
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(("partition_index", Int32), ("error_code", Int16), ("tags", TaggedFields)),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class TxnOffsetCommitRequest_v3(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 28
    API_VERSION = 3
    RESPONSE_TYPE = TxnOffsetCommitResponse_v3
    SCHEMA = Schema(
        ("transactional_id", CompactString("utf-8")),
        ("group_id", CompactString("utf-8")),
        ("producer_id", Int64),
        ("producer_epoch", Int16),
        ("generation_id", Int32),
        ("member_id", CompactString("utf-8")),
        ("group_instance_id", CompactString("utf-8")),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition_index", Int32),
                        ("committed_offset", Int64),
                        ("committed_leader_epoch", Int32),
                        ("committed_metadata", CompactString("utf-8")),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class TxnOffsetCommitRequest(Request[TxnOffsetCommitRequest_v0 | TxnOffsetCommitRequest_v3]):  # type: ignore[misc]
    """v3 where the broker has it (Kafka 2.5+), with the group metadata; else v0 without it."""

    API_KEY = 28

    def __init__(
        self,
        transactional_id: str,
        group: ConsumerGroupMetadata,
        producer_id: int,
        producer_epoch: int,
        topics: list[tuple[str, list[tuple[int, int, str]]]],
    ) -> None:
        self._transactional_id, self._group = transactional_id, group
        self._producer_id, self._producer_epoch, self._topics = producer_id, producer_epoch, topics

    def build(self, request_struct_class: type[Any]) -> Any:
        if request_struct_class.API_VERSION < 3:
            if self._group.generation_id >= 0:  # fencing asked for and the broker cannot: fail closed
                raise Errors.IncompatibleBrokerVersion("TxnOffsetCommit v3 (KIP-447, Kafka 2.5+) is needed")
            return request_struct_class(
                self._transactional_id,
                str(self._group),
                self._producer_id,
                self._producer_epoch,
                self._topics,
            )
        return request_struct_class(
            self._transactional_id,
            str(self._group),
            self._producer_id,
            self._producer_epoch,
            self._group.generation_id,
            self._group.member_id,
            self._group.group_instance_id,
            [(t, [(p, o, -1, m, {}) for p, o, m in ps], {}) for t, ps in self._topics],
            {},
        )


@dataclass(frozen=True, slots=True)
class _V0Errors:
    """A v3 response in the shape aiokafka's handler reads (`resp.errors`)."""

    errors: list[tuple[str, list[tuple[int, int]]]]


def _create_request(self: Any) -> Any:
    txn_manager = self._sender._txn_manager
    if not isinstance(self._group_id, ConsumerGroupMetadata):
        return _original["create_request"](self)
    offset_data: dict[str, list[tuple[int, int, str]]] = collections.defaultdict(list)
    for tp, offset in sorted(self._offsets.items()):
        offset_data[tp.topic].append((tp.partition, offset.offset, offset.metadata))
    return TxnOffsetCommitRequest(
        transactional_id=txn_manager.transactional_id,
        group=self._group_id,
        producer_id=txn_manager.producer_id,
        producer_epoch=txn_manager.producer_epoch,
        topics=list(offset_data.items()),
    )


def _handle_response(self: Any, resp: Any) -> Any:
    if isinstance(resp, TxnOffsetCommitResponse_v3):
        resp = _V0Errors([(t, [(p, e) for p, e, _ in ps]) for t, ps, _ in resp.topics])
    for _, partitions in resp.errors:
        for _, code in partitions:
            fout = error_for(code)
            if fout in GROUP_FENCING:
                _abortable(self._sender._txn_manager, ZombieCommitError(fout()))
                return None
    return _original["handle_response"](self, resp)


def _abortable(txn_manager: Any, exc: Errors.KafkaError) -> None:
    """As Java's TransactionManager on a refused commit: the transaction can only abort. Not
    aiokafka's `error_transaction`, which forgets the partitions the transaction wrote to: its
    abort would then send no EndTxn, and the broker would keep the transaction open (its records
    pending, the partitions' stable offset held back) and add the producer's next records to it."""
    if txn_manager.state != TransactionState.ABORTING_TRANSACTION:
        # Already aborting (the caller gave up while the commit was in flight): the abort goes on
        # and sends its EndTxn; moving back to ABORTABLE_ERROR would stop it.
        txn_manager._transition_to(TransactionState.ABORTABLE_ERROR)
    for _, _, fut in txn_manager._pending_txn_offsets:
        if not fut.done():
            fut.set_exception(exc)
    txn_manager._pending_txn_offsets.clear()
    if txn_manager.state == TransactionState.ABORTABLE_ERROR and not txn_manager._transaction_waiter.done():
        txn_manager._transaction_waiter.set_exception(exc)


# --- OffsetFetch v7 (require_stable) --------------------------------------------------------


class OffsetFetchResponse_v7(Response):  # type: ignore[misc]
    API_KEY = 9
    API_VERSION = 7
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition_index", Int32),
                        ("committed_offset", Int64),
                        ("committed_leader_epoch", Int32),
                        ("metadata", CompactString("utf-8")),
                        ("error_code", Int16),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("error_code", Int16),
        ("tags", TaggedFields),
    )


class OffsetFetchRequest_v7(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 9
    API_VERSION = 7
    RESPONSE_TYPE = OffsetFetchResponse_v7
    SCHEMA = Schema(
        ("group_id", CompactString("utf-8")),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("partition_indexes", CompactArray(Int32)),
                ("tags", TaggedFields),
            ),
        ),
        ("require_stable", Boolean),
        ("tags", TaggedFields),
    )


_OffsetFetchStructs = (
    OffsetFetchRequest_v1 | OffsetFetchRequest_v2 | OffsetFetchRequest_v3 | OffsetFetchRequest_v7
)


class OffsetFetchRequest(Request[_OffsetFetchStructs]):  # type: ignore[misc]
    """v7 with `require_stable` where the broker has it (Kafka 2.5+), else what aiokafka sends."""

    API_KEY = 9

    def __init__(self, group_id: str, partitions: list[tuple[str, list[int]]]) -> None:
        self._group_id, self._partitions = group_id, partitions

    def build(self, request_struct_class: type[Any]) -> Any:
        if request_struct_class.API_VERSION < 7:
            return request_struct_class(self._group_id, self._partitions)
        return request_struct_class(self._group_id, [(t, ps, {}) for t, ps in self._partitions], True, {})


async def _do_fetch_commit_offsets(self: Any, partitions: list[TopicPartition]) -> dict[TopicPartition, Any]:
    """aiokafka's `GroupCoordinator._do_fetch_commit_offsets`, with require_stable: an unstable
    offset raises a retriable error, and `fetch_committed_offsets` retries after its backoff."""
    per_topic: dict[str, list[int]] = collections.defaultdict(list)
    for tp in partitions:
        per_topic[tp.topic].append(tp.partition)
    response = await self._send_req(OffsetFetchRequest(self.group_id, list(per_topic.items())))
    if not isinstance(response, OffsetFetchResponse_v7):  # an older broker: as aiokafka does
        vorig: dict[TopicPartition, Any] = await _original["fetch"](self, partitions)
        return vorig
    if response.error_code:
        _raise_fetch_error(self, error_for(response.error_code), None)
    offsets = {}
    for topic, topic_partitions, _ in response.topics:
        for partition, offset, _, metadata, error_code, _ in topic_partitions:
            tp = TopicPartition(topic, partition)
            if error_code:
                if error_for(error_code) is Errors.UnknownTopicOrPartitionError:
                    log.warning("OffsetFetchRequest -- unknown topic %s", topic)
                    continue
                _raise_fetch_error(self, error_for(error_code), tp)
            if offset != UNKNOWN_OFFSET:
                offsets[tp] = OffsetAndMetadata(offset, metadata or "")
    return offsets


def _raise_fetch_error(coordinator: Any, fout: type[Errors.KafkaError], tp: TopicPartition | None) -> None:
    log.debug("Error fetching offset for %s: %s", tp, fout.__name__)
    if fout is Errors.NotCoordinatorForGroupError or fout is Errors.CoordinatorNotAvailableError:
        coordinator.coordinator_dead()
        raise fout()
    if fout is Errors.GroupAuthorizationFailedError:
        raise fout(coordinator.group_id)
    if fout.retriable:  # GroupLoadInProgress, UnstableOffsetCommit: fetch_committed_offsets retries
        raise fout()
    raise Errors.KafkaError(repr(fout()))


_original: dict[str, Any] = {}


def install() -> None:
    """Patch aiokafka (once per process): `send_offsets_to_transaction(offsets, group_metadata(c))`
    then commits with the membership, and every committed-offset fetch requires stable offsets."""
    if _original:
        return
    handler = sender_module.TxnOffsetCommitHandler
    coordinator = group_coordinator.GroupCoordinator
    _original.update(
        create_request=handler.create_request,
        handle_response=handler.handle_response,
        fetch=coordinator._do_fetch_commit_offsets,
    )
    handler.create_request = _create_request
    handler.handle_response = _handle_response
    coordinator._do_fetch_commit_offsets = _do_fetch_commit_offsets
