"""Cleaning of a scanned page before OCR, with Pillow (no other tool).

Office scans reach Tesseract with what its global (Otsu) threshold and layout analysis handle badly:
a red seal and a blue signature over the signer's name, grey paper and light falling off across the
page, speck dust, a page a few degrees askew, 150 dpi photos or JPEGs. :func:`clean_page` gives
Tesseract a grey page at about 300 dpi with white paper and black text, when the page shows one of
these :func:`degradations` (a plain white, straight page is read as it is):

1. resolution: an image below 250 dpi is scaled up (at most 2x) — Tesseract wants letters 20-30 px high;
2. colour ink: below the top quarter of the page the grey value of a pixel is its brightest channel,
   plus its saturation, so red (seals) and blue (signatures, which Decree 30 wants in blue ink) turn to paper
   while black print stays black, also where the seal covers it; the top quarter keeps its colour
   ink as grey, as red-stamped urgency and secrecy marks (box 10) are read from there;
3. background: the paper's brightness is estimated on a reduced page (a maximum filter wider than a
   letter, then a minimum filter and a blur) and subtracted, which removes grey paper and uneven light; the contrast is
   then stretched;
4. speckle: a 3x3 median filter removes specks of one or two pixels (strokes at 300 dpi are thicker),
   and ink with almost no ink around it within 3.4 mm (a speck or blot on empty paper) is erased;
5. skew: the angle whose horizontal projection profile is sharpest (-5°..5°, 0.1° steps) is undone.

A page larger than :data:`MAX_PIXELS` is left as it is (memory bounds of the extraction child).
The extraction runs it as ``python -m search.scan_clean SOURCE PREFIX MAX_PAGES`` (:func:`main`), one
process per file like Tesseract, so that each page has the CPU-time limit a Tesseract run has.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter, ImageOps, ImageSequence, ImageStat

#: pages larger than this (a 300 dpi A3 page is 17 Mpx) are not cleaned
MAX_PIXELS = 40_000_000
TARGET_DPI = 300
MIN_DPI = 250
#: the part of the page, from the top, where colour ink (red urgency and secrecy stamps) is kept
KEEP_COLOUR_TOP = 0.25
#: skews smaller than this are left alone (a rotation blurs the letters a little)
MIN_SKEW = 0.2


def page_dpi(image: Image.Image) -> float | None:
    """The resolution the image declares, if it is a plausible one."""
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if isinstance(dpi, tuple) else float(dpi) if dpi else 0.0
    except (TypeError, ValueError):
        return None
    return value if 50 <= value <= 1200 else None


def upscale(image: Image.Image, dpi: float | None) -> tuple[Image.Image, float]:
    """Scale a low-resolution page up towards :data:`TARGET_DPI` (at most 2x). Without a declared
    resolution, a page narrower than 1,700 px is taken as an A4 page at less than 200 dpi."""
    if dpi is None:
        dpi = image.width / 8.27 if image.width < 1700 else float(TARGET_DPI)
    if dpi >= MIN_DPI:
        return image, dpi
    scale = min(2.0, TARGET_DPI / dpi)
    size = (round(image.width * scale), round(image.height * scale))
    if size[0] * size[1] > MAX_PIXELS:
        return image, dpi
    return image.resize(size, Image.Resampling.LANCZOS), dpi * scale


def drop_colour_ink(image: Image.Image, keep_top: float = KEEP_COLOUR_TOP) -> Image.Image:
    """Grey page on which saturated ink below the top ``keep_top`` of the page is paper."""
    if image.mode not in ("RGB", "RGBA", "P", "CMYK", "YCbCr"):
        return image.convert("L")
    rgb = image.convert("RGB")
    grey = rgb.convert("L")
    red, green, blue = rgb.split()
    brightest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    darkest = ImageChops.darker(ImageChops.darker(red, green), blue)
    lifted = ImageChops.add(brightest, ImageChops.subtract(brightest, darkest))  # + saturation: ink to paper
    top = int(grey.height * keep_top)
    grey.paste(lifted.crop((0, top, grey.width, grey.height)), (0, top))
    return grey


def _background(small: Image.Image) -> Image.Image:
    """The paper's brightness on a page reduced 8x: a closing (maximum, then minimum) removes the
    letters and keeps the edges of large areas (a white corner beside grey paper, a dark border)."""
    return small.filter(ImageFilter.MaxFilter(7)).filter(ImageFilter.MinFilter(7)).filter(ImageFilter.GaussianBlur(1))


def flatten(grey: Image.Image) -> Image.Image:
    """White paper, black text: the background estimated on a page reduced 8x is subtracted."""
    factor = 8
    if grey.width < 16 * factor or grey.height < 16 * factor:
        return ImageOps.autocontrast(grey, cutoff=(0.5, 0))
    background = _background(grey.reduce(factor)).resize(grey.size, Image.Resampling.BILINEAR)
    darkness = ImageChops.subtract(background, grey)  # 0 on paper, the ink's depth elsewhere
    return ImageOps.autocontrast(ImageOps.invert(darkness), cutoff=(0.3, 0))


def despeckle(grey: Image.Image, radius: int = 20, density: int = 16) -> Image.Image:
    """Specks on empty paper turn to paper: where less than ``density``/255 of the (2 ``radius`` + 1)²
    neighbourhood is ink, every darkened pixel goes, with a pixel around it (a speck's grey halo
    would otherwise stay as a ring that OCR reads as "o"). Accents and dots below letters sit next
    to their letter and stay."""
    ink = grey.point(lambda v: 255 if v < 128 else 0)
    lonely = ink.filter(ImageFilter.BoxBlur(radius)).point(lambda v: 255 if v < density else 0)
    darkened = grey.point(lambda v: 255 if v < 230 else 0)
    erase = ImageChops.multiply(darkened, lonely).filter(ImageFilter.MaxFilter(3))
    return ImageChops.lighter(grey, erase)


def skew_angle(grey: Image.Image) -> float:
    """Degrees to rotate the page (counter-clockwise) to make its lines horizontal: the angle that
    maximises the squared differences between neighbouring rows of the horizontal projection of a
    reduced, thresholded page."""
    factor = max(1, grey.width // 700)
    ink = grey.reduce(factor).point(lambda v: 255 if v < 128 else 0)

    def sharpness(angle: float) -> float:
        turned = ink.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=0)
        rows = turned.resize((1, ink.height), Image.Resampling.BOX).tobytes()
        return float(sum((a - b) ** 2 for a, b in zip(rows, rows[1:], strict=False)))

    coarse = max((a / 2 for a in range(-10, 11)), key=sharpness)
    return max((coarse + a / 10 for a in range(-5, 6)), key=sharpness)


def _share(mask: Image.Image) -> float:
    """The share of a 0/255 mask's pixels that are set."""
    return mask.histogram()[255] / max(1, mask.width * mask.height)


