"""Remote signing through a CSC v2 provider (issue 20): the test CSC service of
tests/signing/csc_service.py, its keys in SoftHSM2. The leader links the credential, signs a batch
with one PIN; the issued PDF passes docsvc's validator, stock pyHanko and pdfsig; a wrong PIN
writes nothing; no leader private key is on the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.api.test_split_signing import _assert_no_leader_private_key, _counts, _draft
from tests.helpers import assert_error
from tests.signing.pki import (
    assert_pdfsig_trusts_every_signature,
    assert_stock_pyhanko_accepts_every_signature,
    leader_token,
    remote_signing,
    test_pki,
)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    token, remote = leader_token(), remote_signing()
    return {"trust_roots": (token.root_file,), "trust_intermediates": (token.chain_file,), "fetch_allow": "127.0.0.1",
            "csc_url": remote.service.url, "csc_client_id": remote.client_id, "csc_client_secret": remote.client_secret}


def test_leader_signs_a_batch_remotely_and_issued_pdf_passes_every_validator(api, container) -> None:  # type: ignore[no-untyped-def]
    remote = remote_signing()
    leader, clerk = api.as_user("chutich"), api.as_user("vanthu")
    r = leader.post("/api/v1/me/remote-credential", json={})  # the only credential the provider lists for chutich
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["csc_credential_id"] == remote.credential_id and r.get_json()["remote_signing"]
    first, second = _draft(api), _draft(api, title="Kế hoạch tổ chức hội nghị tổng kết năm")

    before = _counts(container)
    assert_error(leader.post("/api/v1/signing/remote", json={"document_ids": [first, second], "pin": "000000"}),
                 403, "wrong_pin")
    assert _counts(container) == before  # no preparation row, no object, no signature left by the refusal

    calls = len(remote.service.calls)
    r = leader.post("/api/v1/signing/remote", json={"document_ids": [first, second], "pin": remote.user_pin})
    assert r.status_code == 200, r.get_json()
    assert [i["status"] for i in r.get_json()["items"]] == ["signed", "signed"], r.get_json()
    # one authorisation (one PIN) for the batch, one signHash call for both hashes
    assert remote.service.calls[calls:].count("credentials/authorize") == 1
    assert remote.service.calls[calls:].count("signatures/signHash") == 1

    r = clerk.post(f"/api/v1/documents/{first}/issue", json={"recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()
    main = clerk.get(f"/api/v1/documents/{first}/content").data
    authorities = [container.signatures.ca, test_pki().ca]
    assert assert_stock_pyhanko_accepts_every_signature(main, authorities) == 2
    assert_pdfsig_trusts_every_signature(main, 2, authorities)
    assert container.signatures.validate(main)["verdict"] == "valid"
    _assert_no_leader_private_key(container, Path(container.settings.data_dir), remote.certificate)


def test_remote_signing_refuses_clearly_when_not_set_up(api, container) -> None:  # type: ignore[no-untyped-def]
    leader = api.as_user("chutich")
    doc = _draft(api)
    assert_error(leader.post("/api/v1/signing/remote", json={"document_ids": [doc], "pin": "1"}), 403,
                 "forbidden")  # no credential linked
    assert_error(leader.post("/api/v1/me/remote-credential", json={"credential_id": "no-such"}), 502,
                 "remote_signing")
    from docsvc.db.models import SigningPreparation
    with container.db.read() as s:
        assert s.execute(select(SigningPreparation)).first() is None
