"""Given a running worker's tokens file, when an operator takes a token out, rotates it or writes a
file that does not read, then the worker answers accordingly from the next second on, without a
restart: a revoked token is refused, and a broken file never revives one."""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.api.toegang import Principal, Tokenbestand

OUD, NIEUW, LIEC = "oud-" + "a" * 30, "nieuw-" + "b" * 30, "liec-" + "c" * 30


class Klok:
    def __init__(self) -> None:
        self.nu = 0.0

    def __call__(self) -> float:
        return self.nu


def schrijf(pad: Path, tokens: dict[str, str], mtime: int) -> None:
    pad.write_text(json.dumps(tokens))
    os.utime(pad, ns=(mtime, mtime))  # two writes within a clock tick must still differ


def test_a_token_taken_out_of_the_file_is_refused_within_a_second_and_a_broken_file_revives_none(
    tmp_path: Path,
) -> None:
    pad, klok = tmp_path / "tokens.json", Klok()
    schrijf(pad, {OUD: "riec:rotterdam", LIEC: "liec"}, 1)
    tokens = Tokenbestand(pad, klok=klok)
    assert tokens.principal(f"Bearer {OUD}") == Principal("riec:rotterdam")

    schrijf(pad, {NIEUW: "riec:rotterdam", LIEC: "liec"}, 2)  # rotated
    assert tokens.principal(f"Bearer {OUD}") == Principal("riec:rotterdam"), "looked at once a second"
    klok.nu = 1.5
    assert tokens.principal(f"Bearer {OUD}") is None
    assert tokens.principal(f"Bearer {NIEUW}") == Principal("riec:rotterdam")

    pad.write_text('{"half geschreven')
    os.utime(pad, ns=(3, 3))
    klok.nu = 3.0
    assert tokens.principal(f"Bearer {NIEUW}") is None and tokens.principal(f"Bearer {LIEC}") is None
    schrijf(pad, {LIEC: "liec"}, 4)
    klok.nu = 4.5
    assert (
        tokens.principal(f"Bearer {LIEC}") == Principal("liec")
        and tokens.principal(f"Bearer {NIEUW}") is None
    )
