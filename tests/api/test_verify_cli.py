"""`docsvc verify` for anyone holding a PDF: run from a folder outside the checkout, with the data
folder found (./var or DOCSVC_DATA_DIR), with `--trust ROOT`, or with no trust at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from docsvc.settings import locate_data_dir


def _verify(args: list[str], cwd: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "docsvc", "verify", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def signed_pdf(api: Any, backend: str, tmp_path: Path) -> Path:
    if backend != "embedded":
        pytest.skip("the CLI reads a file: one backend is enough")
    from tests.helpers import signed_draft
    doc = signed_draft(api)
    path = tmp_path / "elsewhere" / "quyet-dinh.pdf"
    path.parent.mkdir()
    path.write_bytes(api.as_user("chutich").get(f"/api/v1/documents/{doc['id']}/content").data)
    return path


def test_outside_the_checkout_without_trust_with_trust_and_with_the_data_folder(container: Any, signed_pdf: Path,
                                                                                 tmp_path: Path) -> None:
    empty = tmp_path / "no-data"
    empty.mkdir()
    r = _verify(["--json", str(signed_pdf)], signed_pdf.parent, {"DOCSVC_DATA_DIR": str(empty)})
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    sig = report["signatures"][0]
    assert report["verdict"] == "indeterminate" and sig["trust_problem"] == "no_trust_roots"
    assert sig["intact"] and sig["valid"] and sig["signer"]["common_name"] == "Hoàng Văn Nam"
    assert sig["signing_time"] and sig["pades_level"] in ("B-T", "B-LT", "B-LTA")
    text = _verify([str(signed_pdf)], signed_pdf.parent, {"DOCSVC_DATA_DIR": str(empty)}).stdout
    assert "no trust roots were given" in text and "run `docsvc ca init`" in text and "Hoàng Văn Nam" in text
    assert not (empty / "keys").exists()  # checking creates nothing in the data folder

    # --trust the issuer's root certificate: valid.
    root = Path(container.settings.data_dir) / "ca" / "root.crt"
    r = _verify(["--trust", str(root), str(signed_pdf)], signed_pdf.parent, {"DOCSVC_DATA_DIR": str(empty)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "HỢP LỆ / VALID" in r.stdout
    # No DOCSVC_DATA_DIR: ./var of the working directory holds the CA (its root certificate is enough).
    work = tmp_path / "office"
    shutil.copytree(Path(container.settings.data_dir) / "ca", work / "var" / "ca")
    r = _verify([str(signed_pdf)], work, {})
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (work / "var" / "keys").exists()
    r = _verify([str(signed_pdf)], work, {"DOCSVC_CA_PASSPHRASE": "not-the-passphrase"})
    assert r.returncode == 0, r.stdout + r.stderr  # the CA's keys stay closed; its root certificate still serves
    bad = tmp_path / "not-a-cert.pem"
    bad.write_text("hello")
    r = _verify(["--trust", str(bad), str(signed_pdf)], work, {})
    assert r.returncode == 1 and "not a readable PEM or DER certificate" in r.stderr


@pytest.mark.parametrize("settings_overrides", [{"signature_level": "B-LT"}, {"signature_level": "B-LTA"}],
                         ids=["B-LT", "B-LTA"])
def test_an_issued_document_verifies_offline_with_only_the_pdf_and_the_root(api: Any, container: Any, backend: str,
                                                                             tmp_path: Path) -> None:
    """The leader's signature and the organisation's seal of an issued document carry in the DSS all
    that validation needs (whole chains, the TSA's included): `docsvc verify --trust ROOT` with no data
    folder and no fetch allowed (the PKI's loopback URLs are refused), and stock pyHanko with fetching
    off and revocation checking on, both judge them VALID from the embedded data alone."""
    if backend != "embedded":
        pytest.skip("the CLI reads a file: one backend is enough")
    from tests.helpers import signed_draft
    from tests.signing.pki import assert_stock_pyhanko_accepts_offline
    doc = signed_draft(api)
    clerk = api.as_user("vanthu")
    r = clerk.post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()
    pdf = tmp_path / "elsewhere" / "ban-hanh.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(clerk.get(f"/api/v1/documents/{doc['id']}/content").data)
    root = Path(container.settings.data_dir) / "ca" / "root.crt"
    level = container.settings.signature_level
    timestamps = 2 if level == "B-LTA" else 0  # one per signing step

    empty = tmp_path / "no-data"
    empty.mkdir()
    r = _verify(["--json", "--trust", str(root), str(pdf)], pdf.parent, {"DOCSVC_DATA_DIR": str(empty)})
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["verdict"] == "valid", report
    sigs = [s for s in report["signatures"] if s["kind"] != "document_timestamp"]
    assert len(sigs) == 2 and sigs[0]["signer"]["common_name"] == "Hoàng Văn Nam", sigs
    for sig in sigs:
        assert sig["verdict"] == "valid" and sig["pades_level"] == level, sig
        assert sig["revocation"] == {"status": "good", "source": "document_dss", "revoked_at": None}, sig
    assert len(report["signatures"]) == 2 + timestamps

    for mode in ("hard-fail", "require"):  # require: revocation data for every certificate below the root
        assert assert_stock_pyhanko_accepts_offline(pdf.read_bytes(), container.signatures.ca.root_certificate,
                                                    mode) == 2 + timestamps


def test_locate_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import docsvc.settings as settings_module
    monkeypatch.setattr(settings_module, "PACKAGE_DATA_DIR", tmp_path / "checkout" / "var")
    assert locate_data_dir({"DOCSVC_DATA_DIR": "/srv/docsvc"}, tmp_path) == Path("/srv/docsvc")
    assert locate_data_dir({}, tmp_path) is None
    (tmp_path / "checkout" / "var" / "ca").mkdir(parents=True)
    assert locate_data_dir({}, tmp_path) == tmp_path / "checkout" / "var"
    (tmp_path / "var" / "ca").mkdir(parents=True)
    assert locate_data_dir({}, tmp_path) == tmp_path / "var"
