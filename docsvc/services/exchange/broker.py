"""Broker transport: a RabbitMQ shared by the deployments of a province, through kombu.

One durable queue per agency (``edxml.<OrganId>``) bound to a durable direct exchange by its
OrganId. ``send`` declares the recipient's queue, publishes the envelope persistent with
publisher confirms on (kombu's ``confirm_publish``: the call returns only once the broker has
taken the message, and raises if it refuses it), so a message that ``send`` returned for survives
a broker restart. ``receive`` takes messages one by one with manual acknowledgement: a message is
acked only after the service committed it; a crash in between redelivers it, and the service's
unique message id turns the second delivery into a no-op.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from docsvc.services.exchange.edxml import ORGAN_ID
from docsvc.services.exchange.transport import Envelope, Receipt, TransportError

log = logging.getLogger("docsvc.exchange.broker")

EXCHANGE = "docsvc.edxml"
CONTENT_TYPE = "application/vnd.docsvc.edxml-signed"
_MAGIC = b"EDX1"


def frame(body: bytes, signature: bytes | None) -> bytes:
    """The signature travels in the body, before the package (a large header slows every publish
    several times over): ``EDX1`` + signature length (4 bytes) + signature + package."""
    sig = signature or b""
    return _MAGIC + len(sig).to_bytes(4, "big") + sig + body


def unframe(data: bytes) -> tuple[bytes, bytes | None]:
    """Package and signature of a framed message; anything else is taken as an unsigned package
    (and is then rejected as unsigned by the service)."""
    if data[:4] != _MAGIC or len(data) < 8:
        return data, None
    size = int.from_bytes(data[4:8], "big")
    if size > len(data) - 8:
        return data, None
    return data[8 + size:], (data[8:8 + size] or None)


class BrokerTransport:
    name = "broker"

    def __init__(self, url: str, *, connect_timeout: float = 5.0) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._conn: Any = None
        self._declared: set[str] = set()
        self._producer: Any = None

    # ------------------------------------------------------------ connection
    def _connection(self) -> Any:
        from kombu import Connection
        if self._conn is None:
            self._conn = Connection(  # type: ignore[no-untyped-call]  # kombu: py.typed, constructor unannotated
                self.url, connect_timeout=self.connect_timeout, transport_options={"confirm_publish": True})
            self._declared.clear()
        self._conn.ensure_connection(max_retries=1, timeout=self.connect_timeout)
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception as exc:  # noqa: BLE001 - already broken
                log.debug("closing a broken broker connection: %s", exc)
        self._conn = None
        self._producer = None
        self._declared.clear()

    def _queue(self, organ_id: str) -> Any:
        from kombu import Exchange, Queue
        # kombu ships py.typed but leaves these constructors unannotated
        exchange = Exchange(EXCHANGE, type="direct", durable=True)  # type: ignore[no-untyped-call]
        return Queue(f"edxml.{organ_id}", exchange, routing_key=organ_id,  # type: ignore[no-untyped-call]
                     durable=True, auto_delete=False)

    def _declare(self, conn: Any, organ_id: str) -> Any:
        queue = self._queue(organ_id)
        if organ_id not in self._declared:
            queue(conn.default_channel).declare()
            self._declared.add(organ_id)
        return queue

    # ------------------------------------------------------------ port
    def send(self, envelope: Envelope) -> Receipt:
        if not ORGAN_ID.match(envelope.to_organ_id):
            raise TransportError(f"{envelope.to_organ_id!r} is not an agency code", permanent=True)
        from kombu import Producer
        with self._lock:
            for attempt in (1, 2):  # a connection left from before a broker restart fails once: reconnect
                try:
                    conn = self._connection()
                    queue = self._declare(conn, envelope.to_organ_id)
                    if self._producer is None:  # the exchange was declared with the queue
                        self._producer = Producer(  # type: ignore[no-untyped-call]  # kombu: constructor unannotated
                            conn.default_channel, exchange=queue.exchange, auto_declare=False)
                    producer = self._producer
                    producer.publish(frame(envelope.body, envelope.signature), routing_key=envelope.to_organ_id,
                                     delivery_mode=2, content_type=CONTENT_TYPE, content_encoding="binary",
                                     message_id=envelope.message_id, retry=False,
                                     headers={"from": envelope.from_organ_id, "kind": envelope.kind})
                    break
                except Exception as exc:  # noqa: BLE001 - connection refused/reset, nack, channel error
                    self._drop()
                    if attempt == 2:
                        raise TransportError(f"the broker did not take the message: {type(exc).__name__}: {exc}"
                                             ) from exc
        return Receipt(self.name, f"edxml.{envelope.to_organ_id}/{envelope.message_id}")

    def receive(self, organ_ids: Iterable[str], handle: Callable[[Envelope, str], object], *, limit: int = 100) -> int:
        handled = 0
        with self._lock:
            for attempt in (1, 2):  # a connection left from before a broker restart fails once: reconnect
                try:
                    conn = self._connection()
                    conn.default_channel.basic_qos(0, 1, False)
                    break
                except Exception as exc:  # noqa: BLE001
                    self._drop()
                    if attempt == 2:
                        raise TransportError(f"the broker cannot be reached: {type(exc).__name__}: {exc}") from exc
            for organ_id in organ_ids:
                if not ORGAN_ID.match(organ_id):
                    continue
                try:
                    bound = self._declare(conn, organ_id)(conn.default_channel)
                except Exception as exc:  # noqa: BLE001
                    self._drop()
                    raise TransportError(f"the broker cannot be reached: {type(exc).__name__}: {exc}") from exc
                while handled < limit:
                    try:
                        message = bound.get(no_ack=False, accept=[CONTENT_TYPE])
                    except Exception as exc:  # noqa: BLE001
                        self._drop()
                        raise TransportError(f"reading from the broker failed: {type(exc).__name__}: {exc}") from exc
                    if message is None:
                        break
                    headers = message.headers or {}
                    raw = message.body if isinstance(message.body, bytes) else str(message.body).encode()
                    body, signature = unframe(raw)
                    envelope = Envelope(message_id=str(message.properties.get("message_id") or ""),
                                        to_organ_id=organ_id, body=body, signature=signature,
                                        from_organ_id=str(headers.get("from") or ""),
                                        kind=str(headers.get("kind") or ""))
                    try:
                        handle(envelope, self.name)
                    except BaseException:
                        try:
                            message.requeue()
                        except Exception:  # noqa: BLE001 - the channel closing requeues it too
                            self._drop()
                        raise
                    message.ack()
                    handled += 1
        return handled

    def close(self) -> None:
        with self._lock:
            self._drop()
