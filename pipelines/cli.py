"""The edms-migrate command: run, report, demo and sample-dump.

Misuse gets one line and exit code 2; everything after `run` that is not the job's
own flag is handed to Beam as a pipeline option.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import NoReturn

_USAGE = """edms-migrate run [--manifest MANIFEST ...] [--source PROFILE.json ...] [--blob_root URI ...] --output PREFIX
                        [Beam pipeline options]
       edms-migrate report PREFIX [--out FILE]
       edms-migrate demo [--output DIR]
       edms-migrate sample-dump DIR"""


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"edms-migrate: error: {message}\n")


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("apache_beam", "gcp_storage_emulator", "urllib3", "google"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="edms-migrate", usage=_USAGE, description="Migrate a legacy scanned-document archive into object storage."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    commands.add_parser("run", help="migrate a dump (all remaining arguments go to the job and Beam)", add_help=False)
    demo = commands.add_parser("demo", help="write a sample legacy dump and migrate it on the DirectRunner")
    demo.add_argument(
        "--output", default="./edms-demo", help="folder for the dump and the migration (default ./edms-demo)"
    )
    report = commands.add_parser("report", help="write a self-contained HTML report of a migration's lineage")
    report.add_argument("prefix", help="the migration's --output (local folder or gs:// prefix)")
    report.add_argument("--out", default=None, help="where to write it (default PREFIX/report.html)")
    sample = commands.add_parser("sample-dump", help="write a realistic sample legacy dump")
    sample.add_argument("directory", help="folder to write the dump into")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return parser


def _absolute(uri: str) -> str:
    import os

    return uri.rstrip("/") if "://" in uri else os.path.abspath(uri)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "run":  # Beam's own flags must reach Beam untouched
        from pipelines.migrate import run

        return run(argv[1:])
    args = _parser().parse_args(argv)
    configure_logging()
    from pipelines.demo import run_demo, write_dump
    from pipelines.migrate import UsageError
    from pipelines.report_html import ReportError, write_report

    try:
        if args.command == "demo":
            return run_demo(args.output)
        if args.command == "report":
            print(f"report: {write_report(_absolute(args.prefix), args.out)}")
            return 0
        write_dump(args.directory, seed=args.seed)
        return 0
    except (UsageError, ReportError) as error:
        print(f"edms-migrate: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
