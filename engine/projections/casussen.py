"""Casussen per RIEC: a list with state, themes and inbrengers, and each casus's timeline.
A fold over the casus events; themes of signals brought in or linked come from the annual book.
A signal brought in or linked shows (its partner, its themes, its id) only once its link is
confirmed: a RIEC sees nothing of a signal that was not routed to it (`engine.domain.koppelingen`).

The events are kept as the log holds them, their personal fields (name, reasons) sealed, and opened
with the casus's key when a RIEC reads them: once the key is destroyed (the casus is forgotten)
every answer reads `[gewist]`, at once and with nothing to rewrite."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import msgspec

from engine.domain import meldingen
from engine.domain.vergeten import verzegeling
from engine.domain.vergeten.sleutels import Sleutelring
from engine.events.casus import (
    AfpakkenGeregistreerd,
    AggregaatVergeten,
    CasusAfgesloten,
    CasusGeopend,
    Gebeurtenis,
    InterventieadviesGegeven,
    KoppelingAfgewezen,
    KoppelingBevestigd,
    KoppelingGeweigerd,
    KoppelingVerlopen,
    SignaalGekoppeld,
)
from engine.projections.jaarverslag import Jaarverslagboek, partnergroep_inbreng

_OMSCHRIJVING = {
    CasusGeopend: "Casus geopend",
    SignaalGekoppeld: "Signaal gekoppeld",
    KoppelingBevestigd: "Koppeling bevestigd",
    KoppelingGeweigerd: "Koppeling geweigerd",
    KoppelingVerlopen: "Koppeling verlopen",
    KoppelingAfgewezen: "Kandidaat-koppeling afgewezen",
    InterventieadviesGegeven: "Interventieadvies gegeven",
    AfpakkenGeregistreerd: "Afpakken geregistreerd",
    CasusAfgesloten: "Casus afgesloten",
    AggregaatVergeten: "Gegevens vergeten",
}
_VERZEGELD = "_verzegeld"
"""A timeline entry's sealed fields (kind, ciphertext), opened when read (`Casussen._lees`)."""


@dataclass
class _Casus:
    riec: str = ""
    geopend: dict[str, Any] = field(default_factory=dict)
    """The timeline entry of its opening: its name, sealed."""
    bron: str = ""
    status: str = "geopend"
    inbreng: list[str] = field(default_factory=list)
    koppelingen: dict[str, str] = field(default_factory=dict)
    """signaal_id → wachtend, bevestigd, geweigerd or verlopen, in the order the links were asked."""
    afgewezen: dict[str, dict[str, Any]] = field(default_factory=dict)
    """signaal_id → the timeline entry of its rejection (the reason, sealed)."""
    tijdlijn: list[dict[str, Any]] = field(default_factory=list)


def _volgorde(e: dict[str, Any]) -> tuple[Any, Any]:
    return e["tijd"], e["opdracht_id"]


def voeg_in(tijdlijn: list[dict[str, Any]], gebeurtenis: dict[str, Any]) -> None:
    """Insert into a timeline kept in order of (tijd, opdracht_id), after the entries with the same
    key: the order a stable sort of all events in arrival order gives. Re-sorting on every event
    made folding one casus quadratic (20k events: 59 s); this is a binary search and one insert,
    and a plain append when the event is the newest, as it nearly always is."""
    if not tijdlijn or _volgorde(tijdlijn[-1]) <= _volgorde(gebeurtenis):
        tijdlijn.append(gebeurtenis)
    else:
        bisect.insort_right(tijdlijn, gebeurtenis, key=_volgorde)


def _bevestigd(c: _Casus) -> list[str]:
    return [s for s, status in c.koppelingen.items() if status == "bevestigd"]


