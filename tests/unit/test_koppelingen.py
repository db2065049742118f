"""Given what vastleggen knows of a signal (seen, routed, where), when a casus brings it in or links
it, then the link is confirmed only for a RIEC the signal was routed to; a link to a signal never
seen expires; and a partition restored from its log decides exactly as the live one did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from engine.domain.koppelingen import VERWERKINGSMARGE, Signaalpartitie, gebeurtenis
from engine.events.casus import KoppelingBevestigd, KoppelingGeweigerd, KoppelingVerlopen
from engine.events.signaal_ontvangen import (
    KoppelingBeslist,
    KoppelingGevraagd,
    PersoonPseudoniem,
    SignaalGerouteerd,
    SignaalLogRecord,
    SignaalOntvangen,
)
from tests.fixtures import VALID_BSN, ontvangen

T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
TERMIJN = timedelta(days=7)
PERSOON = "p" * 64
OMSCHRIJVING = "Contante aankoop van een pand boven de vraagprijs."


def signaal(signaal_id: str = "gm0363:s1") -> SignaalOntvangen:
    return ontvangen(signaal_id, omschrijving=OMSCHRIJVING, subjecten=[PersoonPseudoniem(pseudoniem=PERSOON)])


def gerouteerd(signaal_id: str = "gm0363:s1", *bestemmingen: str) -> SignaalGerouteerd:
    return SignaalGerouteerd(
        signaal_id=signaal_id, bestemmingen=list(bestemmingen or ["riec.amsterdam-amstelland"]), besloten_op=T
    )


def link(
    riec: str, casus_id: str = "C-1", signaal_id: str = "gm0363:s1", op: datetime = T
) -> KoppelingGevraagd:
    return KoppelingGevraagd(
        signaal_id=signaal_id,
        casus_id=casus_id,
        riec=riec,
        opdracht_id=f"{riec}:cmd-{casus_id}",
        ce_type="nl.riec.casus.openen.v1",
        tijd=T,
        gevraagd_op=op,
    )


class Vastleggen:
    """The decision half of the vastleggen stage, in memory: what it decides, and what it logs."""

    def __init__(self) -> None:
        self.partitie = Signaalpartitie(TERMIJN)
        self.log: list[SignaalLogRecord] = []

    def _log(self, record: SignaalLogRecord) -> None:
        self.log.append(record)
        self.partitie.pas_toe(record)

    def ontvang(self, record: SignaalLogRecord, nu: datetime = T) -> list[KoppelingBeslist]:
        match record:
            case KoppelingGevraagd():
                besluit = self.partitie.koppel(record, nu)
                if besluit is None:
                    self._log(record)
                    return []
                return [besluit]
            case SignaalGerouteerd():
                besluiten = self.partitie.bij_routering(record, nu)
                self._log(record)
                return besluiten
            case _:
                self._log(record)
                return []

    def tik(self, nu: datetime) -> list[KoppelingBeslist]:
        besluiten = self.partitie.verlopen(nu)
        for b in besluiten:
            self._log(b)
        return besluiten


def uitkomsten(besluiten: list[KoppelingBeslist]) -> list[tuple[str, str, str]]:
    return [(b.koppeling.riec, b.koppeling.casus_id, b.uitkomst) for b in besluiten]


def test_another_riecs_link_to_a_routed_signal_waits_and_expires_exactly_as_one_to_an_unknown_id() -> None:
    """Given a signal routed to Amsterdam only, when Rotterdam links it and also an id that exists
    nowhere, then neither is decided at once, both expire at the same moment with the same words
    (ids aside), and neither carries anything of the signal: Rotterdam cannot tell which exists."""
    v = Vastleggen()
    v.ontvang(signaal())
    v.ontvang(gerouteerd("gm0363:s1", "riec.amsterdam-amstelland", "lft.vastgoed"))
    assert v.ontvang(link("rotterdam")) == [], "waits, as a link to an unknown id does"
    assert v.ontvang(link("rotterdam", casus_id="C-2", signaal_id="gm0363:nergens")) == []
    [confirmed] = v.ontvang(link("amsterdam-amstelland", casus_id="A-1"))
    assert confirmed.uitkomst == "bevestigd"

    assert v.tik(T + TERMIJN - timedelta(seconds=1)) == []
    bestaand, onbekend = sorted(v.tik(T + TERMIJN), key=lambda b: b.koppeling.casus_id)

    def zonder_ids(b: KoppelingBeslist) -> tuple[object, ...]:
        k = b.koppeling
        reden = (b.reden or "").replace(k.signaal_id, "<id>").replace(k.casus_id, "<casus>")
        return (b.uitkomst, b.reden_code, reden, b.besloten_op, k.riec)

    assert zonder_ids(bestaand) == zonder_ids(onbekend)
    assert (bestaand.uitkomst, bestaand.reden_code) == ("verlopen", "koppeling_verlopen")
    reden = bestaand.reden or ""
    for geheim in (OMSCHRIJVING, PERSOON, VALID_BSN, "amsterdam", "vastgoed"):
        assert geheim not in reden
    assert v.tik(T + 3 * TERMIJN) == [], "decided once"


def test_a_signal_routed_to_no_riec_can_be_linked_by_none() -> None:
    v = Vastleggen()
    v.ontvang(signaal())
    v.ontvang(gerouteerd("gm0363:s1", "liec.triage"))
    assert v.ontvang(link("amsterdam-amstelland")) == []
    assert uitkomsten(v.tik(T + TERMIJN)) == [("amsterdam-amstelland", "C-1", "verlopen")]


def test_links_before_the_signal_wait_for_its_routing_then_each_is_decided() -> None:
    v = Vastleggen()
    assert v.ontvang(link("rotterdam", casus_id="R-1")) == []
    assert v.ontvang(link("amsterdam-amstelland", casus_id="A-1")) == []
    assert v.ontvang(signaal()) == [], "seen but not routed yet: still waiting"
    assert v.ontvang(link("den-haag", casus_id="D-1")) == [], "also waits for the routing"
    assert v.tik(T + 2 * TERMIJN) == [], "seen, its routing on its way: nothing expires"
    besluiten = v.ontvang(gerouteerd("gm0363:s1", "riec.amsterdam-amstelland"))
    assert uitkomsten(besluiten) == [("amsterdam-amstelland", "A-1", "bevestigd")]
    assert sorted(v.partitie.wachtend) == ["gm0363:s1"], "the others wait on, as for an unknown id"
    assert sorted(uitkomsten(v.tik(T + 2 * TERMIJN))) == [
        ("den-haag", "D-1", "verlopen"),
        ("rotterdam", "R-1", "verlopen"),
    ]
    assert v.partitie.wachtend == {}
    assert v.tik(T + 3 * TERMIJN) == [], "decided links never expire again"


def test_a_link_to_a_signal_never_seen_expires_once_and_the_expiry_is_logged() -> None:
    v = Vastleggen()
    v.ontvang(link("rotterdam", signaal_id="politie:nooit"))
    assert v.tik(T + TERMIJN - timedelta(seconds=1)) == []
    [verlopen] = v.tik(T + TERMIJN)
    assert (verlopen.uitkomst, verlopen.reden_code) == ("verlopen", "koppeling_verlopen")
    assert "7 days" in verlopen.reden
    assert v.log[-1] == verlopen, "the expiry is on the log, so a restore does not decide it again"
    assert v.tik(T + 3 * TERMIJN) == []
    assert v.ontvang(signaal("politie:nooit")) == []
    assert v.ontvang(gerouteerd("politie:nooit", "riec.rotterdam")) == [], "the late signal joins no casus"


def test_a_link_to_a_signal_seen_in_time_does_not_expire_while_its_routing_is_on_its_way() -> None:
    v = Vastleggen()
    v.ontvang(link("rotterdam"))
    v.ontvang(signaal(), nu=T + timedelta(days=1))
    assert v.tik(T + 2 * TERMIJN) == []
    assert uitkomsten(v.ontvang(gerouteerd("gm0363:s1", "riec.rotterdam"))) == [
        ("rotterdam", "C-1", "bevestigd")
    ]


def test_a_partition_restored_from_its_log_decides_as_the_live_one() -> None:
    live = Vastleggen()
    live.ontvang(link("rotterdam", casus_id="R-1", signaal_id="politie:weg"))
    live.ontvang(link("rotterdam", casus_id="R-2"))
    live.ontvang(link("den-haag", casus_id="D-1", signaal_id="om:later", op=T + TERMIJN))
    live.tik(T + TERMIJN)  # politie:weg expires
    live.ontvang(signaal())
    live.ontvang(gerouteerd("gm0363:s1", "riec.rotterdam"))

    restored = Signaalpartitie(TERMIJN)
    for record in live.log:
        restored.pas_toe(record)
    assert (restored.signalen, restored.riecs, restored.wachtend) == (
        live.partitie.signalen,
        live.partitie.riecs,
        live.partitie.wachtend,
    )
    later = T + 3 * TERMIJN
    assert (
        uitkomsten(restored.verlopen(later))
        == uitkomsten(live.partitie.verlopen(later))
        == [("den-haag", "D-1", "verlopen")]
    )


def test_each_decision_becomes_a_casus_event_in_the_year_of_the_command() -> None:
    v = Vastleggen()
    v.ontvang(signaal())
    v.ontvang(gerouteerd("gm0363:s1", "riec.amsterdam-amstelland"))
    later = T + timedelta(days=400)
    [bevestigd] = v.ontvang(link("amsterdam-amstelland"), nu=later)
    [verlopen] = [*v.ontvang(link("rotterdam", signaal_id="x:y")), *v.tik(T + TERMIJN)]
    geweigerd = KoppelingBeslist(  # as logs from before 2026-12-07 hold them
        koppeling=link("rotterdam"), uitkomst="geweigerd", besloten_op=T,
        reden_code="signaal_niet_gerouteerd", reden="r",
    )  # fmt: skip
    g1, g2, g3 = (gebeurtenis(b, later) for b in (bevestigd, geweigerd, verlopen))
    assert isinstance(g1, KoppelingBevestigd) and (g1.tijd, g1.opdracht_id) == (
        T,
        "amsterdam-amstelland:cmd-C-1",
    )
    assert isinstance(g2, KoppelingGeweigerd) and g2.code == "signaal_niet_gerouteerd"
    assert isinstance(g3, KoppelingVerlopen) and g3.signaal_id == "x:y" and g3.riec == "rotterdam"


def test_signals_beyond_the_dedup_horizon_are_forgotten_live_and_skipped_by_a_restore() -> None:
    # Given a horizon of 30 days, a signal reported at T and one reported 20 days later, both routed
    horizon = timedelta(days=30)
    live = Signaalpartitie(TERMIJN, horizon)
    later = msgspec.structs.replace(signaal("gm0363:s2"), gemeld_op=T + timedelta(days=20))
    log: list[SignaalLogRecord] = [signaal(), gerouteerd("gm0363:s1"), later, gerouteerd("gm0363:s2")]
    for r in log:
        live.pas_toe(r)
    # When the clock passes the horizon plus the week's margin after the first, not the second
    nu = T + horizon + VERWERKINGSMARGE + timedelta(seconds=1)
    live.vergeet(nu)
    # Then only the second is remembered (a duplicate of the first is refused at ingress by then)
    assert set(live.signalen) == set(live.riecs) == {"gm0363:s2"}
    # And a restore at the same moment folds to the same state, never holding the first
    restored = Signaalpartitie(TERMIJN, horizon)
    restored.vergeet(nu)
    for r in log:
        restored.pas_toe(r)
    assert restored.signalen == live.signalen and restored.riecs == live.riecs
    # And a link to the forgotten signal waits, as one to a signal never seen
    assert live.koppel(link("amsterdam-amstelland"), nu) is None
