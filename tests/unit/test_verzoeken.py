"""Given the four-eyes commands the API wrote to engine.verzoekopdrachten, when the verzoeken stage
decides them, then engine.verzoeken holds the request's events, or the command's refusal with its
code: an approval only from a second named principal, within the request's time; and a stage
restored from that log decides the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.sleutels import Sleutelring
from engine.events.vieroogen import (
    OPDRACHT_ENCODER,
    VERZOEK_DECODER,
    DienIn,
    KeurGoed,
    Opdrachtbericht,
    OpdrachtGeweigerd,
    VerzoekGoedgekeurd,
    VerzoekIngediend,
    Verzoekopdracht,
    Verzoekregel,
    VerzoekVerlopen,
    WijsAf,
)
from engine.handlers.verzoeken import Verzoekbeslisser
from engine.metrics import Metrics
from engine.topics import SLEUTELS, VERZOEKEN, VERZOEKOPDRACHTEN
from tests.unit.fakes import LogInMemory

NU = datetime(2026, 12, 1, 6, tzinfo=UTC)
HOOFD = bytes(range(32))
ONDERWERP = "persoon:" + "a" * 64
WISSEN = DienIn(verzoek_id="wis-1", handeling="wissen", onderwerp=ONDERWERP, reden="AVG art. 17")


@dataclass
class Klok:
    nu: datetime = NU

    def __call__(self) -> datetime:
        return self.nu


@dataclass
class Omgeving:
    log: LogInMemory
    klok: Klok
    stage: Verzoekbeslisser

    def geef(self, door: str, opdracht: Verzoekopdracht) -> list[Verzoekregel]:
        """The API wrote this command; the stage decides it, and its outputs are committed."""
        value = OPDRACHT_ENCODER.encode(Opdrachtbericht(door=door, opdracht=opdracht))
        r = self.log.append(VERZOEKOPDRACHTEN, opdracht.verzoek_id.encode(), value)
        uit = self.log.write(self.stage.process(r))
        return [VERZOEK_DECODER.decode(u.value) for u in uit if u.topic == VERZOEKEN]

    def open(self, g: VerzoekGoedgekeurd) -> str | None:
        """The request's subject, opened with the keys the stage wrote (as the executor does)."""
        ring = Sleutelring(HOOFD)
        for r in self.log.records(SLEUTELS):
            ring.herstel(r.key.decode(), r.value)
        return verzegeling.open_tekst(ring, verzegeling.verzoek_sleutel_id(g.verzoek_id), g.onderwerp)

    def verzoeken(self) -> list[Verzoekregel]:
        return [VERZOEK_DECODER.decode(r.value) for r in self.log.records(VERZOEKEN)]


async def omgeving(log: LogInMemory | None = None, klok: Klok | None = None) -> Omgeving:
    """The stage with partition 0 restored from `log` (empty by default)."""
    log, klok = log or LogInMemory(), klok or Klok()
    stage = Verzoekbeslisser(
        log_reader=log, metrics=Metrics(CollectorRegistry()), clock=klok, hoofdsleutel=HOOFD
    )
    await stage.prepare({TopicPartition(VERZOEKOPDRACHTEN, 0)})
    return Omgeving(log, klok, stage)


async def test_a_request_approved_by_a_second_principal_is_approved_with_its_act_and_subject() -> None:
    o = await omgeving()
    [ingediend] = o.geef("ops:a", WISSEN)
    assert isinstance(ingediend, VerzoekIngediend) and ingediend.door == "ops:a"
    assert ingediend.verloopt_op == NU + timedelta(hours=72)
    [goedgekeurd] = o.geef("ops:b", KeurGoed(verzoek_id="wis-1"))
    assert msgspec.structs.replace(goedgekeurd, onderwerp="") == VerzoekGoedgekeurd(
        verzoek_id="wis-1", door="ops:b", op=NU, handeling="wissen", onderwerp=""
    )
    assert o.open(goedgekeurd) == ONDERWERP, "the subject is sealed on the log, under the request's key"
    assert all(r.key == b"wis-1" and r.partition == 0 for r in o.log.records(VERZOEKEN))
    assert not any(ONDERWERP.encode() in r.value for r in o.log.records(VERZOEKEN) if r.value)


async def test_a_subject_sealed_at_the_door_is_filed_with_the_key_it_came_with_not_sealed_again() -> None:
    """Given the API sealed the subject (engine.verzoekopdrachten never holds it in the clear), when
    the stage files the request, then the key it carried goes to the key store and opens it."""
    o = await omgeving()
    sleutel, verzegeld = verzegeling.verzegel_tekst(Sleutelring(HOOFD), "verzoek:wis-1", ONDERWERP)
    [ingediend] = o.geef("ops:a", msgspec.structs.replace(WISSEN, onderwerp=verzegeld, sleutel=sleutel))
    assert isinstance(ingediend, VerzoekIngediend) and ingediend.onderwerp == verzegeld
    assert [(r.key, r.value) for r in o.log.records(SLEUTELS)] == [(b"verzoek:wis-1", sleutel)]
    [goedgekeurd] = o.geef("ops:b", KeurGoed(verzoek_id="wis-1"))
    assert isinstance(goedgekeurd, VerzoekGoedgekeurd) and o.open(goedgekeurd) == ONDERWERP
    assert not any(ONDERWERP.encode() in r.value for r in o.log.records(VERZOEKOPDRACHTEN) if r.value)


