"""`docsvc ca token-enrol`: the organisation's seal key created on a PKCS#11 token (SoftHSM2), sign
only, certified by the internal CA, its certificate stored on the token; issuing then seals with it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from typing import Any

import pytest

from tests.helpers import settings_env, signed_draft
from tests.signing.pki import softhsm

SUFFIX = secrets.token_hex(4)  # the SoftHSM token lives as long as the test process: one label per run


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    hsm = softhsm()
    return {"pkcs11_module": hsm.module, "pkcs11_token": hsm.signing_token, "pkcs11_pin": hsm.pin,
            "pkcs11_key_label": f"seal-{SUFFIX}-{{organ_id}}"}


@pytest.fixture(autouse=True)
def _seal_session_logged_out() -> Any:
    """Issuing seals through this process's one logged-in session of the token (signing.keys): log it out
    afterwards, so that the next test (the other backend's) can log in to the token itself."""
    yield
    from signing.keys import _TokenSession
    hsm = softhsm()
    _TokenSession.get(hsm.module, hsm.signing_token).logout()


def _cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")}
    env.update(settings_env(settings))
    return subprocess.run([sys.executable, "-m", "docsvc", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_token_enrol_then_issue_seals_with_the_token_key(api, container, backend) -> None:  # type: ignore[no-untyped-def]
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    settings = container.settings
    organ_id = "000.00.31.H41"  # the demo commune that issues
    label = f"seal-{SUFFIX}-{organ_id}" + ("" if backend == "embedded" else "-real")
    r = _cli(settings, "ca", "token-enrol", "--agency", organ_id, "--label", label)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "sign only" in r.stdout
    serial = r.stdout.split("certificate ")[1].split()[0]

    # On the token: the private key signs and does nothing else, and never leaves the token.
    token = pkcs11.lib(settings.pkcs11_module).get_token(token_label=settings.pkcs11_token)
    with token.open(user_pin=settings.pkcs11_pin) as session:
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
        assert private[Attribute.SIGN] is True
        for denied in (Attribute.DECRYPT, Attribute.UNWRAP, Attribute.SIGN_RECOVER, Attribute.DERIVE,
                       Attribute.EXTRACTABLE):
            assert private[denied] is False, denied
        assert private[Attribute.SENSITIVE] is True and private[Attribute.PRIVATE] is True
        public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=label)
        assert public[Attribute.ENCRYPT] is False and public[Attribute.WRAP] is False
        cert = next(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label}))
        assert cert[Attribute.ID] == private[Attribute.ID]
    # A second enrolment under the same label is refused, with one clear line.
    again = _cli(settings, "ca", "token-enrol", "--agency", organ_id, "--label", label)
    assert again.returncode == 1 and "already holds" in again.stderr and "Traceback" not in again.stderr

    # The configuration names the token and the label pattern: issuing seals with the token key.
    if backend == "embedded":
        doc = signed_draft(api)
        clerk = api.as_user("vanthu")
        r2 = clerk.post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [{"name": "Các thôn"}]})
        assert r2.status_code == 200, r2.get_json()
        pdf = clerk.get(f"/api/v1/documents/{doc['id']}/content").data
        report = container.signatures.validate(pdf)
        assert report["verdict"] in ("valid", "valid_with_warnings"), report
        assert any(s["signer"]["serial"] == serial.lower().lstrip("0") or s["signer"]["serial"] == serial.lower()
                   for s in report["signatures"]), (serial, [s["signer"] for s in report["signatures"]])


def test_token_enrol_needs_a_known_agency_and_a_token(api, container) -> None:  # type: ignore[no-untyped-def]
    r = _cli(container.settings, "ca", "token-enrol", "--agency", "000.00.99.H99")
    assert r.returncode == 1 and "no agency" in r.stderr
    r = _cli(container.settings, "ca", "token-enrol", "--agency", "000.00.31.H41", "--token", "no-such-token",
             "--label", f"x-{SUFFIX}")
    assert r.returncode == 1 and "no-such-token" in r.stderr, r.stderr
