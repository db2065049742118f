"""Given three workers on a three-broker cluster under a steady load of signals (four partners) and
RIEC commands (three offices), when (a) a worker is SIGKILLed, (b) a fourth worker joins, (c) the
broker that leads most of the engine's partitions is SIGKILLed, or (d) a worker is paused past its
session timeout and resumed, then every accepted signal is routed exactly once on every route topic
and logged once (read_committed), every accepted command is applied once, and every worker's
projections equal a replay from offset 0. The time until routing resumed after the fault is
measured and reported (.local/cluster-faults.json), never asserted."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict

import pytest

from engine.settings import KafkaConnection
from tests.cluster.belasting import Belasting, Controle, Meelezer, controleer, hervatting
from tests.cluster.conftest import CLUSTER, Ploeg, meet
from tests.pipeline import kafka as test_kafka

pytestmark = pytest.mark.cluster
VOOR_DE_FOUT_S = 10
"""Load before the fault: every worker has partitions and open batches when it strikes."""
NA_DE_FOUT_S = 25
"""Load after the fault (the pause of (d) included)."""
SESSIE_TIMEOUT_S = 10
"""The stages' consumer session timeout (engine/kafka/stage.py)."""


async def onder_belasting(
    cluster: KafkaConnection, fout: str, veroorzaak: Callable[[], Awaitable[None]]
) -> Controle:
    """Run the load, cause the fault after VOOR_DE_FOUT_S, keep the load up NA_DE_FOUT_S longer,
    then check what the run left behind; records the measurement under `fout`."""
    begin = time.monotonic()
    async with Belasting.als(CLUSTER.toegang) as belasting:
        meelezer = Meelezer(cluster, belasting.run)
        lezen = asyncio.create_task(meelezer.lees())
        laden = asyncio.create_task(belasting.draai())
        await asyncio.sleep(VOOR_DE_FOUT_S)
        fout_op = time.time()
        await veroorzaak()
        await asyncio.sleep(max(0.0, fout_op + NA_DE_FOUT_S - time.time()))
        belasting.stop()
        await laden
        signalen, opdrachten = await belasting.verzonden.geaccepteerd()
        controle = await controleer(cluster, belasting.run, signalen, opdrachten)
        meelezer.stop()
        await lezen
    meet(
        fout,
        {
            **asdict(hervatting(meelezer.aankomst, signalen, fout_op)),
            "signalen_verzonden": len(belasting.verzonden.signalen),
            "signalen_geaccepteerd": len(signalen),
            "opdrachten_verzonden": len(belasting.verzonden.opdrachten),
            "opdrachten_geaccepteerd": len(opdrachten),
            **{k: _aantal(v) for k, v in asdict(controle).items()},
            "duur_s": round(time.monotonic() - begin, 1),
        },
    )
    return controle


def _aantal(gevonden: set[object] | dict[object, int]) -> int:
    """How many records too few (a set of missing ones) or too many (a dict of counts above one)."""
    return sum(n - 1 for n in gevonden.values()) if isinstance(gevonden, dict) else len(gevonden)


def assert_exactly_once(controle: Controle, ploeg: Ploeg) -> None:
    assert not controle.niet_gerouteerd, f"{len(controle.niet_gerouteerd)} accepted signals not routed"
    assert not controle.dubbel_gerouteerd, f"routed more than once: {_aantal(controle.dubbel_gerouteerd)}"
    assert not controle.dubbel_gelogd, f"on the signal log more than once: {_aantal(controle.dubbel_gelogd)}"
    assert not controle.niet_toegepast, f"{len(controle.niet_toegepast)} accepted commands without events"
    assert not controle.dubbele_gebeurtenissen, (
        f"events more than once: {_aantal(controle.dubbele_gebeurtenissen)}"
    )
    for worker in ploeg.levend():
        replay = worker.replay()
        assert replay.returncode == 0, worker.url + "\n" + replay.stdout + replay.stderr
        assert "replay equals live" in replay.stdout


async def test_a_sigkill_one_of_three_workers(cluster: KafkaConnection, ploeg: Ploeg) -> None:
    async def kill() -> None:
        ploeg.workers[2].process.send_signal(signal.SIGKILL)

    controle = await onder_belasting(cluster, "a_sigkill_worker", kill)
    assert_exactly_once(controle, ploeg)


async def test_b_a_fourth_worker_joins(cluster: KafkaConnection, ploeg: Ploeg) -> None:
    async def add() -> None:
        await asyncio.to_thread(ploeg.start, 4)

    controle = await onder_belasting(cluster, "b_fourth_worker", add)
    assert len(ploeg.levend()) == 4
    assert_exactly_once(controle, ploeg)


async def _leider_van_de_meeste_partities(cluster: KafkaConnection) -> int:
    """The node that leads most partitions of the engine's topics (partner, RIEC, internal, route, DLQ)."""
    admin = test_kafka.admin(cluster)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if not t.startswith("__")]
        described = await admin.describe_topics(ours)
    finally:
        await admin.close()
    leiders = Counter(p["leader"] for t in described for p in t["partitions"])
    return leiders.most_common(1)[0][0]


async def test_c_sigkill_the_broker_that_leads_most_partitions(
    cluster: KafkaConnection, ploeg: Ploeg
) -> None:
    node = await _leider_van_de_meeste_partities(cluster)

    async def kill() -> None:
        await asyncio.to_thread(CLUSTER.run, "kill", node=node)

    try:
        controle = await onder_belasting(cluster, f"c_sigkill_leader_broker_node_{node}", kill)
    finally:
        CLUSTER.run("start", node=node)  # the next test starts from a whole cluster
    assert all(w.process.poll() is None for w in ploeg.workers.values()), "the workers rode it out"
    assert_exactly_once(controle, ploeg)


async def test_d_sigstop_a_worker_past_its_session_timeout(cluster: KafkaConnection, ploeg: Ploeg) -> None:
    async def pause() -> None:
        zombie = ploeg.workers[2].process
        zombie.send_signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(SESSIE_TIMEOUT_S + 5)  # its partitions move to the others meanwhile
        finally:
            zombie.send_signal(signal.SIGCONT)

    controle = await onder_belasting(cluster, "d_sigstop_worker_15s", pause)
    assert_exactly_once(controle, ploeg)
