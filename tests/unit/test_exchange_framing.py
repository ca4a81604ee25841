"""The broker's message frame (signature before the package) and the CMS verdict on garbage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from docsvc.services.exchange.broker import frame, unframe


def test_frame_round_trip_and_unframed_bodies() -> None:
    assert unframe(frame(b"<edXML/>", b"sig")) == (b"<edXML/>", b"sig")
    assert unframe(frame(b"<edXML/>", None)) == (b"<edXML/>", None)
    assert unframe(b"<edXML/>") == (b"<edXML/>", None)  # not framed: an unsigned package
    assert unframe(b"EDX1\xff\xff\xff\xff<x/>") == (b"EDX1\xff\xff\xff\xff<x/>", None)  # a length past the end


def test_cms_verdict_on_missing_or_garbage_signatures() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from signing.cms import verify_detached
    from signing.trust import TrustStore
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test root")])
    now = datetime.now(UTC)
    root = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    trust = TrustStore(roots=(root,), allow_fetching=False)
    assert verify_detached(b"data", None, trust).reason == "the package is not signed"
    assert "cannot be read" in (verify_detached(b"data", b"\x30\x03\x02\x01\x01", trust).reason or "")
    assert not verify_detached(b"data", b"x" * 300_000, trust).valid
