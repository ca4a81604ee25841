"""The reorganisation admin pages: the province's administrator prepares a plan, sees its preview and
problems, runs it, follows its progress and opens the report; nobody else sees them."""

from __future__ import annotations

import json
from typing import Any

from docsvc.domain.policies import SYSTEM
from tests.api.test_reorganisation import _incoming, _plan, _two_more_communes
from tests.helpers import page_text


def test_the_province_admin_plans_previews_and_runs_from_the_pages(pages: Any, api: Any, container: Any) -> None:
    _two_more_communes(container)
    doc = _incoming(api, 31)
    commune_admin = pages("quantri")  # an administrator, but of a commune: may not reorganise
    assert commune_admin.post("/admin/reorganisations", {"plan": json.dumps(_plan(container))}).status_code == 403
    admin = pages("tinh.quantri")
    r = admin.get("/admin/reorganisations")
    assert r.status_code == 200 and 'data-form="reorganisation"' in r.get_data(as_text=True)
    # not JSON: the message on the page, nothing created
    r = admin.post("/admin/reorganisations", {"plan": "{kind: merge"})
    assert r.status_code == 400 and "not JSON" in page_text(r)
    assert container.reorganisations.list(SYSTEM) == []
    # a plan with a problem: shown, the run refused
    bad = _plan(container, users={"chutich": {"leave": True, "replaced_by": "nobody"}})
    r = admin.post("/admin/reorganisations", {"plan": json.dumps(bad)})
    assert r.status_code == 303, page_text(r)
    bad_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    r = admin.get(f"/admin/reorganisations/{bad_id}")
    assert "replacement nobody" in page_text(r)
    r = admin.post(f"/admin/reorganisations/{bad_id}/run")
    assert r.status_code == 409 and container.reorganisations.status(SYSTEM, bad_id)["status"] == "draft"
    # the good plan
    r = admin.post("/admin/reorganisations", {"plan": json.dumps(_plan(container))})
    plan_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    r = admin.get(f"/admin/reorganisations/{plan_id}")
    assert r.status_code == 200 and f'<td>{doc["id"]}</td>' in r.get_data(as_text=True)
    assert doc["subject"] not in r.get_data(as_text=True)  # by id and number, never by subject
    r = admin.post(f"/admin/reorganisations/{plan_id}/run")
    assert r.status_code == 303
    r = admin.get(f"/admin/reorganisations/{plan_id}")
    assert 'data-status>done<' in r.get_data(as_text=True)
    pdf = admin.get(f"/admin/reorganisations/{plan_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
