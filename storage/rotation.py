"""Key rotation: rewrap every data key under the active key-encryption key (``docsvc keys rotate``).

Only the small key records are rewritten; content objects (possibly write-once) never are. Put the
new key in the ring and make it active, run this, and only then remove the old key from the ring.
"""

from __future__ import annotations

from storage.crypto import KeyRing
from storage.port import ObjectStore


def rotate_keys(store: ObjectStore, keyring: KeyRing | None = None) -> int:
    """How many data keys were rewrapped (0 when all already use the active key)."""
    return store.rotate_keys(keyring)
