"""Internal records of matching: the open-casus index and the routing slip a signal carries.

`engine.zoekindex` is keyed by identifier. It carries index changes (from casus events) and the
routing slips of signals, in one topic so that on each identifier's partition a slip sees every
index change appended before it.
"""

from __future__ import annotations

import msgspec

from engine.events.signaal_ontvangen import SignaalOntvangen


class CasusMatch(msgspec.Struct, frozen=True, kw_only=True):
    """An open casus that shares an identifier with a signal."""

    casus_id: str
    riec: str
    identificator: str


class IdentificatorToegevoegd(msgspec.Struct, frozen=True, kw_only=True, tag="toegevoegd", tag_field="type"):
    """An open casus now has this identifier (on opening, or a linked signal's)."""

    identificator: str
    casus_id: str
    riec: str
    signaal_id: str | None = None
    """The linked signal it came from; None: one of the casus's own subjects. The index remembers
    it, so that forgetting the signal takes back what it added (`BijdrageIngetrokken`)."""


class CasusGesloten(msgspec.Struct, frozen=True, kw_only=True, tag="gesloten", tag_field="type"):
    """A casus closed: every index partition drops it (sent to each partition)."""

    casus_id: str


class IdentificatorGewist(msgspec.Struct, frozen=True, kw_only=True, tag="gewist", tag_field="type"):
    """An erased subject's identifier leaves every casus of the index (`engine.vergeten`)."""

    identificator: str


class BijdrageIngetrokken(msgspec.Struct, frozen=True, kw_only=True, tag="ingetrokken", tag_field="type"):
    """A forgotten signal takes back every identifier it added to a casus (sent to each partition
    by the executor of forgetting, in the transaction that destroys the signal's key)."""

    signaal_id: str


class Vermelding(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An identifier's entry for one casus in `engine.casusindex` when linked signals brought it:
    where it came from, so that forgetting a signal removes exactly what that signal added. An
    entry brought only by the casus's own subjects is just the RIEC's name (the older form)."""

    riec: str
    eigen: bool = False
    """One of the casus's own subjects has it too."""
    signalen: list[str] = []
    """The linked signals that brought it."""


Stand = dict[str, str | Vermelding]
"""An identifier's entry in `engine.casusindex`: casus_id → its RIEC, or a `Vermelding`."""


class Routebriefje(msgspec.Struct, frozen=True, kw_only=True, tag="routebriefje", tag_field="type"):
    """A signal on its way through the index partitions of its identifiers, collecting matches."""

    signaal: SignaalOntvangen
    te_zoeken: list[str]
    """Identifiers still to look up; the record is keyed by the first."""
    matches: list[CasusMatch] = []
    """Each casus once; bounded by the caps of `engine.casusindex`."""
    begrensd: bool = False
    """True when a cap left out casussen that share an identifier (the routes say so)."""


ZoekindexRecord = (
    IdentificatorToegevoegd | CasusGesloten | IdentificatorGewist | BijdrageIngetrokken | Routebriefje
)

ZOEKINDEX_ENCODER = msgspec.json.Encoder()
ZOEKINDEX_DECODER = msgspec.json.Decoder(ZoekindexRecord)
ROUTEBRIEFJE_DECODER = msgspec.json.Decoder(Routebriefje)
STAND_ENCODER = msgspec.json.Encoder()
STAND_DECODER = msgspec.json.Decoder(Stand)
