"""Export of a dossier: a ZIP with the signed originals untouched (pdfsig still trusts them), PDF/A
renditions beside them (Ghostscript), the Appendix VI XML and a manifest ``sha256sum -c`` accepts;
through the API and the ``docsvc export`` command; only what the caller may read."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.api.archive_support import closed_dossier, issued_outgoing, open_dossier, registered_incoming, transfer
from tests.helpers import assert_error, run_cli
from tests.signing.pki import assert_pdfsig_trusts_every_signature

NS = {"a": "urn:docsvc:decree-30-2020:appendix-vi"}


def _archived_dossier(api: Any) -> tuple[dict, dict, dict, dict]:
    issued = issued_outgoing(api, "Quyết định ban hành quy chế công tác văn thư, lưu trữ của xã")
    incoming = registered_incoming(api, 7, subject="Công văn hướng dẫn chỉnh lý tài liệu lưu trữ")
    secret = registered_incoming(api, 8, content=False, secrecy="mat", subject="Báo cáo mật")
    d = closed_dossier(api, "01.VT", [issued["id"], incoming["id"], secret["id"]], retention_code="VV-01")
    transfer(api, d["id"])
    return d, issued, incoming, secret


def _unzip(data: bytes, target: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert all(not n.startswith("/") and ".." not in n for n in names)
        zf.extractall(target)
    roots = {n.split("/")[0] for n in names}
    assert len(roots) == 1
    return target / roots.pop()


def test_export_zip_has_originals_pdfa_appendix_vi_xml_and_manifest(api, container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if container.exports.converter is None:
        pytest.skip("Ghostscript is not installed (scripts/sysdeps.sh installs it)")
    archivist = api.as_user("luutru")
    d, issued, incoming, secret = _archived_dossier(api)
    r = archivist.get(f"/api/v1/dossiers/{d['id']}/export")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert r.headers["Content-Disposition"].endswith(f'{d["file_code"]}.zip"')
    assert r.headers["X-Content-SHA256"] == hashlib.sha256(r.data).hexdigest()
    root = _unzip(r.data, tmp_path / "x")
    assert root.name == d["file_code"]

    # The manifest covers every file and checks with the standard tool.
    listed = [line.split("  ", 1)[1] for line in (root / "manifest-sha256.txt").read_text().splitlines()]
    on_disk = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                     if p.is_file() and p.name != "manifest-sha256.txt")
    assert sorted(listed) == on_disk
    check = subprocess.run(["sha256sum", "-c", "manifest-sha256.txt"], cwd=root, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    # The issued original, byte for byte: both signatures still valid for an independent validator.
    originals = sorted((root / "documents").iterdir())
    assert len(originals) == 2  # named by DocOrdinal (the secret one has no file)
    original = api.as_user("vanthu").get(f"/api/v1/documents/{issued['id']}/content").data
    mine = next(p for p in originals if p.name.endswith("-01-QD-UBND.pdf"))
    assert mine.read_bytes() == original
    assert_pdfsig_trusts_every_signature(mine.read_bytes(), 2, container.signatures.ca)

    # PDF/A-2b renditions beside them, text kept (Vietnamese extractable).
    renditions = sorted((root / "pdfa").iterdir())
    assert [p.name for p in renditions] == [p.name for p in originals]
    rendition = next(p for p in renditions if p.name.endswith("-01-QD-UBND.pdf")).read_bytes()
    assert b"pdfaid:part='2'" in rendition or b'pdfaid:part="2"' in rendition or b"<pdfaid:part>2" in rendition
    assert b"/OutputIntents" in rendition
    text = subprocess.run(["pdftotext", "-", "-"], input=rendition, capture_output=True).stdout.decode()
    assert "ỦY BAN NHÂN DÂN" in text

    # Appendix VI metadata, in the dossier's order; the secret document as metadata only.
    xml = ET.parse(root / "metadata.xml").getroot()
    assert xml.findtext("a:FileCode", namespaces=NS) == d["file_code"]
    assert xml.findtext("a:Maintenance", namespaces=NS) == "Vĩnh viễn"
    assert xml.findtext("a:DocTotal", namespaces=NS) == "3"
    docs = xml.findall("a:Documents/a:Document", NS)
    assert [x.findtext("a:DocOrdinal", namespaces=NS) for x in docs] == ["1", "2", "3"]
    by_subject = {x.findtext("a:Subject", namespaces=NS): x for x in docs}
    out = by_subject[issued["subject"]]
    assert out.findtext("a:CodeNumber", namespaces=NS) == "01"
    assert out.findtext("a:CodeNotation", namespaces=NS) == "QĐ-UBND"
    assert out.findtext("a:TypeName", namespaces=NS) == "Quyết định"
    assert out.findtext("a:SignerInfo/a:FullName", namespaces=NS) == "Hoàng Văn Nam"
    assert out.findtext("a:To/a:Organ", namespaces=NS) == "Các thôn"
    files = {f.get("Role"): f for f in out.findall("a:Files/a:File", NS)}
    assert files["original"].get("SHA256") == hashlib.sha256(original).hexdigest()
    assert "pdfa:original" in files
    inc = by_subject[incoming["subject"]]
    assert inc.findtext("a:ArrivalNumber", namespaces=NS) == str(incoming["arrival_number"])
    with_files = [f"{int(x.findtext('a:DocOrdinal', namespaces=NS)):03d}-" for x in docs
                  if x.findall("a:Files/a:File", NS)]
    assert [p.name[:4] for p in originals] == with_files
    sec = by_subject["Báo cáo mật"]
    assert sec.findall("a:Files/a:File", NS) == [] and "kept offline" in sec.findtext("a:ContentNote", namespaces=NS)

    from docsvc.services import audit
    with container.db.read() as s:
        exports = [e for e in audit.events_for(s, "dossier", d["id"]) if e.action == "dossier.export"]
    assert len(exports) == 1 and exports[0].actor_name == "luutru"


def test_export_is_refused_for_open_dossiers_and_outsiders(api) -> None:  # type: ignore[no-untyped-def]
    d = open_dossier(api, "02.VT")
    assert_error(api.as_user("luutru").get(f"/api/v1/dossiers/{d['id']}/export"), 409)
    closed = closed_dossier(api, "03.VT", [registered_incoming(api, 9)["id"]])
    assert_error(api.as_user("chuyenvien").get(f"/api/v1/dossiers/{closed['id']}/export"), 403)
    assert_error(api.as_user("snv.vanthu").get(f"/api/v1/dossiers/{closed['id']}/export"), 404)
    assert_error(api.as_user("luutru").get(f"/api/v1/dossiers/{closed['id']}/export",
                                           query_string={"renditions": "maybe"}), 400)
    r = api.as_user("luutru").get(f"/api/v1/dossiers/{closed['id']}/export", query_string={"renditions": "false"})
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        assert not [n for n in zf.namelist() if "/pdfa/" in n]


def cli_env(settings: Any) -> dict[str, str]:
    """The environment that points a ``docsvc`` command (a child process or ``run_cli``) at this test's backends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")}
    env.update({"DOCSVC_DATA_DIR": str(settings.data_dir), "DOCSVC_DATABASE_URL": settings.database_url,
                "DOCSVC_STORAGE_URL": settings.storage_url, "DOCSVC_SEARCH_URL": settings.search_url,
                "DOCSVC_SEARCH_INDEX": settings.search_index, "DOCSVC_CA_PASSPHRASE": settings.ca_passphrase,
                "DOCSVC_PUBLIC_URL": settings.public_url})
    if settings.storage_is_s3:
        env.update({"DOCSVC_S3_ENDPOINT": settings.s3_endpoint, "DOCSVC_S3_ACCESS_KEY": settings.s3_access_key,
                    "DOCSVC_S3_SECRET_KEY": settings.s3_secret_key, "DOCSVC_S3_REGION": settings.s3_region})
    return env


def test_docsvc_export_command(api, container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d, issued, _, _ = _archived_dossier(api)
    out = tmp_path / "ho-so.zip"
    r = run_cli(["export", d["file_code"], "--out", str(out), "--no-renditions"], cli_env(container.settings))
    assert r.returncode == 0, r.stderr
    assert "3 documents" in r.stdout and out.is_file()
    with zipfile.ZipFile(out) as zf:
        manifest = zf.read(f"{d['file_code']}/manifest-sha256.txt").decode()
    assert manifest.count("\n") == 3  # two originals and metadata.xml
    r = run_cli(["export", "000.00.31.H41.1999.99.X"], cli_env(container.settings))
    assert r.returncode == 1 and "no dossier" in r.stderr and r.stderr.count("\n") == 1
