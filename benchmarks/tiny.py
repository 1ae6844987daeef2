"""What the pipeline costs per document beyond the codecs: many tiny one-page documents.

    python -m benchmarks.tiny --documents 10000 [--work DIR] [Beam options …]

Writes DOCUMENTS distinct one-page bilevel Group 4 TIFFs (96×32 pixels, a few hundred bytes each) packed into
one volume file at byte offsets, with a canonical manifest (a valid NHS number each, so patient keys and
de-duplication run as on a real archive), then migrates them in one run. With almost no codec work left, what is
measured is Beam, the shuffles, lineage, object and index-record writes, isolation and the launcher: seconds and
CPU per 1,000 documents, and peak RSS of the launcher, Beam workers and decoder children. The dump is kept in
--work and reused.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from benchmarks.process_tree import first_file_time, load_average, run_tree
from samples.identities import random_nhs_number

_REPO = str(Path(__file__).resolve().parent.parent)


def tiny_page(number: int) -> bytes:
    """A 96×32 Group 4 page whose marks spell NUMBER in binary: every document's pixels differ."""
    image = Image.new("1", (96, 32), 1)
    draw = ImageDraw.Draw(image)
    for bit in range(24):
        if number >> bit & 1:
            draw.rectangle((4 + bit * 3, 8, 5 + bit * 3, 23), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, "TIFF", compression="group4", dpi=(200, 200))
    return buffer.getvalue()


def write_dump(folder: Path, documents: int) -> str:
    """The volume and its manifest (written once; a half-written dump is written again)."""
    manifest = folder / "manifest.csv"
    if manifest.exists():
        return str(manifest)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(documents)
    patients = [random_nhs_number(rng) for _ in range(max(1, documents // 4))]
    partial = folder / "manifest.csv.partial"
    with open(folder / "volume.dat", "wb") as volume, open(partial, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "document_id", "blob_uri", "offset", "length", "nhs_number", "page_count"])
        for number in range(documents):
            page = tiny_page(number)
            writer.writerow(
                ["TINY", f"T{number:08d}", "volume.dat", volume.tell(), len(page), patients[number % len(patients)], 1]
            )
            volume.write(page)
    partial.rename(manifest)
    return str(manifest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--work", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "edms-tiny"))
    args, beam_args = parser.parse_known_args()
    work = Path(args.work).resolve()
    manifest = write_dump(work / f"dump-{args.documents}", args.documents)
    output = work / f"out-{args.documents}"
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, "-m", "pipelines.migrate", "--manifest", manifest, "--output", str(output), *beam_args]
    run = run_tree(command, cwd=_REPO)
    summary = json.loads(next((output / "lineage").glob("summary-*.json")).read_text())
    documents = summary["totals"]["manifest_documents"]
    first = first_file_time(output / "objects")
    thousands = documents / 1000
    print(
        json.dumps(
            {
                "exit_code": run.returncode,
                "beam_args": beam_args,
                "documents": documents,
                "migrated": summary["totals"]["migrated"],
                "seconds": round(run.wall_seconds, 1),
                "cpu_seconds": round(run.cpu_seconds, 1),
                "seconds_per_1000_documents": round(run.wall_seconds / thousands, 2),
                "cpu_seconds_per_1000_documents": round(run.cpu_seconds / thousands, 2),
                "first_document_seconds": round(first - run.started_at, 2) if first else None,
                "cpu_seconds_by_role": run.cpu_seconds_by_role,
                "cpu_seconds_each": run.cpu_seconds_each,
                "peak_rss_mib": run.peak_rss_mib,
                "load_average": round(load_average(), 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
