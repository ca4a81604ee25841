"""Health, the OpenAPI document and its browsable page."""

from __future__ import annotations

from flask import current_app, jsonify, render_template_string
from pydantic import BaseModel

from docsvc.web.api import api
from docsvc.web.api.spec import endpoint, openapi_document
from docsvc.web.context import container


class BackendOut(BaseModel):
    ok: bool
    detail: str
    latency_ms: float


class HealthOut(BaseModel):
    status: str
    version: str
    backends: dict[str, BackendOut]


def health_response():  # type: ignore[no-untyped-def]
    from docsvc import __version__
    statuses = container().health()
    ok = all(s.ok for s in statuses)
    body = {"status": "ok" if ok else "degraded", "version": __version__,
            "backends": {s.name: s.to_dict() for s in statuses}}
    return jsonify(body), (200 if ok else 503)


@endpoint(api, "/health", summary="Health of the service and of each backend", tag="meta", auth=False,
          response=HealthOut)
def health():  # type: ignore[no-untyped-def]
    """200 when every backend answers, 503 (same body) when one does not."""
    return health_response()


@endpoint(api, "/openapi.json", summary="This API's OpenAPI 3.1 document", tag="meta", auth=False)
def openapi_json():  # type: ignore[no-untyped-def]
    return jsonify(openapi_document(current_app))


@api.get("/docs")
def openapi_page():  # type: ignore[no-untyped-def]
    """A browsable page of the API built from the OpenAPI document (no JavaScript needed)."""
    return render_template_string(_DOCS_PAGE, spec=openapi_document(current_app))


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>docsvc API</title>
<style>
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2rem} details{margin:.4rem 0;border:1px solid #ddd;border-radius:4px}
summary{padding:.4rem .6rem;cursor:pointer} .m{display:inline-block;width:4.5rem;font-weight:bold}
.get{color:#1565c0}.post{color:#2e7d32}.patch{color:#ef6c00}.delete{color:#c62828}.put{color:#6a1b9a}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.85rem} .lock{color:#888}
</style></head><body>
<h1>{{ spec.info.title }}</h1><p>{{ spec.info.description }}
Machine-readable: <a href="openapi.json">openapi.json</a>. Authenticate with <code>POST /api/v1/auth/token</code>,
then send <code>Authorization: Bearer &lt;token&gt;</code>.</p>
{% set ns = namespace(tags={}) %}
{% for path, ops in spec.paths.items() %}{% for method, op in ops.items() %}
{% set _ = ns.tags.setdefault(op.tags[0], []).append((path, method, op)) %}{% endfor %}{% endfor %}
{% for tag, ops in ns.tags|dictsort %}<h2>{{ tag }}</h2>
{% for path, method, op in ops %}<details><summary><span class="m {{ method }}">{{ method|upper }}</span>
<code>{{ path }}</code> — {{ op.summary }}{% if op.security %} <span class="lock">🔒</span>{% endif %}</summary>
<div style="padding:0 .8rem .6rem">{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}<p><b>Parameters</b></p><ul>{% for p in op.parameters %}<li><code>{{ p.name }}</code>
({{ p['in'] }}{% if p.required %}, required{% endif %})</li>{% endfor %}</ul>{% endif %}
{% if op.requestBody %}<p><b>Body</b></p><pre>{{ op.requestBody|tojson(indent=2) }}</pre>{% endif %}
<p><b>Responses</b>: {% for code in op.responses %}<code>{{ code }}</code> {% endfor %}</p></div></details>
{% endfor %}{% endfor %}
<h2>Schemas</h2><pre>{{ spec.components.schemas|tojson(indent=2) }}</pre>
</body></html>"""
