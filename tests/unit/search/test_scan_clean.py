"""Cleaning of scans before OCR (search.scan_clean): each step on drawn pages, and a skewed, sealed,
low-contrast office scan read through the limited extraction child with a measured word accuracy."""

from __future__ import annotations

import io
import random
import shutil

import pytest
from PIL import Image, ImageDraw, ImageFont, ImageStat

from search.sandbox import ExtractionLimitExceeded, ExtractionLimits, extract_isolated
from search.scan_clean import (
    MAX_PIXELS,
    clean_page,
    degradations,
    despeckle,
    drop_colour_ink,
    flatten,
    skew_angle,
    upscale,
)
from tests.fixtures.intake_docs import born_digital
from tests.fixtures.office_scans import (
    low_contrast,
    optics,
    render,
    sign_and_seal,
    signer_box,
    skew,
    text_layout,
    word_accuracy,
)

needs_ocr = pytest.mark.skipif(shutil.which("tesseract") is None or shutil.which("pdftoppm") is None,
                               reason="tesseract/pdftoppm not installed (make sysdeps)")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#: word accuracy (accents kept) of the office scan below: measured 0.983 cleaned (0.992 accents
#: folded), 0.0 read as it was before cleaning (Tesseract's global threshold loses the grey page)
CLEANED_ACCURACY = 0.90


def _lines_page(size: tuple[int, int] = (1200, 900)) -> Image.Image:
    page = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 28)
    for i in range(12):
        draw.text((60, 60 + 60 * i), "Căn cứ Luật Tổ chức chính quyền địa phương", font=font, fill=(0, 0, 0))
    return page


@pytest.mark.parametrize("degrees", [-2.5, -1.0, 1.5, 3.0])
def test_the_skew_angle_is_found(degrees: float) -> None:
    page = _lines_page().rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
    assert skew_angle(page.convert("L")) == pytest.approx(-degrees, abs=0.3)


def test_seal_and_signature_ink_turns_to_paper_but_black_print_under_it_stays() -> None:
    page = Image.new("RGB", (100, 400), (245, 245, 245))
    page.paste((200, 35, 45), (0, 200, 50, 300))  # seal ink, lower part of the page
    page.paste((30, 45, 140), (50, 200, 100, 300))  # signature ink
    page.paste((20, 5, 5), (0, 350, 50, 360))  # black print under the seal
    page.paste((200, 35, 45), (0, 20, 50, 60))  # a red urgency stamp at the top
    grey = drop_colour_ink(page)
    assert grey.getpixel((10, 250)) >= 245 and grey.getpixel((60, 250)) >= 245
    assert grey.getpixel((10, 355)) <= 40
    assert grey.getpixel((10, 30)) <= 100  # kept as dark ink


def test_grey_unevenly_lit_paper_becomes_white() -> None:
    page = low_contrast(_lines_page(), random.Random(3)).convert("L")
    paper = (0, 820, 1200, 900)  # below the text
    assert ImageStat.Stat(page.crop(paper)).mean[0] < 200  # grey before
    flat = flatten(page)
    assert ImageStat.Stat(flat.crop(paper)).mean[0] > 240
    assert flat.crop((60, 60, 700, 100)).getextrema()[0] < 60  # the text is dark


def test_lone_specks_go_but_the_dot_below_a_letter_stays() -> None:
    page = Image.new("L", (600, 300), 255)
    draw = ImageDraw.Draw(page)
    draw.text((40, 40), "Hạnh phúc", font=ImageFont.truetype(FONT, 60), fill=0)
    draw.ellipse((400, 200, 406, 206), fill=0)  # a speck on empty paper
    cleaned = despeckle(page)
    assert cleaned.getpixel((403, 203)) == 255
    assert cleaned.crop((0, 0, 600, 150)).tobytes() == page.crop((0, 0, 600, 150)).tobytes()


def test_a_low_resolution_page_is_scaled_up_and_a_huge_one_is_left_alone() -> None:
    small, dpi = upscale(Image.new("L", (1240, 1754), 255), 150.0)
    assert small.size == (2480, 3508) and dpi == 300
    same, dpi = upscale(Image.new("L", (2480, 3508), 255), 300.0)
    assert same.size == (2480, 3508) and dpi == 300
    huge = Image.new("L", (MAX_PIXELS // 4000 + 1, 4000), 255)
    assert clean_page(huge)[0].size == huge.size


def test_only_a_degraded_page_is_cleaned() -> None:
    plain = _lines_page()
    assert degradations(plain) == []
    assert clean_page(plain)[0].tobytes() == plain.convert("L").tobytes()  # read as it is
    sealed = plain.copy()
    sealed.paste((200, 35, 45), (300, 500, 500, 700))
    assert "colour ink" in degradations(sealed)
    assert degradations(skew(plain, 2.0)) == ["skew"]
    assert "grey paper" in degradations(low_contrast(plain, random.Random(1)))


def _office_scan(seed: int = 7) -> tuple[bytes, list[str]]:
    """Page 1 of a Decree 30 document scanned at 200 dpi in colour: signed and sealed over the
    signer's name, grey paper with light falling off, toner faded, 2.5° askew; a PDF of JPEG."""
    rng = random.Random(seed)
    pdf, truth = born_digital(rng, 0)
    image = render(pdf, 200)
    image = sign_and_seal(image, rng, signer_box(pdf, truth["signer_name"], 200), truth["issuing_body"], 200)
    image = skew(optics(low_contrast(image, rng), rng), 2.5)
    out = io.BytesIO()
    image.save(out, "PDF", resolution=200)
    return out.getvalue(), [" ".join(w[0] for w in line) for line in text_layout(pdf)]


@needs_ocr
def test_a_skewed_sealed_low_contrast_scan_is_read_within_the_limits() -> None:
    data, reference = _office_scan()
    result = extract_isolated(data, "application/pdf")
    assert result.method == "ocr" and result.ocr_pages == (1,)
    assert word_accuracy(reference, result.text) >= CLEANED_ACCURACY, result.text
    with pytest.raises(ExtractionLimitExceeded, match="took more than"):  # cleaning and OCR: under the wall clock
        extract_isolated(data, "application/pdf", limits=ExtractionLimits(wall_seconds=2))
    with pytest.raises(ExtractionLimitExceeded):  # and under the page limit
        extract_isolated(data, "application/pdf", limits=ExtractionLimits(max_pages=0))
