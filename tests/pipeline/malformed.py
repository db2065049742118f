"""Generated malformed partner messages (hypothesis): each one is wrong in a way the contract
forbids, so the front door must refuse every one of them to the DLQ."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.events.signaal import THEMA_PATTERN
from engine.ingress.bsn import elfproef
from tests.fixtures import payload


@dataclass(frozen=True)
class Malformed:
    value: bytes
    header_overrides: dict[str, str] = field(default_factory=dict)
    dropped_header: str | None = None


def _parses(value: bytes) -> bool:
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True


def _body(**overrides: Any) -> bytes:
    return orjson.dumps(payload(subjecten=[{"type": "rechtspersoon", "kvk": "87654321"}], **overrides))


def _without(name: str) -> bytes:
    body = payload()
    del body[name]
    return orjson.dumps(body)


_not_a_theme = st.text(max_size=30).filter(lambda t: re.match(THEMA_PATTERN, t) is None)
_not_a_date = st.text(max_size=20).filter(lambda t: re.fullmatch(r"\d{4}-\d{2}-\d{2}", t) is None)
_failed_elfproef = st.integers(100_000_000, 999_999_999).map(str).filter(lambda b: not elfproef(b))
_int64 = st.integers(-(2**63), 2**63 - 1)  # what JSON encoders (orjson) can write
_not_a_type = st.one_of(_int64, st.booleans(), st.floats(allow_nan=False, allow_infinity=False), st.none())
_bsn = (
    st.integers(0, 10**8 - 1)
    .map(lambda n: f"{n:08d}")
    .map(lambda acht: acht + str(sum(int(d) * w for d, w in zip(acht, range(9, 1, -1), strict=True)) % 11))
    .filter(elfproef)
)  # eight digits and their check digit: a BSN, ten times in eleven
_out_of_window_date = st.sampled_from(["1999-12-31", "9999-12-31", "0001-01-01", "2999-01-01"])
_out_of_window_time = st.sampled_from(
    ["9999-12-31T23:30:00Z", "0001-01-01T00:30:00+01:00", "1999-12-31T23:59:59Z"]
)

_payloads = st.one_of(
    st.binary(min_size=1, max_size=300).filter(lambda b: not _parses(b)),  # not JSON at all
    st.one_of(_int64, st.text(), st.lists(_int64), st.none()).map(orjson.dumps),  # not an object
    st.sampled_from(["soort", "themas", "omschrijving", "waargenomen_op"]).map(_without),
    st.text(max_size=20)
    .filter(lambda s: s not in ("signaal", "bestuurlijk_signaal"))
    .map(lambda s: _body(soort=s)),
    st.lists(_not_a_theme, min_size=1, max_size=3).map(lambda t: _body(themas=t)),
    st.just(_body(themas=[])),
    _not_a_type.map(lambda v: _body(omschrijving=v)),
    st.integers(10_001, 12_000).map(lambda n: _body(omschrijving="x" * n)),
    _not_a_date.map(lambda d: _body(waargenomen_op=d)),
    _failed_elfproef.map(lambda b: orjson.dumps(payload(subjecten=[{"type": "persoon", "bsn": b}]))),
    st.integers(9000, 9999).map(lambda n: _body(locatie={"gemeente": f"GM{n}"})),  # no such gemeente
    st.text(max_size=12)
    .filter(lambda k: re.fullmatch(r"[0-9]{8}", k) is None)
    .map(lambda k: orjson.dumps(payload(subjecten=[{"type": "rechtspersoon", "kvk": k}]))),
    _bsn.map(lambda b: _body(themas=[f"regionaal:p{b}"])),  # a BSN in a theme
    _bsn.map(lambda b: orjson.dumps(payload(subjecten=[{"type": "voertuig", "kenteken": b}]))),
    _out_of_window_date.map(lambda d: _body(waargenomen_op=d)),
)

_envelopes = st.one_of(
    st.sampled_from(["ce_id", "ce_source", "ce_type", "ce_specversion"]).map(
        lambda h: Malformed(_body(), dropped_header=h)
    ),
    st.sampled_from(["nl.riec.signaal.v2", "nl.riec.opdracht.v1", "signaal"]).map(
        lambda t: Malformed(_body(), {"ce_type": t})
    ),
    st.sampled_from(["urn:nl:riec:partner:politie", "urn:nl:riec:partner:gm0363", "kmar"]).map(
        lambda s: Malformed(_body(), {"ce_source": s})
    ),
    _out_of_window_time.map(lambda t: Malformed(_body(), {"ce_time": t})),
)

malformed_messages = st.one_of(_payloads.map(Malformed), _envelopes)


def generate(n: int) -> list[Malformed]:
    """`n` malformed messages, drawn by hypothesis (generation only: nothing to shrink here)."""
    found: list[Malformed] = []

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(malformed_messages)
    def collect(message: Malformed) -> None:
        found.append(message)

    while len(found) < n:
        collect()
    return found[:n]
