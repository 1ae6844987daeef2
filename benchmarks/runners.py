"""The same dump on the three runners: the DirectRunner, Flink and Spark (Beam's portable runners, embedded).

    python -m benchmarks.runners [--work DIR] [--only direct,flink-loopback,…] [--repeat 1]

Writes the sample dump (`edms-migrate sample-dump`, full-size pages) once into --work, then migrates all of it
(its canonical manifest and both profiled sources) into a fresh output per configuration, each as its own
`edms-migrate run` process watched with its whole tree (benchmarks/process_tree.py): wall time, CPU seconds
(launcher, JVM job server with its embedded engine, worker pool, SDK harnesses, decoder children) and each
role's peak RSS. The engines run with two parallel harnesses, the machine's two cores. Prints one JSON object per
run, then a Markdown table; the load average before and after each run stands beside it (a shared machine's
numbers are only as good as its quiet).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from benchmarks.process_tree import load_average, run_tree
from pipelines.engines.jars import cached_jar

_REPO = str(Path(__file__).resolve().parent.parent)
#: name → the Beam arguments of that configuration (the jars are added where needed).
CONFIGURATIONS: dict[str, list[str]] = {
    "direct": [],
    "flink-loopback": ["--runner=FlinkRunner", "--flink_master=[local]", "--parallelism=2"],
    "flink-pool": ["--runner=FlinkRunner", "--flink_master=[local]", "--parallelism=2", "--worker_pool=local"],
    "spark-loopback": ["--runner=SparkRunner", "--spark_master_url=local[2]"],
    "spark-pool": ["--runner=SparkRunner", "--spark_master_url=local[2]", "--worker_pool=local"],
}
#: Where each process of a tree belongs, by its command line (process_tree's roles, plus the portable ones).
PORTABLE_ROLES = (("java", "JVM job server + engine"), ("worker_pool_main", "worker pool"), ("SdkHarness", "harness"))


def dump_arguments(work: Path) -> list[str]:
    """The sample dump (written once), as the demo migrates it: manifest, profiles, blob roots."""
    from samples.dump import write_sample_dump

    folder = work / "dump"
    marker = folder / "arguments.json"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        dump = write_sample_dump(str(folder))
        argv = ["--manifest", dump.manifest_path]
        argv += [arg for profile in dump.profiles for arg in ("--source", profile)]
        argv += [arg for root in dump.blob_roots for arg in ("--blob_root", root)]
        marker.write_text(json.dumps(argv))
    return json.loads(marker.read_text())


def _role(command: str, role: str) -> str:
    return next((name for marker, name in PORTABLE_ROLES if marker in command), role)


def measure(name: str, work: Path, dump: list[str]) -> dict:
    output = work / f"out-{name}"
    shutil.rmtree(output, ignore_errors=True)
    beam_args = list(CONFIGURATIONS[name])
    for engine in ("flink", "spark"):
        if name.startswith(engine):
            beam_args.append(f"--{engine}_job_server_jar={cached_jar(engine)}")
    command = [sys.executable, "-m", "pipelines.cli", "run", *dump, "--output", str(output), *beam_args]
    load_before = load_average()
    run = run_tree(command, cwd=_REPO, stderr=work / f"{name}.stderr", roles=_role)
    summary = json.loads(next((output / "lineage").glob("summary-*.json")).read_text())
    return {
        "runner": name,
        "exit_code": run.returncode,
        "documents": summary["totals"]["manifest_documents"],
        "pages": summary["totals"]["pages"],
        "seconds": round(run.wall_seconds, 1),
        # the launcher ends without waiting for the JVM it started, so RUSAGE_CHILDREN misses it: the sampled sum
        "cpu_seconds": round(max(run.cpu_seconds, sum(run.cpu_seconds_by_role.values())), 1),
        "cpu_seconds_by_role": run.cpu_seconds_by_role,
        "peak_rss_mib": {role: max(peaks) for role, peaks in run.peak_rss_mib.items()},
        "processes": {role: len(peaks) for role, peaks in run.peak_rss_mib.items()},
        "load_average": [round(load_before, 1), round(load_average(), 1)],
    }


def _recounted(result: dict) -> dict:
    """A result recorded before the JVM's CPU was counted in the total: counted now."""
    return {**result, "cpu_seconds": round(max(result["cpu_seconds"], sum(result["cpu_seconds_by_role"].values())), 1)}


def table(results: list[dict]) -> str:
    lines = [
        "| runner | wall s | CPU s (of it JVM) | peak RSS MiB: launcher / JVM / harnesses / decoder children | load |",
        "|---|---:|---:|---|---|",
    ]
    for result in results:
        peaks, count = result["peak_rss_mib"], result["processes"]

        def peak(role: str, peaks: dict = peaks, count: dict = count) -> str:
            return f"{peaks[role]:.0f} ×{count[role]}" if role in peaks else "–"

        harness = peak("harness") if "harness" in peaks else ("in launcher" if "loopback" in result["runner"] else "–")
        memory = f"{peaks['main']:.0f} / {peak('JVM job server + engine')} / {harness} / {peak('decoder child')}"
        load = " → ".join(str(value) for value in result["load_average"])
        jvm = result["cpu_seconds_by_role"].get("JVM job server + engine", 0.0)
        cpu = f"{result['cpu_seconds']} ({jvm:.1f})"
        lines.append(f"| {result['runner']} | {result['seconds']} | {cpu} | {memory} | {load} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "edms-runners"))
    parser.add_argument("--only", default=",".join(CONFIGURATIONS), help="comma-separated configurations")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--table", help="a file of this module's JSON lines: print their table, run nothing")
    args = parser.parse_args()
    if args.table:
        lines = Path(args.table).read_text().splitlines()
        print(table([_recounted(json.loads(line)) for line in lines if line.startswith("{")]))
        return
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    dump = dump_arguments(work)
    results = []
    for _ in range(args.repeat):
        for name in args.only.split(","):
            results.append(measure(name, work, dump))
            print(json.dumps(results[-1]), flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
