"""The migration job: build(pipeline, options) wires the graph; run(argv) launches it.

python -m pipelines.migrate [--manifest MANIFEST ...] [--source PROFILE.json ...] --output PREFIX [Beam options]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import NoReturn

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions

from pipelines.openlineage_events import RunLineage
from pipelines.options import DEFAULT_MAX_QUARANTINE_RATE, MigrateOptions
from pipelines.report import format_summary
from schemas.tables import ORPHANS, RUNS, TABLES_BY_NAME
from transforms.imaging.decode import KNOWN_FORMATS
from transforms.imaging.image_job import ImageLimits
from transforms.lineage.bigquery_load import LoadIntoBigQuery, valid_dataset
from transforms.lineage.dedupe import DeduplicateDocuments
from transforms.lineage.orphans import FindOrphans
from transforms.lineage.review import FindRecordsForReview
from transforms.lineage.runs import RunInfo, code_version, file_sha256, runs_row
from transforms.lineage.summary import SummariseRun
from transforms.lineage.tables import (
    WriteLineage,
    WriteParquetTable,
    lineage_folder,
    summary_uri,
    superseded_lineage_files,
    table_prefix,
)
from transforms.migrate import MigrateDocuments, MigrationSettings
from transforms.privacy.index_record import MarkDuplicateRecordsFn
from transforms.privacy.patient_key import PatientKeyError, resolve_patient_key
from transforms.sources.layouts.canonical import ManifestError, check_header
from transforms.sources.layouts.csv_layout import check_csv_header
from transforms.sources.layouts.onbase_dip import check_dip_header
from transforms.sources.profiles import CANONICAL, SourceProfile, canonical_profile, expand_manifests, load_profile
from transforms.sources.read import ReadSources, SpreadAndFlagRepeatedIds
from transforms.storage.emulators import skip_credential_lookup_for_storage_emulator
from transforms.storage.objects import write_all

_LOGGER = logging.getLogger("edms_migrate")


class UsageError(Exception):
    """Misuse of the command line: reported as one line, exit code 2."""


@dataclass(frozen=True)
class MigrationPlan:
    """What build() needs, resolved once by the launcher: absolute URIs, run id, migration key."""

    sources: tuple[tuple[SourceProfile, str], ...]  # (profile, one index file), every file a glob names
    output: str
    run_id: str
    migration_key: str
    settings: MigrationSettings  # its patient_key is resolved by with_patient_key, after the cheap checks
    max_quarantine_rate: float = DEFAULT_MAX_QUARANTINE_RATE
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    bigquery_dataset: str | None = None
    bigquery_location: str | None = None
    manifest_sha256: tuple[str, ...] = ()
    options_json: str = "{}"
    blob_roots: tuple[str, ...] = ()
    profile_uris: tuple[str, ...] = ()

    @property
    def manifests(self) -> tuple[str, ...]:
        return tuple(manifest for _, manifest in self.sources)

    def run_info(self) -> RunInfo:
        return RunInfo(
            run_id=self.run_id,
            started_at=self.started_at,
            migration_key=self.migration_key,
            output_prefix=self.output,
            manifests=self.manifests,
            manifest_sha256=self.manifest_sha256,
            options_json=self.options_json,
            code_version=code_version(),
        )


def absolute(uri: str) -> str:
    return uri if "://" in uri else os.path.abspath(uri)


def migration_key_for(manifests: tuple[str, ...], output: str) -> str:
    """Same manifests into the same prefix → the same key, so a re-run replaces its own lineage."""
    return hashlib.sha256("\n".join([output, *sorted(manifests)]).encode()).hexdigest()[:12]


def _allowed_formats(text: str) -> frozenset[str]:
    formats = frozenset(name.strip().upper() for name in text.split(",") if name.strip())
    unknown = formats - KNOWN_FORMATS
    if not formats or unknown:
        raise UsageError(f"--allowed_formats takes some of {', '.join(sorted(KNOWN_FORMATS))}; got {text!r}")
    return formats


def load_document_types(uri: str | None) -> dict[str, frozenset[str]] | None:
    """The per-source lists of document types, read once by the launcher; a bad file is misuse."""
    if not uri:
        return None
    try:
        with FileSystems.open(absolute(uri), compression_type="uncompressed") as handle:
            lists = json.loads(handle.read())
    except Exception as error:  # missing file, bad JSON: one line for the user
        raise UsageError(f"cannot read --document_types {uri}: {type(error).__name__}: {error}") from error
    if not isinstance(lists, dict) or not all(
        isinstance(types, list) and all(isinstance(t, str) for t in types) for types in lists.values()
    ):
        raise UsageError(f"--document_types {uri} must be a JSON object of source system → list of type names")
    return {source: frozenset(types) for source, types in lists.items()}


def plan_from(options: PipelineOptions) -> MigrationPlan:
    migrate = options.view_as(MigrateOptions)
    if not migrate.manifest and not migrate.source:
        raise UsageError(
            "--manifest is required (a canonical manifest CSV, local path or gs:// URI), or --source PROFILE.json"
        )
    if not migrate.output:
        raise UsageError("--output is required (a local folder or gs:// prefix)")
    for flag in ("max_page_pixels", "max_pages", "decode_timeout_seconds"):
        if getattr(migrate, flag) <= 0:
            raise UsageError(f"--{flag} must be a positive number")
    if not 0 <= migrate.max_quarantine_rate <= 1:
        raise UsageError("--max_quarantine_rate must be between 0 and 1")
    output = absolute(migrate.output).rstrip("/")
    sources = [(canonical_profile(absolute(uri)), absolute(uri)) for uri in migrate.manifest or ()]
    profile_uris = tuple(absolute(uri) for uri in migrate.source or ())
    for profile in (load_profile(uri) for uri in profile_uris):
        sources += [(profile, manifest) for manifest in expand_manifests(profile)]
    manifests = tuple(manifest for _, manifest in sources)
    if len(set(manifests)) != len(manifests):
        raise UsageError("an index file is named twice (by two --manifest or --source): each is read once")
    if migrate.bigquery_dataset and not valid_dataset(migrate.bigquery_dataset):
        raise UsageError(f"--bigquery_dataset must be PROJECT.DATASET, not {migrate.bigquery_dataset!r}")
    started_at = dt.datetime.now(dt.UTC)
    run_id = migrate.run_id or f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    runner = options.get_all_options()["runner"]
    job_options = {
        "manifest": list(manifests),
        "source": list(profile_uris),
        "blob_root": list(migrate.blob_root or ()),
        "output": output,
        "run_id": run_id,
        "max_page_pixels": migrate.max_page_pixels,
        "max_pages": migrate.max_pages,
        "allowed_formats": migrate.allowed_formats,
        "decode_timeout_seconds": migrate.decode_timeout_seconds,
        "decode_memory_limit_mb": migrate.decode_memory_limit_mb,
        "decode_isolation": migrate.decode_isolation,
        "document_types": migrate.document_types,
        "max_quarantine_rate": migrate.max_quarantine_rate,
        "patient_key_file": migrate.patient_key_file,
        "bigquery_dataset": migrate.bigquery_dataset,
        "bigquery_location": migrate.bigquery_location,
        "runner": runner,
    }
    settings = MigrationSettings(
        output_prefix=output,
        run_id=run_id,
        limits=ImageLimits(migrate.max_page_pixels, migrate.max_pages, _allowed_formats(migrate.allowed_formats)),
        decode_timeout_seconds=migrate.decode_timeout_seconds,
        decode_memory_limit_mb=migrate.decode_memory_limit_mb or None,
        isolation=migrate.decode_isolation,
        document_types=load_document_types(migrate.document_types),
    )
    return MigrationPlan(
        tuple(sources),
        output,
        run_id,
        migration_key_for(manifests, output),
        settings,
        migrate.max_quarantine_rate,
        started_at=started_at,
        bigquery_dataset=migrate.bigquery_dataset,
        bigquery_location=migrate.bigquery_location,
        options_json=json.dumps(job_options, sort_keys=True),
        blob_roots=tuple(absolute(root).rstrip("/") for root in migrate.blob_root or ()),
        profile_uris=profile_uris,
    )


def with_patient_key(plan: MigrationPlan, options: PipelineOptions) -> MigrationPlan:
    """Resolved after the cheap checks, so misuse is still one line (a new local key logs where it is)."""
    migrate = options.view_as(MigrateOptions)
    try:
        key = resolve_patient_key(migrate.patient_key_file, options.get_all_options()["runner"])
    except PatientKeyError as error:
        raise UsageError(str(error)) from error
    return replace(plan, settings=replace(plan.settings, patient_key=key.key))


def check_sources(plan: MigrationPlan) -> None:
    """Every index must be readable in its layout before the job starts: a bad one is one line, exit code 2."""
    for profile, manifest in plan.sources:
        if profile.format == CANONICAL:
            check_header(manifest)
        elif profile.format == "onbase-dip":
            check_dip_header(manifest, profile)
        else:
            check_csv_header(manifest, profile)


def build(pipeline: beam.Pipeline, plan: MigrationPlan) -> dict[str, beam.PCollection]:
    """The whole graph, not run: sources → per-document migration → de-duplication → lineage + summary.

    Every source of the run meets in one graph, so de-duplication spans them all. Documents are counted after
    page-per-row rows are assembled, so the summary's invariant is documents in = documents out.
    """
    if not plan.settings.patient_key:
        raise ValueError("the plan has no patient key: resolve it with with_patient_key() first")
    rows = pipeline | "ReadSources" >> ReadSources(list(plan.sources))
    refs = rows | "Spread" >> SpreadAndFlagRepeatedIds()
    outcomes = refs | "Migrate" >> MigrateDocuments(plan.settings)
    final = (
        outcomes
        | "Deduplicate" >> DeduplicateDocuments()
        | "MarkDuplicateRecords" >> beam.ParDo(MarkDuplicateRecordsFn(plan.output))
    )
    info = plan.run_info()
    tables = final | "Lineage" >> WriteLineage(plan.output, plan.migration_key, plan.run_id, info.run_date)
    summary = (refs, final) | "Summary" >> SummariseRun(summary_uri(plan.output, plan.migration_key), plan.run_id)
    review = final | "Review" >> FindRecordsForReview(plan.run_id)
    for name, review_rows in review.items():
        tables[name] = review_rows | f"Write_{name}" >> WriteParquetTable(
            plan.output, TABLES_BY_NAME[name], plan.migration_key, plan.run_id, info.run_date
        )
    tables["runs"] = (
        summary["tallies"]
        | "RunsRow" >> beam.Map(runs_row, info)
        | "WriteRuns" >> WriteParquetTable(plan.output, RUNS, plan.migration_key, plan.run_id, info.run_date)
    )
    if plan.blob_roots:
        excluded = (*plan.manifests, *plan.profile_uris)
        tables["orphans"] = (
            refs
            | "Orphans" >> FindOrphans(list(plan.blob_roots), plan.run_id, excluded)
            | "WriteOrphans" >> WriteParquetTable(plan.output, ORPHANS, plan.migration_key, plan.run_id, info.run_date)
        )
    graph = {"outcomes": final, "summary": summary["summary"], **tables}
    if plan.bigquery_dataset:
        graph["bigquery_jobs"] = tables | "BigQuery" >> LoadIntoBigQuery(
            plan.bigquery_dataset, plan.run_id, plan.bigquery_location
        )
    return graph


def unknown_arguments(argv: list[str]) -> list[str]:
    """Flags that neither Beam nor this job knows (a typo must not be silently dropped); bad values raise."""
    from apache_beam.options.pipeline_options import _BeamArgumentParser  # the parser Beam itself uses

    class _StrictParser(_BeamArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UsageError(message)

    parser = _StrictParser(allow_abbrev=False, add_help=False)
    for options_class in PipelineOptions.__subclasses__():
        options_class._add_argparse_args(parser)
    _, unknown = parser.parse_known_args(argv)
    return [arg for arg in unknown if arg.startswith("-")]


def parse_options(argv: list[str]) -> PipelineOptions:
    unknown = unknown_arguments(argv)
    if unknown:
        raise UsageError(f"unrecognised option(s): {' '.join(unknown)}")
    options = PipelineOptions(argv)
    # Workers import this package: ship it with the job unless the user chose how.
    setup = options.view_as(SetupOptions)
    if (
        not setup.setup_file
        and not setup.requirements_file
        and options.get_all_options()["runner"] not in (None, "DirectRunner", "FnApiRunner", "BundleBasedDirectRunner")
    ):
        setup.setup_file = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "setup.py")
    return options


def check_output_writable(output: str) -> None:
    """A mistyped bucket must stop the job here, not quarantine every document as STORAGE_ERROR."""
    probe = FileSystems.join(output, "lineage", f".write-check-{uuid.uuid4().hex}")
    try:
        write_all(probe, b"edms-migrate write check\n")
        FileSystems.delete([probe])
    except Exception as error:  # any filesystem's failure, reported as one line
        raise UsageError(
            f"cannot write to --output {output}: {type(error).__name__}: {error}".splitlines()[0]
        ) from error


def count_orphans(plan: MigrationPlan) -> int:
    """Rows of this run's orphans table: the number an operator decommissioning a store looks for first."""
    pattern = table_prefix(plan.output, ORPHANS, plan.migration_key, plan.run_id) + "*.parquet"
    total = 0
    for metadata in FileSystems.match([pattern])[0].metadata_list:
        with FileSystems.open(metadata.path, compression_type="uncompressed") as handle:
            total += pq.ParquetFile(io.BytesIO(handle.read())).metadata.num_rows
    return total


