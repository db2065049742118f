"""The contract documents, generated from the Structs: JSON Schemas and an AsyncAPI 3 document.

    python -m engine.ops.schema           write docs/contract/
    python -m engine.ops.schema --check   exit 1 when the committed files are stale

Nothing here is written by hand twice: payloads and headers come from msgspec's schema export.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import orjson

from engine.domain.reference import LFTS, NATIONALE_PARTNERS, RIECS
from engine.events.envelope import CloudEventHeaders
from engine.events.headers import DlqHerkomst, QuarantaineHerkomst
from engine.events.opdrachten import OPDRACHT_TYPES
from engine.events.route import ROUTE_INGETROKKEN_TYPE, ROUTE_TYPE, GerouteerdSignaal, RouteIngetrokken
from engine.events.signaal import SIGNAAL_TYPE, Signaal
from engine.events.signaal_ontvangen import SIGNAAL_ONTVANGEN_TYPE, SignaalOntvangen

OUT = Path(__file__).resolve().parents[2] / "docs" / "contract"
_REF = "#/components/schemas/{name}"

SCHEMAS: dict[str, type[msgspec.Struct]] = {
    SIGNAAL_TYPE: Signaal,
    **OPDRACHT_TYPES,
    ROUTE_TYPE: GerouteerdSignaal,
    ROUTE_INGETROKKEN_TYPE: RouteIngetrokken,
    SIGNAAL_ONTVANGEN_TYPE: SignaalOntvangen,
    "cloudevents-headers": CloudEventHeaders,
    "dlq-headers": DlqHerkomst,
    "dlq-engine-headers": QuarantaineHerkomst,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """One standalone JSON Schema (2020-12) per contract type."""
    return {
        name: {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": name,
            **msgspec.json.schema(t),
        }
        for name, t in SCHEMAS.items()
    }


def asyncapi_schema(node: Any) -> Any:
    """A schema in AsyncAPI's own schema format (JSON Schema draft-07 plus a few keywords): msgspec
    writes an OpenAPI-style `discriminator` object for a tagged union, where AsyncAPI's Schema
    Object wants the property's name as a string; its mapping stays as the extension
    `x-discriminator-mapping`, so that no information is lost. The official parser refused the
    object form (`discriminator` must be string) at every message that holds a union."""
    if isinstance(node, list):
        return [asyncapi_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    uit = {k: asyncapi_schema(v) for k, v in node.items()}
    discriminator = node.get("discriminator")
    if isinstance(discriminator, dict) and "propertyName" in discriminator:
        uit["discriminator"] = discriminator["propertyName"]
        if "mapping" in discriminator:
            uit["x-discriminator-mapping"] = discriminator["mapping"]
    return uit


def _message(name: str, title: str, payload: str, headers: str, summary: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "summary": summary,
        "contentType": "application/json",
        "headers": {"$ref": f"#/components/schemas/{headers}"},
        "payload": {"$ref": f"#/components/schemas/{payload}"},
    }


_OPDRACHT_SUMMARY = (
    "RIEC command {ce_type}. An optional header riec_auteur (1 to 100 printable ASCII characters) names "
    "who gave it; the engine records it on the events the command becomes (the dashboard writes the "
    "principal of the analyst's token, riec:<riec>)."
)

_ROUTE_CHANNELS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "routesRiec": (
        "routes.riec.{riec}",
        "Signals routed to a RIEC, with reasons.",
        {"riec": {"enum": list(RIECS)}},
    ),
    "routesLft": (
        "routes.lft.{lft}",
        "Signals routed to a Landelijke Fenomeentafel.",
        {"lft": {"enum": list(LFTS)}},
    ),
    "routesLiecLoket": ("routes.liec.loket", "Bestuurlijke signalen for the LIEC loket.", None),
    "routesLiecTriage": ("routes.liec.triage", "Signals no rule could route, for LIEC triage.", None),
    "routesEuriec": ("routes.euriec", "Signals about a location abroad, for EURIEC.", None),
}
"""The route topics (contract: `routes.<bestemming>`): address, description, parameters."""


_ROUTE_COMPACTED = (
    " Keyed by signal id and compacted (kept 365 days): a withdrawal (RouteIngetrokken) replaces the "
    "routed message of its signal."
)


def _opdracht_messages() -> dict[str, dict[str, Any]]:
    return {
        t.__name__: _message(
            t.__name__, ce_type, t.__name__, "CloudEventHeaders", _OPDRACHT_SUMMARY.format(ce_type=ce_type)
        )
        for ce_type, t in OPDRACHT_TYPES.items()
    }


def _channels(opdrachten: list[str]) -> dict[str, Any]:
    orgs = ", ".join(NATIONALE_PARTNERS)
    channels: dict[str, Any] = {
        "partnerSignalen": {
            "address": "partner.{org}.signalen",
            "description": "Written by partner organisation {org} only. Holds raw BSNs: access-restricted.",
            "parameters": {
                "org": {
                    "description": "A gemeente's CBS code in lower case (gm0363): a gemeente of the "
                    "CBS reference data or one the operators admitted (ENGINE_EXTRA_GEMEENTEN); one of the "
                    f"12 provincies (pv20 to pv31); or one of {orgs}."
                }
            },
            "messages": {"signaal": {"$ref": "#/components/messages/Signaal"}},
        },
        "riecOpdrachten": {
            "address": "riec.{riec}.opdrachten",
            "description": "Written by RIEC office {riec} only: commands about its own casussen, "
            "handhavingsknelpunten and ondermijningsbeelden; ce_type names the command. May hold raw "
            "BSNs (subjecten): access-restricted.",
            "parameters": {"riec": {"enum": list(RIECS)}},
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in opdrachten},
        },
        "dlqIngress": {
            "address": "dlq.ingress",
            "description": "Every refused message: original key, headers and bytes, plus the DLQ headers. "
            "Holds raw BSNs: access-restricted.",
            "messages": {"geweigerd": {"$ref": "#/components/messages/Geweigerd"}},
        },
        "dlqEngine": {
            "address": "dlq.engine",
            "description": "For operators: records a stage could not handle (quarantined), with their "
            "original key, headers and bytes plus the quarantine headers; re-driven by "
            "`python -m engine.tools herverwerk`. May hold raw BSNs: access-restricted.",
            "messages": {"gequarantaineerd": {"$ref": "#/components/messages/Gequarantaineerd"}},
        },
    }
    for channel, (address, description, parameters) in _ROUTE_CHANNELS.items():
        channels[channel] = {"address": address, "description": description + _ROUTE_COMPACTED}
        if parameters is not None:
            channels[channel]["parameters"] = parameters
        channels[channel]["messages"] = {
            "gerouteerd": {"$ref": "#/components/messages/GerouteerdSignaal"},
            "ingetrokken": {"$ref": "#/components/messages/RouteIngetrokken"},
        }
    return channels


def _operation(action: str, channel: str, *messages: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in messages],
    }


def _operations(opdrachten: list[str]) -> dict[str, Any]:
    operations = {
        "publiceerSignaal": _operation("send", "partnerSignalen", "signaal"),
        "geefOpdracht": _operation("send", "riecOpdrachten", *opdrachten),
        "leesGeweigerd": _operation("receive", "dlqIngress", "geweigerd"),
        "leesGequarantaineerd": _operation("receive", "dlqEngine", "gequarantaineerd"),
    }
    for channel in _ROUTE_CHANNELS:
        operations[f"ontvang{channel[0].upper()}{channel[1:]}"] = _operation(
            "receive", channel, "gerouteerd", "ingetrokken"
        )
    return operations


def _messages() -> dict[str, Any]:
    return {
        **_opdracht_messages(),
        "Signaal": _message("Signaal", SIGNAAL_TYPE, "Signaal", "CloudEventHeaders", "A partner's signal."),
        "GerouteerdSignaal": _message(
            "GerouteerdSignaal",
            ROUTE_TYPE,
            "GerouteerdSignaal",
            "CloudEventHeaders",
            "A signal routed to one destination, with every reason; pseudonymised.",
        ),
        "RouteIngetrokken": _message(
            "RouteIngetrokken",
            ROUTE_INGETROKKEN_TYPE,
            "RouteIngetrokken",
            "CloudEventHeaders",
            "A routed signal withdrawn (reden gewist: erased on request; verlopen: its retention ended). "
            "Keyed by the signal id, like the routed message; the topic is compacted by key, so a "
            "consumer that starts late sees only the withdrawal. On receipt, delete your copy of the "
            "signal with this signaal_id, wherever you stored it. Ids and codes only.",
        ),
        "Geweigerd": {
            "name": "Geweigerd",
            "title": "Refused message",
            "summary": "The original message's bytes and headers, plus DlqHerkomst headers.",
            "headers": {"$ref": "#/components/schemas/DlqHerkomst"},
        },
        "Gequarantaineerd": {
            "name": "Gequarantaineerd",
            "title": "Quarantined record",
            "summary": "The record's own bytes and headers, plus QuarantaineHerkomst headers.",
            "headers": {"$ref": "#/components/schemas/QuarantaineHerkomst"},
        },
    }


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.1 document of the public contract (topics, messages, headers)."""
    _, components = msgspec.json.schema_components(
        [
            Signaal,
            GerouteerdSignaal,
            RouteIngetrokken,
            CloudEventHeaders,
            DlqHerkomst,
            QuarantaineHerkomst,
            *OPDRACHT_TYPES.values(),
        ],
        ref_template=_REF,
    )
    opdrachten = [t.__name__ for t in OPDRACHT_TYPES.values()]
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": "riec-engine public contract",
            "version": "1.0.0",
            "description": "Partner signals in, routed signals out. Envelope: CloudEvents 1.0 in Kafka "
            "binary mode (ce_* headers, JSON value). Fields beyond contract v1 are additions only.",
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "localhost:9092", "protocol": "kafka"}},
        "channels": _channels(opdrachten),
        "operations": _operations(opdrachten),
        "components": {"schemas": asyncapi_schema(components), "messages": _messages()},
    }


def documents() -> dict[str, bytes]:
    """Every generated file, by its path under docs/contract/."""
    opts = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
    files = {
        f"schemas/{name}.json": orjson.dumps(s, option=opts) + b"\n" for name, s in json_schemas().items()
    }
    files["asyncapi.json"] = orjson.dumps(asyncapi(), option=opts) + b"\n"
    return files


def main(argv: list[str]) -> int:
    stale = []
    for relative, content in documents().items():
        path = OUT / relative
        if "--check" in argv:
            if not path.exists() or path.read_bytes() != content:
                stale.append(relative)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    if stale:
        print(f"stale contract documents: {stale}; run: python -m engine.ops.schema", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
