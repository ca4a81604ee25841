"""Demo images for signatures: a blue handwritten-style signature and a red round seal.

Real deployments upload a scan of the person's signature and of the organisation's seal
(transparent PNGs); these generators give demos and tests images with the same properties:
transparent background, blue ink (signature), red ink at real size (seal). Output is
deterministic for given inputs.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import unicodedata

from PIL import Image, ImageDraw, ImageFont

from signing.fonts import font_path

SIGNATURE_BLUE = (20, 50, 170)
SEAL_RED = (215, 25, 32)
_SUPERSAMPLE = 3


def signature_png(name: str, *, width_px: int = 600, height_px: int = 220,
                  color: tuple[int, int, int] = SIGNATURE_BLUE) -> bytes:
    """A cursive-looking scribble derived from ``name``, blue on transparent."""
    rng = random.Random(hashlib.sha256(name.encode()).digest())
    s = _SUPERSAMPLE
    w, h = width_px * s, height_px * s
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    ink = (*color, 255)
    letters = max(4, min(9, len(_initials_and_letters(name))))
    # one continuous stroke: forward motion with loops and a slant, like joined handwriting
    loops = letters + rng.randint(0, 2)
    drift_phase, size_phase = rng.uniform(0, 6.3), rng.uniform(0, 6.3)
    rx, base_ry = w * 0.030, h * 0.22
    points = []
    steps = 1200
    for i in range(steps):
        t = i / (steps - 1)
        phase = 2 * math.pi * loops * t
        ry = base_ry * (0.75 + 0.25 * math.sin(3 * math.pi * t + size_phase))
        cy = h * 0.50 + h * 0.06 * math.sin(2 * math.pi * t + drift_phase)
        dy = -ry * math.sin(phase)
        x = w * (0.16 + 0.70 * t) + rx * math.cos(phase) - 0.35 * dy
        points.append((x, cy + dy))
    draw.line(points, fill=ink, width=5 * s, joint="curve")
    # a capital flourish at the start and an underline swash
    cx, cy = w * 0.12, h * 0.45
    draw.arc((cx - w * 0.07, cy - h * 0.35, cx + w * 0.07, cy + h * 0.30), 100, 420, fill=ink, width=5 * s)
    swash = [(w * (0.10 + 0.8 * t), h * (0.80 - 0.10 * math.sin(math.pi * t)) + h * 0.03 * t) for t in
             (i / 200 for i in range(201))]
    draw.line(swash, fill=ink, width=4 * s, joint="curve")
    return _png(img.resize((width_px, height_px), Image.Resampling.LANCZOS))


def seal_png(organisation: str, *, size_px: int = 800, color: tuple[int, int, int] = SEAL_RED,
             center_text: str | None = None) -> bytes:
    """A round seal: two rings, the organisation's name in capitals along the rim, a star in the
    middle (or ``center_text``). Place it at its real size (36–42 mm) with :mod:`signing.appearance`."""
    s = _SUPERSAMPLE
    size = size_px * s
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    ink = (*color, 255)
    c = size / 2
    outer = size * 0.48
    draw.ellipse((c - outer, c - outer, c + outer, c + outer), outline=ink, width=int(size * 0.022))
    inner = size * 0.33
    draw.ellipse((c - inner, c - inner, c + inner, c + inner), outline=ink, width=int(size * 0.010))
    _text_on_circle(img, organisation.upper(), radius=(outer + inner) / 2, ink=ink, font_size=int(size * 0.075))
    if center_text:
        font = ImageFont.truetype(font_path(bold=True), int(size * 0.07))
        draw.text((c, c), center_text, font=font, fill=ink, anchor="mm")
    else:
        _star(draw, c, c, size * 0.13, ink)
    return _png(img.resize((size_px, size_px), Image.Resampling.LANCZOS))


def _text_on_circle(img: Image.Image, text: str, *, radius: float, ink: tuple[int, int, int, int],
                    font_size: int) -> None:
    """Letters centred on the top of the ring, each rotated to face outwards."""
    font = ImageFont.truetype(font_path(bold=True), font_size)
    widths = [font.getlength(ch) for ch in text]
    gap = font_size * 0.08
    total = sum(widths) + gap * (len(text) - 1)
    span = min(total / radius, math.radians(300))
    scale = span / (total / radius) if total else 1.0
    angle = -math.pi / 2 - span / 2  # start left of the top, go clockwise
    c = img.width / 2
    for ch, w in zip(text, widths, strict=True):
        step = (w + gap) / radius * scale
        mid = angle + (w / radius * scale) / 2
        x, y = c + radius * math.cos(mid), c + radius * math.sin(mid)
        tile = Image.new("RGBA", (font_size * 2, font_size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((font_size, font_size), ch, font=font, fill=ink, anchor="mm")
        tile = tile.rotate(-math.degrees(mid + math.pi / 2), resample=Image.Resampling.BICUBIC)
        img.alpha_composite(tile, (int(x - font_size), int(y - font_size)))
        angle += step


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, ink: tuple[int, int, int, int]) -> None:
    pts = []
    for k in range(10):
        rad = r if k % 2 == 0 else r * 0.4
        a = -math.pi / 2 + k * math.pi / 5
        pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    draw.polygon(pts, fill=ink)


def _initials_and_letters(name: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", name) if ch.isalpha())


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
