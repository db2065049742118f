"""Which signals an erasure of one subject reaches, and which ones a retention period lets go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from engine.api.audit import als_lezing, leesregistratie
from engine.domain.vergeten.bewaring import termijnen
from engine.domain.vergeten.inzage import Lezing, als_html, stel_op
from engine.domain.vergeten.overzicht import (
    Aggregaatspoor,
    Overzicht,
    Signaalspoor,
    genoemd_in,
    noemt,
    over,
    termijnwijziging,
    verlopen,
    verlopen_casussen,
)
from engine.events.casus import VergeetAggregaat
from engine.events.signaal import Voertuig
from engine.events.signaal_ontvangen import PersoonPseudoniem
from engine.events.vergeten import VERGETEN_DECODER, GegevensVerlopen, OnderwerpGewist, SleutelVernietigd
from engine.handlers.vergeten import verloop, vernietig, wissen
from engine.topics import KANDIDATEN, OPDRACHTEN_KANDIDATEN, SLEUTELS, VERGETEN, ZOEKINDEX
from tests.fixtures import ontvangen

NU = datetime(2030, 1, 1, tzinfo=UTC)
PSEUDO = "a" * 64


def test_a_subject_is_named_by_its_identifier_or_in_the_free_text() -> None:
    als_subject = ontvangen(subjecten=[PersoonPseudoniem(pseudoniem=PSEUDO)])
    in_tekst = ontvangen(subjecten=[], omschrijving=f"gezien met [persoon:{PSEUDO}] bij de loods")
    kenteken_in_tekst = ontvangen(subjecten=[], omschrijving="een auto, kenteken ab-123-c, reed weg")
    ander = ontvangen(subjecten=[Voertuig(kenteken="XY-999-Z")], omschrijving="niets")

    assert noemt(als_subject, f"persoon:{PSEUDO}") and noemt(in_tekst, f"persoon:{PSEUDO}")
    assert noemt(kenteken_in_tekst, "kenteken:AB123C")
    assert not noemt(ander, f"persoon:{PSEUDO}") and not noemt(ander, "kenteken:AB123C")


def spoor(signaal_id: str, ontvangen_op: datetime, **kwargs: object) -> Signaalspoor:
    s = Signaalspoor(signaal_id, 0, ontvangen_op, signaal=ontvangen(signaal_id, subjecten=[]))
    for naam, waarde in kwargs.items():
        setattr(s, naam, waarde)
    return s


def test_an_erasure_reaches_only_readable_signals_about_the_subject() -> None:
    overzicht = Overzicht()
    subject = ontvangen("gm0363:1", subjecten=[PersoonPseudoniem(pseudoniem=PSEUDO)])
    overzicht.signalen["gm0363:1"] = Signaalspoor("gm0363:1", 3, NU, signaal=subject)
    overzicht.signalen["gm0363:2"] = spoor("gm0363:2", NU)
    overzicht.signalen["gm0363:3"] = Signaalspoor("gm0363:3", 1, NU, leesbaar=False)

    assert [s.signaal_id for s in over(overzicht, f"persoon:{PSEUDO}")] == ["gm0363:1"]


def test_retention_lets_a_signal_go_after_two_years_alone_or_five_after_its_last_casus_closed() -> None:
    """Given signals alone, in an open casus, and in casussen closed long ago or recently, when the
    schedule looks on 2030-01-01 with the default periods, then only the ones whose time came go."""
    oud = NU - timedelta(days=3 * 365)
    overzicht = Overzicht(
        gesloten={"C-oud": NU - timedelta(days=6 * 365), "C-recent": NU - timedelta(days=365)}
    )
    overzicht.signalen = {
        "a:alleen-oud": spoor("a:alleen-oud", oud),
        "a:alleen-nieuw": spoor("a:alleen-nieuw", NU - timedelta(days=30)),
        "a:open-casus": spoor("a:open-casus", oud, casussen={"C-open": "rotterdam"}),
        "a:casus-oud": spoor("a:casus-oud", oud, casussen={"C-oud": "rotterdam"}),
        "a:oud-en-recent": spoor("a:oud-en-recent", oud, casussen={"C-oud": "r", "C-recent": "r"}),
        "a:al-vergeten": spoor("a:al-vergeten", oud, leesbaar=False),
    }

    assert verlopen(overzicht, termijnen(), NU) == {
        "signaal_zonder_casus": ["a:alleen-oud"],
        "signaal_in_casus": ["a:casus-oud"],
    }
    assert verlopen(overzicht, termijnen({"signaal_zonder_casus": 10}), NU)["signaal_zonder_casus"] == [
        "a:alleen-nieuw",
        "a:alleen-oud",
    ]


def test_an_inzage_lists_the_subjects_signals_routes_casussen_and_the_reads_of_them() -> None:
    """Given two signals about the subject (one linked to a casus) and one about another, and audit
    records of reads, when an inzage is drawn up, then it holds exactly the subject's signals with
    their routes and casus, and exactly the reads that showed them; its page escapes every value."""
    overzicht = Overzicht()
    eigen = ontvangen("gm0363:1", subjecten=[PersoonPseudoniem(pseudoniem=PSEUDO)], omschrijving="<b>x</b>")
    in_tekst = ontvangen("gm0363:2", subjecten=[], omschrijving=f"met [persoon:{PSEUDO}]")
    overzicht.signalen["gm0363:1"] = Signaalspoor(
        "gm0363:1", 0, NU, signaal=eigen, bestemmingen=["riec.rotterdam"], casussen={"RT-1": "rotterdam"}
    )
    overzicht.signalen["gm0363:2"] = Signaalspoor("gm0363:2", 1, NU, signaal=in_tekst)
    overzicht.signalen["gm0363:3"] = spoor("gm0363:3", NU)
    lezingen = [
        lezing("riec:rotterdam", ["gm0363:1", "gm0363:3"], []),
        lezing("riec:den-haag", ["gm0363:3"], []),
        lezing("riec:rotterdam", [], ["RT-1"]),
    ]

    inzage = stel_op(overzicht, f"persoon:{PSEUDO}", lezingen, "liec:cor", NU)

    assert [s.signaal_id for s in inzage.signalen] == ["gm0363:1", "gm0363:2"]
    assert inzage.signalen[0].routes == ["riec.rotterdam"] and inzage.signalen[0].casussen == {
        "RT-1": "rotterdam"
    }
    assert [(lz.door, lz.signaal_ids, lz.casus_ids) for lz in inzage.lezingen] == [
        ("riec:rotterdam", ["gm0363:1"], []),
        ("riec:rotterdam", [], ["RT-1"]),
    ]
    pagina = als_html(inzage)
    assert "<b>x</b>" not in pagina and "&lt;b&gt;x&lt;/b&gt;" in pagina and "<script" not in pagina


def lezing(door: str, signaal_ids: list[str], casus_ids: list[str]) -> Lezing:
    record = leesregistratie(
        actor=door, activiteit="inbox", naam="inbox", pad="/api/v1/x", start=NU, eind=NU,
        traceparent=None, signaal_ids=signaal_ids, casus_ids=casus_ids,
    )  # fmt: skip
    return als_lezing(record)


def test_an_erasure_destroys_keys_withdraws_routes_and_names_the_subject_only_to_the_index() -> None:
    """Given a signal about the subject routed to two destinations, on partition 3, when its
    erasure is carried out, then in one transaction: its key is destroyed where it lives, it is
    withdrawn from both destinations, vastleggen and the index are told, the erasure is recorded
    with ids only, and the request's own key goes last."""
    overzicht = Overzicht()
    eigen = ontvangen("gm0363:1", subjecten=[PersoonPseudoniem(pseudoniem=PSEUDO)])
    overzicht.signalen["gm0363:1"] = Signaalspoor(
        "gm0363:1", 3, NU, signaal=eigen, bestemmingen=["riec.rotterdam", "lft.vastgoed"]
    )
    overzicht.signalen["gm0363:2"] = spoor("gm0363:2", NU, bestemmingen=["riec.rotterdam"])

    uit = wissen(overzicht, "wis-1", f"persoon:{PSEUDO}", NU, partities=2)

    ingetrokken = msgspec.json.encode({"type": "ingetrokken", "signaal_id": "gm0363:1"})
    assert [(u.topic, u.key, u.value is None, u.partition) for u in uit] == [
        (SLEUTELS, b"signaal:gm0363:1", True, 3),
        ("routes.riec.rotterdam", b"gm0363:1", False, None),
        ("routes.lft.vastgoed", b"gm0363:1", False, None),
        (KANDIDATEN, b"gm0363:1", False, 3),
        (ZOEKINDEX, b"gm0363:1", False, 0),
        (ZOEKINDEX, b"gm0363:1", False, 1),
        (ZOEKINDEX, f"persoon:{PSEUDO}".encode(), False, None),
        (VERGETEN, b"wis-1", False, None),
        (SLEUTELS, b"verzoek:wis-1", True, 0),
    ]
    assert [u.value for u in uit[4:6]] == [ingetrokken, ingetrokken], "what the signal brought to casussen"
    assert [u.topic for u in uit if PSEUDO.encode() in (u.key or b"") + (u.value or b"")] == [ZOEKINDEX]
    gewist = VERGETEN_DECODER.decode(uit[7].value or b"")
    assert isinstance(gewist, OnderwerpGewist) and gewist.signalen == ["gm0363:1"]


