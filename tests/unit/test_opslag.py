"""The inbox keeps its messages in the local store (engine.projections.opslag) and only counts in
memory; given any messages, pages and hashes are what the list of every message gave before."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.events.signaal_ontvangen import SIGNAAL_LOG_ENCODER
from engine.projections.inbox import Inbox
from engine.projections.opslag import Opslag
from engine.projections.staat import ProjectieStaat
from engine.topics import SIGNAAL_LOG
from tests.fixtures import ontvangen

BESTEMMINGEN = ["riec.limburg", "riec.rotterdam", "lft.fiod"]


def bericht(n: int, bestemming: str) -> bytes:
    return orjson.dumps(
        {"signaal_id": f"politie:{n}", "ontvangen_op": "2026-03-02T10:00:00Z", "z": 1, "a": bestemming}
    )


def oude_pagina(items: list[bytes], limit: int, voor: str | None) -> tuple[list[Any], str | None, int]:
    """The paging of the inbox that held every message in a list (before the store), verbatim."""
    eind = len(items) if voor is None else max(0, min(int(voor), len(items)))
    begin = max(0, eind - limit)
    gelezen = [orjson.loads(b) for b in items[begin:eind][::-1]]
    return gelezen, str(begin) if begin > 0 else None, len(items)


@given(
    st.lists(st.sampled_from(BESTEMMINGEN), max_size=60),
    st.integers(min_value=1, max_value=200),
    st.none() | st.integers(min_value=0, max_value=10**12).map(str),
)
def test_every_page_is_the_page_the_list_of_all_messages_gave(
    volgorde: list[str], limit: int, voor: str | None
) -> None:
    # Given messages for several destinations, folded into the inbox and into a plain list each
    inbox = Inbox()
    lijsten: dict[str, list[bytes]] = {b: [] for b in BESTEMMINGEN}
    for n, bestemming in enumerate(volgorde):
        inbox.pas_toe(bestemming, bericht(n, bestemming))
        lijsten[bestemming].append(bericht(n, bestemming))
    for bestemming, items in lijsten.items():
        # When a page is read
        pagina = inbox.pagina(bestemming, limit, voor)
        # Then it is the old page, with the same cursor, total and ETag version
        assert (pagina.items, pagina.volgende, pagina.totaal) == oude_pagina(items, limit, voor)
        assert inbox.versie(bestemming) == len(items)


def test_the_hash_streamed_message_by_message_is_the_hash_of_the_whole_canonical_json() -> None:
    # Given an inbox with messages for two destinations
    staat = ProjectieStaat()
    for n in range(25):
        staat.pas_toe(f"routes.{BESTEMMINGEN[n % 2]}", bericht(n, BESTEMMINGEN[n % 2]))
    # When hashed one message at a time
    gestroomd = staat.hashes()["inbox"]
    # Then it equals dumping every message decoded at once, as the hash was made before
    geheel = hashlib.sha256(orjson.dumps(staat.inbox.canoniek(), option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert gestroomd == geheel
    assert Inbox().canonieke_hash() == hashlib.sha256(b"{}").hexdigest()


def test_a_signals_themes_are_kept_in_the_store_and_the_last_record_wins() -> None:
    opslag = Opslag()
    opslag.zet_themas("politie:1", ["drugs"])
    opslag.zet_themas("politie:1", ["drugs", "witwassen"])
    assert opslag.themas("politie:1") == ["drugs", "witwassen"]
    assert opslag.themas("politie:2") == []


def test_a_workers_store_starts_empty_and_is_removed_when_it_stops(tmp_path: Path) -> None:
    # Given a store file left behind by a worker that was killed
    pad = tmp_path / "data" / "projecties-w1.sqlite3"
    eerste = Opslag(pad)
    eerste.voeg_toe("riec.limburg", 0, b"{}")
    eerste.vastleggen()
    # When the worker starts again
    tweede = Opslag(pad)
    # Then it starts from nothing (the fold from offset 0 fills it), and its file goes when it stops
    assert list(tweede.alle_berichten("riec.limburg")) == []
    tweede.sluit()
    assert not pad.exists()
    eerste.sluit()


def test_a_failing_store_stops_the_fold_instead_of_skipping_the_record() -> None:
    # Given projections whose store is gone (no property of any record)
    staat = ProjectieStaat()
    staat.sluit()
    # When records are folded and written out, then the error surfaces, and nothing is listed as skipped
    with pytest.raises(sqlite3.Error):
        staat.verwerk(SIGNAAL_LOG, 0, 0, SIGNAAL_LOG_ENCODER.encode(ontvangen()))
        staat.verwerk("routes.riec.limburg", 0, 1, bericht(1, "riec.limburg"))
        staat.vastleggen()
    assert staat.aantal_overgeslagen == 0
