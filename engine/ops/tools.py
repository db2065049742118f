"""`python -m engine.tools` (its published name): publish signals by hand or as sample traffic, and
read route topics.

For people trying the engine; partner systems use any Kafka client with the contract's headers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson
from aiokafka import TopicPartition

from engine.api.toegang import DIGEST_PREFIX, GELDIGE_PRINCIPALS, digest
from engine.domain.proefroutering import Proef
from engine.domain.reference import RIECS, gebiedsindeling
from engine.domain.routing import topic_van
from engine.events.envelope import CloudEventHeaders, partner_source, riec_source
from engine.events.headers import kafka_headers
from engine.events.opdrachten import OPDRACHT_TYPES
from engine.events.signaal import SIGNAAL_TYPE
from engine.kafka import clients, proefroutering, redrive
from engine.kafka.projecties import bouw
from engine.kafka.redrive import Selection
from engine.ops import onboarding
from engine.ops import regelversie as ops_regelversie
from engine.ops import status as ops_status
from engine.ops.acls import ENGINE
from engine.ops.acls import principal as kafka_principal
from engine.ops.sample import SampleTraffic, Voorbeeld
from engine.settings import KafkaConnection, hoofdsleutel_uit
from engine.topics import DLQ, opdrachten_topic, partner_topic, route_bestemmingen

DEFAULT_ADMIN_CONFIG = onboarding.ROOT / ".local/kafka/admin.json"


def _engine() -> KafkaConnection:
    """The engine's own connection, for reading route topics and logs: KAFKA_* as for a worker, or,
    when none is set and a local broker's admin settings exist, the engine principal kept there."""
    configured = {"KAFKA_SASL_USERNAME", "KAFKA_SECURITY_PROTOCOL"} & set(os.environ)
    if not configured and _admin_config().is_file():
        return _als({ENGINE})[ENGINE]
    return KafkaConnection.from_env()


def _admin_config() -> Path:
    return Path(os.environ.get("KAFKA_ADMIN_CONFIG", DEFAULT_ADMIN_CONFIG))


def _hoofdsleutel() -> bytes:
    """The master key of the key store, as the workers have it (ENGINE_MASTER_KEY(_FILE), else
    derived from ENGINE_PSEUDONYM_KEY(_FILE)); when none is set, that of the local broker's engine."""
    env = dict(os.environ)
    # run.sh keeps it beside the broker's directory (`.local/pseudonym.key` for `.local/kafka/`).
    lokaal = [d / "pseudonym.key" for d in (_admin_config().parent.parent, _admin_config().parent)]
    namen = {f"ENGINE_{k}_KEY{f}" for k in ("MASTER", "PSEUDONYM") for f in ("", "_FILE")}
    bestaand = [p for p in lokaal if p.is_file()]
    if not namen & set(env) and bestaand:
        env["ENGINE_PSEUDONYM_KEY_FILE"] = str(bestaand[0])
    return hoofdsleutel_uit(env)


def _als(principals: set[str]) -> dict[str, KafkaConnection]:
    """A connection per principal, to publish as partners and RIECs do. Credentials are created on
    the broker once and kept beside the admin's settings (`<dir of KAFKA_ADMIN_CONFIG>/toegang/`)."""
    pad = _admin_config()
    configs = onboarding.bewaard(
        [kafka_principal(p) for p in sorted(principals)], onboarding.lees_config(pad), pad.parent / "toegang"
    )
    return {p: onboarding.verbinding(c) for p, c in configs.items()}


def _headers(
    ce_id: str, source: str, ce_type: str = SIGNAAL_TYPE, tijd: datetime | None = None
) -> list[tuple[str, bytes]]:
    return kafka_headers(
        CloudEventHeaders(
            specversion="1.0",
            id=ce_id,
            source=source,
            type=ce_type,
            time=tijd or datetime.now(UTC),
            datacontenttype="application/json",
        )
    )


