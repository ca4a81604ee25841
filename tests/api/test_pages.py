"""The HTML pages through Flask's test client: sessions, CSRF, permissions, languages, errors.

The end-to-end scenarios in a real browser are in tests/browser; these are the fast checks of what
each page shows and refuses."""

from __future__ import annotations

import io
import re
from typing import Any

from docsvc.domain.policies import SYSTEM
from tests.fixtures.pdfs import official_pdf
from tests.helpers import PageClient, created, page_actions, page_text, upload


def _receive(pc: PageClient, **fields: Any) -> Any:
    data = {"type": "QĐ", "subject": "Quyết định về việc phê duyệt kế hoạch cải cách hành chính năm 2026",
            "number_notation": "15/QĐ-UBND", "issuing_body": "Ủy ban nhân dân tỉnh Lạng Sơn",
            "issued_date": "2026-11-20", "urgency": "normal", "secrecy": "none", "received_via": "electronic",
            "register_now": "1", "file": (io.BytesIO(official_pdf()), "qd-15.pdf"), **fields}
    return pc.post("/incoming/new", data, content_type="multipart/form-data")


def _doc_id(response: Any) -> int:
    assert response.status_code == 303, (response.status_code, page_text(response)[:600])
    return int(re.search(r"/documents/(\d+)$", response.headers["Location"]).group(1))


# ---------------------------------------------------------------- sessions
def test_pages_need_a_login_and_the_cookie_is_protected(pages, container) -> None:  # type: ignore[no-untyped-def]
    anonymous = pages()
    r = anonymous.get("/work")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/work")
    assert anonymous.get("/").headers["Location"] == "/work"
    pc = pages()
    pc.csrf = pc._token(pc.get("/login"))
    r = pc.post("/login", {"username": "vanthu", "password": "docsvc-demo-2026"})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "docsvc_session=" in cookie


def test_secure_cookie_when_the_public_url_is_https(container, demo) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from docsvc.web.app import create_app
    container.settings = dataclasses.replace(container.settings, public_url="https://vanban.example.gov.vn")
    pc = PageClient(create_app(container=container).test_client())
    pc.csrf = pc._token(pc.get("/login"))
    r = pc.post("/login", {"username": "vanthu", "password": demo.password})
    assert "Secure" in r.headers["Set-Cookie"]


def test_login_failures_lockout_and_logout_are_audited(pages, container, settings) -> None:  # type: ignore[no-untyped-def]
    pc = pages()
    r = pc.login("vanthu", "not-the-password")
    assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in page_text(r)
    for _ in range(settings.login_max_failures - 1):  # the last allowed failure locks the account
        r = pc.login("vanthu", "not-the-password")
    assert r.status_code == 423 and "tài khoản bị khóa" in page_text(r)

    pc = pages("chutich")
    assert pc.get("/work").status_code == 200
    r = pc.post("/logout")
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert pc.get("/work").status_code == 302  # the session's token is revoked, not only forgotten
    from sqlalchemy import select

    from docsvc.db.models import AuditEvent
    with container.db.read() as s:
        events = [(e.action, e.outcome, e.details.get("channel")) for e in s.execute(
            select(AuditEvent).where(AuditEvent.action.in_(["auth.login", "auth.logout"]))).scalars()]
    assert ("auth.login", "success", "web") in events and ("auth.logout", "success", "web") in events
    assert ("auth.login", "denied", "web") in events


def test_a_stolen_session_cookie_dies_with_the_token(pages, container, api) -> None:  # type: ignore[no-untyped-def]
    """Changing a user's rights revokes their tokens: the page session ends too."""
    pc = pages("chuyenvien")
    officer = api.as_user("chuyenvien").get("/api/v1/me").get_json()
    container.identity.update_user(SYSTEM, officer["id"], clearance="mat")
    r = pc.get("/work")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


