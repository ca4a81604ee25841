"""PDF/A-2b renditions with Ghostscript, for archive exports.

A rendition is made beside the signed original, never instead of it: rewriting a PDF drops its
signatures, so the original stays the record and the rendition is the long-term readable copy.
When Ghostscript (``gs``) or its sRGB profile is missing, :func:`find_converter` returns None and
exports simply carry no renditions.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ICC_CANDIDATES = ("/usr/share/color/icc/ghostscript/srgb.icc", "/usr/share/ghostscript/iccprofiles/srgb.icc",
                  "/usr/share/color/icc/sRGB.icc")
TIMEOUT_SECONDS = 120

# The output intent PDF/A requires (Ghostscript's lib/PDFA_def.ps, with our profile path filled in).
_PDFA_DEF = """%!
[ /Title ({title}) /DOCINFO pdfmark
/ICCProfile ({icc}) def
[/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark
[{{icc_PDFA}} << /N 3 >> /PUT pdfmark
[{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark
[/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark
[{{OutputIntent_PDFA}} <<
  /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile {{icc_PDFA}}
  /OutputConditionIdentifier (sRGB)
>> /PUT pdfmark
[{{Catalog}} << /OutputIntents [ {{OutputIntent_PDFA}} ] >> /PUT pdfmark
"""


class ConversionFailed(Exception):
    pass


@dataclass(frozen=True)
class GhostscriptPdfA:
    gs: str
    icc: str

    name = "ghostscript PDF/A-2b"

    def convert(self, source: Path, target: Path, title: str = "") -> None:
        """Write a PDF/A-2b rendition of ``source`` to ``target`` (raises ConversionFailed)."""
        with tempfile.TemporaryDirectory(prefix="pdfa-") as tmp:
            definition = Path(tmp) / "PDFA_def.ps"
            safe_title = "".join(c for c in title if c not in "()\\")[:200]
            definition.write_text(_PDFA_DEF.format(title=safe_title, icc=self.icc), encoding="latin-1",
                                  errors="replace")
            # -dNEWPDF=false: Ghostscript 10.0's new interpreter drops the ToUnicode maps of subset
            # TrueType fonts (Vietnamese text would no longer be extractable); later versions ignore it.
            cmd = [self.gs, "-q", "-dNEWPDF=false", "-dPDFA=2", "-dBATCH", "-dNOPAUSE", "-dNOOUTERSAVE", "-dSAFER",
                   f"--permit-file-read={self.icc}", "-dPDFACompatibilityPolicy=1",
                   "-sColorConversionStrategy=RGB", "-sProcessColorModel=DeviceRGB", "-sDEVICE=pdfwrite",
                   f"-sOutputFile={target}", str(definition), str(source)]
            try:
                done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
            except subprocess.TimeoutExpired:
                raise ConversionFailed(f"ghostscript took more than {TIMEOUT_SECONDS} s") from None
            if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
                message = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
                raise ConversionFailed(message[-1] if message else f"ghostscript exit {done.returncode}")


def find_converter() -> GhostscriptPdfA | None:
    gs = shutil.which("gs")
    icc = next((p for p in ICC_CANDIDATES if Path(p).is_file()), None)
    return GhostscriptPdfA(gs, icc) if gs and icc else None
