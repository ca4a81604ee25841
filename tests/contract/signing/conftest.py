"""The key-source contract runs over every adapter: a PKCS#12 file and a key on a PKCS#11 token
(SoftHSM2). Each adapter knows how to open its good key, its expired key, a missing key, and how
to present a wrong PIN."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from signing.keys import KeyRing, KeySource, Pkcs11KeySource, Pkcs12KeySource
from signing.x509util import utcnow
from tests.signing.pki import ORG_PIN, TestPki, test_pki, token_keys


@dataclass
class KeyAdapter:
    name: str
    open: Callable[[], KeySource]
    open_with_pin: Callable[[str], KeySource]
    open_expired: Callable[[], KeySource]
    open_missing: Callable[[], KeySource]
    open_from_ring: Callable[[KeyRing], KeySource]


def _pkcs12(pki: TestPki, directory: Path) -> KeyAdapter:
    path = directory / "org.p12"
    path.write_bytes(pki.org_p12)
    expired, _ = pki.ca.issue_pkcs12("organisation", pki.ca.organisation, ORG_PIN,
                                     not_before=utcnow() - timedelta(days=30), validity_days=2)
    return KeyAdapter(
        "pkcs12", open=lambda: Pkcs12KeySource(path, ORG_PIN),
        open_with_pin=lambda pin: Pkcs12KeySource(path, pin),
        open_expired=lambda: Pkcs12KeySource(expired, ORG_PIN),
        open_missing=lambda: Pkcs12KeySource(directory / "missing.p12", ORG_PIN),
        open_from_ring=lambda ring: ring.pkcs12(path, ORG_PIN))


def _pkcs11(pki: TestPki) -> KeyAdapter:
    keys = token_keys()
    hsm = keys.hsm
    chain = pki.ca.chain()
    return KeyAdapter(
        "pkcs11", open=lambda: Pkcs11KeySource(hsm.module, hsm.signing_token, hsm.pin, keys.key_label, chain=chain),
        # a token nobody logged into yet: the wrong PIN reaches C_Login
        open_with_pin=lambda pin: Pkcs11KeySource(hsm.module, hsm.fresh_token, pin, keys.key_label),
        open_expired=lambda: Pkcs11KeySource(hsm.module, hsm.signing_token, hsm.pin, keys.expired_label),
        open_missing=lambda: Pkcs11KeySource(hsm.module, hsm.signing_token, hsm.pin, "no-such-key"),
        open_from_ring=lambda ring: ring.pkcs11(hsm.module, hsm.signing_token, hsm.pin, keys.key_label, chain=chain))


@pytest.fixture(scope="session")
def pki() -> TestPki:
    return test_pki()


@pytest.fixture(scope="session", params=["pkcs12", "pkcs11"])
def adapter(request: pytest.FixtureRequest, pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> KeyAdapter:
    if request.param == "pkcs12":
        return _pkcs12(pki, tmp_path_factory.mktemp("p12"))
    return _pkcs11(pki)
