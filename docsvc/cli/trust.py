"""CLI for keys and signatures: `docsvc ca init|status|enrol`, `docsvc verify FILE.pdf`,
`docsvc keys rotate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from docsvc.cli import main
from docsvc.cli.common import CLI_ORIGIN, container


@main.group()
def ca() -> None:
    """The internal certificate authority (root, issuing CA, OCSP, CRL, time-stamping)."""


@ca.command("init")
@click.option("--organisation", default=None, help='e.g. "Ủy ban nhân dân tỉnh Lạng Sơn" (names the CA: O=..., '
              '"<name> Root CA"; default: DOCSVC_ORGANISATION, else the one top-level agency)')
def ca_init(organisation: str | None) -> None:
    """Create the CA once, before users get certificates. Its URLs are under DOCSVC_PUBLIC_URL/pki."""
    from docsvc.errors import InvalidInput
    from docsvc.services.setup import ca_organisation
    c = container()
    name = ca_organisation(c, organisation)
    if name is None:
        raise InvalidInput("name the organisation: --organisation NAME or DOCSVC_ORGANISATION (no single "
                           "top-level agency to take it from)")
    authority = c.signatures.init_ca(name)
    click.echo(f"ca: created {authority.root_certificate.subject.rfc4514_string()}")
    click.echo(f"ca: OCSP, CRL and TSA at {c.settings.public_url.rstrip('/')}/pki "
               f"(root certificate: {c.signatures.ca_dir / 'root.crt'})")


@ca.command("status")
def ca_status() -> None:
    """Show the CA's certificates and how many certificates it issued."""
    c = container()
    authority = c.signatures.ca
    for label, cert in (("root", authority.root_certificate), ("issuing", authority.issuing_certificate),
                        ("tsa", authority.tsa_certificate)):
        click.echo(f"{label}: {cert.subject.rfc4514_string()} valid until {cert.not_valid_after_utc:%Y-%m-%d}")
    click.echo(f"issued: {len(authority.issued())} certificates")


@ca.command("enrol")
@click.argument("username")
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True, envvar="DOCSVC_NEW_PIN",
              help="protects the user's new signing key")
def ca_enrol(username: str, pin: str) -> None:
    """Issue a user a signing certificate (PKCS#12 protected by PIN) — the CLI twin of
    POST /api/v1/me/signing-key, for an administrator enrolling a leader."""
    from docsvc.domain.policies import SYSTEM
    row = container().enrolment.enrol(SYSTEM, pin, origin=CLI_ORIGIN, username=username)
    click.echo(f"ca: {username} enrolled, certificate {row['serial']} valid until {row['not_after']:%Y-%m-%d}")


@ca.command("token-enrol")
@click.option("--agency", "organ_id", required=True, help="the agency's OrganId, e.g. 000.00.31.H41")
@click.option("--module", default=None, help="PKCS#11 module (default: DOCSVC_PKCS11_MODULE)")
@click.option("--token", default=None, help="token label (default: DOCSVC_PKCS11_TOKEN)")
@click.option("--label", default=None, help="key label (default: DOCSVC_PKCS11_KEY_LABEL, {organ_id} filled in)")
@click.option("--pin", default=None, help="the token's user PIN (default: DOCSVC_PKCS11_PIN)")
def ca_token_enrol(organ_id: str, module: str | None, token: str | None, label: str | None, pin: str | None) -> None:
    """Put the agency's organisation (seal) key on a PKCS#11 token/HSM: create a sign-only key on
    the token, have the internal CA certify it, store the certificate on the token. Then set
    DOCSVC_PKCS11_MODULE, _TOKEN, _PIN and _KEY_LABEL so that issuing seals with it."""
    from docsvc.domain.policies import SYSTEM
    c = container()
    st = c.settings
    token = token or st.pkcs11_token
    key_label = label or st.pkcs11_key_label.replace("{organ_id}", organ_id) or None
    row = c.enrolment.enrol_agency_token(SYSTEM, organ_id, module=module or st.pkcs11_module, token=token,
                                         pin=pin or st.pkcs11_pin, label=key_label, origin=CLI_ORIGIN)
    click.echo(f"ca: organisation key of {row['agency']} created on token {token!r} as {row['label']!r} "
               f"(sign only), certificate {row['serial']} valid until {row['not_after']:%Y-%m-%d}")
    if not st.pkcs11_module:
        click.echo("ca: to seal with it, set DOCSVC_PKCS11_MODULE, DOCSVC_PKCS11_TOKEN, DOCSVC_PKCS11_PIN and "
                   f"DOCSVC_PKCS11_KEY_LABEL={row['label']} (or a pattern with {{organ_id}})")


@main.command()
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--trust", "trust_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a root certificate (PEM or DER) to trust, e.g. the issuer's /pki/certs/root.crt; repeatable")
def verify(pdf: Path, as_json: bool, trust_files: tuple[Path, ...]) -> None:
    """Validate every signature of a PDF (ours or received); exit 0 only when valid.

    Runs anywhere, for anyone holding the PDF: it needs no database, finds the data folder
    (DOCSVC_DATA_DIR, else ./var, else the checkout's var) for the internal CA, and trusts the
    --trust roots too. With no trust at all it still reports integrity, signer, signing time and
    PAdES level, with the verdict INDETERMINATE."""
    import os

    from docsvc.services.signatures import SignatureService
    from docsvc.settings import PREFIX, load_settings, locate_data_dir
    found = locate_data_dir()
    overrides: dict[str, Path] = {} if os.environ.get(PREFIX + "DATA_DIR") or found is None else {"data_dir": found}
    signatures = SignatureService(load_settings(None, **overrides))
    trust = signatures.trust_for_checking(trust_files)
    data = pdf.read_bytes()
    report = signatures.validate(data, trust)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    elif report.get("error"):
        click.echo(f"{pdf}: {report['verdict']}: {report['error']}")
    else:
        click.echo(signatures.report_text(data, trust))
    sys.exit(0 if report.get("verdict") in ("valid", "valid_with_warnings") else 1)


@main.group()
def keys() -> None:
    """Key-encryption keys of the object store."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Rewrap every encrypted object's data key with the active key (DOCSVC_ENCRYPTION_KEY_ACTIVE);
    content is not re-encrypted. Keep the old key configured until this has finished."""
    from storage import MissingKeyError, rotate_keys
    store = container().store
    ring = store.keyring
    if ring is None:
        raise MissingKeyError("no key-encryption key is configured for this store (keyring=...)")
    count = rotate_keys(store, ring)
    click.echo(f"keys: {count} data keys rewrapped with key {ring.active_key_id!r}")
