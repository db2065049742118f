"""Versioned rule sets: the reference data in force on a date, each version named by its content.

A version is a folder under `versies/` holding `versie.toml` (its `geldig_vanaf`), `gemeenten.csv`,
`pc4_gemeente.csv` and `fusies.csv` (SOURCES.md says where each came from). A version is in force
from its `geldig_vanaf` until the next version's. Its id is a hash of the folder's bytes, so a route
that names the id names exactly the data that decided it; that is why a version is never edited in
place: a change is a new folder with a later `geldig_vanaf`, and the old one keeps routing the
signals observed while it was in force.

A version routes only once it is adopted: the baseline (`BASISLIJN`) counts as adopted, a later
folder only after a second person approved a `regelversie_aannemen` request with its dry run
(four eyes, `engine.domain.vergeten.vieroogen`). A version that is shipped but not adopted is
loaded, can be dry-run and asked for, and routes nothing (`Regelversies.met_aangenomen`).

Dates are calendar dates as partners write `waargenomen_op` (a date without a time of day, in the
Netherlands), compared as they are: a merger "on 1 January 2023" takes effect for every signal
observed on 2023-01-01 or later, with no time zone to convert.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from engine.domain.reference import RIECS, Gebiedsindeling, Gemeente, _slug

VERSIES = "versies"
MANIFEST = "versie.toml"
BESTANDEN = ("gemeenten.csv", "pc4_gemeente.csv", "fusies.csv", MANIFEST)
"""The files every version has; all files of its folder count in its id."""
ID_LENGTE = 16
"""Hex characters of the sha256 kept as a version's id: 64 bits, no collision among a few dozen
versions, short enough for a person to compare two routes by eye."""


BASISLIJN: frozenset[str] = frozenset(
    {
        "dd40bb4107d3f50e",  # 2022-01-01: gemeentelijke indeling van 1 januari 2022
        "f2abb4c895ff0894",  # 2022-03-24: Weesp in Amsterdam
        "d816490f2c45e987",  # 2023-01-01: Voorne aan Zee and the other mergers of 2023
    }
)
"""The versions that count as adopted without a request: the three shipped before a rule change
needed four eyes (issue 31), which had been routing signals already. Never add an id here: a new
folder is adopted by an approved `regelversie_aannemen` request (README, Adopting it), so that no
one person changes where signals go by adding a folder to the code."""


def versie_id(bestanden: Mapping[str, bytes]) -> str:
    """The id of a version: sha256 over its files' names and bytes, in name order.

    Bytes, not parsed rows: a change to any byte (a RIEC, a name, a line ending) is a different
    version. The length before each file keeps two files' bytes from running into one another.
    """
    h = hashlib.sha256()
    for naam in sorted(bestanden):
        inhoud = bestanden[naam]
        h.update(f"{naam}\0{len(inhoud)}\0".encode())
        h.update(inhoud)
    return h.hexdigest()[:ID_LENGTE]


@dataclass(frozen=True, slots=True)
class Fusie:
    """A gemeente that went up in another (merger or annexation) on `geldig_vanaf`."""

    oude_code: str
    oude_naam: str
    nieuwe_code: str
    geldig_vanaf: date


@dataclass(frozen=True, slots=True)
class Regelversie:
    """One version of the reference data: the division in force from `geldig_vanaf`."""

    id: str
    geldig_vanaf: date
    omschrijving: str
    gebied: Gebiedsindeling = field(repr=False)
    fusies: Mapping[str, Fusie] = field(repr=False)
    """Old code → its merger, for every code this version knows to have gone (not only its own
    date's): a partner may send a code years after it went."""

    def opgegaan_in(self, code: str) -> tuple[Gemeente, tuple[Fusie, ...]] | None:
        """The gemeente of this version a merged-away code went up in, and the mergers on the way
        (a code merged twice is followed to the end), or None when the table does not know it."""
        keten: list[Fusie] = []
        while (fusie := self.fusies.get(code)) is not None and len(keten) <= len(self.fusies):
            keten.append(fusie)
            code = fusie.nieuwe_code
            if (gemeente := self.gebied.gemeente(code)) is not None:
                return gemeente, tuple(keten)
        return None


@dataclass(frozen=True, slots=True)
class Gevonden:
    """A gemeente looked up for a date, and how: directly in the version in force, through its
    merger table (`fusies`), or in a later version (`uit_versie`: the code did not exist yet)."""

    gemeente: Gemeente
    fusies: tuple[Fusie, ...] = ()
    uit_versie: Regelversie | None = None


class Regelversies:
    """Versions ordered by `geldig_vanaf`; picks the one in force on a date among those that route.

    `geleverd` is every version given (for the engine: every folder it ships); `versies` those that
    route: all of them when `aangenomen` is None (a dry run, a test), else only those whose id is in
    `aangenomen`. A version given but not adopted (`wachtend`) is never picked, not even as a later
    division for a code that did not exist yet.
    """

    def __init__(self, versies: Iterable[Regelversie], aangenomen: Collection[str] | None = None) -> None:
        self.geleverd: tuple[Regelversie, ...] = tuple(sorted(versies, key=lambda v: v.geldig_vanaf))
        datums = [v.geldig_vanaf for v in self.geleverd]
        if len(set(datums)) != len(datums):
            raise ValueError(f"two versions of the reference data take effect on one date: {datums}")
        self.versies: tuple[Regelversie, ...] = (
            self.geleverd if aangenomen is None else tuple(v for v in self.geleverd if v.id in aangenomen)
        )
        if not self.versies:
            raise ValueError("no version of the reference data")
        self._datums = [v.geldig_vanaf for v in self.versies]

    def met_aangenomen(self, aangenomen: Collection[str]) -> Regelversies:
        """The same versions, of which only the baseline (`BASISLIJN`) and `aangenomen` (the ids
        adopted through four eyes) route. Called by a routing worker whenever its table of
        adoptions changes; an id in `aangenomen` that is not given here is left out (logged by the
        caller: this worker's image lacks that version)."""
        return Regelversies(self.geleverd, aangenomen=BASISLIJN | frozenset(aangenomen))

    @property
    def wachtend(self) -> tuple[Regelversie, ...]:
        """The versions given but not adopted: shipped, awaiting a second person's approval."""
        routeert = {v.id for v in self.versies}
        return tuple(v for v in self.geleverd if v.id not in routeert)

    def versie(self, versie_id: str) -> Regelversie | None:
        """A given version by its id (adopted or not), or None."""
        return next((v for v in self.geleverd if v.id == versie_id), None)

    @property
    def nieuwste(self) -> Regelversie:
        """The latest version that routes: the partners, topics and ACLs of today (and of a
        division announced ahead of its date)."""
        return self.versies[-1]

    def op(self, dag: date) -> Regelversie:
        """The version in force on `dag`: the latest that routes with `geldig_vanaf` on or before
        it. A date before every version gets the oldest: there is no older division in the data,
        and the route names the version it used."""
        return self.versies[max(0, bisect_right(self._datums, dag) - 1)]

    def _later(self, dag: date) -> tuple[Regelversie, ...]:
        return self.versies[bisect_right(self._datums, dag) :]

    def gemeente(self, code: str, dag: date) -> Gevonden | None:
        """The gemeente of a CBS code for a signal observed on `dag`, or None when no version knows it.

        The version in force first; then its merger table (a code sent after its gemeente merged is
        mapped forward, not refused); then a later version, for a code sent for a day before its
        gemeente was formed (a partner's system knows only today's codes).
        """
        versie = self.op(dag)
        if (gemeente := versie.gebied.gemeente(code)) is not None:
            return Gevonden(gemeente)
        if (opgegaan := versie.opgegaan_in(code)) is not None:
            return Gevonden(opgegaan[0], fusies=opgegaan[1])
        for later in self._later(dag):
            if (gemeente := later.gebied.gemeente(code)) is not None:
                return Gevonden(gemeente, uit_versie=later)
        return None

    def gemeente_van_postcode(self, postcode: str, dag: date) -> Gevonden | None:
        """The gemeente of a postcode's PC4 for `dag`: in the version in force, else in a later
        version (a PC4 given out since), or None when no version knows the PC4."""
        if (gemeente := self.op(dag).gebied.gemeente_van_postcode(postcode)) is not None:
            return Gevonden(gemeente)
        for later in self._later(dag):
            if (gemeente := later.gebied.gemeente_van_postcode(postcode)) is not None:
                return Gevonden(gemeente, uit_versie=later)
        return None


def _csv(inhoud: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(inhoud.decode("utf-8"))))