def read_summary(plan: MigrationPlan) -> dict:
    with FileSystems.open(summary_uri(plan.output, plan.migration_key), compression_type="uncompressed") as handle:
        return json.loads(handle.read())


def migrate(argv: list[str]) -> int:
    """Launch, wait, print the summary. Returns the process exit code."""
    options = parse_options(argv)
    using_emulator = skip_credential_lookup_for_storage_emulator()
    FileSystems.set_options(options)
    plan = plan_from(options)
    check_sources(plan)
    plan = replace(plan, manifest_sha256=tuple(file_sha256(manifest) for manifest in plan.manifests))
    check_output_writable(plan.output)
    plan = with_patient_key(plan, options)
    if using_emulator:
        _LOGGER.info("STORAGE_EMULATOR_HOST is set: using the storage emulator without Google credentials")
    profiles = sorted({profile.name for profile, _ in plan.sources})
    _LOGGER.info(
        "run %s: %d index file(s) through profile(s) %s → %s",
        plan.run_id,
        len(plan.manifests),
        ", ".join(profiles),
        plan.output,
    )
    events = RunLineage(
        run_id=plan.run_id,
        migration_key=plan.migration_key,
        manifests=plan.manifests,
        output_prefix=plan.output,
        bigquery_dataset=plan.bigquery_dataset,
    )
    events.start()
    started = time.monotonic()
    try:
        with beam.Pipeline(options=options) as pipeline:
            build(pipeline, plan)
        elapsed = time.monotonic() - started
        stale = superseded_lineage_files(plan.output, plan.migration_key, plan.run_id)
        if stale:
            FileSystems.delete(stale)
            _LOGGER.info("replaced %d lineage file(s) of earlier runs of this migration", len(stale))
        summary = read_summary(plan)
    except BaseException as error:  # the FAIL event, then the error as before
        events.fail(error)
        raise
    events.complete(summary)
    print(format_summary(summary, elapsed_seconds=elapsed, output=plan.output, lineage=lineage_folder(plan.output)))
    if plan.blob_roots:
        orphans = count_orphans(plan)
        print(f"orphans:    {orphans:,} file(s) under --blob_root that no index references (lineage orphans table)")
    if not summary["balanced"]:
        print("ERROR: documents in ≠ documents out for some source system; see the summary", file=sys.stderr)
        return 1
    totals = summary["totals"]
    rate = totals["quarantined"] / totals["manifest_documents"] if totals["manifest_documents"] else 0.0
    if rate > plan.max_quarantine_rate:
        print(
            f"ERROR: {rate:.0%} of documents were quarantined, over --max_quarantine_rate "
            f"{plan.max_quarantine_rate:g}. Lineage is written: check the reasons (a wrong manifest or export?) "
            "before migrating more.",
            file=sys.stderr,
        )
        return 1
    return 0


def run(argv: list[str] | None = None) -> int:
    """`python -m pipelines.migrate`: the same job as `edms-migrate run`."""
    from pipelines.cli import configure_logging

    configure_logging()
    try:
        return migrate(list(sys.argv[1:] if argv is None else argv))
    except (UsageError, ManifestError) as error:
        print(f"edms-migrate: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
