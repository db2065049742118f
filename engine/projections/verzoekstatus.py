"""The four-eyes requests as ops and the LIEC see them: a fold of `engine.verzoeken`.

Never the request's `onderwerp` (for an erasure a person's pseudonym, or a KvK, kenteken or
address): only whether it has one. The approver learns what is to be erased from the requester,
not from the API; the executor reads it from the log. The exception is a request to adopt a rule
version: its subject, the version's id, names no one and is what the approver approves, so it is
shown (`regelversie`) with the dry run's summary (`proef`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from engine.domain.vergeten.vieroogen import ONVERZEGELD
from engine.events.vieroogen import (
    VERZOEK_DECODER,
    OpdrachtGeweigerd,
    VerzoekAfgewezen,
    Verzoekgebeurtenis,
    VerzoekGoedgekeurd,
    VerzoekIngediend,
    VerzoekVerlopen,
)

MAX_WEIGERINGEN = 20
"""Refused commands kept per request (the first ones; all are on the log)."""


class Verzoekstatus:
    """Per request id: its act, status, requester, reviewer, times, and its refused commands."""

    def __init__(self) -> None:
        self._verzoeken: dict[str, dict[str, Any]] = {}

    def pas_toe(self, value: bytes) -> Verzoekgebeurtenis:
        """One record of engine.verzoeken, returned decoded; raises when it cannot be decoded (then
        nothing changed)."""
        g: Verzoekgebeurtenis = VERZOEK_DECODER.decode(value)
        v = self._verzoeken.setdefault(g.verzoek_id, {"verzoek_id": g.verzoek_id, "status": "onbekend"})
        match g:
            case VerzoekIngediend():
                v |= {
                    "handeling": g.handeling, "status": "open", "aanvrager": g.door, "reden": g.reden,
                    "heeft_onderwerp": bool(g.onderwerp), "ingediend_op": g.op, "verloopt_op": g.verloopt_op,
                }  # fmt: skip
                if g.handeling in ONVERZEGELD:
                    v["regelversie"] = g.onderwerp
                if g.proef is not None:
                    v["proef"] = msgspec.to_builtins(g.proef)
            case VerzoekGoedgekeurd():
                v |= {"status": "goedgekeurd", "beoordelaar": g.door, "beoordeeld_op": g.op}
            case VerzoekAfgewezen():
                v |= {"status": "afgewezen", "beoordelaar": g.door, "beoordeeld_op": g.op}
                v["afwijzing"] = g.reden
            case VerzoekVerlopen():
                v |= {"status": "verlopen", "verlopen_op": g.op}
            case OpdrachtGeweigerd():
                weigeringen = v.setdefault("weigeringen", [])
                if len(weigeringen) < MAX_WEIGERINGEN:
                    weigeringen.append(
                        {"opdracht": g.opdracht, "door": g.door, "op": g.op, "code": g.code, "reden": g.reden}
                    )
        return g

    def van(self, verzoek_id: str) -> dict[str, Any] | None:
        """A request (or the refusals of commands on an id never filed), or None."""
        v = self._verzoeken.get(verzoek_id)
        return None if v is None else _kopie(v)

    def lijst(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every request, newest first (refusals on an unknown id last), optionally of one status."""
        items = [_kopie(v) for v in self._verzoeken.values() if status is None or v["status"] == status]
        return sorted(items, key=lambda v: (str(v.get("ingediend_op", "")), v["verzoek_id"]), reverse=True)

    def canoniek(self) -> dict[str, Any]:
        """As plain data, for the replay's hash (orjson writes the datetimes as RFC 3339)."""
        return {k: _kopie(v) for k, v in sorted(self._verzoeken.items())}


def _kopie(v: dict[str, Any]) -> dict[str, Any]:
    return {**v, "weigeringen": [dict(w) for w in v.get("weigeringen", ())]}
