"""The codec floor: a plain single-process Pillow loop doing a migration's per-page work, and nothing else.

    python -m benchmarks.floor_loop --output DIR MANIFEST [MANIFEST ...]

For each canonical manifest row: read the byte range, SHA-256 it, open it with Pillow, and for each page decode
it, encode it losslessly (Group 4 TIFF for bilevel, PNG for palette, Deflate TIFF otherwise), decode that again,
compare the pixels, and write the object under the SHA-256 of its bytes. A document that fails anywhere is
written whole to quarantine/. No Beam, no lineage, no isolation, no page checks, no de-duplication: what any
migration must at least spend, so the pipeline's time can be read against it (benchmarks/floor.py).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import time
from pathlib import Path

from PIL import Image

Image.MAX_IMAGE_PIXELS = None

_ENCODINGS = {
    "1": ("TIFF", "tif", {"compression": "group4"}),
    "P": ("PNG", "png", {}),
}
_DEFAULT = ("TIFF", "tif", {"compression": "tiff_adobe_deflate"})


def _read(manifest: Path, row: dict[str, str]) -> bytes:
    path = Path(row["blob_uri"])
    path = path if path.is_absolute() else manifest.parent / path
    with open(path, "rb") as handle:
        if row.get("offset"):
            handle.seek(int(row["offset"]))
        return handle.read(int(row["length"])) if row.get("length") else handle.read()


def _write(folder: Path, data: bytes, extension: str) -> None:
    name = hashlib.sha256(data).hexdigest()
    target = folder / name[:2] / f"{name}.{extension}"
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)


def migrate_document(data: bytes, objects: Path) -> int:
    """Every page decoded, encoded losslessly, decoded again, compared, written; the number of pages."""
    pages = 0
    with Image.open(io.BytesIO(data)) as image:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            image.load()
            pillow_format, extension, options = _ENCODINGS.get(image.mode, _DEFAULT)
            buffer = io.BytesIO()
            image.save(buffer, pillow_format, **options)
            encoded = buffer.getvalue()
            with Image.open(io.BytesIO(encoded)) as check:
                check.load()
                if check.mode != image.mode or check.tobytes() != image.tobytes():
                    raise ValueError(f"page {index + 1} changed")
            _write(objects, encoded, extension)
            pages += 1
    return pages


def run(manifests: list[str], output: Path) -> dict[str, int | float]:
    objects, quarantine = output / "objects", output / "quarantine"
    quarantine.mkdir(parents=True, exist_ok=True)
    counts = {"documents": 0, "pages": 0, "quarantined": 0}
    for manifest in map(Path, manifests):
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                counts["documents"] += 1
                data = b""
                try:
                    data = _read(manifest, row)
                    hashlib.sha256(data).hexdigest()
                    counts["pages"] += migrate_document(data, objects)
                except Exception:  # the floor quarantines anything, as the pipeline would
                    counts["quarantined"] += 1
                    (quarantine / f"{counts['documents']}.bin").write_bytes(data)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("manifests", nargs="+")
    args = parser.parse_args()
    started = time.monotonic()
    counts = run(args.manifests, Path(args.output))
    print(json.dumps({**counts, "seconds": round(time.monotonic() - started, 2)}))


if __name__ == "__main__":
    main()
