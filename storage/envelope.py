"""The wrapped data key record of an encrypted object (stored under ``keys/<object key>/<dek id>``).

The record is small JSON, never locked, and written atomically, so ``rotate_keys`` can rewrap it
under a new key-encryption key while the content object stays untouched (it may be write-once).
The wrap is bound (as AES-GCM associated data) to the object key and data key id: a record copied
onto another object, or edited, fails to unwrap.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from storage.crypto import KeyRing, WrappedKey
from storage.errors import IntegrityError

FORMAT = "docsvc-dek/1"


def _aad(key: str, dek_id: str) -> bytes:
    return f"{FORMAT}|{key}|{dek_id}".encode()


@dataclass(frozen=True)
class DataKeyRecord:
    key: str
    dek_id: str
    wrapped: WrappedKey

    @classmethod
    def seal(cls, key: str, dek_id: str, data_key: bytes, keyring: KeyRing) -> DataKeyRecord:
        return cls(key, dek_id, keyring.wrap(data_key, _aad(key, dek_id)))

    def open(self, keyring: KeyRing) -> bytes:
        return keyring.unwrap(self.wrapped, _aad(self.key, self.dek_id))

    def rewrap(self, keyring: KeyRing) -> DataKeyRecord:
        """The same data key wrapped by the ring's active key (needs the old key in the ring too)."""
        return DataKeyRecord.seal(self.key, self.dek_id, self.open(keyring), keyring)

    def to_bytes(self) -> bytes:
        return json.dumps({
            "format": FORMAT, "object": self.key, "dek_id": self.dek_id, "kek_id": self.wrapped.kek_id,
            "nonce": base64.b64encode(self.wrapped.nonce).decode(),
            "wrapped_key": base64.b64encode(self.wrapped.ciphertext).decode(),
        }, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes, name: str) -> DataKeyRecord:
        try:
            d = json.loads(raw)
            if d["format"] != FORMAT:
                raise ValueError(d["format"])
            return cls(d["object"], d["dek_id"], WrappedKey(
                d["kek_id"], base64.b64decode(d["nonce"], validate=True),
                base64.b64decode(d["wrapped_key"], validate=True)))
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"data key record {name} is unreadable ({type(exc).__name__})") from None
