"""Four eyes, both ways: given a request filed by one principal, an approval by the same principal
changes nothing (refused), by a second principal of an allowed role it takes effect; a request runs
out unapproved, and nothing happens after that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.domain.vergeten.vieroogen import Verzoek, beslis, pas_toe, verlopen
from engine.errors import Weigering
from engine.events.vieroogen import (
    DienIn,
    KeurGoed,
    VerzoekAfgewezen,
    VerzoekGoedgekeurd,
    VerzoekVerlopen,
    WijsAf,
)

NU = datetime(2026, 12, 1, 9, tzinfo=UTC)
WISSEN = DienIn(verzoek_id="v-1", handeling="wissen", onderwerp="bsn:p" + "0" * 63, reden="AVG art. 17")


def ingediend(door: str = "liec:de-vries") -> Verzoek:
    [g] = beslis(None, WISSEN, door, NU)
    verzoek = pas_toe(None, g)
    assert verzoek is not None
    return verzoek


def code(verzoek: Verzoek | None, o: object, door: str, nu: datetime = NU) -> str:
    with pytest.raises(Weigering) as w:
        beslis(verzoek, o, door, nu)  # type: ignore[arg-type]
    return w.value.code


def test_an_erasure_without_a_second_approver_does_nothing() -> None:
    verzoek = ingediend()
    assert verzoek.status == "open"
    assert code(verzoek, KeurGoed(verzoek_id="v-1"), "liec:de-vries") == "four_eyes"
    assert [g for g in verlopen(verzoek, NU + timedelta(hours=71))] == [], "still waiting"
    [verloop] = verlopen(verzoek, NU + timedelta(hours=72))
    assert isinstance(verloop, VerzoekVerlopen)
    verlopen_ = pas_toe(verzoek, verloop)
    assert code(verlopen_, KeurGoed(verzoek_id="v-1"), "ops:jansen") == "impossible_transition"


def test_a_second_principal_approves_and_the_act_takes_effect_once() -> None:
    verzoek = ingediend()
    [g] = beslis(verzoek, KeurGoed(verzoek_id="v-1"), "ops:jansen", NU + timedelta(hours=1))
    assert isinstance(g, VerzoekGoedgekeurd) and (g.handeling, g.onderwerp) == ("wissen", WISSEN.onderwerp)
    goedgekeurd = pas_toe(verzoek, g)
    assert code(goedgekeurd, KeurGoed(verzoek_id="v-1"), "liec:bakker") == "impossible_transition"


def test_an_approval_after_the_request_ran_out_is_refused() -> None:
    assert (
        code(ingediend(), KeurGoed(verzoek_id="v-1"), "ops:jansen", NU + timedelta(hours=72))
        == "request_expired"
    )


def test_only_named_principals_of_an_allowed_role_file_or_approve() -> None:
    assert code(None, WISSEN, "riec:rotterdam") == "not_authorised", "a RIEC does not erase for the country"
    assert code(None, WISSEN, "liec") == "not_authorised", "a role without a person is not a pair of eyes"
    sleutel = DienIn(verzoek_id="v-2", handeling="sleutel_vernietigen", onderwerp="signaal:x", reden="r")
    assert code(None, sleutel, "liec:de-vries") == "not_authorised"
    assert code(ingediend(), KeurGoed(verzoek_id="v-1"), "riec:rotterdam") == "not_authorised"


def test_a_request_can_be_turned_down_and_its_id_is_not_reused() -> None:
    verzoek = ingediend()
    [g] = beslis(verzoek, WijsAf(verzoek_id="v-1", reden="geen grond"), "ops:jansen", NU)
    assert isinstance(g, VerzoekAfgewezen) and pas_toe(verzoek, g).status == "afgewezen"  # type: ignore[union-attr]
    assert code(verzoek, WISSEN, "liec:de-vries") == "duplicate_id"
    assert code(None, KeurGoed(verzoek_id="v-9"), "ops:jansen") == "unknown_request"
