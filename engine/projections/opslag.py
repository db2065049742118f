"""The projections' local store: what grows with every signal but is read only on demand (the routed
messages of the inboxes, each signal's themes) lives in a SQLite file instead of the worker's memory.

It is a cache of the logs, never a source: a worker starts it empty and fills it by the same fold
from offset 0 that rebuilds every projection, so the projections still equal a replay. Hence no
durability: no fsync, no rollback journal on disk, and the file is removed when the worker stops
(or, after a crash, when it starts again). A withdrawn message (`RouteIngetrokken`) is deleted with
`secure_delete` on, so that SQLite overwrites its bytes in the file instead of leaving them in free
pages: the file must not hold what the logs no longer do. One connection, used only from the
worker's event loop; what it writes is visible to its own reads at once, `vastleggen` (after each
batch) only lets SQLite write its pages out, so that memory stays bounded by its page cache.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

PAGINA_CACHE_KIB = 16 * 1024
"""SQLite's page cache (16 MiB): enough for the newest pages of every inbox; the rest comes from
the file (the operating system's cache, not the worker's memory)."""

_RIJEN_PER_SCHRIJFBEURT = 1000
"""At most this many rows (about 1 MB of messages) wait in memory to be written."""
_NR_BITS = 40
"""A message's key is its destination's number shifted by this, plus its own number: one integer
primary key (SQLite's rowid, no second index), each destination's messages in a row of keys."""

_SCHEMA = """
CREATE TABLE bericht (
    sleutel INTEGER PRIMARY KEY,
    inhoud BLOB NOT NULL,
    signaal_id TEXT NOT NULL DEFAULT '',
    datum TEXT NOT NULL DEFAULT '',
    partnergroep TEXT NOT NULL DEFAULT '',
    themas TEXT NOT NULL DEFAULT '',
    regels TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bericht_signaal ON bericht (signaal_id);
CREATE TABLE behandeld (
    riec TEXT NOT NULL,
    signaal_id TEXT NOT NULL,
    casus_id TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (riec, signaal_id, casus_id)
) WITHOUT ROWID;
CREATE TABLE signaal_themas (
    signaal_id TEXT PRIMARY KEY,
    themas BLOB NOT NULL
) WITHOUT ROWID;
"""


class Opslag:
    """The store of one set of projections. `pad` None: a private temporary file that SQLite
    removes when the connection closes (tests, a replay); otherwise that file, started empty.

    A failing store raises `sqlite3.Error`: that is no property of a record, so the projections
    stop on it (`ProjectieStaat.verwerk` does not skip the record) instead of diverging from a replay.
    """

    def __init__(self, pad: Path | None = None) -> None:
        self.pad = pad
        if pad is not None:
            pad.parent.mkdir(parents=True, exist_ok=True)
            _verwijder(pad)
        self._db = sqlite3.connect("" if pad is None else str(pad))
        for pragma in (
            "journal_mode = MEMORY",
            "synchronous = OFF",
            f"cache_size = -{PAGINA_CACHE_KIB}",
            "secure_delete = ON",
        ):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(_SCHEMA)
        self._bestemmingen: dict[str, int] = {}
        """Each destination's number, in the order of their first message."""
        self._berichten: list[tuple[int, bytes, str, str, str, str, str]] = []
        self._themas: list[tuple[str, bytes]] = []
        """Rows not written yet: written in one statement per batch (`executemany` takes about a
        third of the time of a statement per row), and before any read."""

    def _schrijf(self) -> None:
        if self._berichten:
            self._db.executemany("INSERT INTO bericht VALUES (?, ?, ?, ?, ?, ?, ?)", self._berichten)
            self._berichten.clear()
        if self._themas:
            self._db.executemany("INSERT OR REPLACE INTO signaal_themas VALUES (?, ?)", self._themas)
            self._themas.clear()

    # ---------------------------------------------------------------- inbox

    def voeg_toe(self, bestemming: str, nr: int, inhoud: bytes, kenmerken: Kenmerken | None = None) -> None:
        """Keep message `nr` (0, 1, 2, … in the order the destination's log holds them), with the
        `kenmerken` the inbox is filtered and looked up by."""
        b = self._bestemmingen.setdefault(bestemming, len(self._bestemmingen))
        k = kenmerken or Kenmerken()
        themas, regels = _lijst(k.themas), _lijst(k.regels)
        self._berichten.append(
            ((b << _NR_BITS) + nr, inhoud, k.signaal_id, k.datum, k.partnergroep, themas, regels)
        )
        if len(self._berichten) >= _RIJEN_PER_SCHRIJFBEURT:
            self._schrijf()

    def gefilterd(
        self, bestemming: str, filter_: Filter, limit: int, voor: int | None, *, tel: bool = True
    ) -> Gefilterd:
        """Up to `limit` messages matching `filter_`, newest first, numbered below `voor`; the number
        of the oldest one returned when more match below it (the next page's cursor); and how many
        match in all (0 unless `tel`: the unfiltered inbox counts in memory). Numbers may have gaps
        (withdrawn messages): a page is filled from the messages there are."""
        self._schrijf()
        b = self._bestemmingen.get(bestemming)
        if b is None:
            return Gefilterd([], None, 0)
        waar, params = _voorwaarden(filter_, bestemming)
        basis = b << _NR_BITS
        bereik = "sleutel >= ? AND sleutel < ?"
        totaal = 0
        if tel:
            alle = (basis, basis + (1 << _NR_BITS), *params)
            telling = self._db.execute(f"SELECT COUNT(*) FROM bericht WHERE {bereik}{waar}", alle)
            totaal = telling.fetchone()[0]
        eind = basis + (1 << _NR_BITS) if voor is None else basis + max(0, min(voor, 1 << _NR_BITS))
        rijen = self._db.execute(
            f"SELECT sleutel, inhoud FROM bericht WHERE {bereik}{waar} ORDER BY sleutel DESC LIMIT ?",
            (basis, eind, *params, limit + 1),
        ).fetchall()
        volgende = rijen[limit - 1][0] - basis if len(rijen) > limit else None
        return Gefilterd([bytes(r[1]) for r in rijen[:limit]], volgende, int(totaal))

    def zoek(self, bestemming: str, signaal_id: str) -> bytes | None:
        """The newest message of a destination about one signal, or None."""
        self._schrijf()
        b = self._bestemmingen.get(bestemming)
        if b is None:
            return None
        rij = self._db.execute(
            "SELECT inhoud FROM bericht WHERE signaal_id = ? AND sleutel >= ? AND sleutel < ? "
            "ORDER BY sleutel DESC LIMIT 1",
            (signaal_id, b << _NR_BITS, (b + 1) << _NR_BITS),
        ).fetchone()
        return None if rij is None else bytes(rij[0])

    def verwijder(self, bestemming: str, signaal_id: str) -> list[bytes]:
        """Delete every message of a destination about one signal (withdrawn); returns what was
        deleted, for the counts to be taken back. With `secure_delete` its bytes are overwritten in
        the file when the transaction is written out (`vastleggen`)."""
        self._schrijf()
        b = self._bestemmingen.get(bestemming)
        if b is None:
            return []
        bereik = (signaal_id, b << _NR_BITS, (b + 1) << _NR_BITS)
        waar = "WHERE signaal_id = ? AND sleutel >= ? AND sleutel < ?"
        rijen = self._db.execute(f"SELECT inhoud FROM bericht {waar} ORDER BY sleutel", bereik).fetchall()
        if rijen:
            self._db.execute(f"DELETE FROM bericht {waar}", bereik)
        return [bytes(r[0]) for r in rijen]

    # ---------------------------------------------------------------- handled signals

    def behandel(self, riec: str, signaal_id: str, casus_id: str, status: str) -> None:
        """Mark a signal of a RIEC's inbox handled for a casus (`gekoppeld` or `afgewezen`)."""
        self._db.execute(
            "INSERT OR REPLACE INTO behandeld VALUES (?, ?, ?, ?)", (riec, signaal_id, casus_id, status)
        )

    def behandeling(self, riec: str, signaal_ids: list[str]) -> dict[str, list[dict[str, str]]]:
        """Per signal of `signaal_ids` that was handled: for which casus, and how."""
        uit: dict[str, list[dict[str, str]]] = {}
        for i in range(0, len(signaal_ids), 500):
            deel = signaal_ids[i : i + 500]
            rijen = self._db.execute(
                "SELECT signaal_id, casus_id, status FROM behandeld WHERE riec = ? AND signaal_id IN "
                f"({','.join('?' * len(deel))}) ORDER BY signaal_id, casus_id",
                (riec, *deel),
            )
            for signaal_id, casus_id, status in rijen:
                uit.setdefault(signaal_id, []).append({"casus_id": casus_id, "status": status})
        return uit

    def aantal_behandeld(self, riec: str) -> int:
        """How many signals of a RIEC's inbox were handled (each once). Only signals the inbox holds:
        a mark comes from the casus log, which a withdrawal of the signal's route leaves as it is."""
        self._schrijf()
        b = self._bestemmingen.get(f"riec.{riec}")
        if b is None:
            return 0
        rij = self._db.execute(
            "SELECT COUNT(DISTINCT signaal_id) FROM behandeld h WHERE riec = ? AND EXISTS (SELECT 1 FROM "
            "bericht WHERE bericht.signaal_id = h.signaal_id AND sleutel >= ? AND sleutel < ?)",
            (riec, b << _NR_BITS, (b + 1) << _NR_BITS),
        )
        return int(rij.fetchone()[0])

    def alle_behandeld(self) -> list[list[str]]:
        """Every handled mark (riec, signaal_id, casus_id, status), sorted: the canonical form."""
        self._schrijf()
        return [list(r) for r in self._db.execute("SELECT * FROM behandeld ORDER BY 1, 2, 3")]

    def alle_berichten(self, bestemming: str) -> Iterator[bytes]:
        """Every message of a destination, oldest first, one at a time (for the canonical hash)."""
        self._schrijf()
        b = self._bestemmingen.get(bestemming)
        if b is None:
            return
        rijen = self._db.execute(
            "SELECT inhoud FROM bericht WHERE sleutel >= ? AND sleutel < ? ORDER BY sleutel",
            (b << _NR_BITS, (b + 1) << _NR_BITS),
        )
        for (inhoud,) in rijen:
            yield bytes(inhoud)

    # ---------------------------------------------------------------- themes of signals

    def zet_themas(self, signaal_id: str, themas: list[str]) -> None:
        self._themas.append((signaal_id, orjson.dumps(themas)))
        if len(self._themas) >= _RIJEN_PER_SCHRIJFBEURT:
            self._schrijf()

    def themas(self, signaal_id: str) -> list[str]:
        """The themes of a signal seen on the signal log; none for a signal not seen (yet)."""
        self._schrijf()
        rij = self._db.execute(
            "SELECT themas FROM signaal_themas WHERE signaal_id = ?", (signaal_id,)
        ).fetchone()
        return [] if rij is None else list(orjson.loads(rij[0]))

    # ---------------------------------------------------------------- lifetime

    def vastleggen(self) -> None:
        """After a batch: write what it added and end the write transaction, so that its pages
        may leave memory."""
        self._schrijf()
        self._db.commit()

    def sluit(self) -> None:
        """Close, and remove the file: the next start folds it again from offset 0."""
        self._db.close()
        if self.pad is not None:
            _verwijder(self.pad)


@dataclass(frozen=True, slots=True)
class Kenmerken:
    """What a routed message is filtered and looked up by, kept beside its bytes."""

    signaal_id: str = ""
    datum: str = ""
    """The day it was reported (`gemeld_op`, else `ontvangen_op`), YYYY-MM-DD, in the offset its
    sender wrote (no conversion, which fails at the limits of datetime)."""
    partnergroep: str = ""
    themas: tuple[str, ...] = ()
    regels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Filter:
    """An inbox filter; None or empty: no condition."""

    thema: str | None = None
    partnergroep: str | None = None
    regel: str | None = None
    van: str | None = None
    tot: str | None = None
    """Days (YYYY-MM-DD), both included."""
    behandeld: bool | None = None

    @property
    def leeg(self) -> bool:
        return self == Filter()


@dataclass(frozen=True, slots=True)
class Gefilterd:
    berichten: list[bytes]
    volgende: int | None
    totaal: int


def _lijst(waarden: tuple[str, ...]) -> str:
    """`|a|b|`: a value is found with instr() on `|a|`, which has no wildcards (LIKE has `_` and `%`)."""
    return f"|{'|'.join(waarden)}|" if waarden else ""


def _voorwaarden(f: Filter, bestemming: str) -> tuple[str, list[str]]:
    waar: list[str] = []
    params: list[str] = []
    if f.thema:
        waar.append("instr(themas, ?) > 0")
        params.append(f"|{f.thema}|")
    if f.regel:
        waar.append("instr(regels, ?) > 0")
        params.append(f"|{f.regel}|")
    if f.partnergroep:
        waar.append("partnergroep = ?")
        params.append(f.partnergroep)
    if f.van:
        waar.append("datum >= ?")
        params.append(f.van)
    if f.tot:
        waar.append("datum <= ?")
        params.append(f.tot)
    if f.behandeld is not None:
        riec = bestemming.removeprefix("riec.")
        niet = "" if f.behandeld else "NOT "
        waar.append(
            f"{niet}EXISTS (SELECT 1 FROM behandeld h WHERE h.riec = ? AND h.signaal_id = bericht.signaal_id)"
        )
        params.append(riec)
    return "".join(f" AND {w}" for w in waar), params


def _verwijder(pad: Path) -> None:
    for bestand in (pad, pad.with_name(pad.name + "-journal")):
        bestand.unlink(missing_ok=True)
