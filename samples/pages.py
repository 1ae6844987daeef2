"""Synthetic scanned pages, and the file formats legacy systems stored them in.

The pages only need to look like scans (letterhead, lines of text, a signature, speckle) and to differ from one
document to the next; every mark comes from the caller's seeded RNG so a seed always gives the same pixels.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from transforms.imaging.tiff_structure import zero_unreferenced_tiff_bytes

PageKind = Literal["bilevel", "gray", "colour"]
Colour = int | tuple[int, int, int]

HOSPITALS = (
    "St Elsewhere's Hospital NHS Foundation Trust",
    "Riverside General Infirmary",
    "Northgate Community Hospital",
    "Queen Adelaide Memorial Hospital",
)
#: Words for the body text, in one string so the list reads as prose.
_WORD_TEXT = (
    "patient reviewed in clinic today reports improvement since last appointment no new symptoms "
    "observations stable blood pressure within normal limits chest clear on auscultation abdomen soft non "
    "tender plan to continue current medication review in six weeks referred for further imaging bloods "
    "taken full blood count renal function liver function thyroid discussed options with patient and "
    "family consent obtained wound healing well sutures removed mobilising independently pain controlled "
    "with simple analgesia follow up arranged with general practitioner discharge letter sent results "
    "reviewed unremarkable awaiting report"
)
_SENTENCE_WORDS = tuple(_WORD_TEXT.split())
_SECTION_LABELS = ("History", "Examination", "Impression", "Plan", "Medication", "Investigations", "Diagnosis")


@dataclass(frozen=True)
class PageText:
    """What a page says about its document: shared by all pages of one document."""

    heading: str
    patient_name: str
    hospital_number: str
    document_date: str
    reference: str
    hospital: str = HOSPITALS[0]


@dataclass(frozen=True)
class _Ink:
    """The colours one kind of page is drawn with (the canvas mode decides int or RGB)."""

    mode: str
    paper: Colour
    text: Colour
    faint: Colour
    accent: Colour
    logo_text: Colour


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The bundled font at a size; cached because loading it is the slowest part of a small page."""
    return ImageFont.load_default(size=size)


def _ink(kind: PageKind, rng: random.Random) -> _Ink:
    """Paper and ink for a kind: bilevel is pure black on white, grey pages get a slight paper tone."""
    if kind == "bilevel":
        return _Ink("L", 255, 0, 0, 0, 255)
    if kind == "gray":
        tone = rng.randint(226, 240)
        return _Ink("L", tone, rng.randint(20, 45), tone - 70, 40, tone)
    paper = (rng.randint(242, 250), rng.randint(238, 246), rng.randint(222, 234))
    return _Ink("RGB", paper, (25, 25, 40), (150, 150, 160), (0, 94, 184), (255, 255, 255))


def render_page(
    rng: random.Random,
    *,
    kind: PageKind,
    size: tuple[int, int],
    dpi: int,
    text: PageText,
    page_number: int,
    page_total: int,
    photo_letterhead: bool = False,
) -> Image.Image:
    """One scanned page: mode "1" for bilevel, "L" for gray, "RGB" for colour, with ``info["dpi"]`` set."""
    ink = _ink(kind, rng)
    width, height = size
    image = Image.new(ink.mode, size, ink.paper)
    draw = ImageDraw.Draw(image)
    unit = max(height / 100.0, 3.0)
    margin = int(width * 0.08)
    top = _draw_letterhead(image, draw, rng, ink, text, margin, unit, photo_letterhead and kind == "colour")
    top = _draw_meta(draw, ink, text, margin, top, unit, page_number)
    bottom = int(height - unit * (14 if page_number == page_total else 6))
    _draw_body(draw, rng, ink, margin, top, bottom, width - margin, unit)
    if page_number == page_total:
        _draw_signature(draw, rng, ink, margin, bottom + unit * 2, unit)
    _draw_footer(draw, ink, text, margin, height - unit * 3, page_number, page_total, unit)
    _draw_scan_marks(draw, rng, ink, size, unit)
    if kind == "bilevel":
        image = image.convert("1", dither=Image.Dither.NONE)
    image.info["dpi"] = (dpi, dpi)
    return image


