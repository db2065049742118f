"""Given logs with records the projections cannot fold, when they are folded live and replayed,
then each such record is skipped the same way in both, changes nothing, and is listed with its
coordinates for ops."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.events.casus import GEBEURTENIS_ENCODER, OndermijningsbeeldOpgeleverd
from engine.projections.staat import MAX_OVERGESLAGEN, ProjectieStaat
from engine.topics import GEBEURTENISSEN, SIGNAAL_LOG

NU = datetime(2026, 3, 1, tzinfo=UTC)


def beeld(beeld_id: str) -> bytes:
    g = OndermijningsbeeldOpgeleverd(
        opdracht_id=f"limburg:{beeld_id}",
        riec="limburg",
        tijd=NU,
        vastgelegd_op=NU,
        beeld_id=beeld_id,
        naam="n",
    )
    return GEBEURTENIS_ENCODER.encode(g)


LOG: list[tuple[str, int, int, bytes | None]] = [
    (GEBEURTENISSEN, 0, 0, beeld("b1")),
    (GEBEURTENISSEN, 0, 1, b"[" * 100_000 + b"]" * 100_000),  # nested past every decoder's depth
    (GEBEURTENISSEN, 0, 2, b'{"type": "nl.riec.engine.onbekend.v1"}'),
    (SIGNAAL_LOG, 3, 7, b"\xff\xfe not json"),
    ("routes.riec.limburg", 0, 4, b'{"ontvangen_op": "2026-13-45T00:00:00Z"}'),
    (GEBEURTENISSEN, 1, 0, beeld("b2")),
    (GEBEURTENISSEN, 1, 1, None),
]


def fold(records: list[tuple[str, int, int, bytes | None]]) -> ProjectieStaat:
    staat = ProjectieStaat()
    for topic, partition, offset, value in records:
        staat.verwerk(topic, partition, offset, value)
    return staat


def test_bad_records_are_skipped_alike_live_and_in_replay_and_listed_with_their_coordinates() -> None:
    live, replay = fold(LOG), fold(LOG[::-1])

    assert live.hashes() == replay.hashes()
    assert live.overgeslagen_json()["aantal"] == 4
    assert [(o.topic, o.partition, o.offset) for o in live.overgeslagen] == [
        (GEBEURTENISSEN, 0, 1),
        (GEBEURTENISSEN, 0, 2),
        (SIGNAAL_LOG, 3, 7),
        ("routes.riec.limburg", 0, 4),
    ]
    assert {o.error for o in live.overgeslagen} <= {"RecursionError", "ValidationError", "DecodeError"}


def test_a_skipped_record_changes_no_read_model() -> None:
    met, zonder = fold(LOG), fold([LOG[0], LOG[5]])

    assert {k: v for k, v in met.hashes().items() if k != "overgeslagen"} == {
        k: v for k, v in zonder.hashes().items() if k != "overgeslagen"
    }
    assert met.inbox.per_week("riec.limburg") == {}
    assert met.boek.tabellen(2026)["tabel1"]["limburg"]["ondermijningsbeelden"] == 2


def test_the_list_for_ops_is_bounded_the_count_is_not_and_neither_depends_on_the_interleaving() -> None:
    slecht = [(SIGNAAL_LOG, p, i, b"x") for p in range(3) for i in range(MAX_OVERGESLAGEN)]
    anders = sorted(slecht, key=lambda r: (r[2], -r[1]))  # the partitions read in another interleaving

    staat, replay = fold(slecht), fold(anders)

    assert staat.overgeslagen_json()["aantal"] == 3 * MAX_OVERGESLAGEN
    assert len(staat.overgeslagen_json()["records"]) == MAX_OVERGESLAGEN
    assert staat.hashes() == replay.hashes()
