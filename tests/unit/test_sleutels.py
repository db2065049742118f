"""Crypto-shredding's key ring: given a key made and stored wrapped, a worker that folds the key
store reads what was encrypted under it; once the key is destroyed (a tombstone), nothing
encrypted under it is readable, by any worker, while other keys still work."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag

from engine.domain.vergeten.sleutels import Sleutelfout, Sleutelring

HOOFD = os.urandom(32)


def test_a_worker_folding_the_key_store_reads_what_another_encrypted() -> None:
    schrijver = Sleutelring(HOOFD)
    verpakt = schrijver.nieuw("signaal:kmar:s-1")
    blob = schrijver.versleutel("signaal:kmar:s-1", b'{"kenteken":"AB123C"}', "kmar:s-1")
    assert b"AB123C" not in blob and b"AB123C" not in verpakt

    lezer = Sleutelring(HOOFD)
    lezer.herstel("signaal:kmar:s-1", verpakt)

    assert lezer.ontsleutel("signaal:kmar:s-1", blob, "kmar:s-1") == b'{"kenteken":"AB123C"}'


def test_a_destroyed_key_leaves_its_data_unreadable_and_others_readable() -> None:
    ring = Sleutelring(HOOFD)
    ring.herstel("signaal:a", ring.nieuw("signaal:a"))
    ring.herstel("signaal:b", ring.nieuw("signaal:b"))
    a, b = ring.versleutel("signaal:a", b"over a"), ring.versleutel("signaal:b", b"over b")

    ring.herstel("signaal:a", None)  # the tombstone on engine.sleutels

    assert ring.ontsleutel("signaal:a", a) is None
    assert ring.ontsleutel("signaal:b", b) == b"over b"


def test_a_ciphertext_or_wrapped_key_moved_to_another_id_does_not_open() -> None:
    ring = Sleutelring(HOOFD)
    verpakt = ring.nieuw("signaal:a")
    ring.nieuw("signaal:b")
    blob = ring.versleutel("signaal:a", b"x", "rec-1")
    with pytest.raises(InvalidTag):
        ring.ontsleutel("signaal:a", blob, "rec-2")
    with pytest.raises(Sleutelfout):
        Sleutelring(HOOFD).herstel("signaal:b", verpakt)


def test_a_key_store_wrapped_under_another_master_key_is_refused() -> None:
    verpakt = Sleutelring(HOOFD).nieuw("controle")
    with pytest.raises(Sleutelfout, match="ENGINE_MASTER_KEY"):
        Sleutelring(os.urandom(32)).herstel("controle", verpakt)
