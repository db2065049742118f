"""All projections together, fed record by record from the logs; hashed canonically so that a
replay from offset 0 can be compared with the live state.

No record stops a projection: a record whose fold raises is skipped, and remembered with its
coordinates (`overgeslagen`, part of the hashed state), by `verwerk`, which the live worker and a
replay both call, so a replay skips exactly what the live worker skipped and still equals it. The
record stays at its offset in its log; once the fold is fixed, a restarted worker (or a replay)
folds it, as every projection is rebuilt from offset 0.
"""

from __future__ import annotations

import bisect
import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from engine.domain.vergeten.sleutels import Sleutelring
from engine.errors import foutsoort
from engine.events.casus import GEBEURTENIS_DECODER, KoppelingAfgewezen, KoppelingBevestigd
from engine.events.signaal_ontvangen import SIGNAAL_LOG_DECODER, SignaalOntvangen
from engine.events.vieroogen import VerzoekGoedgekeurd
from engine.projections.casussen import Casussen
from engine.projections.inbox import Inbox
from engine.projections.jaarverslag import Jaarverslagboek, jaar
from engine.projections.opslag import Opslag
from engine.projections.uitkomsten import Uitkomsten
from engine.projections.verzoekstatus import Verzoekstatus
from engine.topics import DLQ, GEBEURTENISSEN, SIGNAAL_LOG, SLEUTELS_CASUS, VERZOEKEN

MAX_OVERGESLAGEN = 100
"""Skipped records listed with their coordinates: the first by coordinates (all are counted)."""


@dataclass(frozen=True, slots=True, order=True)
class Overgeslagen:
    """A record a projection could not fold: where it is, and the exception's class."""

    topic: str
    partition: int
    offset: int
    error: str


def bron(topic: str) -> str:
    """The bounded metric label of a topic the projections read."""
    if topic == GEBEURTENISSEN:
        return "gebeurtenissen"
    if topic == DLQ:
        return "dlq"
    if topic == VERZOEKEN:
        return "verzoeken"
    if topic == SLEUTELS_CASUS:
        return "sleutels"
    return "signalen" if topic == SIGNAAL_LOG else "routes"


