"""The port every exchange transport implements (broker, folder, e-mail; a national-axis client later).

A transport moves signed envelopes and knows nothing of documents: the exchange service builds,
signs, records and applies. ``send`` returns a receipt only once the transport has accepted the
envelope (broker confirm, file renamed into place, SMTP 250); anything else raises
:class:`TransportError`. ``receive`` hands each waiting envelope to ``handle`` and acknowledges it
only after ``handle`` returned (so a crash between the two redelivers it: at-least-once; the
service de-duplicates by message id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Envelope:
    """An edXML message with its detached CMS signature (by the sending organisation's key)."""

    message_id: str
    to_organ_id: str
    body: bytes
    signature: bytes | None
    from_organ_id: str = ""
    kind: str = "package"  # package | status
    to_email: str | None = None  # e-mail transport: the recipient's address
    attachment_name: str | None = None  # e-mail transport: the signed PDF travels beside the package
    attachment: bytes | None = None


@dataclass(frozen=True)
class Receipt:
    transport: str
    reference: str  # what the transport says it accepted (path, broker delivery, SMTP answer)


class TransportError(Exception):
    """The envelope was not accepted. ``permanent``: retrying cannot help (no route, refused)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    name: str

    def send(self, envelope: Envelope) -> Receipt:
        """Hand the envelope over; return only once the transport took responsibility for it."""
        ...

    def receive(self, organ_ids: Iterable[str], handle: Callable[[Envelope, str], object], *, limit: int = 100) -> int:
        """Call ``handle(envelope, transport_name)`` for each envelope waiting for ``organ_ids``;
        acknowledge each after ``handle`` returns. Returns how many were handled."""
        ...

    def close(self) -> None:
        ...
