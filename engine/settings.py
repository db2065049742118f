"""The engine's settings, read once from the environment. The only place that reads it."""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import itertools
import math
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from engine.domain.ingress.pseudonimisering import MIN_KEY_BYTES
from engine.domain.reference import GEWEIGERDE_PARTNERS
from engine.domain.vergeten.bewaring import BEWAARREGELS, termijnen
from engine.errors import ConfigurationError
from engine.events.vergeten import Regel

_GEMEENTE_CODE = re.compile(r"^gm[0-9]{4}$")


def _gemeenten(env: Mapping[str, str], name: str) -> frozenset[str]:
    codes = frozenset(c.strip().lower() for c in env.get(name, "").split(",") if c.strip())
    for code in sorted(codes):
        if _GEMEENTE_CODE.match(code) is None:
            raise ConfigurationError(f"{name}: {code!r} is not a CBS gemeente code such as gm1999")
    return codes


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None


_PROTOCOLS = ("SASL_SSL", "SSL", "SASL_PLAINTEXT", "PLAINTEXT")


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """How a client reaches and authenticates to the broker: what every engine client (stages,
    readers, the admin, faust, the tools) is built from. The names follow aiokafka's arguments."""

    bootstrap_servers: str = "localhost:9092"
    security_protocol: str = "SASL_SSL"
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: Path | None = None

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SASL_SSL", "SSL")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaConnection:
        """The connection of KAFKA_*; raises ConfigurationError naming what is missing."""
        env = os.environ if env is None else env
        protocol = env.get("KAFKA_SECURITY_PROTOCOL", "SASL_SSL").upper()
        if protocol not in _PROTOCOLS:
            raise ConfigurationError(f"KAFKA_SECURITY_PROTOCOL must be one of {', '.join(_PROTOCOLS)}")
        cafile = env.get("KAFKA_SSL_CAFILE")
        connection = cls(
            bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
            security_protocol=protocol,
            sasl_mechanism=env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            sasl_username=env.get("KAFKA_SASL_USERNAME") or None,
            sasl_password=env.get("KAFKA_SASL_PASSWORD") or None,
            ssl_cafile=Path(cafile) if cafile else None,
        )
        if connection.sasl and not (connection.sasl_username and connection.sasl_password):
            raise ConfigurationError(
                f"KAFKA_SECURITY_PROTOCOL is {protocol} but KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD "
                "is not set: create the principal's credentials with "
                "`python -m engine.tools toegang <principal> --formaat env` (README, Connecting), or "
                "set KAFKA_SECURITY_PROTOCOL=PLAINTEXT for a broker started with KAFKA_INSECURE=1"
            )
        if connection.ssl_cafile is not None and not connection.ssl_cafile.is_file():
            raise ConfigurationError(f"KAFKA_SSL_CAFILE {connection.ssl_cafile} is not a readable file")
        return connection


_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_MAAK_SLEUTEL = "create one with: python -c 'import secrets; print(secrets.token_hex(32))'"


def _willekeurige_bytes(key: str) -> bytes | None:
    """The bytes a key spells in hex or base64 (standard or URL-safe), or None."""
    if len(key) % 2 == 0 and _HEX.fullmatch(key):
        return bytes.fromhex(key)
    if _BASE64.fullmatch(key) and not _getypt(key.rstrip("=")[:_TOETS_TEKENS]):
        try:
            return base64.urlsafe_b64decode(key.replace("+", "-").replace("/", "_") + "=" * (-len(key) % 4))
        except (binascii.Error, ValueError):
            return None
    return None


_TOETS_TEKENS = 100
"""The characters of a base64 key that `_getypt` judges (its tables grow with the cube of this)."""
_TE_ZELDEN = 1e-13
"""A base64 key is refused as typed when what it shows is rarer than this among random keys. Two
tests at this level refuse a correctly generated key at most once in 5e12 keys (their sum)."""
_KLASSEN = (26 / 64, 26 / 64, 10 / 64, 2 / 64)
"""How often random base64 shows an upper-case letter, a lower-case one, a digit, `+/` or `-_`."""


