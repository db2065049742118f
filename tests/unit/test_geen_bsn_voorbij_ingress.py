"""Property (issue 10): given a BSN planted in any field of either contract (a signal, or any RIEC
command, or the ce_id of either) in any form a person reads as one, when ingress has handled it,
then whatever was accepted holds no raw BSN: not the accepted record, not the events a command
becomes, not the routed messages (with HKP names and casus ids in their reasons), not the index
keys; and a refusal's reason holds none either.

The fields come from the contract's own Structs (msgspec.inspect), so a field added later is
planted in too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.domain.casus import Aggregaat, Casus, Knelpunt, beslis
from engine.domain.identificatoren import van_signaal, van_subjecten
from engine.domain.ingress.acceptatie import Beleid, Bericht, accepteer
from engine.domain.ingress.bsn import elfproef
from engine.domain.ingress.opdrachten import accepteer_opdracht
from engine.domain.ingress.poort import IDS
from engine.domain.ingress.pseudonimisering import Pseudonimiseerder
from engine.domain.knelpunten import Knelpuntenregister
from engine.domain.reference import gebiedsindeling
from engine.domain.reference.regelversies import regelversies
from engine.domain.routing import route
from engine.errors import Weigering
from engine.events.casus import (
    GEBEURTENIS_ENCODER,
    CasusGeopend,
    HandhavingsknelpuntAangewezen,
    OpdrachtOntvangen,
)
from engine.events.matching import ZOEKINDEX_ENCODER, CasusMatch, IdentificatorToegevoegd, Routebriefje
from engine.events.opdrachten import OPDRACHT_TYPES
from engine.events.route import ROUTE_ENCODER, GerouteerdSignaal
from engine.events.signaal import SIGNAAL_TYPE, Adres, Locatie, Persoon, Rechtspersoon, Signaal, Voertuig
from engine.events.signaal_ontvangen import (
    SIGNAAL_LOG_ENCODER,
    PersoonPseudoniem,
    PseudoSubject,
    SignaalOntvangen,
)
from tests.fixtures import OTHER_BSN, TEST_KEY, command_headers, encode, headers, leesbare_bsn, payload

NU = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PSEUDO = Pseudonimiseerder(TEST_KEY)
GEBIED = gebiedsindeling()
RIEC = "rotterdam"

CONTRACTEN: dict[str, type[msgspec.Struct]] = {SIGNAAL_TYPE: Signaal, **OPDRACHT_TYPES}
PERSOON = {"type": "persoon", "bsn": OTHER_BSN}
BASIS: dict[str, dict[str, Any]] = {
    SIGNAAL_TYPE: payload(),
    "nl.riec.casus.openen.v1": {"casus_id": "R-1", "naam": "Casus", "bron": "inbreng",
                                "signalen": ["politie:a"], "themas": ["drugs"], "subjecten": [PERSOON]},
    "nl.riec.casus.signaal_koppelen.v1": {"casus_id": "R-1", "signaal_id": "politie:a"},
    "nl.riec.casus.koppeling_afwijzen.v1": {"casus_id": "R-1", "signaal_id": "politie:a", "reden": "Andere persoon"},
    "nl.riec.casus.interventieadvies.v1": {"casus_id": "R-1", "advies_id": "A-2", "soorten": ["bibob"],
                                           "uitvoerder": "gemeente", "coordinator": "RIEC"},
    "nl.riec.casus.afpakken.v1": {"casus_id": "R-1", "soort": "geind", "domein": "fiscaal", "bedrag_eurocent": 100},
    "nl.riec.casus.afsluiten.v1": {"casus_id": "R-1", "reden": "Interventies uitgevoerd"},
    "nl.riec.handhavingsknelpunt.aanwijzen.v1": {"hkp_id": "H-1", "naam": "Knelpunt", "soort": "groep",
                                                 "subjecten": [PERSOON], "postcodes": ["3011"], "sbi": ["6831"],
                                                 "geldig_van": "2026-01-01"},
    "nl.riec.handhavingsknelpunt.beeindigen.v1": {"hkp_id": "H-1"},
    "nl.riec.ondermijningsbeeld.opleveren.v1": {"beeld_id": "B-1", "naam": "Beeld"},
}  # fmt: skip
VOORBEELDEN: dict[type[msgspec.Struct], dict[str, Any]] = {
    Persoon: PERSOON,
    Rechtspersoon: {"type": "rechtspersoon", "kvk": "12345678", "sbi": ["6831"]},
    Adres: {"type": "adres", "postcode": "3011AA", "huisnummer": "12"},
    Voertuig: {"type": "voertuig", "kenteken": "AB-123-C"},
    Locatie: {"postcode": "3011AA", "huisnummer": "12", "gemeente": "GM0599"},
}
"""A valid value of every nested Struct, to plant into."""

Stap = tuple[str, Any]
CE_ID: tuple[Stap, ...] = (("header", "ce_id"),)


def paden(info: msgspec.inspect.Type, pad: tuple[Stap, ...] = ()) -> Iterator[tuple[Stap, ...]]:
    """Every leaf of a contract type, as steps from the payload's root."""
    match info:
        case msgspec.inspect.StructType(fields=fields):
            for f in fields:
                yield from paden(f.type, (*pad, ("veld", f.encode_name)))
        case msgspec.inspect.Metadata(type=t):
            yield from paden(t, pad)
        case msgspec.inspect.ListType(item_type=t):
            yield from paden(t, (*pad, ("item", None)))
        case msgspec.inspect.UnionType(types=types) if any(
            isinstance(t, msgspec.inspect.StructType) for t in types
        ):
            for t in types:
                if isinstance(t, msgspec.inspect.StructType):
                    yield from paden(t, (*pad, ("variant", t.cls)))
        case _:
            yield pad


