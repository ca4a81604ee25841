"""Users' notifications by e-mail (assignment, document to sign, deadline reminder, return, ...).

The in-app notifications are the source: ``send_due`` mails each user, who has an address and has
not turned it off, what arrived since the last run (``immediate``), or once a day in one digest
(``digest``). A user who turns mail on later gets nothing from before.

Who learns what: e-mail leaves the system, so each notification is checked against the reader
policy (``readable_filter``, the same as every read path) for the user at send time. A document
the user may not read (any more) is mentioned with neither its subject nor its id; a secret
document the user may read is named only by its link, never by its subject. The mail's own
Subject line never names a document.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Document, Notification, NotificationMailPref, User
from docsvc.db.rows import must_get
from docsvc.db.uow import Database
from docsvc.domain.identity import Actor
from docsvc.errors import InvalidInput
from docsvc.services.access import readable_filter
from docsvc.services.identity import actor_of
from docsvc.services.notifications import fill_subject
from docsvc.timeutil import to_vn

log = logging.getLogger("docsvc.mail")

MODES = ("off", "immediate", "digest")
DIGEST_EVERY = timedelta(days=1)
MAX_ITEMS = 200  # per e-mail; the rest waits for the next one
HIDDEN = "Một thông báo về văn bản bạn hiện không được xem (nội dung đã ẩn)."
SECRET = "Một thông báo về văn bản mật: mở hệ thống để xem."


@dataclass
class MailReport:
    mails: int = 0
    notifications: int = 0
    failed: int = 0


class MailNotificationService:
    def __init__(self, db: Database, mailer: Any, *, public_url: str) -> None:
        self.db = db
        self.mailer = mailer  # docsvc.services.mailer.Mailer, or None when no SMTP server is configured
        self.public_url = public_url.rstrip("/")

    # ------------------------------------------------------------ preferences
    def preference(self, actor: Actor) -> dict[str, Any]:
        with self.db.write() as s:
            pref = _pref(s, actor.user_id)
            user = must_get(s, User, actor.user_id)
            return {"mode": pref.mode, "email": user.email, "smtp_configured": self.mailer is not None}

    def set_mode(self, actor: Actor, mode: str) -> dict[str, Any]:
        if mode not in MODES:
            raise InvalidInput(f"mode is one of {', '.join(MODES)}", {"field": "mode"})
        with self.db.write() as s:
            pref = _pref(s, actor.user_id)
            if pref.mode == "off" and mode != "off":  # nothing from while it was off
                pref.last_notification_id = _last_id(s, actor.user_id)
            pref.mode = mode
        return self.preference(actor)

    # ------------------------------------------------------------ sending (periodic task)
    def send_due(self) -> MailReport:
        report = MailReport()
        if self.mailer is None:
            return report
        with self.db.read() as s:
            users = list(s.execute(select(User.id).where(User.is_active.is_(True), User.email.is_not(None),
                                                         User.email != "")).scalars())
        for user_id in users:
            try:
                sent = self._send_user(user_id)
            except Exception as exc:  # noqa: BLE001 - one user's failure does not stop the others
                log.warning("notification e-mail to user %s failed: %s", user_id, exc)
                report.failed += 1
                continue
            if sent:
                report.mails += 1
                report.notifications += sent
        return report

    def _send_user(self, user_id: int) -> int:
        now = utcnow()
        with self.db.write() as s:
            pref = _pref(s, user_id)
            user = must_get(s, User, user_id)
            if pref.mode == "off":
                pref.last_notification_id = _last_id(s, user_id)
                return 0
            if pref.mode == "digest" and pref.last_digest_at is not None and now - pref.last_digest_at < DIGEST_EVERY:
                return 0
            rows = list(s.execute(select(Notification).where(Notification.user_id == user_id,
                                                             Notification.id > pref.last_notification_id)
                                  .order_by(Notification.id).limit(MAX_ITEMS)).scalars())
            if not rows:
                return 0
            lines = self._lines(s, actor_of(user), rows)
            msg = EmailMessage()
            msg["To"] = user.email
            msg["Subject"] = (f"Tổng hợp thông báo ngày {to_vn(now):%d/%m/%Y}: {len(rows)} thông báo"
                              if pref.mode == "digest" else f"{len(rows)} thông báo mới trên hệ thống văn bản")
            msg.set_content(f"Kính gửi {user.full_name},\n\n" + "\n".join(lines)
                            + f"\n\nĐể tắt thư thông báo: {self.public_url}/me\n")
            self.mailer.send(msg)  # raises: the transaction rolls back, the same rows go next time
            pref.last_notification_id = rows[-1].id
            if pref.mode == "digest":
                pref.last_digest_at = now
            return len(rows)

    def _lines(self, s: Session, actor: Actor, rows: list[Notification]) -> list[str]:
        """One line per notification, trimmed by the reader policy (see the module's docstring)."""
        doc_ids = sorted({n.document_id for n in rows if n.document_id})
        readable: dict[int, tuple[int, str]] = {}
        if doc_ids:
            readable = {i: (secrecy, subject) for i, secrecy, subject in s.execute(readable_filter(
                select(Document.id, Document.secrecy, Document.subject).where(Document.id.in_(doc_ids)), actor))}
        out = []
        for n in rows:
            at = f"{to_vn(n.created_at):%d/%m/%Y %H:%M}"
            if n.document_id is None:
                out.append(f"- {at} {n.message}")
            elif n.document_id not in readable:
                out.append(f"- {at} {HIDDEN}")
            elif readable[n.document_id][0] > 0:
                out.append(f"- {at} {SECRET} {self.public_url}/documents/{n.document_id}")
            else:
                text = fill_subject(n.message, readable[n.document_id][1], 0, hide_top_secret_subject=True)
                out.append(f"- {at} {text} {self.public_url}/documents/{n.document_id}")
        return out


def _pref(s: Session, user_id: int) -> NotificationMailPref:
    pref = s.get(NotificationMailPref, user_id)
    if pref is None:  # first seen: start from now, never mail the history
        pref = NotificationMailPref(user_id=user_id, mode="immediate", last_notification_id=_last_id(s, user_id))
        s.add(pref)
        s.flush()
    return pref


def _last_id(s: Session, user_id: int) -> int:
    return s.execute(select(func.coalesce(func.max(Notification.id), 0)).where(Notification.user_id == user_id)
                     ).scalar_one()
