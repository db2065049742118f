"""Given a casus, HKP or beeld's events, when a command arrives, then these events — or a refusal
that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from engine.domain.casus import Aggregaat, Casus, al_verwerkt, beslis, pas_toe
from engine.errors import Weigering
from engine.events.casus import (
    AfpakkenGeregistreerd,
    CasusAfgesloten,
    CasusGeopend,
    Gebeurtenis,
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
    InterventieadviesGegeven,
    KoppelingAfgewezen,
    KoppelingBevestigd,
    KoppelingGeweigerd,
    KoppelingVerlopen,
    OpdrachtOntvangen,
    SignaalGekoppeld,
)
from engine.events.signaal_ontvangen import PersoonPseudoniem

T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
_teller = iter(range(10**6))


def opdracht(
    ce_type: str, riec: str = "rotterdam", ce_id: str | None = None, **payload: Any
) -> OpdrachtOntvangen:
    aggregaat = (
        f"hkp:{payload['hkp_id']}" if "hkp_id" in payload
        else f"beeld:{payload['beeld_id']}" if "beeld_id" in payload
        else f"casus:{payload['casus_id']}"
    )  # fmt: skip
    return OpdrachtOntvangen(
        opdracht_id=f"{riec}:{ce_id or next(_teller)}",
        riec=riec,
        ce_type=f"nl.riec.{ce_type}.v1",
        tijd=T,
        ontvangen_op=T,
        aggregaat=aggregaat,
        opdracht=msgspec.Raw(msgspec.json.encode(payload)),
        subjecten=[PersoonPseudoniem(pseudoniem="p" * 64)] if ce_type.endswith("aanwijzen") else [],
    )


OPEN = {
    "casus_id": "R-1",
    "naam": "Vakantiepark",
    "bron": "inbreng",
    "signalen": ["politie:a"],
    "themas": ["drugs"],
}
ADVIES = {"casus_id": "R-1", "advies_id": "A1", "soorten": ["bibob", "fiscaal"], "uitvoerder": "gm0599", "coordinator": "RIEC"}  # fmt: skip


def given(*commands: OpdrachtOntvangen) -> Aggregaat | None:
    aggregaat: Aggregaat | None = None
    for c in commands:
        for g in beslis(aggregaat, c, T):
            aggregaat = pas_toe(aggregaat, g)
    return aggregaat


def when(aggregaat: Aggregaat | None, command: OpdrachtOntvangen) -> list[Gebeurtenis]:
    return beslis(aggregaat, command, T)


def refused(aggregaat: Aggregaat | None, command: OpdrachtOntvangen) -> str:
    with pytest.raises(Weigering) as info:
        beslis(aggregaat, command, T)
    return info.value.code


def test_opening_a_casus_records_its_inbreng_themes_and_owner() -> None:
    [g] = when(None, opdracht("casus.openen", **OPEN))
    assert isinstance(g, CasusGeopend)
    assert (g.casus_id, g.riec, g.signalen, g.themas, g.tijd) == (
        "R-1",
        "rotterdam",
        ["politie:a"],
        ["drugs"],
        T,
    )


def test_the_werkproces_from_opening_to_closing() -> None:
    casus = given(opdracht("casus.openen", **OPEN))
    assert isinstance(casus, Casus) and casus.status == "geopend"
    [gekoppeld] = when(casus, opdracht("casus.signaal_koppelen", casus_id="R-1", signaal_id="gm0599:b"))
    assert isinstance(gekoppeld, SignaalGekoppeld)
    casus = pas_toe(casus, gekoppeld)
    [advies] = when(casus, opdracht("casus.interventieadvies", **ADVIES))
    assert isinstance(advies, InterventieadviesGegeven) and advies.soorten == ["bibob", "fiscaal"]
    casus = pas_toe(casus, advies)
    assert isinstance(casus, Casus) and casus.status == "interventieadvies"
    afpak = opdracht(
        "casus.afpakken", casus_id="R-1", soort="geind", domein="fiscaal", bedrag_eurocent=125_000
    )
    [geind] = when(casus, afpak)
    assert isinstance(geind, AfpakkenGeregistreerd) and geind.bedrag_eurocent == 125_000
    [gesloten] = when(casus, opdracht("casus.afsluiten", casus_id="R-1", reden="afgerond"))
    assert isinstance(gesloten, CasusAfgesloten)
    casus = pas_toe(casus, gesloten)
    assert isinstance(casus, Casus) and casus.status == "afgesloten"


@pytest.mark.parametrize(
    ("history", "command", "code"),
    [
        ([], opdracht("casus.signaal_koppelen", casus_id="R-1", signaal_id="om:x"), "unknown_casus"),
        ([opdracht("casus.openen", **OPEN)], opdracht("casus.openen", **OPEN), "impossible_transition"),
        ([opdracht("casus.openen", **OPEN)], opdracht("casus.openen", riec="limburg", **OPEN), "id_taken"),
        (
            [opdracht("casus.openen", **OPEN)],
            opdracht("casus.afpakken", casus_id="R-1", soort="opgelegd", domein="fiscaal", bedrag_eurocent=1),
            "impossible_transition",
        ),
        (
            [opdracht("casus.openen", **OPEN), opdracht("casus.afsluiten", casus_id="R-1", reden="x")],
            opdracht("casus.signaal_koppelen", casus_id="R-1", signaal_id="om:x"),
            "impossible_transition",
        ),
        (
            [opdracht("casus.openen", **OPEN), opdracht("casus.afsluiten", casus_id="R-1", reden="x")],
            opdracht("casus.afsluiten", casus_id="R-1", reden="again"),
            "impossible_transition",
        ),
        (
            [opdracht("casus.openen", **OPEN), opdracht("casus.interventieadvies", **ADVIES)],
            opdracht("casus.interventieadvies", **ADVIES),
            "impossible_transition",
        ),
        (
            [opdracht("casus.openen", **OPEN)],
            opdracht("casus.afsluiten", riec="den-haag", casus_id="R-1", reden="not mine"),
            "unknown_casus",  # as if it did not exist: no refusal tells another RIEC's ids apart
        ),
        ([], opdracht("handhavingsknelpunt.beeindigen", hkp_id="H-1"), "unknown_hkp"),
    ],
    ids=[
        "unknown casus",
        "open twice",
        "id of another RIEC",
        "afpakken before advies",
        "link after closing",
        "close twice",
        "same advies twice",
        "another RIEC closes",
        "end unknown HKP",
    ],
)
def test_impossible_commands_are_refused(
    history: list[OpdrachtOntvangen], command: OpdrachtOntvangen, code: str
) -> None:
    assert refused(given(*history), command) == code


def test_afpakken_after_closing_is_allowed_once_advice_was_given() -> None:
    casus = given(
        opdracht("casus.openen", **OPEN),
        opdracht("casus.interventieadvies", **ADVIES),
        opdracht("casus.afsluiten", casus_id="R-1", reden="x"),
    )
    afpak = opdracht(
        "casus.afpakken", casus_id="R-1", soort="beslag", domein="strafrechtelijk", bedrag_eurocent=9
    )
    assert len(when(casus, afpak)) == 1


def test_the_same_command_again_is_recognised_and_changes_nothing() -> None:
    first = opdracht("casus.openen", ce_id="c-1", **OPEN)
    casus = given(first)
    assert al_verwerkt(casus, first.opdracht_id)
    assert not al_verwerkt(casus, "rotterdam:c-2")


def test_linking_a_signal_already_brought_in_changes_nothing() -> None:
    casus = given(opdracht("casus.openen", **OPEN))
    assert when(casus, opdracht("casus.signaal_koppelen", casus_id="R-1", signaal_id="politie:a")) == []


def test_hkp_designated_and_ended_only_by_its_own_riec() -> None:
    aanwijzen = opdracht(
        "handhavingsknelpunt.aanwijzen", riec="amsterdam-amstelland", hkp_id="H-1", naam="Westelijk havengebied",
        soort="gebied", postcodes=["1013", "1044AB"], geldig_van="2026-01-01",
    )  # fmt: skip
    [g] = when(None, aanwijzen)
    assert isinstance(g, HandhavingsknelpuntAangewezen) and g.postcodes == ["1013", "1044AB"]
    hkp = given(aanwijzen)
    vreemd = opdracht("handhavingsknelpunt.beeindigen", riec="rotterdam", hkp_id="H-1")
    with pytest.raises(Weigering) as van_een_ander:
        beslis(hkp, vreemd, T)
    with pytest.raises(Weigering) as onbekend:
        beslis(None, vreemd, T)
    assert (van_een_ander.value.code, van_een_ander.value.reden) == (
        onbekend.value.code,
        onbekend.value.reden,
    )
    assert van_een_ander.value.code == "unknown_hkp"
    [ended] = when(hkp, opdracht("handhavingsknelpunt.beeindigen", riec="amsterdam-amstelland", hkp_id="H-1"))
    assert isinstance(ended, HandhavingsknelpuntBeeindigd)
    hkp = pas_toe(hkp, ended)
    again = opdracht("handhavingsknelpunt.beeindigen", riec="amsterdam-amstelland", hkp_id="H-1")
    assert refused(hkp, again) == "impossible_transition"


def test_a_link_refused_or_expired_may_be_asked_again_a_pending_or_confirmed_one_not() -> None:
    casus = given(opdracht("casus.openen", **OPEN))
    koppel = opdracht("casus.signaal_koppelen", casus_id="R-1", signaal_id="politie:a")
    meta = {"opdracht_id": "rotterdam:open", "riec": "rotterdam", "tijd": T, "vastgelegd_op": T}
    assert when(casus, koppel) == [], "pending: asked already"
    bevestigd = pas_toe(casus, KoppelingBevestigd(**meta, casus_id="R-1", signaal_id="politie:a"))
    assert bevestigd.signalen == casus.signalen and when(bevestigd, koppel) == []
    for uitkomst in (
        KoppelingGeweigerd(
            **meta, casus_id="R-1", signaal_id="politie:a", code="signaal_niet_gerouteerd", reden="r"
        ),
        KoppelingVerlopen(**meta, casus_id="R-1", signaal_id="politie:a", reden="r"),
    ):
        [again] = when(pas_toe(casus, uitkomst), koppel)
        assert isinstance(again, SignaalGekoppeld) and again.signaal_id == "politie:a"


def test_a_candidate_link_is_rejected_by_the_casus_owner_only_and_changes_nothing() -> None:
    casus = given(opdracht("casus.openen", **OPEN))
    afwijzen = opdracht("casus.koppeling_afwijzen", casus_id="R-1", signaal_id="om:k", reden="Andere persoon")
    [g] = when(casus, afwijzen)
    assert isinstance(g, KoppelingAfgewezen) and (g.signaal_id, g.reden) == ("om:k", "Andere persoon")
    na = pas_toe(casus, g)
    assert isinstance(na, Casus) and isinstance(casus, Casus)
    assert (na.status, na.signalen) == (casus.status, casus.signalen) and al_verwerkt(
        na, afwijzen.opdracht_id
    )
    vreemd = opdracht("casus.koppeling_afwijzen", riec="limburg", casus_id="R-1", signaal_id="om:k")
    with pytest.raises(Weigering) as van_een_ander:
        beslis(casus, vreemd, T)
    with pytest.raises(Weigering) as onbekend:
        beslis(None, vreemd, T)
    assert (van_een_ander.value.code, van_een_ander.value.reden) == ("unknown_casus", onbekend.value.reden)
    gekoppeld = opdracht("casus.koppeling_afwijzen", casus_id="R-1", signaal_id="politie:a")
    assert refused(casus, gekoppeld) == "impossible_transition", "brought in: not a candidate"


def test_every_command_type_of_the_contract_has_one_decision() -> None:
    # Given the contract's command types, then each has its own decision in the table (a new
    # command type without one would fail here, not as a KeyError on a worker).
    from engine.domain.casus import BESLUITEN
    from engine.events.opdrachten import OPDRACHT_TYPES

    assert set(BESLUITEN) == set(OPDRACHT_TYPES.values())
    assert len(set(BESLUITEN.values())) == len(BESLUITEN)


def test_events_of_an_aggregate_never_opened_fold_onto_nothing() -> None:
    # Given every event a casus's life produces, when one is folded onto an aggregate never seen
    # opened, then there is still none: only an opening event creates an aggregate.
    meta = {"opdracht_id": "rotterdam:x", "riec": "rotterdam", "tijd": T, "vastgelegd_op": T}
    casus = given(opdracht("casus.openen", **OPEN))
    gebeurtenissen: list[Gebeurtenis] = [
        *when(casus, opdracht("casus.signaal_koppelen", casus_id="R-1", signaal_id="om:b")),
        *when(casus, opdracht("casus.koppeling_afwijzen", casus_id="R-1", signaal_id="om:k")),
        *when(casus, opdracht("casus.interventieadvies", **ADVIES)),
        *when(casus, opdracht("casus.afsluiten", casus_id="R-1", reden="x")),
        KoppelingBevestigd(**meta, casus_id="R-1", signaal_id="om:b"),
        KoppelingVerlopen(**meta, casus_id="R-1", signaal_id="om:b", reden="r"),
        HandhavingsknelpuntBeeindigd(**meta, hkp_id="H-1"),
    ]
    assert [pas_toe(None, g) for g in gebeurtenissen] == [None] * len(gebeurtenissen)


def test_a_link_outcome_leaves_an_hkp_as_it_was_and_a_casus_event_only_records_its_command() -> None:
    # Given an HKP, when a casus's events reach it (a key shared by mistake), then it changes
    # nothing but the commands it has seen; a link's outcome (no command) not even that.
    meta = {"opdracht_id": "rotterdam:x", "riec": "rotterdam", "tijd": T, "vastgelegd_op": T}
    aanwijzen = opdracht(
        "handhavingsknelpunt.aanwijzen", hkp_id="H-1", naam="n", soort="groep", geldig_van="2026-01-01"
    )
    hkp = given(aanwijzen)
    assert pas_toe(hkp, KoppelingBevestigd(**meta, casus_id="R-1", signaal_id="om:b")) == hkp
    na = pas_toe(hkp, SignaalGekoppeld(**meta, casus_id="R-1", signaal_id="om:b"))
    assert na is not None and hkp is not None
    assert na.opdrachten == hkp.opdrachten | {"rotterdam:x"} and na.riec == hkp.riec
