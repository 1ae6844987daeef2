"""Peak memory of the manifest-reading stage as the manifest grows: it must stay flat.

python -m benchmarks.manifest_memory --rows 250000 1000000 3000000 [--workers 2]

For each size, writes a CSV index (rows name blobs that need not exist: only reading is measured) and, in a fresh
process, runs ReadSources → count on FnApiRunner, then reports rows, seconds and that process's peak RSS. Both
reading modes are measured: split on line boundaries (`"embedded_newlines": false`) and one streaming reader
per file. If reading held the manifest, peak RSS would grow with it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import json, resource, sys, time
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from transforms.sources.profiles import load_profile
from transforms.sources.read import ReadSources
profile = load_profile(sys.argv[1])
started = time.monotonic()
workers = int(sys.argv[3])
argv = ["--runner=FnApiRunner"] if workers <= 1 else [
    "--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
with beam.Pipeline(options=PipelineOptions(argv)) as pipeline:
    counted = (pipeline | ReadSources([(profile, profile.manifest)], split_bytes=int(sys.argv[2]))
               | beam.combiners.Count.Globally())
    counted | beam.Map(lambda n: print(json.dumps({"rows": n}), flush=True))
print(json.dumps({"seconds": round(time.monotonic() - started, 1),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "worker_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}), flush=True)
"""


def write_manifest(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("DOC_REF;FILE;PATIENT_NHS;DOC_TYPE;DOC_DT\r\n")
        for n in range(rows):
            handle.write(
                f"D{n:09d};\\\\FILESRV01\\Scans\\{n % 997}\\D{n:09d}.tif;9434765919;Clinic Letter;01/02/2003\r\n"
            )


def write_dip(path: Path, records: int) -> None:
    with path.open("w", encoding="cp1252", newline="") as handle:
        handle.write(">>>>Self Configuring Tagged DIP<<<<\r\n")
        for n in range(records):
            handle.write(
                f"BEGIN:\r\n>>DocTypeName: Clinic Letter\r\n>>DocDate: 01/02/2003\r\n"
                f">>FullPath: \\\\FILESRV01\\OnBase\\DG{n % 7}\\V{n // 5000:07d}.DAT\r\n"
                f">>FileOffset: {n % 5000 * 40960}\r\n>>FileSize: 40960\r\n>>DiskgroupNum: {n % 7}\r\n"
                f"ItemNum: {n}\r\nNHS Number: 9434765919\r\n"
            )


def dip_profile() -> dict:
    return {
        "source_system": "BENCH",
        "format": "onbase-dip",
        "manifest": "manifest.csv",
        "encoding": "cp1252",
        "fields": {"document_id": "ItemNum", "nhs_number": "NHS Number"},
        "path_map": {"\\\\FILESRV01\\OnBase": "volumes"},
    }


def measure(folder: Path, rows: int, split: bool, split_bytes: int, workers: int, dip: bool = False) -> dict:
    profile = (
        dip_profile()
        if dip
        else {
            "source_system": "BENCH",
            "format": "csv",
            "manifest": "manifest.csv",
            "delimiter": ";",
            "embedded_newlines": not split,
            "fields": {
                "document_id": "DOC_REF",
                "blob_uri": "FILE",
                "nhs_number": "PATIENT_NHS",
                "document_type": "DOC_TYPE",
                "document_date": "DOC_DT",
            },
            "date_format": "%d/%m/%Y",
            "path_map": {"\\\\FILESRV01\\Scans": "scans"},
        }
    )
    (folder / "profile.json").write_text(json.dumps(profile))
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(folder / "profile.json"), str(split_bytes), str(workers)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    out: dict = {}
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            out.update(json.loads(line))
    assert out["rows"] == rows, (out, rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[250_000, 1_000_000, 2_000_000])
    parser.add_argument("--split_mib", type=int, default=16, help="split size for the split mode (default 16 MiB)")
    parser.add_argument("--workers", type=int, default=1, help="N > 1: DirectRunner multi_processing with N workers")
    parser.add_argument("--dip", action="store_true", help="an OnBase DIP index (always split) instead of a CSV")
    args = parser.parse_args()
    print(f"{'rows':>10} {'MiB':>7} {'mode':>8} {'seconds':>8} {'peak RSS MiB':>13} {'worker peak MiB':>16}")
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="edms-bench-") as scratch:
            folder = Path(scratch)
            (write_dip if args.dip else write_manifest)(folder / "manifest.csv", rows)
            size = (folder / "manifest.csv").stat().st_size / 2**20
            for split in (True,) if args.dip else (True, False):
                out = measure(folder, rows, split, args.split_mib * 2**20, args.workers, args.dip)
                mode = "dip" if args.dip else "split" if split else "stream"
                worker = out["worker_rss_mib"] if args.workers > 1 else "-"
                line = f"{rows:>10,} {size:>7.0f} {mode:>8} {out['seconds']:>8} {out['peak_rss_mib']:>13} {worker:>16}"
                print(line, flush=True)


if __name__ == "__main__":
    main()
