"""The job's own options, each declared once.

From JOB_OPTIONS come the Beam options class (so Beam's parser and ours agree), the options recorded with every
run (`options_json`), `edms-migrate run --help`, the options other subcommands share with the job
(add_job_options), the options table in docs/running.md and the template's parameters (pipelines/generators/).
A new option is one entry here.
"""

from __future__ import annotations

import argparse
from collections.abc import Collection, Mapping
from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.engines.worker_pool import WORKER_POOL_HELP
from pipelines.launch.job_option import JobOption
from transforms.imaging.image_job import DEFAULT_ALLOWED_FORMATS, DEFAULT_MAX_PAGE_PIXELS, DEFAULT_MAX_PAGES
from transforms.migrate.document_step import DEFAULT_DECODE_MEMORY_LIMIT_MB, DEFAULT_DECODE_TIMEOUT_SECONDS
from transforms.migrate.journal import DEFAULT_JOURNAL_ROWS
from transforms.storage.blobs import DEFAULT_MAX_DOCUMENT_BYTES

#: Past this share of quarantined documents the run still writes its lineage, then fails: a wrong export or
#: profile (which quarantines nearly everything) must not quietly quarantine millions of documents. High enough
#: for a dump that is mostly defects on purpose (the demo's is 46%), low enough for any wrong mapping.
DEFAULT_MAX_QUARANTINE_RATE = 0.8
#: London: UK patient data stays in the UK unless an operator says otherwise.
DEFAULT_BIGQUERY_LOCATION = "europe-west2"
#: Where buckets and datasets holding patient data may be (pipelines/launch/preflight.py): London, by default.
DEFAULT_ALLOWED_LOCATIONS = "europe-west2"


