"""The names a person reads for the codes the engine works with: RIECs, LFTs, partners, gemeenten,
partner groups. One place, so the dashboard, the annual tables and any later view say the same.

RIEC and gemeente names come from the CBS reference data (today's `gemeenten.csv`); the national
partners' and provincies' names are written here, as the partners call themselves.
"""

from __future__ import annotations

from functools import cache

from engine.domain.reference import LFTS, NATIONALE_PARTNERS, PROVINCIES, RIECS, gebiedsindeling

PARTNERS: dict[str, str] = {
    "politie": "Politie",
    "om": "Openbaar Ministerie",
    "belastingdienst": "Belastingdienst",
    "toeslagen": "Dienst Toeslagen",
    "fiod": "FIOD",
    "douane": "Douane",
    "nla": "Nederlandse Arbeidsinspectie",
    "kmar": "Koninklijke Marechaussee",
    "ind": "Immigratie- en Naturalisatiedienst",
    "uwv": "UWV",
    "nvwa": "Nederlandse Voedsel- en Warenautoriteit",
}
"""The national convenantpartners by topic name."""

PROVINCIE_NAMEN = (
    "Groningen", "Fryslân", "Drenthe", "Overijssel", "Flevoland", "Gelderland", "Utrecht",
    "Noord-Holland", "Zuid-Holland", "Zeeland", "Noord-Brabant", "Limburg",
)  # fmt: skip
"""PV20 to PV31, in CBS order."""

LFT_NAMEN: dict[str, str] = {
    "omg": "LFT Outlaw Motorcycle Gangs",
    "vastgoed": "LFT Ondermijning in de vastgoedketen",
    "logistiek": "LFT Logistieke keten",
}

PARTNERGROEPEN: dict[str, str] = {
    "gemeenten": "gemeenten",
    "om": "het Openbaar Ministerie",
    "politie": "de politie",
    "belastingdienst": "de Belastingdienst",
    "overige": "overige partners",
}
"""The partner groups of the annual tables ("Ingebracht door ...") as a sentence continues them."""


@cache
def riecs() -> dict[str, str]:
    """slug → "RIEC <naam>" (the RIEC names of the CBS data)."""
    namen = gebiedsindeling().riec_namen
    return {r: f"RIEC {namen[r]}" if r in namen else r for r in RIECS}


@cache
def gemeenten() -> dict[str, str]:
    """CBS code (GM0363) → name (Amsterdam)."""
    return {code: g.naam for code, g in gebiedsindeling().gemeenten.items()}


@cache
def partners() -> dict[str, str]:
    """Every partner the reference data knows, by topic name → its name."""
    namen = {org: f"Gemeente {naam}" for org, naam in ((c.lower(), n) for c, n in gemeenten().items())}
    namen |= {pv: f"Provincie {naam}" for pv, naam in zip(PROVINCIES, PROVINCIE_NAMEN, strict=True)}
    return namen | {org: PARTNERS.get(org, org) for org in NATIONALE_PARTNERS}


def partner(org: str) -> str:
    """A partner's name; an unknown one (a gemeente admitted by the operators) as its code."""
    return partners().get(org, org)


def alle() -> dict[str, dict[str, str]]:
    """Every table, as the dashboard asks for it once."""
    return {
        "riecs": riecs(),
        "lfts": {lft: LFT_NAMEN.get(lft, lft) for lft in LFTS},
        "partners": partners(),
        "gemeenten": gemeenten(),
        "partnergroepen": PARTNERGROEPEN,
        "eenheden": {
            **riecs(),
            "brabant-zeeland": "Brabant-Zeeland (RIEC Oost-Brabant en RIEC Zeeland-West-Brabant samen)",
        },
    }
