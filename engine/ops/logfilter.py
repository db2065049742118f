"""One log line per distinct message per interval.

With the broker gone every Kafka client of a worker retries on its own backoff and logs each try:
about 1,250 identical lines a second from one worker (aiokafka's "Unable connect to node …",
"Unable to update metadata …"), which buries the one line that says what happened and fills the
node's disk. This filter lets the first of each distinct message through, drops its repeats for
`interval` seconds, and counts them on the next one it lets through, so nothing is hidden: only
the repeats are summed.

Distinct means the same logger, level and text after formatting; messages that differ in a number
(an offset, a partition) are distinct and all pass. A traceback passes with its first record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

INTERVAL_S = 30.0


class RepeatFilter(logging.Filter):
    """A handler filter: repeats of a record within `interval` seconds are dropped and counted."""

    def __init__(self, interval: float = INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}
        """(logger, level, text) → (when it last passed, repeats dropped since)."""
        self._pruned = clock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        try:
            text = record.getMessage()
        except Exception:  # a library's malformed call: the handler reports it as it always did
            return True
        key = (record.name, record.levelno, text)
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.interval:
            self._seen[key] = (seen[0], seen[1] + 1)
            return False
        self._seen[key] = (now, 0)
        if seen is not None and seen[1]:
            # The text as it was formatted, with the count: the record's args are spent. An empty
            # tuple, not None: mode's formatter maps the args one by one and made None into (None,).
            record.msg = f"{text} (and {seen[1]} times more in the {self.interval:.0f} s before)"
            record.args = ()
        self._prune(now)
        return True

    def _prune(self, now: float) -> None:
        """Forget messages that passed more than an interval ago and had no repeats, and after ten
        intervals those whose repeats were never reported (the message stopped): the table stays as
        small as the set of messages still repeating."""
        if now - self._pruned < self.interval:
            return
        self._pruned = now
        self._seen = {
            k: (passed, dropped)
            for k, (passed, dropped) in self._seen.items()
            if now - passed < (10 * self.interval if dropped else self.interval)
        }


def install(interval: float = INTERVAL_S) -> None:
    """Put one `RepeatFilter` on every handler of the root logger that has none (the worker's
    console handler, set up by faust before the services start)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RepeatFilter) for f in handler.filters):
            handler.addFilter(RepeatFilter(interval))