def degradations(image: Image.Image) -> list[str]:
    """What of the page calls for cleaning: "colour ink" (seal or signature below the top quarter,
    over 0.1 % of it), "grey paper" (the paper's brightness below 215 or varying by more than 50),
    "skew" (1° or more), "speckle" (over 0.05 % of the page is ink with no ink around it). A page with
    none is read as it is: on a plain white, straight page cleaning gains nothing and Tesseract's
    layout analysis may join a column differently."""
    found = []
    factor = max(1, image.width // 800)
    small = image.reduce(factor) if factor > 1 else image
    if small.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr"):
        rgb = small.convert("RGB")
        lower = rgb.crop((0, int(rgb.height * KEEP_COLOUR_TOP), rgb.width, rgb.height))
        red, green, blue = lower.split()
        saturation = ImageChops.subtract(ImageChops.lighter(ImageChops.lighter(red, green), blue),
                                         ImageChops.darker(ImageChops.darker(red, green), blue))
        if _share(saturation.point(lambda v: 255 if v > 60 else 0)) > 0.001:
            found.append("colour ink")
    grey = image.convert("L")
    background = _background(grey.reduce(8)) if grey.width >= 128 and grey.height >= 128 else grey
    stat = ImageStat.Stat(background)
    if stat.mean[0] < 215 or stat.extrema[0][1] - stat.extrema[0][0] > 50:
        found.append("grey paper")
    if abs(skew_angle(grey)) >= 1.0:
        found.append("skew")
    ink = grey.point(lambda v: 255 if v < 128 else 0)
    lonely = ink.filter(ImageFilter.BoxBlur(20)).point(lambda v: 255 if v < 16 else 0)
    if _share(ImageChops.multiply(ink, lonely)) > 0.0005:
        found.append("speckle")
    return found


def clean_page(image: Image.Image) -> tuple[Image.Image, float]:
    """The page cleaned for OCR (mode L) and its resolution in dpi (see the module's text); a page
    without :func:`degradations` only turned grey."""
    dpi = page_dpi(image)
    if image.width * image.height > MAX_PIXELS or not degradations(image):
        return image.convert("L"), dpi or TARGET_DPI
    image, dpi = upscale(image, dpi)
    grey = flatten(drop_colour_ink(image))
    grey = despeckle(grey.filter(ImageFilter.MedianFilter(3)))
    angle = skew_angle(grey)
    if abs(angle) >= MIN_SKEW:
        grey = grey.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    return grey, dpi


def clean_file(source: Path, prefix: str, max_pages: int) -> list[Path]:
    """The first ``max_pages`` pages of an image file (a TIFF may have several) cleaned, as grey PNGs
    ``<prefix>-<n>.png`` beside it; a one-page file without :func:`degradations` is left to be read
    as it is (the same bytes as without cleaning)."""
    out = []
    with Image.open(source) as image:
        if getattr(image, "n_frames", 1) == 1 and image.width * image.height <= MAX_PIXELS \
                and not degradations(image):
            return [source]
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number > max_pages:
                break
            page, dpi = clean_page(frame)
            path = source.with_name(f"{prefix}-{number}.png")
            page.save(path, dpi=(round(dpi), round(dpi)))
            out.append(path)
    return out


def main(argv: list[str]) -> int:
    """``SOURCE PREFIX MAX_PAGES``: exit status 0 and the pages written, one path a line; 2 when
    Pillow cannot read or clean the file (the caller then reads it as it is)."""
    source, prefix, max_pages = Path(argv[0]), argv[1], int(argv[2])
    try:
        pages = clean_file(source, prefix, max_pages)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        print(f"cannot clean {source.name}: {exc}", file=sys.stderr)
        return 2
    print("\n".join(str(p) for p in pages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
