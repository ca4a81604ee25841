"""The internal CA is named after the deployment's organisation (O=...), never "docsvc"."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from docsvc.services.setup import ca_organisation
from tests.api.test_cli import run


def _organisation(data: Path, stem: str = "root") -> str:
    cert = x509.load_pem_x509_certificate((data / "ca" / f"{stem}.crt").read_bytes())
    return str(cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value)


def test_the_name_comes_from_the_option_the_setting_or_the_top_agency(container: Any, demo: Any) -> None:
    assert ca_organisation(container, " Ủy ban nhân dân tỉnh Cao Bằng ") == "Ủy ban nhân dân tỉnh Cao Bằng"
    assert ca_organisation(container) == "Ủy ban nhân dân tỉnh Lạng Sơn"  # the demo's one top-level agency
    named = SimpleNamespace(settings=dataclasses.replace(container.settings, organisation="Sở Nội vụ tỉnh Cao Bằng"),
                            db=container.db)
    assert ca_organisation(named) == "Sở Nội vụ tỉnh Cao Bằng"  # type: ignore[arg-type]
    assert ca_organisation(named, "Ủy ban nhân dân tỉnh Cao Bằng") == "Ủy ban nhân dân tỉnh Cao Bằng"  # type: ignore[arg-type]


def test_without_a_name_the_ca_waits_and_the_demo_names_it_after_its_province(tmp_path: Path) -> None:
    data = tmp_path / "var"
    r = run(["init"], {}, data)
    assert r.returncode == 0, r.stderr
    assert "not created yet" in r.stdout and not (data / "ca" / "root.crt").exists()
    r = run(["ca", "init"], {}, data)
    assert r.returncode == 1 and "--organisation" in r.stderr
    r = run(["demo"], {}, data)
    assert r.returncode == 0, r.stderr
    assert _organisation(data) == _organisation(data, "issuing") == _organisation(data, "tsa") \
        == "Ủy ban nhân dân tỉnh Lạng Sơn"
    assert "internal certificate authority ready" in run(["init"], {}, data).stdout
