"""Typed errors of the signing library.

Every error carries a stable ``code`` (snake_case) the application can map to an HTTP status and
an error body, and a message meant for a person (no secret, no PIN). All derive from
:class:`SigningError`.
"""

from __future__ import annotations


class SigningError(Exception):
    """Base class of every error the signing library raises on purpose."""

    code = "signing_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------- keys and certificates
class KeyUnavailableError(SigningError):
    """The key cannot be used (file missing or unreadable, no key on the token...)."""

    code = "key_unavailable"


class WrongPinError(KeyUnavailableError):
    """The PIN (PKCS#12 password or token user PIN) is wrong."""

    code = "wrong_pin"


class TokenUnavailableError(KeyUnavailableError):
    """The PKCS#11 module, token, key or certificate cannot be found or opened."""

    code = "token_unavailable"


class CertificateError(SigningError):
    """The signer's certificate cannot be used to sign."""

    code = "certificate_invalid"


class CertificateExpiredError(CertificateError):
    """The certificate is expired (or not yet valid) at the signing time."""

    code = "certificate_expired"


class CertificateRevokedError(CertificateError):
    """The certificate was revoked by its CA."""

    code = "certificate_revoked"


class KeyUsageError(CertificateError):
    """The certificate lacks the key usage a signature needs (digitalSignature / nonRepudiation)."""

    code = "certificate_key_usage"


class UntrustedCertificateError(CertificateError):
    """The certificate does not chain to a configured trust root."""

    code = "certificate_untrusted"


# ---------------------------------------------------------------- documents and appearance
class SignatureMismatchError(CertificateError):
    """A signature value made elsewhere (split signing) does not verify with the certificate over
    the prepared data: a wrong key, another document's signature, or a replay of an earlier one."""

    code = "signature_mismatch"


class InvalidDocumentError(SigningError):
    """The input is not a PDF that can be signed (malformed, encrypted, signature field misuse)."""

    code = "invalid_document"


class AppearanceError(SigningError):
    """The visible signature cannot be built (bad image, no room on the page...)."""

    code = "invalid_appearance"


class IssueFieldsMissingError(AppearanceError):
    """The document shows no place for its number (``Số:``) or date (``ngày … tháng … năm``) and
    none was given: certifying it would make an official document without them on its face."""

    code = "issue_fields_missing"


class ModificationNotAllowedError(SigningError):
    """The document is certified (DocMDP) with a permission that forbids one more signature."""

    code = "modification_not_allowed"


# ---------------------------------------------------------------- trust services
class TimestampError(SigningError):
    """The time-stamping authority could not be reached or refused the request."""

    code = "timestamp_unavailable"


class ValidationDataError(SigningError):
    """Revocation data (OCSP/CRL) needed for B-LT/B-LTA could not be obtained."""

    code = "validation_data_unavailable"


class CertificateAuthorityError(SigningError):
    """The internal CA is missing, damaged, or asked something it cannot do."""

    code = "ca_error"


class CaPassphraseError(CertificateAuthorityError):
    """The passphrase protecting the internal CA's private keys is wrong."""

    code = "ca_wrong_passphrase"


class UnknownCertificateError(CertificateAuthorityError):
    """No certificate with that serial number was issued by the internal CA."""

    code = "ca_unknown_certificate"
