"""engine/ops/logfilter.py: repeats of a log line within an interval are dropped and counted on the
next one let through; distinct lines all pass."""

from __future__ import annotations

import io
import logging

from mode.utils.logging import ExtensionFormatter

from engine.ops.logfilter import RepeatFilter


class Klok:
    def __init__(self) -> None:
        self.nu = 0.0

    def __call__(self) -> float:
        return self.nu


def _record(
    msg: str, *args: object, name: str = "aiokafka.conn", level: int = logging.ERROR
) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_a_message_repeated_a_thousand_times_in_an_interval_passes_once() -> None:
    klok = Klok()
    f = RepeatFilter(30, clock=klok)
    passed = 0
    for i in range(1000):
        klok.nu = i * 0.01
        passed += f.filter(_record("Unable connect to node with id %s: %s", 1, "refused"))
    assert passed == 1


def test_after_the_interval_it_passes_again_with_the_count_of_what_was_dropped() -> None:
    klok = Klok()
    f = RepeatFilter(30, clock=klok)
    assert f.filter(_record("Unable to update metadata from [%s]", 1))
    for _ in range(41):
        klok.nu += 0.5
        assert not f.filter(_record("Unable to update metadata from [%s]", 1))
    klok.nu = 30.5
    again = _record("Unable to update metadata from [%s]", 1)
    assert f.filter(again)
    assert again.getMessage() == "Unable to update metadata from [1] (and 41 times more in the 30 s before)"
    # faust's console formatter (mode's) formats it too: it once turned args None into (None,)
    formatted = ExtensionFormatter(stream=io.StringIO(), fmt="%(message)s").format(again)
    assert formatted == "Unable to update metadata from [1] (and 41 times more in the 30 s before)"


def test_a_malformed_call_of_a_library_passes_to_the_handler_as_before() -> None:
    broken = _record("%s and %s", 1)
    assert RepeatFilter(30, clock=Klok()).filter(broken)


def test_distinct_messages_loggers_and_levels_all_pass() -> None:
    f = RepeatFilter(30, clock=Klok())
    records = [
        _record("Failed fetch messages from %s", 1),
        _record("Failed fetch messages from %s", 2),
        _record("Failed fetch messages from %s", 1, name="aiokafka.consumer.fetcher"),
        _record("Failed fetch messages from %s", 1, level=logging.WARNING),
    ]
    assert all(f.filter(r) for r in records)


def test_the_table_forgets_messages_that_stopped() -> None:
    klok = Klok()
    f = RepeatFilter(30, clock=klok)
    for i in range(500):
        f.filter(_record("offset %s committed", i, level=logging.INFO))
    klok.nu = 31
    f.filter(_record("something else"))
    assert len(f._seen) == 1