async def _send(messages: list[Voorbeeld], rate: float) -> None:
    """Publish each message as its sender (one producer per partner or RIEC principal)."""
    verbindingen = _als({m.principal for m in messages})
    producers = {p: clients.producer(k, linger_ms=5) for p, k in verbindingen.items()}
    try:
        for producer in producers.values():
            await producer.start()
        started = time.monotonic()
        for i, m in enumerate(messages):
            headers = _headers(m.ce_id, m.ce_source, m.ce_type, m.ce_time)
            await producers[m.principal].send(m.topic, m.value, headers=headers)
            if rate > 0:
                await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.monotonic()))
        for producer in producers.values():
            await producer.flush()
    finally:
        for producer in producers.values():
            await producer.stop()


async def _tail(topics: list[str], seconds: float) -> list[Any]:
    consumer = clients.log_consumer(_engine(), *topics)
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=250)
            found += [r for records in batch.values() for r in records]
        return found
    finally:
        await consumer.stop()


@click.group()
def cli() -> None:
    """Try the engine on the broker at KAFKA_BOOTSTRAP_SERVERS, onboard partners and RIECs.

    Reading commands connect as the engine (KAFKA_* as for a worker); publishing commands connect
    as the partner or RIEC that sends, with credentials kept under .local/kafka/toegang/."""


