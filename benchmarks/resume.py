"""What resuming costs: a re-run of a finished migration, a re-run after kill -9 at half-way, and the read cap.

python -m benchmarks.resume [--documents 2000] [--cap 40]

Every run is the real job (`python -m pipelines.cli run`, DirectRunner) in its own process, timed from launch to
exit. The read cap is measured on its own: worker processes reading real files through SourceThrottle at a
job-wide cap, the achieved rate against the cap.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.images import bilevel_page, encode
from transforms.storage.throttle import ReadCaps, SourceThrottle

ROOT = Path(__file__).resolve().parent.parent


def write_dump(folder: Path, documents: int) -> Path:
    """Single-page Group 4 letters of distinct content, one patient each."""
    folder.mkdir(parents=True)
    with (folder / "manifest.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "document_id", "blob_uri", "document_type"])
        for number in range(documents):
            page = bilevel_page(width=1240, height=1754, seed=number)  # A4 at 150 dpi
            (folder / f"d{number}.tif").write_bytes(encode(page, "TIFF", compression="group4"))
            writer.writerow(["PAS", f"D{number}", f"d{number}.tif", "Letter"])
    return folder / "manifest.csv"


def job(manifest: Path, output: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "run", "--manifest", str(manifest), "--output", str(output), *extra]


def timed(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - started


def journalled_documents(output: Path, run_id: str, flush: int) -> int:
    return flush * len(list((output / "lineage").glob(f"documents-*-{run_id}-j*.parquet")))


def killed_at_half(manifest: Path, output: Path, documents: int, flush: int) -> None:
    process = subprocess.Popen(
        job(manifest, output, "--run_id", "killed", "--lineage_flush_documents", str(flush)),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while journalled_documents(output, "killed", flush) < documents // 2:
        if process.poll() is not None:
            raise SystemExit("the job finished before half-way: use more --documents")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _read_under_cap(caps: ReadCaps, files: list[str], results: multiprocessing.Queue) -> None:
    throttle = SourceThrottle(caps)
    started = time.monotonic()
    for path in files:
        throttle.before_read("PAS")
        Path(path).read_bytes()
    results.put((len(files), time.monotonic() - started))


def read_cap(folder: Path, cap: float, workers: int = 2, reads: int = 200) -> tuple[float, float]:
    """(achieved reads per second, for the job, cap) with `workers` processes sharing the job-wide cap."""
    files = sorted(str(path) for path in folder.glob("*.tif"))
    chunks = [[files[i % len(files)] for i in range(w, reads * workers, workers)][:reads] for w in range(workers)]
    results: multiprocessing.Queue = multiprocessing.Queue()
    caps = ReadCaps(reads_per_second=cap, workers=workers)
    processes = [multiprocessing.Process(target=_read_under_cap, args=(caps, chunk, results)) for chunk in chunks]
    for process in processes:
        process.start()
    finished = [results.get() for _ in processes]
    for process in processes:
        process.join()
    total = sum(count for count, _ in finished)
    return total / max(seconds for _, seconds in finished), cap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--cap", type=float, default=40.0, help="job-wide reads per second for the cap measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edms-resume-") as scratch:
        root = Path(scratch)
        manifest = write_dump(root / "dump", args.documents)
        first = timed(job(manifest, root / "out", "--run_id", "first"))
        again = timed(job(manifest, root / "out", "--run_id", "again"))
        print(
            f"{args.documents} documents: first run {first:.1f} s; re-run of the finished migration {again:.1f} s "
            f"({again / first:.1%} of the first)"
        )
        flush = max(10, args.documents // 50)
        killed_at_half(manifest, root / "killed-out", args.documents, flush)
        resumed = timed(job(manifest, root / "killed-out", "--run_id", "resumed"))
        print(f"killed at half-way, then re-run: {resumed:.1f} s ({resumed / first:.1%} of a full run)")
        achieved, cap = read_cap(root / "dump", args.cap)
        print(
            f"read cap {cap:g}/s for the job over 2 worker processes: achieved {achieved:.1f}/s "
            f"({achieved / cap - 1:+.1%})"
        )


if __name__ == "__main__":
    main()
