"""The aggregates RIEC commands act on — casus, handhavingsknelpunt, ondermijningsbeeld — and
the decision a command becomes: new events, or a refusal that changes nothing.

A casus follows the werkproces: geopend → (casusoverleg) → interventieadvies → (uitvoering) →
afgesloten. Casusoverleg and uitvoering have no command of their own in contract v1, so the states
the engine can tell apart are geopend, interventieadvies and afgesloten. Money recovered (afpakken)
can be registered once an interventieadvies was given, also after closing: collection often
happens years later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import singledispatch
from typing import Any, Literal, TypedDict

import msgspec

from engine.errors import Weigering
from engine.events.casus import (
    AfpakkenGeregistreerd,
    AggregaatVergeten,
    CasusAfgesloten,
    CasusGeopend,
    Gebeurtenis,
    HandhavingsknelpuntAangewezen,
    HandhavingsknelpuntBeeindigd,
    InterventieadviesGegeven,
    KoppelingAfgewezen,
    KoppelingBevestigd,
    KoppelingGeweigerd,
    KoppelingVerlopen,
    OndermijningsbeeldOpgeleverd,
    OpdrachtOntvangen,
    SignaalGekoppeld,
)
from engine.events.opdrachten import (
    OPDRACHT_DECODERS,
    BeeindigHandhavingsknelpunt,
    GeefInterventieadvies,
    KoppelSignaal,
    LeverOndermijningsbeeldOp,
    Opdracht,
    OpenCasus,
    RegistreerAfpakken,
    SluitCasus,
    WijsHandhavingsknelpuntAan,
    WijsKoppelingAf,
)
from engine.events.signaal_ontvangen import PersoonPseudoniem, PseudoSubject

CasusStatus = Literal["geopend", "interventieadvies", "afgesloten"]


@dataclass(frozen=True, slots=True)
class Casus:
    casus_id: str
    riec: str
    status: CasusStatus
    signalen: frozenset[str]
    """Signals brought in or linked, confirmed or pending; a refused or expired link is dropped."""
    adviezen: frozenset[str] = frozenset()
    opdrachten: frozenset[str] = field(default_factory=frozenset)
    beslist: frozenset[tuple[str, str]] = frozenset()
    """Links decided, as (opdracht_id, signaal_id): each link gets one decision, recorded once."""


@dataclass(frozen=True, slots=True)
class Knelpunt:
    hkp_id: str
    riec: str
    actief: bool
    opdrachten: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Beeld:
    beeld_id: str
    riec: str
    opdrachten: frozenset[str] = frozenset()


Aggregaat = Casus | Knelpunt | Beeld


class _Meta(TypedDict):
    opdracht_id: str
    riec: str
    tijd: datetime
    vastgelegd_op: datetime
    auteur: str


def al_verwerkt(aggregaat: Aggregaat | None, opdracht_id: str) -> bool:
    """True when this command (`<riec>:<ce_id>`) was applied before: it must change nothing."""
    return aggregaat is not None and opdracht_id in aggregaat.opdrachten


def al_beslist(aggregaat: Aggregaat | None, opdracht_id: str, signaal_id: str) -> bool:
    """True when the decision on this link was recorded before. A decision record read twice (a
    stage retaken after a broker crash reprocesses its last batch) must not be recorded twice."""
    return isinstance(aggregaat, Casus) and (opdracht_id, signaal_id) in aggregaat.beslist


def pas_toe(aggregaat: Aggregaat | None, g: Gebeurtenis) -> Aggregaat | None:
    """The aggregate after an event: a pure fold, used live and when rebuilding from the log."""
    return _volg(g, aggregaat)


def _gezien(a: Aggregaat | None, g: Gebeurtenis) -> Aggregaat | None:
    """`a` with the event's command recorded as applied; None (never opened) has nothing to fold onto."""
    return None if a is None else replace(a, opdrachten=a.opdrachten | {g.opdracht_id})


@singledispatch
def _volg(g: Gebeurtenis, a: Aggregaat | None) -> Aggregaat | None:
    """One function per event type, each changing its aggregate kind only (an event of another kind
    records its command and no more). This one: the events that change nothing else."""
    return _gezien(a, g)


