"""What a blob is, from its own first bytes: the one place formats are sniffed.

A blob's own signature names its format, and it is handled as that format: an image is
decoded, a PDF is validated and kept whole, and anything else (a PostScript/EPS file, an
Office or e-mail file, an icon or texture container, …) is UNSUPPORTED_FORMAT with its
name. Nothing here ever looks for an image *inside* a blob: a PDF with an embedded JPEG
or an EPS with a TIFF preview is that container, never its thumbnail. (A proprietary
header before the image is a source's declared policy: see legacy_header.py.)
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from schemas.reasons import QuarantineError, Reason

IMAGE = "image"
PDF = "pdf"
FOREIGN = "foreign"


@dataclass(frozen=True)
class Sniffed:
    """A format named by its signature: a short code for lineage, its kind, and words for an operator."""

    code: str
    kind: str  # image | pdf | foreign
    description: str


#: Image signatures at byte 0 (WebP, BMP and the ISO-BMFF family are checked apart, below).
IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"MM\x00+", "TIFF"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG2000"),
    (b"\xff\x4f\xff\x51", "JPEG2000"),
)
IMAGE_FORMATS = frozenset({"TIFF", "JPEG", "PNG", "GIF", "BMP", "JPEG2000", "WEBP"})
#: What --allowed_formats may name: the images this migration decodes, and PDF, which it keeps whole.
KNOWN_FORMATS = IMAGE_FORMATS | {"PDF"}

#: Everything else with a signature at byte 0: named so an operator knows what the file is, never decoded.
FOREIGN_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xc5\xd0\xd3\xc6", "EPS", "an EPS file with a DOS binary header (PostScript and a preview)"),
    (b"%!PS-Adobe-", "POSTSCRIPT", "a PostScript file"),
    (b"%!", "POSTSCRIPT", "a PostScript file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2", "an OLE2 compound file (old Office or Outlook)"),
    (b"PK\x03\x04", "ZIP", "a ZIP or Office document"),
    (b"PK\x05\x06", "ZIP", "an empty ZIP archive"),
    (b"icns", "ICNS", "an Apple icon container"),
    (b"\x00\x00\x01\x00", "ICO", "a Windows icon container"),
    (b"\x00\x00\x02\x00", "CUR", "a Windows cursor container"),
    (b"DDS ", "DDS", "a DirectDraw texture container"),
    (b"\xabKTX 11\xbb\r\n\x1a\n", "KTX", "a Khronos texture container"),
    (b"\xabKTX 20\xbb\r\n\x1a\n", "KTX", "a Khronos texture container"),
    (b"8BPS", "PSD", "a Photoshop document"),
    (b"{\\rtf", "RTF", "an RTF document"),
    (b"AT&TFORM", "DJVU", "a DjVu document"),
    (b"\x97JB2\r\n\x1a\n", "JBIG2", "a JBIG2 file"),
    (b"\xd7\xcd\xc6\x9a", "WMF", "a Windows metafile"),
    (b"\xff\x0a", "JPEGXL", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEGXL", "a JPEG XL image"),
    (b"\x1f\x8b", "GZIP", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7Z", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR", "a RAR archive"),
    (b"MSH|", "HL7", "an HL7 v2 message"),
    (b"<?xml", "XML", "an XML document"),
)

#: RFC 822 header names that open an e-mail file (.eml), and the mbox "From " line.
_EMAIL_FIRST_LINE = re.compile(
    rb"(?i)^(?:From |(?:from|received|return-path|mime-version|message-id|delivered-to|date|subject|to|sender"
    rb"|reply-to|x-[a-z0-9-]+):[ \t])"
)
_EPS = re.compile(rb"%!PS-Adobe-\S+ EPSF")
_HTML = re.compile(rb"(?i)^\s*<(?:!doctype html|html)")
_BMP_INFO_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_ISO_BMFF_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"avif": "AVIF"}
#: OLE2 directory entry names (UTF-16) that say which application wrote the file.
_OLE2_STREAMS = (
    ("WordDocument", "DOC", "a Word document"),
    ("__substg1.0_", "MSG", "an Outlook e-mail"),
    ("PowerPoint Document", "PPT", "a PowerPoint presentation"),
    ("Workbook", "XLS", "an Excel workbook"),
)
_OOXML_PARTS = (
    (b"word/", "DOCX", "a Word document"),
    (b"xl/", "XLSX", "an Excel workbook"),
    (b"ppt/", "PPTX", "a PowerPoint presentation"),
)
_CHEAP_LOOK_BYTES = 64 * 1024


def _is_bmp(data: bytes) -> bool:
    """'BM' alone is two letters a text header could start with: the info header's size must be a real one."""
    return len(data) >= 18 and data[:2] == b"BM" and struct.unpack_from("<I", data, 14)[0] in _BMP_INFO_HEADER_SIZES


