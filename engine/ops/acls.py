"""Who may do what on the broker: the ACLs that make contract.md's topic table true.

One principal per partner organisation, per RIEC, per Landelijke Fenomeentafel, for the LIEC, for
ops and for the engine itself. This module is the one place they are written, as data: the
onboarding command (`engine.tools toegang`), the pipeline tests that prove the broker enforces
them, and the deployment manifests are all made from `acls()`. No Kafka import: the edge turns
these rules into broker calls.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from engine.domain.reference import LFTS, RIECS, gebiedsindeling, onbekende_partner

Resource = Literal["TOPIC", "GROUP", "TRANSACTIONAL_ID", "CLUSTER"]
Patroon = Literal["LITERAL", "PREFIXED"]
Operatie = Literal[
    "READ", "WRITE", "DESCRIBE", "CREATE", "DESCRIBE_CONFIGS", "IDEMPOTENT_WRITE", "ALTER_CONFIGS"
]

ENGINE = "engine"
"""The engine's own principal: the only one that creates topics and writes engine.*, routes.*, dlq.*."""

_PRINCIPAL = re.compile(r"^(partner|riec|lft):([a-z0-9-]+)$|^(liec|ops|engine)$")


@dataclass(frozen=True, slots=True)
class Acl:
    """Allow `operaties` on a resource: one name (LITERAL) or every name starting with it (PREFIXED)."""

    resource: Resource
    naam: str
    patroon: Patroon
    operaties: tuple[Operatie, ...]

    def staat_toe(self, resource: Resource, naam: str, operatie: Operatie) -> bool:
        """Whether this rule allows `operatie` on `naam`, as the broker's authorizer decides it."""
        if resource != self.resource or operatie not in self.operaties:
            return False
        if self.patroon == "PREFIXED":
            return naam.startswith(self.naam)
        return self.naam in (naam, "*")


@dataclass(frozen=True, slots=True)
class KafkaPrincipal:
    """A client of the broker, named as the API names its principals: `partner:gm0363`,
    `riec:rotterdam`, `lft:omg`, `liec`, `ops` or `engine`."""

    naam: str

    @property
    def gebruikersnaam(self) -> str:
        """The SCRAM user name: the principal with `.` for `:`, valid as a Kubernetes name too
        (Strimzi's KafkaUser is named after its user)."""
        return self.naam.replace(":", ".")

    @property
    def soort(self) -> str:
        return self.naam.split(":", 1)[0]

    @property
    def wie(self) -> str:
        """The org, RIEC or LFT a principal stands for (empty for liec, ops and engine)."""
        return self.naam.split(":", 1)[1] if ":" in self.naam else ""


def principal(naam: str, extra_gemeenten: Collection[str] = ()) -> KafkaPrincipal:
    """The principal called `naam`, or ValueError saying which names exist. A partner must be a
    convenantpartner of the reference data, or a gemeente the operators admit (`extra_gemeenten`,
    as ENGINE_EXTRA_GEMEENTEN)."""
    match = _PRINCIPAL.match(naam)
    if match is not None and match.group(1) == "partner":
        reden = onbekende_partner(match.group(2), gebiedsindeling().gemeenten, extra_gemeenten)
        if reden is not None:
            raise ValueError(f"unknown principal {naam!r}: {reden}")
    bekend = match is not None and (
        match.group(1) == "partner"
        or (match.group(1) == "riec" and match.group(2) in RIECS)
        or (match.group(1) == "lft" and match.group(2) in LFTS)
        or match.group(3) is not None
    )
    if not bekend:
        raise ValueError(
            f"unknown principal {naam!r}: expected partner:<org>, riec:<riec>, lft:<lft>, liec, ops or engine"
        )
    return KafkaPrincipal(naam)


def _lees(topic: str, patroon: Patroon = "LITERAL") -> Acl:
    return Acl("TOPIC", topic, patroon, ("READ", "DESCRIBE"))


