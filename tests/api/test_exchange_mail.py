"""E-mail (issue 17): a document sent to a recipient with no system arrives at a real SMTP server
(aiosmtpd) with the signed PDF byte-identical and the signed edXML package beside it; users'
notification e-mails, immediate or as a daily digest, never name a document the user may not read."""

from __future__ import annotations

import email
import hashlib
from collections.abc import Iterator
from email import policy
from typing import Any

import pytest
from sqlalchemy import select

from bench.stack import free_port
from docsvc.services.exchange import edxml
from tests.api.exchange_support import smtp_server
from tests.helpers import created, me, page_text, upload
from tests.helpers import signed_draft as _signed_draft


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    with smtp_server(inbox) as port:
        yield port, inbox


@pytest.fixture
def settings_overrides(smtp: tuple[int, _Inbox]) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp[0], "smtp_from": "vanthu@dongdang.gov.vn"}


def test_document_by_email_arrives_with_its_pdf_byte_identical(api: Any, container: Any, smtp: Any) -> None:
    _, inbox = smtp
    inbox.messages.clear()
    container.exchange.kick = None
    admin = api.as_user("quantri")
    r = admin.post("/api/v1/exchange/agencies", json={"organ_id": "000.00.00.C99", "name": "Công ty CP Xây dựng A",
                                                      "email": "vanthu@congty-a.vn", "transport": "email"})
    assert r.status_code == 201, r.get_json()
    doc = _signed_draft(api)
    r = api.as_user("vanthu").post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [
        {"name": "Công ty CP Xây dựng A", "organ_id": "000.00.00.C99"}]})
    assert r.status_code == 200, r.get_json()
    assert container.exchange.send_pending().sent == 1
    [msg] = inbox.messages
    assert msg["To"] == "vanthu@congty-a.vn"
    parts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    pdf = next(v for k, v in parts.items() if k.endswith(".pdf"))
    versions = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/versions").get_json()
    issued = [v for v in (versions["items"] if isinstance(versions, dict) else versions) if v["role"] == "issued"][-1]
    assert hashlib.sha256(pdf).hexdigest() == issued["sha256"]
    package_bytes = next(v for k, v in parts.items() if k.endswith(".edxml"))
    package = edxml.parse_package(package_bytes)
    assert package.attachments[0].data == pdf and package.to[0].organ_id == "000.00.00.C99"
    from signing.cms import verify_detached
    signature = next(v for k, v in parts.items() if k.endswith(".p7s"))
    assert verify_detached(package_bytes, signature, container.signatures.trust).valid
    [rec] = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/recipients").get_json()["items"]
    assert rec["status_code"] == "00" and rec["exchange"]["message"]["transport"] == "email"


def test_unreachable_smtp_leaves_the_recipient_queued_with_the_reason(api: Any, container: Any, pages: Any) -> None:
    container.exchange.kick = None
    from docsvc.services.mailer import Mailer
    container.exchange.transports["email"].mailer = Mailer("127.0.0.1", free_port(), sender="x@y.vn", timeout=2)
    api.as_user("quantri").post("/api/v1/exchange/agencies", json={
        "organ_id": "000.00.00.C98", "name": "Công ty B", "email": "b@congty-b.vn", "transport": "email"})
    doc = _signed_draft(api)
    api.as_user("vanthu").post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [
        {"name": "Công ty B", "organ_id": "000.00.00.C98"}]})
    assert container.exchange.send_pending().retrying == 1
    [rec] = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/recipients").get_json()["items"]
    assert rec["status_code"] is None and rec["sent_at"] is None
    message = rec["exchange"]["message"]
    assert message["state"] == "queued" and "did not take" in message["last_error"]
    page = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/exchange").get_json()
    assert page["outbound"][0]["attempts"] == 1 and page["outbound"][0]["next_attempt_at"].endswith("+07:00")
    text = page_text(pages("vanthu").get(f"/documents/{doc['id']}"))
    assert "đang chờ gửi" in text and "did not take" in text and "lần thử 1" in text


def _set_email(container: Any, username: str, address: str) -> None:
    from docsvc.db.models import User
    with container.db.write() as s:
        s.execute(select(User).where(User.username == username)).scalar_one().email = address


