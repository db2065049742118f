"""The routing decision: which destinations get an accepted signal, and why (domain.md rules).

Pure and deterministic: the same signal, matches and reference data always give the same routes in
the same order, so a decision can be audited. The matches of rules 2 and 3 are found elsewhere (the
HKP register, the open-casus index) and passed in: the decision is "as of" what was known then.
The reference data is the version in force on the day the signal was observed (`waargenomen_op`,
`engine.domain.reference.regelversies`): a signal from 2022 in Brielle routes under 2022's division.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from engine.domain.casusindex import MAX_MATCHES_PER_SIGNAAL, MAX_NIEUW_PER_IDENTIFICATOR
from engine.domain.knelpunten import KnelpuntMatch
from engine.domain.reference import Gemeente
from engine.domain.reference.regelversies import Gevonden, Regelversies
from engine.events.matching import CasusMatch
from engine.events.route import Reden
from engine.events.signaal import Adres
from engine.events.signaal_ontvangen import SignaalOntvangen

LIEC_LOKET = "liec.loket"
LIEC_TRIAGE = "liec.triage"
EURIEC = "euriec"
REGIO_OVERSTIJGENDE_LFTS = ("vastgoed", "logistiek")


def riec_bestemming(riec: str) -> str:
    return f"riec.{riec}"


def lft_bestemming(lft: str) -> str:
    return f"lft.{lft}"


def topic_van(bestemming: str) -> str:
    """The Kafka topic of a destination (contract: `routes.riec.<riec>`, `routes.lft.<lft>`, ...)."""
    return f"routes.{bestemming}"


@dataclass(frozen=True, slots=True)
class Route:
    """One destination of a signal with every reason it goes there."""

    bestemming: str
    redenen: tuple[Reden, ...]


class _Besluit:
    """Collects reasons per destination in the order rules add them."""

    def __init__(self) -> None:
        self.redenen: dict[str, list[Reden]] = {}

    def voeg_toe(self, bestemming: str, reden: Reden) -> None:
        redenen = self.redenen.setdefault(bestemming, [])
        if reden not in redenen:
            redenen.append(reden)

    def riecs(self) -> set[str]:
        return {b for b in self.redenen if b.startswith("riec.")}

    def routes(self) -> list[Route]:
        return [Route(b, tuple(r)) for b, r in self.redenen.items()]


def _gemeente_tekst(gemeente: Gemeente) -> str:
    return f"{gemeente.naam} ({gemeente.code}), RIEC {gemeente.riec}"


def _herkomst(gevonden: Gevonden, dag: date) -> str:
    """How a gemeente was found when not directly in the version in force: said in the reason, so
    the analyst sees why a code sent is not the gemeente named."""
    if gevonden.fusies:
        return "".join(
            f"; {f.oude_code} ({f.oude_naam}) is op {f.geldig_vanaf.isoformat()} opgegaan in {f.nieuwe_code}"
            for f in gevonden.fusies
        )
    if gevonden.uit_versie is not None:
        v = gevonden.uit_versie
        return (
            f"; bestond nog niet op de waarnemingsdatum {dag.isoformat()}: gemeente volgens de indeling "
            f"geldig vanaf {v.geldig_vanaf.isoformat()} (regelversie {v.id})"
        )
    return ""


def _verantwoordelijke_riec(signaal: SignaalOntvangen, regels: Regelversies, besluit: _Besluit) -> None:
    """Rule 1: the RIEC of the location's gemeente; without a location, of the subjects' addresses.
    Gemeenten as they were on the day the signal was observed."""
    dag = signaal.waargenomen_op
    locatie = signaal.locatie
    if locatie is not None and locatie.land != "NL":
        besluit.voeg_toe(
            EURIEC,
            Reden(regel="buitenland", toelichting=f"Locatie in het buitenland ({locatie.land})"),
        )
        return
    if locatie is not None:
        if locatie.gemeente is not None:
            gevonden = regels.gemeente(locatie.gemeente, dag)
            bron = f"gemeente {locatie.gemeente}" if gevonden is not None and gevonden.fusies else "gemeente"
        else:
            gevonden = regels.gemeente_van_postcode(locatie.postcode or "", dag)
            bron = f"postcode {(locatie.postcode or '')[:4]}"
        if gevonden is not None:
            besluit.voeg_toe(
                riec_bestemming(gevonden.gemeente.riec),
                Reden(
                    regel="locatie",
                    toelichting=f"Locatie ({bron}) in {_gemeente_tekst(gevonden.gemeente)}"
                    + _herkomst(gevonden, dag),
                ),
            )
            return
    for subject in signaal.subjecten:
        if isinstance(subject, Adres):
            gevonden = regels.gemeente_van_postcode(subject.postcode, dag)
            if gevonden is not None:
                besluit.voeg_toe(
                    riec_bestemming(gevonden.gemeente.riec),
                    Reden(
                        regel="adres_subject",
                        toelichting=f"Adres van een subject (PC4 {subject.postcode[:4]}) "
                        f"in {_gemeente_tekst(gevonden.gemeente)}" + _herkomst(gevonden, dag),
                    ),
                )


_SOORT = {"persoon": "een persoon", "kvk": "een KvK-nummer", "adres": "een adres", "kenteken": "een kenteken"}


MAX_KNELPUNTEN_PER_RIEC = 10
"""HKPs named in one route per RIEC: one RIEC designating a thousand HKPs on one person must not make
a routed message too large to send (the rest is named by count)."""


def _knelpunten(matches: Sequence[KnelpuntMatch], besluit: _Besluit) -> None:
    """Rule 2: every RIEC whose active handhavingsknelpunt the signal matches, with the HKP named
    (at most MAX_KNELPUNTEN_PER_RIEC per RIEC; the rest by count: never a message too large)."""
    per_riec: dict[str, list[KnelpuntMatch]] = {}
    for m in matches:
        per_riec.setdefault(m.riec, []).append(m)
    for riec, gevonden in per_riec.items():
        for m in gevonden[:MAX_KNELPUNTEN_PER_RIEC]:
            besluit.voeg_toe(
                riec_bestemming(riec),
                Reden(regel="handhavingsknelpunt", toelichting=m.toelichting, hkp_id=m.hkp_id),
            )
        if len(gevonden) > MAX_KNELPUNTEN_PER_RIEC:
            besluit.voeg_toe(
                riec_bestemming(riec),
                Reden(
                    regel="handhavingsknelpunt_begrensd",
                    toelichting=f"Nog {len(gevonden) - MAX_KNELPUNTEN_PER_RIEC} handhavingsknelpunten van "
                    f"RIEC {riec} matchen dit signaal (ten hoogste {MAX_KNELPUNTEN_PER_RIEC} genoemd)",
                ),
            )


def _open_casussen(matches: Sequence[CasusMatch], besluit: _Besluit, begrensd: bool) -> None:
    """Rule 3: every RIEC leading an open casus that shares an identifier, as a candidate link.

    `begrensd`: the caps of `engine.casusindex` left casussen out; each RIEC still gets the signal
    (a casus of every RIEC is kept), and its route says that not every casus is named.
    """
    for m in matches:
        soort = _SOORT.get(m.identificator.split(":", 1)[0], "een identificator")
        besluit.voeg_toe(
            riec_bestemming(m.riec),
            Reden(
                regel="open_casus",
                toelichting=f"Deelt {soort} met open casus {m.casus_id} (RIEC {m.riec}): "
                "kandidaat-koppeling, te bevestigen door de analist",
                casus_id=m.casus_id,
            ),
        )
    if begrensd:
        for riec in sorted({m.riec for m in matches}):
            besluit.voeg_toe(
                riec_bestemming(riec),
                Reden(
                    regel="open_casus_begrensd",
                    toelichting="Meer open casussen delen een identificator met dit signaal dan hier "
                    f"genoemd (ten hoogste {MAX_NIEUW_PER_IDENTIFICATOR} nieuwe per identificator en "
                    f"{MAX_MATCHES_PER_SIGNAAL} per signaal); zoek de overige op de identificatoren",
                ),
            )


def _fenomeentafels(signaal: SignaalOntvangen, besluit: _Besluit) -> None:
    """Rule 4: omg always to LFT omg; vastgoed/logistiek when the signal reaches two or more RIECs."""
    if "omg" in signaal.themas:
        besluit.voeg_toe(
            lft_bestemming("omg"), Reden(regel="fenomeentafel", toelichting="Thema omg: LFT OMG")
        )
    riecs = besluit.riecs()
    if len(riecs) >= 2:
        for lft in REGIO_OVERSTIJGENDE_LFTS:
            if lft in signaal.themas:
                besluit.voeg_toe(
                    lft_bestemming(lft),
                    Reden(
                        regel="fenomeentafel",
                        toelichting=f"Thema {lft}, regio-overstijgend ({len(riecs)} RIECs)",
                    ),
                )


def route(
    signaal: SignaalOntvangen,
    regels: Regelversies,
    knelpunten: Sequence[KnelpuntMatch] = (),
    casussen: Sequence[CasusMatch] = (),
    casussen_begrensd: bool = False,
) -> list[Route]:
    """Every destination of an accepted signal with its reasons; never empty (rule 6).

    Called once per signal after its matches were gathered; `regels` gives the reference data in
    force on the signal's `waargenomen_op` (the caller names that version in the routed messages:
    `regels.op(signaal.waargenomen_op).id`). A bestuurlijk signaal (rule 5) is about
    policy or law, not about subjects, so it goes to the LIEC loket only.
    """

    def matches(besluit: _Besluit) -> None:
        _knelpunten(knelpunten, besluit)
        _open_casussen(casussen, besluit, casussen_begrensd)

    return _beslis(signaal, regels, matches)


GEVONDEN_IN_TABELLEN = frozenset(
    {"handhavingsknelpunt", "handhavingsknelpunt_begrensd", "open_casus", "open_casus_begrensd"}
)
"""The reasons of rules 2 and 3: matches found in the HKP register and the open-casus index as they
were when the signal was routed, not in the reference data."""


def herroute(signaal: SignaalOntvangen, regels: Regelversies, eerder: Sequence[Route]) -> list[Route]:
    """A routed signal's routes under other reference data (a dry run, `engine.domain.proefroutering`):
    rules 1, 4, 5 and 6 decided again with `regels`; the matches of rules 2 and 3 as its routes
    `eerder` named them, since no rule set changes what the register and the index held then.
    Rule 4 is decided again on the RIECs that result: a merger can make a signal regional or not."""

    def matches(besluit: _Besluit) -> None:
        for r in eerder:
            for reden in r.redenen:
                if reden.regel in GEVONDEN_IN_TABELLEN:
                    besluit.voeg_toe(r.bestemming, reden)

    return _beslis(signaal, regels, matches)


def _beslis(
    signaal: SignaalOntvangen, regels: Regelversies, matches: Callable[[_Besluit], None]
) -> list[Route]:
    besluit = _Besluit()
    if signaal.soort == "bestuurlijk_signaal":
        besluit.voeg_toe(
            LIEC_LOKET,
            Reden(regel="bestuurlijk_signaal", toelichting="Bestuurlijk signaal: Landelijk loket"),
        )
        return besluit.routes()
    _verantwoordelijke_riec(signaal, regels, besluit)
    matches(besluit)
    _fenomeentafels(signaal, besluit)
    if not besluit.redenen:
        besluit.voeg_toe(
            LIEC_TRIAGE,
            Reden(
                regel="niet_routeerbaar",
                toelichting="Geen locatie, adres of match: LIEC triage beoordeelt wie het krijgt",
            ),
        )
    return besluit.routes()
