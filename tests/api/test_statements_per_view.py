"""How many SQL statements a view costs (issue 21 §8: fast pages).

The document page, the JSON document, the lists and "my work" run a small fixed number of
statements, whatever the number of documents, steps, assignments, progress notes, grants, events
and dossiers behind them: each view is measured with one related row of each kind, then with many,
and must cost the same (no query per row) and stay under its bound. Counted on the container's
engine (``before_cursor_execute``: every statement the database receives, transaction starts
included), after one warm-up request (the token's last-use stamp is written at most every few
minutes, not on each request)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from docsvc.domain.policies import SYSTEM
from docsvc.services.demo import AGENCIES, DEMO_DOSSIERS, seed_demo_dossiers
from docsvc.timeutil import vn_today
from tests.helpers import created, me, upload

# The most statements each view may run (SQLite counts its BEGINs; PostgreSQL needs fewer).
# A first page of a list that is not full counts its rows itself (no COUNT statement).
BOUNDS = {
    "page /documents/{id}": 32,
    "API /api/v1/documents/{id}": 13,
    "page /work": 13,
    "page /incoming": 5,
    "page /outgoing": 5,
    "API /api/v1/documents": 5,
    "API /api/v1/inbox": 10,
}


@contextmanager
def _statements(container: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(container.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(container.db.engine, "before_cursor_execute", count)


def _cost(container: Any, get: Callable[[], Any]) -> list[str]:
    assert get().status_code == 200  # warm-up (token last-use stamp, first-time caches)
    with _statements(container) as seen:
        r = get()
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return list(seen)


def _views(api: Any, pages: Any, incoming_id: int, outgoing_id: int) -> dict[str, tuple[str, Callable[[], Any]]]:
    """name → (who, request) for every view measured."""
    out: dict[str, tuple[str, Callable[[], Any]]] = {}
    for who in ("vanthu", "chutich", "truongphong", "chuyenvien"):
        pc, client = pages(who), api.as_user(who)
        for doc_id in (incoming_id, outgoing_id):
            if client.get(f"/api/v1/documents/{doc_id}").status_code != 200:
                continue
            out[f"page /documents/{{id}} {who} #{doc_id}"] = (who, lambda p=pc, d=doc_id: p.get(f"/documents/{d}"))
            out[f"API /api/v1/documents/{{id}} {who} #{doc_id}"] = (
                who, lambda c=client, d=doc_id: c.get(f"/api/v1/documents/{d}"))
        out[f"page /work {who}"] = (who, lambda p=pc: p.get("/work"))
        out[f"page /incoming {who}"] = (who, lambda p=pc: p.get("/incoming"))
        out[f"page /outgoing {who}"] = (who, lambda p=pc: p.get("/outgoing"))
        out[f"API /api/v1/documents {who}"] = (who, lambda c=client: c.get("/api/v1/documents"))
        out[f"API /api/v1/inbox {who}"] = (who, lambda c=client: c.get("/api/v1/inbox"))
    return out


def _one_dossier(container: Any) -> None:
    """This year's dossier plan of the demo commune with the first demo dossier open in it."""
    commune = container.identity.find_organisation(AGENCIES[0][4])
    plan = container.dossiers.create_plan(SYSTEM, year=vn_today().year, agency_id=commune.id)
    notation, title, retention, owner = DEMO_DOSSIERS[0]
    container.dossiers.add(SYSTEM, plan["id"], notation=notation, title=title, retention_code=retention,
                           owner_id=container.identity.find_user(owner).id, open_now=True)


def _bound(name: str) -> int:
    return next(b for prefix, b in BOUNDS.items() if name.startswith(prefix + " "))


def test_views_cost_a_fixed_number_of_statements(api, pages, container) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    head, officer = api.as_user("truongphong"), api.as_user("chuyenvien")
    ids = {u: me(api, u)["id"] for u in ("truongphong", "chuyenvien", "phochutich", "luutru", "quantri")}

    # One of each: an incoming document waiting to be registered, one assigned to a handler and a
    # co-handler with one progress note, a draft in its approval chain, a dossier.
    created(upload(clerk, number_notation="16/QĐ-UBND"))
    doc = created(upload(clerk))
    assert clerk.post(f"/api/v1/documents/{doc['id']}/register", json={}).status_code == 200
    r = leader.post(f"/api/v1/documents/{doc['id']}/assignments", json={
        "lead": {"user_id": ids["truongphong"]}, "co": [{"user_id": ids["chuyenvien"]}], "deadline_days": 5,
        "instruction": "Xử lý"})
    assert r.status_code == 201, r.get_json()
    assert head.post(f"/api/v1/documents/{doc['id']}/progress", json={"text": "Bắt đầu"}).status_code == 201
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None))
    r = officer.post(f"/api/v1/documents/{draft['id']}/submit", json={"signer_id": me(api, "chutich")["id"]})
    assert r.status_code == 200, r.get_json()
    _one_dossier(container)
    views = _views(api, pages, doc["id"], draft["id"])
    assert len([v for v in views if v.startswith("page /documents/")]) >= 5  # every side reads something
    few = {name: _cost(container, get) for name, (_who, get) in views.items()}

    # Many of each: more documents from several drafters, more handlers, notes, grants, reads
    # (history events) and dossiers.
    for _ in range(3):
        created(upload(clerk, number_notation=None))
    for drafter in (officer, head, leader):
        created(upload(drafter, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                       issuing_organ_id=None, issued_date=None, received_via=None))
    r = leader.post(f"/api/v1/documents/{doc['id']}/assignments", json={
        "lead": {"user_id": ids["truongphong"]}, "co": [{"user_id": ids["chuyenvien"]},
                                                         {"user_id": ids["phochutich"]}],
        "info": [{"user_id": ids["luutru"]}, {"user_id": ids["quantri"]}], "deadline_days": 5,
        "instruction": "Phối hợp xử lý"})
    assert r.status_code == 201, r.get_json()
    for i in range(4):
        assert head.post(f"/api/v1/documents/{doc['id']}/progress", json={"text": f"Tiến độ {i}",
                                                                          "percent": 20 * i}).status_code == 201
    for who in ("luutru", "quantri"):
        for doc_id in (doc["id"], draft["id"]):
            assert clerk.post(f"/api/v1/documents/{doc_id}/grants", json={
                "user_id": ids[who], "reason": "Cần biết"}).status_code in (201, 403, 404)
    assert seed_demo_dossiers(container.identity, container.dossiers) == len(DEMO_DOSSIERS) - 1
    many = {name: _cost(container, get) for name, (_who, get) in views.items()}

    growing = {name: (len(few[name]), len(many[name]), sorted(set(many[name]) - set(few[name])))
               for name in views if len(many[name]) != len(few[name])}
    assert not growing, {n: g[:2] for n, g in growing.items()}  # a statement per row somewhere
    over = {name: len(many[name]) for name in views if len(many[name]) > _bound(name)}
    assert not over, (over, {name: [" ".join(st.split())[:100] for st in many[name]] for name in over})
