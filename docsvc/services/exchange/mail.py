"""E-mail transport: for recipients with no document system. The signed PDF is attached as it is
(its signatures verifiable by anyone), with the edXML package and its detached signature beside it,
so a system that later imports the package can check it. Outbound only."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from email.message import EmailMessage
from email.utils import make_msgid

from docsvc.services.exchange.transport import Envelope, Receipt, TransportError
from docsvc.services.mailer import Mailer, MailError


class MailTransport:
    name = "email"

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def send(self, envelope: Envelope) -> Receipt:
        if not envelope.to_email:
            raise TransportError(f"no e-mail address is known for {envelope.to_organ_id}: add it to the agency "
                                 "directory", permanent=True)
        msg = EmailMessage()
        msg["To"] = envelope.to_email
        msg["Message-ID"] = make_msgid(idstring=envelope.message_id)
        msg["X-EdXML-Message-Id"] = envelope.message_id
        if envelope.kind == "status":
            msg["Subject"] = "Thông báo trạng thái văn bản (edXML)"
            msg.set_content("Thông điệp trạng thái xử lý văn bản theo QCVN 102:2016/BTTTT, đính kèm.\n")
        else:
            msg["Subject"] = "Văn bản điện tử gửi đến quý cơ quan"
            msg.set_content("Kính gửi quý cơ quan,\n\nVăn bản điện tử đã ký số được đính kèm (tệp PDF), cùng gói "
                            "edXML (QCVN 102:2016/BTTTT) và chữ ký số của gói.\n")
            if envelope.attachment is not None:
                msg.add_attachment(envelope.attachment, maintype="application", subtype="pdf",
                                   filename=envelope.attachment_name or "van-ban.pdf")
        msg.add_attachment(envelope.body, maintype="application", subtype="xml",
                           filename=f"{envelope.message_id}.edxml")
        if envelope.signature:
            msg.add_attachment(envelope.signature, maintype="application", subtype="pkcs7-signature",
                               filename=f"{envelope.message_id}.p7s")
        try:
            answer = self.mailer.send(msg)
        except MailError as exc:
            raise TransportError(exc.message, permanent=exc.permanent) from exc
        return Receipt(self.name, f"{envelope.to_email}: {answer}")

    def receive(self, organ_ids: Iterable[str], handle: Callable[[Envelope, str], object], *, limit: int = 100) -> int:
        return 0  # outbound only: answers from e-mail recipients come back on paper or by another transport

    def close(self) -> None:
        return None
