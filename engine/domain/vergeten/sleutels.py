"""The key ring of crypto-shredding: a data key per signal, casus or HKP, wrapped under the master
key for the key store (`engine.sleutels`, compacted), and the envelope that encrypts a record's
personal fields under it. Destroying a key makes every copy of what it encrypted unreadable
(docs/vergeten.md). No Kafka here: a stage writes and reads the key records.

AES-256-GCM with a random 96-bit nonce per encryption; the key id (and for a field the record's
id) is associated data, so a ciphertext or a wrapped key moved to another id does not decrypt.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.errors import EngineError

NONCE = 12


class Sleutelfout(EngineError):
    """The key store cannot be used: missing, or wrapped under another master key."""


def _versleutel(sleutel: bytes, klaar: bytes, context: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(sleutel).encrypt(nonce, klaar, context)


def _ontsleutel(sleutel: bytes, blob: bytes, context: bytes) -> bytes:
    return AESGCM(sleutel).decrypt(blob[:NONCE], blob[NONCE:], context)


class Sleutelring:
    """The data keys this worker holds, by id; what the key store's log folds into."""

    def __init__(self, hoofdsleutel: bytes) -> None:
        if len(hoofdsleutel) != 32:
            raise ValueError("the master key must be 32 bytes (AES-256)")
        self.hoofdsleutel = hoofdsleutel
        self._sleutels: dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self._sleutels)

    def __contains__(self, sleutel_id: object) -> bool:
        """Whether the key is held: what it sealed can be opened (the retention schedule asks)."""
        return sleutel_id in self._sleutels

    def nieuw(self, sleutel_id: str) -> bytes:
        """A new data key for `sleutel_id`, held here; returns its wrapped form for the key store."""
        sleutel = AESGCM.generate_key(bit_length=256)
        self._sleutels[sleutel_id] = sleutel
        return _versleutel(self.hoofdsleutel, sleutel, sleutel_id.encode())

    def verzegel(self, sleutel_id: str, klaar: bytes, record_id: str = "") -> tuple[bytes, bytes]:
        """Encrypt `klaar` under a new data key for `sleutel_id`, not held here (the writer of a
        record never reads it back): returns the wrapped key for the key store and the ciphertext."""
        sleutel = AESGCM.generate_key(bit_length=256)
        verpakt = _versleutel(self.hoofdsleutel, sleutel, sleutel_id.encode())
        return verpakt, _versleutel(sleutel, klaar, f"{sleutel_id}|{record_id}".encode())

    def herstel(self, sleutel_id: str, verpakt: bytes | None) -> None:
        """Fold one record of the key store: a wrapped key, or a tombstone (the key destroyed).
        Raises Sleutelfout when the record was wrapped under another master key."""
        if verpakt is None:
            self._sleutels.pop(sleutel_id, None)
            return
        try:
            self._sleutels[sleutel_id] = _ontsleutel(self.hoofdsleutel, verpakt, sleutel_id.encode())
        except InvalidTag:
            raise Sleutelfout(
                f"key {sleutel_id!r} in the key store does not unwrap with this master key "
                "(ENGINE_MASTER_KEY): the engine would write what it cannot read back"
            ) from None

    def versleutel(self, sleutel_id: str, klaar: bytes, record_id: str = "") -> bytes:
        """Encrypt `klaar` under the data key `sleutel_id` (KeyError when it is not held)."""
        return _versleutel(self._sleutels[sleutel_id], klaar, f"{sleutel_id}|{record_id}".encode())

    def ontsleutel(self, sleutel_id: str, blob: bytes, record_id: str = "") -> bytes | None:
        """The plaintext, or None when the key was destroyed (the data is forgotten). A blob that
        does not decrypt under a key this ring holds raises InvalidTag: it was tampered with."""
        sleutel = self._sleutels.get(sleutel_id)
        if sleutel is None:
            return None
        return _ontsleutel(sleutel, blob, f"{sleutel_id}|{record_id}".encode())