def _schrijf(topic: str) -> Acl:
    return Acl("TOPIC", topic, "LITERAL", ("WRITE", "DESCRIBE"))


def _groepen(prefix: str) -> Acl:
    """Consumer groups a principal may join: its own name as prefix (`riec.rotterdam.dashboard`)."""
    return Acl("GROUP", prefix, "PREFIXED", ("READ", "DESCRIBE"))


def _engine(app_id: str) -> list[Acl]:
    # It declares and checks every topic it uses, reads the front doors, and writes its own.
    beheer: tuple[Operatie, ...] = ("DESCRIBE", "CREATE", "DESCRIBE_CONFIGS")
    return [
        Acl("TOPIC", "partner.", "PREFIXED", ("READ", *beheer)),
        Acl("TOPIC", "riec.", "PREFIXED", ("READ", *beheer)),
        # The dashboard API writes a RIEC's commands on behalf of the RIEC whose bearer token asks
        # (engine.api.analist): its own topic only, the author in the header riec_auteur.
        *(_schrijf(f"riec.{r}.opdrachten") for r in RIECS),
        # engine.* includes the four-eyes topics: both roles are this principal (the API writes
        # engine.verzoekopdrachten, the stage reads it and writes engine.verzoeken); no person may.
        *(Acl("TOPIC", p, "PREFIXED", ("READ", "WRITE", *beheer)) for p in ("engine.", "routes.", "dlq.")),
        # faust's own topics (its assignor's leader topic) are named after the app.
        Acl("TOPIC", app_id, "PREFIXED", ("READ", "WRITE", *beheer)),
        Acl("GROUP", app_id, "PREFIXED", ("READ", "DESCRIBE")),
        Acl("TRANSACTIONAL_ID", app_id, "PREFIXED", ("WRITE", "DESCRIBE")),
        Acl("CLUSTER", "kafka-cluster", "LITERAL", ("DESCRIBE", "IDEMPOTENT_WRITE")),
    ]


def acls(p: KafkaPrincipal, app_id: str = "riec-engine") -> list[Acl]:
    """Everything `p` may do; the broker refuses the rest (allow.everyone.if.no.acl.found=false)."""
    match p.soort:
        case "partner":
            return [_schrijf(f"partner.{p.wie}.signalen")]
        case "riec":
            return [
                _schrijf(f"riec.{p.wie}.opdrachten"),
                _lees(f"routes.riec.{p.wie}"),
                _groepen(f"{p.gebruikersnaam}."),
            ]
        case "lft":
            return [_lees(f"routes.lft.{p.wie}"), _groepen(f"{p.gebruikersnaam}.")]
        case "liec":
            # The LIEC runs the loket, triage and the fenomeentafels, and forwards to EURIEC.
            return [
                _lees("routes.liec.", "PREFIXED"),
                _lees("routes.lft.", "PREFIXED"),
                _lees("routes.euriec"),
                _groepen("liec."),
            ]
        case "ops":
            # Sees every topic's shape, offsets and every group's lag, not content: the DLQs keep
            # partners' original bytes, raw BSNs included (read with the engine's principal, which
            # re-drives them, under the operators' own procedure).
            return [
                Acl("TOPIC", "*", "LITERAL", ("DESCRIBE", "DESCRIBE_CONFIGS")),
                Acl("GROUP", "*", "LITERAL", ("DESCRIBE",)),
                Acl("CLUSTER", "kafka-cluster", "LITERAL", ("DESCRIBE",)),
            ]
        case _:
            return _engine(app_id)


def mag(
    p: KafkaPrincipal, resource: Resource, naam: str, operatie: Operatie, app_id: str = "riec-engine"
) -> bool:
    """Whether the broker lets `p` do `operatie` on `naam` (what the ACL tests compare against)."""
    return any(a.staat_toe(resource, naam, operatie) for a in acls(p, app_id))
