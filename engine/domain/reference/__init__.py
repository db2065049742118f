"""Reference data: who the RIECs, LFTs and partners are, and which RIEC a gemeente or PC4 belongs to.

Loaded once at start from the versioned files in this package (`versies/`, see SOURCES.md and
`regelversies`); plain data, no I/O after loading, so routing and validation can use it in
microseconds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

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

TOESLAGEN = "toeslagen"
"""Toeslagen is a convenantpartner that may not (yet) provide information (domain.md)."""

GEWEIGERDE_PARTNERS: frozenset[str] = frozenset({TOESLAGEN})
"""Partners whose signals are refused by default, and kept (ENGINE_REFUSED_PARTNERS sets others)."""

NATIONALE_PARTNERS: tuple[str, ...] = (
    "politie",
    "om",
    "belastingdienst",
    TOESLAGEN,
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
"""The 12 CBS provincie codes, lower case as in topic names: PV20 Groningen, PV21 Fryslân, PV22
Drenthe, PV23 Overijssel, PV24 Flevoland, PV25 Gelderland, PV26 Utrecht, PV27 Noord-Holland, PV28
Zuid-Holland, PV29 Zeeland, PV30 Noord-Brabant, PV31 Limburg."""


def onbekende_partner(
    org: str, gemeenten: Collection[str], extra_gemeenten: Collection[str] = ()
) -> str | None:
    """Why `org` (a topic's middle part) is no convenantpartner, or None when it is one.

    A gemeente must be in the CBS reference data (`gemeenten`: codes as `GM0363`) or in the
    operators' allow-list `extra_gemeenten` (lower case, as `gm1999`), which admits a gemeente born of
    a merger before the reference data is refreshed. A provincie must be one of the 12.
    """
    if org.startswith("gm") and org[2:].isdigit():
        if org.upper() in gemeenten or org in extra_gemeenten:
            return None
        return (
            f"{org} is not a gemeente in the CBS reference data (municipal division of 1 January 2024); "
            "a gemeente born of a merger is admitted by the engine's operators (ENGINE_EXTRA_GEMEENTEN)"
        )
    if org.startswith("pv") and org[2:].isdigit():
        return None if org in PROVINCIES else f"{org} is not one of the 12 provincies (pv20 to pv31)"
    if org in NATIONALE_PARTNERS:
        return None
    return f"{org} is not a convenantpartner: expected a gemeente (gm0363), provincie (pv27) or one of " + (
        ", ".join(NATIONALE_PARTNERS)
    )


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
    """Gemeente → RIEC and PC4 → gemeente, from CBS data: one version's municipal division."""

    gemeenten: dict[str, Gemeente]
    pc4: dict[str, str]
    riec_namen: dict[str, str] = field(default_factory=dict)
    """RIEC slug → its name as the CBS data writes it (`Den Haag`)."""

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


def gebiedsindeling() -> Gebiedsindeling:
    """Today's division (the newest version): the partners, topics, ACLs and sample traffic of
    today. Routing and the check of a signal's location use the version in force on the day it
    was observed (`regelversies`)."""
    from engine.domain.reference.regelversies import regelversies

    return regelversies().nieuwste.gebied
