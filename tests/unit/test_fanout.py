"""Given open casussen sharing identifiers with a signal, when its identifiers are looked up in the
open-casus index (`zoek_alle`, as vastleggen does) and it is routed, then each casus is named once, the slip and its routes
stay far below Kafka's 1 MiB, every RIEC that leads such a casus still gets the signal, and a route
says so when the caps left casussen out."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from engine.domain.casusindex import MAX_MATCHES_PER_SIGNAAL, CasusIndex, kies, zoek_alle
from engine.domain.reference import RIECS
from engine.domain.reference.regelversies import regelversies
from engine.domain.routing import route
from engine.events.matching import ZOEKINDEX_ENCODER, CasusMatch, Routebriefje
from engine.events.route import ROUTE_ENCODER, GerouteerdSignaal
from engine.events.signaal import Voertuig
from engine.events.signaal_ontvangen import SignaalOntvangen

NU = datetime(2026, 3, 1, tzinfo=UTC)


def signaal(kentekens: list[str]) -> SignaalOntvangen:
    return SignaalOntvangen(
        signaal_id="politie:fanout",
        bron="politie",
        gemeld_op=NU,
        aangeboden_op=NU,
        ontvangen_op=NU,
        soort="signaal",
        themas=["drugs"],
        omschrijving="x",
        waargenomen_op=date(2026, 3, 1),
        subjecten=[Voertuig(kenteken=k) for k in kentekens],
    )


def reis(index: CasusIndex, briefje: Routebriefje) -> Routebriefje:
    """The lookups of a signal's identifiers, as vastleggen makes them (`zoek_alle`)."""
    matches, begrensd = zoek_alle(index, briefje.te_zoeken)
    return Routebriefje(signaal=briefje.signaal, te_zoeken=[], matches=matches, begrensd=begrensd)


def test_seventy_casussen_naming_the_same_hundred_kentekens_give_one_small_slip_naming_each_once() -> None:
    kentekens = [f"AB{i:03d}C" for i in range(100)]
    index = CasusIndex()
    for c in range(70):
        for k in kentekens:
            index.voeg_toe(f"kenteken:{k}", f"R-2026-{c:03d}", "rotterdam")
    s = signaal(kentekens)

    briefje = reis(index, Routebriefje(signaal=s, te_zoeken=[f"kenteken:{k}" for k in kentekens]))

    assert sorted(m.casus_id for m in briefje.matches) == [f"R-2026-{c:03d}" for c in range(70)]
    assert briefje.begrensd, "the first kenteken had more new casussen than one identifier may add"
    assert len(ZOEKINDEX_ENCODER.encode(briefje)) < 64 * 1024
    [naar_rotterdam] = [r for r in route(s, regelversies(), (), briefje.matches, briefje.begrensd)]
    regels = [r.regel for r in naar_rotterdam.redenen]
    assert regels.count("open_casus") == 70 and regels.count("open_casus_begrensd") == 1
    bericht = GerouteerdSignaal.van(s, naar_rotterdam.bestemming, list(naar_rotterdam.redenen))
    assert len(ROUTE_ENCODER.encode(bericht)) < 64 * 1024


def test_a_slip_written_before_the_caps_is_capped_when_routed_and_still_reaches_every_riec() -> None:
    oud = [
        CasusMatch(casus_id=f"C-{i:05d}", riec=RIECS[i % 10], identificator="kenteken:X") for i in range(7000)
    ]

    matches, begrensd = kies(oud, max_nieuw=MAX_MATCHES_PER_SIGNAAL)

    assert begrensd and len(matches) == MAX_MATCHES_PER_SIGNAAL
    assert {m.riec for m in matches} == set(RIECS)


casussen = st.lists(st.tuples(st.integers(0, 400), st.sampled_from(RIECS), st.integers(0, 30)), max_size=600)


@given(casussen, st.lists(st.integers(0, 30), min_size=1, max_size=40, unique=True))
def test_caps_never_change_the_destinations_and_say_when_casussen_were_left_out(
    index_inhoud: list[tuple[int, str, int]], signaal_ids: list[int]
) -> None:
    index = CasusIndex()
    for casus, riec, ident in index_inhoud:
        index.voeg_toe(f"kenteken:K{ident}", f"C-{casus}-{riec}", riec)
    idents = [f"kenteken:K{i}" for i in signaal_ids]

    briefje = reis(index, Routebriefje(signaal=signaal([]), te_zoeken=idents))

    alle = {m.casus_id: m.riec for i in idents for m in index.zoek(i)}
    genoemd = [m.casus_id for m in briefje.matches]
    assert len(genoemd) == len(set(genoemd)), "each casus once"
    assert {m.riec for m in briefje.matches} == set(alle.values()), "every RIEC with such a casus"
    assert len(genoemd) <= MAX_MATCHES_PER_SIGNAAL + len(RIECS)
    if len(genoemd) < len(alle):
        assert briefje.begrensd
