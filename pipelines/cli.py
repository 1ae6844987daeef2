"""The edms-migrate command: run, status, reconcile, report, demo and sample-dump.

Misuse gets one line and exit code 2; everything after `run` that is not the job's
own flag is handed to Beam as a pipeline option.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from pipelines.capacity.estimate import __doc__ as estimate_doc
from pipelines.capacity.estimate import estimate_command
from pipelines.console.process import configure_logging, exit_without_finalising
from pipelines.console.usage import OneLineParser, UsageError, print_error
from pipelines.demo import run_demo, write_dump
from pipelines.evidence.lineage_db import ReportError
from pipelines.launch.launcher import run
from pipelines.launch.options import SHOW_IDENTIFIERS, help_text
from pipelines.launch.preflight import preflight_command
from pipelines.operate import reconcile, status
from pipelines.reports.report_page import write_report
from transforms.sources.errors import ManifestError
from transforms.sources.paths import absolute

_USAGE = """edms-migrate run [--manifest MANIFEST ...] [--source PROFILE.json ...] [--blob_root URI ...] --output PREFIX
                        [Beam pipeline options]
       edms-migrate preflight --output gs://BUCKET/PREFIX [--index_output URI] [--bigquery_dataset P.D]
                              [--allowed_locations LOC,...]
       edms-migrate estimate [--manifest MANIFEST ...] [--source PROFILE.json ...] --deadline YYYY-MM-DD
                             [--sample 300] [--documents N] [--vcpu_hour_price P] [--gb_month_price P] [--json]
       edms-migrate status --output PREFIX [--manifest MANIFEST ...] [--source PROFILE.json ...] [--access_log CSV]
                           [--show_identifiers]
       edms-migrate reconcile --output PREFIX [--manifest MANIFEST ...] [--source PROFILE.json ...]
                              [--verify_objects all|sample:N] [--show_identifiers]
       edms-migrate report PREFIX [--out FILE] [--show_identifiers]
       edms-migrate demo [--output DIR]
       edms-migrate sample-dump DIR"""


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="edms-migrate", usage=_USAGE, description="Migrate a legacy scanned-document archive into object storage."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    commands.add_parser(
        "run",
        help="migrate a dump (all remaining arguments go to the job and Beam; run --help lists them)",
        add_help=False,
    )
    commands.add_parser(
        "preflight",
        help="check the destination's security posture (buckets, dataset) before any patient data is written",
        add_help=False,
    )
    commands.add_parser(
        "estimate",
        help="a capacity plan (vCPU-hours, workers × hours to a deadline, storage, cost) from a calibration run",
        add_help=False,
    )
    demo = commands.add_parser("demo", help="write a sample legacy dump and migrate it on the DirectRunner")
    demo.add_argument(
        "--output", default="./edms-demo", help="folder for the dump and the migration (default ./edms-demo)"
    )
    status.add_arguments(commands.add_parser("status", help="how far a migration has got, and the time left"))
    reconcile.add_arguments(
        commands.add_parser("reconcile", help="prove every manifest document is accounted for (exit 0) or not (1)")
    )
    report = commands.add_parser("report", help="write a self-contained HTML report of a migration's lineage")
    report.add_argument("prefix", help="the migration's --output (local folder or gs:// prefix)")
    report.add_argument("--out", default=None, help="where to write it (default PREFIX/report.html)")
    SHOW_IDENTIFIERS.add_to(report)
    sample = commands.add_parser("sample-dump", help="write a realistic sample legacy dump")
    sample.add_argument("directory", help="folder to write the dump into")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "run":  # Beam's own flags must reach Beam untouched
        if {"-h", "--help"} & set(argv[1:]):
            print(help_text())
            return 0
        return run(argv[1:])
    if argv and argv[0] in ("preflight", "estimate"):  # their own flags, and the job's, parsed by each
        if argv[0] == "estimate" and {"-h", "--help"} & set(argv[1:]):
            print(estimate_doc)
            return 0
        configure_logging()
        try:
            return (preflight_command if argv[0] == "preflight" else estimate_command)(argv[1:])
        except (UsageError, ManifestError) as error:
            return print_error(error)
    try:
        args = _parser().parse_args(argv)
    except UsageError as error:  # one line and exit code 2, as argparse's own exit would, without its usage block
        sys.exit(print_error(error))
    configure_logging()
    try:
        if args.command == "demo":
            return run_demo(args.output)
        if args.command in ("status", "reconcile"):
            return {"status": status.main, "reconcile": reconcile.main}[args.command](args)
        if args.command == "report":
            prefix, out = absolute(args.prefix).rstrip("/"), absolute(args.out) if args.out else None
            print(f"report: {write_report(prefix, out, args.show_identifiers)}")
            return 0
        write_dump(args.directory, seed=args.seed)
        return 0
    except (UsageError, ReportError, ManifestError) as error:
        return print_error(error)


def entry() -> NoReturn:
    """The console script: main(), then an exit that a runtime's native threads cannot turn into SIGABRT."""
    try:
        code: int | str | None = main()
    except SystemExit as stop:  # argparse's --help and errors
        code = stop.code
    exit_without_finalising(code)


if __name__ == "__main__":
    entry()
