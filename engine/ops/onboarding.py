"""Onboarding a principal: a SCRAM-SHA-512 user with a fresh password and the ACLs of
`engine.ops.acls` on the broker, and the client settings that principal needs, as JSON with aiokafka's
argument names (contract.md, Connecting).

The broker side is done by Kafka's own Admin client (`deploy/kafka-admin/Toegang.java`, one JVM for
any number of principals): aiokafka cannot create SCRAM credentials. The admin's own settings come
from a JSON file of the same shape (`KAFKA_ADMIN_CONFIG`; the local broker writes one).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
from pathlib import Path
from typing import Any

from engine.errors import ConfigurationError
from engine.ops.acls import KafkaPrincipal, acls
from engine.settings import KafkaConnection

ROOT = Path(__file__).resolve().parents[2]
CLIENT_KEYS = (
    "bootstrap_servers",
    "security_protocol",
    "sasl_mechanism",
    "sasl_plain_username",
    "sasl_plain_password",
    "ssl_cafile",
)
"""What a client needs, named as aiokafka's arguments (`ssl_cafile` for aiokafka's
`create_ssl_context(cafile=...)`)."""


def lees_config(pad: Path) -> dict[str, str]:
    """A client-settings JSON file (the admin's, or one `toegang` printed)."""
    try:
        config: dict[str, str] = json.loads(pad.read_text())
    except (OSError, ValueError) as e:
        raise ConfigurationError(
            f"cannot read Kafka client settings from {pad}: {e}; the local broker writes the admin's "
            "to .local/kafka/admin.json (make kafka), or set KAFKA_ADMIN_CONFIG"
        ) from None
    return config


def verbinding(config: dict[str, str]) -> KafkaConnection:
    """The `KafkaConnection` of a client-settings JSON."""
    cafile = config.get("ssl_cafile")
    return KafkaConnection(
        bootstrap_servers=config["bootstrap_servers"],
        security_protocol=config.get("security_protocol", "PLAINTEXT"),
        sasl_mechanism=config.get("sasl_mechanism", "SCRAM-SHA-512"),
        sasl_username=config.get("sasl_plain_username"),
        sasl_password=config.get("sasl_plain_password"),
        ssl_cafile=Path(cafile) if cafile else None,
    )


_ENV = {
    "bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "security_protocol": "KAFKA_SECURITY_PROTOCOL",
    "sasl_mechanism": "KAFKA_SASL_MECHANISM",
    "sasl_plain_username": "KAFKA_SASL_USERNAME",
    "sasl_plain_password": "KAFKA_SASL_PASSWORD",
    "ssl_cafile": "KAFKA_SSL_CAFILE",
}


def env(config: dict[str, str]) -> dict[str, str]:
    """The settings as the engine's environment variables (README table): KAFKA_*."""
    return {_ENV[k]: config[k] for k in CLIENT_KEYS if k in config}


def als_env(config: dict[str, str]) -> str:
    """The settings as `export KAFKA_...=...` lines for a shell."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env(config).items())


def _java_properties(admin: dict[str, str]) -> dict[str, str]:
    """Kafka's Java client properties for the admin's settings."""
    props = {
        "bootstrap.servers": admin["bootstrap_servers"],
        "security.protocol": admin["security_protocol"],
    }
    if admin["security_protocol"].startswith("SASL_"):
        props["sasl.mechanism"] = admin["sasl_mechanism"]
        props["sasl.jaas.config"] = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{admin["sasl_plain_username"]}" password="{admin["sasl_plain_password"]}";'
        )
    if admin.get("ssl_cafile"):
        props["ssl.truststore.type"] = "PEM"
        props["ssl.truststore.location"] = admin["ssl_cafile"]
    return props


def _compiled(libs: Path) -> Path:
    """The admin tool's class, compiled once (javac) into .local: saves seconds on every call."""
    source = ROOT / "deploy/kafka-admin/Toegang.java"
    classes = ROOT / ".local/kafka-admin"
    target = classes / "Toegang.class"
    if not target.is_file() or target.stat().st_mtime < source.stat().st_mtime:
        classes.mkdir(parents=True, exist_ok=True)
        command = ["javac", "-nowarn", "-cp", f"{libs}/*", "-d", str(classes), str(source)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise ConfigurationError(f"cannot compile {source}: {done.stderr.strip()[-2000:]}")
    return classes


def _java(spec: dict[str, Any]) -> None:
    libs = Path(os.environ.get("KAFKA_LIBS", ROOT / ".local/kafka-libs"))
    command = [
        "java",
        "-cp",
        f"{libs}/*:{_compiled(libs)}",
        f"-Dlog4j.configuration=file:{ROOT / 'deploy/kafka-admin/log4j.properties'}",
        "Toegang",
    ]
    done = subprocess.run(command, input=json.dumps(spec), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        # The tool's stderr names the broker's error (e.g. not authorised); it holds no password.
        raise ConfigurationError(f"creating principals failed: {done.stderr.strip()[-2000:]}")


def maak(
    principals: list[KafkaPrincipal], admin: dict[str, str], app_id: str = "riec-engine"
) -> dict[str, dict[str, str]]:
    """Create (or give a new password to) each principal with its ACLs; returns each one's client
    settings by principal name. A second call for the same principal rotates its password.

    On a broker without authentication (KAFKA_INSECURE=1) nothing is created: every client gets
    the admin's plaintext settings."""
    if not admin["security_protocol"].startswith("SASL_"):
        plain = {k: admin[k] for k in ("bootstrap_servers", "security_protocol")}
        return {p.naam: dict(plain) for p in principals}
    passwords = {p.naam: secrets.token_urlsafe(32) for p in principals}
    users = [
        {
            "name": p.gebruikersnaam,
            "password": passwords[p.naam],
            "acls": [
                {
                    "resource": a.resource,
                    "name": a.naam,
                    "pattern": a.patroon,
                    "operations": list(a.operaties),
                }
                for a in acls(p, app_id)
            ],
        }
        for p in principals
    ]
    _java({"admin": _java_properties(admin), "users": users})
    return {
        p.naam: {
            **{k: admin[k] for k in ("bootstrap_servers", "security_protocol", "sasl_mechanism")},
            "sasl_plain_username": p.gebruikersnaam,
            "sasl_plain_password": passwords[p.naam],
            **({"ssl_cafile": admin["ssl_cafile"]} if admin.get("ssl_cafile") else {}),
        }
        for p in principals
    }


def bewaard(
    principals: list[KafkaPrincipal], admin: dict[str, str], map_: Path, app_id: str = "riec-engine"
) -> dict[str, dict[str, str]]:
    """Like `maak`, but reuses the settings kept in `map_` (one 0600 JSON file per principal) and
    creates only the principals not kept there yet: for local tools and tests that publish as
    many partners, run after run, against the same broker state."""
    found: dict[str, dict[str, str]] = {}
    for p in principals:
        pad = map_ / f"{p.gebruikersnaam}.json"
        if pad.is_file():
            found[p.naam] = lees_config(pad)
    missing = [p for p in principals if p.naam not in found]
    nieuw = maak(missing, admin, app_id) if missing else {}
    map_.mkdir(parents=True, exist_ok=True, mode=0o700)
    for naam, config in nieuw.items():
        pad = map_ / f"{naam.replace(':', '.')}.json"
        fd = os.open(pad, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(config, out)
    return found | nieuw
