"""A steady load for the cluster's fault tests, and what they check once it has passed.

Signals come from four partners and commands from three RIEC offices, each published as its own
principal (as in production). A reader follows the route topics while the load runs and notes when
each routed signal became readable (read_committed): from that, the time until routing resumed
after a fault. Afterwards every accepted signal must be on its RIEC's route topic and on no route
topic twice, and every accepted command must have its events on `engine.gebeurtenissen` once."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka.errors import ClusterAuthorizationFailedError

from engine.kafka import clients
from engine.ops import onboarding
from engine.settings import KafkaConnection
from engine.topics import GEBEURTENISSEN, SIGNAAL_LOG
from tests.fixtures import command_headers, encode, headers, payload
from tests.pipeline.casus_helpers import ROUTE_TOPICS, bsn, kenteken
from tests.pipeline.kafka import Record, is_signaal, read_until

PARTNERS = ("politie", "om", "kmar", "belastingdienst")
"""Four partner topics of one partition each: the front door's work spreads over the workers."""
GEMEENTEN = {
    "GM0599": "rotterdam",
    "GM0363": "amsterdam-amstelland",
    "GM0518": "den-haag",
    "GM0935": "limburg",
    "GM0307": "midden-nederland",
}
"""Where each signal is (its locatie), and the RIEC whose route topic it must reach."""
RIEC_KANTOREN = ("rotterdam", "den-haag", "limburg")


def principals() -> list[str]:
    return [*(f"partner:{p}" for p in PARTNERS), *(f"riec:{r}" for r in RIEC_KANTOREN)]


@dataclass
class Verzonden:
    """What the load sent: per signal id its send time and expected route topic, per command id
    its send time; a send's future says whether the broker accepted it."""

    signalen: dict[str, tuple[float, str, asyncio.Future[Any]]] = field(default_factory=dict)
    opdrachten: dict[str, tuple[float, asyncio.Future[Any]]] = field(default_factory=dict)

    async def geaccepteerd(self) -> tuple[dict[str, tuple[float, str]], set[str]]:
        """The signals (send time, route topic) and commands the broker acknowledged."""
        uitkomsten = await asyncio.gather(*(f for _, _, f in self.signalen.values()), return_exceptions=True)
        signalen = {
            sid: (t, topic)
            for (sid, (t, topic, _)), u in zip(self.signalen.items(), uitkomsten, strict=True)
            if not isinstance(u, BaseException)
        }
        uitkomsten = await asyncio.gather(*(f for _, f in self.opdrachten.values()), return_exceptions=True)
        opdrachten = {
            oid
            for oid, u in zip(self.opdrachten, uitkomsten, strict=True)
            if not isinstance(u, BaseException)
        }
        return signalen, opdrachten


