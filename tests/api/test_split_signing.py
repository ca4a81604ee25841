"""The leader signs with the key on their own token (issue 20): docsvc never holds it.

The leader's key is on a SoftHSM2 token, certified by an *outside* CA (trusted through
DOCSVC_TRUST_ROOTS, its OCSP on loopback through DOCSVC_FETCH_ALLOW). ``docsvc-signer`` runs as
a separate process, as on the leader's computer: it reads the certificate from the token, asks
docsvc to prepare the documents, signs the data with the token (PIN once per batch) and sends
the signature values back. The issued PDFs pass docsvc's validator, stock pyHanko and pdfsig;
the server's data folder and database hold no leader private key. Refusals (certificate not the
user's, revoked, expired preparation, document changed, replay) write nothing.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select

from tests.fixtures.pdfs import official_pdf
from tests.helpers import assert_error, created, me, upload
from tests.signing.pki import (
    LeaderToken,
    assert_pdfsig_trusts_every_signature,
    assert_stock_pyhanko_accepts_every_signature,
    leader_token,
    test_pki,
)

SUBJECT = "Quyết định phê duyệt kế hoạch chuyển đổi số của xã"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    token = leader_token()
    return {"trust_roots": (token.root_file,), "trust_intermediates": (token.chain_file,), "fetch_allow": "127.0.0.1"}


@pytest.fixture
def token() -> LeaderToken:
    return leader_token()


def _signer(token: LeaderToken, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "signing.localsigner.cli", *args], check=False, capture_output=True,
                          text=True, env=token.env(), timeout=120, cwd=Path(__file__).resolve().parents[2])
    if check:
        assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    return done


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(Encoding.PEM).decode()


def _b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def _draft(api: Any, signer: str = "chutich", title: str = SUBJECT) -> int:
    officer = api.as_user("chuyenvien")
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject=title,
                           file=official_pdf(title, signer_title="", signer_name="")))
    r = officer.post(f"/api/v1/documents/{draft['id']}/submit", json={"signer_id": me(api, signer)["id"]})
    assert r.status_code == 200, r.get_json()
    assert api.as_user("truongphong").post(f"/api/v1/documents/{draft['id']}/approve", json={}).status_code == 200
    return int(draft["id"])


@pytest.fixture
def live_url(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _sign_in_process(token: LeaderToken, label: str, data: bytes) -> bytes:
    """A signature by the token key, as docsvc-signer makes it (used to forge refusal cases)."""
    from signing.localsigner.token import Token, TokenConfig
    with Token(TokenConfig(token.hsm.module, token.hsm.leader_token, label)) as t:
        t.login(token.hsm.pin)
        return t.sign(data)


def _counts(container: Any) -> tuple[int, int, int]:
    from docsvc.db.models import DocumentFile, SigningPreparation
    with container.db.read() as s:
        signed = s.execute(select(func.count()).select_from(DocumentFile).where(DocumentFile.role == "signed")).scalar()
        prepared = s.execute(select(func.count()).select_from(SigningPreparation)).scalar()
    return signed, prepared, len(list(container.store.list()))


def test_leader_signs_with_token_through_docsvc_signer_and_issued_pdf_passes_every_validator(
        api, container, token, live_url) -> None:  # type: ignore[no-untyped-def]
    leader, clerk = api.as_user("chutich"), api.as_user("vanthu")
    # The leader registers the certificate on the token (docsvc-signer prints it).
    pem = _signer(token, "certificate", "--key-label", token.key_label).stdout
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    r = leader.post("/api/v1/me/certificates", json={"certificate": pem})
    assert r.status_code == 201, r.get_json()
    assert leader.get("/api/v1/me/certificates").get_json()["items"][0]["sha256"] == r.get_json()["sha256"]

    first, second = _draft(api), _draft(api, title="Quyết định thành lập tổ công nghệ số cộng đồng")
    done = _signer(token, "sign", "--url", live_url, "--token", api.token("chutich"), "--key-label", token.key_label,
                   str(first), str(second))
    # what the leader saw before the PIN: number, subject, pages, SHA-256 of each document
    assert "2 document(s) to sign" in done.stdout and SUBJECT in done.stdout and "SHA-256" in done.stdout
    assert done.stdout.count(": signed") == 2, done.stdout
    for doc_id in (first, second):
        doc = leader.get(f"/api/v1/documents/{doc_id}").get_json()
        assert doc["status"] == "signed", doc
        assert [f["role"] for f in doc["files"]].count("signed") == 1

    r = clerk.post(f"/api/v1/documents/{first}/issue", json={"recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()
    main = clerk.get(f"/api/v1/documents/{first}/content").data
    authorities = [container.signatures.ca, test_pki().ca]
    assert assert_stock_pyhanko_accepts_every_signature(main, authorities) == 2
    assert_pdfsig_trusts_every_signature(main, 2, authorities)
    report = container.signatures.validate(main)
    assert report["verdict"] == "valid", report
    signer_cert = token.certificates[token.key_label]
    from pyhanko.pdf_utils.reader import PdfFileReader
    first_sig = PdfFileReader(__import__("io").BytesIO(main), strict=False).embedded_regular_signatures[0]
    assert first_sig.signer_cert.dump() == signer_cert.public_bytes(Encoding.DER)  # the token's key signed
    assert {s["pades_level"] for s in report["signatures"] if s["kind"] != "document_timestamp"} \
        == {container.settings.signature_level}

    # The server holds no leader private key: no key row, no key file, no private key anywhere.
    from docsvc.db.models import SigningKey
    with container.db.read() as s:
        assert s.execute(select(SigningKey).where(SigningKey.user_id == me(api, "chutich")["id"])).first() is None
    data_dir = Path(container.settings.data_dir)
    assert not any((data_dir / "keys" / "users").glob("*")) if (data_dir / "keys" / "users").exists() else True
    _assert_no_leader_private_key(container, data_dir, signer_cert)


def _assert_no_leader_private_key(container: Any, data_dir: Path, cert: x509.Certificate) -> None:
    """Neither the data folder nor the database holds a private key whose public half is the
    leader's: every PEM private key, PKCS#12 (tried with the test PINs) and DER key found is opened
    and compared; the only keys are the internal CA's (encrypted, under ca/) and the agency's."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    leader_public = cert.public_key().public_bytes(Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    found = 0
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        content = path.read_bytes()
        keys = []
        if b"PRIVATE KEY-----" in content:
            for password in (None, b"test-ca-passphrase-2026"):
                try:
                    keys.append(serialization.load_pem_private_key(content, password))
                    break
                except (ValueError, TypeError):
                    continue
        if path.suffix == ".p12":
            from docsvc import secrets_store
            for agency_id in range(1, 10):
                try:
                    keys.append(pkcs12.load_key_and_certificates(
                        content, secrets_store.agency_key_pin(container.settings, agency_id).encode())[0])
                    break
                except ValueError:
                    continue
        for key in keys:
            found += 1
            assert key is None or key.public_key().public_bytes(
                Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != leader_public, path
        assert leader_public not in content or path.suffix not in (".p12", ".key", ".pem"), path
    from docsvc.db.models import UserCertificate
    with container.db.read() as s:  # the database keeps the leader's certificate, nothing else of the key
        rows = s.execute(select(UserCertificate)).scalars().all()
        assert [x509.load_der_x509_certificate(r.der) for r in rows] == [cert]
    assert found >= 1  # the scan did open keys (the agency's seal key), so it would have seen the leader's


def test_refusals_write_nothing(api, container, token) -> None:  # type: ignore[no-untyped-def]
    leader, deputy = api.as_user("chutich"), api.as_user("phochutich")
    cert = token.certificates[token.key_label]
    # a new certificate for the token's second key, revoked below (fresh per run: revocation is final)
    revoked = test_pki().ca.issue("user", "Hoàng Văn Nam", token.certificates[token.revoked_label].public_key(),
                                  title="Chủ tịch").certificate
    doc_id = _draft(api)

    # A certificate nobody registered, or someone else's: refused before anything is prepared.
    before = _counts(container)
    assert_error(leader.post(f"/api/v1/documents/{doc_id}/sign/prepare", json={"certificate": _b64(cert)}), 403,
                 "certificate_not_registered")
    assert leader.post("/api/v1/me/certificates", json={"certificate": _pem(cert)}).status_code == 201
    assert_error(deputy.post(f"/api/v1/documents/{doc_id}/sign/prepare", json={"certificate": _b64(cert)}), 403,
                 "certificate_not_registered")
    # A certificate that chains to no trusted root cannot even be registered.
    untrusted = container.signatures.ca  # the internal CA is trusted; build an outside one nobody trusts
    from signing.ca import InternalCA
    stranger = InternalCA.init(Path(container.settings.data_dir) / "stranger-ca", "stranger-pass", organisation="X",
                               base_url="http://127.0.0.1:9/pki", key_size=2048)
    _, issued = stranger.issue_pkcs12("user", "Người lạ", "123456")
    assert_error(leader.post("/api/v1/me/certificates", json={"certificate": _pem(issued.certificate)}), 422,
                 "certificate_untrusted")
    assert untrusted is not None

    # Revoked after registration: refused at prepare.
    assert leader.post("/api/v1/me/certificates", json={"certificate": _pem(revoked)}).status_code == 201
    test_pki().ca.revoke(revoked.serial_number, reason="key_compromise")
    assert_error(leader.post(f"/api/v1/documents/{doc_id}/sign/prepare", json={"certificate": _b64(revoked)}), 422,
                 "certificate_revoked")
    assert _counts(container)[:2] == before[:2]

    # A signature by another key, or an earlier signature replayed on a new preparation: 422.
    r = leader.post(f"/api/v1/documents/{doc_id}/sign/prepare", json={"certificate": _b64(cert)})
    assert r.status_code == 201, r.get_json()
    prep = r.get_json()
    assert prep["document"]["sha256"] and prep["document"]["pages"] == 1 and prep["hash_algorithm"] == "sha256"
    data = base64.b64decode(prep["data_to_be_signed"])
    wrong = _sign_in_process(token, token.revoked_label, data)
    after_prepare = _counts(container)
    assert_error(leader.post(f"/api/v1/documents/{doc_id}/sign/finish", json={
        "prepared_id": prep["prepared_id"], "signature": base64.b64encode(wrong).decode()}), 422, "signature_mismatch")
    good = _sign_in_process(token, token.key_label, data)
    r2 = leader.post(f"/api/v1/documents/{doc_id}/sign/prepare", json={"certificate": _b64(cert)})
    replayed = r2.get_json()
    assert_error(leader.post(f"/api/v1/documents/{doc_id}/sign/finish", json={
        "prepared_id": replayed["prepared_id"], "signature": base64.b64encode(good).decode()}), 422,
        "signature_mismatch")
    assert _counts(container)[0] == after_prepare[0]  # no signed file

    # Expired preparation: 410, nothing signed.
    from docsvc.db.base import utcnow
    from docsvc.db.models import SigningPreparation
    with container.db.write() as s:
        row = s.execute(select(SigningPreparation).where(
            SigningPreparation.public_id == replayed["prepared_id"])).scalar_one()
        row.expires_at = utcnow()
    good2 = _sign_in_process(token, token.key_label, base64.b64decode(replayed["data_to_be_signed"]))
    assert_error(leader.post(f"/api/v1/documents/{doc_id}/sign/finish", json={
        "prepared_id": replayed["prepared_id"], "signature": base64.b64encode(good2).decode()}), 410,
        "preparation_expired")

    # The right signature finishes once; the same again is a replay: 409.
    body = {"prepared_id": prep["prepared_id"], "signature": base64.b64encode(good).decode()}
    r = leader.post(f"/api/v1/documents/{doc_id}/sign/finish", json=body)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "signed"
    signed_count = _counts(container)[0]
    assert_error(leader.post(f"/api/v1/documents/{doc_id}/sign/finish", json=body), 409, "preparation_used")
    assert _counts(container)[0] == signed_count


def test_document_changed_between_prepare_and_finish_is_refused(api, container, token) -> None:  # type: ignore[no-untyped-def]
    leader = api.as_user("chutich")
    cert = token.certificates[token.key_label]
    assert leader.post("/api/v1/me/certificates", json={"certificate": _pem(cert)}).status_code == 201
    doc_id = _draft(api)
    prep = leader.post(f"/api/v1/documents/{doc_id}/sign/prepare", json={"certificate": _b64(cert)}).get_json()
    signature = _sign_in_process(token, token.key_label, base64.b64decode(prep["data_to_be_signed"]))
    # The drafter replaces the file and the chain approves the new version again.
    officer = api.as_user("chuyenvien")
    r = officer.post(f"/api/v1/documents/{doc_id}/versions", data={
        "file": (__import__("io").BytesIO(official_pdf(SUBJECT + " (sửa)", signer_title="", signer_name="")),
                 "v2.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    if r.get_json()["status"] != "approved":
        r = officer.post(f"/api/v1/documents/{doc_id}/submit", json={"signer_id": me(api, "chutich")["id"]})
        assert api.as_user("truongphong").post(f"/api/v1/documents/{doc_id}/approve", json={}).status_code == 200
    before = _counts(container)
    assert_error(leader.post(f"/api/v1/documents/{doc_id}/sign/finish", json={
        "prepared_id": prep["prepared_id"], "signature": base64.b64encode(signature).decode()}), 409,
        "document_changed")
    assert _counts(container) == before
    assert leader.get(f"/api/v1/documents/{doc_id}").get_json()["status"] != "signed"