PADEN = {ce_type: [*paden(msgspec.inspect.type_info(t)), CE_ID] for ce_type, t in CONTRACTEN.items()}


def plant(huidig: Any, pad: tuple[Stap, ...], waarde: str) -> Any:
    """`huidig` (a JSON value) with `waarde` at the end of `pad`; lists become that one item."""
    if not pad:
        return waarde
    (soort, arg), rest = pad[0], pad[1:]
    if soort == "veld":
        d = dict(huidig or {})
        d[arg] = plant(d.get(arg), rest, waarde)
        return d
    if soort == "item":
        return [plant(None, rest, waarde)]
    basis = (
        huidig if isinstance(huidig, dict) and huidig.get("type") == VOORBEELDEN[arg].get("type") else None
    )
    return plant(basis or VOORBEELDEN[arg], rest, waarde)


def bericht(ce_type: str, pad: tuple[Stap, ...], waarde: str) -> Bericht:
    ce_id = waarde if pad == CE_ID else "0f8fad5b-d9cb-469f-a165-70867728950e"
    body = BASIS[ce_type] if pad == CE_ID else plant(BASIS[ce_type], pad, waarde)
    if ce_type == SIGNAAL_TYPE:
        hs = headers("politie", ce_id, ce_time=NU.isoformat())
        return Bericht("partner.politie.signalen", hs, encode(body), 0)
    hs = command_headers(RIEC, ce_type, ce_id, ce_time=NU.isoformat())
    return Bericht(f"riec.{RIEC}.opdrachten", hs, encode(body), 0)


def signaal_met(subjecten: list[PseudoSubject]) -> SignaalOntvangen:
    return SignaalOntvangen(
        signaal_id="politie:s", bron="politie", gemeld_op=NU, aangeboden_op=NU, ontvangen_op=NU,
        soort="signaal", themas=["drugs"], omschrijving="o", waargenomen_op=NU.date(), subjecten=subjecten,
    )  # fmt: skip


def routes(signaal: SignaalOntvangen, register: Knelpuntenregister, casus_ids: list[str]) -> Iterator[bytes]:
    """Every routed message of a signal, with HKP and open-casus reasons."""
    keys = van_signaal(signaal) or ["kenteken:AB123C"]
    casussen = [CasusMatch(casus_id=c, riec=RIEC, identificator=keys[0]) for c in casus_ids]
    for r in route(signaal, regelversies(), register.matches(signaal), casussen):
        yield ROUTE_ENCODER.encode(GerouteerdSignaal.van(signaal, r.bestemming, list(r.redenen), NU))


def uit_signaal(s: SignaalOntvangen) -> Iterator[tuple[str, bytes | str]]:
    yield "engine.signalen", SIGNAAL_LOG_ENCODER.encode(s)
    keys = van_signaal(s)
    for key in keys:
        yield "index key", key
    yield "engine.zoekindex", ZOEKINDEX_ENCODER.encode(Routebriefje(signaal=s, te_zoeken=keys))
    for r in routes(s, Knelpuntenregister(), ["R-1"]):
        yield "routes", r


def aggregaat_voor(o: OpdrachtOntvangen) -> Aggregaat | None:
    """The casus or HKP a follow-up command needs, so that it becomes events."""
    opdracht = msgspec.json.decode(o.opdracht)
    if o.ce_type == "nl.riec.handhavingsknelpunt.beeindigen.v1":
        return Knelpunt(opdracht["hkp_id"], o.riec, True)
    if "casus_id" in opdracht and o.ce_type != "nl.riec.casus.openen.v1":
        return Casus(opdracht["casus_id"], o.riec, "interventieadvies", frozenset(), frozenset({"A-1"}))
    return None