@_volg.register
def _geopend(g: CasusGeopend, _: Aggregaat | None) -> Aggregaat | None:
    return Casus(g.casus_id, g.riec, "geopend", frozenset(g.signalen), opdrachten=frozenset({g.opdracht_id}))


@_volg.register
def _aangewezen(g: HandhavingsknelpuntAangewezen, _: Aggregaat | None) -> Aggregaat | None:
    return Knelpunt(g.hkp_id, g.riec, True, frozenset({g.opdracht_id}))


@_volg.register
def _opgeleverd(g: OndermijningsbeeldOpgeleverd, _: Aggregaat | None) -> Aggregaat | None:
    return Beeld(g.beeld_id, g.riec, frozenset({g.opdracht_id}))


# A link's outcome is no command: `opdrachten` stays as it is.
@_volg.register
def _bevestigd(g: KoppelingBevestigd, a: Aggregaat | None) -> Aggregaat | None:
    return replace(a, beslist=a.beslist | {(g.opdracht_id, g.signaal_id)}) if isinstance(a, Casus) else a


@_volg.register
def _niet_gekoppeld(g: KoppelingGeweigerd | KoppelingVerlopen, a: Aggregaat | None) -> Aggregaat | None:
    if not isinstance(a, Casus):
        return a
    # Dropped: the same link may be asked again, by another command.
    return replace(
        a, signalen=a.signalen - {g.signaal_id}, beslist=a.beslist | {(g.opdracht_id, g.signaal_id)}
    )


@_volg.register
def _gekoppeld(g: SignaalGekoppeld, a: Aggregaat | None) -> Aggregaat | None:
    if not isinstance(a, Casus):
        return _gezien(a, g)
    return replace(a, signalen=a.signalen | {g.signaal_id}, opdrachten=a.opdrachten | {g.opdracht_id})


@_volg.register
def _geadviseerd(g: InterventieadviesGegeven, a: Aggregaat | None) -> Aggregaat | None:
    if not isinstance(a, Casus):
        return _gezien(a, g)
    status: CasusStatus = "afgesloten" if a.status == "afgesloten" else "interventieadvies"
    return replace(
        a, status=status, adviezen=a.adviezen | {g.advies_id}, opdrachten=a.opdrachten | {g.opdracht_id}
    )


@_volg.register
def _afgesloten(g: CasusAfgesloten, a: Aggregaat | None) -> Aggregaat | None:
    if not isinstance(a, Casus):
        return _gezien(a, g)
    return replace(a, status="afgesloten", opdrachten=a.opdrachten | {g.opdracht_id})


@_volg.register
def _beeindigd(g: HandhavingsknelpuntBeeindigd, a: Aggregaat | None) -> Aggregaat | None:
    if not isinstance(a, Knelpunt):
        return _gezien(a, g)
    return replace(a, actief=False, opdrachten=a.opdrachten | {g.opdracht_id})


@_volg.register
def _vergeten(g: AggregaatVergeten, a: Aggregaat | None) -> Aggregaat | None:
    """A forgotten HKP routes no more (the register drops it); a casus or beeld goes on, its name
    and subjects unreadable."""
    if isinstance(a, Knelpunt):
        return replace(a, actief=False, opdrachten=a.opdrachten | {g.opdracht_id})
    return _gezien(a, g)


def _casus(aggregaat: Aggregaat | None, casus_id: str, riec: str) -> Casus:
    """The RIEC's own casus. Another RIEC's is refused exactly as one that does not exist, in code
    and words: a refusal must not tell a RIEC which casus ids other RIECs use."""
    if not isinstance(aggregaat, Casus) or aggregaat.riec != riec:
        raise Weigering("unknown_casus", f"casus {casus_id} does not exist (open it first)")
    return aggregaat


def _open(casus: Casus) -> None:
    if casus.status == "afgesloten":
        raise Weigering(
            "impossible_transition", f"casus {casus.casus_id} is afgesloten; it cannot change any more"
        )


