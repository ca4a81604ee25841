"""Coverage-guided fuzzing of the upload inspection and the signature validation on receipt with
atheris (libFuzzer), for runs longer than CI's bounded hypothesis tests (tests/fuzz/).

    .venv/bin/pip install -e '.[fuzz]'
    .venv/bin/python bench/fuzz_upload.py -max_total_time=600 [-jobs=2] [var/fuzz-corpus]

The corpus folder (default var/fuzz-corpus) is seeded with tests/fuzz/corpus.py's hostile PDFs.
Any exception other than a domain error with a 4xx status is a crash: atheris stops and writes
the input as crash-<sha1> in the current folder (replay: ``bench/fuzz_upload.py crash-...``).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["docsvc", "pypdf", "pyhanko", "signing"]):
    from docsvc.errors import DomainError
    from docsvc.services.uploads import inspect_upload

_VALIDATE = None


def _validator():  # type: ignore[no-untyped-def]
    """Signature validation on receipt, as DocumentService calls it (a throwaway CA as trust root)."""
    global _VALIDATE
    if _VALIDATE is None:
        import tempfile

        from signing.ca import InternalCA
        from signing.trust import TrustStore
        folder = tempfile.mkdtemp(prefix="docsvc-fuzz-")
        ca = InternalCA.init(Path(folder) / "ca", "fuzz-passphrase", organisation="fuzz", base_url="http://127.0.0.1:9/pki")
        trust = TrustStore.build(internal_ca=ca)
        from signing.validate import verify_report

        def validate(data: bytes) -> object:
            try:
                return verify_report(data, trust)
            except Exception as exc:  # noqa: BLE001 - docsvc turns any failure into an "invalid" verdict
                return exc
        _VALIDATE = validate
    return _VALIDATE


def one_input(data: bytes) -> None:
    try:
        facts = inspect_upload(io.BytesIO(data), "fuzz.pdf", max_bytes=20 * 1024 * 1024)
    except DomainError as exc:
        if not 400 <= exc.status < 500:
            raise
        return
    if facts.is_pdf and facts.signature_count:
        _validator()(data)


def main() -> None:
    if not [a for a in sys.argv[1:] if not a.startswith("-")]:  # no corpus or crash file named
        corpus = ROOT / "var" / "fuzz-corpus"
        if not corpus.exists():
            from tests.fuzz.corpus import corpus as seeds
            corpus.mkdir(parents=True)
            for i, (_name, data) in enumerate(seeds()):
                (corpus / f"seed-{i:02d}.pdf").write_bytes(data)
        sys.argv.append(str(corpus))
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
