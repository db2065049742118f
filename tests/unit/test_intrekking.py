"""A routed signal withdrawn from `routes.*` (erased or expired): given routed messages and casus
events, when the withdrawal is folded, then the inbox is what it would be had the signal never been
routed, live or replayed after compaction kept only the withdrawal; pages still page, the store's
file no longer holds the message's bytes, and the API answers 404 as for a signal never seen."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import orjson
from hypothesis import given
from hypothesis import strategies as st

from engine.events.casus import GEBEURTENIS_ENCODER, KoppelingBevestigd
from engine.events.route import (
    INTREKKING_DECODER,
    ROUTE_ENCODER,
    ROUTE_INGETROKKEN_TYPE,
    ROUTE_TYPE,
    GerouteerdSignaal,
    Reden,
)
from engine.kafka.routeren import intrekkingen
from engine.kafka.stage import Output
from engine.ops.schema import asyncapi, json_schemas
from engine.projections.inbox import Inbox
from engine.projections.opslag import Filter, Opslag
from engine.projections.staat import ProjectieStaat
from engine.topics import GEBEURTENISSEN
from tests.fixtures import ontvangen
from tests.unit.dashboard_api import META, gevulde_staat, omgeving

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
GEHEIM = "Zwarte Audi bij loods Hamerstraat, eigenaar J. de Vries-Geheimzinnig"
Record = tuple[str, bytes, list[tuple[str, bytes]]]


def routed(signaal_id: str, bestemming: str, omschrijving: str = "x", regel: str = "locatie") -> Record:
    """A routed message as routeren writes it: its value and its ce_type header."""
    signaal = ontvangen(signaal_id, omschrijving=omschrijving, themas=["drugs"])
    bericht = GerouteerdSignaal.van(signaal, bestemming, [Reden(regel=regel, toelichting="t")], T)
    return f"routes.{bestemming}", ROUTE_ENCODER.encode(bericht), [("ce_type", ROUTE_TYPE.encode())]


def ingetrokken(signaal_id: str, *bestemmingen: str) -> list[Record]:
    return [_record(o) for o in intrekkingen(signaal_id, list(bestemmingen), "gewist", T, verzoek_id="v-1")]


def _record(o: Output) -> Record:
    assert o.value is not None
    return o.topic, o.value, list(o.headers)


def gekoppeld(signaal_id: str) -> Record:
    g = KoppelingBevestigd(**META, opdracht_id="rotterdam:k", casus_id="R-1", signaal_id=signaal_id)
    return GEBEURTENISSEN, GEBEURTENIS_ENCODER.encode(g), []


def gevouwen(records: list[Record]) -> ProjectieStaat:
    s = ProjectieStaat()
    for offset, (topic, value, headers) in enumerate(records):
        assert s.verwerk(topic, 0, offset, value, headers) is None
    s.vastleggen()
    return s


def test_the_withdrawal_is_one_record_per_destination_keyed_by_the_signal_with_ids_and_codes_only() -> None:
    # When a signal routed to Rotterdam and LFT omg (Rotterdam named twice) is withdrawn
    outputs = intrekkingen(
        "politie:s1", ["riec.rotterdam", "lft.omg", "riec.rotterdam"], "gewist", T, verzoek_id="v-1"
    )
    # Then one record per destination on its route topic, keyed like the routed message
    assert [(o.topic, o.key) for o in outputs] == [
        ("routes.riec.rotterdam", b"politie:s1"),
        ("routes.lft.omg", b"politie:s1"),
    ]
    koppen = [dict(o.headers) for o in outputs]
    assert {k["ce_type"] for k in koppen} == {ROUTE_INGETROKKEN_TYPE.encode()}
    assert [k["ce_id"] for k in koppen] == [
        b"politie:s1/riec.rotterdam/ingetrokken",
        b"politie:s1/lft.omg/ingetrokken",
    ]
    assert {k["ce_source"] for k in koppen} == {b"urn:nl:riec:engine"}
    # And its payload names the signal, the destination, the reason and the request: nothing else
    assert outputs[0].value is not None
    assert orjson.loads(outputs[0].value) == {
        "signaal_id": "politie:s1", "bestemming": "riec.rotterdam", "reden": "gewist",
        "ingetrokken_op": "2026-06-01T12:00:00Z", "verzoek_id": "v-1",
    }  # fmt: skip
    verlopen = intrekkingen("politie:s1", ["lft.omg"], "verlopen", T, bewaarregel="signaal_zonder_casus")
    assert verlopen[0].value is not None
    assert INTREKKING_DECODER.decode(verlopen[0].value).bewaarregel == "signaal_zonder_casus"


def _gelijk(*staten: ProjectieStaat) -> None:
    eerste = staten[0]
    for s in staten[1:]:
        assert s.hashes() == eerste.hashes()
        assert s.canoniek() == eerste.canoniek()
        for bestemming in ("riec.rotterdam", "lft.omg"):
            assert s.inbox.tellingen(bestemming) == eerste.inbox.tellingen(bestemming)
            assert s.inbox.per_week(bestemming) == eerste.inbox.per_week(bestemming)


def test_live_and_compacted_replay_of_a_withdrawal_equal_never_having_routed_the_signal() -> None:
    # Given politie:s1 routed to Rotterdam (and linked to casus R-1 there) and to LFT omg, and om:s2
    s1 = [
        routed("politie:s1", "riec.rotterdam", GEHEIM, "open_casus"),
        routed("politie:s1", "lft.omg", GEHEIM),
    ]
    s2 = [routed("om:s2", "riec.rotterdam", regel="handhavingsknelpunt")]
    weg = ingetrokken("politie:s1", "riec.rotterdam", "lft.omg")
    # When politie:s1 is withdrawn live (the link before the withdrawal, or after it in a replay's
    # interleaving of the casus log and the routes), or replayed after compaction (the withdrawal only)
    live = gevouwen([*s1, *s2, gekoppeld("politie:s1"), *weg])
    link_later = gevouwen([*s1, *s2, *weg, gekoppeld("politie:s1")])
    gecompacteerd = gevouwen([*s2, *weg, gekoppeld("politie:s1")])
    # Then every projection equals the one where politie:s1 was never routed (the casus log unchanged)
    nooit = gevouwen([*s2, gekoppeld("politie:s1")])
    _gelijk(nooit, live, link_later, gecompacteerd)
    assert live.inbox.tellingen("riec.rotterdam") == {
        "totaal": 1,
        "handhavingsknelpunt": 1,
        "open_casus": 0,
        "behandeld": 0,
    }
    assert live.inbox.tellingen("lft.omg") == {"totaal": 0, "handhavingsknelpunt": 0, "open_casus": 0}
    assert "lft.omg" not in live.canoniek()["inbox"]
    # And a withdrawal alone (a replay of a compacted topic whose other signals expired) is nothing
    _gelijk(gevouwen(weg), ProjectieStaat())
    assert gevouwen(weg).hashes()["inbox"] == hashlib.sha256(b"{}").hexdigest()


def test_a_withdrawal_of_a_signal_the_inbox_never_had_changes_nothing_and_is_known_without_headers() -> None:
    # Given Rotterdam's inbox with om:s2
    s2 = [routed("om:s2", "riec.rotterdam")]
    voor = gevouwen(s2)
    # When a signal it never had is withdrawn, and a withdrawal is read without its headers
    onbekend = gevouwen([*s2, *ingetrokken("politie:s9", "riec.rotterdam")])
    zonder_koppen = ProjectieStaat()
    for topic, value, _ in [*s2, *ingetrokken("om:s2", "riec.rotterdam")]:
        zonder_koppen.pas_toe(topic, value)
    # Then the first changes nothing, the second takes om:s2 out
    _gelijk(voor, onbekend)
    _gelijk(zonder_koppen, ProjectieStaat())


@given(
    st.integers(min_value=0, max_value=40),
    st.sets(st.integers(min_value=0, max_value=39)),
    st.integers(min_value=1, max_value=7),
    st.booleans(),
)
def test_pages_after_withdrawals_are_full_newest_first_and_end_once(
    n: int, weg: set[int], limit: int, gefilterd: bool
) -> None:
    # Given n messages in an inbox, and a cursor of the first page read before the withdrawals
    inbox = Inbox()
    for i in range(n):
        inbox.pas_toe(
            "riec.limburg",
            orjson.dumps(
                {"signaal_id": f"politie:{i}", "ontvangen_op": "2026-03-02T10:00:00Z", "themas": ["drugs"]}
            ),
        )
    filter_ = Filter(thema="drugs") if gefilterd else Filter()
    cursor = inbox.gefilterde_pagina("riec.limburg", filter_, limit, None).volgende
    # When some are withdrawn
    for i in weg:
        inbox.trek_in("riec.limburg", f"politie:{i}")
    blijft = [f"politie:{i}" for i in reversed(range(n)) if i not in weg]
    # Then following the cursors gives every remaining message once, newest first, in full pages
    gezien: list[str] = []
    voor: str | None = None
    while True:
        pagina = inbox.gefilterde_pagina("riec.limburg", filter_, limit, voor)
        assert pagina.totaal == len(blijft)
        gezien += [i["signaal_id"] for i in pagina.items]
        if pagina.volgende is None:
            break
        assert len(pagina.items) == limit
        voor = pagina.volgende
    assert gezien == blijft
    # And the cursor read before still points below the first page's messages, as it did
    if cursor is not None:
        verder = [
            i["signaal_id"] for i in inbox.gefilterde_pagina("riec.limburg", filter_, n + 1, cursor).items
        ]
        assert verder == [s for s in blijft if int(s.split(":")[1]) < int(cursor)]


def test_a_withdrawn_message_is_gone_from_the_store_file_and_a_new_one_is_numbered_after_it(
    tmp_path: Path,
) -> None:
    # Given a worker's store file holding two messages, written out, one with a long description
    pad = tmp_path / "projecties.sqlite3"
    s = ProjectieStaat(Opslag(pad))
    lang = GEHEIM + " " + "vervolg van de omschrijving " * 300  # beyond a page: overflow pages too
    for topic, value, headers in [
        routed("politie:s1", "riec.rotterdam", GEHEIM),
        routed("politie:s3", "riec.rotterdam", lang),
        routed("om:s2", "riec.rotterdam"),
    ]:
        s.verwerk(topic, 0, 0, value, headers)
    s.vastleggen()
    assert GEHEIM.encode() in pad.read_bytes(), "the test must see the bytes it looks for"
    # When both are withdrawn and the batch is written out
    for topic, value, headers in [
        *ingetrokken("politie:s1", "riec.rotterdam"),
        *ingetrokken("politie:s3", "riec.rotterdam"),
    ]:
        s.verwerk(topic, 0, 1, value, headers)
    s.vastleggen()
    # Then no byte of their descriptions is left in the file (secure_delete), and no journal beside it
    inhoud = pad.read_bytes()
    assert GEHEIM.encode() not in inhoud and b"vervolg van de omschrijving" not in inhoud
    assert not pad.with_name(pad.name + "-journal").exists()
    # And the other message and a new one are read as before
    s.verwerk(*routed("om:s4", "riec.rotterdam")[:1], 0, 2, *routed("om:s4", "riec.rotterdam")[1:])
    assert [i["signaal_id"] for i in s.inbox.pagina("riec.rotterdam", 10).items] == ["om:s4", "om:s2"]
    s.sluit()


async def test_the_api_answers_404_for_a_withdrawn_signal_and_no_longer_lists_it() -> None:
    # Given Rotterdam's inbox with politie:s1 (linked to R-1) and politie:s2
    s = gevulde_staat()
    async with omgeving(s) as o:
        versie = (await o.get("/api/v1/riec/rotterdam/inbox", "riec:rotterdam")).headers["ETag"]
        # When politie:s1 is withdrawn from Rotterdam
        for topic, value, headers in ingetrokken("politie:s1", "riec.rotterdam"):
            s.verwerk(topic, 0, 9, value, headers)
        s.vastleggen()
        # Then reading it is 404, as for a signal never routed there, and the inbox has only politie:s2
        r = await o.get("/api/v1/riec/rotterdam/signalen/politie:s1", "riec:rotterdam")
        assert r.status == 404
        inbox = await o.get("/api/v1/riec/rotterdam/inbox", "riec:rotterdam")
        body = await inbox.json()
        assert [i["signaal_id"] for i in body["items"]] == ["politie:s2"]
        assert body["tellingen"]["totaal"] == 1 and body["tellingen"]["behandeld"] == 0
        assert inbox.headers["ETag"] != versie, "a cached page must not show it"


def test_the_contract_documents_name_the_withdrawal_on_every_route_channel() -> None:
    doc = asyncapi()
    route_channels = [c for c in doc["channels"].values() if c["address"].startswith("routes.")]
    assert len(route_channels) == 5
    for channel in route_channels:
        assert channel["messages"]["ingetrokken"] == {"$ref": "#/components/messages/RouteIngetrokken"}
    assert doc["components"]["messages"]["RouteIngetrokken"]["title"] == ROUTE_INGETROKKEN_TYPE
    schema = json_schemas()[ROUTE_INGETROKKEN_TYPE]
    assert set(schema["$defs"]["RouteIngetrokken"]["required"]) == {
        "signaal_id",
        "bestemming",
        "reden",
        "ingetrokken_op",
    }
    assert (
        msgspec.json.decode(intrekkingen("a:b", ["euriec"], "verlopen", T)[0].value or b"", type=dict)[
            "reden"
        ]
        == "verlopen"
    )