@cli.command()
@click.option("--org", required=True, help="Sending partner, e.g. gm0363, politie, pv27.")
@click.option("--ce-id", default=None, help="CloudEvents id; a new UUID when omitted.")
@click.argument("payload", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def publish(org: str, ce_id: str | None, payload: Path) -> None:
    """Publish PAYLOAD (an nl.riec.signaal.v1 JSON file) as partner ORG."""
    ce_id = ce_id or str(uuid.uuid4())
    asyncio.run(_send([Voorbeeld(org, ce_id, partner_source(org), payload.read_bytes())], 0))
    click.echo(f"published {org}:{ce_id} on {partner_topic(org)}")


@cli.command()
@click.option("--riec", required=True, type=click.Choice(RIECS), help="The RIEC office giving the command.")
@click.option(
    "--type", "soort", required=True, type=click.Choice(sorted(OPDRACHT_TYPES)), help="The command's ce_type."
)
@click.option("--ce-id", default=None, help="CloudEvents id; a new UUID when omitted.")
@click.argument("payload", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def opdracht(riec: str, soort: str, ce_id: str | None, payload: Path) -> None:
    """Publish PAYLOAD (JSON) as a command of RIEC office RIEC on riec.<riec>.opdrachten."""
    ce_id = ce_id or str(uuid.uuid4())
    asyncio.run(_send([Voorbeeld(riec, ce_id, riec_source(riec), payload.read_bytes(), soort)], 0))
    click.echo(f"published {riec}:{ce_id} ({soort}) on {opdrachten_topic(riec)}")


@cli.command()
@click.option("--count", default=2000, show_default=True)
@click.option(
    "--rate", default=500.0, show_default=True, help="Messages per second; 0 for as fast as possible."
)
@click.option("--seed", type=int, default=None, help="Repeat a run's ids (they are then duplicates).")
def sample(count: int, rate: float, seed: int | None) -> None:
    """Publish COUNT sample signals in the proportions of the Jaarverslag 2021 (about 2% bad)."""
    seed = seed if seed is not None else time.time_ns() % 1_000_000
    traffic = SampleTraffic(gebiedsindeling(), seed)
    commands = list(traffic.opdrachten(datetime.now(UTC).date()))
    click.echo(f"publishing {len(commands)} RIEC commands (handhavingsknelpunten, casussen) ...")
    asyncio.run(_send(commands, 0))
    time.sleep(2)  # let the engine record them, so the signals below can match them
    messages = sorted(traffic.stroom(count), key=lambda m: m.ce_time or datetime.min.replace(tzinfo=UTC))
    click.echo(f"publishing {count} sample signals of the past year (seed {seed}) to partner topics ...")
    asyncio.run(_send(messages, rate))
    inbreng = list(traffic.inbreng(messages, datetime.now(UTC).date()))
    click.echo(f"publishing {len(inbreng)} commands opening casussen from those signals (inbreng) ...")
    asyncio.run(_send(inbreng, 0))
    per_org = Counter(m.org for m in messages)
    click.echo(f"published from {len(per_org)} partners; busiest: {per_org.most_common(3)}")


@cli.command()
@click.argument("topics", nargs=-1, required=True)
@click.option("--seconds", default=3.0, show_default=True)
@click.option("--show", default=2, show_default=True, help="Print this many messages per topic.")
def tail(topics: tuple[str, ...], seconds: float, show: int) -> None:
    """Count the messages on TOPICS and print a few (routed messages, or DLQ reasons)."""
    records = asyncio.run(_tail(list(topics), seconds))
    per_topic = Counter(r.topic for r in records)
    for topic in topics:
        click.echo(f"{topic}: {per_topic.get(topic, 0)} messages")
        for r in [r for r in records if r.topic == topic][:show]:
            reason = dict(r.headers).get("reason")
            if reason is not None:
                click.echo(f"    refused: {reason.decode()}")
                continue
            try:
                message = orjson.loads(r.value or b"")
            except orjson.JSONDecodeError:  # a tombstone, a re-drive marker: no message to show
                click.echo(f"    (offset {r.offset}: no message, {len(r.value or b'')} bytes)")
            else:
                redenen = " | ".join(x["toelichting"] for x in message.get("redenen", []))
                click.echo(
                    f"    {message.get('signaal_id')}  themas={message.get('themas')}  redenen: {redenen}"
                )


@cli.command()
@click.option(
    "--since-ms", type=int, default=0, help="Only messages written after this time (ms since epoch)."
)
@click.option("--seconds", default=4.0, show_default=True)
def summary(since_ms: int, seconds: float) -> None:
    """How many signals each destination got, by routing rule, with one example per rule."""
    topics = [topic_van(b) for b in route_bestemmingen()] + [DLQ]
    records = [r for r in asyncio.run(_tail(topics, seconds)) if r.timestamp >= since_ms]
    per_topic = Counter(r.topic for r in records)
    per_regel: Counter[str] = Counter()
    voorbeeld: dict[str, str] = {}
    redenen_dlq: Counter[str] = Counter()
    for r in records:
        if r.topic == DLQ:
            redenen_dlq[dict(r.headers).get("reason_code", b"?").decode()] += 1
            continue
        if not r.value:
            continue  # a tombstone left by compaction's nudges
        message = orjson.loads(r.value)
        for reden in message.get("redenen", []):  # a withdrawal (erased, expired) has none
            per_regel[reden["regel"]] += 1
            voorbeeld.setdefault(
                reden["regel"], f"{r.topic}: {message['signaal_id']}: {reden['toelichting']}"
            )
    click.echo("Messages per destination:")
    for topic in topics:
        click.echo(f"  {topic:<34} {per_topic.get(topic, 0):>6}")
    click.echo("Reasons by routing rule, with an example of each:")
    for regel, n in per_regel.most_common():
        click.echo(f"  {regel:<20} {n:>6}   e.g. {voorbeeld[regel]}")
    click.echo(f"Refused to dlq.ingress by reason: {dict(redenen_dlq.most_common())}")


@cli.command()
@click.argument("pad", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--digests",
    is_flag=True,
    help="Store only each token's digest (sha256:<hex>) and print the tokens once, to hand out.",
)
def tokens(pad: Path, digests: bool) -> None:
    """Create a tokens file (ENGINE_TOKENS_FILE) with one token per principal, if PAD is new.

    The file is created readable by its owner only (0600) from its first byte."""
    if pad.exists():
        return
    pad.parent.mkdir(parents=True, exist_ok=True)
    principals = sorted(GELDIGE_PRINCIPALS)
    plain = {p: f"local-{secrets.token_urlsafe(24)}" for p in principals}
    stored = {(f"{DIGEST_PREFIX}{digest(t).hex()}" if digests else t): p for p, t in plain.items()}
    # O_EXCL: never through a file or link someone else put there; mode 0600 before any write.
    try:
        fd = os.open(pad, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{pad} is a link to nowhere; remove it first") from None
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(stored, option=orjson.OPT_INDENT_2))
    click.echo(f"created {pad} with a token for each of {len(principals)} principals", err=digests)
    if digests:
        for p, t in plain.items():
            click.echo(f"{p} {t}")


@cli.command()
@click.option(
    "--url",
    default=lambda: f"http://127.0.0.1:{os.environ.get('ENGINE_WEB_PORT', '6066')}",
    help="The live worker.",
)
@click.option("--token", envvar="ENGINE_OPS_TOKEN", required=True, help="An ops token (or ENGINE_OPS_TOKEN).")
def replay(url: str, token: str) -> None:
    """Rebuild every projection from offset 0 and compare its hash with the live worker's.

    The live worker reports its hashes with the log positions they stand for; the rebuild reads
    exactly up to those positions, so both describe the same events. Exits 1 on any difference.
    """
    request = urllib.request.Request(
        f"{url}/api/v1/ops/projecties", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        live = orjson.loads(response.read())
    tot = {
        TopicPartition(*k.rsplit(":", 1)[0:1], int(k.rsplit(":", 1)[1])): v
        for k, v in live["posities"].items()
    }
    started = time.monotonic()
    rebuilt = asyncio.run(bouw(_engine(), tot, _hoofdsleutel())).hashes()
    click.echo(f"replayed {sum(tot.values())} records from offset 0 in {time.monotonic() - started:.1f} s")
    verschil = False
    for naam, live_hash in live["hashes"].items():
        gelijk = rebuilt.get(naam) == live_hash
        verschil |= not gelijk
        uitkomst = "equal" if gelijk else "DIFFERENT"
        click.echo(f"  {naam:<12} live {live_hash[:16]}  replay {rebuilt.get(naam, '-')[:16]}  {uitkomst}")
    if verschil:
        raise SystemExit(1)
    click.echo("replay equals live")


@cli.command()
@click.argument("principal")
@click.option(
    "--formaat",
    type=click.Choice(["json", "env"]),
    default="json",
    show_default=True,
    help="json: aiokafka's argument names; env: export lines for an engine worker (KAFKA_*).",
)
@click.option(
    "--app-id", default="riec-engine", show_default=True, help="The engine's ENGINE_APP_ID (its ACLs)."
)
@click.option(
    "--bewaar",
    is_flag=True,
    help="Keep the settings beside KAFKA_ADMIN_CONFIG (toegang/, 0600) and reuse them next time "
    "instead of a new password: for a local broker's scripts, never for a real onboarding.",
)
@click.option(
    "--nieuwe-gemeente",
    is_flag=True,
    help="Admit partner:gm<code> that is not in the reference data yet (a merger); the engine admits "
    "its signals only once the code is in ENGINE_EXTRA_GEMEENTEN too.",
)
def toegang(principal: str, formaat: str, app_id: str, bewaar: bool, nieuwe_gemeente: bool) -> None:
    """Create PRINCIPAL on the broker with its ACLs and print the settings its client needs.

    PRINCIPAL is partner:<org>, riec:<riec>, lft:<lft>, liec, ops or engine. Connects as the admin
    of KAFKA_ADMIN_CONFIG (default .local/kafka/admin.json, written by `make kafka`). Running it again
    for the same principal gives it a new password (the old one stops working): hand the output to
    the principal's operator over a secure channel, and keep it nowhere else.
    """
    try:
        extra = [principal.removeprefix("partner:")] if nieuwe_gemeente else []
        p = kafka_principal(principal, extra_gemeenten=extra)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    pad = _admin_config()
    admin = onboarding.lees_config(pad)
    if bewaar:
        config = onboarding.bewaard([p], admin, pad.parent / "toegang", app_id)[p.naam]
    else:
        config = onboarding.maak([p], admin, app_id)[p.naam]
    if formaat == "env":
        click.echo(onboarding.als_env(config), nl=False)
    else:
        click.echo(orjson.dumps(config, option=orjson.OPT_INDENT_2).decode())


@cli.command()
@click.option("--stage", "stages", multiple=True, help="Only records this stage quarantined (repeatable).")
@click.option("--error", "errors", multiple=True, help="Only records of this error class (repeatable).")
@click.option(
    "--reason-code", "reason_codes", multiple=True, help="handler_error or output_too_large (repeatable)."
)
@click.option(
    "--source-topic", "source_topics", multiple=True, help="Only records from this topic (repeatable)."
)
@click.option(
    "--offset", "offsets", multiple=True, type=int, help="Only this dlq.engine offset (repeatable)."
)
@click.option("--opnieuw", is_flag=True, help="Also records re-driven before.")
@click.option("--dry-run", is_flag=True, help="Only list what would be re-driven.")
@click.option("--app-id", envvar="ENGINE_APP_ID", default="riec-engine", show_default=True)
def herverwerk(
    stages: tuple[str, ...],
    errors: tuple[str, ...],
    reason_codes: tuple[str, ...],
    source_topics: tuple[str, ...],
    offsets: tuple[int, ...],
    opnieuw: bool,
    dry_run: bool,
    app_id: str,
) -> None:
    """Put quarantined records of dlq.engine back on their source topic, once their cause is fixed.

    Each goes back to the partition it came from, with its own key, headers, bytes and timestamp,
    in one transaction with a marker on dlq.engine, so running this twice re-drives nothing twice.
    """
    keuze = Selection(
        stages=frozenset(stages),
        errors=frozenset(errors),
        reason_codes=frozenset(reason_codes),
        source_topics=frozenset(source_topics),
        offsets=frozenset(offsets),
        opnieuw=opnieuw,
    )
    gedaan = asyncio.run(redrive.redrive(_engine(), keuze, app_id=app_id, proef=dry_run))
    for h in gedaan:
        k = h.herkomst
        click.echo(
            f"{'would re-drive' if dry_run else 're-driven'} dlq.engine@{h.dlq_offset} → "
            f"{k.source_topic}[{k.source_partition}] (was @{k.source_offset}; {k.stage}, {k.error})"
        )
    click.echo(f"{len(gedaan)} record(s) {'selected' if dry_run else 're-driven'}")


@cli.command()
@click.option("--van", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First observation date.")
@click.option("--tot", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last observation date.")
@click.option(
    "--regels",
    required=True,
    help="The candidate rules: a shipped version's id or date, or a version's folder (versie.toml, CSVs).",
)
@click.option(
    "--uit",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".local/proefrouteringen"),
    show_default=True,
    help="Where the JSON and the readable page are written.",
)
def proefrouteer(van: datetime, tot: datetime, regels: str, uit: Path) -> None:
    """Dry run: route the logged signals observed from --van to --tot again under --regels, as if
    those rules were in force on every day, and show what would differ from what was routed (per
    destination: signals added, dropped, or routed for other reasons, with both reasons).

    Writes nothing to any topic. Reads the signal log (opened with the key store: ENGINE_MASTER_KEY
    or ENGINE_PSEUDONYM_KEY as for a worker) and the route topics, as the engine."""
    proef = Proef(van.date(), tot.date(), ops_regelversie.kies(regels))
    uitkomst = asyncio.run(proefroutering.proefrouteer(_engine(), _hoofdsleutel(), proef))
    uit.mkdir(parents=True, exist_ok=True)
    naam = f"proefroutering-{uitkomst.van}-{uitkomst.tot}-{uitkomst.regelversie}"
    (uit / f"{naam}.json").write_bytes(uitkomst.als_json())
    (uit / f"{naam}.md").write_text(uitkomst.als_pagina(), encoding="utf-8")
    click.echo(uitkomst.als_pagina())
    click.echo(f"Geschreven: {uit / naam}.json en .md")


@cli.command()
@click.option(
    "--url",
    "urls",
    multiple=True,
    default=("http://127.0.0.1:6066",),
    show_default=True,
    help="A worker's web address (repeatable: every worker you run).",
)
@click.option("--token", envvar="ENGINE_OPS_TOKEN", default=None, help="An ops token (or ENGINE_OPS_TOKEN).")
@click.option("--app-id", envvar="ENGINE_APP_ID", default="riec-engine", show_default=True)
def status(urls: tuple[str, ...], token: str | None, app_id: str) -> None:
    """Per stage: records waiting (from the broker), age of the last commit, fenced and quarantined
    counts; per worker: ready or not and why, and the key store check. For the person on call."""
    click.echo(ops_status.status(list(urls), token, _engine(), app_id))


cli.add_command(ops_regelversie.regelversie)


if __name__ == "__main__":
    cli()
