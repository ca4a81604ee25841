"""E-mail both ways (issue 17): two deployments whose only transport is e-mail. A real SMTP server
(aiosmtpd) delivers each address's mail into its own Maildir, as a mail server does for the agency's
exchange mailbox (DOCSVC_EXCHANGE_MAIL_INBOX). A's package reaches B, B's answers (01, 03) come
back to A by e-mail and move A's recipient; an ordinary e-mail in the mailbox is left for a person;
a tampered e-mailed answer is rejected and kept."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from email import encoders
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.api.exchange_support import B_SNV, Deployment, smtp_server, two_deployments
from tests.helpers import me
from tests.helpers import signed_draft as _signed_draft

A_ORGAN = "000.00.39.H41"  # A's commune renumbered: B has a commune 000.00.31.H41 of its own
A_MAIL, B_MAIL = "vanthu@dongdang.gov.vn", "vanthu@snv.h42.gov.vn"


class _MailServer:
    """Delivers each recipient's copy into ``<root>/<address>`` (a Maildir), like an MTA."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def maildir(self, address: str) -> Path:
        return self.root / address

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        for rcpt in envelope.rcpt_tos:
            mailbox.Maildir(self.maildir(rcpt), create=True).add(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[tuple[int, _MailServer]]:
    server = _MailServer(tmp_path / "maildirs")
    server.root.mkdir()
    for address in (A_MAIL, B_MAIL):
        mailbox.Maildir(server.maildir(address), create=True)
    with smtp_server(server) as port:
        yield port, server


@pytest.fixture
def pair(backend: str, tmp_path: Path, pki: Any, request: pytest.FixtureRequest,
         mail: tuple[int, _MailServer]) -> Iterator[tuple[Deployment, Deployment, _MailServer]]:
    port, server = mail
    # Both deployments read A's mailbox by the setting; B's transport is pointed at B's own mailbox.
    with two_deployments(backend, tmp_path, pki, request, smtp_host="127.0.0.1", smtp_port=port,
                         smtp_from=A_MAIL, exchange_mail_inbox=str(server.maildir(A_MAIL)),
                         exchange_default_transport="email", a_commune=A_ORGAN) as (a, b):
        b.container.exchange.transports["email"].inbox = server.maildir(B_MAIL)
        b.container.exchange.transports["email"].mailer.sender = B_MAIL
        admin_a, admin_b = a.api.as_user("quantri"), b.api.as_user("quantri")
        assert admin_a.post("/api/v1/exchange/agencies", json={
            "organ_id": B_SNV, "name": "Sở Nội vụ tỉnh B", "email": B_MAIL, "transport": "email"}).status_code == 201
        assert admin_b.post("/api/v1/exchange/agencies", json={
            "organ_id": A_ORGAN, "name": "UBND xã Đồng Đăng", "email": A_MAIL, "transport": "email"}).status_code == 201
        yield a, b, server


def _recipient(a: Deployment, doc_id: int) -> dict[str, Any]:
    [item] = a.api.as_user("vanthu").get(f"/api/v1/documents/{doc_id}/recipients").get_json()["items"]
    return item


def test_answers_by_email_come_back_and_move_the_recipient(pair: Any) -> None:
    a, b, server = pair
    doc = _signed_draft(a.api)
    r = a.api.as_user("vanthu").post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [
        {"name": "Sở Nội vụ tỉnh B", "organ_id": B_SNV}]})
    assert r.status_code == 200, r.get_json()
    assert a.exchange.send_pending().sent == 1
    assert _recipient(a, doc["id"])["status_code"] == "00"
    # An ordinary e-mail in A's mailbox: not exchange mail, left there (seen) and never counted.
    human = EmailMessage()
    human["From"], human["To"], human["Subject"] = B_MAIL, A_MAIL, "Hỏi về văn bản"
    human.set_content("Xin cho biết thời hạn.")
    mailbox.Maildir(server.maildir(A_MAIL)).add(human)

    assert b.exchange.receive() == 1  # the package, read from B's Maildir
    assert not list(mailbox.Maildir(server.maildir(B_MAIL)).keys())  # taken
    clerk_b = b.api.as_user("snv.vanthu")
    [copy] = clerk_b.get("/api/v1/documents?direction=incoming").get_json()["items"]
    assert clerk_b.post(f"/api/v1/documents/{copy['id']}/register", json={}).status_code == 200
    assert b.exchange.send_pending().sent == 2  # 01 and 03, by e-mail to A's address from B's directory
    sent = b.api.as_user("snv.vanthu").get(f"/api/v1/documents/{copy['id']}/exchange").get_json()["outbound"]
    assert {(m["status_code"], m["transport"], m["state"]) for m in sent} == {("01", "email", "sent"),
                                                                              ("03", "email", "sent")}
    assert a.exchange.receive() == 2
    rec = _recipient(a, doc["id"])
    assert [st["code"] for st in rec["exchange"]["statuses"]] == ["01", "03"] and rec["status_code"] == "03"
    inbound = a.api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/exchange").get_json()["inbound"]
    assert {i["transport"] for i in inbound} == {"email"} and {i["xml_signature"] for i in inbound} == {"valid"}
    left = mailbox.Maildir(server.maildir(A_MAIL))
    [kept] = left.keys()  # the person's e-mail stays, marked seen
    assert str(make_header(decode_header(left[kept]["Subject"]))) == "Hỏi về văn bản"
    assert "S" in left.get_message(kept).get_flags()
    assert a.exchange.receive() == 0  # and is not read again

    # A tampered answer (the status changed in transit): rejected with the reason, kept, nothing applied.
    officer = me(b.api, "snv.chuyenvien")["id"]
    r = b.api.as_user("snv.giamdoc").post(f"/api/v1/documents/{copy['id']}/assignments",
                                          json={"lead": {"user_id": officer}, "deadline_days": 5})
    assert r.status_code in (200, 201), r.get_json()
    assert b.exchange.send_pending().sent == 1  # 04
    box = mailbox.Maildir(server.maildir(A_MAIL))
    [key] = [k for k in box.iterkeys() if box[k]["X-EdXML-Message-Id"]]
    message = box.get_message(key)
    for part in message.walk():
        if (part.get_filename() or "").endswith(".edxml"):
            data = part.get_payload(decode=True)
            assert b">04<" in data
            del part["Content-Transfer-Encoding"]
            part.set_payload(data.replace(b">04<", b">06<"))
            encoders.encode_base64(part)
    box[key] = message
    assert a.exchange.receive() == 1
    assert _recipient(a, doc["id"])["status_code"] == "03"  # not 06
    rejected = a.api.as_user("vanthu").get("/api/v1/exchange/rejected").get_json()["items"]
    assert len(rejected) == 1 and rejected[0]["transport"] == "email" and "changed" in rejected[0]["reason"]
    assert list((a.container.settings.data_dir / "exchange" / "quarantine").glob("*.xml"))
