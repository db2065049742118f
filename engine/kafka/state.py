"""The state a stateful stage keeps per input partition, and the log it is restored from.

Every stateful stage (vastleggen, zoekindex, besluiten) keeps its state per input partition and
writes it, in the same transaction as its other outputs, to the same partition number of a log
(the signal log, the casus events, the open-casus index's changelog). `PartitionState` holds that
state: restored by folding the partition's log from offset 0 when the partition is assigned,
dropped when it is revoked. The log is read through `LogReader`, a small port: `KafkaLog` on a
broker, a list of records in a unit test (quix-streams' `StorePartition` with its changelog
recovery, and cosmicpython's fakes, are the models).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from functools import partial
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from engine.errors import foutsoort
from engine.kafka import clients
from engine.kafka.output import Output
from engine.kafka.topology import Topology
from engine.metrics import Metrics
from engine.settings import KafkaConnection

log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]
S = TypeVar("S")


class LogReader(Protocol):
    """Reads one partition of a log back."""

    def read(self, tp: TopicPartition) -> AsyncIterator[Record]:
        """Every committed record of the partition, in order, up to the end it had when called."""
        ...


class KafkaLog:
    """A `LogReader` on the broker: read_committed, from offset 0 to the end at the call.

    `settled`: for a stage restoring a partition it has just taken over, of a log only that
    partition's owner writes. The end is then where no transaction is open any more on the
    partition: the previous owner's last one may still be, its commit markers written a moment
    after the coordinator answered (its offset commit can be readable first), or its worker paused
    mid-transaction until the broker aborts it (TRANSACTION_TIMEOUT_MS in `engine.kafka.stage`).
    Read only to the stable offset, the new owner would miss what that transaction commits: a
    signal it logs again when the front door brings it twice, a waiting link it never decides.
    Not for a log others keep writing (re-drive, the tools): one might never be seen settled.
    """

    PROBE_MS = 10
    """How long a settled read waits for a fetch that tells it the partition's high watermark and
    stable offset, once it has read all it knew of (a fetch of nothing returns after the
    consumer's fetch_max_wait_ms, 5 ms); it asks again until it knows."""

    MELD_NA_S = 30.0
    """How long a settled read waits before it warns, and again every so long."""

    def __init__(self, kafka: KafkaConnection, *, settled: bool = False) -> None:
        """A new consumer for every read. A consumer kept between reads (2026-12-08) read an empty
        partition in 19 ms instead of 81, but the worker routed a fifth less in `make bench` (0.45
        of raw exactly-once against 0.57, seven rounds with and six without; 0.49 against 0.59 in
        one back-to-back pair), also when the kept consumers were unassigned and closed two seconds
        after their last read, and a worker starting with one hung once. Why is not found; not kept."""
        self.kafka = kafka
        self.settled = settled

    async def read(self, tp: TopicPartition) -> AsyncIterator[Record]:
        consumer = clients.log_consumer(
            self.kafka,
            # The end is known: when only a commit marker is left to read, don't let the broker
            # hold the fetch for Kafka's default 500 ms (every partition restored at start paid it).
            fetch_max_wait_ms=5,
        )
        await consumer.start()
        try:
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]  # the stable offset, read_committed
            await consumer.seek_to_beginning(tp)
            wacht_sinds: float | None = None
            gemeld = 0.0
            while True:
                position = await consumer.position(tp)
                if position >= end and (not self.settled or _settled(consumer, tp, position)):
                    break
                if position >= end and wacht_sinds is None:
                    wacht_sinds = gemeld = time.monotonic()
                if wacht_sinds is not None and time.monotonic() - gemeld >= self.MELD_NA_S:
                    # Any transaction is decided within the transaction timeout, unless a broker
                    # holding its markers is down, or it hangs (`kafka-transactions.sh
                    # find-hanging`): say which partition this stage waits for, and keep waiting.
                    gemeld = time.monotonic()
                    log.warning(
                        "%s[%d]: waiting %.0f s for an open transaction before restoring",
                        *tp,
                        gemeld - wacht_sinds,
                    )
                wait_ms = 1000 if position < end else self.PROBE_MS
                batch = await consumer.getmany(tp, timeout_ms=wait_ms, max_records=10_000)
                for record in batch.get(tp, ()):
                    yield record
            if wacht_sinds is not None and time.monotonic() - wacht_sinds > 1.0:
                gewacht = time.monotonic() - wacht_sinds
                log.info("%s[%d]: read after %.1f s waiting for an open transaction", *tp, gewacht)
        finally:
            await consumer.stop()


