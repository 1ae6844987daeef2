"""`edms-migrate estimate`: a capacity plan from a calibration run on the real sources.

edms-migrate estimate --manifest … [--source …] --sample 300 --documents 235000000 --deadline 2026-12-31 \
    [--vcpu_hour_price 0.056] [--gb_month_price 0.02] [--worker_vcpus 4] [--headroom 1.25] \
    [--overhead_ms_per_document MS] [--scratch PREFIX] [--json]

A random sample is migrated by the job's own per-document step (pipelines/capacity/calibration.py) into a scratch
prefix, with the job's options (isolation, limits, formats), and every index is counted by streaming it. The plan scales
the measured CPU-seconds per page, pages per document and bytes out per document to --documents (default: the
count), adds what the rest of the pipeline costs per document (measured once, at archive scale, by
benchmarks/tiny.py: a sample of 300 cannot show it), and sizes a fleet that finishes by the deadline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import secrets
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace

from pipelines.capacity.calibration import Calibration, census, measure, sampled_documents
from pipelines.console.usage import OneLineParser, UsageError
from pipelines.launch.launcher import check_output_writable, parse_options
from pipelines.launch.plan import check_sources, plan_from
from transforms.privacy.key_source import PatientKeyRef

_KEY_VARIABLE = "EDMS_ESTIMATE_KEY"  # a throwaway key, in this process only: the scratch output is thrown away
GIB = 2**30

#: CPU the rest of the pipeline spends per document beyond the per-document step the calibration measures:
#: reading indexes, selection, the shuffles, de-duplication, lineage tables, the summary. A whole run of 1,000,000
#: tiny one-page documents (benchmarks/tiny.py) cost 3.22 ms of CPU per document; the per-document step alone,
#: calibrated on the same documents, 2.65-3.36 ms (three samples). The rest is under 0.6 ms; 1 ms bounds it.
PIPELINE_CPU_SECONDS_PER_DOCUMENT = 0.001


@dataclass(frozen=True)
class CapacityPlan:
    documents: int
    cpu_seconds_per_page: float
    pages_per_document: float
    vcpu_hours: float  # the per-document step, measured, scaled to `documents`
    overhead_cpu_seconds_per_document: float
    overhead_vcpu_hours: float  # the rest of the pipeline: indexes, selection, shuffles, de-duplication, lineage
    vcpu_hours_planned: float  # both, × headroom: retries, worker start-up and the sample's error
    deadline: str
    hours_to_deadline: float
    worker_vcpus: int
    workers: int
    hours: float  # how long `workers` take
    storage_gib: float  # page objects and quarantine copies
    compute_cost: float | None
    storage_cost_per_month: float | None


def plan_capacity(
    calibration: Calibration,
    documents: int,
    deadline: dt.date,
    now: dt.datetime,
    *,
    worker_vcpus: int = 4,
    headroom: float = 1.25,
    overhead_cpu_seconds_per_document: float = PIPELINE_CPU_SECONDS_PER_DOCUMENT,
    vcpu_hour_price: float | None = None,
    gb_month_price: float | None = None,
) -> CapacityPlan:
    """The arithmetic, kept apart from the measuring so that it can be read and tested on its own."""
    vcpu_hours = calibration.cpu_per_page * calibration.pages_per_document * documents / 3600
    if not calibration.pages:  # nothing migrated in the sample: scale what the documents cost instead
        vcpu_hours = calibration.cpu_seconds / max(calibration.documents, 1) * documents / 3600
    overhead = overhead_cpu_seconds_per_document * documents / 3600
    planned = (vcpu_hours + overhead) * headroom
    end = dt.datetime.combine(deadline, dt.time(), tzinfo=dt.UTC)
    available = (end - now).total_seconds() / 3600
    workers = max(1, math.ceil(planned / (worker_vcpus * available)))
    storage = calibration.bytes_out / max(calibration.documents, 1) * documents / GIB
    return CapacityPlan(
        documents=documents,
        cpu_seconds_per_page=calibration.cpu_per_page,
        pages_per_document=calibration.pages_per_document,
        vcpu_hours=vcpu_hours,
        overhead_cpu_seconds_per_document=overhead_cpu_seconds_per_document,
        overhead_vcpu_hours=overhead,
        vcpu_hours_planned=planned,
        deadline=deadline.isoformat(),
        hours_to_deadline=available,
        worker_vcpus=worker_vcpus,
        workers=workers,
        hours=planned / (workers * worker_vcpus),
        storage_gib=storage,
        compute_cost=None if vcpu_hour_price is None else planned * vcpu_hour_price,
        storage_cost_per_month=None if gb_month_price is None else storage * gb_month_price,
    )


def report(calibration: Calibration, counted: int, plan: CapacityPlan, scratch: str) -> str:
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(calibration.statuses.items()))
    per_document = calibration.bytes_in / max(calibration.documents, 1) / 2**20
    out_per_document = calibration.bytes_out / max(calibration.documents, 1) / 2**20
    workers = "worker" if plan.workers == 1 else "workers"
    lines = [
        f"calibration: {calibration.documents} documents sampled at random from {counted:,} counted; {statuses}",
        f"  {calibration.cpu_seconds:.1f} CPU-s ({calibration.wall_seconds:.1f} s elapsed) for {calibration.pages} "
        f"pages: {plan.cpu_seconds_per_page:.3f} CPU-s per page, {plan.pages_per_document:.2f} pages per document",
        f"  {per_document:.3f} MiB in, {out_per_document:.3f} MiB out per document (scratch: {scratch})",
        f"plan for {plan.documents:,} documents:",
        f"  CPU      {plan.vcpu_hours:,.0f} vCPU-hours measured for the documents' pages",
        f"           + {plan.overhead_vcpu_hours:,.0f} for indexes, selection, shuffles, de-duplication and lineage "
        f"({plan.overhead_cpu_seconds_per_document * 1000:g} CPU-ms per document)",
        f"           = {plan.vcpu_hours_planned:,.0f} planned, with headroom for retries and worker start-up",
        f"  fleet    {plan.workers:,} {workers} × {plan.worker_vcpus} vCPU for {plan.hours:,.0f} hours, to finish by "
        f"{plan.deadline} ({plan.hours_to_deadline:,.0f} hours from now)",
        f"  storage  {plan.storage_gib:,.0f} GiB of page objects and quarantine copies",
        *_storage_lines(calibration),
    ]
    if plan.compute_cost is not None:
        lines.append(f"  cost     {plan.compute_cost:,.0f} for the vCPU-hours (vCPU only: add memory, disk, shuffle)")
    if plan.storage_cost_per_month is not None:
        lines.append(f"  cost     {plan.storage_cost_per_month:,.0f} per month of storage")
    return "\n".join(lines)


def _storage_lines(calibration: Calibration) -> list[str]:
    """Object bytes per source byte on the sample's own mix of pages, and for each kind of document in it."""
    ratio = calibration.object_bytes_per_source_byte
    if ratio is None:
        return []
    pages = sum(kind[1] for kind in calibration.storage_by_kind.values()) or 1
    mix = ", ".join(
        f"{name} {kind[1] / pages:.0%} of pages: {kind[3] / kind[2]:.2f}" if kind[2] else f"{name}: no source bytes"
        for name, kind in calibration.storage_by_kind.items()
    )
    return [f"           {ratio:.2f} object bytes per source byte on the sample's migrated documents ({mix})"]