def uit_opdracht(o: OpdrachtOntvangen) -> Iterator[tuple[str, bytes | str]]:
    yield "engine.opdrachten.kandidaten", GEBEURTENIS_ENCODER.encode(o)
    try:
        gebeurtenissen = beslis(aggregaat_voor(o), o, NU)
    except Weigering as w:  # refused after ingress: the DLQ gets the command as accepted (above)
        yield "reason", w.reden
        return
    for g in gebeurtenissen:
        yield "engine.gebeurtenissen", GEBEURTENIS_ENCODER.encode(g)
        if isinstance(g, CasusGeopend):
            for key in van_subjecten(g.subjecten):
                record = IdentificatorToegevoegd(identificator=key, casus_id=g.casus_id, riec=g.riec)
                yield "engine.zoekindex", ZOEKINDEX_ENCODER.encode(record)
            for r in routes(signaal_met(g.subjecten), Knelpuntenregister(), [g.casus_id]):
                yield "routes", r
        if isinstance(g, HandhavingsknelpuntAangewezen):
            register = Knelpuntenregister()
            register.pas_toe(g)
            treffers: list[PseudoSubject] = [PersoonPseudoniem(pseudoniem=p) for p in g.pseudoniemen]
            treffers += [Adres(postcode=(pc + "AA")[:6], huisnummer="1") for pc in g.postcodes[:1]]
            treffers += [Rechtspersoon(kvk="12345678", sbi=g.sbi[:1])]
            for r in routes(signaal_met(treffers), register, []):
                assert g.hkp_id.encode() in r or not g.pseudoniemen, "the HKP is named in the reasons"
                yield "routes", r


def geen_bsn_voorbij_ingress(ce_type: str, pad: tuple[Stap, ...], bsn: str, waarde: str) -> str:
    """Run one planted message through ingress and everything after it; returns the outcome."""
    b = bericht(ce_type, pad, waarde)
    try:
        if ce_type == SIGNAAL_TYPE:
            uitvoer = list(
                uit_signaal(accepteer(b, regels=regelversies(), pseudo=PSEUDO, beleid=Beleid(), nu=NU))
            )
        else:
            uitvoer = list(uit_opdracht(accepteer_opdracht(b, gebied=GEBIED, pseudo=PSEUDO, nu=NU)))
    except Weigering as w:
        assert not leesbare_bsn(f"{w.code} {w.reden}", bsn), w.reden
        return w.code
    for waar, data in uitvoer:
        assert not leesbare_bsn(data, bsn), f"BSN readable in {waar}: {data!r}"
    return "accepted"


def _digits(bsn: str, schrift: str) -> str:
    tabellen = {"ascii": "0123456789", "full-width": "０１２３４５６７８９", "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
                "superscript": "⁰¹²³⁴⁵⁶⁷⁸⁹", "circled": "⓪①②③④⑤⑥⑦⑧⑨"}  # fmt: skip
    return bsn.translate(str.maketrans("0123456789", tabellen[schrift]))


SCHEIDERS = [" ", "\u00a0", "\u202f", "\u2009", ".", "-", "_", "/", ",", ", ", "\u200b", "–", " - ", "·"]
SCHRIFTEN = ["ascii", "full-width", "arabic-indic", "superscript", "circled"]
GROEPERINGEN = [(9,), (3, 3, 3), (4, 2, 3), (2, 3, 4), (3, 2, 4)]
"""How people group a BSN: read as one in every field."""
GROEPERINGEN_BUITEN_IDS = [(5, 4), (1, 4, 4), (6, 3)]
"""Groupings nobody writes a BSN in, but that read as one when a field's separators are dropped
(an index key of huisnummer 11122-2333): refused in fields, pseudonymised in free text. In ids they
are counters (2026-00123) and pass."""
VOOR = [
    "",
    "p",
    "melding",
    "melding-",
    "R-2026-",
    "Eigenaar met BSN ",
    "(",
    "nr. ",
    "regionaal:p",
    "regionaal:x-",
]
NA = ["", "-a", "x", " koopt contant.", ")", "/b"]


def groeperingen_voor(pad: tuple[Stap, ...]) -> list[tuple[int, ...]]:
    veld = [a for soort, a in pad if soort in ("veld", "header")][-1]
    return GROEPERINGEN if veld in IDS or veld == "ce_id" else GROEPERINGEN + GROEPERINGEN_BUITEN_IDS


