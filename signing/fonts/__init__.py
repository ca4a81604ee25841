"""Vendored Liberation Serif (SIL OFL 1.1, see LICENSE-LiberationFonts.txt): metric-compatible
with Times New Roman and covering every Vietnamese letter, so appearances never depend on the
fonts installed on the machine."""

from __future__ import annotations

from pathlib import Path

_DIR = Path(__file__).resolve().parent


def font_path(*, bold: bool = False) -> str:
    return str(_DIR / ("LiberationSerif-Bold.ttf" if bold else "LiberationSerif-Regular.ttf"))
