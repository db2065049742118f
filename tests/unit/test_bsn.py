"""Given text, when it is read for BSNs, then every form a person reads as a BSN is found, and
what a person does not read as one (a UUID, a counter, a longer number) is left alone."""

import random
import uuid

import pytest

from engine.domain.ingress.bsn import bevat_bsn, elfproef, maskeer_cijferreeksen, normaliseer, vervang_bsns
from tests.fixtures import OTHER_BSN, VALID_BSN

NBSP, NNBSP, ZWSP = "\u00a0", "\u202f", "\u200b"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# The forms demonstrated in issue 10, and their relatives.
FORMS = [
    "111222333",
    "111 222 333",
    "111.222.333",
    "111-222-333",
    "111/222/333",
    "111_222_333",
    "111,222,333",
    "111, 222, 333",
    f"111{NBSP}222{NBSP}333",
    f"111{NNBSP}222{NNBSP}333",
    f"111{ZWSP}222{ZWSP}333",
    "111–222–333",  # en dash
    "1112.22.333",  # the official 4-2-3 grouping
    "111222333".translate(FULL_WIDTH),
    "111 222 333".translate(FULL_WIDTH),
    "１１１．２２２．３３３",  # full-width digits and dots
    "¹¹¹²²²³³³",  # superscripts
    "111222333".translate(ARABIC_INDIC),
    f"111{NBSP}222-333".translate(FULL_WIDTH),  # mixed
    "①①①②②②③③③",  # circled
    "⑪⑫②②③③③",  # circled numbers: seven characters
]


def test_elfproef_accepts_valid_bsns() -> None:
    assert elfproef(VALID_BSN)
    assert elfproef(OTHER_BSN)


def test_elfproef_refuses_wrong_checksum_length_letters_and_zeros() -> None:
    assert not elfproef("111222334")
    assert not elfproef("11122233")
    assert not elfproef("1112223330")
    assert not elfproef("11122233a")
    assert not elfproef("000000000")
    assert not elfproef("111222333".translate(FULL_WIDTH))  # only after normalising


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_a_bsn_in_free_text_is_replaced(form: str) -> None:
    text = f"Eigenaar ({form}) koopt contant."
    assert vervang_bsns(text, lambda bsn: f"<{bsn}>") == f"Eigenaar (<{VALID_BSN}>) koopt contant."


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_a_bsn_in_an_id_or_field_is_found(form: str) -> None:
    assert bevat_bsn(f"melding-{form}", als_id=True)
    assert bevat_bsn(form)


def test_bsns_in_free_text_are_replaced_also_when_grouped() -> None:
    text = f"Betrokkene {VALID_BSN} en 123.456.782, factuur 111222334, tel 0612345678."
    result = vervang_bsns(text, lambda bsn: f"<{len(bsn)}>")
    assert result == "Betrokkene <9> en <9>, factuur 111222334, tel 0612345678."


def test_a_bsn_next_to_other_numbers_in_free_text_is_still_replaced() -> None:
    assert vervang_bsns(f"5 {VALID_BSN}", lambda b: "<>") == "5 <>"
    assert vervang_bsns("nr 12, 111 222 333, 4 kinderen", lambda b: "<>") == "nr 12, <>, 4 kinderen"


def test_overlapping_readings_are_replaced_together() -> None:
    # 111 222 333 and 222 333 444 could both be BSNs; neither may stay readable.
    text = "111 222 333 444"
    result = vervang_bsns(text, lambda b: f"<{b}>")
    assert "333" not in result.replace("<111222333>", "")


def test_text_without_a_bsn_is_returned_as_is() -> None:
    text = "Geen nummer, één adres: ＡＢＣ"
    assert vervang_bsns(text, lambda b: "<>") is text


def test_a_bsn_inside_an_id_or_theme_is_found() -> None:
    assert bevat_bsn(f"melding{VALID_BSN}", als_id=True)
    assert bevat_bsn(f"gm0363:melding{VALID_BSN}", als_id=True)
    assert bevat_bsn(f"regionaal:p{VALID_BSN}")
    assert bevat_bsn(VALID_BSN, als_id=True)
    assert not bevat_bsn("melding-111222334", als_id=True)


@pytest.mark.parametrize(
    "counter",
    ["2026-00123", "20261130-1", "3f8a1234-12345", "gm0363:12-345", "R-1", "AA-2026-714102-001"],
)
def test_counters_in_ids_are_not_read_as_a_bsn(counter: str) -> None:
    # Each would hold nine digits with its separators dropped; nobody writes a BSN 4-5 or 8-1.
    assert not bevat_bsn(counter, als_id=True)


def test_uuids_are_never_mistaken_for_a_bsn() -> None:
    # Seen in sample traffic: digits across UUID groups once read as a BSN.
    rng = random.Random(7)
    uuids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(20_000)]
    assert [u for u in uuids if bevat_bsn(u, als_id=True)] == []
    assert [u for u in uuids if bevat_bsn(f"gm0363:{u}", als_id=True)] == []
    assert [u for u in uuids if bevat_bsn(uuid.UUID(u).hex, als_id=True)] == []


def test_normalising_turns_every_digit_into_ascii() -> None:
    assert normaliseer("１２３ ٤٥٦ ⁷⁸⁹") == "123 456 789"
    assert normaliseer(f"a{NBSP}b") == "a b"


def test_error_texts_lose_long_digit_runs_and_bsns_in_any_form() -> None:
    assert maskeer_cijferreeksen(f"Invalid enum value '{VALID_BSN}'") == "Invalid enum value '*********'"
    assert maskeer_cijferreeksen("at most 10000") == "at most 10000"
    for form in FORMS:
        assert VALID_BSN not in normaliseer(maskeer_cijferreeksen(f"Invalid enum value '{form}'"))


# Found by an attacker's review: separators Unicode calls letters, dingbat digits, and an id
# grouped 5-4. 111222333 passes the elfproef.
@pytest.mark.parametrize(
    "tekst",
    [
        "111ー222ー333",
        "111ㅤ222ㅤ333",
        "❶❶❶❷❷❷❸❸❸",
        "111ǀ222ǀ333",
        "111ꓸ222ꓸ333",
        "111ˍ222ˍ333",
        "BSN: 111 - 222 - 333.",
    ],
)
def test_free_text_hides_a_bsn_behind_letter_like_separators_and_dingbat_digits(tekst: str) -> None:
    assert vervang_bsns(tekst, lambda bsn: "[persoon:x]").count("[persoon:x]") == 1


@pytest.mark.parametrize("ident", ["11122-2333", "gm0363:11122-2333", "1-11222333", "111ー222ー333"])
def test_an_id_holding_nine_digits_in_any_grouping_is_read_as_a_bsn(ident: str) -> None:
    assert bevat_bsn(ident, als_id=True)


@pytest.mark.parametrize(
    "ident", ["20261130-1", "2026-000123", "melding-42", "gm0363:6f1e2c4a-0b1d-4e2f-9a3b-111222333444"]
)
def test_counters_of_another_length_and_uuids_stay_ids(ident: str) -> None:
    assert not bevat_bsn(ident, als_id=True)
