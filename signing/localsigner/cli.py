"""The ``docsvc-signer`` command (see the package docstring)."""

from __future__ import annotations

import argparse
import base64
import getpass
import os
import sys
from collections.abc import Sequence

from cryptography.hazmat.primitives.serialization import Encoding

from signing.localsigner.batch import Item, sign_items
from signing.localsigner.client import ApiError, DocsvcClient
from signing.localsigner.token import Token, TokenConfig, TokenError

PIN_ENV = "DOCSVC_SIGNER_PIN"


def ask_pin(_: str) -> str:
    """The token PIN: from DOCSVC_SIGNER_PIN (automation, tests), else asked on the terminal."""
    pin = os.environ.get(PIN_ENV)
    if pin:
        return pin
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass("Token PIN (once for the whole batch): ")


def _token_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--module", default=os.environ.get("DOCSVC_SIGNER_MODULE", ""),
                   help="PKCS#11 library of the token (env DOCSVC_SIGNER_MODULE)")
    p.add_argument("--token-label", default=os.environ.get("DOCSVC_SIGNER_TOKEN_LABEL"),
                   help="token label (default: the only token present)")
    p.add_argument("--key-label", default=os.environ.get("DOCSVC_SIGNER_KEY_LABEL"),
                   help="key/certificate label (default: the only one)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="docsvc-signer", description="Sign docsvc documents with your own token.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("certificate", help="print the token's certificate (PEM), to register it in docsvc")
    _token_args(c)
    s = sub.add_parser("sign", help="sign documents waiting for your signature (one PIN for all)")
    _token_args(s)
    s.add_argument("--url", required=True, help="docsvc address, e.g. https://vanban.example.gov.vn")
    s.add_argument("--token", default=os.environ.get("DOCSVC_API_TOKEN"), help="your docsvc API token")
    s.add_argument("documents", nargs="+", type=int, help="document ids")
    v = sub.add_parser("serve", help="the localhost service the docsvc signing page calls")
    _token_args(v)
    v.add_argument("--origin", required=True, help="the docsvc page origin allowed to call, e.g. https://vanban.gov.vn")
    v.add_argument("--port", type=int, default=8765)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = TokenConfig(args.module, args.token_label, args.key_label)
    try:
        if args.command == "certificate":
            sys.stdout.write(Token(config).certificate().public_bytes(Encoding.PEM).decode())
            return 0
        if args.command == "serve":
            return _serve(config, args.origin, args.port)
        return _sign(config, args.url, args.token, args.documents)
    except TokenError as exc:
        print(f"docsvc-signer: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        print(f"docsvc-signer: docsvc refused: {exc.message} ({exc.code})", file=sys.stderr)
        return 3


def _sign(config: TokenConfig, url: str, api_token: str | None, documents: list[int]) -> int:
    if not api_token:
        raise TokenError("give your docsvc API token (--token or DOCSVC_API_TOKEN)")
    client = DocsvcClient(url, api_token)
    token = Token(config)
    cert = token.certificate()
    batch = client.post("/signing/batches", {"document_ids": documents, "mode": "token",
                                             "certificate": base64.b64encode(cert.public_bytes(Encoding.DER)).decode()})
    failed = 0
    for entry in batch["items"]:
        if entry.get("error"):
            failed += 1
            print(f"document {entry['document_id']}: not prepared: {entry['error']['message']}")
    items = [Item.from_json(entry["prepared"]) for entry in batch["items"] if entry.get("prepared")]
    if not items:
        return 1
    signatures = sign_items(token, items, ask_pin)
    result = client.post(f"/signing/batches/{batch['batch_id']}/finish", {"signatures": [
        {"prepared_id": pid, "signature": base64.b64encode(sig).decode()} for pid, sig in signatures.items()]})
    for entry in result["items"]:
        if entry.get("status") == "signed":
            print(f"document {entry['document_id']}: signed")
        else:
            failed += 1
            print(f"document {entry['document_id']}: refused: {entry['error']['message']}")
    return 0 if failed == 0 else 1


def _serve(config: TokenConfig, origin: str, port: int) -> int:
    from signing.localsigner.service import LocalSignerServer
    server = LocalSignerServer(config, origin, port=port, ask_pin=ask_pin)
    print(f"docsvc-signer listening on http://127.0.0.1:{server.port} for {origin} (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
