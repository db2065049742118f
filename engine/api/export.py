"""The annual tables as CSV and as the HTML tables the Jaarverslag prints (Tabel 1 rows 1–4,
Tabel 2 columns 1–3), from the output of `Jaarverslagboek.tabellen`."""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

from engine.projections.jaarverslag import ADVIESSOORTEN, EENHEDEN, PARTNERGROEPEN, THEMAS

KOLOMMEN = (*EENHEDEN, "totaal")
KOPPEN = {**EENHEDEN, "totaal": "Totaal"}
_INGEBRACHT = {
    "gemeenten": "b Ingebracht door gemeenten",
    "om": "c Ingebracht door OM",
    "politie": "d Ingebracht door politie",
    "belastingdienst": "e Ingebracht door Belastingdienst",
    "overige": "f Ingebracht door overige partners",
}
_THEMAS = {
    "mensenhandel": "a Mensenhandel en/of smokkel",
    "drugs": "b Georganiseerde hennepteelt / drugs",
    "witwassen": "c Witwassen",
    "vastgoed": "d Vastgoed",
    "omg": "e OMG's",
    "regionaal": "f Regionale thema's",
}
_ADVIEZEN = {
    "bestuurlijk": "a I. Bestuurlijk",
    "bibob": "a II. Bibob",
    "strafrechtelijk": "b Strafrechtelijk",
    "fiscaal": "c Fiscaal",
    "overig": "d Overige adviezen",
}


def tabel1_rijen(t1: dict[str, Any]) -> list[tuple[str, list[int]]]:
    """Tabel 1 as the Jaarverslag's rows: a label and one number per column."""
    rijen: list[tuple[str, list[int]]] = [
        ("1 Totaal opgeleverde ondermijningsbeelden", [t1[k]["ondermijningsbeelden"] for k in KOLOMMEN]),
        ("2 Totaal aantal behandelde RIEC-casussen", [t1[k]["casussen"] for k in KOLOMMEN]),
        (
            "a Voortgekomen uit ondermijningsbeelden",
            [t1[k]["casussen_uit_ondermijningsbeeld"] for k in KOLOMMEN],
        ),
    ]
    rijen += [(_INGEBRACHT[g], [t1[k]["ingebracht"][g] for k in KOLOMMEN]) for g in PARTNERGROEPEN]
    rijen.append(
        (
            "3 Aantal maal dat een thema speelde in een RIEC-casus",
            [sum(t1[k]["themas"].values()) for k in KOLOMMEN],
        )
    )
    rijen += [(_THEMAS[t], [t1[k]["themas"][t] for k in KOLOMMEN]) for t in THEMAS]
    rijen.append(
        (
            "4 Totaal aantal interventieadviezen n.a.v. RIEC-casussen",
            [t1[k]["interventieadviezen"] for k in KOLOMMEN],
        )
    )
    rijen += [(_ADVIEZEN[a], [t1[k]["adviezen"][a] for k in KOLOMMEN]) for a in ADVIESSOORTEN]
    return rijen


def _euro(eurocent: int) -> str:
    euros, cents = divmod(eurocent, 100)
    return f"€ {euros:,}".replace(",", ".") + f",{cents:02d}"


def csv_export(tabellen: dict[str, Any]) -> str:
    """Both tables in one CSV: `tabel,rij,<9 units>,totaal`; amounts in eurocent."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["tabel", "rij", *KOLOMMEN])
    for label, waarden in tabel1_rijen(tabellen["tabel1"]):
        w.writerow(["1", label, *waarden])
    t2 = tabellen["tabel2"]
    for veld, label in (
        ("opgelegd_eurocent", "1. Integraal opgelegd (eurocent)"),
        ("geind_eurocent", "2. Geïnd en/of verrekend (eurocent)"),
        ("beslag_eurocent", "3. Beslag gelegd (eurocent)"),
    ):
        w.writerow(["2", label, *(t2[k][veld] for k in KOLOMMEN)])
    return out.getvalue()


def html_export(tabellen: dict[str, Any]) -> str:
    """Tabel 1 (units as columns) and Tabel 2 (units as rows), as the Jaarverslag prints them."""
    jaar = tabellen["jaar"]
    koppen = "".join(f"<th>{escape(KOPPEN[k])}</th>" for k in KOLOMMEN)
    rijen = "".join(
        f"<tr><th>{escape(label)}</th>{''.join(f'<td>{v}</td>' for v in waarden)}</tr>"
        for label, waarden in tabel1_rijen(tabellen["tabel1"])
    )
    t2 = tabellen["tabel2"]
    rijen2 = "".join(
        f"<tr><th>{escape(KOPPEN[k])}</th><td>{_euro(t2[k]['opgelegd_eurocent'])}</td>"
        f"<td>{_euro(t2[k]['geind_eurocent'])}</td><td>{_euro(t2[k]['beslag_eurocent'])}</td></tr>"
        for k in KOLOMMEN
    )
    return (
        f'<table class="tabel1"><caption>Tabel 1 Operationele resultaten RIEC\'s {jaar}</caption>'
        f"<thead><tr><th></th>{koppen}</tr></thead><tbody>{rijen}</tbody></table>\n"
        f'<table class="tabel2"><caption>Tabel 2: Totaalbedrag integraal afgepakte gelden {jaar}</caption>'
        "<thead><tr><th></th><th>1. Integraal opgelegd</th><th>2. Geïnd en/of verrekend</th>"
        "<th>3. Aanslagen waar geheel/ gedeeltelijk beslag voor is gelegd</th></tr></thead>"
        f"<tbody>{rijen2}</tbody></table>\n"
    )