def _zip_member_names(data: bytes) -> list[bytes]:
    """Names of the local file headers in the first 64 KiB: cheap, and enough to tell an Office file."""
    window, names, start = data[:_CHEAP_LOOK_BYTES], [], 0
    while len(names) < 64 and (at := window.find(b"PK\x03\x04", start)) >= 0 and at + 30 <= len(window):
        length = struct.unpack_from("<H", window, at + 26)[0]
        names.append(window[at + 30 : at + 30 + length])
        start = at + 4
    return names


def _zip(data: bytes) -> Sniffed:
    names = _zip_member_names(data)
    if names and names[0] == b"mimetype" and b"application/vnd.oasis.opendocument" in data[30:120]:
        return Sniffed("ODF", FOREIGN, "an OpenDocument file")
    for prefix, code, description in _OOXML_PARTS:
        if any(name.startswith(prefix) for name in names):
            return Sniffed(code, FOREIGN, description)
    if b"[Content_Types].xml" in names:
        return Sniffed("OOXML", FOREIGN, "an Office Open XML document")
    return Sniffed("ZIP", FOREIGN, "a ZIP or Office document")


def _ole2(data: bytes) -> Sniffed:
    window = data[: 4 * _CHEAP_LOOK_BYTES]
    for stream, code, description in _OLE2_STREAMS:
        if stream.encode("utf-16-le") in window:
            return Sniffed(code, FOREIGN, description)
    return Sniffed("OLE2", FOREIGN, "an OLE2 compound file (old Office or Outlook)")


def _dos_eps(data: bytes) -> Sniffed:
    """The DOS EPS header: offsets and lengths of the PostScript, a WMF preview and a TIFF preview."""
    if len(data) >= 28:
        wmf_length, _, tiff_length = struct.unpack_from("<III", data, 16)
        preview = "a TIFF preview" if tiff_length else "a WMF preview" if wmf_length else "no preview"
        return Sniffed("EPS", FOREIGN, f"an EPS file with a DOS binary header (PostScript and {preview})")
    return Sniffed("EPS", FOREIGN, "an EPS file with a DOS binary header")


def _riff(data: bytes) -> Sniffed:
    form = data[8:12]
    if form == b"WEBP":
        return Sniffed("WEBP", IMAGE, "a WebP image")
    names = {b"AVI ": ("AVI", "an AVI video (RIFF)"), b"WAVE": ("WAV", "a WAV audio file (RIFF)")}
    code, description = names.get(form, ("RIFF", f"a RIFF container ({form.decode('latin-1')!r})"))
    return Sniffed(code, FOREIGN, description)


def sniff(data: bytes) -> Sniffed | None:
    """The format the blob's own first bytes name, or None when they name none we know."""
    if data[128:132] == b"DICM":
        return Sniffed("DICOM", FOREIGN, "a DICOM file")
    if data.startswith(b"%PDF"):
        return Sniffed("PDF", PDF, "a PDF document")
    for signature, code in IMAGE_SIGNATURES:
        if data.startswith(signature):
            return Sniffed(code, IMAGE, f"a {code} image")
    if _is_bmp(data):
        return Sniffed("BMP", IMAGE, "a BMP image")
    if data.startswith(b"RIFF") and len(data) >= 12:
        return _riff(data)
    if data[4:8] == b"ftyp" and data[8:12] in _ISO_BMFF_BRANDS:
        code = _ISO_BMFF_BRANDS[data[8:12]]
        return Sniffed(code, FOREIGN, f"a {code} image (not a format this migration decodes)")
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole2(data)
    if data.startswith(b"PK\x03\x04"):
        return _zip(data)
    if data.startswith(b"\xc5\xd0\xd3\xc6"):
        return _dos_eps(data)
    if _EPS.match(data[:80]):
        return Sniffed("EPS", FOREIGN, "an EPS file (PostScript)")
    if data[:4] == b"\x01\x00\x00\x00" and data[40:44] == b" EMF":
        return Sniffed("EMF", FOREIGN, "a Windows enhanced metafile")
    for signature, code, description in FOREIGN_SIGNATURES:
        if data.startswith(signature):
            return Sniffed(code, FOREIGN, description)
    if _EMAIL_FIRST_LINE.match(data[:200]):
        return Sniffed("EMAIL", FOREIGN, "an e-mail message (RFC 822)")
    if _HTML.match(data[:200]):
        return Sniffed("HTML", FOREIGN, "an HTML document")
    return None


def sniff_format(data: bytes) -> str | None:
    """The image format named by the header bytes, or None (a PDF or any other format is not an image)."""
    found = sniff(data)
    return found.code if found is not None and found.kind == IMAGE else None


def unsupported(data: bytes, found: Sniffed | None = None, hint: str = "") -> QuarantineError:
    """UNSUPPORTED_FORMAT naming what the blob is, or its first bytes when it names nothing we know."""
    found = found if found is not None else sniff(data)
    if found is not None:
        return QuarantineError(Reason.UNSUPPORTED_FORMAT, f"{found.description} ({found.code}): not an image or a PDF")
    return QuarantineError(Reason.UNSUPPORTED_FORMAT, f"no known signature (starts {data[:8].hex()}){hint}")
