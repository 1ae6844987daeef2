"""The two dumps benchmarks/floor.py measures on: a mixed one like the demo's, and a bilevel archive.

- mixed: sample dumps (samples/dump.py: Group 4, LZW and JPEG-in-TIFF, JPEG, PNG, BMP, GIF, a packed volume,
  duplicates and damaged blobs), 43 canonical documents each, one --manifest per dump.
- bilevel: what most of a real scanned-records archive is: multi-page Group 4 letters, A4 at 300 dpi, one TIFF
  each, 1 to 5 pages (mostly 2-3), a valid NHS number per patient, in one canonical manifest.

Both are written once into a work folder and reused by later runs (generating is slower than migrating).
Pages are rendered in a process pool: generation is set-up, not what is measured.
"""

from __future__ import annotations

import csv
import math
import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SAMPLE_DUMP_DOCUMENTS = 43
LETTER_PAGES = (1, 2, 2, 3, 3, 3, 4, 5)
A4_300_DPI = (2480, 3508)
#: Letters rendered per task: enough to amortise a task, few enough to spread over the pool.
_LETTERS_PER_TASK = 8


def _sample_dump(folder: str, seed: int, page_size: tuple[int, int]) -> str:
    from samples.dump import write_sample_dump

    return write_sample_dump(folder, seed=seed, page_size=page_size).manifest_path


def mixed_manifests(work: Path, documents: int, page_size: tuple[int, int], processes: int) -> list[str]:
    """Enough sample dumps for about DOCUMENTS canonical documents; their manifests."""
    dumps = max(1, math.ceil(documents / SAMPLE_DUMP_DOCUMENTS))
    folders = [work / f"mixed-{page_size[0]}x{page_size[1]}" / f"dump-{seed}" for seed in range(dumps)]
    missing = [seed for seed, folder in enumerate(folders) if not (folder / "manifest.csv").exists()]
    for seed in missing:  # a dump cut off half-written is written again
        shutil.rmtree(folders[seed], ignore_errors=True)
    if missing:
        with ProcessPoolExecutor(max_workers=processes) as pool:
            done = pool.map(_sample_dump, [str(folders[s]) for s in missing], missing, [page_size] * len(missing))
            list(done)
    return [str(folder / "manifest.csv") for folder in folders]


def _letters(folder: str, first: int, count: int) -> list[list[str]]:
    """Render letters FIRST..FIRST+COUNT-1 as Group 4 TIFFs; their manifest rows."""
    from samples.identities import random_nhs_number
    from samples.pages import HOSPITALS, PageText, encode_tiff, render_page

    rows = []
    for number in range(first, first + count):
        rng = random.Random(number)
        patient = random_nhs_number(random.Random(number // 3))  # about three letters per patient
        pages = rng.choice(LETTER_PAGES)
        hospital = rng.choice(HOSPITALS)
        text = PageText(
            "Clinic Letter", f"Patient {number // 3}", f"H{number:07d}", "2003-04-05", f"L{number}", hospital
        )
        images = [
            render_page(rng, kind="bilevel", size=A4_300_DPI, dpi=300, text=text, page_number=p, page_total=pages)
            for p in range(1, pages + 1)
        ]
        name = f"letters/L{number:07d}.tif"
        Path(folder, name).write_bytes(encode_tiff(images, compression="group4", dpi=300))
        rows.append(["SCAN-ARCHIVE", f"L{number:07d}", name, patient, str(pages)])
    return rows


def bilevel_manifest(work: Path, documents: int, processes: int) -> str:
    """A manifest of DOCUMENTS Group 4 letters at 300 dpi (written on first use)."""
    folder = work / f"bilevel-{documents}"
    manifest = folder / "manifest.csv"
    if manifest.exists():
        return str(manifest)
    (folder / "letters").mkdir(parents=True, exist_ok=True)
    starts = list(range(0, documents, _LETTERS_PER_TASK))
    counts = [min(_LETTERS_PER_TASK, documents - start) for start in starts]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        chunks = list(pool.map(_letters, [str(folder)] * len(starts), starts, counts))
    partial = folder / "manifest.csv.partial"
    with open(partial, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "document_id", "blob_uri", "nhs_number", "page_count"])
        for rows in chunks:
            writer.writerows(rows)
    partial.rename(manifest)  # only a finished dump is reused
    return str(manifest)
