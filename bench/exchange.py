"""edXML exchange figures (issue 17), beside the bare library doing the same core work.

    .venv/bin/python bench/exchange.py [--seconds 5] [--messages 300]
    DOCSVC_EXCHANGE_BROKER_URL=amqp://... .venv/bin/python bench/exchange.py   # adds the broker rows

* packages/s built and parsed for a 20-page decision (the PDF base64 in the package): docsvc's
  ``edxml.build_package`` + ``parse_package`` (safe parser, every field checked, SHA-256 compared)
  against bare lxml building the same tree and parsing it back with its default parser (no checks);
* end-to-end messages/s through RabbitMQ: docsvc's BrokerTransport (durable queue, persistent
  messages, publisher confirms, one get + ack per message) against bare kombu doing the same
  (persistent, confirms, get + ack on a durable queue), and bare kombu without those guarantees
  (transient messages, no confirms) to show what they cost.

Prints a Markdown table; asserts nothing (the machine is shared: read ratios, not absolutes).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from docsvc.services.exchange import edxml  # noqa: E402
from tests.fixtures.pdfs import official_pdf  # noqa: E402


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()  # warm up
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - started)


def package(pdf: bytes) -> edxml.Package:
    return edxml.Package(
        message_id=str(uuid.uuid4()), sender=edxml.Organ("000.00.31.H41", "UBND xã Đồng Đăng"),
        to=(edxml.Organ("000.00.02.H42", "Sở Nội vụ"),), code_number="07", code_notation="QĐ-UBND",
        promulgation_place="Đồng Đăng", promulgation_date=date(2026, 12, 7), type_code="QĐ", type_name="Quyết định",
        subject="Quyết định phê duyệt danh sách hộ nghèo năm 2026", signer_position="Chủ tịch",
        signer_name="Hoàng Văn Nam", page_amount=20, attachments=(edxml.Attachment("qd.pdf", pdf),))


def bare_lxml(pdf: bytes) -> None:
    ns = edxml.NS
    root = etree.Element(f"{{{ns}}}edXML", nsmap={"edXML": ns})
    env = etree.SubElement(root, f"{{{ns}}}edXMLEnvelope")
    head = etree.SubElement(etree.SubElement(env, f"{{{ns}}}edXMLHeader"), f"{{{ns}}}MessageHeader")
    for tag, text in (("Subject", "Quyết định phê duyệt danh sách hộ nghèo năm 2026"), ("CodeNumber", "07")):
        etree.SubElement(head, f"{{{ns}}}{tag}").text = text
    att = etree.SubElement(etree.SubElement(root, f"{{{ns}}}AttachmentEncoded"), f"{{{ns}}}Attachment")
    etree.SubElement(att, f"{{{ns}}}Content").text = base64.b64encode(pdf).decode()
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    back = etree.fromstring(data)
    base64.b64decode(back.find(f".//{{{ns}}}Content").text)


def bench_packages(seconds: float) -> list[tuple[str, float, float, str]]:
    pdf = official_pdf(pages=20)
    p = package(pdf)

    def ours() -> None:
        back = edxml.parse_package(edxml.build_package(p))
        assert hashlib.sha256(back.attachments[0].data).digest() == hashlib.sha256(pdf).digest()

    return [(f"build + parse a 20-page decision ({len(pdf) // 1024} kB PDF)", rate(ours, seconds),
             rate(lambda: bare_lxml(pdf), seconds), "packages/s")]


def bench_broker(url: str, messages: int) -> list[tuple[str, float, float, str]]:
    from kombu import Connection, Exchange, Queue

    from docsvc.services.exchange.broker import BrokerTransport
    from docsvc.services.exchange.transport import Envelope
    body = edxml.build_package(package(official_pdf(pages=20)))
    organ = f"B{uuid.uuid4().hex[:2].upper()}.{uuid.uuid4().hex[:2].upper()}.00.H99"
    transport = BrokerTransport(url)
    got: list[str] = []
    started = time.perf_counter()
    for i in range(messages):
        transport.send(Envelope(f"bench-{i}", organ, body, b"signature"))
    while len(got) < messages:
        transport.receive([organ], lambda env, _: got.append(env.message_id), limit=messages)
    ours = messages / (time.perf_counter() - started)
    transport.close()

    with Connection(url) as conn:
        Queue(f"edxml.{organ}", durable=True)(conn.default_channel).delete()

    def bare(durable: bool) -> float:
        name = f"bench-bare-{uuid.uuid4().hex[:8]}"
        options = {"confirm_publish": True} if durable else {}
        with Connection(url, transport_options=options) as conn:
            queue = Queue(name, Exchange("", type="direct"), routing_key=name, durable=durable, auto_delete=False)
            simple = conn.SimpleQueue(queue)
            started = time.perf_counter()
            for _ in range(messages):
                simple.put(body, serializer=None, content_type="application/xml", content_encoding="binary",
                           delivery_mode=2 if durable else 1)
            for _ in range(messages):
                simple.get(timeout=10).ack()
            out = messages / (time.perf_counter() - started)
            simple.close()
            queue(conn.channel()).delete()
        return out

    size = f"{len(body) // 1024} kB packages"
    return [(f"broker end to end, {size} (bare: same guarantees)", ours, bare(True), "messages/s"),
            (f"broker end to end, {size} (bare: transient, no confirms)", ours, bare(False), "messages/s")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    rows = bench_packages(args.seconds)
    url = os.environ.get("DOCSVC_EXCHANGE_BROKER_URL", "")
    if url:
        rows += bench_broker(url, args.messages)
    print("| benchmark | docsvc | bare library | docsvc / bare |\n|---|---:|---:|---:|")
    for name, ours, bare, unit in rows:
        print(f"| {name} | {ours:,.1f} {unit} | {bare:,.1f} {unit} | {ours / bare:.3g} |")
    if not url:
        print("\n(broker rows skipped: DOCSVC_EXCHANGE_BROKER_URL is not set)")


if __name__ == "__main__":
    main()