def _nieuw(aggregaat: Aggregaat | None, wat: str, ident: str, riec: str) -> None:
    if aggregaat is not None:
        if aggregaat.riec != riec:
            raise Weigering(
                "id_taken", f"{wat} id {ident} is already used by another RIEC; choose another id"
            )
        raise Weigering("impossible_transition", f"{wat} {ident} already exists")


@dataclass(frozen=True, slots=True)
class _Herkomst:
    """Who gave a command and when: what each event it becomes records, and its subjects
    (pseudonymised at ingress; the payload carries them no more)."""

    meta: _Meta
    subjecten: list[PseudoSubject]

    @property
    def riec(self) -> str:
        return self.meta["riec"]


def beslis(aggregaat: Aggregaat | None, o: OpdrachtOntvangen, nu: datetime) -> list[Gebeurtenis]:
    """The events a command becomes, given its aggregate's state; raises Weigering otherwise.

    Called by the single writer of the aggregate's partition, after `al_verwerkt` said the command
    is new. An empty list means the command is valid but changes nothing (a signal linked twice).
    The payload is decoded once, by its `ce_type`'s decoder; its type picks the decision (`BESLUITEN`).
    """
    opdracht = OPDRACHT_DECODERS[o.ce_type].decode(o.opdracht)
    meta = _Meta(opdracht_id=o.opdracht_id, riec=o.riec, tijd=o.tijd, vastgelegd_op=nu, auteur=o.auteur)
    return BESLUITEN[type(opdracht)](aggregaat, opdracht, _Herkomst(meta, o.subjecten))


def _open_casus(aggregaat: Aggregaat | None, opdracht: OpenCasus, h: _Herkomst) -> list[Gebeurtenis]:
    _nieuw(aggregaat, "casus", opdracht.casus_id, h.riec)
    return [
        CasusGeopend(
            **h.meta,
            casus_id=opdracht.casus_id,
            naam=opdracht.naam,
            bron=opdracht.bron,
            signalen=list(dict.fromkeys(opdracht.signalen)),
            themas=list(dict.fromkeys(opdracht.themas)),
            subjecten=h.subjecten,
        )
    ]


def _koppel_signaal(aggregaat: Aggregaat | None, opdracht: KoppelSignaal, h: _Herkomst) -> list[Gebeurtenis]:
    casus = _casus(aggregaat, opdracht.casus_id, h.riec)
    _open(casus)
    if opdracht.signaal_id in casus.signalen:
        return []
    return [SignaalGekoppeld(**h.meta, casus_id=casus.casus_id, signaal_id=opdracht.signaal_id)]


def _wijs_koppeling_af(
    aggregaat: Aggregaat | None, opdracht: WijsKoppelingAf, h: _Herkomst
) -> list[Gebeurtenis]:
    casus = _casus(aggregaat, opdracht.casus_id, h.riec)
    if opdracht.signaal_id in casus.signalen:
        raise Weigering(
            "impossible_transition",
            f"signal {opdracht.signaal_id} is linked to casus {casus.casus_id}; a link asked "
            "for cannot be rejected as a candidate",
        )
    return [
        KoppelingAfgewezen(
            **h.meta, casus_id=casus.casus_id, signaal_id=opdracht.signaal_id, reden=opdracht.reden
        )
    ]


def _geef_interventieadvies(
    aggregaat: Aggregaat | None, opdracht: GeefInterventieadvies, h: _Herkomst
) -> list[Gebeurtenis]:
    casus = _casus(aggregaat, opdracht.casus_id, h.riec)
    _open(casus)
    if opdracht.advies_id in casus.adviezen:
        raise Weigering(
            "impossible_transition", f"advies {opdracht.advies_id} was already given in this casus"
        )
    return [
        InterventieadviesGegeven(
            **h.meta,
            casus_id=casus.casus_id,
            advies_id=opdracht.advies_id,
            soorten=list(dict.fromkeys(opdracht.soorten)),
            uitvoerder=opdracht.uitvoerder,
            coordinator=opdracht.coordinator,
        )
    ]


