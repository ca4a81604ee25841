"""The bare baseline of the API benchmark: a WSGI app that answers a fixed JSON body, served by
the same gunicorn configuration as docsvc (``gunicorn bench.bare_wsgi:app``).
BENCH_BODY_BYTES sets the body's size so that it matches the page being compared."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

_SIZE = int(os.environ.get("BENCH_BODY_BYTES", "2000"))
_BODY = json.dumps({"items": [], "padding": "x" * max(_SIZE - 30, 0)}).encode()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(_BODY)))])
    return [_BODY]