def laad_versie(map: Traversable) -> Regelversie:
    """Read one version's folder. Raises ValueError naming the folder and what is wrong: the engine
    must not start on reference data it cannot vouch for."""
    bestanden = {f.name: f.read_bytes() for f in map.iterdir() if f.is_file()}
    ontbreekt = [b for b in BESTANDEN if b not in bestanden]
    if ontbreekt:
        raise ValueError(f"reference data version {map.name} lacks {', '.join(ontbreekt)}")
    manifest = tomllib.loads(bestanden[MANIFEST].decode("utf-8"))
    geldig_vanaf = manifest.get("geldig_vanaf")
    if not isinstance(geldig_vanaf, date) or str(geldig_vanaf) != map.name:
        raise ValueError(
            f"reference data version {map.name}: geldig_vanaf must be a date equal to its folder name"
        )
    gemeenten: dict[str, Gemeente] = {}
    riec_namen: dict[str, str] = {}
    for row in _csv(bestanden["gemeenten.csv"]):
        riec = _slug(row["riec"])
        if riec not in RIECS:
            raise ValueError(
                f"reference data version {map.name}: gemeenten.csv names an unknown RIEC {row['riec']!r}"
            )
        gemeenten[row["gemeente_code"]] = Gemeente(row["gemeente_code"], row["gemeente_naam"], riec)
        riec_namen[riec] = row["riec"]
    pc4 = {row["pc4"]: row["gemeente_code"] for row in _csv(bestanden["pc4_gemeente.csv"])}
    fusies = {
        row["oude_code"]: Fusie(
            row["oude_code"], row["oude_naam"], row["nieuwe_code"], date.fromisoformat(row["geldig_vanaf"])
        )
        for row in _csv(bestanden["fusies.csv"])
    }
    return Regelversie(
        id=versie_id(bestanden),
        geldig_vanaf=geldig_vanaf,
        omschrijving=str(manifest.get("omschrijving", "")),
        gebied=Gebiedsindeling(gemeenten=gemeenten, pc4=pc4, riec_namen=riec_namen),
        fusies=fusies,
    )


def _versies_in(map: Traversable) -> list[Regelversie]:
    return [laad_versie(v) for v in map.iterdir() if v.is_dir() and not v.name.startswith((".", "_"))]


def laad_regelversies(map: Traversable) -> Regelversies:
    """Every version under `map` (one folder each), each of them routing."""
    return Regelversies(_versies_in(map))


@cache
def regelversies() -> Regelversies:
    """The packaged versions (`versies/`), loaded once per process, each of them routing (the dry
    run's choices, tests, today's partners); a routing worker routes with
    `geleverd(...).met_aangenomen(...)`. No network, no I/O after."""
    return laad_regelversies(resources.files(__package__).joinpath(VERSIES))


def geleverd(extra: Traversable | None = None) -> Regelversies:
    """What this engine ships: the packaged versions and those in the folder `extra`
    (ENGINE_EXTRA_REGELVERSIES: a version delivered beside the image, one folder each). Raises
    ValueError on a version it cannot read or two on one date: a worker must not start then."""
    if extra is None:
        return regelversies()
    return Regelversies([*regelversies().geleverd, *_versies_in(extra)])
