"""Given a partner message, when ingress looks at it, then it is accepted as a signal or refused
with a reason code and a sentence an integrator can act on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.domain.ingress.acceptatie import Beleid, Bericht, accepteer
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.reference.regelversies import regelversies
from engine.errors import Weigering
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER, PersoonPseudoniem
from tests.fixtures import TEST_KEY, VALID_BSN, encode, headers, payload

NU = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
PSEUDO = Pseudonimiseerder(TEST_KEY)


def bericht(
    org: str = "gm0363", body: dict[str, Any] | None = None, *, value: bytes | None = None, **hdrs: str
) -> Bericht:
    raw = value if value is not None else encode(body if body is not None else payload())
    hdrs.setdefault("ce_time", NU.isoformat())
    return Bericht(f"partner.{org}.signalen", headers(org, **hdrs), raw, 1_772_452_800_000)


def accept(b: Bericht, beleid: Beleid | None = None):  # type: ignore[no-untyped-def]
    return accepteer(b, regels=regelversies(), pseudo=PSEUDO, beleid=beleid or Beleid(), nu=NU)


def refusal(b: Bericht, beleid: Beleid | None = None) -> Weigering:
    with pytest.raises(Weigering) as info:
        accept(b, beleid)
    assert VALID_BSN not in info.value.reden
    return info.value


def test_valid_signal_is_accepted_under_org_and_ce_id() -> None:
    signaal = accept(bericht("gm0363", ce_id="melding-1"))
    assert signaal.signaal_id == "gm0363:melding-1"
    assert signaal.bron == "gm0363"
    assert signaal.ontvangen_op == NU
    assert signaal.locatie is not None and signaal.locatie.gemeente == "GM0363"


def test_accepted_signal_holds_pseudonym_and_no_raw_bsn_anywhere() -> None:
    body = payload(omschrijving=f"BSN {VALID_BSN} genoemd in de tekst")
    signaal = accept(bericht(body=body))
    assert signaal.subjecten[0] == PersoonPseudoniem(pseudoniem=PSEUDO.bsn(VALID_BSN))
    assert PSEUDO.bsn(VALID_BSN) in signaal.omschrijving
    assert VALID_BSN.encode() not in SIGNAAL_LOG_ENCODER.encode(signaal)


def test_postcode_kenteken_and_themes_are_normalised() -> None:
    body = payload(
        themas=["drugs", "drugs", "regionaal:vakantieparken"],
        locatie={"postcode": "1013 ab"},
        subjecten=[
            {"type": "voertuig", "kenteken": "ab-123-c"},
            {"type": "adres", "postcode": "3011 AA", "huisnummer": "1"},
        ],
    )
    signaal = accept(bericht(body=body))
    assert signaal.themas == ["drugs", "regionaal:vakantieparken"]
    assert signaal.locatie is not None and signaal.locatie.postcode == "1013AB"
    assert [getattr(s, "kenteken", None) or getattr(s, "postcode", None) for s in signaal.subjecten] == [
        "AB123C",
        "3011AA",
    ]


@pytest.mark.parametrize(
    ("case", "b", "code", "words"),
    [
        ("not json", bericht(value=b"{not json"), "not_json", "not valid JSON"),
        ("empty value", bericht(value=b""), "not_json", "empty"),
        (
            "no envelope",
            Bericht("partner.gm0363.signalen", [], encode(payload()), 0),
            "envelope_invalid",
            "ce_",
        ),
        (
            "spoofed source",
            bericht("politie", ce_source="urn:nl:riec:partner:om"),
            "source_mismatch",
            "partner:politie",
        ),
        ("bad ce_time", bericht(ce_time="yesterday"), "envelope_invalid", "ce_time"),
        ("wrong ce_type", bericht(ce_type="nl.riec.casus.openen.v1"), "envelope_invalid", "ce_type"),
        ("wrong content-type", bericht(**{"content-type": "text/xml"}), "envelope_invalid", "content-type"),
        (
            "failed elfproef",
            bericht(body=payload(subjecten=[{"type": "persoon", "bsn": "111222334"}])),
            "elfproef",
            "subjecten[0].bsn",
        ),
        (
            "unknown gemeente",
            bericht(body=payload(locatie={"gemeente": "GM9999"})),
            "unknown_gemeente",
            "GM9999",
        ),
        (
            "unknown postcode",
            bericht(body=payload(locatie={"postcode": "0000AA"})),
            "payload_invalid",
            "locatie.postcode",
        ),
        (
            "nonexistent PC4",
            bericht(body=payload(locatie={"postcode": "1000AA"})),
            "unknown_postcode",
            "PC4 1000",
        ),
        (
            "location without place",
            bericht(body=payload(locatie={"huisnummer": "1"})),
            "locatie_incomplete",
            "gemeente",
        ),
        ("unknown theme", bericht(body=payload(themas=["fraude"])), "payload_invalid", "$.themas[0]"),
        ("no theme", bericht(body=payload(themas=[])), "payload_invalid", "$.themas"),
        (
            "oversize text",
            bericht(body=payload(omschrijving="x" * 10_001)),
            "payload_invalid",
            "$.omschrijving",
        ),
        (
            "wrong type",
            bericht(body=payload(subjecten=[{"type": "persoon", "bsn": 111222333}])),
            "payload_invalid",
            "Expected `str`",
        ),
        (
            "missing field",
            bericht(body={"soort": "signaal", "themas": ["drugs"]}),
            "payload_invalid",
            "omschrijving",
        ),
        ("unknown soort", bericht(body=payload(soort=VALID_BSN)), "payload_invalid", "$.soort"),
        (
            "too many subjects",
            bericht(body=payload(subjecten=[{"type": "voertuig", "kenteken": "AB12CD"}] * 101)),
            "payload_invalid",
            "$.subjecten",
        ),
        ("too large", bericht(value=b" " * (1024 * 1024 + 1)), "too_large", "1 MiB"),
        ("bsn as ce_id", bericht(ce_id=f"id-{VALID_BSN}"), "bsn_in_id", "ce_id"),
        (
            "unknown partner",
            Bericht("partner.acme.signalen", headers("acme"), encode(payload()), 0),
            "unknown_partner",
            "partner.acme",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)
def test_bad_input_is_refused_with_a_reason(case: str, b: Bericht, code: str, words: str) -> None:
    weigering = refusal(b)
    assert weigering.code == code, weigering.reden
    assert words in weigering.reden


def test_toeslagen_is_refused_by_policy_and_the_policy_can_be_lifted() -> None:
    weigering = refusal(bericht("toeslagen"))
    assert weigering.code == "partner_not_permitted"
    assert "may not yet provide information" in weigering.reden
    assert accept(bericht("toeslagen"), Beleid(geweigerde_partners=frozenset())).bron == "toeslagen"


def test_abroad_needs_no_gemeente() -> None:
    signaal = accept(bericht(body=payload(locatie={"land": "BE"})))
    assert signaal.locatie is not None and signaal.locatie.land == "BE"


def test_a_gemeente_code_that_is_not_in_the_reference_data_is_refused_as_partner() -> None:
    weigering = refusal(bericht("gm9999"))
    assert weigering.code == "unknown_partner"
    assert "gm9999 is not a gemeente in the CBS reference data" in weigering.reden
    assert "ENGINE_EXTRA_GEMEENTEN" in weigering.reden
    assert refusal(bericht("pv99")).code == "unknown_partner"


def test_a_gemeente_born_of_a_merger_publishes_once_the_operators_admit_it() -> None:
    assert refusal(bericht("gm1999")).code == "unknown_partner"
    assert accept(bericht("gm1999"), Beleid(extra_gemeenten=frozenset({"gm1999"}))).bron == "gm1999"
