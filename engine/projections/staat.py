"""All projections together, fed record by record from the logs; hashed canonically so that a
replay from offset 0 can be compared with the live state."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from engine.events.casus import GEBEURTENIS_DECODER
from engine.events.signaal_ontvangen import SIGNAAL_LOG_DECODER, SignaalOntvangen
from engine.jaarverslag import Jaarverslagboek, jaar
from engine.projections.casussen import Casussen
from engine.projections.inbox import Inbox
from engine.topics import GEBEURTENISSEN, SIGNAAL_LOG


class ProjectieStaat:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.boek = Jaarverslagboek()
        self.casussen = Casussen(self.boek)
        self._jaren: set[int] = set()

    def pas_toe(self, topic: str, value: bytes | None) -> None:
        """Apply one record of a topic the projections read."""
        if value is None:
            return
        if topic == GEBEURTENISSEN:
            g = GEBEURTENIS_DECODER.decode(value)
            self.boek.pas_toe(g)
            self.casussen.pas_toe(g)
            self._jaren.add(jaar(g.tijd))
        elif topic == SIGNAAL_LOG:
            record = SIGNAAL_LOG_DECODER.decode(value)
            if isinstance(record, SignaalOntvangen):
                self.boek.signaal(record.signaal_id, record.themas)
        elif topic.startswith("routes."):
            self.inbox.pas_toe(topic.removeprefix("routes."), value)

    def canoniek(self) -> dict[str, Any]:
        return {
            "inbox": self.inbox.canoniek(),
            "casussen": self.casussen.canoniek(),
            "jaarverslag": {str(j): self.boek.tabellen(j) for j in sorted(self._jaren)},
        }

    def hashes(self) -> dict[str, str]:
        """SHA-256 of each projection's canonical JSON (sorted keys)."""
        return {
            naam: hashlib.sha256(orjson.dumps(waarde, option=orjson.OPT_SORT_KEYS)).hexdigest()
            for naam, waarde in self.canoniek().items()
        }
