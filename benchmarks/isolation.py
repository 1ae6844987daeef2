"""What does decoding in an isolated child process cost on ordinary documents?

    python -m benchmarks.isolation [--dumps 3] [--rounds 3]

Runs the per-document step (MigrateDocumentFn, no Beam around it) over sample dumps
under each --decode_isolation policy, interleaved, and reports the median time per
document and how many documents each policy sent to the child.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

from samples.dump import write_sample_dump
from transforms.blobs import read_document_bytes
from transforms.manifest import iter_manifest_rows, manifest_folder, parse_row
from transforms.migrate import MigrateDocumentFn, MigrationSettings
from transforms.reasons import QuarantineError
from transforms.risk import looks_risky

POLICIES = ("never", "risky", "always")


def run_once(refs: list, output: str, policy: str) -> float:
    fn = MigrateDocumentFn(MigrationSettings(output, "bench", isolation=policy))
    fn.setup()
    try:
        list(fn.process(refs[0]))  # the child's start-up (once per worker thread) is not a per-document cost
        started = time.perf_counter()
        for ref in refs:
            list(fn.process(ref))
        return time.perf_counter() - started
    finally:
        fn.teardown()


def risky_share(refs: list) -> float:
    risky = 0
    for ref in refs:
        with contextlib.suppress(QuarantineError):
            risky += looks_risky(read_document_bytes(ref))
    return risky / len(refs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dumps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edms-iso-") as scratch:
        refs = []
        for seed in range(args.dumps):
            dump = write_sample_dump(Path(scratch, f"d{seed}"), seed=seed)
            folder = manifest_folder(dump.manifest_path)
            refs += [
                parse_row(row, manifest_uri=dump.manifest_path, row_number=n, folder=folder)
                for n, row in iter_manifest_rows(dump.manifest_path)
            ]
        timings: dict[str, list[float]] = {policy: [] for policy in POLICIES}
        for round_number in range(args.rounds):
            for policy in POLICIES:
                output = str(Path(scratch, f"out-{round_number}-{policy}"))
                timings[policy].append(run_once(refs, output, policy))
        share = risky_share(refs)
    baseline = statistics.median(timings["never"])
    print(f"{len(refs)} documents, median of {args.rounds} rounds; 'risky' isolates {share:.0%} of them")
    for policy in POLICIES:
        median = statistics.median(timings[policy])
        print(f"{policy:<7} {median / len(refs) * 1000:6.1f} ms/document ({(median / baseline - 1) * 100:+.1f}%)")


if __name__ == "__main__":
    main()
