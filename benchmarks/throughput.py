"""Pages per second and peak memory of a whole migration on the DirectRunner.

    python -m benchmarks.throughput --dumps 8 [--page-size 1654x2339] [Beam options …]

Writes DUMPS sample dumps (43 documents each, different seeds) and migrates them
in one run with one --manifest per dump, so duplicates are searched across all.
Peak RSS is this process's (and, with multi_processing, its workers').
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from pipelines.launch.launcher import migrate
from samples.dump import write_sample_dump


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dumps", type=int, default=8)
    parser.add_argument("--page-size", default="1654x2339", help="WIDTHxHEIGHT of generated pages")
    args, beam_args = parser.parse_known_args()
    width, height = (int(v) for v in args.page_size.split("x"))
    with tempfile.TemporaryDirectory(prefix="edms-bench-") as scratch:
        manifests = []
        for seed in range(args.dumps):
            dump = write_sample_dump(Path(scratch, f"dump-{seed}"), seed=seed, page_size=(width, height))
            manifests += ["--manifest", dump.manifest_path]
        output = str(Path(scratch, "out"))
        started = time.monotonic()
        code = migrate([*manifests, "--output", output, *beam_args])
        elapsed = time.monotonic() - started
        summary = json.loads(next(Path(output, "lineage").glob("summary-*.json")).read_text())
    totals = summary["totals"]
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "exit_code": code,
                "beam_args": beam_args,
                "documents": totals["manifest_documents"],
                "pages": totals["pages"],
                "seconds": round(elapsed, 1),
                "pages_per_second": round(totals["pages"] / elapsed, 1),
                "documents_per_second": round(totals["manifest_documents"] / elapsed, 1),
                "bytes_in": totals["bytes_in"],
                "bytes_out": totals["bytes_out"],
                "peak_rss_mib": round(peak_self),
                "peak_rss_children_mib": round(peak_children),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
