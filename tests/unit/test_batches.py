"""A transaction's outputs as record batches (`engine.kafka.batches`): every output sent once, in
the order it was added per partition, to the partition its key or its own number says, and no
batch larger than the limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.kafka.batches import RecordBatches, partition_for
from engine.kafka.output import Output
from tests.unit.fake_batches import PARTITIONS, BatchesViaSend


@dataclass
class Verzonden(BatchesViaSend):
    records: list[tuple[str, int, bytes | None, bytes | None]] = field(default_factory=list)
    batches: list[tuple[str, int, int]] = field(default_factory=list)
    """(topic, partition, size in bytes) of every batch handed over."""

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None, **kw: Any) -> Any:
        self.records.append((topic, kw["partition"], key, value))

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        self.batches.append((topic, partition, batch.size()))
        return await super().send_batch(batch, topic, partition=partition)


async def test_outputs_go_to_their_partition_in_order_and_nothing_before_send() -> None:
    p = Verzonden()
    b = RecordBatches(p, partition_for)
    outputs = [
        Output("routes.riec.rotterdam", b"s1", b"a"),
        Output("engine.signalen", b"s1", b"b", partition=3),
        Output("routes.riec.rotterdam", b"s1", b"c"),
        Output("engine.signalen", b"s2", b"d", partition=3),
    ]
    for o in outputs:
        await b.add(o)
    assert p.records == [], "nothing is handed over before send()"
    futures = await b.send()
    assert len(futures) == 2 and all(f.done() for f in futures)
    route = partition_for(b"s1", list(range(PARTITIONS)), [])
    assert sorted(p.batches) == [("engine.signalen", 3, 6), ("routes.riec.rotterdam", route, 6)]
    per_partitie = {(t, n): [v for t2, n2, _, v in p.records if (t2, n2) == (t, n)] for t, n, _ in p.batches}
    assert per_partitie == {
        ("routes.riec.rotterdam", route): [b"a", b"c"],
        ("engine.signalen", 3): [b"b", b"d"],
    }
    assert await b.send() == futures, "a second send sends nothing more"
    assert len(p.records) == 4


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 300)), max_size=60))
async def test_a_full_batch_is_sent_before_the_next_begins(grootten: list[tuple[int, int]]) -> None:
    """Whatever the sizes, every output is sent once, in order per partition, and a batch holds
    more than one record only when they fit the limit together."""
    p = Verzonden()
    limiet = 1000
    b = RecordBatches(p, partition_for, max_bytes=limiet)
    for i, (partitie, n) in enumerate(grootten):
        await b.add(Output("engine.kandidaten", None, bytes([i % 256]) * n, partition=partitie))
    await b.send()
    for partitie in range(3):
        verwacht = [bytes([i % 256]) * n for i, (q, n) in enumerate(grootten) if q == partitie]
        assert [v for _, q, _, v in p.records if q == partitie] == verwacht
    assert all(grootte <= limiet for _, _, grootte in p.batches)