async def test_the_requester_approving_itself_is_refused_and_nothing_is_approved() -> None:
    o = await omgeving()
    o.geef("ops:a", WISSEN)
    [geweigerd] = o.geef("ops:a", KeurGoed(verzoek_id="wis-1"))
    assert isinstance(geweigerd, OpdrachtGeweigerd)
    assert (geweigerd.code, geweigerd.opdracht, geweigerd.door) == ("four_eyes", "keur_goed", "ops:a")
    assert ONDERWERP not in geweigerd.reden
    assert not any(isinstance(g, VerzoekGoedgekeurd) for g in o.verzoeken())
    [goedgekeurd] = o.geef("liec:c", KeurGoed(verzoek_id="wis-1"))
    assert isinstance(goedgekeurd, VerzoekGoedgekeurd), "the request is still open for a second principal"


async def test_a_shared_ops_principal_may_neither_file_nor_approve() -> None:
    o = await omgeving()
    [geweigerd] = o.geef("ops", WISSEN)
    assert isinstance(geweigerd, OpdrachtGeweigerd) and geweigerd.code == "not_authorised"
    o.geef("ops:a", WISSEN)
    [geweigerd] = o.geef("ops", KeurGoed(verzoek_id="wis-1"))
    assert isinstance(geweigerd, OpdrachtGeweigerd) and geweigerd.code == "not_authorised"
    [geweigerd] = o.geef("liec:b", KeurGoed(verzoek_id="nergens"))
    assert isinstance(geweigerd, OpdrachtGeweigerd) and geweigerd.code == "unknown_request"
    [geweigerd] = o.geef("ops:b", WISSEN)
    assert isinstance(geweigerd, OpdrachtGeweigerd) and geweigerd.code == "duplicate_id"


async def test_an_open_request_expires_at_the_next_command_after_its_time() -> None:
    o = await omgeving()
    o.geef("ops:a", WISSEN)
    o.geef("ops:a", DienIn(verzoek_id="later", handeling="projectie_herbouwen", onderwerp="inbox", reden="r"))
    o.klok.nu = NU + timedelta(hours=72)
    # The approval comes too late: refused, and every request past its time expired after it.
    geweigerd, *verlopen_ = o.geef("ops:b", KeurGoed(verzoek_id="wis-1"))
    assert isinstance(geweigerd, OpdrachtGeweigerd) and geweigerd.code == "request_expired"
    assert verlopen_ == [
        VerzoekVerlopen(verzoek_id=v, door="engine", op=o.klok.nu) for v in ("wis-1", "later")
    ]
    assert o.geef("ops:b", DienIn(verzoek_id="wis-3", handeling="wissen", onderwerp="x", reden="r"))[1:] == []
    [geweigerd] = o.geef("ops:b", WijsAf(verzoek_id="later", reden="te laat"))
    assert isinstance(geweigerd, OpdrachtGeweigerd) and geweigerd.code == "impossible_transition"


async def test_a_stage_restored_from_the_log_decides_as_the_live_one() -> None:
    live = await omgeving()
    live.geef("ops:a", WISSEN)
    live.geef("ops:a", KeurGoed(verzoek_id="wis-1"))
    live.geef("ops:a", DienIn(verzoek_id="wis-2", handeling="wissen", onderwerp="kvk:12345678", reden="r"))
    live.geef("ops:b", WijsAf(verzoek_id="wis-2", reden="geen grond"))
    # Given a worker that restores the partition from engine.verzoeken (the commands are not read again)
    hersteld = await omgeving(live.log)
    for o in (live, hersteld):
        assert [type(g) for g in o.geef("ops:b", KeurGoed(verzoek_id="wis-2"))] == [OpdrachtGeweigerd]
    a, b = (o.geef("ops:a", KeurGoed(verzoek_id="wis-1"))[0] for o in (live, hersteld))
    assert isinstance(a, OpdrachtGeweigerd) and a.code == "four_eyes"
    assert isinstance(b, OpdrachtGeweigerd) and (b.code, b.reden) == (a.code, a.reden)
    [c] = hersteld.geef("ops:b", KeurGoed(verzoek_id="wis-1"))
    assert isinstance(c, VerzoekGoedgekeurd) and hersteld.open(c) == ONDERWERP
