"""The BSN elfproef, and finding a BSN in text in every form a person reads as one.

People write a BSN plain (`111222333`), grouped (`111 222 333`, `1112.22.333`, `111/222/333`,
`111, 222, 333`), with no-break spaces, or in full-width digits (`１１１２２２３３３`). So text is
read the way a person reads it: normalised first (NFKC, and every decimal digit of any script to
ASCII), then digit groups joined only by characters that are not letters or digits are read as one
number. Nine digits read that way that pass the elfproef are a BSN.

Two readings, for two kinds of field:
- free text (`vervang_bsns`): every nine-digit window over such joined groups, whatever the group
  sizes; a false hit only replaces a harmless number by a pseudonym;
- ids and other structured values (`bevat_bsn`): a run of exactly nine digits (also inside a word,
  as in `melding111222333`), nine digits in groups of two to four (`111-222-333`, `1112.22.333`),
  or a whole number of nine digits however grouped (`11122-2333`; so a counter such as
  `2026-00123` that happens to pass the elfproef is refused too: ids should be opaque). A longer
  counter (`20261130-1`) is not read as one. An id's hexadecimal parts (a UUID, a 32+ character
  hash) are opaque: their digits are not a decimal number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
BSN_LENGTE = 9
_NEGEN_CIJFERS = re.compile(r"[0-9](?:[^0-9]*[0-9]){8}")
"""At least nine ASCII digits anywhere: below that no reading can find a BSN (the cheap test;
starting with a character class lets the regex engine skip to the first digit in C)."""
_NIET_ASCII = re.compile(r"[^\x00-\x7f]")
_KETEN = re.compile(r"[0-9]+(?:[^0-9A-Za-z]+[0-9]+)*")
"""Digit groups joined by anything but ASCII letters: what a reader takes in as one number. After
normalising every digit is ASCII, so a non-ASCII character between groups is a separator, whatever
Unicode calls it: `ー` and `ˍ` are "letters", the Hangul filler is an invisible one."""
_GROEP = re.compile(r"[0-9]+")
_OPAAK = re.compile(
    r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{32,})(?![0-9A-Fa-f])"
)
"""A UUID or a long hexadecimal string (a hash, a dashless UUID) inside an id."""
_UUID_ID = re.compile(r"(?:[a-z-]+[0-9]{0,4}:)?[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
"""The usual id, `<org>:<uuid>` or a UUID: no BSN possible (the fast path of the signal's id)."""
_NINE_DIGITS = re.compile(r"(?<![0-9])[0-9]{9,}(?![0-9])")


def elfproef(bsn: str) -> bool:
    """True when `bsn` is nine digits whose weighted sum is divisible by 11 (and not all zeros)."""
    if len(bsn) != BSN_LENGTE or not bsn.isascii() or not bsn.isdigit() or bsn == "000000000":
        return False
    return sum(int(d) * w for d, w in zip(bsn, _WEIGHTS, strict=True)) % 11 == 0


def _als_cijfer(match: re.Match[str]) -> str:
    cijfer = unicodedata.digit(match.group(), None)
    return match.group() if cijfer is None else str(cijfer)


def normaliseer(tekst: str) -> str:
    """`tekst` as a reader sees it: NFKC (full-width and superscript digits, no-break spaces become
    ASCII) and every digit of another script or style (Arabic-Indic, Devanagari, dingbat `❶`) as its
    ASCII digit."""
    if tekst.isascii():
        return tekst
    tekst = unicodedata.normalize("NFKC", tekst)
    if tekst.isascii():
        return tekst
    return _NIET_ASCII.sub(_als_cijfer, tekst)


def _te_lezen(tekst: str) -> str | None:
    """The normalised text when it holds nine digits or more, else None: most strings (names,
    codes, a description without numbers) cost one regex search and no normalising."""
    if tekst.isascii():
        return tekst if _NEGEN_CIJFERS.search(tekst) else None
    genormaliseerd = normaliseer(tekst)
    return genormaliseerd if _NEGEN_CIJFERS.search(genormaliseerd) else None


def _vondsten(tekst: str, *, als_id: bool) -> Iterator[tuple[int, int, str]]:
    """(begin, end, bsn) of every BSN read in normalised `tekst`, left to right; may overlap."""
    for keten in _KETEN.finditer(tekst):
        if keten.end() - keten.start() < BSN_LENGTE:
            continue
        groepen = [(g.start(), g.end()) for g in _GROEP.finditer(tekst, keten.start(), keten.end())]
        eerste, som = 0, 0
        for laatste, (begin, eind) in enumerate(groepen):
            som += eind - begin
            while som > BSN_LENGTE:
                som -= groepen[eerste][1] - groepen[eerste][0]
                eerste += 1
            if som != BSN_LENGTE:
                continue
            venster = groepen[eerste : laatste + 1]
            heel = eerste == 0 and laatste == len(groepen) - 1
            if als_id and not heel and len(venster) > 1 and not all(2 <= e - b <= 4 for b, e in venster):
                continue
            cijfers = "".join(tekst[b:e] for b, e in venster)
            if elfproef(cijfers):
                yield venster[0][0], venster[-1][1], cijfers


def vervang_bsns(tekst: str, vervanging: Callable[[str], str]) -> str:
    """Free text with every BSN, in any form a person reads as one, replaced by `vervanging(bsn)`.

    Returns `tekst` itself when it holds none; otherwise the normalised text (NFKC) with the
    replacements. Overlapping readings are replaced together, so no part of either stays readable.
    """
    genormaliseerd = _te_lezen(tekst)
    if genormaliseerd is None:
        return tekst
    delen: list[str] = []
    positie = 0
    begin, eind, bsns = -1, -1, []
    for b, e, bsn in _vondsten(genormaliseerd, als_id=False):
        if b < eind:  # overlaps the span being collected
            eind = max(eind, e)
            bsns.append(bsn)
            continue
        if bsns:
            delen += [genormaliseerd[positie:begin], *map(vervanging, bsns)]
            positie = eind
        begin, eind, bsns = b, e, [bsn]
    if not bsns:
        return tekst
    delen += [genormaliseerd[positie:begin], *map(vervanging, bsns), genormaliseerd[eind:]]
    return "".join(delen)


def bevat_bsn(waarde: str, *, als_id: bool = False) -> bool:
    """True when a structured value (`als_id`: an id) holds a BSN in a form a person reads as one.

    An id is read in two parts around its first `:`, since the engine composes ids as
    `<namespace>:<id>` (`gm0363:<ce_id>`, `casus:<casus_id>`) and the two never form one number.
    """
    if als_id and _UUID_ID.fullmatch(waarde):
        return False
    genormaliseerd = _te_lezen(waarde)
    if genormaliseerd is None:
        return False
    if not als_id:
        return any(True for _ in _vondsten(genormaliseerd, als_id=False))
    opaak, vervangen = _OPAAK.subn("x", genormaliseerd)
    if vervangen and _NEGEN_CIJFERS.search(opaak) is None:
        return False  # the usual id: <org>:<uuid>
    return any(True for deel in opaak.split(":", 1) for _ in _vondsten(deel, als_id=True))


def maskeer_cijferreeksen(tekst: str) -> str:
    """An error text that may echo a partner's input without a BSN in any form, and without runs
    of nine or more digits."""
    tekst = vervang_bsns(tekst, lambda bsn: "*" * BSN_LENGTE)
    return _NINE_DIGITS.sub(lambda m: "*" * len(m.group(0)), tekst)
