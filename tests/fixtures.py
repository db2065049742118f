"""Builders shared by unit and pipeline tests: contract-shaped signals and CloudEvents headers."""

from __future__ import annotations

import contextlib
import re
import shutil
import unicodedata
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from engine.events.signaal_ontvangen import PersoonPseudoniem, SignaalOntvangen

TEST_KEY = b"k" * 32
VALID_BSN = "111222333"  # passes the elfproef
OTHER_BSN = "123456782"  # passes the elfproef


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid nl.riec.signaal.v1 payload about Amsterdam; override any field."""
    body: dict[str, Any] = {
        "soort": "signaal",
        "themas": ["witwassen"],
        "omschrijving": "Contante aankoop van een pand boven de vraagprijs.",
        "waargenomen_op": "2026-03-01",
        "locatie": {"postcode": "1013AB", "huisnummer": "12", "gemeente": "GM0363"},
        "subjecten": [
            {"type": "persoon", "bsn": VALID_BSN},
            {"type": "rechtspersoon", "kvk": "12345678", "sbi": ["6831"]},
            {"type": "voertuig", "kenteken": "ab-123-c"},
        ],
    }
    body.update(overrides)
    return body


def headers(org: str, ce_id: str | None = None, **overrides: str) -> list[tuple[str, bytes]]:
    """CloudEvents binary-mode headers for a partner's signal; `ce_source=...` etc. override."""
    attributes = {
        "ce_specversion": "1.0",
        "ce_id": ce_id or str(uuid.uuid4()),
        "ce_source": f"urn:nl:riec:partner:{org}",
        "ce_type": "nl.riec.signaal.v1",
        "ce_time": datetime.now(UTC).isoformat(),
        "content-type": "application/json",
    }
    attributes.update(overrides)
    return [(k, v.encode()) for k, v in attributes.items()]


def encode(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body)


def command_headers(
    riec: str, ce_type: str, ce_id: str | None = None, **overrides: str
) -> list[tuple[str, bytes]]:
    """CloudEvents headers of a RIEC office's command."""
    attributes = {"ce_source": f"urn:nl:riec:riec:{riec}", "ce_type": ce_type, **overrides}
    return headers("x", ce_id, **attributes)


def leesbare_bsn(data: str | bytes, bsn: str) -> bool:
    """Whether a person could read `bsn` in `data` (text, or bytes of a Kafka record, JSON or not).

    Read independently of the engine's own code: NFKC (full-width and superscript digits, no-break
    spaces), every script's digits as ASCII, and every character that is not a letter or digit
    dropped, so digits that any separator joins read as one number. Stricter than the gate: a BSN
    inside a longer number counts too. JSON strings are also read one by one, so that an escape such
    as `\\t` between digits cannot hide one.
    """
    if isinstance(data, bytes) and data.isascii() and b"\\" not in data:
        # Most records: plain ASCII JSON, where reading it whole reads every string too (fast, in C).
        return bsn.encode() in _NIET_ALNUM.sub(b"", data)
    tekst = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    teksten = [tekst]
    with contextlib.suppress(orjson.JSONDecodeError):
        teksten += list(_json_strings(orjson.loads(tekst)))
    return any(bsn in _zoals_gelezen(t) for t in teksten)


_NIET_ALNUM = re.compile(rb"[^0-9A-Za-z]")


def _zoals_gelezen(tekst: str) -> str:
    tekst = unicodedata.normalize("NFKC", tekst)
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in tekst if c.isalnum())


def _json_strings(waarde: Any) -> Any:
    if isinstance(waarde, str):
        yield waarde
    elif isinstance(waarde, dict):
        for k, v in waarde.items():
            yield k
            yield from _json_strings(v)
    elif isinstance(waarde, list):
        for v in waarde:
            yield from _json_strings(v)


def ontvangen(signaal_id: str = "gm0363:s1", **overrides: Any) -> SignaalOntvangen:
    """An accepted signal as ingress logs it (its partner from the id), for unit tests of what
    happens after ingress; `overrides` sets any other field."""
    t = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    fields: dict[str, Any] = {
        "signaal_id": signaal_id,
        "bron": signaal_id.split(":")[0],
        "gemeld_op": t,
        "aangeboden_op": t,
        "ontvangen_op": t,
        "soort": "signaal",
        "themas": ["drugs"],
        "omschrijving": "x",
        "waargenomen_op": date(2026, 4, 1),
        "subjecten": [PersoonPseudoniem(pseudoniem="p" * 64)],
    }
    return SignaalOntvangen(**{**fields, **overrides})


REGELVERSIES = Path(__file__).parents[1] / "engine" / "domain" / "reference" / "versies"


def regelversie_map(doel: Path, geldig_vanaf: str, *, van: str, code: str, riec: str) -> Path:
    """A rule version's folder under `doel`, not in the baseline: the shipped version `van` with
    `geldig_vanaf` as its date and the gemeente `code` moved to `riec` (its name as the CBS data
    writes it, `Zeeland-West-Brabant`), so that a route shows which version decided it."""
    map_ = doel / geldig_vanaf
    shutil.copytree(REGELVERSIES / van, map_)
    (map_ / "versie.toml").write_text(
        f'geldig_vanaf = {geldig_vanaf}\nomschrijving = "test: {code} naar {riec}"\n', encoding="utf-8"
    )
    gemeenten = map_ / "gemeenten.csv"
    regels = gemeenten.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, regel in enumerate(regels):
        if regel.startswith(f"{code},"):
            kolommen = regel.rstrip("\r\n").split(",")
            regels[i] = ",".join([*kolommen[:3], riec]) + regel[len(regel.rstrip("\r\n")) :]
            break
    else:
        raise ValueError(f"{code} is not in version {van}")
    gemeenten.write_text("".join(regels), encoding="utf-8")
    return map_
