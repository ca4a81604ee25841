"""Signing benchmark: signatures per second per PAdES level, through ``signing/`` and bare pyHanko.

    .venv/bin/python bench/signing.py [--rounds 8] [--big-rounds 4] [--pages 100] [--no-hsm]

* sets up an internal CA with its OCSP/CRL/TSA served on a loopback port (as in the tests), so
  time-stamps and OCSP fetching are real HTTP round trips through our own responders;
* for a 1-page and a ``--pages``-page PDF and each level B-B, B-T, B-LT, B-LTA: signs with
  ``signing.pades.sign_pdf`` and with bare pyHanko (``SimpleSigner`` + ``PdfSigner``, the same
  key, the same TSA URL, a fresh ValidationContext per signature on both sides), alternating the
  two, and prints signatures/s and the ratio;
* the visible Decree 30 appearance (image found above the printed name) against an invisible
  signature;
* keys reloaded per signature (PKCS#12 decrypted, or a token login each time) against kept loaded;
* validation time of ``signing.validate.verify_report`` per level and for two signatures;
* the internal CA's TSA/OCSP/CRL over the loopback HTTP server against answered in-process
  (``signing.local_pki.LocalPki``, what docsvc does since issue #9), per level.

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
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign.fields import SigSeedSubFilter  # noqa: E402
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner  # noqa: E402
from pyhanko.sign.timestamps import HTTPTimeStamper  # noqa: E402

from signing.appearance import SealAppearance, SignerAppearance  # noqa: E402
from signing.ca import InternalCA  # noqa: E402
from signing.images import seal_png, signature_png  # noqa: E402
from signing.keys import Pkcs11KeySource, Pkcs12KeySource  # noqa: E402
from signing.local_pki import LocalPki  # noqa: E402
from signing.netguard import FetchPolicy  # noqa: E402
from signing.pades import PadesLevel, sign_pdf  # noqa: E402
from signing.pki_http import PkiServer  # noqa: E402
from signing.trust import TrustStore  # noqa: E402
from signing.validate import verify_report  # noqa: E402
from tests.fixtures.pdfs import official_pdf  # noqa: E402

PIN = "246810"
SIGNER = "Hoàng Văn Nam"
ORG = "Ủy ban nhân dân xã Đồng Đăng"


class Setup:
    def __init__(self, workdir: Path) -> None:
        self.server = PkiServer()
        self.ca = InternalCA.init(workdir / "ca", "bench-passphrase", organisation=ORG, base_url=self.server.base_url,
                                  key_size=2048)
        self.server.attach(self.ca)
        self.p12, _ = self.ca.issue_pkcs12("user", SIGNER, PIN)
        self.org_p12, _ = self.ca.issue_pkcs12("organisation", ORG, PIN)
        # the CA's responders listen on loopback, which the default fetch policy refuses
        self.trust = TrustStore.build(internal_ca=self.ca, fetch_policy=FetchPolicy(allow=("127.0.0.1",)))
        self.key = Pkcs12KeySource(self.p12, PIN)
        self.org_key = Pkcs12KeySource(self.org_p12, PIN)
        self.tsa = self.ca.urls.tsa
        self.bare_signer = SimpleSigner.load_pkcs12_data(self.p12, other_certs=[], passphrase=PIN.encode())
        self.bare_timestamper = HTTPTimeStamper(self.tsa)


def bare_pyhanko(setup: Setup, pdf: bytes, level: PadesLevel, signer: object = None,
                 field_name: str = "Signature1") -> bytes:
    """The same signature with pyHanko alone: what signing/ adds is measured against this.
    ``signer`` defaults to pyHanko's SimpleSigner loaded once from the same PKCS#12."""
    meta = PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES,
        embed_validation_info=level.long_term, use_pades_lta=level is PadesLevel.B_LTA,
        validation_context=setup.trust.validation_context(), signer_key_usage={"digital_signature", "non_repudiation"})
    pdf_signer = PdfSigner(meta, signer=signer or setup.bare_signer,  # type: ignore[arg-type]
                       timestamper=setup.bare_timestamper if level.timestamped else None)
    return pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue()