class ProjectieStaat:
    """Every projection, folded from the logs. What grows with every signal (the inboxes' messages,
    each signal's themes) is in `opslag`, a local store; None: a private temporary one.
    `hoofdsleutel` unwraps the casussen's data keys; without it their names read `[verzegeld]`."""

    def __init__(self, opslag: Opslag | None = None, hoofdsleutel: bytes | None = None) -> None:
        self.opslag = opslag if opslag is not None else Opslag()
        self.inbox = Inbox(self.opslag)
        self.boek = Jaarverslagboek(self.opslag)
        self.sleutels = Sleutelring(hoofdsleutel) if hoofdsleutel is not None else None
        self.casussen = Casussen(self.boek, self.sleutels)
        self.uitkomsten = Uitkomsten()
        self.verzoeken = Verzoekstatus()
        self._jaren: set[int] = set()
        self.overgeslagen: list[Overgeslagen] = []
        self.aantal_overgeslagen = 0
        self.herbouwen: list[str] = []
        """Approved requests to rebuild the read models (`projectie_herbouwen`) this fold met: the
        worker carries them out (`engine.kafka.projecties`). Not a read model: never hashed."""

    def verwerk(
        self,
        topic: str,
        partition: int,
        offset: int,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]] = (),
        key: bytes | None = None,
    ) -> Overgeslagen | None:
        """Apply one record, or skip it when its fold raises: returns what was skipped, if anything.

        Called for every record by the live projections and by a replay alike.
        """
        try:
            if topic == SLEUTELS_CASUS:
                self._sleutel(key, value)
            else:
                self.pas_toe(topic, value, headers)
        except sqlite3.Error:
            raise  # the store failed, not the record: skipping it would diverge from a replay
        except Exception as fout:  # a record the folds cannot take must not stop every read model
            overgeslagen = Overgeslagen(topic, partition, offset, foutsoort(fout))
            self.aantal_overgeslagen += 1
            # Kept sorted, the first by coordinates: the live worker and a replay read the partitions
            # in different interleavings, and must list (and hash) the same records.
            bisect.insort(self.overgeslagen, overgeslagen)
            del self.overgeslagen[MAX_OVERGESLAGEN:]
            return overgeslagen
        return None

    def _sleutel(self, key: bytes | None, value: bytes | None) -> None:
        """A casus's data key, or its tombstone (the casus forgotten: its name reads `[gewist]`)."""
        if self.sleutels is not None and key is not None:
            self.sleutels.herstel(key.decode(), value)

    def pas_toe(self, topic: str, value: bytes | None, headers: Sequence[tuple[str, bytes]] = ()) -> None:
        """Apply one record of a topic the projections read; raises when the record cannot be
        folded. Decodes and computes first, so that a bad record changes nothing."""
        if topic == DLQ:
            self.uitkomsten.dlq(headers)  # only its headers: the value may hold raw identifiers
            return
        if value is None:
            return
        if topic == GEBEURTENISSEN:
            g = GEBEURTENIS_DECODER.decode(value)
            j = jaar(g.tijd)
            self.boek.pas_toe(g)
            self.casussen.pas_toe(g)
            self.uitkomsten.gebeurtenis(g)
            match g:
                case KoppelingBevestigd():
                    self.inbox.behandel(g.riec, g.signaal_id, g.casus_id, "gekoppeld")
                case KoppelingAfgewezen():
                    self.inbox.behandel(g.riec, g.signaal_id, g.casus_id, "afgewezen")
            self._jaren.add(j)
        elif topic == SIGNAAL_LOG:
            record = SIGNAAL_LOG_DECODER.decode(value)
            if isinstance(record, SignaalOntvangen):
                self.boek.signaal(record.signaal_id, record.themas)
        elif topic == VERZOEKEN:
            g = self.verzoeken.pas_toe(value)
            if isinstance(g, VerzoekGoedgekeurd) and g.handeling == "projectie_herbouwen":
                self.herbouwen.append(g.verzoek_id)
        elif topic.startswith("routes."):
            # A routed message or its withdrawal (ce_type): the topic names the destination.
            self.inbox.pas_toe(topic.removeprefix("routes."), value, headers)

    def canoniek(self) -> dict[str, Any]:
        """Every projection as plain data (the inbox's every message decoded: for tests)."""
        return {"inbox": self.inbox.canoniek(), **self._zonder_inbox()}

    def _zonder_inbox(self) -> dict[str, Any]:
        return {
            "casussen": self.casussen.canoniek(),
            "jaarverslag": {str(j): self.boek.tabellen(j) for j in sorted(self._jaren)},
            "overgeslagen": self.overgeslagen_json(),
            "behandeld": self.opslag.alle_behandeld(),
            "verzoeken": self.verzoeken.canoniek(),
        }

    def overgeslagen_json(self) -> dict[str, Any]:
        """The skipped records for ops (`/api/v1/ops/projecties`): how many, and the first ones."""
        return {"aantal": self.aantal_overgeslagen, "records": [asdict(o) for o in self.overgeslagen]}

    def hashes(self) -> dict[str, str]:
        """SHA-256 of each projection's canonical JSON (sorted keys); the inbox's one message at a
        time, never all of them decoded at once."""
        return {
            "inbox": self.inbox.canonieke_hash(),
            **{
                naam: hashlib.sha256(orjson.dumps(waarde, option=orjson.OPT_SORT_KEYS)).hexdigest()
                for naam, waarde in self._zonder_inbox().items()
            },
        }

    def vastleggen(self) -> None:
        """After a batch of records: lets the store write out what the batch added."""
        self.opslag.vastleggen()

    def sluit(self) -> None:
        """When the worker stops: closes (and removes) the store."""
        self.opslag.sluit()
