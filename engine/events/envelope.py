"""The CloudEvents 1.0 envelope in Kafka binary mode: attributes travel as `ce_*` headers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

CeId = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
"""Unique per source; printable ASCII without spaces, so that `<org>:<ce_id>` is a safe id."""

CeSource = Annotated[str, Meta(pattern=r"^urn:nl:riec:((partner|riec):[a-z0-9-]+|engine)$", max_length=100)]


class CloudEventHeaders(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename={
        "specversion": "ce_specversion",
        "id": "ce_id",
        "source": "ce_source",
        "type": "ce_type",
        "time": "ce_time",
        "datacontenttype": "content-type",
    },
):
    """The Kafka headers of every message on `partner.*` and `riec.*` topics."""

    specversion: Literal["1.0"]
    id: CeId
    source: CeSource
    type: Annotated[str, Meta(min_length=1, max_length=200)]
    time: Annotated[
        datetime,
        Meta(
            tz=True,
            description="RFC 3339 with offset; from 2000-01-01T00:00Z to one day after the engine's clock",
        ),
    ]
    datacontenttype: Literal["application/json"]


def partner_source(org: str) -> str:
    """The `ce_source` a partner organisation must use."""
    return f"urn:nl:riec:partner:{org}"


def riec_source(riec: str) -> str:
    """The `ce_source` a RIEC office must use."""
    return f"urn:nl:riec:riec:{riec}"