def _draw_letterhead(
    image: Image.Image,
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    ink: _Ink,
    text: PageText,
    margin: int,
    unit: float,
    photo: bool,
) -> float:
    """Hospital name and an "NHS" logo box; returns the y where the page body may start."""
    width = image.width
    band = int(unit * 9)
    if photo:
        _paste_photo_band(image, rng, band)
    logo_w, logo_h = int(unit * 9), int(unit * 4)
    logo_x, logo_y = width - margin - logo_w, int(unit * 2.5)
    draw.rectangle((logo_x, logo_y, logo_x + logo_w, logo_y + logo_h), fill=ink.accent)
    draw.text((logo_x + unit, logo_y + unit * 0.5), "NHS", fill=ink.logo_text, font=_font(int(unit * 2.8)))
    name_fill = ink.logo_text if photo else ink.accent
    draw.text((margin, unit * 3), text.hospital, fill=name_fill, font=_font(int(unit * 2.2)))
    address = f"{rng.randint(1, 250)} Hospital Road, Anytown AN{rng.randint(1, 20)} {rng.randint(1, 9)}XY"
    draw.text((margin, unit * 5.8), address, fill=name_fill, font=_font(int(unit * 1.3)))
    draw.line((margin, band + unit, width - margin, band + unit), fill=ink.text, width=max(1, int(unit / 4)))
    return band + unit * 2.5