class Casussen:
    def __init__(self, boek: Jaarverslagboek, ring: Sleutelring | None = None) -> None:
        self._boek = boek
        self._ring = ring
        """The casussen's data keys (`engine.sleutels.casus`); None: this reader has none."""
        self._casussen: dict[str, _Casus] = {}
        self._per_signaal: dict[str, set[str]] = {}
        """signaal_id → the casussen that asked for, or rejected, a link with it."""

    def pas_toe(self, g: Gebeurtenis) -> None:
        soort = type(g)
        if soort not in _OMSCHRIJVING:
            return
        sleutel = verzegeling.aggregaat_van(g)
        if not sleutel.startswith("casus:"):
            return  # an HKP or beeld forgotten
        casus_id = sleutel.removeprefix("casus:")
        c = self._casussen.setdefault(casus_id, _Casus())
        details = {
            k: v
            for k, v in msgspec.to_builtins(g).items()
            if k not in ("type", "riec", "subjecten", "casus_id", "aggregaat", "versleuteld")
        }
        entry = {"gebeurtenis": _OMSCHRIJVING[soort], **details}
        if isinstance(g, KoppelingVerlopen | KoppelingGeweigerd):  # the engine's reason, for a person
            entry["melding"] = meldingen.bij_code(getattr(g, "code", "koppeling_verlopen"))
        if g.versleuteld:
            entry[_VERZEGELD] = (soort, g.versleuteld)
        voeg_in(c.tijdlijn, entry)
        if isinstance(g, CasusGeopend):
            for signaal_id in g.signalen:
                self._per_signaal.setdefault(signaal_id, set()).add(casus_id)
        elif isinstance(g, SignaalGekoppeld | KoppelingAfgewezen):
            self._per_signaal.setdefault(g.signaal_id, set()).add(casus_id)
        match g:
            case KoppelingAfgewezen():
                c.afgewezen[g.signaal_id] = entry
            case CasusGeopend():
                c.riec, c.geopend, c.bron, c.inbreng = g.riec, entry, g.bron, list(g.signalen)
                for signaal_id in g.signalen:
                    c.koppelingen.setdefault(signaal_id, "wachtend")
            case SignaalGekoppeld():
                c.koppelingen[g.signaal_id] = "wachtend"
            case KoppelingBevestigd():
                c.koppelingen[g.signaal_id] = "bevestigd"
            case KoppelingGeweigerd():
                c.koppelingen[g.signaal_id] = "geweigerd"
            case KoppelingVerlopen():
                c.koppelingen[g.signaal_id] = "verlopen"
            case InterventieadviesGegeven() if c.status != "afgesloten":
                c.status = "interventieadvies"
            case CasusAfgesloten():
                c.status = "afgesloten"

    def _lees(self, casus_id: str, entry: dict[str, Any]) -> dict[str, Any]:
        """A timeline entry as a RIEC reads it: its sealed fields opened, or `[gewist]`."""
        verzegeld = entry.get(_VERZEGELD)
        if verzegeld is None:
            return entry
        soort, blob = verzegeld
        velden = verzegeling.open_velden(self._ring, soort, f"casus:{casus_id}", entry["opdracht_id"], blob)
        uit = {k: v for k, v in entry.items() if k != _VERZEGELD}
        uit.update({k: v for k, v in velden.items() if k in uit})
        return uit

    def _naam(self, casus_id: str, c: _Casus) -> str:
        return str(self._lees(casus_id, c.geopend).get("naam", ""))

    def _samenvatting(self, casus_id: str, c: _Casus) -> dict[str, Any]:
        dossier = self._boek.casussen.get(casus_id)
        inbreng = [s for s in c.inbreng if c.koppelingen.get(s) == "bevestigd"]
        return {
            "casus_id": casus_id,
            "naam": self._naam(casus_id, c),
            "status": c.status,
            "bron": c.bron,
            "themas": sorted(self._boek.casus_themas(dossier)) if dossier else [],
            "inbrengers": sorted({s.split(":", 1)[0] for s in inbreng}),
            "inbreng_partnergroepen": sorted({partnergroep_inbreng(s) for s in inbreng}),
            "signalen": len(_bevestigd(c)),
            "geopend_op": c.tijdlijn[0]["tijd"] if c.tijdlijn else None,
            "laatst_gewijzigd": c.tijdlijn[-1]["tijd"] if c.tijdlijn else None,
        }

    def lijst(self, riec: str) -> list[dict[str, Any]]:
        """The casussen a RIEC leads, most recently changed first."""
        items = [self._samenvatting(i, c) for i, c in self._casussen.items() if c.riec == riec]
        return sorted(items, key=lambda s: (s["laatst_gewijzigd"] or "", s["casus_id"]), reverse=True)

    def detail(self, riec: str, casus_id: str) -> dict[str, Any] | None:
        c = self._casussen.get(casus_id)
        if c is None or c.riec != riec:
            return None
        return {
            **self._samenvatting(casus_id, c),
            "signaal_ids": _bevestigd(c),
            "koppelingen": [{"signaal_id": s, "status": status} for s, status in c.koppelingen.items()],
            "afgewezen": [
                {"signaal_id": s, "reden": self._lees(casus_id, e)["reden"]} for s, e in c.afgewezen.items()
            ],
            "tijdlijn": [self._lees(casus_id, e) for e in c.tijdlijn],
        }

    def van_signaal(self, riec: str, signaal_id: str) -> list[dict[str, Any]]:
        """The casussen of `riec` that asked for a link with this signal, or rejected one: their
        name and state, and the link's (wachtend, bevestigd, geweigerd, verlopen or afgewezen)."""
        uit = []
        for casus_id in sorted(self._per_signaal.get(signaal_id, ())):
            c = self._casussen[casus_id]
            if c.riec != riec:
                continue
            status = c.koppelingen.get(signaal_id) or ("afgewezen" if signaal_id in c.afgewezen else None)
            naam = self._naam(casus_id, c)
            uit.append({"casus_id": casus_id, "naam": naam, "status": c.status, "koppeling": status})
        return uit

    def status(self, riec: str, casus_id: str) -> str | None:
        """A casus's state, when `riec` leads it."""
        c = self._casussen.get(casus_id)
        return c.status if c is not None and c.riec == riec else None

    def canoniek(self) -> dict[str, Any]:
        return {i: self.detail(c.riec, i) for i, c in sorted(self._casussen.items())}
