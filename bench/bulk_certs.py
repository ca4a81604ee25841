"""Certificate issuance benchmark: what re-issuing a merged agency's signatures costs.

    .venv/bin/python bench/bulk_certs.py [--count 300] [--key rsa2048|p256]

Da Nang re-issued about 3,000 official signatures after the 2025 merge. This measures, for ``--count``
people of a synthetic CSV (name, title, unit, e-mail):

* key generation alone (RSA-2048 as ``InternalCA.issue_pkcs12`` makes, or P-256);
* side by side in one run, on the same keys: the internal CA one certificate at a time as the bulk job
  did before (``issue()``: built, signed, recorded in the CA's SQLite index in its own transaction, then
  read back with ``get()``), the CA in chunks as the job does now (``issue_many()``: one transaction per
  ``CHUNK`` certificates, nothing read back), and bare ``cryptography`` building and signing the same
  certificate (same subject, extensions, issuing key) with nothing recorded; prints certificates per
  second for each and each one's ratio to bare;
* the PKCS#12 packing of each key and certificate (what a user's key file costs);
* the projected time for 3,000 people.

This is the path of the bulk job (``docsvc.services.reorganisation.certificates``: key, ``InternalCA.issue_many``,
PKCS#12 under the service-held PIN) without the database rows. It prints figures; it asserts nothing.
Everything it writes goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from docsvc.services.reorganisation.certificates import CHUNK  # noqa: E402
from signing.ca import CertificateRequest, InternalCA  # noqa: E402


def synthetic_csv(count: int) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["name", "title", "unit", "email"])
    titles = ["Chủ tịch", "Phó Chủ tịch", "Trưởng phòng", "Chuyên viên", "Văn thư"]
    for i in range(count):
        w.writerow([f"Nguyễn Văn {i:04d}", titles[i % len(titles)], f"Phòng {i % 7}", f"nv{i:04d}@danang.gov.vn"])
    return out.getvalue()


def timed(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--key", choices=("rsa2048", "p256"), default="rsa2048")
    args = parser.parse_args()
    rows = list(csv.DictReader(io.StringIO(synthetic_csv(args.count))))
    organisation = "Ủy ban nhân dân phường Hải Châu"

    def new_key() -> Any:
        if args.key == "rsa2048":
            return rsa.generate_private_key(65537, 2048)
        return ec.generate_private_key(ec.SECP256R1())

    with tempfile.TemporaryDirectory(prefix="docsvc-bench-certs-") as tmp:
        ca = InternalCA.init(Path(tmp) / "ca", "bench-passphrase-123456", organisation="Bench province",
                             base_url="http://127.0.0.1:9")
        start = time.perf_counter()
        keys = [new_key() for _ in rows]
        keygen = time.perf_counter() - start

        it = iter(zip(rows, keys, strict=True))
        issued: list[Any] = []

        def one_at_a_time() -> None:  # the job before: a CA transaction and a read-back per certificate
            row, key = next(it)
            serial = ca.issue("user", row["name"], key.public_key(), organisation=organisation, unit=row["unit"],
                              title=row["title"], email=row["email"]).serial
            ca.get(serial)

        def chunked() -> None:  # the job now: CHUNK certificates per CA transaction
            for start in range(0, len(rows), CHUNK):
                issued.extend(c.certificate for c in ca.issue_many([
                    CertificateRequest("user", row["name"], key.public_key(), organisation=organisation,
                                       unit=row["unit"], title=row["title"], email=row["email"])
                    for row, key in zip(rows[start:start + CHUNK], keys[start:start + CHUNK], strict=True)]))

        issuing = ca._issuing  # the bench compares against the same issuing key  # noqa: SLF001
        probe = ca.issue("user", "probe", keys[0].public_key(), organisation=organisation).certificate
        extensions = [(e.value, e.critical) for e in probe.extensions
                      if e.oid != x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER]
        it2 = iter(zip(rows, keys, strict=True))

        def bare() -> None:
            row, key = next(it2)
            subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                                 x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, row["unit"]),
                                 x509.NameAttribute(NameOID.TITLE, row["title"]),
                                 x509.NameAttribute(NameOID.COMMON_NAME, row["name"]),
                                 x509.NameAttribute(NameOID.EMAIL_ADDRESS, row["email"])])
            builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuing.certificate.subject)
                       .public_key(key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(probe.not_valid_before_utc).not_valid_after(probe.not_valid_after_utc)
                       .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
            for value, critical in extensions:
                builder = builder.add_extension(value, critical)
            builder.sign(issuing.key, hashes.SHA256())

        t_one = timed(one_at_a_time, len(rows))
        t_ca = timed(chunked, 1)
        t_bare = timed(bare, len(rows))
        start = time.perf_counter()
        for cert, key in zip(issued, keys, strict=True):
            ca.pack_pkcs12(key, cert, "123456")
        t_pack = time.perf_counter() - start

    n = len(rows)
    print(f"{n} people, {args.key} keys")
    print(f"  key generation        {n / keygen:8.1f} keys/s")
    print(f"  CA, one at a time     {n / t_one:8.1f} certificates/s   (before; CA / bare = {t_bare / t_one:.2f})")
    print(f"  CA, {CHUNK} per commit    {n / t_ca:8.1f} certificates/s   (now;    CA / bare = {t_bare / t_ca:.2f})")
    print(f"  bare cryptography     {n / t_bare:8.1f} certificates/s")
    print(f"  PKCS#12 packing       {n / t_pack:8.1f} files/s")
    per_person = (keygen + t_ca + t_pack) / n
    print(f"  projected for 3,000 people (key + certificate + PKCS#12, one core): {3000 * per_person / 60:.1f} min")


if __name__ == "__main__":
    main()
