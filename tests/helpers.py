"""Helpers for tests: an API client with per-user logins, and the error-shape assertion."""

from __future__ import annotations

from typing import Any


class ApiClient:
    """Flask test client with per-user login helpers: ``api.as_user('vanthu').get(...)``."""

    def __init__(self, client: Any, password: str) -> None:
        self.client = client
        self.password = password
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            r = self.client.post("/api/v1/auth/token", json={"username": username, "password": self.password})
            assert r.status_code == 201, r.get_json()
            self._tokens[username] = r.get_json()["access_token"]
        return self._tokens[username]

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def as_user(self, username: str) -> _UserClient:
        return _UserClient(self.client, self.headers(username))


class _UserClient:
    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self._client, self._headers = client, headers

    def __getattr__(self, verb: str) -> Any:
        method = getattr(self._client, verb)

        def call(*args: Any, **kwargs: Any) -> Any:
            kwargs["headers"] = {**self._headers, **kwargs.get("headers", {})}
            return method(*args, **kwargs)

        return call


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Every error has the one shape {"error": {"code", "message", "details"}}."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"], body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def upload(user_client: Any, *, file: bytes | None = None, filename: str = "van-ban.pdf",
           attachments: list[tuple[bytes, str]] | None = None, headers: dict[str, str] | None = None,
           **fields: Any) -> Any:
    """POST /api/v1/documents as multipart, with sensible incoming-document defaults."""
    import io

    from tests.fixtures.pdfs import official_pdf
    data: dict[str, Any] = {
        "direction": "incoming", "type": "QĐ",
        "subject": "Quyết định về việc phê duyệt kế hoạch cải cách hành chính năm 2026",
        "number_notation": "15/QĐ-UBND", "issuing_body": "Ủy ban nhân dân tỉnh Lạng Sơn",
        "issuing_organ_id": "000.00.00.H41", "issued_date": "2026-11-20", "received_via": "electronic",
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    for k in [k for k, v in fields.items() if v is None]:
        data.pop(k, None)
    if file is not False:  # type: ignore[comparison-overlap]
        data["file"] = (io.BytesIO(official_pdf() if file is None else file), filename)
    if attachments:
        data["attachments"] = [(io.BytesIO(b), n) for b, n in attachments]
    return user_client.post("/api/v1/documents", data=data, content_type="multipart/form-data",
                            **({"headers": headers} if headers else {}))


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, (response.status_code, response.get_data(as_text=True)[:800])
    return response.get_json()


PIN = "246810"  # the signing PIN test leaders enrol with


def me(api: Any, username: str) -> dict[str, Any]:
    return api.as_user(username).get("/api/v1/me").get_json()


def signed_draft(api: Any, *, secrecy: str | None = None,
                 subject: str = "Quyết định phê duyệt danh sách hộ nghèo năm 2026",
                 file: bytes | None = None) -> dict[str, Any]:
    """A QĐ drafted by the officer, reviewed by the unit head, signed by the chairman."""
    from tests.fixtures.pdfs import official_pdf
    officer, head, leader = api.as_user("chuyenvien"), api.as_user("truongphong"), api.as_user("chutich")
    if leader.get("/api/v1/me/signing-key").status_code != 200:
        assert leader.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, secrecy=secrecy,
                           subject=subject, file=file or official_pdf(subject)))
    r = officer.post(f"/api/v1/documents/{draft['id']}/submit", json={"signer_id": me(api, "chutich")["id"]})
    assert r.status_code == 200, r.get_json()
    assert head.post(f"/api/v1/documents/{draft['id']}/approve", json={}).status_code == 200
    r = leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


