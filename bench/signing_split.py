"""Split signing benchmark (issue 20): a 50-document batch signed with a key on a token through
the local signer's path, against the same 50 documents signed by bare pyHanko with the same token.

    .venv/bin/python bench/signing_split.py [--documents 50] [--rounds 2] [--level B-LT]

* a SoftHSM2 token (temporary configuration) holds the leader's RSA-2048 key, certified by an
  internal CA whose TSA, OCSP and CRL are answered in-process (``LocalPki``), so both sides pay the
  same for time-stamps and revocation data and nothing waits on a socket;
* **local signer** = what the server and ``docsvc-signer`` do for a batch, minus HTTP and the
  database: ``signing.split.prepare`` of each document (the Decree 30 appearance, certification,
  the number/date/seal/copy fields), ``docsvc-signer``'s ``sign_items`` (one token login, one
  signature per document, on the token), ``signing.split.finish`` of each (CMS, signature
  time-stamp, DSS);
* **bare pyHanko** = ``PdfSigner`` with pyHanko's own ``PKCS11Signer`` on the same token (one
  session for the batch), the same level, TSA and validation context, certifying, with a visible
  stamp of comparable content: the signature image behind the title and name, in the same vendored
  font (pyHanko's ``TextStampStyle`` + ``GlyphAccumulatorFactory``), so both sides pay for font
  subsetting; ``--invisible`` measures the bare side without any appearance as well;
* alternating rounds after one warm-up batch each; prints documents/s of each and the ratio
  (local signer / bare pyHanko; the issue asks for at least 0.8).

It prints figures; it asserts nothing. Everything it writes goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN, PIN, LABEL = "bench-leader", "112233", "leader"
SIGNER = "Hoàng Văn Nam"
ORG = "Ủy ban nhân dân xã Đồng Đăng"


def main() -> None:
    import logging
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # "FFTM NOT subset" per document
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--level", default="B-LT")
    parser.add_argument("--invisible", action="store_true", help="also time bare pyHanko without an appearance")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="docsvc-bench-split-"))
    try:
        run(work, args.documents, args.rounds, args.level, args.invisible)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, count: int, rounds: int, level_name: str, invisible: bool) -> None:
    (work / "tokens").mkdir()
    conf = work / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {work / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "87654321"],
                   check=True, capture_output=True)

    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
    from pyhanko.sign.pkcs11 import PKCS11Signer
    from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
    from pyhanko.stamp import TextStampStyle

    from signing.appearance import SignerAppearance
    from signing.ca import InternalCA
    from signing.fonts import font_path
    from signing.images import signature_png
    from signing.keys import _TokenSession
    from signing.local_pki import LocalPki
    from signing.localsigner.batch import Item, sign_items
    from signing.localsigner.token import Token, TokenConfig
    from signing.pades import IssueFieldsRequest, PadesLevel, timestamper_for
    from signing.split import finish, prepare
    from signing.tokens import generate_token_key, store_certificate_on_token
    from signing.trust import TrustStore
    from signing.x509util import to_asn1_cert
    from tests.fixtures.pdfs import official_pdf

    level = PadesLevel.parse(level_name)
    ca = InternalCA.init(work / "ca", "bench-passphrase", organisation=ORG, base_url="http://127.0.0.1:9/pki",
                         key_size=2048)
    trust = TrustStore.build(internal_ca=ca, local_pki=LocalPki(ca))
    public = generate_token_key(MODULE, TOKEN, PIN, LABEL)
    cert = ca.issue("user", SIGNER, public, title="Chủ tịch").certificate
    store_certificate_on_token(MODULE, TOKEN, PIN, LABEL, cert)
    _TokenSession.get(MODULE, TOKEN).logout()
    chain = [ca.issuing_certificate]
    tsa = timestamper_for(ca.urls.tsa, local_pki=trust.local_pki)
    docs = [official_pdf(f"Quyết định số {n} về việc phê duyệt kế hoạch năm 2026", signer_title="",
                         signer_name="") for n in range(count)]
    appearance = SignerAppearance(signature_png(SIGNER), name=SIGNER, title="CHỦ TỊCH")

    def local_signer_batch() -> list[bytes]:
        prepared = [prepare(pdf, cert, chain, appearance=appearance, certify=True, reason="Ký ban hành",
                            issue_fields=IssueFieldsRequest()) for pdf in docs]
        items = [Item(str(n), p.data_to_be_signed, {"number": None, "subject": "bench", "pages": 1, "sha256": "-"})
                 for n, p in enumerate(prepared)]
        values = sign_items(Token(TokenConfig(MODULE, TOKEN, LABEL)), items, lambda _: PIN, show=lambda _: None)
        return [finish(p, values[str(n)], cert, chain, level=level, timestamper=tsa, validation_context=trust)
                for n, p in enumerate(prepared)]

    from PIL import Image
    stamp = TextStampStyle(stamp_text="CHỦ TỊCH\n\n\nHoàng Văn Nam", border_width=0,
                           text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(font_path(bold=True)),
                                                       font_size=13),
                           background=PdfImage(Image.open(io.BytesIO(signature_png(SIGNER)))), background_opacity=1)

    def bare_pyhanko_batch(visible: bool = True) -> list[bytes]:
        from signing.pkcs11lib import load_module
        session = load_module(MODULE).get_token(token_label=TOKEN).open(user_pin=PIN)
        try:
            signer = PKCS11Signer(session, key_label=LABEL, cert_label=LABEL, ca_chain=[to_asn1_cert(c) for c in chain])
            out = []
            for pdf in docs:
                meta = PdfSignatureMetadata(
                    field_name="Signature1", md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES, certify=True,
                    embed_validation_info=level.long_term, use_pades_lta=level is PadesLevel.B_LTA,
                    validation_context=trust.validation_context(), signer_key_usage={"non_repudiation"})
                field = SigFieldSpec("Signature1", on_page=0, box=(330, 90, 530, 210)) if visible else None
                out.append(PdfSigner(meta, signer=signer, timestamper=tsa if level.timestamped else None,
                                     stamp_style=stamp if visible else None, new_field_spec=field)
                           .sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue())
            return out
        finally:
            session.close()

    print(f"{count} documents, {level.value}, key on a SoftHSM2 token (RSA-2048), TSA/OCSP/CRL in-process")
    local_signer_batch()  # warm-up (fonts, images, caches)
    bare_pyhanko_batch()
    ours, bare = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        local_signer_batch()
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare_pyhanko_batch()
        bare.append(time.perf_counter() - start)
    t_ours, t_bare = statistics.median(ours), statistics.median(bare)
    print(f"  local signer (prepare + token batch + finish): {count / t_ours:6.1f} docs/s ({t_ours:.2f} s)")
    print(f"  bare pyHanko with the token (visible stamp):   {count / t_bare:6.1f} docs/s ({t_bare:.2f} s)")
    print(f"  ratio (local signer / bare pyHanko): {t_bare / t_ours:.2f}")
    if invisible:
        t_inv = statistics.median([_timed(lambda: bare_pyhanko_batch(visible=False)) for _ in range(rounds)])
        print(f"  bare pyHanko, invisible signature:             {count / t_inv:6.1f} docs/s ({t_inv:.2f} s); "
              f"ratio {t_inv / t_ours:.2f}")


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
