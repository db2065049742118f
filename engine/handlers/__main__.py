"""`python -m engine.handlers`: the stages' wiring as their topologies say it (the README prints it)."""

from __future__ import annotations

from engine.handlers import besluiten, vastleggen

PARTITIES = 8
"""ENGINE_PARTITIONS's default (`Settings.partitions`): a closed casus's copies."""


def regels(partities: int = PARTITIES) -> list[str]:
    """The topology of every stage that yields domain messages, in lines."""
    return [*vastleggen.TOPOLOGY.describe(), *besluiten.topology(partities).describe()]


if __name__ == "__main__":
    print("\n".join(regels()))