class PageClient:
    """A browser-like session on the HTML pages: logs in through the form and sends the
    session's CSRF token with every POST (``post(..., csrf=False)`` to leave it out)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.csrf = ""

    def login(self, username: str, password: str) -> Any:
        self.csrf = self._token(self.client.get("/login"))
        response = self.client.post("/login", data={"username": username, "password": password,
                                                    "csrf_token": self.csrf})
        if response.status_code == 303:
            self.csrf = self._token(self.client.get("/work"))
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> Any:
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.csrf
        return self.client.post(path, data=data, **kwargs)

    @staticmethod
    def _token(response: Any) -> str:
        import re
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
        assert found, response.get_data(as_text=True)[:500]
        return found.group(1)


def page_text(response: Any) -> str:
    """The visible text of a page (tags removed, spaces folded), for assertions on wording."""
    import html
    import re
    body = response.get_data(as_text=True)
    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def page_actions(response: Any) -> set[str]:
    """The actions a document page offers (its forms' data-action)."""
    import re
    return set(re.findall(r'data-action="([a-z_]+)"', response.get_data(as_text=True)))


def assert_refused_unless_offered(attempts: dict[str, Any], offered: Any, actor: Any, *, who: str,
                                  state: str = "") -> None:
    """Each action of ``attempts`` not ``offered`` to ``actor`` is refused by its service: the
    pages never show less than what the services accept (nor, with the flow's steps, more)."""
    from docsvc.errors import DomainError
    for action in sorted(set(attempts) - set(offered)):
        try:
            attempts[action](actor)
        except DomainError:
            continue
        raise AssertionError(f"{state}: {who} was not offered {action!r}, but the service accepted it")


def settings_env(settings: Any) -> dict[str, str]:
    """The environment that makes a child process (`docsvc worker`, gunicorn) use ``settings``."""
    from bench.stack import env_of
    return env_of(settings)


def start_worker(settings: Any, *args: str) -> Any:
    """A real `docsvc worker` process on ``settings`` (its own process group, so that a test can
    kill it together with its pool children). Its output goes to ``proc.log_path`` (a file, not a
    pipe nobody reads: a full pipe would block the worker); ``process_log(proc)`` reads it."""
    import subprocess
    import sys
    import tempfile
    log = tempfile.NamedTemporaryFile(prefix="docsvc-worker-", suffix=".log", delete=False)  # noqa: SIM115 - the child writes it
    proc = subprocess.Popen([sys.executable, "-m", "docsvc", "worker", *args], env=settings_env(settings),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log_path = log.name  # type: ignore[attr-defined]
    log.close()
    return proc


def process_log(proc: Any, tail: int = 4000) -> str:
    from pathlib import Path
    return Path(proc.log_path).read_text(errors="replace")[-tail:]


def stop_process(proc: Any, timeout: float = 20) -> None:
    """Terminate a child process (and its process group), killing it if it does not stop in time."""
    import os
    import signal
    import subprocess
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def drop_backend_data(container: Any) -> None:
    """Best effort (a fault test may leave a server down): drop the container's Elasticsearch
    index and its S3 bucket, which outlive the test's database and data folder."""
    import contextlib
    settings = container.settings
    with contextlib.suppress(Exception):
        if settings.search_is_elasticsearch:
            container.search_index.drop()
    with contextlib.suppress(Exception):
        if settings.storage_is_s3:
            remove_s3_bucket(container.store.client, container.store.bucket)


def remove_s3_bucket(client: Any, bucket: str) -> bool:
    """Delete every version (lifting holds, bypassing governance) and the bucket: moto keeps all of
    it in memory, so a suite that leaves its buckets behind grows the shared server without bound.
    Compliance-retained versions cannot be deleted by anyone until they expire: then the bucket
    stays and this returns False."""
    import contextlib

    from minio.deleteobjects import DeleteObject
    from minio.error import S3Error
    if not client.bucket_exists(bucket):
        return True
    for upload in client._list_multipart_uploads(bucket).uploads:
        client._abort_multipart_upload(bucket, upload.object_name, upload.upload_id)
    versions = list(client.list_objects(bucket, include_version=True, recursive=True))
    for v in versions:
        if not v.is_delete_marker:
            with contextlib.suppress(S3Error):
                client.disable_object_legal_hold(bucket, v.object_name, version_id=v.version_id)
    errors = list(client.remove_objects(bucket, [DeleteObject(v.object_name, v.version_id) for v in versions],
                                        bypass_governance_mode=True))
    if errors:
        return False
    client.remove_bucket(bucket)
    return True


class CliResult:
    """What a ``docsvc`` command did: the fields of ``subprocess.CompletedProcess`` the tests read."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> CliResult:
    """Run a ``docsvc`` command in this process (click's ``CliRunner``), its settings taken from the
    ``DOCSVC_*`` variables of ``env`` only (those of this process are hidden for the call).

    A child process costs seconds of interpreter start and imports per command; tests where the real
    process is the point (its entry point, what reaches its stderr) still start one. An exception
    the command does not turn into an exit status fails the test with its traceback."""
    import os

    from click.testing import CliRunner

    from docsvc.cli import main
    scoped: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DOCSVC_")}
    scoped.update({k: v for k, v in env.items() if k.startswith("DOCSVC_")})
    result = CliRunner().invoke(main, args, input=stdin, env=scoped)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception.with_traceback(result.exc_info[2] if result.exc_info else None)
    return CliResult(result.exit_code, result.stdout, result.stderr)
