"""A dry run of a rule change (proefroutering): the logged signals of a period routed again under a
candidate version of the reference data, and what would differ from what was routed.

The candidate is taken to be in force on every day of the period, whatever its `geldig_vanaf`: the
question is "what if these rules had decided these signals". Rules 1, 4, 5 and 6 are decided again;
the matches of rules 2 and 3 (HKPs, open casussen) are those the routes recorded, since a rule set
does not change what the register and the index held then (`routing.herroute`).

A difference is per signal and destination: the destination would be added (`erbij`), dropped
(`eraf`), or keep the signal for other reasons (`andere_redenen`), each with the reasons it was
routed with and those it would get. Pure: `engine.kafka.proefroutering` reads the logs, writes
nothing to any topic, and hands the signals and their routes here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import msgspec

from engine.domain.reference.regelversies import Regelversie, Regelversies
from engine.domain.routing import Route, herroute
from engine.events.route import Reden
from engine.events.signaal_ontvangen import SignaalOntvangen
from engine.events.vieroogen import Proefsamenvatting, Telling

Wat = Literal["erbij", "eraf", "andere_redenen"]

_KOP: dict[Wat, str] = {
    "erbij": "Zou het signaal erbij krijgen",
    "eraf": "Zou het signaal niet meer krijgen",
    "andere_redenen": "Krijgt het signaal met andere redenen",
}


class Verschil(msgspec.Struct, frozen=True, kw_only=True):
    """One destination of one signal that the candidate rules would change."""

    signaal_id: str
    bestemming: str
    wat: Wat
    redenen_gerouteerd: tuple[Reden, ...]
    """What the signal was routed to this destination with (empty when `erbij`)."""
    redenen_proef: tuple[Reden, ...]
    """What the candidate rules would route it with (empty when `eraf`)."""
    regelversie_gerouteerd: str | None
    """The version of the reference data the signal was routed under (None before versions)."""


@dataclass(frozen=True, slots=True)
class Gerouteerd:
    """A logged signal of the period, opened, with the routes it has on the route topics."""

    signaal: SignaalOntvangen
    routes: tuple[Route, ...]
    regelversie: str | None


def vergelijk(gerouteerd: Gerouteerd, proef: Sequence[Route]) -> list[Verschil]:
    """The differences between a signal's routes and the candidate's, in destination order."""
    nu = {r.bestemming: r.redenen for r in gerouteerd.routes}
    straks = {r.bestemming: r.redenen for r in proef}
    verschillen = []
    for bestemming in sorted(nu.keys() | straks.keys()):
        voor, na = nu.get(bestemming, ()), straks.get(bestemming, ())
        if voor == na:
            continue
        wat: Wat = "erbij" if not voor else "eraf" if not na else "andere_redenen"
        verschillen.append(
            Verschil(
                signaal_id=gerouteerd.signaal.signaal_id,
                bestemming=bestemming,
                wat=wat,
                redenen_gerouteerd=tuple(voor),
                redenen_proef=tuple(na),
                regelversie_gerouteerd=gerouteerd.regelversie,
            )
        )
    return verschillen


class Proefroutering(msgspec.Struct, kw_only=True):
    """The outcome of a dry run: what was looked at, and every difference."""

    van: date
    tot: date
    regelversie: str
    """The candidate's id (a content hash, as routes name versions)."""
    geldig_vanaf: date
    omschrijving: str
    signalen: int = 0
    """Signals of the period routed again."""
    onleesbaar: int = 0
    """Signals of the period whose key is destroyed (forgotten): not routed again."""
    zonder_routes: int = 0
    """Signals of the period with no route on the route topics (withdrawn, or routing pending)."""
    verschillen: list[Verschil] = msgspec.field(default_factory=list)

    def signaal_ids(self) -> set[str]:
        return {v.signaal_id for v in self.verschillen}

    def als_json(self) -> bytes:
        return msgspec.json.format(msgspec.json.encode(self), indent=2)

    def als_pagina(self) -> str:
        """The diff as an analyst reads it (Markdown): per destination, the signals that would be
        added, dropped or routed for other reasons, each with both sets of reasons."""
        regels = [
            f"# Proefroutering {self.van.isoformat()} t/m {self.tot.isoformat()}",
            "",
            f"Regelversie {self.regelversie} (geldig vanaf {self.geldig_vanaf.isoformat()}"
            + (f": {self.omschrijving}" if self.omschrijving else "")
            + "), toegepast op elke waarnemingsdatum in de periode.",
            "",
            f"- Signalen opnieuw gerouteerd: {self.signalen}",
            f"- Signalen met een andere uitkomst: {len(self.signaal_ids())}",
            f"- Vergeten (niet meer te openen): {self.onleesbaar}",
            f"- Zonder route op de routetopics: {self.zonder_routes}",
        ]
        if not self.verschillen:
            regels += [
                "",
                "Geen verschillen: deze regels routeren elk signaal van de periode zoals het ging.",
            ]
        per_bestemming: dict[str, list[Verschil]] = {}
        for v in self.verschillen:
            per_bestemming.setdefault(v.bestemming, []).append(v)
        for bestemming in sorted(per_bestemming):
            regels += ["", f"## {bestemming}"]
            for wat in ("erbij", "eraf", "andere_redenen"):
                deze = [v for v in per_bestemming[bestemming] if v.wat == wat]
                if not deze:
                    continue
                regels += ["", f"### {_KOP[wat]} ({len(deze)})"]
                for v in deze:
                    versie = v.regelversie_gerouteerd or "onbekend"
                    regels += ["", f"- `{v.signaal_id}` (gerouteerd onder regelversie {versie})"]
                    regels += _redenen("gerouteerd", v.redenen_gerouteerd)
                    regels += _redenen("proef", v.redenen_proef)
        return "\n".join(regels) + "\n"


