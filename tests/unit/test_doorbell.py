"""engine/kafka/doorbell.py with stand-ins for the two consumers: which partitions the stage
fetches and which the doorbell watches, as time passes and records arrive."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError

from engine.kafka.doorbell import Doorbell

A, B, C = (TopicPartition("partner.politie.signalen", i) for i in range(3))


class Consumer:
    """What Doorbell uses of an AIOKafkaConsumer."""

    def __init__(self, assigned: set[TopicPartition] = frozenset()) -> None:  # type: ignore[assignment]
        self.assigned = set(assigned)
        self.gepauzeerd: set[TopicPartition] = set()
        self.positions = {tp: 100 + tp.partition for tp in self.assigned}

    def paused(self) -> set[TopicPartition]:
        return self.gepauzeerd & self.assigned

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def assign(self, tps: list[TopicPartition]) -> None:
        self.assigned, self.gepauzeerd = set(tps), set()

    def pause(self, *tps: TopicPartition) -> None:
        self.gepauzeerd |= set(tps)

    def resume(self, *tps: TopicPartition) -> None:
        if not set(tps) <= self.assigned:
            raise IllegalStateError("not assigned")
        self.gepauzeerd -= set(tps)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]


class Klok:
    nu = 0.0

    def __call__(self) -> float:
        return self.nu


async def _bel(klok: Klok) -> tuple[Doorbell, Consumer, Consumer]:
    stage, bell = Consumer({A, B, C}), Consumer()
    d = Doorbell(stage, bell, idle_after_s=10, clock=klok)  # type: ignore[arg-type]
    await d.assigned({A, B, C})
    return d, stage, bell


async def test_a_partition_without_records_for_the_idle_time_is_watched_by_the_doorbell_at_the_stages_position() -> (
    None
):
    klok = Klok()
    d, stage, bell = await _bel(klok)
    assert bell.gepauzeerd == {A, B, C} and not stage.gepauzeerd
    klok.nu = 5
    d.saw([A])
    klok.nu = 10
    assert await d.pause_idle() == 2
    assert stage.gepauzeerd == {B, C} and bell.gepauzeerd == {A}
    assert bell.positions[B] == 101 and bell.positions[C] == 102
    klok.nu = 15
    assert await d.pause_idle() == 3
    assert stage.gepauzeerd == {A, B, C} and not bell.gepauzeerd


async def test_a_record_on_a_watched_partition_resumes_it_on_the_stage_only() -> None:
    klok = Klok()
    d, stage, bell = await _bel(klok)
    klok.nu = 10
    await d.pause_idle()
    klok.nu = 11
    await d._open([B])
    assert stage.gepauzeerd == {A, C} and bell.gepauzeerd == {B}
    assert d.watched == {A, C}
    klok.nu = 20
    assert await d.pause_idle() == 2, "B saw a record at 11: not idle before 21"
    klok.nu = 21
    assert await d.pause_idle() == 3


async def test_a_new_assignment_makes_every_partition_active_and_a_late_ring_for_a_revoked_one_is_ignored() -> (
    None
):
    klok = Klok()
    d, stage, bell = await _bel(klok)
    klok.nu = 10
    await d.pause_idle()
    stage.assigned, stage.gepauzeerd = {A, B}, set()  # a rebalance took C away
    await d.assigned({A, B})
    assert d.watched == set() and bell.assignment() == {A, B} and bell.gepauzeerd == {A, B}
    await d._open([C])  # the doorbell's fetch from before the rebalance
    assert stage.gepauzeerd == set()


async def test_nothing_is_handed_over_before_the_doorbell_has_the_stages_assignment() -> None:
    klok = Klok()
    d, stage, _ = await _bel(klok)
    stage.assigned.add(TopicPartition("partner.fiod.signalen", 0))  # assigned, listener not run yet
    klok.nu = 60
    assert await d.pause_idle() == 0
    assert not stage.gepauzeerd


async def test_a_partition_revoked_while_its_position_is_asked_pauses_nothing() -> None:
    klok = Klok()
    d, stage, _ = await _bel(klok)

    async def revoked(tp: TopicPartition) -> int:
        raise IllegalStateError("No current assignment for partition")

    stage.position = revoked  # type: ignore[method-assign]
    klok.nu = 60
    assert await d.pause_idle() == 0
    assert not stage.gepauzeerd, "a partition paused but not watched would never be fetched again"


async def test_a_new_assignment_equal_to_the_old_one_paused_before_the_listener_ran_is_resumed() -> None:
    # The zombie test lost signals: a static member rejoined with its old partitions, the idle timer
    # paused them in the gap before the listener, and the listener left them paused, unwatched.
    klok = Klok()
    d, stage, _ = await _bel(klok)
    klok.nu = 10
    stage.gepauzeerd = set()  # aiokafka installed the new assignment (same partitions, unpaused)
    await d.pause_idle()  # the timer, before the listener: bell has the same assignment
    assert stage.gepauzeerd == {A, B, C}
    await d.assigned({A, B, C})  # the listener
    assert stage.gepauzeerd == set() and d.watched == set()


async def test_a_partition_paused_on_the_stage_but_not_watched_is_resumed_by_the_next_tick() -> None:
    klok = Klok()
    d, stage, _ = await _bel(klok)
    stage.gepauzeerd = {B}  # however it came about
    klok.nu = 1
    await d.pause_idle()
    assert stage.gepauzeerd == set()


async def test_a_watched_partition_whose_position_the_stage_set_back_is_fetched_again() -> None:
    klok = Klok()
    d, stage, bell = await _bel(klok)
    klok.nu = 10
    await d.pause_idle()
    stage.seek(B, 50)  # taken over after a fence: back to its committed offset, before the bell's
    await d.activate({B})
    assert stage.gepauzeerd == {A, C} and B not in d.watched and B in bell.gepauzeerd
