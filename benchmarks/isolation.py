"""What does decoding in an isolated child process cost on ordinary documents?

    python -m benchmarks.isolation [--dumps 3] [--rounds 3] [--kind sample|bilevel]

--kind sample uses the demo's dumps (colour-heavy, with large BMPs); --kind bilevel
uses 3-page Group 4 letters at 300 dpi, the bulk of a real scanned-records archive.

Runs the per-document step (MigrateDocumentFn, no Beam around it) over sample dumps
under each --decode_isolation policy, each in a fresh process, interleaved, and
reports wall time and CPU time (parent and decoder child together) per document.
CPU time is the figure to trust on a busy machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICIES = ("never", "risky", "always")


def _refs(dump_folders: list[str]) -> list:
    from transforms.sources.layouts.canonical import iter_manifest_refs

    return [ref for folder in dump_folders for ref in iter_manifest_refs(str(Path(folder, "manifest.csv")))]


def measure_one_policy(policy: str, output: str, dump_folders: list[str]) -> None:
    """Runs in its own process; prints wall seconds for the documents (the child's start-up excluded)."""
    from transforms.migrate.document_step import MigrateDocumentFn, MigrationSettings

    refs = _refs(dump_folders)
    fn = MigrateDocumentFn(MigrationSettings(output, "bench", isolation=policy))
    fn.setup()
    list(fn.process(refs[0]))  # warm: the child's start-up happens once per worker thread
    started = time.perf_counter()
    for ref in refs:
        list(fn.process(ref))
    wall = time.perf_counter() - started
    fn.teardown()
    print(json.dumps({"wall": wall, "documents": len(refs)}))


def write_bilevel_letters(folder: Path, count: int) -> str:
    """COUNT three-page Group 4 letters, A4 at 300 dpi, with a canonical manifest."""
    import csv
    import random

    from samples.pages import PageText, encode_tiff, render_page

    folder.mkdir(parents=True)
    rng = random.Random(3)
    text = PageText("Clinic Letter", "A Patient", "H123", "2001-02-03", "REF")
    with open(folder / "manifest.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "document_id", "blob_uri"])
        for number in range(count):
            pages = [
                render_page(rng, kind="bilevel", size=(2480, 3508), dpi=300, text=text, page_number=p, page_total=3)
                for p in (1, 2, 3)
            ]
            (folder / f"letter-{number}.tif").write_bytes(encode_tiff(pages, compression="group4", dpi=300))
            writer.writerow(["SCAN", f"L{number}", f"letter-{number}.tif"])
    return str(folder)


def risky_share(dump_folders: list[str]) -> float:
    from schemas.reasons import QuarantineError
    from transforms.decoders.risk import looks_risky
    from transforms.storage.blobs import read_document_bytes

    refs = _refs(dump_folders)
    risky = 0
    for ref in refs:
        with contextlib.suppress(QuarantineError):
            risky += looks_risky(read_document_bytes(ref))
    return risky / len(refs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dumps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kind", choices=("sample", "bilevel"), default="sample")
    parser.add_argument("--one-policy", nargs=3, metavar=("POLICY", "OUTPUT", "DUMPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_policy:
        policy, output, dumps = args.one_policy
        measure_one_policy(policy, output, dumps.split(","))
        return
    from samples.dump import write_sample_dump

    with tempfile.TemporaryDirectory(prefix="edms-iso-") as scratch:
        if args.kind == "bilevel":
            folders = [write_bilevel_letters(Path(scratch, "letters"), 15 * args.dumps)]
        else:
            folders = [str(write_sample_dump(Path(scratch, f"d{s}"), seed=s).directory) for s in range(args.dumps)]
        results: dict[str, list[tuple[float, float]]] = {policy: [] for policy in POLICIES}
        documents = 0
        for round_number in range(args.rounds):
            for policy in POLICIES:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.isolation",
                        "--one-policy",
                        policy,
                        str(Path(scratch, f"out-{round_number}-{policy}")),
                        ",".join(folders),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                report = json.loads(out.strip().splitlines()[-1])
                documents = report["documents"]
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                results[policy].append((report["wall"], cpu))
        share = risky_share(folders)
    base_wall = statistics.median(w for w, _ in results["never"])
    base_cpu = statistics.median(c for _, c in results["never"])
    print(f"{documents} documents, median of {args.rounds} rounds; 'risky' isolates {share:.0%} of them")
    print(f"{'policy':<8}{'wall ms/doc':>12}{'vs never':>10}{'CPU s/run':>11}{'vs never':>10}")
    for policy in POLICIES:
        wall = statistics.median(w for w, _ in results[policy])
        cpu = statistics.median(c for _, c in results[policy])
        print(
            f"{policy:<8}{wall / documents * 1000:>12.1f}{(wall / base_wall - 1) * 100:>+9.1f}%"
            f"{cpu:>11.2f}{(cpu / base_cpu - 1) * 100:>+9.1f}%"
        )


if __name__ == "__main__":
    main()
