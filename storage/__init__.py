"""Content-addressed object storage with integrity checks, write-once locks and envelope
encryption (see README.md).

    from storage import open_store
    from storage.crypto import KeyRing
    store = open_store("file://var/objects", keyring=KeyRing.from_config("k1:<base64>"), url_secret=b"...")
    info = store.put(open("a.pdf", "rb"), content_type="application/pdf", encrypt=False)
    with store.open(info.key) as fh: ...          # verified as it is read
"""

from storage.crypto import KeyRing
from storage.errors import (
                            ConfigurationError,
                            ExpiredLinkError,
                            IntegrityError,
                            InvalidArgument,
                            InvalidKey,
                            InvalidLinkError,
                            LegalHoldError,
                            LinkError,
                            LinkNotAllowed,
                            MissingKeyError,
                            ObjectExists,
                            ObjectLockedError,
                            ObjectNotFound,
                            RetentionError,
                            RetentionShorteningError,
                            StorageError,
                            StorageUnavailable,
                            WrongKeyError,
)
from storage.factory import open_store
from storage.links import content_disposition
from storage.port import LinkVerifier, NamedObject, ObjectInfo, ObjectReader, ObjectStore, RetentionMode, SweepCandidate
from storage.rotation import rotate_keys
from storage.sweep import SweepReport, sweep_orphans

__all__ = [
    "ConfigurationError", "ExpiredLinkError", "IntegrityError", "InvalidArgument", "InvalidKey", "InvalidLinkError",
    "KeyRing", "LegalHoldError", "LinkError", "LinkNotAllowed", "LinkVerifier", "MissingKeyError", "NamedObject",
    "ObjectExists", "ObjectInfo", "ObjectLockedError", "ObjectNotFound", "ObjectReader", "ObjectStore",
    "RetentionError", "RetentionMode", "RetentionShorteningError",
    "StorageError", "StorageUnavailable", "SweepCandidate", "SweepReport", "WrongKeyError", "content_disposition",
    "open_store", "rotate_keys", "sweep_orphans",
]
