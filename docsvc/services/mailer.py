"""Outbound e-mail over SMTP (``DOCSVC_SMTP_*``): one small adapter for the exchange's e-mail
transport and users' notification e-mails. ``send`` returns once the server accepted the message."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from docsvc.errors import DomainError


class MailError(DomainError):
    """The SMTP server did not accept the message. ``permanent``: it refused the address (5xx)."""

    code = "mail_unavailable"
    status = 503

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer:
    def __init__(self, host: str, port: int, *, sender: str, user: str = "", password: str = "",
                 starttls: bool = False, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def send(self, msg: EmailMessage) -> str:
        """Send ``msg`` (From is set here); returns the server's answer to the end of data."""
        if "From" not in msg:
            msg["From"] = self.sender
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                refused = smtp.send_message(msg)
                code, _ = smtp.noop()
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"the mail server refused the address: {exc.recipients}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"the mail server did not take the message: {type(exc).__name__}: {exc}") from exc
        if refused:
            raise MailError(f"the mail server refused {sorted(refused)}", permanent=True)
        return f"{self.host}:{self.port} accepted ({code})"
