"""The projections' local store: what grows with every signal but is read only on demand (the routed
messages of the inboxes, each signal's themes) lives in a SQLite file instead of the worker's memory.

It is a cache of the logs, never a source: a worker starts it empty and fills it by the same fold
from offset 0 that rebuilds every projection, so the projections still equal a replay. Hence no
durability: no fsync, no rollback journal on disk, and the file is removed when the worker stops
(or, after a crash, when it starts again). One connection, used only from the worker's event loop;
what it writes is visible to its own reads at once, `vastleggen` (after each batch) only lets
SQLite write its pages out, so that memory stays bounded by its page cache.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
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
    inhoud BLOB NOT NULL
);
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
        for pragma in ("journal_mode = MEMORY", "synchronous = OFF", f"cache_size = -{PAGINA_CACHE_KIB}"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(_SCHEMA)
        self._bestemmingen: dict[str, int] = {}
        """Each destination's number, in the order of their first message."""
        self._berichten: list[tuple[int, bytes]] = []
        self._themas: list[tuple[str, bytes]] = []
        """Rows not written yet: written in one statement per batch (`executemany` takes about a
        third of the time of a statement per row), and before any read."""

    def _schrijf(self) -> None:
        if self._berichten:
            self._db.executemany("INSERT INTO bericht VALUES (?, ?)", self._berichten)
            self._berichten.clear()
        if self._themas:
            self._db.executemany("INSERT OR REPLACE INTO signaal_themas VALUES (?, ?)", self._themas)
            self._themas.clear()

    # ---------------------------------------------------------------- inbox

    def voeg_toe(self, bestemming: str, nr: int, inhoud: bytes) -> None:
        """Keep message `nr` (0, 1, 2, … in the order the destination's log holds them)."""
        b = self._bestemmingen.setdefault(bestemming, len(self._bestemmingen))
        self._berichten.append(((b << _NR_BITS) + nr, inhoud))
        if len(self._berichten) >= _RIJEN_PER_SCHRIJFBEURT:
            self._schrijf()

    def berichten(self, bestemming: str, begin: int, eind: int) -> list[bytes]:
        """Messages `begin` up to (not including) `eind`, newest first."""
        self._schrijf()
        b = self._bestemmingen.get(bestemming)
        if b is None:
            return []
        rijen = self._db.execute(
            "SELECT inhoud FROM bericht WHERE sleutel >= ? AND sleutel < ? ORDER BY sleutel DESC",
            ((b << _NR_BITS) + begin, (b << _NR_BITS) + max(begin, eind)),
        )
        return [bytes(r[0]) for r in rijen]

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


def _verwijder(pad: Path) -> None:
    for bestand in (pad, pad.with_name(pad.name + "-journal")):
        bestand.unlink(missing_ok=True)