def _settled(consumer: AIOKafkaConsumer, tp: TopicPartition, position: int) -> bool:
    """Whether the consumer's last fetch of `tp` found no open transaction (its stable offset at
    its high watermark) and `position` is there: everything written before is read or aborted."""
    hoog, stabiel = consumer.highwater(tp), consumer.last_stable_offset(tp)
    return hoog is not None and stabiel is not None and position >= stabiel >= hoog


async def restore(
    reader: LogReader,
    tp: TopicPartition,
    fold: Callable[[Record], None],
    *,
    stage: str,
    metrics: Metrics | None = None,
) -> None:
    """Fold every committed record of one log partition into a stage's state, before its first batch.

    A record the fold cannot take is skipped, logged by its coordinates and counted
    (riec_restore_skipped_total, alerted on), instead of stopping the stage at every start: the
    stage then decides without that record, which is wrong only for its aggregate or signal, where
    a crash loop stops everything.
    """
    async for record in reader.read(tp):
        try:
            fold(record)
        except Exception as fout:  # one bad record of a log must not keep a stage from starting
            if metrics is not None:
                metrics.restore_skipped.labels(stage, foutsoort(fout)).inc()
            log.warning(
                "%s: skipped %s[%d]@%d while restoring state: %s",
                stage,
                record.topic,
                record.partition,
                record.offset,
                foutsoort(fout),
            )


class PartitionState(Generic[S]):
    """One state `S` per input partition, restored from the same partition number of `log_topic`.

    `new` makes an empty state, `fold(state, record)` applies one record of the log (or of a
    `read_first` topic, told apart by `record.topic`) to it, and
    `size(state)` says how much a restored partition holds (logged). A stage handler that keeps
    one sets it as its `state` (`Handler`): the stage then prepares and drops it, and the handler
    reads a partition's state with `state[partition]`.
    """

    def __init__(
        self,
        *,
        stage: str,
        log_topic: str,
        reader: LogReader,
        new: Callable[[], S],
        fold: Callable[[S, Record], None],
        size: Callable[[S], int],
        metrics: Metrics | None = None,
        read_first: tuple[str, ...] = (),
        after_restore: Callable[[], None] = lambda: None,
    ) -> None:
        self.stage = stage
        self.after_restore = after_restore
        """Called after each `prepare`, whether it restored or failed (a handler drops what it held
        only for restoring: vastleggen the keys it read to open its log)."""
        self.log_topic = log_topic
        self.read_first = read_first
        """Topics whose same partition is folded before the log's: the key store before a sealed log."""
        self.reader = reader
        self.new = new
        self.fold = fold
        self.size = size
        self.metrics = metrics
        self._states: dict[int, S] = {}

    async def prepare(self, partitions: set[TopicPartition]) -> None:
        """Restore the state of every assigned partition not held yet (before the next transaction)."""
        try:
            await self._prepare(partitions)
        finally:
            self.after_restore()

    async def _prepare(self, partitions: set[TopicPartition]) -> None:
        for tp in sorted(partitions):
            if tp.partition in self._states:
                continue
            state = self.new()
            for topic in (*self.read_first, self.log_topic):
                await restore(
                    self.reader,
                    TopicPartition(topic, tp.partition),
                    partial(self.fold, state),
                    stage=self.stage,
                    metrics=self.metrics,
                )
            self._states[tp.partition] = state
            log.info("%s: partition %d holds %d", self.stage, tp.partition, self.size(state))

    def drop(self, partitions: set[TopicPartition]) -> None:
        """Forget these partitions' state: no longer ours, or possibly changed by a failed record."""
        for tp in partitions:
            self._states.pop(tp.partition, None)

    def __getitem__(self, partition: int) -> S:
        return self._states[partition]


class Handler:
    """The lifecycle a stage calls (`StageHandler`), for a stage handler to inherit: it supplies
    `name`, what a record means and, when it keeps state per partition, `state`; the stage prepares
    that state before each transaction and drops it when a partition is revoked or a record failed.
    A handler overrides `before_batch` only when it reads what it does not own (the routing tables).

    What a record means is either `verwerk(record)`, domain messages that the handler's `topology`
    maps to topics, keys and partitions, or (older handlers) `process(record)`, outputs directly."""

    name: str
    state: PartitionState[Any] | None = None
    topology: Topology | None = None

    def verwerk(self, record: Record) -> Iterable[Any]:
        raise NotImplementedError(f"{self.name} yields neither messages nor outputs")

    def process(self, record: Record) -> Iterator[Output]:
        assert self.topology is not None, f"{self.name} has messages but no topology"
        return self.topology.outputs(self.verwerk(record), record)

    async def before_batch(self) -> None:
        return None

    async def prepare(self, partitions: set[TopicPartition]) -> None:
        if self.state is not None:
            await self.state.prepare(partitions)

    async def on_revoked(self, partitions: set[TopicPartition]) -> None:
        if self.state is not None:
            self.state.drop(partitions)
