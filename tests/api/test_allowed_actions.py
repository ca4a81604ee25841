"""The actions the pages offer (ActionService) are never wider than what the services accept.

Both main flows are driven step by step; at every state each demo user's allowed actions are
computed, every action *not* allowed is attempted through its service and must be refused, and
the step the flow takes next must be among the actor's allowed actions."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from docsvc.errors import NotFound
from docsvc.services.actions import ALL_ACTIONS
from docsvc.services.documents import DocumentInput, Upload
from docsvc.services.incoming import AssignmentInput, Target
from docsvc.services.outgoing import RecipientInput
from docsvc.services.page_positions import Position
from tests.fixtures.pdfs import official_pdf
from tests.helpers import assert_refused_unless_offered

USERS = ("vanthu", "chuyenvien", "truongphong", "chutich", "phochutich", "luutru", "quantri", "snv.vanthu")
PIN = "123456"


class Flow:
    def __init__(self, container: Any, demo: Any) -> None:
        from docsvc.services.demo import enrol_demo_signers
        self.c, self.ids = container, demo.users
        self.actors = {u: container.identity.actor_for(demo.users[u]) for u in USERS}
        enrol_demo_signers(container.db, container.signatures, ("chutich",))

    def allowed(self, username: str, doc_id: int) -> frozenset[str]:
        try:
            return self.c.actions.allowed(self.actors[username], doc_id).actions
        except NotFound:
            return frozenset()

    def attempts(self, doc_id: int) -> dict[str, Callable[[Any], Any]]:
        c, officer = self.c, self.ids["chuyenvien"]

        def open_assignment() -> int:
            items = c.incoming.handling(self.actors["chutich"], doc_id)["assignments"]
            return next((a["id"] for a in items if a["status"] == "open"), 1)

        return {
            "register": lambda a: c.incoming.register(a, doc_id, confirm_duplicate=True),
            "return_to_sender": lambda a: c.incoming.return_to_sender(a, doc_id, "Sai địa chỉ"),
            "assign": lambda a: c.incoming.assign(a, doc_id, AssignmentInput(lead=Target(user_id=officer),
                                                                             deadline_days=3)),
            "reassign": lambda a: c.incoming.reassign(a, open_assignment(), user_id=officer),
            "progress": lambda a: c.incoming.add_progress(a, doc_id, "Đang xử lý", 10),
            "complete": lambda a: c.incoming.complete(a, doc_id, "Xong"),
            "confirm_recall": lambda a: c.outgoing.confirm_recall(a, doc_id),
            "submit": lambda a: c.approval.submit(a, doc_id),
            "approve": lambda a: c.approval.decide(a, doc_id, "approved"),
            "reject": lambda a: c.approval.decide(a, doc_id, "rejected", "Không đồng ý"),
            "return_for_revision": lambda a: c.approval.decide(a, doc_id, "returned", "Sửa lại"),
            "sign": lambda a: c.outgoing.sign(a, doc_id, pin=PIN),
            "issue": lambda a: c.outgoing.issue(a, doc_id, recipients=[RecipientInput(name="Các thôn")]),
            "recall": lambda a: c.outgoing.recall(a, doc_id, reason="Sai sót"),
            "page_positions": lambda a: c.outgoing.set_page_positions(
                a, doc_id, number=Position(1, 80, 745), date=Position(1, 330, 742), place="Đồng Đăng"),
            "exchange_update": lambda a: c.exchange.send_update(a, doc_id, reason="Sai trích yếu",
                                                                changes={"subject": "Trích yếu đúng"}),
            "exchange_replace": lambda a: c.exchange.send_replacement(a, doc_id, replacement_id=doc_id,
                                                                      reason="Thay thế"),
            "copy": lambda a: c.outgoing.copy(a, doc_id, form="SY"),
            "new_version": lambda a: c.documents.add_version(a, doc_id, Upload("v2.pdf", io.BytesIO(official_pdf()))),
        }

    def check(self, doc_id: int, state: str) -> dict[str, frozenset[str]]:
        """Every action hidden from a user is refused to that user (in this state)."""
        seen = {}
        attempts = self.attempts(doc_id)
        assert set(attempts) == set(ALL_ACTIONS)
        for username in USERS:
            allowed = self.allowed(username, doc_id)
            seen[username] = allowed
            assert_refused_unless_offered(attempts, allowed, self.actors[username], who=username, state=state)
        return seen

    def step(self, doc_id: int, state: str, username: str, action: str) -> Any:
        seen = self.check(doc_id, state)
        assert action in seen[username], (state, username, seen[username])
        return self.attempts(doc_id)[action](self.actors[username])


def test_incoming_flow_offers_only_what_the_services_accept(container, demo) -> None:  # type: ignore[no-untyped-def]
    flow = Flow(container, demo)
    clerk = flow.actors["vanthu"]
    doc = container.documents.create(clerk, DocumentInput(
        direction="incoming", type="QĐ", subject="Quyết định phê duyệt kế hoạch", code_number="15",
        code_notation="QĐ-UBND", issuing_body="UBND tỉnh Lạng Sơn"), Upload("qd.pdf", io.BytesIO(official_pdf())), [])
    doc_id = doc.data["id"]
    flow.step(doc_id, "received", "vanthu", "register")
    flow.step(doc_id, "registered", "chutich", "assign")
    flow.step(doc_id, "assigned", "chuyenvien", "progress")
    seen = flow.check(doc_id, "in progress")
    assert {"progress", "complete"} <= seen["chuyenvien"] and "assign" in seen["chutich"]
    assert seen["snv.vanthu"] == frozenset() and seen["quantri"] == frozenset()
    flow.step(doc_id, "in progress", "chuyenvien", "complete")
    flow.check(doc_id, "completed")


def test_outgoing_flow_offers_only_what_the_services_accept(container, demo) -> None:  # type: ignore[no-untyped-def]
    flow = Flow(container, demo)
    officer = flow.actors["chuyenvien"]
    doc = container.documents.create(officer, DocumentInput(
        direction="outgoing", type="QĐ", subject="Quyết định thành lập tổ công tác"),
        Upload("du-thao.pdf", io.BytesIO(official_pdf())), [])
    doc_id = doc.data["id"]
    flow.step(doc_id, "draft", "chuyenvien", "submit")
    flow.step(doc_id, "in review", "truongphong", "approve")
    flow.step(doc_id, "approved", "chutich", "sign")
    seen = flow.check(doc_id, "signed")
    assert seen["vanthu"] == {"issue"} and seen["chutich"] == frozenset()
    flow.step(doc_id, "signed", "vanthu", "issue")
    seen = flow.check(doc_id, "issued")
    assert "copy" in seen["vanthu"] and "recall" in seen["chutich"]
    flow.step(doc_id, "issued", "chutich", "recall")
    assert all(not a for a in flow.check(doc_id, "recalled").values())


def test_a_draft_in_review_is_not_submitted_twice(api) -> None:  # type: ignore[no-untyped-def]
    """A second submit used to start a second active chain (and the next decision failed with 500)."""
    from tests.helpers import assert_error, created, upload
    officer = api.as_user("chuyenvien")
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject="Quyết định thử"))
    assert officer.post(f"/api/v1/documents/{draft['id']}/submit", json={}).status_code == 200
    assert_error(officer.post(f"/api/v1/documents/{draft['id']}/submit", json={}), 409, "invalid_state")
    assert api.as_user("truongphong").post(f"/api/v1/documents/{draft['id']}/approve", json={}).status_code == 200


def test_a_document_under_legal_hold_offers_only_copies(container, demo, app) -> None:  # type: ignore[no-untyped-def]
    """Archived or held records are write-once: the page offers nothing the guard would refuse."""
    from tests.helpers import PageClient, page_actions, page_text
    flow = Flow(container, demo)
    doc = container.documents.create(flow.actors["vanthu"], DocumentInput(
        direction="incoming", type="QĐ", subject="Quyết định về đất đai đang có tranh chấp", code_number="21",
        code_notation="QĐ-UBND", issuing_body="UBND tỉnh Lạng Sơn"), Upload("qd.pdf", io.BytesIO(official_pdf())), [])
    doc_id = doc.data["id"]
    container.incoming.register(flow.actors["vanthu"], doc_id)
    container.holds.place(flow.actors["chutich"], reason="Vụ án hành chính số 12/2026", document_id=doc_id)
    seen = flow.check(doc_id, "held")
    assert seen["vanthu"] == {"copy"} and seen["chutich"] == frozenset()
    leader = PageClient(app.test_client())
    assert leader.login("chutich", demo.password).status_code == 303
    page = leader.get(f"/documents/{doc_id}")
    assert page_actions(page) == set() and "phong tỏa theo yêu cầu pháp lý" in page_text(page)


def test_a_recall_is_confirmed_once_and_offered_exactly_then(container, demo) -> None:  # type: ignore[no-untyped-def]
    """The receiving registry is offered the confirmation while the recall waits for it, and the
    service accepts it exactly then (it used to accept a second confirmation it did not offer)."""
    flow = Flow(container, demo)
    officer, receiver = flow.actors["chuyenvien"], flow.actors["snv.vanthu"]
    doc = container.documents.create(officer, DocumentInput(
        direction="outgoing", type="QĐ", subject="Quyết định gửi Sở Nội vụ"),
        Upload("du-thao.pdf", io.BytesIO(official_pdf())), [])
    doc_id = doc.data["id"]
    container.approval.submit(officer, doc_id)
    container.approval.decide(flow.actors["truongphong"], doc_id, "approved")
    container.outgoing.sign(flow.actors["chutich"], doc_id, pin=PIN)
    container.outgoing.issue(flow.actors["vanthu"], doc_id, recipients=[RecipientInput(agency_id=receiver.agency_id)])
    container.outgoing.deliver(doc_id)
    from sqlalchemy import select

    from docsvc.db.models import Recipient
    with container.db.read() as s:
        copy_id = s.execute(select(Recipient.incoming_document_id).where(Recipient.document_id == doc_id)).scalar_one()
    assert "confirm_recall" not in flow.allowed("snv.vanthu", copy_id)
    container.outgoing.recall(flow.actors["chutich"], doc_id, reason="Sai sót")
    flow.step(copy_id, "withdrawn", "snv.vanthu", "confirm_recall")
    seen = flow.check(copy_id, "recall confirmed")
    assert "confirm_recall" not in seen["snv.vanthu"]
