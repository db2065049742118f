"""A stage fetches only the input partitions that have traffic; a doorbell watches the rest.

A front door reads every partner topic: about 365 partitions per worker. aiokafka sends them all in
every Fetch (no KIP-227 fetch sessions), which costs 1.3 ms to build and 1.5 ms to read even when
empty, and with `fetch_min_bytes=1` the broker answers as soon as any one of them has a record: under
live traffic the front door fetched as fast as its loop turned, nearly all of it for partitions with
nothing (shared/design/performance.md).

The internal stages fetched 20 times a second each with nothing arriving (their transaction cadence,
Settings.batch_wait_ms): together about 95 fetches a second and 12% of an idle routing worker's core.

So a partition that delivered nothing for `idle_after_s` is paused on the stage's consumer and
handed to the doorbell: a second consumer of its own (no group: it commits nothing, decides nothing)
that long-polls all such partitions at once. The broker holds that fetch until a record arrives on
any of them, or `wait_ms` passes; when one rings, the doorbell lets go of it and the stage resumes
it at its own position, so the first record on a quiet partition waits one fetch round trip more,
not a polling interval. What the doorbell fetched is dropped: the stage reads it again.

Nothing is lost or read twice: the stage's position of a paused partition does not move (aiokafka
drops what it had fetched for it), the doorbell starts at that position, and the stage's commits
and transactions are untouched. A rebalance starts over: every newly assigned partition is active.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError

log = logging.getLogger(__name__)

IDLE_AFTER_S = 10.0
"""A partition with no record for this long is watched by the doorbell instead."""
WAIT_MS = 1000
"""The doorbell's long poll: its cost when nothing arrives (one Fetch over the idle partitions per
`wait_ms`), and the most a partition that just went idle waits to be watched."""


class Doorbell:
    """Pauses a consumer's idle partitions and resumes each as soon as a record arrives on it."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        bell: AIOKafkaConsumer,
        *,
        idle_after_s: float = IDLE_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._bell = bell
        """Not started; its own client (see `engine.kafka.stage`): long polls, no group."""
        self._idle_after_s = idle_after_s
        self._clock = clock
        self._last_seen: dict[TopicPartition, float] = {}
        self.watched: set[TopicPartition] = set()
        """Paused on the front door's consumer, fetched by the doorbell."""
        self._ringer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self._bell.start()
        self._ringer = asyncio.create_task(self._ring())

    async def stop(self) -> None:
        if self._ringer is not None:
            self._ringer.cancel()
            await asyncio.gather(self._ringer, return_exceptions=True)
        await self._bell.stop()

    def saw(self, partitions: Iterable[TopicPartition]) -> None:
        """The front door just received records on these partitions."""
        now = self._clock()
        for tp in partitions:
            self._last_seen[tp] = now

    async def assigned(self, partitions: set[TopicPartition]) -> None:
        """The front door's assignment changed: every partition of it is active again (aiokafka
        resumes reassigned partitions), and the doorbell watches none until they go idle."""
        async with self._lock:
            now = self._clock()
            self._last_seen = {tp: self._last_seen.get(tp, now) for tp in partitions}
            self.watched = set()
            self._bell.assign(sorted(partitions))
            if partitions:
                self._bell.pause(*partitions)
                # Explicitly: `pause_idle` may have paused the new assignment between aiokafka
                # installing it and calling this listener, when it equals the old one (a static
                # member rejoining), and those partitions would be paused and watched by no one.
                with contextlib.suppress(IllegalStateError):  # reassigned again: called again
                    self._consumer.resume(*partitions)

    async def activate(self, partitions: set[TopicPartition]) -> None:
        """The stage moved these partitions' positions (taken over after a fence or a failed
        transaction: back to their committed offsets): fetch them again. A watched one would
        otherwise wait for a record past the doorbell's older position, and the records between
        the commit and that position would wait with it (the zombie test found them)."""
        if not partitions:
            return
        async with self._lock:
            now = self._clock()
            for tp in partitions & self.watched:
                with contextlib.suppress(IllegalStateError):
                    self._bell.pause(tp)
                self.watched.discard(tp)
            for tp in partitions:
                self._last_seen[tp] = now
            with contextlib.suppress(IllegalStateError):
                self._consumer.resume(*partitions)

    async def pause_idle(self) -> int:
        """Hand every partition idle for `idle_after_s` to the doorbell; returns how many it watches."""
        async with self._lock:
            now = self._clock()
            # Self-healing: a partition paused on the stage must be one the doorbell watches.
            if stray := self._consumer.paused() - self.watched:
                log.warning("doorbell: %d partitions paused but not watched; resumed", len(stray))
                self._consumer.resume(*stray)
            idle = [
                tp
                for tp in self._consumer.assignment()
                if tp not in self.watched and now - self._last_seen.setdefault(tp, now) >= self._idle_after_s
            ]
            positions = {}
            for tp in idle:
                try:
                    positions[tp] = await self._consumer.position(tp)
                except IllegalStateError:  # revoked meanwhile: the listener's `assigned` starts over
                    return len(self.watched)
            # From here on no await: the stage's assignment cannot change under the hand-over.
            assigned = self._consumer.assignment()
            idle = [tp for tp in idle if tp in assigned]
            if idle and self._bell.assignment() == assigned:
                self._consumer.pause(*idle)
                for tp in idle:
                    self._bell.seek(tp, positions[tp])
                self._bell.resume(*idle)
                self.watched.update(idle)
            return len(self.watched)

    async def _ring(self) -> None:
        while True:
            try:
                batch = await self._bell.getmany(timeout_ms=WAIT_MS)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a broker error: the front door's own consumer reports it too
                log.warning("doorbell: fetch failed (%s); again in 1 s", type(e).__name__)
                await asyncio.sleep(1)
                continue
            if batch:
                await self._open(batch.keys())

    async def _open(self, partitions: Iterable[TopicPartition]) -> None:
        async with self._lock:
            now = self._clock()
            assigned = self._consumer.assignment()
            rang = [tp for tp in partitions if tp in self.watched and tp in assigned]
            if not rang:
                return
            try:
                self._bell.pause(*rang)
                self._consumer.resume(*rang)
            except IllegalStateError:  # revoked meanwhile: `assigned` starts over
                return
            for tp in rang:
                self.watched.discard(tp)
                self._last_seen[tp] = now