def _paste_photo_band(image: Image.Image, rng: random.Random, band: int) -> None:
    """A soft colour photograph across the top, as some trusts printed on letterhead (lossy-JPEG friendly)."""
    width = image.width
    sky = (rng.randint(60, 120), rng.randint(110, 170), rng.randint(180, 230))
    ground = (rng.randint(40, 90), rng.randint(100, 150), rng.randint(40, 80))
    photo = ImageOps.colorize(Image.linear_gradient("L").resize((width, band)), sky, ground)
    shapes = ImageDraw.Draw(photo)
    for _ in range(6):
        x, y = rng.randint(0, width), rng.randint(0, band)
        r = rng.randint(band // 6, band // 2 + 1)
        colour = (rng.randint(150, 255), rng.randint(120, 230), rng.randint(60, 200))
        shapes.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
    image.paste(photo.filter(ImageFilter.GaussianBlur(max(1, band // 25))), (0, 0))


def _draw_meta(
    draw: ImageDraw.ImageDraw, ink: _Ink, text: PageText, margin: int, top: float, unit: float, page_number: int
) -> float:
    """Title and patient details (repeated, shorter, on continuation pages, as clinic templates do)."""
    heading = text.heading if page_number == 1 else f"{text.heading} (continued)"
    draw.text((margin, top), heading, fill=ink.text, font=_font(int(unit * 2.4)))
    y = top + unit * 3.5
    details = [f"Patient: {text.patient_name}", f"Hospital No: {text.hospital_number}"]
    if page_number == 1:
        details += [f"Date: {text.document_date}", f"Our ref: {text.reference}"]
    for line in details:
        draw.text((margin, y), line, fill=ink.text, font=_font(int(unit * 1.4)))
        y += unit * 1.9
    return y + unit


def _draw_body(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    ink: _Ink,
    left: int,
    top: float,
    bottom: float,
    right: int,
    unit: float,
) -> None:
    """Paragraphs of clinical-sounding words, wrapped to the margins, until the page is full."""
    font = _font(max(8, int(unit * 1.3)))
    line_height = max(font.size * 1.35, 10.0) if isinstance(font, ImageFont.FreeTypeFont) else 11.0
    chars = max(20, int((right - left) / (font.getlength("abcdefghijklmnopqrstuvwxyz ") / 27)))
    y = top
    while y + line_height < bottom:
        if rng.random() < 0.35:
            draw.text((left, y), f"{rng.choice(_SECTION_LABELS)}:", fill=ink.text, font=font)
            y += line_height
        for line in _paragraph(rng, chars, rng.randint(2, 6)):
            if y + line_height >= bottom:
                return
            draw.text((left, y), line, fill=ink.text, font=font)
            y += line_height
        y += line_height * 0.6


def _paragraph(rng: random.Random, chars: int, line_count: int) -> list[str]:
    """Random words wrapped to ``chars``; the last line is short, as a paragraph's last line is."""
    lines = []
    for index in range(line_count):
        limit = chars if index < line_count - 1 else rng.randint(chars // 4, chars)
        words: list[str] = []
        while len(" ".join(words)) < limit - 10:
            words.append(rng.choice(_SENTENCE_WORDS))
        line = " ".join(words)
        lines.append(line[:1].upper() + line[1:] + ("." if index == line_count - 1 else ""))
    return lines


def _draw_signature(
    draw: ImageDraw.ImageDraw, rng: random.Random, ink: _Ink, left: int, top: float, unit: float
) -> None:
    """A scribbled signature over a typed name: a random walk, wide enough to read as handwriting."""
    x, y = left + unit * 2, top + unit * 3
    points = [(x, y)]
    for _ in range(rng.randint(14, 24)):
        x += rng.uniform(0.3, 1.4) * unit
        y = top + unit * 3 + rng.uniform(-2.2, 2.2) * unit
        points.append((x, y))
    draw.line(points, fill=ink.text, width=max(1, int(unit / 3)), joint="curve")
    names = ("Dr A. Khan", "Dr J. Smith", "Mr P. O'Neill", "Ms R. Patel", "Dr E. Williams", "Sister M. Jones")
    draw.text((left, top + unit * 7), rng.choice(names), fill=ink.text, font=_font(max(8, int(unit * 1.3))))


def _draw_footer(
    draw: ImageDraw.ImageDraw,
    ink: _Ink,
    text: PageText,
    margin: int,
    y: float,
    page_number: int,
    page_total: int,
    unit: float,
) -> None:
    """Page numbering and the reference, which keep every page of every document distinct."""
    footer = f"{text.reference}    Page {page_number} of {page_total}"
    draw.text((margin, y), footer, fill=ink.text, font=_font(max(8, int(unit * 1.1))))


def _draw_scan_marks(
    draw: ImageDraw.ImageDraw, rng: random.Random, ink: _Ink, size: tuple[int, int], unit: float
) -> None:
    """Speckle noise, and sometimes punch holes, that a flatbed scanner picks up."""
    width, height = size
    specks = [(rng.randrange(width), rng.randrange(height)) for _ in range(max(8, width * height // 9000))]
    draw.point(specks, fill=ink.faint)
    for x, y in specks[::7]:
        draw.rectangle((x, y, x + 1, y + 1), fill=ink.faint)
    if rng.random() < 0.3:
        radius = unit * 1.2
        for centre in (height * 0.3, height * 0.7):
            x = unit * 2
            draw.ellipse((x - radius, centre - radius, x + radius, centre + radius), fill=ink.faint)


def encode_tiff(pages: list[Image.Image], *, compression: str, dpi: int, quality: int | None = None) -> bytes:
    """A (multi-page) TIFF with the given compression ("group4", "tiff_lzw", "jpeg")."""
    options: dict[str, object] = {"compression": compression, "dpi": (dpi, dpi)}
    if quality is not None:
        options["quality"] = quality
    if len(pages) > 1:
        options.update(save_all=True, append_images=pages[1:])
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", **options)
    return zero_unreferenced_tiff_bytes(buffer.getvalue())


#: Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, ..., IFD, LONG8).
def encode_image(page: Image.Image, image_format: str, *, dpi: int, **options: object) -> bytes:
    """A single-page PNG, JPEG (baseline), BMP or GIF; GIF has no resolution field so gets no dpi."""
    if image_format != "GIF":
        options["dpi"] = (dpi, dpi)
    buffer = io.BytesIO()
    page.save(buffer, image_format, **options)
    return buffer.getvalue()
