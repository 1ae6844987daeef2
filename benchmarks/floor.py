"""The pipeline against the codec floor, in one run: a plain Pillow loop, then the pipeline at 1 and N processes.

    python -m benchmarks.floor [--kind mixed|bilevel|both] [--documents N] [--workers N] [--work DIR] [Beam options]

For each dump (benchmarks/floor_dumps.py: a mixed one like the demo's, a bilevel archive of multi-page Group 4
letters at 300 dpi) it times, on the same documents, each in a fresh process and a fresh output folder:

- the floor: benchmarks/floor_loop.py, one process, decode → lossless encode → decode → compare → write;
- the pipeline, in-process DirectRunner with one decode lane (`python -m pipelines.migrate --decode_lanes=1`,
  everything it does: lineage, isolation, page checks, de-duplication, the summary);
- the same with N decode lanes (N documents in flight in the one process, each with its own decoder child);
- the pipeline with --direct_running_mode=multi_processing --direct_num_workers=N (lanes: auto).

It prints a Markdown table: wall seconds launch to exit, CPU seconds of the whole process tree (and by role),
CPU per page and pages per second (over the dump's pages, as the loop counts them), the ratio to the loop (its
time over the run's), seconds from launch to the first stored document, and peak RSS of the main process, the
largest Beam worker and the largest decoder child; then the scaling of N lanes and of N processes over one lane,
whole run and from the first stored document on. Dumps are kept in --work and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from benchmarks.floor_dumps import bilevel_manifest, mixed_manifests
from benchmarks.process_tree import TreeRun, first_file_time, load_average, run_tree

DEFAULT_DOCUMENTS = {"mixed": 258, "bilevel": 96}
_REPO = str(Path(__file__).resolve().parent.parent)


def _measure(label: str, command: list[str], output: Path, loop: bool) -> dict:
    shutil.rmtree(output, ignore_errors=True)
    output.parent.mkdir(parents=True, exist_ok=True)  # the stderr log goes beside the output, before the run
    log = output.with_name(output.name + ".stderr.log")
    load = load_average()
    run: TreeRun = run_tree(command, cwd=_REPO, stderr=log)
    # 1: the pipeline ran but its verdict failed (the mixed dump quarantines). -6: Beam's multi_processing mode
    # sometimes aborts in gRPC as the job ends ("terminate called without an active exception", on main too): the
    # run counts if its summary was written, and is marked.
    finished = loop or any((output / "lineage").glob("summary-*.json"))
    if run.returncode not in (0, 1) and not (run.returncode == -6 and finished):
        raise SystemExit(f"{label} exited {run.returncode} (its stderr: {log}): {' '.join(command)}")
    if run.returncode == -6:
        label += " (aborted at exit)"
    if loop:
        counts = json.loads(run.stdout.strip().splitlines()[-1])
        documents, pages = counts["documents"], counts["pages"]
    else:
        summary = json.loads(next((output / "lineage").glob("summary-*.json")).read_text())
        documents, pages = summary["totals"]["manifest_documents"], summary["totals"]["pages"]
    stored = [t for t in (first_file_time(output / "objects"), first_file_time(output / "quarantine")) if t]
    return {
        "run": label,
        "load_average_before": round(load, 1),
        "documents": documents,
        "pages": pages,  # the loop: every page it decoded; the pipeline: pages of migrated documents
        "seconds": round(run.wall_seconds, 1),
        "cpu_seconds": round(run.cpu_seconds, 1),
        "first_document_seconds": round(min(stored) - run.started_at, 1) if stored else None,
        "cpu_seconds_by_role": run.cpu_seconds_by_role,
        "cpu_seconds_each": run.cpu_seconds_each,
        "peak_rss_mib": {
            "main": run.peak("main"),
            "beam_worker": run.peak("beam worker"),
            "decoder_child": run.peak("decoder child"),
        },
    }


def measure_dump(
    name: str, manifests: list[str], work: Path, workers: int, beam_args: list[str], rounds: int = 1
) -> list[dict]:
    """The loop once, then the pipeline rows ROUNDS times, interleaved (so a neighbour's burst of work on a shared
    machine lands on every row alike); each row keeps its median round by seconds, with every round's seconds."""
    out = work / "out" / name
    python = sys.executable
    pipeline = [python, "-m", "pipelines.migrate", *(a for m in manifests for a in ("--manifest", m)), *beam_args]
    multi = ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    loop = [python, "-m", "benchmarks.floor_loop", "--output", str(out / "loop"), *manifests]
    rows = [
        ("pipeline, in-process DirectRunner, 1 lane", "p1", ["--decode_lanes=1"]),
        (f"pipeline, in-process, {workers} lanes", "lanes", [f"--decode_lanes={workers}"]),
        (f"pipeline, {workers} processes", "pn", multi),
    ]
    runs = [_measure("plain Pillow loop, 1 process", loop, out / "loop", True)]
    measured: dict[str, list[dict]] = {label: [] for label, _, _ in rows}
    for _ in range(rounds):
        for label, folder, extra in rows:
            command = [*pipeline, "--output", str(out / folder), *extra]
            measured[label].append(_measure(label, command, out / folder, False))
    for label, _, _ in rows:
        ordered = sorted(measured[label], key=lambda run: run["seconds"])
        median = dict(ordered[(len(ordered) - 1) // 2])
        median["rounds_seconds"] = [run["seconds"] for run in measured[label]]
        runs.append(median)
    return rates(runs)


def rates(runs: list[dict]) -> list[dict]:
    """Rates over the dump's pages (every page the loop decoded, duplicates and pages of documents the pipeline
    quarantines for their metadata included), so each run is measured on the same work; ratio = loop time / time."""
    floor, pages = runs[0]["seconds"], max(runs[0]["pages"], 1)
    for run in runs:
        run["cpu_ms_per_page"] = round(run["cpu_seconds"] / pages * 1000, 1)
        run["pages_per_second"] = round(pages / run["seconds"], 1)
        run["vs_loop"] = round(floor / run["seconds"], 2)
    return runs


def scaling(one: dict, many: dict, n: int) -> str:
    """One run's speed-up over the 1-lane run, whole and from the first stored document, and its share of n×."""
    whole = one["seconds"] / many["seconds"]
    steady = (one["seconds"] - one["first_document_seconds"]) / (many["seconds"] - many["first_document_seconds"])
    return (
        f"{many['run']} over 1 lane: {whole:.2f}× whole run ({whole / n:.0%} of {n}×), "
        f"{steady:.2f}× from the first document ({steady / n:.0%})"
    )


def markdown(name: str, runs: list[dict], n: int) -> str:
    lines = [
        f"{name}: {runs[0]['documents']:,} documents, {runs[0]['pages']:,} pages (load average {load_average():.1f})",
        "",
        "| run | seconds | CPU s (main/workers/decoders) | CPU ms/page | pages/s | vs loop | first doc "
        "| peak RSS MiB main/worker/decoder | load before |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        rss, cpu = run["peak_rss_mib"], run["cpu_seconds_by_role"]
        memory = " / ".join(f"{rss[k]:.0f}" if rss[k] else "–" for k in ("main", "beam_worker", "decoder_child"))
        split = "/".join(f"{cpu[k]:.1f}" if k in cpu else "–" for k in ("main", "beam worker", "decoder child"))
        lines.append(
            f"| {run['run']} | {run['seconds']} | {run['cpu_seconds']} ({split}) | {run['cpu_ms_per_page']} | "
            f"{run['pages_per_second']} | {run['vs_loop']:.2f}× | {run['first_document_seconds']} s | {memory} | "
            f"{run['load_average_before']} |"
        )
    lines += ["", *(scaling(runs[1], many, n) for many in runs[2:])]
    if len(runs[1].get("rounds_seconds", ())) > 1:
        lines += [f"{run['run']}: rounds {run['rounds_seconds']} s" for run in runs[1:]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("mixed", "bilevel", "both"), default="both")
    parser.add_argument("--documents", type=int, help="documents per dump (default: mixed 258, bilevel 96)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--page-size", default="1654x2339", help="mixed dump's WIDTHxHEIGHT")
    parser.add_argument("--work", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "edms-floor"))
    parser.add_argument("--rounds", type=int, default=1, help="pipeline runs per row, interleaved; the median kept")
    parser.add_argument("--json", help="also write the measurements here")
    args, beam_args = parser.parse_known_args()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    kinds = ("mixed", "bilevel") if args.kind == "both" else (args.kind,)
    results = {}
    for kind in kinds:
        documents = args.documents or DEFAULT_DOCUMENTS[kind]
        if kind == "mixed":
            size = tuple(int(v) for v in args.page_size.split("x"))
            manifests = mixed_manifests(work / "dumps", documents, size, args.workers)
        else:
            manifests = [bilevel_manifest(work / "dumps", documents, args.workers)]
        results[kind] = measure_dump(kind, manifests, work, args.workers, beam_args, args.rounds)
        print(markdown(kind, results[kind], args.workers), "\n", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