def _registreer_afpakken(
    aggregaat: Aggregaat | None, opdracht: RegistreerAfpakken, h: _Herkomst
) -> list[Gebeurtenis]:
    casus = _casus(aggregaat, opdracht.casus_id, h.riec)
    if not casus.adviezen:
        raise Weigering("impossible_transition", "afpakken follows an interventieadvies; give one first")
    return [
        AfpakkenGeregistreerd(
            **h.meta,
            casus_id=casus.casus_id,
            soort=opdracht.soort,
            domein=opdracht.domein,
            bedrag_eurocent=opdracht.bedrag_eurocent,
        )
    ]


def _sluit_casus(aggregaat: Aggregaat | None, opdracht: SluitCasus, h: _Herkomst) -> list[Gebeurtenis]:
    casus = _casus(aggregaat, opdracht.casus_id, h.riec)
    _open(casus)
    return [CasusAfgesloten(**h.meta, casus_id=casus.casus_id, reden=opdracht.reden)]


def _wijs_knelpunt_aan(
    aggregaat: Aggregaat | None, opdracht: WijsHandhavingsknelpuntAan, h: _Herkomst
) -> list[Gebeurtenis]:
    _nieuw(aggregaat, "handhavingsknelpunt", opdracht.hkp_id, h.riec)
    return [
        HandhavingsknelpuntAangewezen(
            **h.meta,
            hkp_id=opdracht.hkp_id,
            naam=opdracht.naam,
            soort=opdracht.soort,
            pseudoniemen=[s.pseudoniem for s in h.subjecten if isinstance(s, PersoonPseudoniem)],
            postcodes=opdracht.postcodes,
            sbi=opdracht.sbi,
            geldig_van=opdracht.geldig_van,
            geldig_tot=opdracht.geldig_tot,
        )
    ]


def _beeindig_knelpunt(
    aggregaat: Aggregaat | None, opdracht: BeeindigHandhavingsknelpunt, h: _Herkomst
) -> list[Gebeurtenis]:
    if not isinstance(aggregaat, Knelpunt) or aggregaat.riec != h.riec:  # another RIEC's: as unknown
        raise Weigering("unknown_hkp", f"handhavingsknelpunt {opdracht.hkp_id} does not exist")
    if not aggregaat.actief:
        raise Weigering("impossible_transition", f"handhavingsknelpunt {opdracht.hkp_id} was already ended")
    return [HandhavingsknelpuntBeeindigd(**h.meta, hkp_id=opdracht.hkp_id)]


def _lever_beeld_op(
    aggregaat: Aggregaat | None, opdracht: LeverOndermijningsbeeldOp, h: _Herkomst
) -> list[Gebeurtenis]:
    _nieuw(aggregaat, "ondermijningsbeeld", opdracht.beeld_id, h.riec)
    return [OndermijningsbeeldOpgeleverd(**h.meta, beeld_id=opdracht.beeld_id, naam=opdracht.naam)]


Besluit = Callable[[Aggregaat | None, Any, _Herkomst], list[Gebeurtenis]]
"""A command's decision: its aggregate's state, the decoded payload and who gave it → its events."""

BESLUITEN: dict[type[Opdracht], Besluit] = {
    OpenCasus: _open_casus,
    KoppelSignaal: _koppel_signaal,
    WijsKoppelingAf: _wijs_koppeling_af,
    GeefInterventieadvies: _geef_interventieadvies,
    RegistreerAfpakken: _registreer_afpakken,
    SluitCasus: _sluit_casus,
    WijsHandhavingsknelpuntAan: _wijs_knelpunt_aan,
    BeeindigHandhavingsknelpunt: _beeindig_knelpunt,
    LeverOndermijningsbeeldOp: _lever_beeld_op,
}
"""One decision per command type of the contract (`OPDRACHT_TYPES`); a new command adds a row."""


def encode_zonder_subjecten(opdracht: msgspec.Struct) -> bytes:
    """A command's payload as JSON without its raw subjects (which carry BSNs)."""
    if "subjecten" in opdracht.__struct_fields__:
        opdracht = msgspec.structs.replace(opdracht, subjecten=[])
    return msgspec.json.encode(opdracht)
