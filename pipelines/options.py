"""MigrateOptions: the job's own flags, beside every Beam pipeline option."""

from __future__ import annotations

import argparse

from apache_beam.options.pipeline_options import PipelineOptions

from transforms.imaging.image_job import DEFAULT_ALLOWED_FORMATS, DEFAULT_MAX_PAGE_PIXELS, DEFAULT_MAX_PAGES
from transforms.migrate import DEFAULT_DECODE_MEMORY_LIMIT_MB, DEFAULT_DECODE_TIMEOUT_SECONDS

#: Past this share of quarantined documents the run still writes its lineage, then fails: a wrong export or
#: profile (which quarantines nearly everything) must not quietly quarantine millions of documents. High enough
#: for a dump that is mostly defects on purpose (the demo's is 46%), low enough for any wrong mapping.
DEFAULT_MAX_QUARANTINE_RATE = 0.8
#: London: UK patient data stays in the UK unless an operator says otherwise.
DEFAULT_BIGQUERY_LOCATION = "europe-west2"


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
            help="Output prefix (local folder or gs:// URI): objects/, quarantine/, lineage/ go under it.",
        )
        parser.add_argument("--run_id", default=None, help="Run id recorded in lineage (default: UTC time + random).")
        parser.add_argument(
            "--max_page_pixels",
            type=int,
            default=DEFAULT_MAX_PAGE_PIXELS,
            help="Pages with more pixels are quarantined as DECOMPRESSION_BOMB before decoding.",
        )
        parser.add_argument(
            "--max_pages",
            type=int,
            default=DEFAULT_MAX_PAGES,
            help="Documents with more pages are quarantined as DECOMPRESSION_BOMB before decoding.",
        )
        parser.add_argument(
            "--allowed_formats",
            default=",".join(sorted(DEFAULT_ALLOWED_FORMATS)),
            help="Comma-separated image formats to decode; others are UNSUPPORTED_FORMAT.",
        )
        parser.add_argument(
            "--decode_timeout_seconds",
            type=float,
            default=DEFAULT_DECODE_TIMEOUT_SECONDS,
            help="Time limit per document's decode and encode; past it DECODE_TIMEOUT.",
        )
        parser.add_argument(
            "--decode_memory_limit_mb",
            type=int,
            default=DEFAULT_DECODE_MEMORY_LIMIT_MB,
            help="Address-space cap of the isolated decoder process (0: no cap).",
        )
        parser.add_argument(
            "--decode_isolation",
            choices=("always", "risky", "never"),
            default="always",
            help="Which documents decode in an isolated child process, where a hang or native crash costs one "
            "document: always, risky (rare formats, exotic TIFF compressions, large blobs) or never.",
        )
        parser.add_argument(
            "--document_types",
            default=None,
            help='JSON file {"SOURCE_SYSTEM": ["type", ...], "*": [...]}: other types are DOCUMENT_TYPE_UNKNOWN.',
        )
        parser.add_argument(
            "--max_quarantine_rate",
            type=float,
            default=DEFAULT_MAX_QUARANTINE_RATE,
            help="Fail the run (after writing lineage) if a larger share of documents is quarantined.",
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
        parser.add_argument(
            "--bigquery_location",
            default=DEFAULT_BIGQUERY_LOCATION,
            help="Where a missing dataset is created and load jobs run; keep patient data in its region.",
        )
