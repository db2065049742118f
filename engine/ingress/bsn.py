"""The BSN elfproef, and finding BSN-like numbers in free text."""

from __future__ import annotations

import re
from collections.abc import Callable

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
# Nine digits, optionally grouped with spaces, dots or dashes ("111 222 333"), not inside a longer
# number. Free text is scanned with it so that a BSN typed into a description is not carried on.
_BSN_IN_TEXT = re.compile(r"(?<![0-9])(?:[0-9][ .-]?){8}[0-9](?![0-9])")
_DRIE_CIJFERS = re.compile(r"[0-9]{3}")
_TOKEN_SEPARATOR = re.compile(r"[^0-9A-Za-z]+")
_NINE_DIGITS = re.compile(r"(?<![0-9])[0-9]{9,}(?![0-9])")


def elfproef(bsn: str) -> bool:
    """True when `bsn` is nine digits whose weighted sum is divisible by 11 (and not all zeros)."""
    if len(bsn) != 9 or not bsn.isdigit() or bsn == "000000000":
        return False
    return sum(int(d) * w for d, w in zip(bsn, _WEIGHTS, strict=True)) % 11 == 0


def vervang_bsns(tekst: str, vervanging: Callable[[str], str]) -> str:
    """Replace every BSN-like number in `tekst` that passes the elfproef by `vervanging(bsn)`."""
    if _DRIE_CIJFERS.search(tekst) is None:  # most descriptions hold no long number: skip the scan
        return tekst

    def _vervang(match: re.Match[str]) -> str:
        digits = re.sub(r"[ .-]", "", match.group(0))
        return vervanging(digits) if elfproef(digits) else match.group(0)

    return _BSN_IN_TEXT.sub(_vervang, tekst)


def bevat_bsn_token(identifier: str) -> bool:
    """True when a part of `identifier` between non-alphanumerics is a BSN (passes the elfproef).

    For ids, not free text: digits spanning separators (as in a UUID's groups) do not count, so
    ordinary UUIDs are never mistaken for a BSN, while `melding-111222333` is.
    """
    return any(elfproef(token) for token in _TOKEN_SEPARATOR.split(identifier))


def maskeer_cijferreeksen(tekst: str) -> str:
    """Mask runs of nine or more digits, for error texts that may echo a partner's input."""
    return _NINE_DIGITS.sub(lambda m: "*" * len(m.group(0)), tekst)