JOB_OPTIONS: tuple[JobOption, ...] = (
    JobOption(
        "manifest",
        "Canonical manifest CSV (local path or gs:// URI); repeat for several.",
        repeatable=True,
        table_default="required",
        param_type="GCS_READ_FILE",
    ),
    JobOption(
        "source",
        "Source profile JSON (local path or gs:// URI); repeat for several. De-duplication spans them all.",
        repeatable=True,
        param_type="GCS_READ_FILE",
    ),
    JobOption(
        "blob_root",
        "Legacy store root whose files no index references are listed in the orphans table; repeatable.",
        repeatable=True,
        param_type="GCS_READ_FOLDER",
    ),
    JobOption(
        "allowed_roots",
        "A further place documents may be read from, beside each index's folder, the profiles' path_map targets "
        "and --blob_root; repeatable. A location outside them all is BLOB_OUTSIDE_ROOTS and is never read.",
        repeatable=True,
    ),
    JobOption(
        "access_log",
        "CSV of source_system, document_id, access_count, last_accessed: the documents clinicians open most "
        "migrate first (ties: the most recent document date); documents not in it come after all that are.",
    ),
    JobOption(
        "max_documents",
        "Migrate at most this many outstanding documents, the highest priority first; run again for the next "
        "wave. 0: every outstanding document.",
        0,
        int,
    ),
    JobOption(
        "lineage_flush_documents",
        "Outcomes each worker holds before writing them to lineage: a killed job loses at most this many "
        "documents' work per worker, and a re-run redoes only those.",
        DEFAULT_JOURNAL_ROWS,
        int,
    ),
    JobOption(
        "max_source_reads_per_second",
        "Cap on document reads per second from each source system, for the whole job (0: no cap): the legacy "
        "stores keep serving the hospital meanwhile.",
        0.0,
        float,
    ),
    JobOption(
        "max_source_mib_per_second",
        "Cap on MiB per second read from each source system, for the whole job (0: no cap).",
        0.0,
        float,
    ),
    JobOption(
        "output",
        "Output prefix (local folder or gs:// URI): objects/, quarantine/, lineage/ go under it.",
        table_default="required",
        required=True,
        param_type="GCS_WRITE_FOLDER",
    ),
    JobOption("run_id", "Run id recorded in lineage (default: UTC time + random)."),
    JobOption(
        "max_page_pixels",
        "Pages with more pixels are quarantined as DECOMPRESSION_BOMB before decoding.",
        DEFAULT_MAX_PAGE_PIXELS,
        int,
    ),
    JobOption(
        "max_pages",
        "Documents with more pages are quarantined as DECOMPRESSION_BOMB before decoding.",
        DEFAULT_MAX_PAGES,
        int,
    ),
    JobOption(
        "max_document_bytes",
        "Documents larger than this are quarantined as DOCUMENT_TOO_LARGE without being read.",
        DEFAULT_MAX_DOCUMENT_BYTES,
        int,
    ),
    JobOption(
        "allowed_formats",
        "Comma-separated formats to migrate (image formats, and PDF); others are UNSUPPORTED_FORMAT.",
        ",".join(sorted(DEFAULT_ALLOWED_FORMATS)),
    ),
    JobOption(
        "decode_timeout_seconds",
        "Time limit per document's decode and encode; past it DECODE_TIMEOUT.",
        DEFAULT_DECODE_TIMEOUT_SECONDS,
        float,
    ),
    JobOption(
        "decode_memory_limit_mb",
        "Address-space cap of the isolated decoder process (0: no cap).",
        DEFAULT_DECODE_MEMORY_LIMIT_MB,
        int,
    ),
    JobOption(
        "decode_isolation",
        "Which documents decode in an isolated child process, where a hang or native crash costs one "
        "document: always, risky (rare formats, exotic TIFF compressions, large blobs) or never.",
        "always",
        choices=("always", "risky", "never"),
    ),
    JobOption(
        "decode_lanes",
        "Documents each worker process migrates at once, each lane with a decoder child of its own (0: auto). "
        "Auto is the machine's cores for the in-process DirectRunner (cores divided by --direct_num_workers in "
        "its multi-threading or multi-processing modes), and 1 on Dataflow and other runners: Dataflow's Python "
        "workers already run an SDK process per vCPU, each with several threads, so more lanes there only add "
        "decoder children and memory.",
        0,
        int,
    ),
    JobOption(
        "document_types",
        'JSON file {"SOURCE_SYSTEM": ["type", ...], "*": [...]}: other types are DOCUMENT_TYPE_UNKNOWN.',
        param_type="GCS_READ_FILE",
    ),
    JobOption(
        "max_quarantine_rate",
        "Fail the run (after writing lineage) if a larger share of documents is quarantined.",
        DEFAULT_MAX_QUARANTINE_RATE,
        float,
    ),
    JobOption(
        "patient_key_file",
        "File holding the secret key for patient pseudonyms (HMAC-SHA256), a path or gs:// URI; workers read it. "
        "Else $EDMS_PATIENT_KEY (local runners), else a local default.",
        param_type="GCS_READ_FILE",
    ),
    JobOption(
        "patient_key_secret",
        "Secret Manager version holding the patient key (projects/P/secrets/S/versions/V); workers fetch it in "
        "setup(), so the key never travels in the job graph.",
    ),
    JobOption(
        "bigquery_dataset",
        "PROJECT.DATASET: after the Parquet is written, load the run's tables into it with load jobs.",
    ),
    JobOption(
        "bigquery_location",
        "Where a missing dataset is created and load jobs run; keep patient data in its region.",
        DEFAULT_BIGQUERY_LOCATION,
    ),
    JobOption(
        "index_output",
        "Prefix of the EDMS records (FHIR NDJSON under PREFIX/fhir/), which hold NHS numbers (default: --output).",
        param_type="GCS_WRITE_FOLDER",
    ),
    JobOption(
        "fhir_config",
        "JSON file: identifier systems and ODS codes per source system, SNOMED CT per document type, "
        "confidentiality rules (docs/edms.md). Without it: default identifier systems, uncoded types, label N.",
        param_type="GCS_READ_FILE",
    ),
    JobOption(
        "allowed_locations",
        "Comma-separated locations the destination's buckets and dataset may be in (preflight).",
        DEFAULT_ALLOWED_LOCATIONS,
    ),
    JobOption(
        "preflight",
        "What a failed check of the destination's security posture does before anything is written: fail the "
        "launch (exit 2) or warn and continue.",
        "fail",
        choices=("fail", "warn"),
    ),
    JobOption("skip_preflight", "Skip the destination's posture checks altogether.", False, switch=True),
    JobOption("worker_pool", WORKER_POOL_HELP, choices=("local",), runners=("Flink", "Spark")),
    JobOption(
        "break_stale_lease",
        "Take the output's lease from a run that holds it with no heartbeat for 10 minutes (or a finished detached "
        "job): recorded in the runs row. Without it such a run is refused, exit 2.",
        False,
        switch=True,
    ),
    JobOption(
        "detached",
        "Submit the job and return without waiting (a Flex Template launch always does): the job's final step "
        "then emits the OpenLineage COMPLETE or FAIL event itself.",
        False,
        switch=True,
        runners=("Dataflow", "Flink", "Spark"),
    ),
)


