"""What the executor of forgetting records on `engine.vergeten` (ids, rules and times only, never
the subject that was erased), and the retention rules by name."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

Regel = Literal["signaal_zonder_casus", "signaal_in_casus", "casus", "audit", "dlq", "doorgang"]
"""The retention rules (`engine.domain.vergeten.bewaring` has their periods)."""


class OnderwerpGewist(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.onderwerp_gewist.v1", tag_field="type"
):
    """An approved erasure took effect: the signals and the casussen, HKPs and beelden naming the
    subject it reached (ids only, never the subject)."""

    verzoek_id: str
    signalen: list[str]
    op: datetime
    aggregaten: list[str] = []


class GegevensVerlopen(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.gegevens_verlopen.v1", tag_field="type"
):
    """Signals (or, under the `casus` rule, casussen) whose retention period ran out under `regel`
    were forgotten."""

    regel: Regel
    signalen: list[str]
    op: datetime
    aggregaten: list[str] = []


class SleutelVernietigd(
    msgspec.Struct, frozen=True, kw_only=True, tag="nl.riec.engine.sleutel_vernietigd.v1", tag_field="type"
):
    """An approved request destroyed one data key (`signaal:<id>`): that signal is forgotten."""

    verzoek_id: str
    sleutel_id: str
    gevonden: bool
    """False when no readable signal had that key (already forgotten, or never there)."""
    op: datetime


class BewaartermijnGewijzigd(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    tag="nl.riec.engine.bewaartermijn_gewijzigd.v1",
    tag_field="type",
):
    """An approved request changed a retention period; the executor folds these at start."""

    verzoek_id: str
    regel: Regel
    dagen: float
    op: datetime


Vergeten = OnderwerpGewist | GegevensVerlopen | SleutelVernietigd | BewaartermijnGewijzigd
VERGETEN_ENCODER = msgspec.json.Encoder()
VERGETEN_DECODER = msgspec.json.Decoder(Vergeten)
