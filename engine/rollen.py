"""What a worker does (`python -m engine worker --rol …`, or ENGINE_ROL), and when it is ready.

- `routering`: the stages (front doors → vastleggen → zoekindex → routes; commands → besluiten),
  /health and /metrics. Workers of this role share the stages' consumer groups, so Kafka spreads
  the partitions over them.
- `projecties`: the read models folded from the logs, the dashboard API, /health and /metrics. Each
  replica folds everything by itself (no consumer group), so any replica answers any request.
- `alles`: both in one process (`make run`, the default).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Rol(StrEnum):
    ROUTERING = "routering"
    PROJECTIES = "projecties"
    ALLES = "alles"

    @property
    def routeert(self) -> bool:
        """Whether the worker runs the stages."""
        return self is not Rol.PROJECTIES

    @property
    def projecteert(self) -> bool:
        """Whether the worker folds the read models and serves the API and the dashboard."""
        return self is not Rol.ROUTERING


@dataclass(frozen=True, slots=True)
class Gezondheid:
    """What /health reports: the worker's role and whether each of the role's parts is ready."""

    rol: Rol
    gestart: bool
    """The topics are declared and the role's services started."""
    stages: dict[str, bool]
    """Each stage of the role by name: running (started, not crashed)."""
    projecties: bool | None
    """The read models have caught up with the logs as they were at start (and their fold has not
    crashed); None for a role without them."""

    @property
    def klaar(self) -> bool:
        """Ready for traffic (200): every part of the role is. A projection replica that is still
        folding the logs would answer with read models that miss what was there already."""
        return self.gestart and all(self.stages.values()) and self.projecties is not False

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "ok" if self.klaar else "starting", "rol": self.rol.value}
        body["stages"] = list(self.stages)
        if self.projecties is not None:
            body["projecties"] = "bijgewerkt" if self.projecties else "bezig"
        return body
