"""The docsvc command line: init, demo, orgs, users, verify, keys, config errors. Most commands run in
this process (click's runner); the first ``init`` and the configuration errors run as a real process,
where the entry point and what reaches stderr are the point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_dossier_export import cli_env
from tests.helpers import CliResult, run_cli


def _env(env_extra: dict[str, str], data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")}
    env.update({"DOCSVC_DATA_DIR": str(data_dir), "DOCSVC_PASSWORD_HASH_MEMORY_KIB": "1024",
                "DOCSVC_PASSWORD_HASH_TIME_COST": "1", **env_extra})
    return env


def run(args: list[str], env_extra: dict[str, str], data_dir: Path, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    """``python -m docsvc ARGS`` as a child process."""
    return subprocess.run([sys.executable, "-m", "docsvc", *args], env=_env(env_extra, data_dir), capture_output=True,
                          text=True, input=stdin, timeout=120)


def cli(args: list[str], env_extra: dict[str, str], data_dir: Path, stdin: str | None = None) -> CliResult:
    """The same command in this process."""
    return run_cli(args, _env(env_extra, data_dir), stdin)


def test_init_demo_orgs_users(settings) -> None:  # type: ignore[no-untyped-def]
    env = {"DOCSVC_DATABASE_URL": settings.database_url, "DOCSVC_CA_PASSPHRASE": settings.ca_passphrase}
    data = Path(settings.data_dir)
    r = run(["init"], env, data)
    assert r.returncode == 0, r.stderr
    assert "database schema at" in r.stdout
    assert (data / "secret_key").is_file() and (data / "keys" / "kek").is_file()
    assert oct((data / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert cli(["init"], env, data).returncode == 0  # idempotent
    r = cli(["demo"], env, data)
    assert r.returncode == 0 and "chutich" in r.stdout, r.stderr
    assert "signing keys (PIN '123456'): chutich" in r.stdout
    assert "0 records created" in cli(["demo"], env, data).stdout  # idempotent
    r = cli(["orgs", "add", "--kind", "commune", "--name", "Ủy ban nhân dân xã Tân Thanh", "--abbr", "UBND",
             "--organ-id", "000.00.32.H41", "--parent", "000.00.00.H41"], env, data)
    assert r.returncode == 0, r.stderr
    r = cli(["orgs", "add", "--kind", "unit", "--name", "Văn phòng", "--abbr", "VP", "--parent", "000.00.32.H41"],
            env, data)
    assert r.returncode == 0, r.stderr
    r = cli(["users", "add", "tanthanh.vt", "--full-name", "Mai Thị Hạnh", "--agency", "000.00.32.H41",
             "--role", "clerk", "--clearance", "mat", "--unit", "VP"], {**env, "DOCSVC_NEW_USER_PASSWORD":
                                                                          "Van-thu-2026"}, data)
    assert r.returncode == 0, r.stderr
    listing = cli(["users", "list"], env, data).stdout
    assert "tanthanh.vt" in listing and "clerk" in listing
    tree = cli(["orgs", "list"], env, data).stdout
    assert "Ủy ban nhân dân xã Tân Thanh" in tree
    # A domain error is one line, not a traceback.
    r = cli(["orgs", "add", "--kind", "commune", "--name", "X", "--abbr", "UBND", "--organ-id", "bad"], env, data)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "organ_id" in r.stderr


def _assert_one_line_config_error(r: subprocess.CompletedProcess[str], variable: str) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"docsvc: configuration error: {variable}")


@pytest.mark.parametrize("env, variable, command", [
    ({"DOCSVC_DATABASE_URL": "mysql://x"}, "DOCSVC_DATABASE_URL", ["init"]),
    ({"DOCSVC_DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/none"}, "DOCSVC_DATABASE_URL", ["init"]),
    ({"DOCSVC_SIGNATURE_LEVEL": "nope"}, "DOCSVC_SIGNATURE_LEVEL", ["serve", "--port", "1"]),
])
def test_wrong_or_unreachable_setting_fails_with_one_line(tmp_path: Path, env: dict[str, str], variable: str,
                                                          command: list[str]) -> None:
    _assert_one_line_config_error(run(command, env, tmp_path), variable)


def test_an_unreachable_broker_fails_serve_with_one_line(container: Any) -> None:
    ready = {k: v for k, v in cli_env(container.settings).items() if k.startswith("DOCSVC_")}  # every other backend
    r = run(["serve", "--port", "1"], {**ready, "DOCSVC_BROKER_URL": "redis://127.0.0.1:1/0"},
            Path(container.settings.data_dir))
    _assert_one_line_config_error(r, "DOCSVC_BROKER_URL")


def test_verify_keys_rotate_and_enrol(api, container, backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if backend != "embedded":
        pytest.skip("the CLI subprocess is pointed at the embedded store here")
    from tests.api.test_outgoing_issue import _signed_draft
    s = container.settings
    env = {"DOCSVC_DATABASE_URL": s.database_url, "DOCSVC_CA_PASSPHRASE": s.ca_passphrase,
           "DOCSVC_PUBLIC_URL": s.public_url}
    doc = _signed_draft(api)
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(api.as_user("chutich").get(f"/api/v1/documents/{doc['id']}/content").data)
    r = cli(["verify", str(signed)], env, Path(s.data_dir))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Hoàng Văn Nam" in r.stdout
    r = cli(["verify", "--json", str(signed)], env, Path(s.data_dir))
    assert r.returncode == 0 and '"verdict"' in r.stdout
    tampered = tmp_path / "tampered.pdf"
    data = bytearray(signed.read_bytes())
    data[2000] ^= 0x01  # one bit inside the first revision, which every signature covers
    tampered.write_bytes(bytes(data))
    assert cli(["verify", str(tampered)], env, Path(s.data_dir)).returncode == 1
    r = cli(["ca", "enrol", "phochutich"], {**env, "DOCSVC_NEW_PIN": "135790"}, Path(s.data_dir))
    assert r.returncode == 0 and "phochutich enrolled" in r.stdout, r.stderr
    r = cli(["keys", "rotate"], env, Path(s.data_dir))
    assert r.returncode == 0 and "data keys rewrapped" in r.stdout, r.stderr