def test_notification_emails_immediate_digest_and_trimmed(api: Any, container: Any, smtp: Any) -> None:
    _, inbox = smtp
    inbox.messages.clear()
    mails = container.mail_notifications
    _set_email(container, "chutich", "chutich@dongdang.gov.vn")
    _set_email(container, "snv.giamdoc", "giamdoc@snv.gov.vn")
    assert mails.send_due().mails == 0  # first run: starts from now, the history is not mailed
    clerk = api.as_user("vanthu")
    doc = created(upload(clerk, subject="Công văn về việc kiểm tra an toàn thực phẩm"))
    assert clerk.post(f"/api/v1/documents/{doc['id']}/register", json={}).status_code == 200  # leaders notified
    assert mails.send_due().mails == 1
    [msg] = inbox.messages
    assert msg["To"] == "chutich@dongdang.gov.vn" and "kiểm tra an toàn thực phẩm" not in msg["Subject"]
    assert "kiểm tra an toàn thực phẩm" in msg.get_content() and f"/documents/{doc['id']}" in msg.get_content()
    assert mails.send_due().mails == 0  # nothing new

    # A notification about a document the user may not read (written while he could, say, before a grant was
    # revoked; notify_readers would not write it today): neither its subject nor its id leaves by e-mail.
    from docsvc.services.notifications import _insert
    with container.db.write() as s:
        _insert(s, [me(api, "snv.giamdoc")["id"]], "assignment.lead",
                "Chủ trì xử lý: Công văn về việc kiểm tra an toàn thực phẩm", document_id=doc["id"], dedupe=None)
    assert mails.send_due().mails == 1
    body = inbox.messages[-1].get_content()
    assert "an toàn thực phẩm" not in body and "/documents/" not in body
    assert "nội dung đã ẩn" in body

    # Daily digest: several notifications, one e-mail, then nothing more that day; off: nothing.
    leader = api.as_user("chutich")
    assert leader.put("/api/v1/me/notification-email", json={"mode": "digest"}).get_json()["mode"] == "digest"
    assert leader.put("/api/v1/me/notification-email", json={"mode": "weekly"}).status_code == 400
    for i in range(3):
        d = created(upload(clerk, subject=f"Báo cáo số {i} về tình hình kinh tế", number_notation=f"{20 + i}/BC-UBND"))
        assert clerk.post(f"/api/v1/documents/{d['id']}/register", json={}).status_code == 200
    before = len(inbox.messages)
    assert mails.send_due().mails == 1
    digest = inbox.messages[-1]
    assert len(inbox.messages) == before + 1 and "Tổng hợp" in digest["Subject"]
    assert all(f"Báo cáo số {i}" in digest.get_content() for i in range(3))
    d = created(upload(clerk, subject="Báo cáo bổ sung", number_notation="30/BC-UBND"))
    assert clerk.post(f"/api/v1/documents/{d['id']}/register", json={}).status_code == 200
    assert mails.send_due().mails == 0  # the next digest is tomorrow
    assert leader.put("/api/v1/me/notification-email", json={"mode": "off"}).status_code == 200
    from docsvc.db.models import NotificationMailPref
    with container.db.write() as s:
        s.get(NotificationMailPref, me(api, "chutich")["id"]).last_digest_at = None
    assert mails.send_due().mails == 0


def test_issue_page_offers_the_directory_and_queues_the_outside_agency(api: Any, container: Any, pages: Any) -> None:
    container.exchange.kick = None
    r = api.as_user("quantri").post("/api/v1/exchange/agencies", json={
        "organ_id": "000.00.00.G22", "name": "Văn phòng Chính phủ", "transport": "email",
        "email": "vanthu@chinhphu.vn"})
    assert r.status_code == 201
    doc = _signed_draft(api)
    clerk = pages("vanthu")
    page = clerk.get(f"/documents/{doc['id']}")
    assert "Văn phòng Chính phủ (000.00.00.G22)" in page_text(page)
    agency_id = int(page.get_data(as_text=True).split('name="outside_agency" value="')[1].split('"')[0])
    assert clerk.post(f"/documents/{doc['id']}/issue", {"outside_agency": str(agency_id + 999)}).status_code == 400
    r = clerk.post(f"/documents/{doc['id']}/issue", {"outside_agency": str(agency_id)})
    assert r.status_code in (200, 303), r.status_code
    [rec] = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/recipients").get_json()["items"]
    assert (rec["name"], rec["organ_id"], rec["status_code"]) == ("Văn phòng Chính phủ", "000.00.00.G22", None)
    assert rec["exchange"]["message"]["state"] == "queued"
