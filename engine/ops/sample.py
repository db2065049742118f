"""Realistic sample traffic: signals in the proportions of the RIEC-LIEC Jaarverslag 2021, Tabel 1.

Weights are the 2021 figures: casussen per RIEC (Taskforce Brabant-Zeeland split evenly over its
two RIECs), inbreng per partner group, and the times each theme played. A few messages are bad on
purpose (and Toeslagen publishes), so the DLQ has something to show. Seeded, so a run can be repeated.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import msgspec
from msgspec.structs import replace as replace_struct

from engine.domain.ingress.bsn import elfproef
from engine.domain.reference import TOESLAGEN, Gebiedsindeling
from engine.events.envelope import partner_source, riec_source
from engine.events.opdrachten import (
    OPDRACHT_CE_TYPES,
    GeefInterventieadvies,
    LeverOndermijningsbeeldOp,
    Opdracht,
    OpenCasus,
    RegistreerAfpakken,
    SluitCasus,
    WijsHandhavingsknelpuntAan,
)
from engine.events.signaal import (
    SIGNAAL_TYPE,
    Adres,
    Locatie,
    Persoon,
    Rechtspersoon,
    Signaal,
    Subject,
    Voertuig,
)
from engine.projections.jaarverslag import ADVIESSOORTEN
from engine.topics import opdrachten_topic, partner_topic

RIEC_WEIGHTS = {
    "amsterdam-amstelland": 94, "den-haag": 88, "limburg": 50, "midden-nederland": 129,
    "noord-holland": 159, "noord-nederland": 54, "zeeland-west-brabant": 90, "oost-brabant": 91,
    "oost-nederland": 353, "rotterdam": 111,
}  # fmt: skip
PARTNER_WEIGHTS = {"gemeente": 325, "om": 27, "politie": 595, "belastingdienst": 70, "overige": 74}
OVERIGE = ("fiod", "douane", "nla", "kmar", "ind", "uwv", "nvwa", "pv20", "pv24", "pv27", "pv29")
THEMA_WEIGHTS = {
    "mensenhandel": 84,
    "drugs": 380,
    "witwassen": 573,
    "vastgoed": 95,
    "omg": 41,
    "regionaal": 314,
}
REGIONALE_THEMAS = (
    "vakantieparken",
    "bedrijventerreinen",
    "prostitutiebranche",
    "afvalcriminaliteit",
    "glastuinbouw",
    "arbeidsuitbuiting",
    "jonge-aanwas",
)
SBI = ("6831", "6810", "4941", "5610", "9604", "4511", "0113", "4120")
OMSCHRIJVINGEN = (
    "Contante aankoop van een pand ver boven de WOZ-waarde.",
    "Opvallend veel wisselende huurders op één adres; vermoedelijk huisjesmelker.",
    "Bedrijf zonder zichtbare activiteit met hoge contante omzet.",
    "Stroomverbruik wijst op een hennepkwekerij.",
    "Meerdere voertuigen op naam van een katvanger.",
    "Vergunningaanvraag horeca met onduidelijke financiering.",
    "Signalen van arbeidsuitbuiting bij een uitzendbureau.",
    "Clubhuis van een motorclub in een bedrijfspand.",
)


Inhoud = Signaal | Opdracht
"""A sample message's payload, as the contract types it."""


@dataclass(frozen=True, slots=True)
class Voorbeeld:
    """One sample message: where it goes, its CloudEvents attributes and its value."""

    org: str
    ce_id: str
    ce_source: str
    value: bytes
    """What is published: the JSON of `inhoud`, or bytes made to be refused."""
    ce_type: str = SIGNAAL_TYPE
    ce_time: datetime | None = None
    fout: bool = False
    """A message made to be refused."""
    inhoud: Inhoud | None = None
    """The payload `value` was encoded from; None for bytes that are no JSON."""

    @classmethod
    def van(
        cls, org: str, ce_id: str, ce_source: str, inhoud: Inhoud, ce_time: datetime | None = None
    ) -> Voorbeeld:
        """A message whose value is `inhoud` encoded; its ce_type that of the payload's type."""
        ce_type = SIGNAAL_TYPE if isinstance(inhoud, Signaal) else OPDRACHT_CE_TYPES[type(inhoud)]
        return cls(org, ce_id, ce_source, msgspec.json.encode(inhoud), ce_type, ce_time, inhoud=inhoud)

    @property
    def van_riec(self) -> bool:
        return self.ce_source.startswith(riec_source(""))

    @property
    def topic(self) -> str:
        return opdrachten_topic(self.org) if self.van_riec else partner_topic(self.org)

    @property
    def principal(self) -> str:
        """Who publishes it: the broker principal that may write `topic`."""
        return f"riec:{self.org}" if self.van_riec else f"partner:{self.org}"


