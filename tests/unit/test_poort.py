"""Given the attacks of issue 10 (a BSN in a kenteken, a huisnummer, a ce_id, a theme, free text in
any form, RIEC command texts), when ingress accepts or refuses them, then no raw BSN passes: ids and
structured fields are refused naming the field, free text is pseudonymised."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from engine.domain.casus import beslis
from engine.domain.identificatoren import van_signaal
from engine.domain.ingress.bsn import normaliseer
from engine.domain.ingress.poort import IDS, bewaak, vrije_tekst_velden
from engine.domain.knelpunten import Knelpuntenregister
from engine.domain.reference.regelversies import regelversies
from engine.domain.routing import route
from engine.errors import Weigering
from engine.events.casus import HandhavingsknelpuntAangewezen
from engine.events.route import ROUTE_ENCODER, GerouteerdSignaal
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER, PersoonPseudoniem, SignaalOntvangen
from tests.fixtures import VALID_BSN, payload
from tests.unit import test_acceptatie as signalen
from tests.unit import test_opdrachten as opdrachten
from tests.unit.test_bsn import FORMS

PERSOON = f"[persoon:{signalen.PSEUDO.bsn(VALID_BSN)}]"


def leesbaar(tekst: str | bytes) -> bool:
    """Whether a person could read VALID_BSN in `tekst`: normalised, every separator dropped."""
    if isinstance(tekst, bytes):
        tekst = tekst.decode()
    kaal = "".join(c for c in normaliseer(tekst) if c.isalnum())
    return VALID_BSN in kaal


def weigering_signaal(body: dict[str, object] | None = None, **hdrs: str) -> Weigering:
    weigering = signalen.refusal(signalen.bericht(body=body, **hdrs))
    assert not leesbaar(weigering.reden), weigering.reden
    return weigering


def test_a_bsn_as_kenteken_or_huisnummer_fails_the_schema() -> None:
    voertuig = payload(subjecten=[{"type": "voertuig", "kenteken": VALID_BSN}])
    assert weigering_signaal(voertuig).code == "payload_invalid"
    adres = payload(subjecten=[{"type": "adres", "postcode": "1013AB", "huisnummer": VALID_BSN}])
    assert weigering_signaal(adres).code == "payload_invalid"
    locatie = payload(locatie={"postcode": "1013AB", "huisnummer": VALID_BSN})
    assert weigering_signaal(locatie).code == "payload_invalid"


def test_a_bsn_spread_over_huisnummer_and_toevoeging_is_refused_naming_the_field() -> None:
    # 11122-2333 fits the schema (number and toevoeging), but the index key would read 111222333.
    body = payload(subjecten=[{"type": "adres", "postcode": "1013AB", "huisnummer": "11122-2333"}])
    weigering = weigering_signaal(body)
    assert (weigering.code, weigering.reden.split(" ")[0]) == ("bsn_in_veld", "subjecten[0].huisnummer")


@pytest.mark.parametrize(
    "ce_id", [f"melding{VALID_BSN}", "melding-111.222.333", "m_1112_22_333", "111-222-333"]
)
def test_a_bsn_in_a_ce_id_is_refused(ce_id: str) -> None:
    weigering = weigering_signaal(ce_id=ce_id)
    assert weigering.code == "bsn_in_id" and weigering.reden.startswith("ce_id ")


def test_a_bsn_in_a_regional_theme_is_refused() -> None:
    weigering = weigering_signaal(payload(themas=["drugs", f"regionaal:p{VALID_BSN}"]))
    assert weigering.code == "bsn_in_veld" and weigering.reden.startswith("themas[1] ")


@pytest.mark.parametrize("form", FORMS)
def test_a_bsn_in_free_text_is_pseudonymised_in_every_form(form: str) -> None:
    signaal = signalen.accept(signalen.bericht(body=payload(omschrijving=f"Eigenaar {form} koopt contant.")))
    assert signaal.omschrijving == f"Eigenaar {PERSOON} koopt contant."
    assert not leesbaar(SIGNAAL_LOG_ENCODER.encode(signaal))


def test_a_short_text_that_normalises_to_a_bsn_is_read_too() -> None:
    signaal = signalen.accept(signalen.bericht(body=payload(omschrijving="⑪⑫②②③③③")))
    assert signaal.omschrijving == PERSOON


def test_a_uuid_ce_id_and_ordinary_counters_pass() -> None:
    for ce_id in ("0f8fad5b-d9cb-469f-a165-70867728950e", "melding-2026-00123", "20261130-1"):
        assert signalen.accept(signalen.bericht(ce_id=ce_id)).signaal_id == f"gm0363:{ce_id}"


def test_free_text_and_id_fields_are_marked_in_one_place() -> None:
    assert vrije_tekst_velden() == {"omschrijving", "naam", "reden", "uitvoerder", "coordinator"}
    assert {"casus_id", "hkp_id", "beeld_id", "advies_id", "signaal_id", "signalen"} <= IDS


CASUS = "nl.riec.casus.openen.v1"
HKP = "nl.riec.handhavingsknelpunt.aanwijzen.v1"


@pytest.mark.parametrize(
    ("ce_type", "body", "veld"),
    [
        (CASUS, {"casus_id": "R-1", "naam": "N", "bron": "inbreng"}, "naam"),
        ("nl.riec.casus.afsluiten.v1", {"casus_id": "R-1", "reden": "R"}, "reden"),
        ("nl.riec.ondermijningsbeeld.opleveren.v1", {"beeld_id": "B-1", "naam": "N"}, "naam"),
        (
            "nl.riec.casus.interventieadvies.v1",
            {
                "casus_id": "R-1",
                "advies_id": "A",
                "soorten": ["bibob"],
                "uitvoerder": "U",
                "coordinator": "C",
            },
            "uitvoerder",
        ),
        (
            "nl.riec.casus.interventieadvies.v1",
            {
                "casus_id": "R-1",
                "advies_id": "A",
                "soorten": ["bibob"],
                "uitvoerder": "U",
                "coordinator": "C",
            },
            "coordinator",
        ),
        (
            HKP,
            {
                "hkp_id": "H-1",
                "naam": "N",
                "soort": "gebied",
                "postcodes": ["3011"],
                "geldig_van": "2026-01-01",
            },
            "naam",
        ),
    ],
)
def test_riec_command_free_text_is_pseudonymised(ce_type: str, body: dict[str, object], veld: str) -> None:
    for form in FORMS:
        o = opdrachten.accept(opdrachten.bericht(ce_type, {**body, veld: f"Dossier {form}"}))
        assert msgspec.json.decode(o.opdracht)[veld] == f"Dossier {PERSOON}"
        assert not leesbaar(msgspec.json.encode(o))


@pytest.mark.parametrize("veld", ["casus_id", "hkp_id", "beeld_id", "advies_id", "signaal_id"])
def test_a_bsn_in_a_command_id_is_refused_naming_the_field(veld: str) -> None:
    bodies = {
        "casus_id": ("nl.riec.casus.afsluiten.v1", {"reden": "R"}),
        "hkp_id": ("nl.riec.handhavingsknelpunt.beeindigen.v1", {}),
        "beeld_id": ("nl.riec.ondermijningsbeeld.opleveren.v1", {"naam": "N"}),
        "advies_id": (
            "nl.riec.casus.interventieadvies.v1",
            {"casus_id": "R-1", "soorten": ["bibob"], "uitvoerder": "U", "coordinator": "C"},
        ),
        "signaal_id": ("nl.riec.casus.signaal_koppelen.v1", {"casus_id": "R-1"}),
    }
    ce_type, body = bodies[veld]
    waarde = f"politie:m-{VALID_BSN}" if veld == "signaal_id" else "R-111.222.333"
    weigering = opdrachten.refusal(opdrachten.bericht(ce_type, {**body, veld: waarde}))
    assert (weigering.code, weigering.reden.split(" ")[0]) == ("bsn_in_id", veld)
    assert not leesbaar(weigering.reden)


def test_a_bsn_in_a_linked_signal_id_or_command_theme_is_refused() -> None:
    body = {
        "casus_id": "R-1",
        "naam": "N",
        "bron": "inbreng",
        "signalen": ["politie:a", f"gm0363:{VALID_BSN}"],
    }
    assert opdrachten.refusal(opdrachten.bericht(CASUS, body)).reden.startswith("signalen[1] ")
    body = {"casus_id": "R-1", "naam": "N", "bron": "inbreng", "themas": [f"regionaal:p{VALID_BSN}"]}
    assert opdrachten.refusal(opdrachten.bericht(CASUS, body)).code == "bsn_in_veld"


def test_an_hkp_name_reaches_routing_reasons_only_pseudonymised() -> None:
    body = {"hkp_id": "H-1", "naam": "Pand van 111 222 333", "soort": "gebied", "postcodes": ["3011"],
            "geldig_van": "2026-01-01"}  # fmt: skip
    o = opdrachten.accept(opdrachten.bericht(HKP, body))
    register = Knelpuntenregister()
    for g in beslis(None, o, opdrachten.NU):
        assert isinstance(g, HandhavingsknelpuntAangewezen)
        register.pas_toe(g)
    signaal = signalen.accept(signalen.bericht(body=payload(locatie={"postcode": "3011AA"})))
    signaal = msgspec.structs.replace(signaal, ontvangen_op=opdrachten.NU)
    routes = route(signaal, regelversies(), register.matches(signaal))
    redenen = [r.toelichting for rt in routes for r in rt.redenen if r.regel == "handhavingsknelpunt"]
    assert redenen and PERSOON in redenen[0]
    for rt in routes:
        assert not leesbaar(
            ROUTE_ENCODER.encode(GerouteerdSignaal.van(signaal, rt.bestemming, list(rt.redenen)))
        )


def test_index_keys_hold_no_bsn() -> None:
    signaal: SignaalOntvangen = signalen.accept(signalen.bericht())
    assert isinstance(signaal.subjecten[0], PersoonPseudoniem)
    assert not any(leesbaar(k) for k in van_signaal(signaal))


class ToekomstigVeld(msgspec.Struct):
    """A field added later, short by its schema but without an ASCII pattern."""

    kort: Annotated[str, msgspec.Meta(max_length=8)]
    code: Annotated[str, msgspec.Meta(max_length=8, pattern=r"^[0-9]{1,8}$")]


def test_a_field_added_later_is_read_unless_its_schema_keeps_it_below_nine_ascii_characters() -> None:
    # Seven circled numbers are nine digits after NFKC; eight ASCII digits never are.
    with pytest.raises(Weigering, match=r"^bsn_in_veld: kort "):
        bewaak(ToekomstigVeld(kort="⑪⑫②②③③③", code="1"), signalen.PSEUDO)
    assert bewaak(ToekomstigVeld(kort="a", code="11122233"), signalen.PSEUDO).code == "11122233"