def _arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = OneLineParser(prog="edms-migrate estimate", add_help=False)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--documents", type=int, default=None)
    parser.add_argument("--deadline", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--scratch", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker_vcpus", type=int, default=4)
    parser.add_argument("--headroom", type=float, default=1.25)
    parser.add_argument("--overhead_ms_per_document", type=float, default=PIPELINE_CPU_SECONDS_PER_DOCUMENT * 1000)
    parser.add_argument("--vcpu_hour_price", type=float, default=None)
    parser.add_argument("--gb_month_price", type=float, default=None)
    parser.add_argument("--json", action="store_true")
    args, job_flags = parser.parse_known_args(argv)
    if args.sample < 1 or (args.documents is not None and args.documents < 1) or args.worker_vcpus < 1:
        raise UsageError("--sample, --documents and --worker_vcpus must be positive")
    if args.headroom < 1:
        raise UsageError("--headroom must be at least 1")
    if args.overhead_ms_per_document < 0:
        raise UsageError("--overhead_ms_per_document cannot be negative")
    if args.deadline <= dt.datetime.now(dt.UTC).date():
        raise UsageError(f"--deadline {args.deadline} is not in the future")
    return args, job_flags


def estimate_command(argv: list[str], now: dt.datetime | None = None) -> int:
    args, job_flags = _arguments(argv)
    scratch = args.scratch or tempfile.mkdtemp(prefix="edms-estimate-")
    options = parse_options([*job_flags, "--output", scratch, "--run_id", "estimate"])
    plan = plan_from(options)
    check_sources(plan)
    if args.scratch:
        check_output_writable(plan.output)
    found = census(plan.sources, args.sample, random.Random(args.seed))
    if not found.documents:
        raise UsageError("the sources hold no documents to sample")
    os.environ[_KEY_VARIABLE] = secrets.token_hex(32)
    settings = replace(plan.settings, patient_key=PatientKeyRef("env", _KEY_VARIABLE))
    try:
        calibration = measure(sampled_documents(plan.sources, found.sample), settings)
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    capacity = plan_capacity(
        calibration,
        args.documents or found.documents,
        args.deadline,
        now or dt.datetime.now(dt.UTC),
        worker_vcpus=args.worker_vcpus,
        headroom=args.headroom,
        overhead_cpu_seconds_per_document=args.overhead_ms_per_document / 1000,
        vcpu_hour_price=args.vcpu_hour_price,
        gb_month_price=args.gb_month_price,
    )
    where = args.scratch or "a temporary folder, removed"
    if args.json:
        print(json.dumps({"counted": found.documents, "calibration": asdict(calibration), "plan": asdict(capacity)}))
    else:
        print(report(calibration, found.documents, capacity, where))
    return 0
