"""Adopting a rule version through four eyes: given a version the engine ships, when a named person
of ops or the LIEC files `regelversie_aannemen` with the dry run of that version, then a second
person may approve it; and the attacker's tries are refused on the record: approving one's own
request, a dry run of another version, a version the engine does not ship (a forged id), no dry
run, a role that may not, a dry run on another act. Through the stage and the API as well."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import orjson
import pytest
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from engine.domain.ingress.bsn import bevat_bsn
from engine.domain.proefroutering import Proefroutering, Verschil, samenvatting
from engine.domain.vergeten.vieroogen import Verzoek, beslis, pas_toe
from engine.errors import Weigering
from engine.events.route import Reden
from engine.events.vieroogen import (
    OPDRACHT_DECODER,
    OPDRACHT_ENCODER,
    VERZOEK_DECODER,
    VERZOEK_ENCODER,
    DienIn,
    KeurGoed,
    Opdrachtbericht,
    OpdrachtGeweigerd,
    Proefsamenvatting,
    Telling,
    VerzoekGoedgekeurd,
    VerzoekIngediend,
)
from engine.handlers.verzoeken import Verzoekbeslisser
from engine.metrics import Metrics
from engine.topics import SLEUTELS, VERZOEKEN, VERZOEKOPDRACHTEN
from tests.unit.dashboard_api import T0, omgeving
from tests.unit.fakes import LogInMemory

NU = datetime(2026, 12, 1, 9, tzinfo=UTC)
NIEUW = "0123456789abcdef"
"""A version the engine ships beside the baseline (not adopted)."""
ANDER = "fedcba9876543210"
"""Another version the engine ships."""
GELEVERD = frozenset({NIEUW, ANDER, "d816490f2c45e987"})
V2023 = "d816490f2c45e987"


def proef(versie: str = NIEUW) -> Proefsamenvatting:
    return Proefsamenvatting(
        regelversie=versie, geldig_vanaf=date(2027, 1, 1), van=date(2026, 1, 1), tot=date(2026, 11, 30),
        signalen=120, anders=3, bestemmingen={"riec.rotterdam": Telling(eraf=3)}, sha256="ab" * 32,
    )  # fmt: skip


def aanvraag(versie: str = NIEUW, p: Proefsamenvatting | None = None, **velden: object) -> DienIn:
    return DienIn(
        verzoek_id="rv-1", handeling="regelversie_aannemen", onderwerp=versie, reden="CBS-indeling 2027",
        proef=p if p is not None else proef(versie), **velden,  # type: ignore[arg-type]
    )  # fmt: skip


def code(verzoek: Verzoek | None, o: DienIn | KeurGoed, door: str) -> str:
    with pytest.raises(Weigering) as w:
        beslis(verzoek, o, door, NU, GELEVERD)
    return w.value.code


def ingediend(door: str = "ops:anna") -> Verzoek:
    [g] = beslis(None, aanvraag(), door, NU, GELEVERD)
    verzoek = pas_toe(None, g)
    assert verzoek is not None
    return verzoek


# The decision


def test_a_second_named_person_approves_and_the_approval_names_the_version() -> None:
    [g] = beslis(None, aanvraag(), "ops:anna", NU, GELEVERD)
    assert isinstance(g, VerzoekIngediend) and (g.onderwerp, g.proef) == (NIEUW, proef())
    verzoek = pas_toe(None, g)
    [goed] = beslis(verzoek, KeurGoed(verzoek_id="rv-1"), "liec:cor", NU + timedelta(hours=1), GELEVERD)
    assert goed == VerzoekGoedgekeurd(
        verzoek_id="rv-1", door="liec:cor", op=NU + timedelta(hours=1), handeling="regelversie_aannemen",
        onderwerp=NIEUW,
    )  # fmt: skip


def test_the_requester_approving_their_own_adoption_is_refused() -> None:
    assert code(ingediend("ops:anna"), KeurGoed(verzoek_id="rv-1"), "ops:anna") == "four_eyes"


def test_a_dry_run_of_another_version_is_refused() -> None:
    assert code(None, aanvraag(NIEUW, proef(ANDER)), "ops:anna") == "proef_mismatch"


def test_a_forged_version_id_is_refused_whatever_its_dry_run_says() -> None:
    assert code(None, aanvraag("1111111111111111"), "ops:anna") == "unknown_regelversie"
    assert code(None, aanvraag("../../etc/passwd", proef()), "liec:cor") == "unknown_regelversie"


def test_a_request_without_its_dry_run_is_refused() -> None:
    o = msgspec.structs.replace(aanvraag(), proef=None)
    assert code(None, o, "ops:anna") == "proef_missing"


def test_a_baseline_version_needs_no_adoption() -> None:
    assert code(None, aanvraag(V2023), "ops:anna") == "already_adopted"


@pytest.mark.parametrize("door", ["riec:rotterdam", "lft:omg", "partner:politie", "ops", "liec"])
def test_only_a_named_person_of_ops_or_the_liec_files_or_approves(door: str) -> None:
    assert code(None, aanvraag(), door) == "not_authorised"
    assert code(ingediend(), KeurGoed(verzoek_id="rv-1"), door) == "not_authorised"


def test_a_dry_run_on_another_act_is_refused() -> None:
    o = DienIn(verzoek_id="w-1", handeling="wissen", onderwerp="kvk:12345678", reden="r", proef=proef())
    assert code(None, o, "ops:anna") == "proef_unexpected"


def test_an_approval_on_a_worker_that_no_longer_ships_the_version_is_refused() -> None:
    with pytest.raises(Weigering) as w:
        beslis(ingediend(), KeurGoed(verzoek_id="rv-1"), "liec:cor", NU, frozenset({ANDER}))
    assert w.value.code == "unknown_regelversie"


def test_a_request_logged_before_dry_runs_existed_still_decodes() -> None:
    oud = msgspec.json.decode(VERZOEK_ENCODER.encode(pas_ingediend()))
    del oud["proef"]
    g = VERZOEK_DECODER.decode(msgspec.json.encode(oud))
    assert isinstance(g, VerzoekIngediend) and g.proef is None


def pas_ingediend() -> VerzoekIngediend:
    [g] = beslis(None, aanvraag(), "ops:anna", NU, GELEVERD)
    assert isinstance(g, VerzoekIngediend)
    return g


# The dry run's summary


def test_the_summary_counts_per_destination_and_hashes_the_file_as_written() -> None:
    def verschil(s: str, b: str, wat: str) -> Verschil:
        r = (Reden(regel="locatie", toelichting="t"),)
        return Verschil(
            signaal_id=s, bestemming=b, wat=wat, redenen_gerouteerd=r if wat != "erbij" else (),  # type: ignore[arg-type]
            redenen_proef=r if wat != "eraf" else (), regelversie_gerouteerd=V2023,
        )  # fmt: skip

    uitkomst = Proefroutering(
        van=date(2026, 1, 1), tot=date(2026, 11, 30), regelversie=NIEUW, geldig_vanaf=date(2027, 1, 1),
        omschrijving="", signalen=10, verschillen=[
            verschil("om:1", "riec.rotterdam", "eraf"), verschil("om:1", "riec.zeeland-west-brabant", "erbij"),
            verschil("om:2", "riec.rotterdam", "andere_redenen"),
        ],
    )  # fmt: skip
    inhoud = uitkomst.als_json()
    s = samenvatting(inhoud)
    assert (s.regelversie, s.signalen, s.anders, s.van, s.tot) == (NIEUW, 10, 2, uitkomst.van, uitkomst.tot)
    assert s.bestemmingen == {
        "riec.rotterdam": Telling(eraf=1, andere_redenen=1),
        "riec.zeeland-west-brabant": Telling(erbij=1),
    }
    assert s.sha256 != samenvatting(inhoud + b"\n").sha256, "a byte more is another file"
    assert msgspec.json.decode(msgspec.json.encode(s), type=Proefsamenvatting) == s


# Through the stage


async def test_the_stage_files_the_version_id_unsealed_with_its_dry_run_and_no_key() -> None:
    log = LogInMemory()
    stage = Verzoekbeslisser(
        log_reader=log, metrics=Metrics(CollectorRegistry()), hoofdsleutel=bytes(range(32)),
        regelversies=GELEVERD, clock=lambda: NU,
    )  # fmt: skip
    await stage.prepare({TopicPartition(VERZOEKOPDRACHTEN, 0)})

    def geef(door: str, o: DienIn | KeurGoed) -> list[object]:
        value = OPDRACHT_ENCODER.encode(Opdrachtbericht(door=door, opdracht=o))
        uit = log.write(stage.process(log.append(VERZOEKOPDRACHTEN, o.verzoek_id.encode(), value)))
        return [VERZOEK_DECODER.decode(u.value) for u in uit if u.topic == VERZOEKEN]

    [g] = geef("ops:anna", aanvraag())
    assert isinstance(g, VerzoekIngediend) and g.onderwerp == NIEUW and g.proef == proef()
    assert log.records(SLEUTELS) == [], "nothing to seal: a version id names no one"
    [w] = geef("ops:anna", KeurGoed(verzoek_id="rv-1"))
    assert isinstance(w, OpdrachtGeweigerd) and w.code == "four_eyes"
    [w] = geef("ops:bert", msgspec.structs.replace(aanvraag(), verzoek_id="rv-2", proef=proef(ANDER)))
    assert isinstance(w, OpdrachtGeweigerd) and (w.code, w.opdracht) == ("proef_mismatch", "dien_in")
    [goed] = geef("liec:cor", KeurGoed(verzoek_id="rv-1"))
    assert isinstance(goed, VerzoekGoedgekeurd) and goed.onderwerp == NIEUW


# Through the API


PAD = "/api/v1/ops/verzoeken"


async def test_the_api_files_the_version_unsealed_with_its_dry_run_and_shows_both() -> None:
    body = {
        "verzoek_id": "rv-1", "handeling": "regelversie_aannemen", "onderwerp": NIEUW,
        "reden": "CBS-indeling 2027", "proef": msgspec.to_builtins(proef()),
    }  # fmt: skip
    async with omgeving() as o:
        r = await o.post(PAD, "ops:anna", body)
        assert r.status == 202, await r.read()
        [(sleutel, value)] = o.verzoekopdrachten.geschreven
        bericht = OPDRACHT_DECODER.decode(orjson.dumps(value))
        assert sleutel == "rv-1" and bericht.door == "ops:anna"
        assert bericht.opdracht == aanvraag(sleutel=None), "unsealed, with the dry run, no key"

        # Then the request as the stage logged it shows the version and its dry run.
        [g] = beslis(None, bericht.opdracht, bericht.door, T0, GELEVERD)
        o.staat.pas_toe(VERZOEKEN, VERZOEK_ENCODER.encode(g))
        v = await (await o.get(f"{PAD}/rv-1", "liec:cor")).json()
        assert (v["handeling"], v["regelversie"], v["status"]) == ("regelversie_aannemen", NIEUW, "open")
        assert v["proef"] == orjson.loads(msgspec.json.encode(proef()))


async def test_a_version_id_with_a_digit_run_like_a_bsn_is_filed_as_the_hash_it_is() -> None:
    versie = "a111222333bcdefa"  # 111222333 passes the elfproef
    assert bevat_bsn(versie, als_id=True)
    body = {"verzoek_id": "rv-1", "handeling": "regelversie_aannemen", "onderwerp": versie, "reden": "r",
            "proef": msgspec.to_builtins(proef(versie))}  # fmt: skip
    async with omgeving() as o:
        assert (await o.post(PAD, "ops:anna", body)).status == 202
    with pytest.raises(Weigering) as w:
        beslis(None, aanvraag(versie), "ops:anna", NU, GELEVERD)
    assert w.value.code == "unknown_regelversie" and "111222333" not in w.value.reden, "not echoed"


@pytest.mark.parametrize(
    ("wijziging", "fout"),
    [
        ({"onderwerp": "2027-01-01"}, "onderwerp must be a rule version's id: 16 of 0-9 a-f"),
        ({"onderwerp": NIEUW.upper()}, "onderwerp must be a rule version's id"),
        ({"proef": {**msgspec.to_builtins(proef()), "sha256": "niet-hex"}}, "the body does not fit"),
        ({"proef": {**msgspec.to_builtins(proef()), "signalen": -1}}, "the body does not fit"),
        ({"proef": {**msgspec.to_builtins(proef()), "regelversie": "X" * 16}}, "the body does not fit"),
        # A number typed as a destination (a BSN) would stay on the log as long as the request.
        (
            {"proef": {**msgspec.to_builtins(proef()), "bestemmingen": {"111222333": {}}}},
            "the body does not fit",
        ),
        (
            {"proef": {**msgspec.to_builtins(proef()), "bestemmingen": {"riec.nergens": {}}}},
            "not a destination",
        ),
    ],
)
async def test_a_malformed_dry_run_is_a_400(wijziging: dict[str, object], fout: str) -> None:
    body = {"verzoek_id": "rv-1", "handeling": "regelversie_aannemen", "onderwerp": NIEUW, "reden": "r"}
    async with omgeving() as o:
        r = await o.post(PAD, "ops:anna", body | wijziging)
        assert r.status == 400 and fout in (await r.json())["fout"]
        assert o.verzoekopdrachten.geschreven == []
