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
        parser.add_argument(
            "--patient_key_file",
            default=None,
            help="Secret key for patient pseudonyms (HMAC-SHA256); else $EDMS_PATIENT_KEY, else a local default.",
        )
        parser.add_argument(
            "--bigquery_dataset",
            default=None,
            help="PROJECT.DATASET: after the Parquet is written, load the run's tables into it with load jobs.",
        )