def samenvatting(inhoud: bytes) -> Proefsamenvatting:
    """What a request to adopt the candidate carries of a dry run (`Proefsamenvatting`), from the
    JSON file `proefrouteer` wrote (`als_json`), read as bytes: the counts per destination and the
    sha256 of exactly those bytes. Raises msgspec.DecodeError or ValidationError on another file."""
    uitkomst = msgspec.json.decode(inhoud, type=Proefroutering)
    tellingen: dict[str, dict[Wat, int]] = {}
    for v in uitkomst.verschillen:
        per_wat = tellingen.setdefault(v.bestemming, {"erbij": 0, "eraf": 0, "andere_redenen": 0})
        per_wat[v.wat] += 1
    return Proefsamenvatting(
        regelversie=uitkomst.regelversie,
        geldig_vanaf=uitkomst.geldig_vanaf,
        van=uitkomst.van,
        tot=uitkomst.tot,
        signalen=uitkomst.signalen,
        anders=len(uitkomst.signaal_ids()),
        bestemmingen={b: Telling(**t) for b, t in sorted(tellingen.items())},
        sha256=hashlib.sha256(inhoud).hexdigest(),
    )


def _redenen(label: str, redenen: Iterable[Reden]) -> list[str]:
    lijst = [f"    - {label}: {r.regel}: {r.toelichting}" for r in redenen]
    return lijst or [f"    - {label}: (geen)"]


@dataclass(slots=True)
class Proef:
    """A dry run in progress: feed it the period's signals one by one (`neem`)."""

    van: date
    tot: date
    kandidaat: Regelversie
    uitkomst: Proefroutering = field(init=False)
    _regels: Regelversies = field(init=False)

    def __post_init__(self) -> None:
        self._regels = Regelversies([self.kandidaat])  # in force on every day of the period
        if self.tot < self.van:
            raise ValueError(f"--tot {self.tot} lies before --van {self.van}")
        self.uitkomst = Proefroutering(
            van=self.van,
            tot=self.tot,
            regelversie=self.kandidaat.id,
            geldig_vanaf=self.kandidaat.geldig_vanaf,
            omschrijving=self.kandidaat.omschrijving,
        )

    def in_periode(self, signaal: SignaalOntvangen) -> bool:
        """The period is of observation dates (`waargenomen_op`): the dates rules go by."""
        return self.van <= signaal.waargenomen_op <= self.tot

    def neem(self, gerouteerd: Gerouteerd) -> None:
        self.uitkomst.signalen += 1
        proef = herroute(gerouteerd.signaal, self._regels, gerouteerd.routes)
        self.uitkomst.verschillen += vergelijk(gerouteerd, proef)

    def onleesbaar(self) -> None:
        self.uitkomst.onleesbaar += 1

    def zonder_routes(self) -> None:
        self.uitkomst.zonder_routes += 1
