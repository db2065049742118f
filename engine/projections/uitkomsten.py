"""What became of each RIEC command: applied (its events are in the casus log), or refused with its
reason (its record in dlq.ingress, by ingress or by the aggregate's writer). The dashboard shows it
after it wrote a command; a fold over the casus log and the DLQ's headers (never the DLQ's values,
which may hold raw identifiers)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from engine.domain import meldingen
from engine.events.casus import Gebeurtenis, KoppelingBevestigd, KoppelingGeweigerd, KoppelingVerlopen

OPDRACHT_TOPIC = re.compile(r"^riec\.([a-z-]+)\.opdrachten$")

_KOPPELING = {KoppelingBevestigd: "bevestigd", KoppelingGeweigerd: "geweigerd", KoppelingVerlopen: "verlopen"}


class Uitkomsten:
    """Per command (`<riec>:<ce_id>`): `toegepast` with the events it became, or `geweigerd` with the
    refusal's code and reason; and the outcome of each link it asked for."""

    def __init__(self) -> None:
        self._uitkomst: dict[str, dict[str, Any]] = {}

    def gebeurtenis(self, g: Gebeurtenis) -> None:
        """An event of the casus log: its command was applied (or a link it asked for decided)."""
        u = self._uitkomst.setdefault(g.opdracht_id, {"status": "toegepast", "gebeurtenissen": []})
        koppeling = _KOPPELING.get(type(g))
        if koppeling is not None:
            signaal_id: str = g.signaal_id  # type: ignore[union-attr]
            u.setdefault("koppelingen", {})[signaal_id] = koppeling
            return
        u["status"] = "toegepast"
        u.setdefault("gebeurtenissen", []).append(g.__struct_config__.tag)

    def dlq(self, headers: Sequence[tuple[str, bytes]]) -> None:
        """A record of dlq.ingress: a refused RIEC command is recorded, anything else ignored."""
        h = {k: v.decode("utf-8", "replace") for k, v in headers}
        match = OPDRACHT_TOPIC.match(h.get("source_topic", ""))
        if match is None or "ce_id" not in h or h.get("value_form") == "besluit":
            return  # a partner's signal, or a link refused after its command was applied (in the log)
        code = h.get("reason_code", "")
        self._uitkomst[f"{match.group(1)}:{h['ce_id']}"] = {
            "status": "geweigerd",
            "code": code,
            "reden": h.get("reason", ""),
            "melding": meldingen.bij_code(code),
        }

    def van(self, opdracht_id: str) -> dict[str, Any] | None:
        """The outcome of a command, or None while the engine has not decided it (or never saw it)."""
        return self._uitkomst.get(opdracht_id)
