"""A client of the Cloud Signature Consortium API v2 (remote signing providers).

The provider keeps the signer's key; we send only hashes. The calls used (CSC API v2.0):

- ``oauth2/token`` (``grant_type=client_credentials``, HTTP Basic with the deployment's client id
  and secret) → a service access token, sent as ``Authorization: Bearer`` on every call;
- ``credentials/list`` (``userID``) → the user's credential ids;
- ``credentials/info`` (``certificates: "chain"``, ``authInfo``) → certificate chain, key
  algorithms, ``multisign``, ``SCAL``, what authorisation needs (PIN/OTP);
- ``credentials/authorize`` (``numSignatures``, ``hashes``, ``hashAlgorithmOID``, ``PIN``/``OTP``)
  → ``SAD`` for exactly those hashes (the user authorises the batch once);
- ``signatures/signHash`` (``SAD``, ``hashes``, ``hashAlgorithmOID``, ``signAlgo``) → one signature
  value per hash, in order.

Errors come back as HTTP 4xx with ``{"error": ..., "error_description": ...}``; they map to
:class:`CscError` (``invalid_pin``/``invalid_otp`` → :class:`signing.errors.WrongPinError`).
This module never imports ``docsvc``; it uses the standard library's HTTP client (the provider URL
is the deployment's configuration, not user input).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signing.errors import KeyUnavailableError, SigningError, WrongPinError

SHA256_OID = "2.16.840.1.101.3.4.2.1"
SIGN_ALGOS = {"rsa": "1.2.840.113549.1.1.11", "ecdsa": "1.2.840.10045.4.3.2"}  # sha256WithRSA, ecdsa-with-SHA256
MAX_ANSWER = 4 * 1024 * 1024


class CscError(SigningError):
    """The remote-signing service refused or failed; ``csc_error`` is its error code."""

    code = "remote_signing"

    def __init__(self, message: str, csc_error: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.csc_error, self.status = csc_error, status


@dataclass(frozen=True)
class CscCredential:
    credential_id: str
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    algorithms: frozenset[str]  # signature algorithm OIDs the key supports
    multisign: int
    scal: int  # 2: the SAD is bound to the hashes authorised
    pin_required: bool
    otp_required: bool
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def sign_algorithm(self) -> str:
        key = self.certificate.public_key()
        oid = SIGN_ALGOS["rsa"] if isinstance(key, rsa.RSAPublicKey) else \
            SIGN_ALGOS["ecdsa"] if isinstance(key, ec.EllipticCurvePublicKey) else ""
        if not oid or (self.algorithms and oid not in self.algorithms):
            raise CscError(f"the credential's key does not offer SHA-256 {('RSA', 'ECDSA')[oid != SIGN_ALGOS['rsa']]} "
                           "signatures")
        return oid


class CscClient:
    """One provider (``base_url`` is the part before ``/csc/v2/...``), one deployment client."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, timeout: float = 30.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise CscError(f"the remote-signing URL must be http(s)://..., not {base_url!r}")
        self.base_url, self.timeout = base_url.rstrip("/"), timeout
        self.client_id, self.client_secret = client_id, client_secret
        self._token: str | None = None

    # ------------------------------------------------------------ calls
    def login(self) -> str:
        """A service access token (OAuth 2.0 client credentials)."""
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        body = urllib.parse.urlencode({"grant_type": "client_credentials"}).encode()
        answer = self._request("oauth2/token", body, {"Authorization": f"Basic {basic}",
                                                      "Content-Type": "application/x-www-form-urlencoded"})
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise CscError("the remote-signing service gave no access token")
        self._token = token
        return token

    def list_credentials(self, user_id: str) -> list[str]:
        answer = self._call("credentials/list", {"userID": user_id})
        ids = answer.get("credentialIDs")
        if not isinstance(ids, list):
            raise CscError("credentials/list answered without credentialIDs")
        return [str(i) for i in ids]

    def credential_info(self, credential_id: str) -> CscCredential:
        answer = self._call("credentials/info", {"credentialID": credential_id, "certificates": "chain",
                                                 "certInfo": False, "authInfo": True})
        try:
            certs = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in answer["cert"]["certificates"]]
            algos = frozenset(str(a) for a in answer["key"].get("algo", []))
            key_status = answer["key"].get("status", "enabled")
            cert_status = answer["cert"].get("status", "valid")
        except (KeyError, TypeError, ValueError) as exc:
            raise CscError(f"credentials/info answered an unreadable credential: {exc}") from None
        if not certs:
            raise CscError("the credential has no certificate")
        if key_status != "enabled" or cert_status != "valid":
            raise KeyUnavailableError(f"the remote credential is not usable (key {key_status}, certificate "
                                      f"{cert_status})")
        pin = answer.get("PIN") or {}
        otp = answer.get("OTP") or {}
        return CscCredential(credential_id, certs[0], certs[1:], algos, int(answer.get("multisign", 1) or 1),
                             int(answer.get("SCAL", 1) or 1), str(pin.get("presence", "false")) == "true",
                             str(otp.get("presence", "false")) == "true", answer)

    def authorize(self, credential: CscCredential, hashes: list[bytes], *, pin: str | None = None,
                  otp: str | None = None, description: str | None = None) -> str:
        """The SAD for exactly ``hashes`` (SHA-256 digests), authorised by the user's PIN/OTP."""
        if credential.pin_required and not pin:
            raise WrongPinError("the remote-signing provider asks for your PIN")
        if credential.otp_required and not otp:
            raise WrongPinError("the remote-signing provider asks for a one-time password (OTP)")
        body: dict[str, Any] = {"credentialID": credential.credential_id, "numSignatures": len(hashes),
                                "hashes": [_b64(h) for h in hashes], "hashAlgorithmOID": SHA256_OID}
        if pin:
            body["PIN"] = pin
        if otp:
            body["OTP"] = otp
        if description:
            body["description"] = description[:500]
        sad = self._call("credentials/authorize", body).get("SAD")
        if not isinstance(sad, str) or not sad:
            raise CscError("credentials/authorize answered without SAD")
        return sad

    def sign_hashes(self, credential: CscCredential, sad: str, hashes: list[bytes]) -> list[bytes]:
        """Signature values, one per hash, in order (batches of ``multisign``, one SAD)."""
        out: list[bytes] = []
        size = max(1, credential.multisign)
        for start in range(0, len(hashes), size):
            chunk = hashes[start:start + size]
            answer = self._call("signatures/signHash", {
                "credentialID": credential.credential_id, "SAD": sad, "hashes": [_b64(h) for h in chunk],
                "hashAlgorithmOID": SHA256_OID, "signAlgo": credential.sign_algorithm})
            values = answer.get("signatures")
            if not isinstance(values, list) or len(values) != len(chunk):
                raise CscError(f"signatures/signHash returned {len(values) if isinstance(values, list) else 'no'} "
                               f"signatures for {len(chunk)} hashes")
            out.extend(base64.b64decode(v) for v in values)
        return out

    # ------------------------------------------------------------ transport
    def _call(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._token is None:
            self.login()
        return self._request(f"csc/v2/{endpoint}", json.dumps(body).encode(),
                             {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"})

    def _request(self, path: str, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
        url = f"{self.base_url}/{path}"
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={**headers, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read(65536))
            except ValueError:
                error = {}
            code = str(error.get("error", "")) if isinstance(error, dict) else ""
            text = str(error.get("error_description", "")) if isinstance(error, dict) else ""
            if code in ("invalid_pin", "invalid_otp") or (code == "invalid_request" and "PIN" in text):
                raise WrongPinError(f"the remote-signing provider refused the PIN/OTP: {text or code}") from None
            raise CscError(f"the remote-signing service refused {path.rsplit('/', 2)[-2:]}: "
                           f"{text or code or exc.reason}", code, exc.code) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise CscError(f"the remote-signing service at {self.base_url} does not answer: "
                           f"{getattr(exc, 'reason', exc)}") from None
        if len(raw) > MAX_ANSWER:
            raise CscError("the remote-signing service answered too much")
        try:
            answer = json.loads(raw)
        except ValueError:
            raise CscError(f"the remote-signing service answered {path} with something that is not JSON") from None
        if not isinstance(answer, dict):
            raise CscError(f"the remote-signing service answered {path} with a non-object")
        return answer


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
