"""The adoption of a rule version (`engine.regelversies`): what makes a shipped version of the
reference data route. Written by the executor of four-eyes acts when a `regelversie_aannemen`
request is approved; every routing worker holds them all (`engine.kafka.tables`)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class RegelversieAangenomen(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    tag="nl.riec.engine.regelversie_aangenomen.v1",
    tag_field="type",
):
    """Rule version `regelversie` routes from now on, for the signals observed on or after its
    `geldig_vanaf` (until a later adopted version's). Keyed by the version's id on a compacted
    topic: adopting it again changes nothing where signals go."""

    regelversie: str
    verzoek_id: str
    """The approved request: its requester, reason and dry run are on `engine.verzoeken`."""
    door: str
    """The principal that approved it (the second pair of eyes)."""
    op: datetime
    """When the approval took effect (the executor's clock)."""


REGELVERSIE_ENCODER = msgspec.json.Encoder()
REGELVERSIE_DECODER = msgspec.json.Decoder(RegelversieAangenomen)