def test_expiry_forgets_what_ran_out_and_records_it_by_rule() -> None:
    overzicht = Overzicht()
    overzicht.signalen["a:oud"] = spoor(
        "a:oud", NU - timedelta(days=800), bestemmingen=["riec.zeeland-west-brabant"]
    )
    overzicht.signalen["a:nieuw"] = spoor("a:nieuw", NU)

    uit = verloop(overzicht, termijnen(), NU)

    assert [(u.topic, u.key) for u in uit] == [
        (SLEUTELS, b"signaal:a:oud"),
        ("routes.riec.zeeland-west-brabant", b"a:oud"),
        (KANDIDATEN, b"a:oud"),
        (VERGETEN, b"signaal_zonder_casus"),
    ]
    verlopen_ = VERGETEN_DECODER.decode(uit[-1].value or b"")
    assert isinstance(verlopen_, GegevensVerlopen) and verlopen_.signalen == ["a:oud"]


def test_destroying_one_signals_key_forgets_that_signal_and_records_whether_it_was_there() -> None:
    overzicht = Overzicht()
    overzicht.signalen["a:1"] = spoor("a:1", NU, bestemmingen=["riec.limburg"])

    uit = vernietig(overzicht, "sv-1", "signaal:a:1", NU, partities=1)
    niets = vernietig(overzicht, "sv-2", "signaal:a:onbekend", NU, partities=1)

    assert [(u.topic, u.key) for u in uit] == [
        (SLEUTELS, b"signaal:a:1"), ("routes.riec.limburg", b"a:1"), (KANDIDATEN, b"a:1"), (ZOEKINDEX, b"a:1"),
        (VERGETEN, b"sv-1"),
    ]  # fmt: skip
    [record] = [VERGETEN_DECODER.decode(u.value or b"") for u in niets]
    assert isinstance(record, SleutelVernietigd) and record.gevonden is False