def ours(setup: Setup, pdf: bytes, level: PadesLevel) -> bytes:
    return sign_pdf(pdf, setup.key, level=level, timestamper=setup.tsa, validation_context=setup.trust)


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def side_by_side(*fns: Callable[[], object], rounds: int) -> list[float]:
    """Median seconds of each function, run in turn round after round (one warm-up each, not counted)."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            times[i] += timed(fn, 1)
    return [statistics.median(t) for t in times]


def bench_levels(setup: Setup, docs: dict[str, bytes], rounds: dict[str, int]) -> None:
    print("signatures per second (median of alternating runs; invisible signatures)")
    print("  pyHanko = SimpleSigner from the same PKCS#12; pyHanko* = PdfSigner with signing/'s loaded-key signer")
    print(f"  {'document':<10} {'level':<6} {'signing/':>9} {'pyHanko':>9} {'ratio':>7} {'pyHanko*':>9} {'ratio*':>7}")
    for name, pdf in docs.items():
        for level in PadesLevel:
            t_ours, t_bare, t_star = side_by_side(
                partial(ours, setup, pdf, level), partial(bare_pyhanko, setup, pdf, level),
                partial(bare_pyhanko, setup, pdf, level, setup.key.signer()), rounds=rounds[name])
            print(f"  {name:<10} {level.value:<6} {1 / t_ours:9.1f} {1 / t_bare:9.1f} {t_ours / t_bare:6.2f}x "
                  f"{1 / t_star:9.1f} {t_ours / t_star:6.2f}x", flush=True)


def bench_appearance(setup: Setup, docs: dict[str, bytes], rounds: int) -> None:
    print("visible Decree 30 appearance vs invisible (B-B, signing/)")
    image, seal = signature_png(SIGNER), seal_png(ORG)
    for name, pdf in docs.items():
        visible = SignerAppearance(image, name=SIGNER)
        t_vis, t_inv = side_by_side(
            partial(sign_pdf, pdf, setup.key, level="B-B", appearance=visible, validation_context=setup.trust),
            partial(sign_pdf, pdf, setup.key, level="B-B", validation_context=setup.trust), rounds=rounds)
        print(f"  {name:<10} signer image above the name {t_vis * 1000:7.1f} ms   invisible {t_inv * 1000:7.1f} ms"
              f"   ratio {t_vis / t_inv:.2f}x", flush=True)
    signed = sign_pdf(docs["1 page"], setup.key, level="B-B", appearance=SignerAppearance(image, name=SIGNER))
    t_seal = statistics.median(timed(lambda: sign_pdf(signed, setup.org_key, level="B-B",
                                                      appearance=SealAppearance(seal),
                                                      validation_context=setup.trust), rounds))
    print(f"  1 page     organisation seal over the signer  {t_seal * 1000:7.1f} ms", flush=True)


def bench_key_loading(setup: Setup, pdf: bytes, rounds: int, hsm: tuple[str, str, str, str] | None) -> None:
    print("keys kept loaded vs reloaded for every signature (B-B, 1 page)")
    kept = setup.key
    t_kept, t_reload = side_by_side(
        lambda: sign_pdf(pdf, kept, level="B-B", validation_context=setup.trust),
        lambda: sign_pdf(pdf, Pkcs12KeySource(setup.p12, PIN), level="B-B", validation_context=setup.trust),
        rounds=rounds)
    print(f"  PKCS#12   kept {1 / t_kept:6.1f}/s   reloaded {1 / t_reload:6.1f}/s   "
          f"slowdown {t_reload / t_kept:.2f}x", flush=True)
    if hsm is None:
        print("  PKCS#11   skipped (SoftHSM2 not installed or --no-hsm)")
        return
    module, token, pin, label = hsm
    chain = setup.ca.chain()
    token_key = Pkcs11KeySource(module, token, pin, label, chain=chain)

    def reloaded() -> None:
        token_key.close()  # logs the token out: the next key source logs in again
        fresh = Pkcs11KeySource(module, token, pin, label, chain=chain)
        sign_pdf(pdf, fresh, level="B-B", validation_context=setup.trust)

    def kept_token() -> None:
        sign_pdf(pdf, Pkcs11KeySource(module, token, pin, label, chain=chain), level="B-B",
                 validation_context=setup.trust)

    t_kept, t_reload = side_by_side(kept_token, reloaded, rounds=rounds)
    print(f"  PKCS#11   kept {1 / t_kept:6.1f}/s   reloaded {1 / t_reload:6.1f}/s   "
          f"slowdown {t_reload / t_kept:.2f}x  (SoftHSM2: login, key lookup)", flush=True)


def bench_validation(setup: Setup, docs: dict[str, bytes], rounds: int) -> None:
    print("validation (signing.validate.verify_report, OCSP fetched online where the document has none)")
    for name, pdf in docs.items():
        for level in PadesLevel:
            signed = ours(setup, pdf, level)
            t = statistics.median(timed(partial(verify_report, signed, setup.trust), rounds))
            print(f"  {name:<10} {level.value:<6} {t * 1000:8.1f} ms", flush=True)
    two = sign_pdf(ours(setup, docs["1 page"], PadesLevel.B_LT), setup.org_key, level="B-LT", timestamper=setup.tsa,
                   validation_context=setup.trust)
    t = statistics.median(timed(lambda: verify_report(two, setup.trust), rounds))
    print(f"  1 page     B-LT signer + B-LT organisation {t * 1000:8.1f} ms", flush=True)


def bench_local_pki(setup: Setup, pdf: bytes, rounds: int) -> None:
    print("internal CA over loopback HTTP vs in-process (signing.local_pki), 1 page, signing then validating")
    local = TrustStore.build(internal_ca=setup.ca, local_pki=LocalPki(setup.ca))
    for level in (PadesLevel.B_T, PadesLevel.B_LT, PadesLevel.B_LTA):
        t_http, t_local = side_by_side(
            lambda: sign_pdf(pdf, setup.key, level=level, timestamper=setup.tsa, validation_context=setup.trust),
            lambda: sign_pdf(pdf, setup.key, level=level, timestamper=setup.tsa, validation_context=local),
            rounds=rounds)
        signed = ours(setup, pdf, level)
        v_http, v_local = side_by_side(partial(verify_report, signed, setup.trust),
                                       partial(verify_report, signed, local), rounds=rounds)
        print(f"  {level.value:<6} sign: HTTP {t_http * 1000:7.1f} ms  in-process {t_local * 1000:7.1f} ms  "
              f"ratio {t_local / t_http:.2f}   validate: HTTP {v_http * 1000:7.1f} ms  in-process "
              f"{v_local * 1000:7.1f} ms  ratio {v_local / v_http:.2f}", flush=True)


def prepare_hsm(setup: Setup, workdir: Path) -> tuple[str, str, str, str] | None:
    module = "/usr/lib/softhsm/libsofthsm2.so"
    if not Path(module).is_file() or shutil.which("softhsm2-util") is None:
        return None
    (workdir / "tokens").mkdir()
    conf = workdir / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {workdir / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", PIN,
                    "--so-pin", "87654321"], check=True, capture_output=True)
    from signing.tokens import generate_token_key, store_certificate_on_token
    public = generate_token_key(module, "bench", PIN, "org-seal")
    issued = setup.ca.issue("organisation", ORG, public)
    store_certificate_on_token(module, "bench", PIN, "org-seal", issued.certificate)
    return module, "bench", PIN, "org-seal"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="signatures per cell for the 1-page document")
    parser.add_argument("--big-rounds", type=int, default=4, help="signatures per cell for the long document")
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--no-hsm", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docsvc-bench-signing-") as tmp:
        workdir = Path(tmp)
        setup = Setup(workdir)
        docs = {"1 page": official_pdf(), f"{args.pages} pages": official_pdf(pages=args.pages)}
        rounds = {"1 page": args.rounds, f"{args.pages} pages": args.big_rounds}
        print(f"documents: 1 page {len(docs['1 page']) / 1e3:.0f} kB, {args.pages} pages "
              f"{len(docs[f'{args.pages} pages']) / 1e3:.0f} kB; RSA-2048 keys; CA, OCSP and TSA on "
              f"{setup.server.base_url}")
        hsm = None if args.no_hsm else prepare_hsm(setup, workdir)
        bench_levels(setup, docs, rounds)
        bench_appearance(setup, docs, args.big_rounds)
        bench_key_loading(setup, docs["1 page"], args.rounds, hsm)
        bench_validation(setup, docs, max(2, args.big_rounds))
        bench_local_pki(setup, docs["1 page"], args.rounds)
        setup.server.close()


if __name__ == "__main__":
    main()
