import random
import uuid

from engine.ingress.bsn import bevat_bsn_token, elfproef, maskeer_cijferreeksen, vervang_bsns
from tests.fixtures import OTHER_BSN, VALID_BSN


def test_elfproef_accepts_valid_bsns() -> None:
    assert elfproef(VALID_BSN)
    assert elfproef(OTHER_BSN)


def test_elfproef_refuses_wrong_checksum_length_letters_and_zeros() -> None:
    assert not elfproef("111222334")
    assert not elfproef("11122233")
    assert not elfproef("1112223330")
    assert not elfproef("11122233a")
    assert not elfproef("000000000")


def test_bsns_in_free_text_are_replaced_also_when_grouped() -> None:
    text = f"Betrokkene {VALID_BSN} en 123.456.782, factuur 111222334, tel 0612345678."
    result = vervang_bsns(text, lambda bsn: f"<{len(bsn)}>")
    assert result == "Betrokkene <9> en <9>, factuur 111222334, tel 0612345678."


def test_a_bsn_as_part_of_an_id_is_found_but_uuids_are_never_mistaken_for_one() -> None:
    assert bevat_bsn_token(f"melding-{VALID_BSN}")
    assert bevat_bsn_token(VALID_BSN)
    assert not bevat_bsn_token("melding-111222334")
    # Seen in sample traffic: digits across UUID groups once read as a BSN.
    rng = random.Random(7)
    uuids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(20_000)]
    assert [u for u in uuids if bevat_bsn_token(u)] == []


def test_error_texts_lose_long_digit_runs() -> None:
    assert maskeer_cijferreeksen(f"Invalid enum value '{VALID_BSN}'") == "Invalid enum value '*********'"
    assert maskeer_cijferreeksen("at most 10000") == "at most 10000"