class Belasting:
    """Signals at `per_seconde` and a command with every tenth of them, until `stop()`."""

    def __init__(self, verbindingen: dict[str, KafkaConnection], per_seconde: float = 30) -> None:
        self.run = uuid.uuid4().hex[:8]
        print(f"load run={self.run} (the seed of its random choices)")
        self.per_seconde = per_seconde
        self.verzonden = Verzonden()
        self._rng = random.Random(self.run)
        self._kentekens = [kenteken() for _ in range(40)]
        # Acks from every in-sync replica and idempotent retries, as a careful partner sends: a
        # signal the broker acknowledged survives the loss of its leader.
        self._verbindingen = verbindingen
        self._producers: dict[str, Any] = {}
        self._stop = asyncio.Event()
        self._casussen: dict[str, list[str]] = {r: [] for r in RIEC_KANTOREN}

    @classmethod
    def als(cls, toegang: Callable[..., dict[str, dict[str, str]]], per_seconde: float = 30) -> Belasting:
        """A load published by each partner and RIEC as itself (`toegang` creates the principals)."""
        configs = toegang(*principals())
        return cls({p: onboarding.verbinding(c) for p, c in configs.items()}, per_seconde)

    async def __aenter__(self) -> Belasting:
        try:
            for principal, k in self._verbindingen.items():
                self._producers[principal] = await self._start(principal, k)
        except BaseException:
            await self.__aexit__()
            raise
        return self

    @staticmethod
    async def _start(principal: str, k: KafkaConnection) -> Any:
        """A started producer for a principal whose ACLs were created a moment ago.

        Each broker learns new ACLs from the metadata log on its own time: CI met a broker that
        refused the idempotent producer's InitProducerId (ClusterAuthorizationFailed, not retried
        by aiokafka) for a partner created a second before. So: wait until every broker lets the
        principal see its topic, and give a refused producer id a few more tries with a new producer."""
        soort, naam = principal.split(":", 1)
        topic = f"partner.{naam}.signalen" if soort == "partner" else f"riec.{naam}.opdrachten"
        await clients.wait_until_authorised(k, (topic,))
        for poging in itertools.count(1):
            p = clients.producer(k, acks="all", enable_idempotence=True, request_timeout_ms=120_000)
            try:
                await p.start()
                return p
            except ClusterAuthorizationFailedError:
                await p.stop()
                if poging == 10:
                    raise
                await asyncio.sleep(1)
        raise AssertionError("unreachable")

    async def __aexit__(self, *_: object) -> None:
        for p in self._producers.values():
            await p.stop()

    def stop(self) -> None:
        self._stop.set()

    async def draai(self) -> None:
        """Publish until stop(); a send that fails counts as not accepted, it does not stop the load."""
        begin = time.monotonic()
        for i in itertools.count():
            if self._stop.is_set():
                break
            await self._signaal(i)
            if i % 10 == 5:
                await self._opdracht(i // 10)
            await asyncio.sleep(max(0.0, begin + (i + 1) / self.per_seconde - time.monotonic()))
        for p in self._producers.values():
            await p.flush()

    async def _signaal(self, i: int) -> None:
        org, gemeente = PARTNERS[i % len(PARTNERS)], list(GEMEENTEN)[i % len(GEMEENTEN)]
        # A letter after the dash: "54441761-6" (a run id of hex digits only, then the number) reads
        # as the BSN 544417616 to the BSN gate, which rightly refused it (bsn_in_id) in one CI run.
        ce_id = f"{self.run}-s{i}"
        body = payload(
            locatie={"gemeente": gemeente},
            subjecten=[
                {"type": "persoon", "bsn": bsn()},
                {"type": "voertuig", "kenteken": self._rng.choice(self._kentekens)},
            ],
        )
        verzonden_op = time.time()
        fut = await self._send(f"partner:{org}", f"partner.{org}.signalen", encode(body), headers(org, ce_id))
        self.verzonden.signalen[f"{org}:{ce_id}"] = (verzonden_op, f"routes.riec.{GEMEENTEN[gemeente]}", fut)

    async def _opdracht(self, n: int) -> None:
        """A casus opened, a signal sent a second or more ago linked to it, an advice given on it."""
        riec = RIEC_KANTOREN[n % len(RIEC_KANTOREN)]
        stap, casussen = (n // len(RIEC_KANTOREN)) % 3, self._casussen[riec]
        oud = [s for s, (t, _, _) in self.verzonden.signalen.items() if t < time.time() - 1]
        if stap == 0 or not casussen or not oud:
            casus_id = f"{self.run}-C{n}"
            casussen.append(casus_id)
            soort, body = "casus.openen", {
                "casus_id": casus_id, "naam": "Clustertest", "bron": "ondermijningsbeeld", "themas": ["witwassen"],
                "subjecten": [{"type": "voertuig", "kenteken": self._rng.choice(self._kentekens)}]}  # fmt: skip
        elif stap == 1:
            soort, body = "casus.signaal_koppelen", {"casus_id": casussen[-1], "signaal_id": oud[-1]}
        else:
            soort, body = "casus.interventieadvies", {
                "casus_id": casussen[-1], "advies_id": f"A{n}", "soorten": ["bestuurlijk"],
                "uitvoerder": "Gemeente", "coordinator": "RIEC"}  # fmt: skip
        ce_id = f"{self.run}-cmd-{n}"
        hs = command_headers(riec, f"nl.riec.{soort}.v1", ce_id)
        verzonden_op = time.time()
        fut = await self._send(f"riec:{riec}", f"riec.{riec}.opdrachten", encode(body), hs)
        self.verzonden.opdrachten[f"{riec}:{ce_id}"] = (verzonden_op, fut)

    async def _send(
        self, principal: str, topic: str, value: bytes, hs: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]:
        try:
            fut: asyncio.Future[Any] = await self._producers[principal].send(topic, value, headers=hs)
        except Exception as e:  # the buffer is full or the producer timed out: not accepted
            fut = asyncio.get_running_loop().create_future()
            fut.set_exception(e)
        return fut


class Meelezer:
    """Follows the route topics (read_committed) while the load runs; notes when each of the run's
    (topic, signal) became readable."""

    def __init__(self, cluster: KafkaConnection, run: str) -> None:
        self.cluster, self.run = cluster, run.encode()
        self.aankomst: dict[tuple[str, str], float] = {}
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def lees(self) -> None:
        c = clients.consumer(
            self.cluster,
            *ROUTE_TOPICS,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            enable_auto_commit=False,
        )
        await c.start()
        try:
            while not self._stop.is_set():
                batch = await c.getmany(timeout_ms=250)
                nu = time.time()
                for r in (r for rs in batch.values() for r in rs if self.run in (r.key or b"")):
                    self.aankomst.setdefault((r.topic, orjson.loads(r.value)["signaal_id"]), nu)
        finally:
            await c.stop()


@dataclass(frozen=True)
class Hervatting:
    """After a fault: seconds until the first routed signal sent after it was readable, the same on
    the route topic that took longest (an open transaction holds a read_committed reader back on its
    partitions only), and the longest stretch after the fault in which no routed signal of the run
    became readable. None when nothing sent after the fault was routed."""

    hervat_s: float | None
    traagste_topic_s: float | None
    langste_gat_s: float | None


def hervatting(
    aankomst: dict[tuple[str, str], float], signalen: dict[str, tuple[float, str]], fout_op: float
) -> Hervatting:
    """What the reader saw of the run's signals (`aankomst`), measured from the fault (`fout_op`)."""
    eerste: dict[str, float] = {}
    for (topic, sid), t in aankomst.items():
        if sid in signalen and signalen[sid][0] > fout_op:
            eerste[topic] = min(t, eerste.get(topic, t))
    if not eerste:
        return Hervatting(None, None, None)
    momenten = sorted(t for t in aankomst.values() if t >= fout_op)
    gaten = [b - a for a, b in itertools.pairwise([fout_op, *momenten])]
    return Hervatting(
        round(min(eerste.values()) - fout_op, 2),
        round(max(eerste.values()) - fout_op, 2),
        round(max(gaten), 2),
    )


@dataclass
class Controle:
    """What was found after the load: accepted signals not routed, (topic, signal) pairs routed more
    than once, signals on the log more than once, commands without events, events more than once."""

    niet_gerouteerd: set[tuple[str, str]]
    dubbel_gerouteerd: dict[tuple[str, str], int]
    dubbel_gelogd: dict[str, int]
    niet_toegepast: set[str]
    dubbele_gebeurtenissen: dict[tuple[str, ...], int]


async def controleer(
    cluster: KafkaConnection, run: str, signalen: dict[str, tuple[float, str]], opdrachten: set[str]
) -> Controle:
    """Read everything the run left on the route topics, the signal log and the casus log (from the
    start, read_committed), once every accepted signal and command shows (or after a few minutes)."""

    def ours(r: Record) -> bool:
        return run.encode() in (r.key or b"")

    verwacht = {(topic, sid) for sid, (_, topic) in signalen.items()}
    routed = await read_until(
        cluster,
        ROUTE_TOPICS,
        lambda f: verwacht <= {(r.topic, orjson.loads(r.value)["signaal_id"]) for r in f},
        match=ours,
        timeout=240,
        linger=3,
    )
    per_route = Counter((r.topic, orjson.loads(r.value)["signaal_id"]) for r in routed)
    log = await read_until(
        cluster,
        [SIGNAAL_LOG],
        lambda f: len({r.key for r in f}) >= len(signalen),
        match=lambda r: ours(r) and is_signaal(r),
        timeout=60,
        linger=2,
    )
    per_signaal = Counter((r.key or b"").decode() for r in log)
    records = await read_until(
        cluster,
        [GEBEURTENISSEN],
        lambda f: opdrachten <= {orjson.loads(r.value).get("opdracht_id") for r in f},
        match=ours,
        timeout=120,
        linger=3,
    )
    gebeurtenissen = [orjson.loads(r.value) for r in records]
    per_gebeurtenis = Counter(
        (g["opdracht_id"], g["type"], g.get("casus_id", ""), g.get("signaal_id", "")) for g in gebeurtenissen
    )
    return Controle(
        niet_gerouteerd=verwacht - set(per_route),
        dubbel_gerouteerd={k: n for k, n in per_route.items() if n > 1},
        dubbel_gelogd={k: n for k, n in per_signaal.items() if n > 1},
        niet_toegepast=opdrachten - {g["opdracht_id"] for g in gebeurtenissen},
        dubbele_gebeurtenissen={k: n for k, n in per_gebeurtenis.items() if n > 1},
    )
