"""E-mail transport: for recipients with no document system, and systems that answer by e-mail.

Sending: the signed PDF is attached as it is (its signatures verifiable by anyone), with the edXML
package and its detached signature beside it, so a system that later imports the package can check
it. Receiving (``DOCSVC_EXCHANGE_MAIL_INBOX``): the exchange mailbox as a Maildir, where the mail
server delivers it. Each e-mail carrying an edXML attachment (``.edxml``, with its ``.p7s``) is
handed to the service (which verifies and applies it exactly as from any transport) and then
removed; any other e-mail is left in the mailbox, marked seen, for a person to read.
"""

from __future__ import annotations

import email
import logging
import mailbox
import re
from collections.abc import Callable, Iterable
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from docsvc.services.exchange import edxml
from docsvc.services.exchange.transport import Envelope, Receipt, TransportError
from docsvc.services.mailer import Mailer, MailError

log = logging.getLogger("docsvc.exchange.mail")

MAX_MAIL_BYTES = 64 * 1024 * 1024  # base64 makes a 40 MB package about 54 MB


class MailTransport:
    name = "email"

    def __init__(self, mailer: Mailer | None, *, inbox: Path | str | None = None) -> None:
        self.mailer = mailer
        self.inbox = Path(inbox) if inbox else None

    def send(self, envelope: Envelope) -> Receipt:
        if self.mailer is None:
            raise TransportError("no SMTP server is configured (DOCSVC_SMTP_HOST)", permanent=True)
        if not envelope.to_email:
            raise TransportError(f"no e-mail address is known for {envelope.to_organ_id}: add it to the agency "
                                 "directory", permanent=True)
        msg = EmailMessage()
        msg["To"] = envelope.to_email
        msg["Message-ID"] = make_msgid(idstring=envelope.message_id)
        msg["X-EdXML-Message-Id"] = envelope.message_id
        msg["X-EdXML-To"] = envelope.to_organ_id
        if envelope.from_organ_id:
            msg["X-EdXML-From"] = envelope.from_organ_id
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
        """Hand each e-mail of the Maildir that carries an edXML message to ``handle``, oldest first,
        and remove it after ``handle`` returned (at-least-once, as the other transports)."""
        if self.inbox is None:
            return 0
        ours = set(organ_ids)
        try:
            box = mailbox.Maildir(self.inbox, factory=None, create=False)
            keys = sorted(box.keys(), key=_delivery_order)
        except OSError as exc:
            raise TransportError(f"cannot read the exchange mailbox {self.inbox}: {exc.strerror or exc}") from exc
        handled = 0
        for key in keys:
            if handled >= limit:
                break
            try:
                message = box.get_message(key)
                if "S" in message.get_flags():
                    continue  # an ordinary e-mail already looked at
                raw = box.get_bytes(key)
            except (KeyError, OSError):  # taken meanwhile by another reader
                continue
            envelope = self._envelope(key, raw, ours)
            if envelope is None:
                message.set_subdir("cur")
                message.add_flag("S")
                box[key] = message  # left for a person, not read again
                continue
            handle(envelope, self.name)
            box.discard(key)
            handled += 1
        return handled

    @staticmethod
    def _envelope(key: str, raw: bytes, ours: set[str]) -> Envelope | None:
        """The edXML message an e-mail carries, or None for an e-mail that carries none. An e-mail
        too large is handed on with its bytes cut, so the service refuses it with a reason."""
        if len(raw) > MAX_MAIL_BYTES:
            return Envelope(message_id=f"mail-{key}"[:64], to_organ_id="", body=raw[:1024], signature=None)
        parsed = email.message_from_bytes(raw, policy=policy.default)
        body: bytes | None = None
        signature: bytes | None = None
        for part in parsed.walk():
            name = (part.get_filename() or "").lower()
            kind = part.get_content_type()
            if body is None and (name.endswith((".edxml", ".xml")) or kind in ("application/xml", "text/xml")) \
                    and part.get_content_disposition() == "attachment":
                body = _payload(part)
            elif signature is None and (name.endswith(".p7s") or kind in ("application/pkcs7-signature",
                                                                          "application/x-pkcs7-signature")):
                signature = _payload(part) or None
        if body is None:
            return None
        to = str(parsed.get("X-EdXML-To") or "").strip()
        if to not in ours:
            to = next((o for o in edxml.addressees(body) if o in ours), "")
        return Envelope(message_id=str(parsed.get("X-EdXML-Message-Id") or f"mail-{key}").strip()[:64],
                        to_organ_id=to, body=body, signature=signature,
                        from_organ_id=str(parsed.get("X-EdXML-From") or "").strip()[:13])

    def close(self) -> None:
        return None


def _payload(part: email.message.Message) -> bytes:
    """The decoded bytes of a MIME part (empty for a multipart or an unreadable one)."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


_MAILDIR_NAME = re.compile(r"^(\d+)\.(?:.*?M(\d+))?")


def _delivery_order(key: str) -> tuple[int, int, str]:
    """A Maildir name starts with the delivery time in seconds; Postfix, Dovecot and Python write the
    microseconds as ``M<usec>`` (not zero-padded, so the names do not sort as text within a second).
    Statuses must be applied in the order they arrived (01 before 03)."""
    m = _MAILDIR_NAME.match(key)
    if m is None:
        return (0, 0, key)
    return (int(m.group(1)), int(m.group(2) or 0), key)
