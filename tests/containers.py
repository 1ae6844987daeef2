"""Real container and document files for tests, each made the way its format says (pikepdf, Pillow, zipfile).

Each holds a real image inside it (a JPEG, a TIFF preview, a PNG icon), which is what made them dangerous:
a search for an image signature finds the thumbnail and migrates it as if it were the document.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pikepdf
from PIL import Image

from tests.images import bilevel_page, encode


def blank_pdf(pages: int = 3, **save: object) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    buffer = io.BytesIO()
    pdf.save(buffer, **save)
    return buffer.getvalue()


def encrypted_pdf(user_password: str = "secret") -> bytes:
    return blank_pdf(2, encryption=pikepdf.Encryption(owner="owner-pw", user=user_password))


def pdf_with_jpeg(seed: int = 0) -> bytes:
    """A scanned letter as a PDF: Pillow embeds the page as a DCT (JPEG) image."""
    return encode(bilevel_page(seed=seed).convert("RGB"), "PDF", resolution=200.0)


def pdf_with_damaged_stream() -> bytes:
    """A PDF whose Flate-compressed content stream no longer inflates: it opens, but a page cannot be read."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].Contents = pdf.make_stream(b"0 0 m 100 100 l S " * 50)
    buffer = io.BytesIO()
    pdf.save(buffer, compress_streams=True)
    data = bytearray(buffer.getvalue())
    start = data.find(b"/FlateDecode >>\nstream\n") + len(b"/FlateDecode >>\nstream\n")
    data[start + 2 : start + 20] = b"\xff" * 18
    return bytes(data)


def pdf_with_broken_xref(pages: int = 3) -> bytes:
    """A PDF whose cross-reference table points at the wrong bytes: qpdf could repair it, so it is damaged."""
    data = bytearray(blank_pdf(pages))
    at = data.rfind(b"\nxref\n") + len(b"\nxref\n0 ")
    data[at + 20 : at + 30] = b"9999999999"
    return bytes(data)


def eps_with_tiff_preview() -> bytes:
    """A DOS binary EPS: the C5D0D3C6 header, the PostScript, then a TIFF preview of the figure."""
    postscript = (
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 240 320\n%%EndComments\n"
        b"newpath 10 10 moveto 200 300 lineto stroke\nshowpage\n%%EOF\n"
    )
    preview = encode(bilevel_page(), "TIFF", compression="group4")
    header_length = 30
    header = b"\xc5\xd0\xd3\xc6" + struct.pack(
        "<IIIIII", header_length, len(postscript), 0, 0, header_length + len(postscript), len(preview)
    )
    return header + b"\xff\xff" + postscript + preview


def icns_with_png() -> bytes:
    """An Apple icon container ('icns', big-endian lengths) holding one 'ic07' element: a 128×128 PNG."""
    png = encode(Image.new("RGB", (128, 128), (200, 30, 30)), "PNG")
    element = b"ic07" + struct.pack(">I", 8 + len(png)) + png
    return b"icns" + struct.pack(">I", 8 + len(element)) + element


def ico_with_png() -> bytes:
    return encode(Image.new("RGBA", (64, 64), (0, 90, 200, 255)), "ICO", sizes=[(64, 64)])


def dds_texture() -> bytes:
    return encode(Image.new("RGBA", (64, 64), (0, 90, 200, 255)), "DDS")


def docx_with_jpeg() -> bytes:
    """An Office Open XML document with a photograph stored uncompressed inside it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/media/image1.jpeg", encode(bilevel_page().convert("L"), "JPEG"))
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>', zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def zip_with_jpeg() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("scan.jpg", encode(bilevel_page().convert("L"), "JPEG"))
    return buffer.getvalue()


def ole2_word_document() -> bytes:
    """The first sectors of an old Word file: the OLE2 signature and a directory naming its WordDocument stream."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    directory = "Root Entry".encode("utf-16-le").ljust(128, b"\x00") + "WordDocument".encode("utf-16-le")
    return header + directory.ljust(1024, b"\x00")


def email_with_attachment() -> bytes:
    jpeg = encode(bilevel_page().convert("L"), "JPEG")
    return (
        b"From: ward7@example.nhs.uk\r\nTo: records@example.nhs.uk\r\nSubject: Discharge letter\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
        b"Content-Type: image/jpeg\r\nContent-Transfer-Encoding: binary\r\n\r\n" + jpeg + b"\r\n--XX--\r\n"
    )


def riff_avi() -> bytes:
    body = b"AVI LIST" + struct.pack("<I", 4) + b"hdrl"
    return b"RIFF" + struct.pack("<I", len(body)) + body


#: Containers that hold an image (or are one), none of which may ever be migrated as that image.
CONTAINERS: dict[str, tuple[bytes, str]] = {
    "eps-with-tiff-preview": (eps_with_tiff_preview(), "EPS"),
    "icns-with-png": (icns_with_png(), "ICNS"),
    "ico-with-png": (ico_with_png(), "ICO"),
    "dds-texture": (dds_texture(), "DDS"),
    "docx-with-jpeg": (docx_with_jpeg(), "DOCX"),
    "zip-with-jpeg": (zip_with_jpeg(), "ZIP"),
    "ole2-word": (ole2_word_document(), "DOC"),
    "email-with-jpeg": (email_with_attachment(), "EMAIL"),
    "riff-avi": (riff_avi(), "AVI"),
}
