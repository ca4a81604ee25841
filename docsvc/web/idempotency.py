"""The web side of ``Idempotency-Key``: fingerprint the request, replay a stored answer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request

from docsvc.domain.identity import Actor
from docsvc.web.context import container

HEADER = "Idempotency-Key"


def request_fingerprint() -> str:
    """SHA-256 of what makes two requests the same: method, path, query, form fields, JSON body
    and each uploaded file's field, name and content (read in chunks, then rewound)."""
    digest = hashlib.sha256()

    def part(*values: str | bytes) -> None:
        for value in values:
            data = value.encode("utf-8") if isinstance(value, str) else value
            digest.update(len(data).to_bytes(8, "big") + data)

    part(request.method, request.path, request.query_string)
    by_name = lambda item: str(item[0])  # noqa: E731 - stable: repeated fields keep their order
    for name, value in sorted(request.form.items(multi=True), key=by_name):
        part("form", str(name), str(value))
    for name, upload in sorted(request.files.items(multi=True), key=by_name):
        content = hashlib.sha256()
        stream = upload.stream
        for chunk in iter(lambda: stream.read(1 << 20), b""):  # noqa: B023 - consumed within this iteration
            content.update(chunk)
        upload.stream.seek(0)
        part("file", str(name), upload.filename or "", content.digest())
    if request.is_json or (request.data and not request.files):
        part("body", request.get_data(cache=True))
    return digest.hexdigest()


def run_idempotent(actor: Actor, scope: str, produce: Callable[[], tuple[Any, int]]) -> Any:
    """Run ``produce`` (returning a JSON-able body and a status) once per Idempotency-Key of the
    caller; without the header it simply runs."""
    key = request.headers.get(HEADER)
    if key is None:
        body, status = produce()
        return jsonify(body), status
    keys = container().idempotency
    stored = keys.begin(actor.user_id, scope, key, request_fingerprint())
    if stored is not None:
        response: Response = jsonify(stored.body)
        response.status_code = stored.status
        response.headers["Idempotent-Replayed"] = "true"
        return response
    try:
        body, status = produce()
    except BaseException:
        keys.release(actor.user_id, scope, key)  # a refused request may be retried with its key
        raise
    keys.finish(actor.user_id, scope, key, status, body)
    return jsonify(body), status
