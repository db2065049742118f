"""The annual tables every RIEC reports (the seed's Tabel 1 and Tabel 2), computed one way.

A fold over casus, beeld and signal events that does not depend on their order, and one function
that counts a year by the rules of contract.md:
- a casus counts in a year when any of its events (its command's `ce_time`) falls in that year;
- it counts once under each partner group that brought in one of its `signalen` at opening
  (`overige`: every partner but gemeenten, OM, politie and Belastingdienst);
- its themes are those given at opening plus those of every signal brought in or linked, each once,
  every `regionaal:*` under `regionaal`;
- a signal brought in or linked counts (its partner group, its themes, and for a link the year of
  its command) only once the link is confirmed (`KoppelingBevestigd`: the signal was routed to the
  casus's RIEC); a link refused, expired or still pending counts nowhere (need-to-know);
- an interventieadvies counts once, and once under each of its soorten, in the year of its event;
  an ondermijningsbeeld and an afpak amount count in the year of their own event.
Years are Dutch calendar years (Europe/Amsterdam). Zeeland-West-Brabant and Oost-Brabant report
together as brabant-zeeland, so there are nine reporting units.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, get_args
from zoneinfo import ZoneInfo

from engine.events.casus import (
    AfpakkenGeregistreerd,
    CasusAfgesloten,
    CasusGeopend,
    Gebeurtenis,
    InterventieadviesGegeven,
    KoppelingBevestigd,
    KoppelingGeweigerd,
    KoppelingVerlopen,
    OndermijningsbeeldOpgeleverd,
    SignaalGekoppeld,
)
from engine.events.opdrachten import AdviesSoort

EENHEDEN: dict[str, str] = {
    "amsterdam-amstelland": "RIEC Amsterdam-Amstelland",
    "den-haag": "RIEC Den Haag",
    "limburg": "RIEC Limburg",
    "midden-nederland": "RIEC Midden-Nederland",
    "noord-holland": "RIEC Noord-Holland",
    "noord-nederland": "RIEC Noord-Nederland",
    "brabant-zeeland": "Taskforce-RIEC Brabant-Zeeland",
    "oost-nederland": "RIEC Oost-Nederland",
    "rotterdam": "RIEC Rotterdam",
}
"""The nine reporting units (`eenheid` of each RIEC), in the column order of the seed's Tabel 1,
each with the name the Jaarverslag prints."""
_TASKFORCE = ("zeeland-west-brabant", "oost-brabant")
"""The RIECs that report together, as Taskforce-RIEC Brabant-Zeeland."""

THEMAS = ("mensenhandel", "drugs", "witwassen", "vastgoed", "omg", "regionaal")
PARTNERGROEPEN = ("gemeenten", "om", "politie", "belastingdienst", "overige")
ADVIESSOORTEN: tuple[AdviesSoort, ...] = get_args(AdviesSoort)
_NL = ZoneInfo("Europe/Amsterdam")
_VIERHONDERD_JAAR = timedelta(days=146_097)
"""400 Gregorian years: the calendar, and the weekday-based DST rules of tzdata, repeat after it."""


def eenheid(riec: str) -> str:
    """The reporting unit of a RIEC."""
    return "brabant-zeeland" if riec in _TASKFORCE else riec


def jaar(tijd: datetime) -> int:
    """The Dutch calendar year (Europe/Amsterdam) of a moment; total for every datetime msgspec can
    decode (years 1..9999, any offset, naive read as UTC).

    Within a day of datetime's limits the conversion leaves datetime's range (9999-12-31T23:30Z is
    10000-01-01 in Amsterdam; 0001-01-01T00:30+01:00 is still year 0 there): such a moment is
    converted 400 years nearer and the year shifted back, which gives the exact year 10000 or 0.
    """
    if tijd.tzinfo is None:
        tijd = tijd.replace(tzinfo=UTC)
    try:
        return tijd.astimezone(_NL).year
    except OverflowError:
        if tijd.year > 5000:
            return (tijd - _VIERHONDERD_JAAR).astimezone(_NL).year + 400
        return (tijd + _VIERHONDERD_JAAR).astimezone(_NL).year - 400


def partnergroep_inbreng(signaal_id: str) -> str:
    """The Tabel 1 group of the partner that brought a signal in (from its id, `<org>:<ce_id>`)."""
    org = signaal_id.split(":", 1)[0]
    if org.startswith("gm"):
        return "gemeenten"
    return org if org in ("om", "politie", "belastingdienst") else "overige"


def thema_kolom(thema: str) -> str | None:
    if thema.startswith("regionaal:"):
        return "regionaal"
    return thema if thema in THEMAS else None  # logistiek has no column in Tabel 1


@dataclass
class CasusDossier:
    """What the tables need to know of one casus."""

    casus_id: str
    riec: str = ""
    bron: str = ""
    inbreng: list[str] = field(default_factory=list)
    gekoppeld: list[str] = field(default_factory=list)
    bevestigd: set[str] = field(default_factory=set)
    """Signals brought in or linked whose link was confirmed: only these count."""
    themas: list[str] = field(default_factory=list)
    jaren: set[int] = field(default_factory=set)
    adviezen: list[tuple[int, list[str]]] = field(default_factory=list)
    afpakken: list[tuple[int, str, int]] = field(default_factory=list)


class SignaalThemas(Protocol):
    """Where the book keeps each signal's themes: one entry per signal ever seen, so in a worker a
    store outside its memory (`engine.projections.opslag.Opslag`), in a test a dict."""

    def zet_themas(self, signaal_id: str, themas: list[str]) -> None: ...

    def themas(self, signaal_id: str) -> list[str]:
        """The themes of a signal seen; none for a signal not seen (yet)."""
        ...


class ThemasInGeheugen:
    """`SignaalThemas` in a dict."""

    def __init__(self) -> None:
        self._themas: dict[str, list[str]] = {}

    def zet_themas(self, signaal_id: str, themas: list[str]) -> None:
        self._themas[signaal_id] = themas

    def themas(self, signaal_id: str) -> list[str]:
        return self._themas.get(signaal_id, [])


class Jaarverslagboek:
    """Folds events into what the tables are counted from. The result does not depend on the
    order in which casus events and signals arrive (a signal's themes join when it is seen)."""

    def __init__(self, signaal_themas: SignaalThemas | None = None) -> None:
        self.casussen: dict[str, CasusDossier] = {}
        self.beelden: list[tuple[str, int]] = []
        self.signaal_themas = signaal_themas if signaal_themas is not None else ThemasInGeheugen()

    def _dossier(self, casus_id: str) -> CasusDossier:
        return self.casussen.setdefault(casus_id, CasusDossier(casus_id))

    def pas_toe(self, g: Gebeurtenis) -> None:
        match g:
            case OndermijningsbeeldOpgeleverd():
                self.beelden.append((g.riec, jaar(g.tijd)))
                return
            case CasusGeopend():
                d = self._dossier(g.casus_id)
                d.riec, d.bron, d.inbreng, d.themas = g.riec, g.bron, list(g.signalen), list(g.themas)
            case SignaalGekoppeld():  # its year counts once the link is confirmed
                self._dossier(g.casus_id).gekoppeld.append(g.signaal_id)
                return
            case KoppelingBevestigd():  # carries the `tijd` of the command that asked for the link
                self._dossier(g.casus_id).bevestigd.add(g.signaal_id)
            case KoppelingGeweigerd() | KoppelingVerlopen():
                return
            case InterventieadviesGegeven():
                self._dossier(g.casus_id).adviezen.append((jaar(g.tijd), list(g.soorten)))
            case AfpakkenGeregistreerd():
                self._dossier(g.casus_id).afpakken.append((jaar(g.tijd), g.soort, g.bedrag_eurocent))
            case CasusAfgesloten():
                pass
            case _:
                return  # HKP events do not count in the tables
        self._dossier(g.casus_id).jaren.add(jaar(g.tijd))

    def signaal(self, signaal_id: str, themas: list[str]) -> None:
        self.signaal_themas.zet_themas(signaal_id, themas)

    def casus_themas(self, d: CasusDossier) -> set[str]:
        themas = set(d.themas)
        for signaal_id in d.bevestigd:
            themas.update(self.signaal_themas.themas(signaal_id))
        return {k for t in themas if (k := thema_kolom(t)) is not None}

    def tabellen(self, jaar_: int) -> dict[str, Any]:
        """Tabel 1 and Tabel 2 of one year for every reporting unit and the total (contract.md)."""
        tabel1 = {e: _leeg_tabel1() for e in EENHEDEN}
        tabel2 = {e: {"opgelegd_eurocent": 0, "geind_eurocent": 0, "beslag_eurocent": 0} for e in EENHEDEN}
        for riec, j in self.beelden:
            if j == jaar_:
                tabel1[eenheid(riec)]["ondermijningsbeelden"] += 1
        for d in self.casussen.values():
            if not d.riec:
                continue  # events of a casus whose opening is not on the log (cannot happen live)
            rij, bedragen = tabel1[eenheid(d.riec)], tabel2[eenheid(d.riec)]
            if jaar_ in d.jaren:
                rij["casussen"] += 1
                rij["casussen_uit_ondermijningsbeeld"] += d.bron == "ondermijningsbeeld"
                for groep in {partnergroep_inbreng(s) for s in d.inbreng if s in d.bevestigd}:
                    rij["ingebracht"][groep] += 1
                for thema in self.casus_themas(d):
                    rij["themas"][thema] += 1
            for j, soorten in d.adviezen:
                if j == jaar_:
                    rij["interventieadviezen"] += 1
                    for soort in set(soorten):
                        rij["adviezen"][soort] += 1
            for j, soort, bedrag in d.afpakken:
                if j == jaar_:
                    bedragen[f"{soort}_eurocent"] += bedrag
        tabel1["totaal"] = _som(tabel1.values())
        tabel2["totaal"] = _som(tabel2.values())
        return {"jaar": jaar_, "tabel1": tabel1, "tabel2": tabel2}


def _leeg_tabel1() -> dict[str, Any]:
    return {
        "ondermijningsbeelden": 0,
        "casussen": 0,
        "casussen_uit_ondermijningsbeeld": 0,
        "ingebracht": dict.fromkeys(PARTNERGROEPEN, 0),
        "themas": dict.fromkeys(THEMAS, 0),
        "interventieadviezen": 0,
        "adviezen": dict.fromkeys(ADVIESSOORTEN, 0),
    }


def _som(rijen: Iterable[dict[str, Any]]) -> dict[str, Any]:
    totaal: dict[str, Any] = {}
    for rij in rijen:
        for k, v in rij.items():
            if isinstance(v, dict):
                totaal[k] = {kk: totaal.get(k, {}).get(kk, 0) + vv for kk, vv in v.items()}
            else:
                totaal[k] = totaal.get(k, 0) + v
    return totaal
