"""Where a stage's messages go: one table per stage (`Topology`) maps each kind of domain message a
handler yields to its topic, key, value and partition. A handler says *what* happened
(`IdentificatorToegevoegd`, `KoppelingGevraagd`, `Log(event)`); only this table knows Kafka's
words, so a handler's unit tests read domain messages, and the stages' wiring is data that
the README prints (`python -m engine.handlers`).

An `Output` (a routed message with its CloudEvents headers) passes through as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

from aiokafka import ConsumerRecord

from engine.errors import Weigering
from engine.kafka.dlq import herkomst_headers
from engine.kafka.output import Output

Partition: TypeAlias = Literal["input", "key", "all"] | int
"""`input`: the input record's partition number (a co-partitioned log or key store); `key`: the
producer's partitioner over the key; `all`: one copy on every partition; a number: that one."""


@dataclass(frozen=True, slots=True)
class Log:
    """Append `bericht` to the stage's own log, on its input record's partition: what a restore of
    that partition folds back (`Topology.log`). Keyed as the input record, unless `key` says."""

    bericht: Any
    key: bytes | None = None


@dataclass(frozen=True, slots=True)
class DataSleutel:
    """A data key for the stage's key store, wrapped by the master key; `verpakt` None destroys it."""

    sleutel_id: str
    verpakt: bytes | None


@dataclass(frozen=True, slots=True)
class Weigeringsbericht:
    """A refusal for `dlq.ingress`: what was refused (`key`, `value`, in the form `value_form`), why,
    where it came from (topic, partition, offset, timestamp) and the command's CloudEvents id and type."""

    key: bytes | None
    value: bytes | None
    weigering: Weigering
    herkomst: tuple[str, int, int, int]
    value_form: str
    ce_id: str
    ce_type: str
    op: datetime


@dataclass(frozen=True, slots=True)
class Address:
    """Where one kind of message goes. `key` None: the input record's key."""

    topic: str
    value: Callable[[Any], bytes | None]
    key: Callable[[Any], bytes | None] | None = None
    partition: Partition = "key"
    headers: Callable[[Any], list[tuple[str, bytes]]] = lambda _: []


def _weigering_headers(w: Weigeringsbericht) -> list[tuple[str, bytes]]:
    eigen = [("ce_id", w.ce_id.encode()), ("ce_type", w.ce_type.encode())]
    return [*eigen, *herkomst_headers(w.weigering, w.herkomst, w.op, value_form=w.value_form)]


def dlq_address(topic: str) -> Address:
    """Refusals: their own key, value and headers."""
    return Address(topic, value=lambda w: w.value, key=lambda w: w.key, headers=_weigering_headers)


@dataclass(frozen=True, slots=True)
class Topology:
    """One stage: what it reads, where each kind of message it yields goes, and its own log."""

    stage: str
    inputs: tuple[str, ...]
    addresses: Mapping[type, Address]
    log: Address | None = None
    partitions: int = 1
    """The partition count of an `all` address (the co-partitioned internal topics)."""
    extra: tuple[str, ...] = field(default=())
    """Topics it writes that no address names (the route topics, written as `Output`s)."""

    def outputs(self, berichten: Iterable[Any], record: ConsumerRecord[bytes, bytes]) -> Iterator[Output]:
        for b in berichten:
            yield from self.output(b, record)

    def output(self, bericht: Any, record: ConsumerRecord[bytes, bytes]) -> Iterator[Output]:
        if isinstance(bericht, Output):
            yield bericht
            return
        eigen_key = None
        if isinstance(bericht, Log):
            assert self.log is not None, f"{self.stage} has no log"
            address, eigen_key, bericht = self.log, bericht.key, bericht.bericht
        else:
            address = self.addresses[type(bericht)]  # a kind not in the table is a bug: quarantined
        key = eigen_key or (record.key if address.key is None else address.key(bericht))
        value, headers = address.value(bericht), address.headers(bericht)
        match address.partition:
            case "all":
                for p in range(self.partitions):
                    yield Output(address.topic, key, value, headers, partition=p)
            case "input":
                yield Output(address.topic, key, value, headers, partition=record.partition)
            case "key":
                yield Output(address.topic, key, value, headers)
            case int(p):
                yield Output(address.topic, key, value, headers, partition=p)

    def describe(self) -> list[str]:
        """The stage's wiring in lines a person reads (the README prints them)."""
        regels = [f"{self.stage}: reads {', '.join(self.inputs)}"]
        if self.log is not None:
            regels.append(f"  own log -> {self.log.topic} (input partition)")
        for soort, a in self.addresses.items():
            regels.append(f"  {soort.__name__} -> {a.topic} ({_partition_text(a.partition)})")
        regels += [f"  routes -> {t}" for t in self.extra]
        return regels


def _partition_text(p: Partition) -> str:
    return {"input": "input partition", "key": "by key", "all": "every partition"}.get(
        str(p), f"partition {p}"
    )
