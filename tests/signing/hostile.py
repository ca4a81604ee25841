"""An uploader's own PKI whose certificates point at a recording HTTP server (SSRF tests).

:class:`RecordingServer` listens on a loopback address and records every request it gets (path,
method); it answers 404, or a redirect/size/slowness scripted per path. :func:`hostile_chain`
makes, with ``cryptography``, a root, an intermediate and a signer whose AIA (caIssuers and OCSP)
and CRL distribution point name that server; :func:`signed_with` signs a real PDF with it
(PAdES B-B, no fetching while signing).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from signing.keys import Pkcs12KeySource
from signing.pades import sign_pdf

PIN = "hostile-123"


@dataclass
class Script:
    """What the recording server answers on a path (default 404)."""

    redirect: str | None = None
    body: bytes = b""
    content_type: str = "application/octet-stream"
    delay: float = 0.0


class RecordingServer:
    """An HTTP server on ``host`` (127.0.0.1 unless told) that records every request."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.hits: list[str] = []
        self.scripts: dict[str, Script] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _answer(self) -> None:
                outer.hits.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                script = outer.scripts.get(self.path.split("?")[0])
                if script is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if script.delay:
                    time.sleep(script.delay)
                if script.redirect:
                    self.send_response(302)
                    self.send_header("Location", script.redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", script.content_type)
                self.send_header("Content-Length", str(len(script.body)))
                self.end_headers()
                self.wfile.write(script.body)

            do_GET = do_POST = _answer  # noqa: N815

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RecordingServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class HostileChain:
    root: x509.Certificate
    intermediate: x509.Certificate
    signer: x509.Certificate  # issued by the intermediate
    direct_signer: x509.Certificate  # issued by the root itself
    keys: dict[str, Any] = field(default_factory=dict)

    def p12(self, which: str = "signer", *, with_chain: bool = False) -> Pkcs12KeySource:
        cert = getattr(self, which)
        chain = [self.intermediate, self.root] if which == "signer" else [self.root]
        data = pkcs12.serialize_key_and_certificates(
            b"hostile", self.keys[which], cert, chain if with_chain else None,
            serialization.BestAvailableEncryption(PIN.encode()))
        return Pkcs12KeySource(data, PIN)

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Uploader's own CA")])


def _cert(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool, base: str | None) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
    if base is not None:
        builder = builder.add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier(f"{base}/aia/{issuer.replace(' ', '-')}.crt")),
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier(f"{base}/ocsp"))]), critical=False)
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(f"{base}/crl/{issuer.replace(' ', '-')}.crl")],
            relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def hostile_chain(base: str) -> HostileChain:
    """Root → intermediate → signer, and root → direct signer; every non-root certificate names
    ``base`` (e.g. ``http://127.0.0.1:8081``) as its caIssuers, OCSP and CRL location."""
    keys = {n: ec.generate_private_key(ec.SECP256R1()) for n in ("root", "intermediate", "signer", "direct_signer")}
    root = _cert("Hostile Root", keys["root"], "Hostile Root", keys["root"], ca=True, base=None)
    inter = _cert("Hostile Intermediate", keys["intermediate"], "Hostile Root", keys["root"], ca=True, base=base)
    signer = _cert("Nguyễn Văn Tấn Công", keys["signer"], "Hostile Intermediate", keys["intermediate"], ca=False,
                   base=base)
    direct = _cert("Trần Thị Thử", keys["direct_signer"], "Hostile Root", keys["root"], ca=False, base=base)
    return HostileChain(root, inter, signer, direct, keys)


def signed_with(pdf: bytes, key: Pkcs12KeySource) -> bytes:
    """``pdf`` signed at PAdES B-B (nothing fetched while signing)."""
    return sign_pdf(pdf, key, level="B-B")
