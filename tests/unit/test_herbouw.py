"""Given the four-eyes log folded into the read models, when a rebuild of the read models is
approved, then the fold reports it for the worker to carry out; an approval of another act, or a
rebuild only filed, does not; and what it reports is no read model (a replay hashes the same)."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.events.vieroogen import VERZOEK_ENCODER, Handeling, VerzoekGoedgekeurd, VerzoekIngediend
from engine.projections.staat import ProjectieStaat
from engine.topics import VERZOEKEN

NU = datetime(2026, 12, 1, tzinfo=UTC)


def verzoek(verzoek_id: str, handeling: Handeling, goedgekeurd: bool) -> list[bytes]:
    ingediend = VerzoekIngediend(
        verzoek_id=verzoek_id, door="ops:anna", op=NU, handeling=handeling, onderwerp="alle",
        reden="r", verloopt_op=NU,
    )  # fmt: skip
    uit = [VERZOEK_ENCODER.encode(ingediend)]
    if goedgekeurd:
        g = VerzoekGoedgekeurd(
            verzoek_id=verzoek_id, door="ops:bert", op=NU, handeling=handeling, onderwerp="alle"
        )
        uit.append(VERZOEK_ENCODER.encode(g))
    return uit


def test_an_approved_rebuild_is_reported_to_the_worker_and_changes_no_read_model() -> None:
    s, zonder = ProjectieStaat(), ProjectieStaat()
    for value in [
        *verzoek("h-1", "projectie_herbouwen", goedgekeurd=False),
        *verzoek("w-1", "wissen", goedgekeurd=True),
    ]:
        s.pas_toe(VERZOEKEN, value)
        zonder.pas_toe(VERZOEKEN, value)
    assert s.herbouwen == []

    for value in verzoek("h-2", "projectie_herbouwen", goedgekeurd=True):
        s.pas_toe(VERZOEKEN, value)
        zonder.pas_toe(VERZOEKEN, value)
    zonder.herbouwen.clear()  # as the worker does once it rebuilt

    assert s.herbouwen == ["h-2"]
    assert s.hashes() == zonder.hashes()