def vorm(bsn: str, groepering: tuple[int, ...], scheiders: list[str], schriften: list[str]) -> str:
    """`bsn` as a person writes it: grouped, separated, in one script or mixed per digit."""
    cijfers = "".join(_digits(c, schriften[i % len(schriften)]) for i, c in enumerate(bsn))
    groepen, begin = [], 0
    for lengte in groepering:
        groepen.append(cijfers[begin : begin + lengte])
        begin += lengte
    return groepen[0] + "".join(scheiders[i % len(scheiders)] + g for i, g in enumerate(groepen[1:]))


@st.composite
def bsns(draw: st.DrawFn) -> str:
    acht = draw(st.integers(0, 10**8 - 1).map(lambda n: f"{n:08d}"))
    laatste = sum(int(d) * w for d, w in zip(acht, range(9, 1, -1), strict=True)) % 11
    bsn = acht + str(laatste)
    if laatste == 10 or not elfproef(bsn):
        return draw(st.just("123456782"))
    return bsn


@st.composite
def geplant(draw: st.DrawFn) -> tuple[str, tuple[Stap, ...], str, str]:
    ce_type = draw(st.sampled_from(sorted(CONTRACTEN)))
    pad = draw(st.sampled_from(PADEN[ce_type]))
    bsn = draw(bsns())
    tekst = vorm(
        bsn,
        draw(st.sampled_from(groeperingen_voor(pad))),
        draw(st.lists(st.sampled_from(SCHEIDERS), min_size=1, max_size=3)),
        # ASCII most often: most fields' schemas refuse other digits before the gate is reached
        draw(st.lists(st.sampled_from(["ascii", "ascii", *SCHRIFTEN]), min_size=1, max_size=2)),
    )
    return ce_type, pad, bsn, draw(st.sampled_from(VOOR)) + tekst + draw(st.sampled_from(NA))


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(geplant())
def test_no_raw_bsn_passes_ingress_whatever_field_and_form(
    geval: tuple[str, tuple[Stap, ...], str, str],
) -> None:
    geen_bsn_voorbij_ingress(*geval)


def test_every_field_of_both_contracts_in_every_listed_form_and_some_are_accepted() -> None:
    """The deterministic companion of the property: every field with every separator, grouping,
    script and surrounding; and the free-text fields do accept (pseudonymised)."""

    def waarden(pad: tuple[Stap, ...]) -> Iterator[str]:
        for i, scheider in enumerate(SCHEIDERS):
            yield VOOR[i % len(VOOR)] + vorm(OTHER_BSN, (3, 3, 3), [scheider], ["ascii"]) + NA[i % len(NA)]
        for groepering in groeperingen_voor(pad):
            yield vorm(OTHER_BSN, groepering, ["-"], ["ascii"])
        for schrift in SCHRIFTEN:
            yield vorm(OTHER_BSN, (9,), [""], [schrift])
            yield vorm(OTHER_BSN, (3, 3, 3), ["\u00a0"], [schrift, "ascii"])
        for i, voor in enumerate(VOOR):
            yield voor + OTHER_BSN + NA[i % len(NA)]

    uitkomsten: dict[str, set[str]] = {}
    for ce_type, lijst in PADEN.items():
        for pad in lijst:
            for waarde in waarden(pad):
                uitkomst = geen_bsn_voorbij_ingress(ce_type, pad, OTHER_BSN, waarde)
                uitkomsten.setdefault("/".join(str(a) for _, a in pad), set()).add(uitkomst)
    assert uitkomsten["omschrijving"] == {"accepted"}
    assert uitkomsten["naam"] == {"accepted"} and uitkomsten["reden"] == {"accepted"}
    assert "bsn_in_id" in uitkomsten["ce_id"] and "accepted" not in uitkomsten["ce_id"]
    assert uitkomsten["casus_id"] == {"bsn_in_id", "payload_invalid"}
    assert "bsn_in_veld" in uitkomsten["themas/None"]
    assert "bsn_in_veld" in uitkomsten["subjecten/None/<class 'engine.events.signaal.Adres'>/huisnummer"]


def test_the_planted_paths_cover_every_field_of_every_contract() -> None:
    for ce_type, t in CONTRACTEN.items():
        info = msgspec.inspect.type_info(t)
        assert isinstance(info, msgspec.inspect.StructType)
        geplant_in = {pad[0][1] for pad in PADEN[ce_type]}
        assert {f.encode_name for f in info.fields} | {"ce_id"} == geplant_in, ce_type
    assert (("veld", "subjecten"), ("item", None), ("variant", Voertuig), ("veld", "kenteken")) in PADEN[
        SIGNAAL_TYPE
    ]
