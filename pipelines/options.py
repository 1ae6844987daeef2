"""MigrateOptions: the job's own flags, beside every Beam pipeline option."""

from __future__ import annotations

import argparse

from apache_beam.options.pipeline_options import PipelineOptions

from transforms.migrate import DEFAULT_MAX_PAGE_PIXELS


class MigrateOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--manifest",
            action="append",
            default=None,
            help="Canonical manifest CSV (local path or gs:// URI); repeat for several.",
        )
        parser.add_argument(
            "--source",
            action="append",
            default=None,
            help="Source profile JSON (local path or gs:// URI); repeat for several. De-duplication spans them all.",
        )
        parser.add_argument(
            "--blob_root",
            action="append",
            default=None,
            help="Legacy store root whose files no index references are listed in the orphans table; repeatable.",
        )
        parser.add_argument(
            "--output",
            default=None,
            help="Output prefix (local folder or gs:// URI): objects/, quarantine/ and lineage/ go under it.",
        )
        parser.add_argument("--run_id", default=None, help="Run id recorded in lineage (default: UTC time + random).")
        parser.add_argument(
            "--max_page_pixels",
            type=int,
            default=DEFAULT_MAX_PAGE_PIXELS,
            help="Pages with more pixels are quarantined as DECOMPRESSION_BOMB before decoding.",
        )