def _getypt(tekens: str) -> bool:
    """Whether base64 text looks typed rather than generated, judged as exact tail probabilities
    under the model of random base64 (every character one of 64, equally likely), so that a random
    key is refused at most `_TE_ZELDEN` of the time per test: its mix of character classes (a
    sentence in lower case and digits: 2e-14) or its number of different characters (a repeated
    word). Asking for a digit, as before, refused one random 32-byte key in 1,500."""
    n = len(tekens)
    boven, onder = sum(c.isupper() for c in tekens), sum(c.islower() for c in tekens)
    cijfers = sum(c.isdigit() for c in tekens)
    klassen = (boven, onder, cijfers, n - boven - onder - cijfers)
    verschillend = _verschillend_tot(n)[len(set(tekens))]
    return _klassen_p(n, klassen) < _TE_ZELDEN or verschillend < _TE_ZELDEN


def _log_kans(n: int, telling: tuple[int, ...]) -> float:
    """The log-probability of these class counts among n random base64 characters (multinomial)."""
    uit = math.lgamma(n + 1)
    for k, p in zip(telling, _KLASSEN, strict=True):
        uit += k * math.log(p) - math.lgamma(k + 1)
    return uit


@functools.cache
def _klassen_tabel(n: int) -> tuple[list[float], list[float]]:
    """Every class-count vector's log-probability for n characters, sorted, and the cumulative
    probability up to each: the exact p-value of a count is the mass of all counts as rare or rarer."""
    logs = sorted(
        _log_kans(n, (u, low, d, n - u - low - d))
        for u in range(n + 1)
        for low in range(n + 1 - u)
        for d in range(n + 1 - u - low)
    )
    cumulatief, totaal = [], 0.0
    for lp in logs:
        totaal += math.exp(lp)
        cumulatief.append(totaal)
    return logs, cumulatief


def _klassen_p(n: int, telling: tuple[int, ...]) -> float:
    logs, cumulatief = _klassen_tabel(n)
    i = bisect.bisect_right(logs, _log_kans(n, telling) + 1e-9)
    return cumulatief[i - 1] if i else 0.0


@functools.cache
def _verschillend_tot(n: int) -> list[float]:
    """P(at most d different characters among n random base64 characters), for every d."""
    kans = [1.0] + [0.0] * n
    for _ in range(n):
        nieuw = [0.0] * (n + 1)
        for k, p in enumerate(kans):
            if p:
                nieuw[k] += p * k / 64
                if k < n:
                    nieuw[k + 1] += p * (64 - k) / 64
        kans = nieuw
    return list(itertools.accumulate(kans))


