"""The read side's memory and the casus timeline, measured without Kafka (not part of `make bench`,
never a test): each measurement folds generated records into the engine's own projections in a
fresh process and prints one JSON line.

    .venv/bin/python bench/leeszijde.py geheugen --routes 200000 [--signalen]
    .venv/bin/python bench/leeszijde.py tijdlijn 5000 10000 20000

`geheugen`: peak resident memory (ru_maxrss) of folding that many routed messages of about 1 KB
(over 13 destinations, as the sample traffic spreads them), and with `--signalen` also as many
accepted signals of the signal log, against the same process before the fold. `tijdlijn`: seconds
to fold that many events of one casus (opened once, then advice after advice, in order of `tijd`).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from engine.events.casus import GEBEURTENIS_ENCODER, CasusGeopend, InterventieadviesGegeven
from engine.events.route import ROUTE_ENCODER, GerouteerdSignaal, Reden
from engine.events.signaal import Locatie, Rechtspersoon
from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER, PersoonPseudoniem, SignaalOntvangen
from engine.projections.staat import ProjectieStaat
from engine.topics import GEBEURTENISSEN, SIGNAAL_LOG

BESTEMMINGEN = [
    *(f"riec.{r}" for r in ("rotterdam", "den-haag", "limburg", "oost-nederland", "noord-nederland")),
    *(f"riec.{r}" for r in ("amsterdam-amstelland", "midden-nederland", "noord-holland")),
    "riec.zeeland-west-brabant",
    "lft.fiod",
    "liec.loket",
    "liec.triage",
    "euriec",
]
_BEGIN = datetime(2026, 1, 1, tzinfo=UTC)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _signaal(i: int) -> SignaalOntvangen:
    t = _BEGIN + timedelta(seconds=37 * i)
    return SignaalOntvangen(
        signaal_id=f"politie:{i:012d}-{i * 7919 % 1_000_003:07d}",
        bron="politie",
        gemeld_op=t,
        aangeboden_op=t,
        ontvangen_op=t,
        soort="signaal",
        themas=["witwassen", "vastgoed"],
        omschrijving=f"Contante aankoop {i} van een pand ver boven de WOZ-waarde. " * 10,
        waargenomen_op=date(2026, 1, 1),
        locatie=Locatie(gemeente="GM0599", postcode="3011AB", huisnummer=str(1 + i % 999)),
        subjecten=[
            PersoonPseudoniem(pseudoniem=f"{i:064x}"),
            Rechtspersoon(kvk=f"{10_000_000 + i % 20_000}", sbi=["6831"]),
        ],
    )


def _records(routes: int, signalen: bool) -> Iterator[tuple[str, bytes]]:
    """The records one by one (never all at once: only the projections may hold them)."""
    for i in range(routes):
        s = _signaal(i)
        if signalen:
            yield SIGNAAL_LOG, SIGNAAL_LOG_ENCODER.encode(s)
        bestemming = BESTEMMINGEN[i % len(BESTEMMINGEN)]
        reden = Reden(regel="locatie", toelichting="De locatie ligt in het werkgebied van deze RIEC.")
        bericht = GerouteerdSignaal.van(s, bestemming, [reden], besloten_op=s.ontvangen_op)
        yield f"routes.{bestemming}", ROUTE_ENCODER.encode(bericht)


def _staat(datadir: Path) -> ProjectieStaat:
    """The projections as a worker makes them (a store in its data dir, when the code has one)."""
    try:
        from engine.projections.opslag import Opslag  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # the code before the store
        return ProjectieStaat()
    return ProjectieStaat(Opslag(datadir / "projecties.sqlite3"))  # type: ignore[call-arg,unused-ignore]


def geheugen(routes: int, signalen: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        staat = _staat(Path(tmp))
        gc.collect()
        voor = _rss_mb()
        started = time.monotonic()
        for offset, (topic, value) in enumerate(_records(routes, signalen)):
            staat.verwerk(topic, 0, offset, value)
            if offset % 5000 == 0 and hasattr(staat, "vastleggen"):
                staat.vastleggen()
        seconden = time.monotonic() - started
        pagina = staat.inbox.pagina("riec.rotterdam", 50)
        return {
            "meting": "geheugen",
            "routes": routes,
            "signalen": routes if signalen else 0,
            "rss_voor_mb": round(voor, 1),
            "rss_piek_mb": round(_rss_mb(), 1),
            "fold_s": round(seconden, 1),
            "pagina_items": len(pagina.items),
            "totaal_rotterdam": pagina.totaal,
        }


def _advies(i: int, casus_id: str) -> bytes:
    t = _BEGIN + timedelta(minutes=i)
    return GEBEURTENIS_ENCODER.encode(
        InterventieadviesGegeven(
            opdracht_id=f"rotterdam:advies-{i}",
            riec="rotterdam",
            tijd=t,
            vastgelegd_op=t,
            casus_id=casus_id,
            advies_id=f"a{i}",
            soorten=["bestuurlijk"],
            uitvoerder="gm0599",
            coordinator="rotterdam",
        )
    )


def tijdlijn(n: int) -> dict[str, object]:
    geopend = CasusGeopend(
        opdracht_id="rotterdam:open",
        riec="rotterdam",
        tijd=_BEGIN,
        vastgelegd_op=_BEGIN,
        casus_id="c1",
        naam="Een lange casus",
        bron="signaal",
        signalen=[],
        themas=["drugs"],
        subjecten=[],
    )
    records = [GEBEURTENIS_ENCODER.encode(geopend), *(_advies(i, "c1") for i in range(1, n))]
    with tempfile.TemporaryDirectory() as tmp:
        staat = _staat(Path(tmp))
        started = time.monotonic()
        for offset, value in enumerate(records):
            staat.verwerk(GEBEURTENISSEN, 0, offset, value)
        seconden = time.monotonic() - started
        detail = staat.casussen.detail("rotterdam", "c1")
        assert detail is not None and len(detail["tijdlijn"]) == n
        return {"meting": "tijdlijn", "gebeurtenissen": n, "fold_s": round(seconden, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="meting", required=True)
    g = sub.add_parser("geheugen")
    g.add_argument("--routes", type=int, default=200_000)
    g.add_argument("--signalen", action="store_true")
    g.add_argument("--hier", action="store_true", help=argparse.SUPPRESS)  # in this process
    t = sub.add_parser("tijdlijn")
    t.add_argument("aantallen", type=int, nargs="+")
    args = parser.parse_args()
    if args.meting == "geheugen" and not args.hier:
        # A fresh process, so that ru_maxrss is this fold's peak and nothing else's.
        cmd = [sys.executable, __file__, "geheugen", "--routes", str(args.routes), "--hier"]
        subprocess.run([*cmd, *(["--signalen"] if args.signalen else [])], check=True)
    elif args.meting == "geheugen":
        print(json.dumps(geheugen(args.routes, args.signalen)))
    else:
        for n in args.aantallen:
            print(json.dumps(tijdlijn(n)), flush=True)


if __name__ == "__main__":
    main()