# ---------------------------------------------------------------- CSRF
def test_posts_without_the_csrf_token_are_refused(pages, api) -> None:  # type: ignore[no-untyped-def]
    clerk = pages("vanthu")
    doc = created(upload(api.as_user("vanthu")))
    r = clerk.post(f"/documents/{doc['id']}/register", {}, csrf=False)
    assert r.status_code == 400 and "tải lại trang" in page_text(r)
    r = clerk.post(f"/documents/{doc['id']}/register", {"csrf_token": "forged"}, csrf=False)
    assert r.status_code == 400
    assert api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}").get_json()["status"] == "received"
    anonymous = pages()
    assert anonymous.post("/login", {"username": "vanthu", "password": "docsvc-demo-2026"}, csrf=False) \
        .status_code == 400
    r = clerk.post(f"/documents/{doc['id']}/register", {})
    assert r.status_code == 303


# ---------------------------------------------------------------- languages and formats
def test_vietnamese_by_default_english_on_request(pages, api) -> None:  # type: ignore[no-untyped-def]
    clerk = pages("vanthu")
    doc_id = _doc_id(_receive(clerk, urgency="khan"))
    page = page_text(clerk.get(f"/documents/{doc_id}"))
    assert "Vào sổ" in page and "Khẩn" in page and "Đã vào sổ" in page and "Công việc của tôi" in page
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d \+07:00", page)  # arrival time, Vietnam time
    assert "20/11/2026" in page  # the document's date, dd/mm/yyyy
    r = clerk.get(f"/lang/en?next=/documents/{doc_id}")
    assert r.status_code == 302 and r.headers["Location"] == f"/documents/{doc_id}"
    assert "docsvc_lang=en" in r.headers["Set-Cookie"]
    page = page_text(clerk.get(f"/documents/{doc_id}"))
    assert "My work" in page and "Registered" in page and "Urgent" in page and "Công việc của tôi" not in page
    assert "20/11/2026" in page  # dates keep the Vietnamese order in English too
    assert clerk.get("/lang/fr").status_code == 302
    assert "My work" in page_text(clerk.get("/work"))  # unknown language: nothing changes
    assert clerk.get("/lang/vi?next=https://evil.example/").headers["Location"] == "/work"  # no open redirect
    assert "Công việc của tôi" in page_text(clerk.get("/work"))