def pseudonym_key(key: str, bron: str) -> bytes:
    """The HMAC key as configured (its text's bytes, as before: a new reading would change every
    pseudonym), once it proves to be hex or base64 of at least 32 random-looking bytes.

    No test can prove randomness; this refuses what people type instead of generating: a
    password, `aaaa…`, a repeated or counting pattern. `bron` names where the key came from."""
    ruw = _willekeurige_bytes(key)
    if ruw is None or len(ruw) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"{bron} must be hex or base64 of at least {MIN_KEY_BYTES} random bytes "
            f"(64 hex digits or 44 base64 characters); {_MAAK_SLEUTEL}"
        )
    stappen = {(b - a) % 256 for a, b in itertools.pairwise(ruw)}
    # 32 random bytes hold about 30 different values (at least 16 with overwhelming probability).
    if len(set(ruw)) < min(len(ruw) // 2, 64) or len(stappen) == 1:
        raise ConfigurationError(
            f"{bron} does not look random (too few different bytes, or a counting pattern); {_MAAK_SLEUTEL}"
        )
    return key.encode()


def _lees_pseudonym_key(env: Mapping[str, str]) -> bytes:
    key, pad = env.get("ENGINE_PSEUDONYM_KEY", ""), env.get("ENGINE_PSEUDONYM_KEY_FILE", "")
    if key and pad:
        raise ConfigurationError("set ENGINE_PSEUDONYM_KEY or ENGINE_PSEUDONYM_KEY_FILE, not both")
    if pad:
        try:
            key = Path(pad).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigurationError(
                f"ENGINE_PSEUDONYM_KEY_FILE {pad} cannot be read as a key: {type(e).__name__}"
            ) from None
        return pseudonym_key(key, f"the key in ENGINE_PSEUDONYM_KEY_FILE {pad}")
    if not key:
        raise ConfigurationError(
            "ENGINE_PSEUDONYM_KEY (or ENGINE_PSEUDONYM_KEY_FILE) is not set: the engine will not "
            f"start without the key that pseudonymises BSNs; {_MAAK_SLEUTEL}"
        )
    return pseudonym_key(key, "ENGINE_PSEUDONYM_KEY")


def _bewaartermijnen(env: Mapping[str, str]) -> dict[str, float]:
    """Every ENGINE_RETENTION_<RULE>_DAYS set, by rule; a rule not in the table is refused."""
    uit: dict[str, float] = {}
    for regel in (r.regel for r in BEWAARREGELS):
        naam = f"ENGINE_RETENTION_{regel.upper()}_DAYS"
        raw = env.get(naam)
        if raw:
            try:
                dagen = float(raw)
            except ValueError:
                raise ConfigurationError(f"{naam} must be a number of days, got {raw!r}") from None
            if not 0 < dagen < 100 * 366:
                raise ConfigurationError(f"{naam} must be more than 0 and under 100 years, got {raw!r}")
            uit[regel] = dagen
    return uit


def _lees_master_key(env: Mapping[str, str]) -> bytes | None:
    """ENGINE_MASTER_KEY or the key in ENGINE_MASTER_KEY_FILE: 32 random bytes, hex or base64."""
    key, pad = env.get("ENGINE_MASTER_KEY", ""), env.get("ENGINE_MASTER_KEY_FILE", "")
    if key and pad:
        raise ConfigurationError("set ENGINE_MASTER_KEY or ENGINE_MASTER_KEY_FILE, not both")
    bron = "ENGINE_MASTER_KEY"
    if pad:
        bron = f"the key in ENGINE_MASTER_KEY_FILE {pad}"
        try:
            key = Path(pad).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigurationError(f"{bron} cannot be read: {type(e).__name__}") from None
    if not key:
        return None
    pseudonym_key(key, bron)  # the same checks: hex or base64 of random-looking bytes
    ruw = _willekeurige_bytes(key)
    if ruw is None or len(ruw) != 32:
        raise ConfigurationError(f"{bron} must be exactly 32 bytes (AES-256), as 64 hex digits or base64")
    return ruw


APP_ID = "riec-engine"


def _data_dir(app_id: str) -> Path:
    """Where a worker keeps its files unless ENGINE_DATA_DIR says otherwise: one folder per app."""
    return Path(".local/engine") / app_id


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything an engine worker needs to know about where it runs."""

    pseudonym_key: bytes = field(repr=False)
    """Never in a repr, a log line or a traceback's locals printed by it."""
    kafka: KafkaConnection = field(default_factory=lambda: KafkaConnection(security_protocol="PLAINTEXT"))
    web_port: int = 6066
    web_bind: str = "127.0.0.1"
    app_id: str = APP_ID
    worker_id: str = "worker"
    partitions: int = 8
    partner_partitions: int = 1
    replication_factor: int = 1
    geweigerde_partners: frozenset[str] = GEWEIGERDE_PARTNERS
    extra_gemeenten: frozenset[str] = frozenset()
    """Gemeente codes admitted as partners beyond the CBS reference data (a merger's new code)."""
    topic_refresh_ms: int = 3000
    batch_wait_ms: int = 50
    batch_min_bytes: int = 512 * 1024
    """The cadence of the internal stages' transactions (vastleggen, besluiten, zoekindex): the
    broker holds a stage's fetch until `batch_min_bytes` are there or `batch_wait_ms` passed, so a
    stage commits at most about 1000 / batch_wait_ms transactions per second per partition, each
    holding what arrived meanwhile, as Kafka Streams commits every 100 ms. Fetching as soon as one
    record was there (20 ms) made vastleggen commit a transaction per partition for a handful of
    signals each: at half load most of its CPU went into transactions, and latency queued up."""
    fetch_max_wait_ms: int = 20
    """How long the broker may hold a fetch that has nothing new to return. A broker answers one
    connection's requests in order, so a consumer's other requests (the end offset routeren asks
    for before every batch) queue behind a held fetch: Kafka's default of 500 ms put 500 ms on
    every routing batch, and routing latency at 1.6 s whatever the load."""
    idle_partition_s: int = 10
    """A stage's input partition without a record for this long is no longer fetched by the stage
    but watched by its doorbell (engine.kafka.doorbell); 0: fetch every partition always."""
    pending_link_expiry_s: int = 7 * 24 * 3600
    """How long a casus link waits for a signal not seen yet before it expires (recorded as an event)."""
    dedup_horizon_days: int = 400
    """How long signal ids are remembered to recognise a signal sent again; an older ce_time is refused."""
    data_dir: Path = field(default_factory=lambda: _data_dir(APP_ID))
    tokens_file: Path | None = None
    bewaartermijnen: Mapping[str, float] = field(default_factory=dict)
    """ENGINE_RETENTION_<RULE>_DAYS: a retention period other than the default of
    `engine.domain.vergeten.bewaring`
    (days, fractions allowed). Changing one in production is a four-eyes act (README)."""
    bewaar_interval_s: int = 3600
    """How often the executor looks for signals whose retention period ran out."""
    vergeet_binnen_ms: int = 24 * 3600 * 1000
    """How soon what compaction forgets (a destroyed key, a withdrawn route) leaves the brokers'
    disks: the max.compaction.lag.ms, segment.ms and delete.retention.ms of those topics."""
    extra_regelversies: Path | None = None
    """ENGINE_EXTRA_REGELVERSIES: a folder of rule versions shipped beside the image (one folder per
    version, as under `engine/domain/reference/versies/`). Shipped is not adopted: such a version
    routes only once a `regelversie_aannemen` request for it is approved (README, Adopting it)."""
    master_key: bytes | None = field(default=None, repr=False)
    """ENGINE_MASTER_KEY(_FILE): wraps the data keys of the key store (docs/vergeten.md). Unset, it
    is derived from the pseudonym key (`hoofdsleutel`): one secret fewer to keep, at the price of
    one secret to rotate for both."""

    @property
    def tabel_max_afwezig_s(self) -> float:
        """The longest a reader of a compacted table (the routing tables) may go without reading
        before it must read it again from offset 0: half the tombstones' retention
        (`delete.retention.ms` = `vergeet_binnen_ms`), a margin for a read that takes long."""
        return self.vergeet_binnen_ms / 2000

    def termijnen(self) -> dict[Regel, timedelta]:
        """Every retention rule's period (`engine.domain.vergeten.bewaring`), with the settings' own."""
        return termijnen(self.bewaartermijnen)

    def hoofdsleutel(self) -> bytes:
        """The 32-byte master key of the key store: as configured, or derived from the pseudonym
        key with HKDF-SHA256 (a key of its own for its own purpose, RFC 5869)."""
        if self.master_key is not None:
            return self.master_key
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"riec-engine master key v1")
        return hkdf.derive(self.pseudonym_key)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; raises ConfigurationError naming the variable to fix. A variable not
        set takes the field's default above: each default is written once."""
        env = os.environ if env is None else env
        d = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
        web_port = _int(env, "ENGINE_WEB_PORT", d["web_port"])
        refused = env.get("ENGINE_REFUSED_PARTNERS")
        tokens = env.get("ENGINE_TOKENS_FILE")
        app_id = env.get("ENGINE_APP_ID", APP_ID)
        return cls(
            pseudonym_key=_lees_pseudonym_key(env),
            kafka=KafkaConnection.from_env(env),
            web_port=web_port,
            web_bind=env.get("ENGINE_WEB_BIND", d["web_bind"]),
            app_id=app_id,
            # Stable across restarts of the same worker, so its transactional producers fence
            # (and abort) what a killed predecessor left open.
            worker_id=env.get("ENGINE_WORKER_ID", f"{socket.gethostname()}-{web_port}"),
            partitions=_int(env, "ENGINE_PARTITIONS", d["partitions"]),
            partner_partitions=_int(env, "ENGINE_PARTNER_PARTITIONS", d["partner_partitions"]),
            replication_factor=_int(env, "ENGINE_REPLICATION_FACTOR", d["replication_factor"]),
            geweigerde_partners=(
                frozenset(p.strip() for p in refused.split(",") if p.strip())
                if refused is not None
                else d["geweigerde_partners"]
            ),
            extra_gemeenten=_gemeenten(env, "ENGINE_EXTRA_GEMEENTEN"),
            topic_refresh_ms=_int(env, "ENGINE_TOPIC_REFRESH_MS", d["topic_refresh_ms"]),
            fetch_max_wait_ms=_int(env, "ENGINE_FETCH_MAX_WAIT_MS", d["fetch_max_wait_ms"]),
            batch_wait_ms=_int(env, "ENGINE_BATCH_WAIT_MS", d["batch_wait_ms"]),
            batch_min_bytes=_int(env, "ENGINE_BATCH_MIN_BYTES", d["batch_min_bytes"]),
            idle_partition_s=_int(env, "ENGINE_IDLE_PARTITION_S", d["idle_partition_s"]),
            pending_link_expiry_s=_int(env, "ENGINE_PENDING_LINK_EXPIRY_S", d["pending_link_expiry_s"]),
            dedup_horizon_days=_int(env, "ENGINE_DEDUP_HORIZON_DAYS", d["dedup_horizon_days"]),
            data_dir=Path(env["ENGINE_DATA_DIR"]) if "ENGINE_DATA_DIR" in env else _data_dir(app_id),
            tokens_file=Path(tokens) if tokens else None,
            bewaartermijnen=_bewaartermijnen(env),
            bewaar_interval_s=_int(env, "ENGINE_RETENTION_INTERVAL_S", d["bewaar_interval_s"]),
            vergeet_binnen_ms=_int(env, "ENGINE_FORGET_WITHIN_MS", d["vergeet_binnen_ms"]),
            extra_regelversies=extra_regelversies_uit(env),
            master_key=_lees_master_key(env),
        )


def extra_regelversies_uit(env: Mapping[str, str]) -> Path | None:
    """ENGINE_EXTRA_REGELVERSIES as a worker reads it (a tool loads the same versions with it)."""
    pad = env.get("ENGINE_EXTRA_REGELVERSIES")
    if not pad:
        return None
    if not Path(pad).is_dir():
        raise ConfigurationError(f"ENGINE_EXTRA_REGELVERSIES {pad} is not a folder of rule versions")
    return Path(pad)


def hoofdsleutel_uit(env: Mapping[str, str]) -> bytes:
    """The master key as a worker with this environment has it (ENGINE_MASTER_KEY(_FILE), else
    derived from ENGINE_PSEUDONYM_KEY(_FILE)), without the rest of a worker's settings: for a tool
    that must open what the workers sealed (the replay)."""
    return Settings(pseudonym_key=_lees_pseudonym_key(env), master_key=_lees_master_key(env)).hoofdsleutel()