def _kies(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _initialen(riec: str) -> str:
    """AA for amsterdam-amstelland, ZWB for zeeland-west-brabant: a readable casus id prefix."""
    return "".join(part[0] for part in riec.split("-")).upper() if "-" in riec else riec[:3].upper()


def _bsn(rng: random.Random) -> str:
    while True:
        candidate = str(rng.randrange(100_000_000, 999_999_999))
        if elfproef(candidate):
            return candidate


def _kvk(rng: random.Random) -> str:
    return str(rng.randrange(10_000_000, 99_999_999))


class SampleTraffic:
    """Generates sample messages for the reference data's gemeenten and postcodes."""

    def __init__(self, gebied: Gebiedsindeling, seed: int, bad_ratio: float = 0.02) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.bad_ratio = bad_ratio
        self.gemeenten_per_riec: dict[str, list[str]] = {}
        for g in gebied.gemeenten.values():
            self.gemeenten_per_riec.setdefault(g.riec, []).append(g.code)
        self.pc4_per_gemeente: dict[str, list[str]] = {}
        for pc4, code in sorted(gebied.pc4.items()):
            self.pc4_per_gemeente.setdefault(code, []).append(pc4)
        # Persons, companies and vehicles that casussen and HKPs are about; some signals name them.
        self.bekenden: list[Subject] = [self._bekende() for _ in range(60)]

    def _postcode(self, gemeente: str) -> str:
        letters = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTVWXZ") for _ in range(2))
        return self.rng.choice(self.pc4_per_gemeente[gemeente]) + letters

    def _bekende(self) -> Subject:
        rng = self.rng
        match rng.randrange(3):
            case 0:
                return Persoon(bsn=_bsn(rng))
            case 1:
                return Rechtspersoon(kvk=_kvk(rng), sbi=["6831"])
        return Voertuig(kenteken=f"{rng.randrange(10, 99)}-KBX-{rng.randrange(1, 9)}")

    def _subjecten(self, gemeente: str) -> list[Subject]:
        rng = self.rng
        subjecten: list[Subject] = []
        if rng.random() < 0.08:
            subjecten.append(rng.choice(self.bekenden))
        if rng.random() < 0.6:
            subjecten.append(Persoon(bsn=_bsn(rng)))
        if rng.random() < 0.4:
            subjecten.append(Rechtspersoon(kvk=_kvk(rng), sbi=[rng.choice(SBI)]))
        if rng.random() < 0.3:
            subjecten.append(Adres(postcode=self._postcode(gemeente), huisnummer=str(rng.randrange(1, 300))))
        if rng.random() < 0.2:
            subjecten.append(Voertuig(kenteken=f"{rng.randrange(10, 99)}-XKB-{rng.randrange(1, 9)}"))
        return subjecten

    def _themas(self) -> list[str]:
        themas = []
        for _ in range(self.rng.choice((1, 1, 2))):
            thema = _kies(self.rng, THEMA_WEIGHTS)
            themas.append(f"regionaal:{self.rng.choice(REGIONALE_THEMAS)}" if thema == "regionaal" else thema)
        return list(dict.fromkeys(themas))

    def _locatie(self, gemeente: str) -> Locatie | None:
        rng = self.rng
        plaats = rng.random()
        if plaats < 0.55:
            return Locatie(gemeente=gemeente)
        if plaats < 0.85:
            return Locatie(postcode=self._postcode(gemeente), huisnummer=str(rng.randrange(1, 300)))
        if plaats < 0.88:
            return Locatie(land=rng.choice(("BE", "DE")))
        return None

    def signaal(self, vandaag: date) -> Voorbeeld:
        """One good signal: a region and partner by the 2021 weights, a place in that region."""
        rng = self.rng
        riec = _kies(rng, RIEC_WEIGHTS)
        gemeente = rng.choice(self.gemeenten_per_riec[riec])
        groep = _kies(rng, PARTNER_WEIGHTS)
        org = {"gemeente": gemeente.lower(), "overige": rng.choice(OVERIGE)}.get(groep, groep)
        soort: Literal["signaal", "bestuurlijk_signaal"] = (
            "bestuurlijk_signaal" if rng.random() < 0.03 else "signaal"
        )
        themas, omschrijving = self._themas(), rng.choice(OMSCHRIJVINGEN)
        waargenomen = vandaag - timedelta(days=rng.randrange(0, 365))
        subjecten = self._subjecten(gemeente)
        locatie = self._locatie(gemeente)
        gemeld = datetime.combine(vandaag, datetime.min.time(), UTC) - timedelta(
            seconds=rng.randrange(365 * 86400)
        )
        body = Signaal(
            soort=soort,
            themas=themas,
            omschrijving=omschrijving,
            waargenomen_op=min(waargenomen, gemeld.date()),
            locatie=locatie,
            subjecten=subjecten,
        )
        ce_id = str(uuid.UUID(int=rng.getrandbits(128)))
        return Voorbeeld.van(org, ce_id, partner_source(org), body, ce_time=gemeld)

    def bad(self, vandaag: date) -> Voorbeeld:
        """A message the engine must refuse: one of the mistakes integrators make."""
        good = self.signaal(vandaag)
        assert isinstance(good.inhoud, Signaal)
        body = good.inhoud
        mistake = self.rng.randrange(5)
        if mistake == 0:
            return Voorbeeld(good.org, good.ce_id, good.ce_source, b"<signaal>geen json</signaal>")
        if mistake == 1:
            return Voorbeeld.van(good.org, good.ce_id, "urn:nl:riec:partner:onbekend", body)
        if mistake == 2:
            body = replace_struct(body, subjecten=[Persoon(bsn="123456789")])  # fails the elfproef
        elif mistake == 3:
            body = replace_struct(body, themas=["fraude"])
        else:
            return Voorbeeld.van(TOESLAGEN, good.ce_id, partner_source(TOESLAGEN), body)
        return Voorbeeld.van(good.org, good.ce_id, good.ce_source, body)

    def _opdracht(self, riec: str, opdracht: Opdracht, tijd: datetime | None = None) -> Voorbeeld:
        ce_id = str(uuid.UUID(int=self.rng.getrandbits(128)))
        return Voorbeeld.van(riec, ce_id, riec_source(riec), opdracht, tijd)

    def _tijd(self, vandaag: date, dagen_geleden: int) -> datetime:
        return datetime.combine(vandaag, datetime.min.time(), UTC) - timedelta(
            days=dagen_geleden, hours=self.rng.randrange(8, 17)
        )

    def _advies(self, riec: str, casus_id: str, tijd: datetime) -> Voorbeeld:
        soorten = self.rng.sample(ADVIESSOORTEN, k=self.rng.choice((1, 2)))
        advies = GeefInterventieadvies(
            casus_id=casus_id,
            advies_id="A1",
            soorten=soorten,
            uitvoerder="gemeente",
            coordinator=f"RIEC {riec}",
        )
        return self._opdracht(riec, advies, tijd)

    def inbreng(self, signalen: list[Voorbeeld], vandaag: date, aantal: int = 40) -> Iterator[Voorbeeld]:
        """Casussen opened from signals partners brought in, after those signals, in their region.

        Only signals routed to the opening RIEC (by their location's gemeente): a RIEC may bring in
        nothing else, and the engine would refuse the link.
        """
        rng = self.rng
        riec_van = {code: riec for riec, codes in self.gemeenten_per_riec.items() for code in codes}
        per_riec: dict[str, list[Voorbeeld]] = {}
        for s in signalen:
            if not s.fout and isinstance(s.inhoud, Signaal) and s.inhoud.soort == "signaal":
                gemeente = s.inhoud.locatie.gemeente if s.inhoud.locatie else None
                if gemeente:
                    per_riec.setdefault(riec_van[gemeente], []).append(s)
        riecs = sorted(per_riec)
        for i in range(aantal if riecs else 0):
            # A RIEC in proportion to its signals, as in the Jaarverslag's casussen per RIEC.
            riec = rng.choices(riecs, weights=[len(per_riec[r]) for r in riecs])[0]
            bron = rng.sample(per_riec[riec], k=min(len(per_riec[riec]), rng.choice((1, 1, 2, 3))))
            casus_id = f"{_initialen(riec)}-{vandaag.year}-{self.seed}-I{i:03d}"
            later = max(s.ce_time for s in bron if s.ce_time) + timedelta(days=rng.randrange(1, 30))
            vandaag_begin = datetime.combine(vandaag, datetime.min.time(), UTC)
            opened = min(later, vandaag_begin)
            signaal_ids = [f"{s.org}:{s.ce_id}" for s in bron]
            openen = OpenCasus(casus_id=casus_id, naam=f"Inbreng {i}", bron="inbreng", signalen=signaal_ids)
            yield self._opdracht(riec, openen, opened)
            if rng.random() < 0.6:
                # Never after today: the engine refuses a ce_time more than a day ahead.
                yield self._advies(riec, casus_id, min(opened + timedelta(days=14), vandaag_begin))

    def opdrachten(self, vandaag: date) -> Iterator[Voorbeeld]:
        """What RIEC offices do before the signals: HKPs designated, casussen opened and worked on."""
        yield from self._knelpunten(vandaag)
        for riec in self.rng.sample(list(RIEC_WEIGHTS), k=4):
            beeld = LeverOndermijningsbeeldOp(
                beeld_id=f"OB-{_initialen(riec)}-{self.seed}", naam="Ondermijningsbeeld"
            )
            yield self._opdracht(riec, beeld, self._tijd(vandaag, self.rng.randrange(30, 300)))
        riecs = self.rng.choices(list(RIEC_WEIGHTS), weights=list(RIEC_WEIGHTS.values()), k=40)
        for i, riec in enumerate(riecs):
            yield from self._casus(vandaag, i, riec)

    def _knelpunten(self, vandaag: date) -> Iterator[Voorbeeld]:
        """An area and (where a known person) a person per RIEC; Brabant's branch of the seed."""
        van = vandaag - timedelta(days=365)
        for n, riec in enumerate(RIEC_WEIGHTS):
            gemeente = self.rng.choice(self.gemeenten_per_riec[riec])
            gebied = WijsHandhavingsknelpuntAan(
                hkp_id=f"HKP-{_initialen(riec)}-{self.seed}-gebied",
                naam=f"Bedrijventerrein {gemeente}",
                soort="gebied",
                postcodes=self.pc4_per_gemeente[gemeente][:2],
                geldig_van=van,
            )
            yield self._opdracht(riec, gebied, self._tijd(vandaag, 365))
            persoon = self.bekenden[n]
            if isinstance(persoon, Persoon):
                hkp_id = f"HKP-{_initialen(riec)}-{self.seed}-persoon"
                persoonlijk = WijsHandhavingsknelpuntAan(
                    hkp_id=hkp_id,
                    naam="Malafide verhuurder",
                    soort="persoon",
                    subjecten=[persoon],
                    geldig_van=van,
                )
                yield self._opdracht(riec, persoonlijk, self._tijd(vandaag, 360))
        for riec in ("zeeland-west-brabant", "oost-brabant"):  # the seed's example: malafide verhuurmakelaars
            hkp_id = f"HKP-{_initialen(riec)}-{self.seed}-verhuur"
            branche = WijsHandhavingsknelpuntAan(
                hkp_id=hkp_id, naam="Malafide verhuurmakelaars", soort="branche", sbi=["6831"], geldig_van=van
            )
            yield self._opdracht(riec, branche, self._tijd(vandaag, 350))

    def _casus(self, vandaag: date, i: int, riec: str) -> Iterator[Voorbeeld]:
        """A casus opened from a gebiedsscan or ondermijningsbeeld, some advised on, some closed."""
        rng = self.rng
        casus_id = f"{_initialen(riec)}-{vandaag.year}-{self.seed}-{i:03d}"
        geopend = rng.randrange(90, 365)
        openen = OpenCasus(
            casus_id=casus_id,
            naam=f"Casus {i}",
            bron=rng.choice(("gebiedsscan", "ondermijningsbeeld")),
            themas=self._themas(),
            subjecten=[self.bekenden[20 + i]],
        )
        yield self._opdracht(riec, openen, self._tijd(vandaag, geopend))
        if rng.random() < 0.5:
            yield self._advies(riec, casus_id, self._tijd(vandaag, geopend - 30))
            if rng.random() < 0.5:
                afpakken = RegistreerAfpakken(
                    casus_id=casus_id,
                    soort=rng.choice(("opgelegd", "geind", "beslag")),
                    domein=rng.choice(("fiscaal", "strafrechtelijk", "bestuurlijk")),
                    bedrag_eurocent=rng.randrange(100_000, 50_000_000),
                )
                yield self._opdracht(riec, afpakken, self._tijd(vandaag, geopend - 60))
        if rng.random() < 0.2:
            sluiten = SluitCasus(casus_id=casus_id, reden="Interventies uitgevoerd")
            yield self._opdracht(riec, sluiten, self._tijd(vandaag, geopend - 80))

    def stroom(self, count: int, vandaag: date | None = None) -> Iterator[Voorbeeld]:
        vandaag = vandaag or datetime.now(UTC).date()
        for _ in range(count):
            if self.rng.random() < self.bad_ratio:
                yield replace(self.bad(vandaag), fout=True)
            else:
                yield self.signaal(vandaag)
