"""Reference data: who the RIECs, LFTs and partners are, and which RIEC a gemeente or PC4 belongs to.

Loaded once at start from the CSV files in this package (see SOURCES.md); plain data, no I/O after
loading, so routing and validation can use it in microseconds.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

RIECS: tuple[str, ...] = (
    "amsterdam-amstelland",
    "den-haag",
    "limburg",
    "midden-nederland",
    "noord-holland",
    "noord-nederland",
    "oost-nederland",
    "rotterdam",
    "zeeland-west-brabant",
    "oost-brabant",
)
"""The ten RIECs that signals are routed to."""

LFTS: tuple[str, ...] = ("omg", "vastgoed", "logistiek")
"""The Landelijke Fenomeentafels of the LIEC."""

NATIONALE_PARTNERS: tuple[str, ...] = (
    "politie",
    "om",
    "belastingdienst",
    "toeslagen",
    "fiod",
    "douane",
    "nla",
    "kmar",
    "ind",
    "uwv",
    "nvwa",
)
"""Convenantpartners that are not a gemeente or provincie, by their topic name."""

PROVINCIES: tuple[str, ...] = tuple(f"pv{n}" for n in range(20, 32))
"""CBS provincie codes PV20 (Groningen) to PV31 (Flevoland), lower case as in topic names."""

_ORG = re.compile(r"^(gm[0-9]{4}|pv[0-9]{2}|[a-z]{2,20})$")


def is_partner_org(org: str) -> bool:
    """True when `org` can name a convenantpartner: a gemeente or provincie code, or a national one.

    Gemeente and provincie codes are accepted by their form, not by the 2024 list, so that a
    gemeente created by a merger can publish before the reference data is refreshed.
    """
    if org.startswith(("gm", "pv")):
        return _ORG.match(org) is not None and org[2:].isdigit()
    return org in NATIONALE_PARTNERS


def partnergroep(org: str) -> str:
    """The bounded group a partner is counted under in metrics: gemeente, provincie or its name."""
    if org.startswith("gm"):
        return "gemeente"
    if org.startswith("pv"):
        return "provincie"
    return org


@dataclass(frozen=True, slots=True)
class Gemeente:
    code: str
    naam: str
    riec: str


def _slug(riec_naam: str) -> str:
    return riec_naam.strip().lower().replace(" ", "-")


@dataclass(frozen=True, slots=True)
class Gebiedsindeling:
    """Gemeente → RIEC and PC4 → gemeente, from CBS data (municipal division of 1 January 2024)."""

    gemeenten: dict[str, Gemeente]
    pc4: dict[str, str]

    def gemeente(self, code: str) -> Gemeente | None:
        return self.gemeenten.get(code)

    def gemeente_van_postcode(self, postcode: str) -> Gemeente | None:
        """The gemeente of a postcode's PC4 (its first four digits), or None when unknown."""
        code = self.pc4.get(postcode[:4])
        return self.gemeenten.get(code) if code else None

    @property
    def partner_orgs(self) -> tuple[str, ...]:
        """Every partner known from reference data, in topic-name form."""
        gemeenten = tuple(code.lower() for code in sorted(self.gemeenten))
        return gemeenten + PROVINCIES + NATIONALE_PARTNERS


@cache
def gebiedsindeling() -> Gebiedsindeling:
    """Load the packaged reference data once per process."""
    files = resources.files(__package__)
    gemeenten: dict[str, Gemeente] = {}
    with files.joinpath("gemeenten.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            riec = _slug(row["riec"])
            if riec not in RIECS:
                raise ValueError(f"gemeenten.csv names an unknown RIEC {row['riec']!r}")
            gemeenten[row["gemeente_code"]] = Gemeente(row["gemeente_code"], row["gemeente_naam"], riec)
    pc4: dict[str, str] = {}
    with files.joinpath("pc4_gemeente.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            pc4[row["pc4"]] = row["gemeente_code"]
    return Gebiedsindeling(gemeenten=gemeenten, pc4=pc4)
