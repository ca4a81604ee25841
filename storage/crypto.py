"""Envelope encryption: AES-256-GCM content in fixed-size chunks, one random data key per object,
the data key wrapped (AES-256-GCM) by a key-encryption key (KEK) of a ``KeyRing``.

Encrypted object layout (what reaches the store)::

    header  = b"DSE1" | chunk_size u32 | dek_id 16 bytes | nonce_prefix 8 bytes      (32 bytes)
    chunk i = AES-GCM(data key, nonce = nonce_prefix | i u32,
                      aad = header | i u64 | final flag 1 byte) -> ciphertext | 16-byte tag

Every chunk is authenticated with its position and whether it is the last, so chunks cannot be
reordered, dropped, or the object truncated at a chunk boundary without an ``IntegrityError``.
An empty plaintext still has one (empty, final) chunk. The header names the data key (``dek_id``);
its wrapped form lives in a separate small record (see ``storage.envelope``) so that rotating the
KEK rewraps the record and never rewrites the (possibly write-once) content object.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.errors import ConfigurationError, IntegrityError, MissingKeyError, WrongKeyError
from storage.streams import CHUNK_SIZE, Readable, exact_chunks, read_exact, with_last

MAGIC = b"DSE1"
_HEADER = struct.Struct(">4sI16s8s")
HEADER_SIZE = _HEADER.size
TAG_SIZE = 16
KEY_SIZE = 32
MAX_CHUNKS = 2**32
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


# ------------------------------------------------------------------ key-encryption keys
@dataclass(frozen=True)
class WrappedKey:
    kek_id: str
    nonce: bytes
    ciphertext: bytes


class KeyRing:
    """Key-encryption keys by id; new data keys are wrapped by the active one, any listed key may
    unwrap. Keep retired keys listed until ``rotate_keys`` has rewrapped everything under the new one."""

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str | None = None) -> None:
        if not keys:
            raise ConfigurationError("the key ring is empty: configure at least one key-encryption key")
        for kid, key in keys.items():
            if not isinstance(kid, str) or not _KEY_ID.fullmatch(kid):
                raise ConfigurationError(f"key id {kid!r} must be 1-64 letters, digits, '.', '_' or '-'")
            if not isinstance(key, bytes | bytearray) or len(key) != KEY_SIZE:
                raise ConfigurationError(f"key {kid!r} must be {KEY_SIZE} bytes (AES-256)")
        self._keys = {kid: bytes(key) for kid, key in keys.items()}
        self.active_key_id = active_key_id if active_key_id is not None else list(keys)[-1]
        if self.active_key_id not in self._keys:
            raise ConfigurationError(f"the active key id {self.active_key_id!r} is not in the key ring")

    @classmethod
    def from_config(cls, spec: str, active_key_id: str | None = None) -> KeyRing:
        """Parse ``"k1:<base64 32 bytes>,k2:<base64 32 bytes>"`` (active: the last one unless named)."""
        keys: dict[str, bytes] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            kid, sep, b64 = item.partition(":")
            if not sep:
                raise ConfigurationError("each key must be written 'keyid:base64key'")
            try:
                key = base64.b64decode(b64.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise ConfigurationError(f"key {kid.strip()!r} is not valid base64") from None
            if kid.strip() in keys:
                raise ConfigurationError(f"key id {kid.strip()!r} is listed twice")
            keys[kid.strip()] = key
        return cls(keys, active_key_id)

    @classmethod
    def generate(cls, key_id: str = "k1") -> KeyRing:
        """A ring with one fresh random key (tests, first start of an embedded deployment)."""
        return cls({key_id: os.urandom(KEY_SIZE)}, key_id)

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self.active_key_id]).encrypt(nonce, data_key, aad)
        return WrappedKey(self.active_key_id, nonce, sealed)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        kek = self._keys.get(wrapped.kek_id)
        if kek is None:
            raise MissingKeyError(f"key-encryption key {wrapped.kek_id!r} is not configured "
                                  f"(configured: {', '.join(self._keys)})")
        try:
            data_key = AESGCM(kek).decrypt(wrapped.nonce, wrapped.ciphertext, aad)
        except InvalidTag:
            raise WrongKeyError(f"key-encryption key {wrapped.kek_id!r} does not open this data key: the "
                                "configured key differs from the one that wrapped it, or the record was "
                                "tampered with") from None
        if len(data_key) != KEY_SIZE:
            raise WrongKeyError(f"the data key unwrapped by {wrapped.kek_id!r} has a wrong length")
        return data_key

    def __repr__(self) -> str:  # never show key material
        return f"KeyRing(ids={self.key_ids}, active={self.active_key_id!r})"


# ------------------------------------------------------------------ chunked content encryption
@dataclass(frozen=True)
class ContentHeader:
    chunk_size: int
    dek_id: str  # 32 hex characters
    nonce_prefix: bytes

    def pack(self) -> bytes:
        return _HEADER.pack(MAGIC, self.chunk_size, bytes.fromhex(self.dek_id), self.nonce_prefix)

    @classmethod
    def unpack(cls, raw: bytes, what: str) -> ContentHeader:
        if len(raw) != HEADER_SIZE:
            raise IntegrityError(f"{what}: encrypted content is shorter than its header")
        magic, chunk_size, dek, prefix = _HEADER.unpack(raw)
        if magic != MAGIC or not 0 < chunk_size <= 64 * 1024 * 1024:
            raise IntegrityError(f"{what}: not an encrypted object of this library (bad header)")
        return cls(chunk_size, dek.hex(), prefix)

    def nonce(self, index: int) -> bytes:
        if index >= MAX_CHUNKS:
            raise ValueError("too many chunks for one data key")
        return self.nonce_prefix + index.to_bytes(4, "big")

    def aad(self, index: int, final: bool) -> bytes:
        return self.pack() + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def encrypted_size(plain_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """Stored size of ``plain_size`` bytes of plaintext (header + plaintext + one tag per chunk)."""
    chunks = max(1, -(-plain_size // chunk_size))
    return HEADER_SIZE + plain_size + TAG_SIZE * chunks


def plain_size(stored_size: int, chunk_size: int) -> int:
    """Inverse of ``encrypted_size`` (for stores whose metadata lost the plaintext size)."""
    body = stored_size - HEADER_SIZE
    full, rest = divmod(body, chunk_size + TAG_SIZE)
    return full * chunk_size + max(0, rest - TAG_SIZE)


class DataKey:
    """A fresh random data key for one object, and the header its content will carry."""

    def __init__(self, chunk_size: int = CHUNK_SIZE) -> None:
        self.key = AESGCM.generate_key(bit_length=256)
        self.header = ContentHeader(chunk_size, os.urandom(16).hex(), os.urandom(8))

    @property
    def dek_id(self) -> str:
        return self.header.dek_id

    def encrypt(self, plain_chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Header then sealed chunks; ``plain_chunks`` must be exactly ``chunk_size`` long except the last."""
        aes = AESGCM(self.key)
        h = self.header
        yield h.pack()
        index = 0
        for chunk, last in with_last(plain_chunks):
            if not last and len(chunk) != h.chunk_size:
                raise ValueError("plaintext chunks must have the header's chunk size")
            yield aes.encrypt(h.nonce(index), chunk, h.aad(index, last))
            index += 1
        if index == 0:  # empty plaintext: one empty final chunk still authenticates the end
            yield aes.encrypt(h.nonce(0), b"", h.aad(0, True))

    def encrypt_stream(self, plain: Readable, limit: int | None = None) -> Iterator[bytes]:
        return self.encrypt(exact_chunks(plain, self.header.chunk_size, limit))


def read_header(raw: Readable, what: str) -> ContentHeader:
    return ContentHeader.unpack(read_exact(raw, HEADER_SIZE), what)


def decrypt_chunks(raw: Readable, header: ContentHeader, data_key: bytes, what: str) -> Iterator[bytes]:
    """Plaintext chunks of ``raw`` (positioned just after the header); ``IntegrityError`` on any
    tampering, reordering or truncation, raised before the affected chunk is returned."""
    aes = AESGCM(data_key)
    sealed = exact_chunks(raw, header.chunk_size + TAG_SIZE)
    seen = False
    for index, (chunk, last) in enumerate(with_last(sealed)):
        seen = True
        try:
            yield aes.decrypt(header.nonce(index), chunk, header.aad(index, last))
        except InvalidTag:
            raise IntegrityError(f"{what}: encrypted chunk {index} fails authentication "
                                 "(tampered, truncated or reordered)") from None
    if not seen:
        raise IntegrityError(f"{what}: encrypted content has no chunk (truncated)")
