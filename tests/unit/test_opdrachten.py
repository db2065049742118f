"""Given a RIEC office's message, when the command front door looks at it, then an accepted
command for its aggregate, or a refusal with a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.domain.casus import beslis
from engine.domain.ingress.acceptatie import Bericht
from engine.domain.ingress.opdrachten import accepteer_opdracht
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.reference import gebiedsindeling
from engine.errors import Weigering
from engine.events.signaal_ontvangen import PersoonPseudoniem
from tests.fixtures import TEST_KEY, VALID_BSN, command_headers, encode

NU = datetime(2026, 5, 1, tzinfo=UTC)
PSEUDO = Pseudonimiseerder(TEST_KEY)
AANWIJZEN = "nl.riec.handhavingsknelpunt.aanwijzen.v1"


def bericht(ce_type: str, body: dict[str, Any], riec: str = "rotterdam", **hdrs: str) -> Bericht:
    hdrs.setdefault("ce_time", NU.isoformat())
    return Bericht(f"riec.{riec}.opdrachten", command_headers(riec, ce_type, **hdrs), encode(body), 0, 0, 42)


def accept(b: Bericht):  # type: ignore[no-untyped-def]
    return accepteer_opdracht(b, gebied=gebiedsindeling(), pseudo=PSEUDO, nu=NU)


def refusal(b: Bericht) -> Weigering:
    with pytest.raises(Weigering) as info:
        accept(b)
    assert VALID_BSN not in info.value.reden
    return info.value


def test_a_casus_opening_is_keyed_by_its_casus_with_pseudonymised_subjects() -> None:
    body = {"casus_id": "R-1", "naam": "n", "bron": "inbreng", "signalen": ["politie:x"],
            "subjecten": [{"type": "persoon", "bsn": VALID_BSN}]}  # fmt: skip
    o = accept(bericht("nl.riec.casus.openen.v1", body, ce_id="c-1"))
    assert (o.opdracht_id, o.aggregaat, o.riec, o.bron_offset) == (
        "rotterdam:c-1",
        "casus:R-1",
        "rotterdam",
        42,
    )
    assert o.subjecten == [PersoonPseudoniem(pseudoniem=PSEUDO.bsn(VALID_BSN))]
    assert VALID_BSN.encode() not in bytes(o.opdracht)


@pytest.mark.parametrize(
    ("b", "code"),
    [
        (
            bericht(
                "nl.riec.casus.afsluiten.v1",
                {"casus_id": "R-1", "reden": "x"},
                ce_source="urn:nl:riec:riec:limburg",
            ),
            "source_mismatch",
        ),
        (bericht("nl.riec.casus.sluiten.v1", {"casus_id": "R-1"}), "unknown_type"),
        (bericht("nl.riec.casus.afsluiten.v1", {"casus_id": "R-1"}), "payload_invalid"),
        (
            bericht(
                "nl.riec.casus.afpakken.v1",
                {"casus_id": "R-1", "soort": "geind", "domein": "fiscaal", "bedrag_eurocent": -5},
            ),
            "payload_invalid",
        ),
        (
            bericht(
                "nl.riec.casus.interventieadvies.v1",
                {"casus_id": "R-1", "advies_id": "a", "soorten": [], "uitvoerder": "x", "coordinator": "y"},
            ),
            "payload_invalid",
        ),
        (
            bericht(
                AANWIJZEN,
                {"hkp_id": "H", "naam": "n", "soort": "persoon", "subjecten": [], "geldig_van": "2026-01-01"},
            ),
            "payload_invalid",
        ),
        (
            bericht(AANWIJZEN, {"hkp_id": "H", "naam": "n", "soort": "gebied", "geldig_van": "2026-01-01"}),
            "payload_invalid",
        ),
        (
            bericht(
                AANWIJZEN,
                {
                    "hkp_id": "H",
                    "naam": "n",
                    "soort": "gebied",
                    "postcodes": ["1000"],
                    "geldig_van": "2026-01-01",
                },
            ),
            "unknown_postcode",
        ),
        (
            bericht(
                AANWIJZEN,
                {
                    "hkp_id": "H",
                    "naam": "n",
                    "soort": "branche",
                    "sbi": ["68"],
                    "geldig_van": "2026-02-01",
                    "geldig_tot": "2026-01-01",
                },
            ),
            "payload_invalid",
        ),
        (
            bericht(
                AANWIJZEN,
                {
                    "hkp_id": "H",
                    "naam": "n",
                    "soort": "persoon",
                    "subjecten": [{"type": "persoon", "bsn": "111222334"}],
                    "geldig_van": "2026-01-01",
                },
            ),
            "elfproef",
        ),
        (bericht("nl.riec.casus.afsluiten.v1", {"casus_id": f"R-{VALID_BSN}", "reden": "x"}), "bsn_in_id"),
        (
            Bericht(
                "riec.utrecht.opdrachten", command_headers("utrecht", "nl.riec.casus.afsluiten.v1"), b"{}", 0
            ),
            "unknown_riec",
        ),
    ],
    ids=[
        "another RIEC's source",
        "unknown type",
        "missing field",
        "negative amount",
        "advice without kinds",
        "persoon HKP without person",
        "gebied HKP without postcodes",
        "unknown PC4",
        "geldig_tot before van",
        "HKP person fails elfproef",
        "BSN in casus_id",
        "unknown RIEC topic",
    ],
)
def test_bad_commands_are_refused_at_the_door(b: Bericht, code: str) -> None:
    assert refusal(b).code == code


def test_an_area_hkp_keeps_its_postcodes_normalised() -> None:
    body = {
        "hkp_id": "H",
        "naam": "n",
        "soort": "gebied",
        "postcodes": ["1044 ab", "1013"],
        "geldig_van": "2026-01-01",
    }
    o = accept(bericht(AANWIJZEN, body, riec="amsterdam-amstelland"))
    assert o.aggregaat == "hkp:H" and b'"postcodes":["1013","1044AB"]' in bytes(o.opdracht)


@pytest.mark.parametrize(
    "postcodes",
    [["1013"], ["3089", "1044 AB"], ["3011AA", "2511"]],
    ids=["amsterdam", "one of two", "den haag"],
)
def test_an_area_hkp_outside_the_riecs_own_gemeenten_is_refused(postcodes: list[str]) -> None:
    body = {"hkp_id": "H", "naam": "n", "soort": "gebied", "postcodes": postcodes, "geldig_van": "2026-01-01"}
    weigering = refusal(bericht(AANWIJZEN, body, riec="rotterdam"))
    assert weigering.code == "hkp_gebied_buiten_regio"
    assert "RIEC rotterdam" in weigering.reden and f"postcodes[{len(postcodes) - 1}]" in weigering.reden


def test_an_area_hkp_within_the_riecs_own_gemeenten_is_accepted() -> None:
    body = {
        "hkp_id": "H",
        "naam": "n",
        "soort": "gebied",
        "postcodes": ["3089", "3011AA"],
        "geldig_van": "2026-01-01",
    }
    assert accept(bericht(AANWIJZEN, body, riec="rotterdam")).aggregaat == "hkp:H"


def test_the_author_header_is_kept_on_the_command_and_its_events() -> None:
    body = {"casus_id": "R-2", "naam": "n", "bron": "gebiedsscan"}
    b = bericht("nl.riec.casus.openen.v1", body, ce_id="c-2")
    b = Bericht(b.topic, [*b.headers, ("riec_auteur", b"riec:rotterdam")], b.value, 0, 0, 42)
    o = accept(b)
    assert o.auteur == "riec:rotterdam"
    [g] = beslis(None, o, NU)
    assert g.auteur == "riec:rotterdam"
    assert accept(bericht("nl.riec.casus.openen.v1", body, ce_id="c-3")).auteur == ""
    for fout in (b"", b"met spatie", b"x" * 101, "é".encode()):
        slecht = Bericht(b.topic, [*b.headers[:-1], ("riec_auteur", fout)], b.value, 0, 0, 42)
        assert refusal(slecht).code == "envelope_invalid"
    bsn = Bericht(b.topic, [*b.headers[:-1], ("riec_auteur", VALID_BSN.encode())], b.value, 0, 0, 42)
    assert refusal(bsn).code.startswith("bsn")