def test_a_change_of_retention_names_a_rule_of_the_table_and_a_sane_number_of_days() -> None:
    assert termijnwijziging("signaal_zonder_casus=365") == ("signaal_zonder_casus", 365.0)
    assert termijnwijziging("dlq=14.5") == ("dlq", 14.5)
    for fout in ("onbekend=3", "dlq=", "dlq=-1", "dlq=0", "dlq=1e9", "dlq", "dlq=nan"):
        assert termijnwijziging(fout) is None, fout


def aggregaten() -> dict[str, Aggregaatspoor]:
    """A casus naming the subject, an HKP naming it, a casus with its kenteken in its name, a
    casus about someone else, and a forgotten casus that named the subject."""
    return {
        a.aggregaat: a
        for a in (
            Aggregaatspoor("casus:C-1", "rotterdam", naam="Loods", identificatoren=[f"persoon:{PSEUDO}"]),
            Aggregaatspoor("hkp:H-1", "rotterdam", naam="Familie J", identificatoren=[f"persoon:{PSEUDO}"]),
            Aggregaatspoor("casus:C-2", "limburg", naam="Auto AB-123-C"),
            Aggregaatspoor("casus:C-3", "limburg", naam="Ander", identificatoren=["persoon:" + "b" * 64]),
            Aggregaatspoor("casus:C-4", "limburg", leesbaar=False, identificatoren=[f"persoon:{PSEUDO}"]),
        )
    }


