"""`python -m engine.tools regelversie aanvragen`: file the request to adopt a rule version, with its
dry run attached (four eyes: a second person approves it through the API, README "Adopting it").

Posts to a worker's four-eyes API as the person whose token it is, as the README's curl does; the
engine decides (`engine.domain.vergeten.vieroogen`), this only reads the dry run's file and sums it.
"""

from __future__ import annotations

import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path

import click
import msgspec
import orjson

from engine.domain.proefroutering import samenvatting
from engine.domain.reference.regelversies import Regelversie, Regelversies, geleverd, laad_versie
from engine.events.vieroogen import Proefsamenvatting
from engine.settings import extra_regelversies_uit

PAD = "/api/v1/ops/verzoeken"


def geleverde() -> Regelversies:
    """The versions a worker with this environment ships (packaged, and ENGINE_EXTRA_REGELVERSIES)."""
    return geleverd(extra_regelversies_uit(os.environ))


def kies(keuze: str) -> Regelversie:
    """A shipped version by its id or folder name (its `geldig_vanaf`), or a version's folder."""
    for v in geleverde().geleverd:
        if keuze in (v.id, v.geldig_vanaf.isoformat()):
            return v
    pad = Path(keuze)
    if not pad.is_dir():
        namen = ", ".join(f"{v.geldig_vanaf} ({v.id})" for v in geleverde().geleverd)
        raise click.BadParameter(
            f"neither a shipped version ({namen}) nor a version's folder", param_hint="--regels"
        )
    try:
        return laad_versie(pad)
    except ValueError as fout:
        raise click.BadParameter(str(fout), param_hint="--regels") from fout


def proefbestand(proef: Path, versie: Regelversie) -> Path:
    """The dry run's JSON: `proef` itself, or in a folder the newest `proefroutering-*-<id>.json`."""
    if proef.is_file():
        return proef
    gevonden = sorted(proef.glob(f"proefroutering-*-{versie.id}.json"), key=lambda p: p.stat().st_mtime)
    if not gevonden:
        raise click.BadParameter(
            f"no dry run of version {versie.id} in {proef}: run proefrouteer --regels first",
            param_hint="--proef",
        )
    return gevonden[-1]


def lees_proef(bestand: Path, versie: Regelversie) -> Proefsamenvatting:
    """The summary of a dry run of `versie`; a file of another version or no dry run is refused here
    already (the engine would refuse it too, on the record)."""
    try:
        proef = samenvatting(bestand.read_bytes())
    except (msgspec.DecodeError, msgspec.ValidationError) as fout:
        raise click.BadParameter(
            f"{bestand} is not a proefrouteer JSON: {fout}", param_hint="--proef"
        ) from None
    if proef.regelversie != versie.id:
        raise click.BadParameter(
            f"{bestand} is a dry run of version {proef.regelversie}, not of {versie.id}", param_hint="--proef"
        )
    return proef


def post(url: str, token: str, body: dict[str, object]) -> tuple[int, bytes]:
    """POST JSON with a bearer token; the status and body, also of a refusal (4xx, 5xx)."""
    verzoek = urllib.request.Request(
        url,
        data=orjson.dumps(body),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(verzoek, timeout=10) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@click.group()
def regelversie() -> None:
    """Rule versions: adopting one through four eyes (README, Adopting it)."""


@regelversie.command()
@click.option("--regels", required=True, help="The version: a shipped version's id or date, or its folder.")
@click.option(
    "--proef",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="The dry run of that version: proefrouteer's JSON, or the --uit folder it wrote it to.",
)
@click.option("--reden", required=True, help="Why it should route: kept forever, no personal data.")
@click.option(
    "--verzoek-id", default=None, help="The request's id; regelversie-<geldig_vanaf>-<random> when omitted."
)
@click.option("--geldig-uren", type=click.IntRange(1, 168), default=72, show_default=True)
@click.option("--url", default="http://127.0.0.1:6066", show_default=True, help="A worker's web address.")
@click.option(
    "--token",
    envvar="ENGINE_VERZOEK_TOKEN",
    required=True,
    help="Your own token (ops:<wie> or liec:<wie>), or ENGINE_VERZOEK_TOKEN.",
)
def aanvragen(
    regels: str, proef: Path, reden: str, verzoek_id: str | None, geldig_uren: int, url: str, token: str
) -> None:
    """File the request to adopt a rule version with the summary of its dry run and the sha256 of
    the dry run's JSON; a second person approves it (POST …/<verzoek_id>/goedkeuring) after reading
    that JSON and its page. Exits 1 when the API does not take the request."""
    versie = kies(regels)
    bestand = proefbestand(proef, versie)
    samenvatting_ = lees_proef(bestand, versie)
    # Not the version's id: a hex id may hold a nine-digit run the API reads as a BSN.
    verzoek_id = verzoek_id or f"regelversie-{versie.geldig_vanaf}-{secrets.token_hex(3)}"
    body: dict[str, object] = {
        "verzoek_id": verzoek_id,
        "handeling": "regelversie_aannemen",
        "onderwerp": versie.id,
        "reden": reden,
        "geldig_uren": geldig_uren,
        "proef": msgspec.to_builtins(samenvatting_),
    }
    status, antwoord = post(url.rstrip("/") + PAD, token, body)
    click.echo(antwoord.decode(errors="replace"))
    if status != 202:
        raise click.ClickException(f"the API answered {status}")
    click.echo(
        f"Filed {verzoek_id}: version {versie.id} (geldig vanaf {versie.geldig_vanaf}), dry run "
        f"{bestand.name} (sha256 {samenvatting_.sha256}).\n"
        f"See: GET {url.rstrip('/')}{PAD}/{verzoek_id}; a second person approves with "
        f"POST {url.rstrip('/')}{PAD}/{verzoek_id}/goedkeuring"
    )