def test_the_catalogue_translates_every_message_and_the_mo_is_current() -> None:
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location("i18n_script", Path(__file__).parents[2] / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert module.check() == 0, "run: python scripts/i18n.py update, then translate what it lists"


# ---------------------------------------------------------------- permissions and errors
def test_pages_show_only_what_the_user_may_do_and_see(pages, api) -> None:  # type: ignore[no-untyped-def]
    clerk, officer, leader = pages("vanthu"), pages("chuyenvien"), pages("chutich")
    doc = created(upload(api.as_user("vanthu")))
    assert page_actions(clerk.get(f"/documents/{doc['id']}")) >= {"register", "return_to_sender"}
    # Before registration only the registry knows it: 404 page, existence not revealed.
    r = leader.get(f"/documents/{doc['id']}")
    assert r.status_code == 404 and r.mimetype == "text/html" and doc["subject"] not in page_text(r)
    assert leader.get(f"/documents/{doc['id']}/content").status_code == 404
    assert pages("snv.vanthu").get(f"/documents/{doc['id']}").status_code == 404
    clerk.post(f"/documents/{doc['id']}/register", {})
    assert page_actions(leader.get(f"/documents/{doc['id']}")) == {"assign", "complete"}
    assert officer.get(f"/documents/{doc['id']}").status_code == 404
    # Menus: the clerk registers and issues, the officer drafts; only the admin administers.
    nav_clerk, nav_officer = page_text(clerk.get("/work")), page_text(officer.get("/work"))
    assert "Vào sổ văn bản đến" in nav_clerk and "Chờ phát hành" in nav_clerk and "Người dùng" not in nav_clerk
    assert "Vào sổ văn bản đến" not in nav_officer and "Sổ đăng ký" not in nav_officer
    assert "Soạn dự thảo" in nav_officer
    assert clerk.get("/admin/users").status_code == 403
    assert officer.get("/incoming/new").status_code == 403
    assert pages("quantri").get("/admin/users").status_code == 200
    # A POST the service refuses: shown on the page with the service's status, nothing changed.
    r = officer.post(f"/documents/{doc['id']}/assign", {"lead": "user:1"})
    assert r.status_code == 404


def test_unknown_pages_and_methods_answer_with_pages_the_api_with_json(pages) -> None:  # type: ignore[no-untyped-def]
    pc = pages("vanthu")
    r = pc.get("/no-such-page")
    assert r.status_code == 404 and r.mimetype == "text/html" and "Không tìm thấy" in page_text(r)
    r = pc.client.get("/api/v1/no-such-endpoint")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert pc.post("/documents/1/teleport", {}).status_code == 404
    assert pc.client.delete("/work").status_code == 405
    pc.client.application.config["MAX_CONTENT_LENGTH"] = 4096
    r = _receive(pc)
    assert r.status_code == 413 and r.mimetype == "text/html" and "Tệp tải lên quá lớn" in page_text(r)


def test_refused_actions_explain_themselves_with_the_right_status(pages, api, container) -> None:  # type: ignore[no-untyped-def]
    from docsvc.services.demo import enrol_demo_signers
    enrol_demo_signers(container.db, container.signatures, ("chutich",))
    officer, head, leader = pages("chuyenvien"), pages("truongphong"), pages("chutich")
    r = officer.post("/outgoing/new", {"type": "QĐ", "subject": "Quyết định thành lập tổ công tác", "urgency": "normal",
                                       "secrecy": "none", "file": (io.BytesIO(official_pdf()), "du-thao.pdf")},
                     content_type="multipart/form-data")
    doc_id = _doc_id(r)
    assert page_actions(officer.get(f"/documents/{doc_id}")) >= {"submit", "new_version"}
    assert officer.post(f"/documents/{doc_id}/submit", {}).status_code == 303
    assert page_actions(head.get(f"/documents/{doc_id}")) == {"approve", "reject", "return_for_revision"}
    r = head.post(f"/documents/{doc_id}/reject", {"reason": ""})
    assert r.status_code == 400 and "hãy nêu lý do" in page_text(r).lower()
    assert head.post(f"/documents/{doc_id}/approve", {"comment": "Đồng ý"}).status_code == 303
    assert page_actions(leader.get(f"/documents/{doc_id}")) == {"sign", "reject", "return_for_revision"}
    r = leader.post(f"/documents/{doc_id}/sign", {"pin": "000000"})
    assert r.status_code == 403 and "Sai mã PIN" in page_text(r)
    assert "/pki" not in page_text(r) and "p12" not in page_text(r)  # no key path in the message
    r = leader.post(f"/documents/{doc_id}/sign", {"pin": "123456"})
    assert r.status_code == 303
    page = leader.get(r.headers["Location"])
    assert "Đã ký số." in page_text(page) and page_actions(page) == set()
    check = leader.get(f"/documents/{doc_id}/signatures", headers={"HX-Request": "true"})
    assert 'data-verdict="valid' in check.get_data(as_text=True) and "Hoàng Văn Nam" in page_text(check)
    assert "<html" not in check.get_data(as_text=True)  # a fragment for htmx


def test_duplicate_warning_and_confirmation(pages) -> None:  # type: ignore[no-untyped-def]
    clerk = pages("vanthu")
    first = _doc_id(_receive(clerk))
    r = clerk.get(f"/documents/{first}")
    assert "Số đến 1/" in page_text(r)
    second = _doc_id(_receive(clerk, number_notation="15/QD-UBND"))
    page = clerk.get(f"/documents/{second}")
    text = page_text(page)
    assert "Có thể trùng" in text and "register" in page_actions(page) and "confirm_duplicate" in page.get_data(True)
    r = clerk.post(f"/documents/{second}/register", {})
    assert r.status_code == 409 and "Đã có văn bản cùng số" in page_text(r)
    r = clerk.post(f"/documents/{second}/register", {"confirm_duplicate": "1"})
    assert r.status_code == 303 and "Số đến 2/" in page_text(clerk.get(f"/documents/{second}"))


def test_secret_content_stays_offline_with_a_clear_message(pages) -> None:  # type: ignore[no-untyped-def]
    r = _receive(pages("vanthu"), secrecy="mat")
    assert r.status_code == 400 and "chỉ đăng ký thông tin" in page_text(r).lower()
    assert 'value="Quyết định về việc' in r.get_data(as_text=True) or "Quyết định về việc" in page_text(r)


# ---------------------------------------------------------------- registers, search, admin
def test_register_page_and_its_pdf(pages) -> None:  # type: ignore[no-untyped-def]
    clerk = pages("vanthu")
    _doc_id(_receive(clerk))
    page = page_text(clerk.get("/registers/incoming"))
    assert "Sổ đăng ký văn bản đến" in page and "Số đến" in page and "15/QĐ-UBND" in page
    pdf = clerk.get("/registers/incoming/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pages("chuyenvien").get("/registers/incoming").status_code == 403


def test_search_page_with_facets_and_highlights(pages, container) -> None:  # type: ignore[no-untyped-def]
    clerk = pages("vanthu")
    _doc_id(_receive(clerk))
    _doc_id(_receive(clerk, type="TB", subject="Thông báo lịch tiếp công dân", number_notation="07/TB-UBND",
                     file=(io.BytesIO(official_pdf("Thông báo lịch tiếp công dân")), "tb-07.pdf")))
    container.indexing.drain_all()
    r = clerk.get("/search?q=quyet+dinh+cai+cach")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<mark>Quyết</mark>" in body and 'data-total="1"' in body
    assert 'data-facet="type"' in body
    r = clerk.get("/search?type=TB")
    assert 'data-total="1"' in r.get_data(as_text=True) and "Thông báo lịch tiếp công dân" in page_text(r)
    assert 'data-total="0"' in pages("snv.vanthu").get("/search?q=quyet+dinh").get_data(as_text=True)
    assert clerk.get("/search?q=" + "%22" * 3).status_code in (200, 400)


def test_admin_creates_and_edits_a_user(pages, api) -> None:  # type: ignore[no-untyped-def]
    admin = pages("quantri")
    me = api.as_user("quantri").get("/api/v1/me").get_json()
    r = admin.post("/admin/users/new", {"username": "ketoan", "password": "short", "full_name": "Lê Văn Kế",
                                        "agency_id": me["agency_id"], "roles": ["officer"], "clearance": "none"})
    assert r.status_code == 400 and "Mật khẩu" in page_text(r) and 'value="ketoan"' in r.get_data(as_text=True)
    r = admin.post("/admin/users/new", {"username": "ketoan", "password": "mat-khau-2026", "full_name": "Lê Văn Kế",
                                        "agency_id": me["agency_id"], "roles": ["officer"], "clearance": "none"})
    assert r.status_code == 303
    users = api.as_user("quantri").get("/api/v1/users", query_string={"per_page": 200}).get_json()["items"]
    new = next(u for u in users if u["username"] == "ketoan")
    r = admin.post(f"/admin/users/{new['id']}", {"roles": ["officer", "clerk"], "clearance": "mat",
                                                 "position": "Kế toán", "is_active": "1"})
    assert r.status_code == 303
    changed = api.as_user("quantri").get(f"/api/v1/users/{new['id']}").get_json()
    assert changed["roles"] == ["clerk", "officer"] and changed["clearance"] == "mat" and changed["is_active"]
    assert "ketoan" in page_text(admin.get("/admin/users"))
    r = admin.post("/admin/units", {"kind": "unit", "name": "Phòng Nội vụ", "abbreviation": "PNV",
                                    "parent_id": me["agency_id"]})
    assert r.status_code == 303 and "Phòng Nội vụ" in page_text(admin.get("/admin/units"))
    r = admin.post("/admin/chains/new", {"name": "Quyết định", "type_code": "QĐ",
                                         "kind_0": "review", "approver_0": "role:unit_head", "drafting_0": "1",
                                         "kind_1": "sign", "approver_1": "role:leader",
                                         "kind_2": "issue", "approver_2": "role:clerk"})
    assert r.status_code == 303
    assert api.as_user("quantri").get("/api/v1/chain-templates").get_json()["items"][0]["steps"][0] == {
        "kind": "review", "mode": "any", "approvers": [{"role": "unit_head", "unit": "drafting"}]}
    r = admin.post("/admin/chains/new", {"name": "Sai", "kind_0": "review", "approver_0": "role:leader"})
    assert r.status_code == 400 and "bước ký" in page_text(r)


def test_a_new_page_module_plugs_in_with_its_menu_and_guards(container, demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The hook the archive pages will use: one module added to PAGE_MODULES."""
    from docsvc.web import pages as pages_package
    from docsvc.web.app import create_app
    monkeypatch.setattr(pages_package, "PAGE_MODULES", [*pages_package.PAGE_MODULES, "tests.api.page_module_example"])
    app = create_app(container=container)
    archivist, clerk = PageClient(app.test_client()), PageClient(app.test_client())
    assert archivist.login("luutru", demo.password).status_code == 303
    assert clerk.login("vanthu", demo.password).status_code == 303
    assert 'href="/example-archive/"' in archivist.get("/work").get_data(as_text=True)
    assert 'href="/example-archive/"' not in clerk.get("/work").get_data(as_text=True)
    assert archivist.get("/example-archive/").get_data(as_text=True) == "archive of luutru"
    assert clerk.get("/example-archive/").status_code == 403
    assert archivist.post("/example-archive/", {}, csrf=False).status_code == 400
    assert archivist.post("/example-archive/", {}).get_data(as_text=True) == "changed"
    assert PageClient(app.test_client()).get("/example-archive/").status_code == 302  # login first


def test_messages_name_the_field_in_the_users_language(app) -> None:  # type: ignore[no-untyped-def]
    from docsvc.errors import InvalidInput, PermissionDenied
    from docsvc.web.pages.messages import user_message
    with app.test_request_context("/work"):
        m = user_message(InvalidInput("subject: String should have at most 500 characters",
                                      [{"field": "subject", "problem": "String should have at most 500 characters"}]))
        assert m.text == "Có giá trị không hợp lệ trong biểu mẫu. Hãy kiểm tra trường “Trích yếu”."
        assert m.detail == "Subject: String should have at most 500 characters."
        assert user_message(PermissionDenied("only the agency's registry issues documents")).text == \
            "Chỉ văn thư cơ quan mới phát hành văn bản."
        assert user_message(InvalidInput("too many failed logins; the account is locked for 15 minutes")).text == \
            "Đăng nhập sai quá nhiều lần: tài khoản bị khóa trong 15 phút."
    with app.test_request_context("/work", headers={"Cookie": "docsvc_lang=en"}):
        assert user_message(PermissionDenied("only the agency's registry issues documents")).text == \
            "Only the agency's registry issues documents."


def test_messages_are_translated_by_their_key_not_their_wording(app) -> None:  # type: ignore[no-untyped-def]
    """A service rewording its English message keeps the translation: the lookup is by key."""
    from types import SimpleNamespace

    from docsvc.domain import policies
    from docsvc.domain.identity import Actor, Role, Secrecy
    from docsvc.errors import Msg, PermissionDenied
    from docsvc.web.pages.messages import user_message
    leader = Actor(1, "lan", "Lan", 1, frozenset({Role.LEADER}), Secrecy.NONE)
    refusal = policies.may_issue(leader, SimpleNamespace(agency_id=1, direction="outgoing", status="signed"),  # type: ignore[arg-type]
                                 issue_turn=True)
    assert refusal.message.key == "policy.only_agency_registry_issues_documents"  # type: ignore[attr-defined]
    with app.test_request_context("/work"):
        assert user_message(PermissionDenied(refusal.message)).text == "Chỉ văn thư cơ quan mới phát hành văn bản."
        reworded = Msg("policy.only_agency_registry_issues_documents", "documents are issued by the registry")
        assert user_message(PermissionDenied(reworded)).text == "Chỉ văn thư cơ quan mới phát hành văn bản."