def test_an_erasure_reaches_the_casussen_and_hkps_that_name_the_subject_itself() -> None:
    """Given aggregates naming the subject among their subjects or in their name, when it is
    erased, then besluiten is asked to forget exactly the readable ones, each on its own key, and
    the erasure record lists them (ids only)."""
    overzicht = Overzicht(aggregaten=aggregaten())
    assert [a.aggregaat for a in genoemd_in(overzicht, f"persoon:{PSEUDO}")] == ["casus:C-1", "hkp:H-1"]
    assert [a.aggregaat for a in genoemd_in(overzicht, "kenteken:AB123C")] == ["casus:C-2"]

    uit = wissen(overzicht, "wis-1", f"persoon:{PSEUDO}", NU, partities=1)

    vragen = [
        (u.key, msgspec.json.decode(u.value or b"", type=VergeetAggregaat))
        for u in uit
        if u.topic == OPDRACHTEN_KANDIDATEN
    ]
    assert [(k, v.aggregaat, v.grond, v.waarom) for k, v in vragen] == [
        (b"casus:C-1", "casus:C-1", "gewist", "wis-1"), (b"hkp:H-1", "hkp:H-1", "gewist", "wis-1")
    ]  # fmt: skip
    [gewist] = [VERGETEN_DECODER.decode(u.value or b"") for u in uit if u.topic == VERGETEN]
    assert isinstance(gewist, OnderwerpGewist) and gewist.aggregaten == ["casus:C-1", "hkp:H-1"]
    assert not [
        u for u in uit if u.topic != ZOEKINDEX and PSEUDO.encode() in (u.key or b"") + (u.value or b"")
    ]


def test_a_casus_closed_longer_than_its_period_is_forgotten_by_the_casus_rule() -> None:
    overzicht = Overzicht(
        aggregaten=aggregaten(),
        gesloten={
            "C-1": NU - timedelta(days=6 * 365),
            "C-2": NU - timedelta(days=365),
            "C-4": NU - timedelta(days=9 * 365),
        },
    )
    assert verlopen_casussen(overzicht, termijnen()["casus"], NU) == ["casus:C-1"], "C-4 is forgotten already"

    uit = verloop(overzicht, termijnen(), NU)

    assert [(u.topic, u.key) for u in uit] == [(OPDRACHTEN_KANDIDATEN, b"casus:C-1"), (VERGETEN, b"casus")]
    verlopen_ = VERGETEN_DECODER.decode(uit[-1].value or b"")
    assert isinstance(verlopen_, GegevensVerlopen) and (verlopen_.regel, verlopen_.aggregaten) == (
        "casus",
        ["casus:C-1"],
    )


def test_an_inzage_lists_the_casussen_and_hkps_that_name_the_subject_and_the_reads_of_them() -> None:
    overzicht = Overzicht(aggregaten=aggregaten())
    lezingen = [lezing("riec:rotterdam", [], ["C-1"]), lezing("riec:limburg", [], ["C-3"])]

    inzage = stel_op(overzicht, f"persoon:{PSEUDO}", lezingen, "liec:cor", NU)

    assert [(g.aggregaat, g.riec, g.naam) for g in inzage.genoemd_in] == [
        ("casus:C-1", "rotterdam", "Loods"), ("hkp:H-1", "rotterdam", "Familie J")
    ]  # fmt: skip
    assert [(lz.door, lz.casus_ids) for lz in inzage.lezingen] == [("riec:rotterdam", ["C-1"])]
    assert "Familie J" in als_html(inzage)