#: status, reconcile and report: identifiers only when asked (pipelines/evidence/restricted.py).
SHOW_IDENTIFIERS = JobOption(
    "show_identifiers",
    "Name documents by their legacy ids (from the manifests or the restricted records), not by their pseudonyms.",
    False,
    switch=True,
)


class MigrateOptions(PipelineOptions):
    """The job's options as Beam pipeline options: one view of JOB_OPTIONS."""

    @classmethod
    def _add_argparse_args(cls, parser: argparse.ArgumentParser) -> None:
        for option in JOB_OPTIONS:
            option.add_to(parser)


def recorded_options(migrate: MigrateOptions, resolved: Mapping[str, Any], runner: str | None) -> dict[str, Any]:
    """Every job option as this run used it (`resolved` holds what the launcher made absolute or expanded), and the
    runner: what the runs table keeps as options_json."""
    values = {option.name: getattr(migrate, option.name) for option in JOB_OPTIONS}
    return {**values, **resolved, "runner": runner}


def add_job_options(
    parser: argparse.ArgumentParser,
    names: Collection[str],
    *,
    required: Collection[str] = (),
    show_default: bool = False,
) -> None:
    """The named job options, in the order named, onto a subcommand's parser: a subcommand that takes --output or
    --manifest takes the job's own declaration of it. Those in `required` the parser itself insists on."""
    declared = {option.name: option for option in JOB_OPTIONS}
    for name in names:
        declared[name].add_to(parser, show_default=show_default, required=name in required)


def help_text() -> str:
    """`edms-migrate run --help`: the job's options, then where Beam's own are described."""
    parser = argparse.ArgumentParser(
        prog="edms-migrate run",
        usage="edms-migrate run [--manifest MANIFEST ...] [--source PROFILE.json ...] --output PREFIX "
        "[job options] [Beam pipeline options]",
        description="Migrate legacy document dumps into object storage, with lineage.",
        epilog="Every other --flag is a Beam pipeline option (--runner, --direct_num_workers, --project, "
        "--region, --temp_location, …): see https://beam.apache.org/documentation/runners/direct/ and "
        "https://cloud.google.com/dataflow/docs/reference/pipeline-options. Flink and Spark (--runner FlinkRunner "
        "or SparkRunner): --flink_master, --parallelism, --spark_master_url, --environment_type LOOPBACK or "
        "EXTERNAL, --environment_config, --job_endpoint; the job-server jar comes from `edms-migrate fetch-jars` "
        "(docs/flink-spark.md). The options table is also in docs/running.md.",
        add_help=False,
    )
    group = parser.add_argument_group("job options")
    for option in JOB_OPTIONS:
        option.add_to(group, show_default=True)
    return parser.format_help()
