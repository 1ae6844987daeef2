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
from dataclasses import dataclass

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions

from pipelines.options import MigrateOptions
from pipelines.report import format_summary
from schemas.tables import ORPHANS
from transforms.dedupe import DeduplicateDocuments
from transforms.emulators import skip_credential_lookup_for_storage_emulator
from transforms.layouts.csv_layout import check_csv_header
from transforms.layouts.onbase_dip import check_dip_header
from transforms.lineage import (
    WriteLineage,
    WriteParquetTable,
    lineage_folder,
    summary_uri,
    superseded_lineage_files,
    table_prefix,
)
from transforms.manifest import ManifestError, check_header
from transforms.migrate import MigrateDocuments
from transforms.orphans import FindOrphans
from transforms.profiles import CANONICAL, SourceProfile, canonical_profile, expand_manifests, load_profile
from transforms.sources import ReadSources, SpreadAndFlagRepeatedIds
from transforms.storage import write_all
from transforms.summary import SummariseRun

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
    max_page_pixels: int
    blob_roots: tuple[str, ...] = ()
    profile_uris: tuple[str, ...] = ()

    @property
    def manifests(self) -> tuple[str, ...]:
        return tuple(manifest for _, manifest in self.sources)


def absolute(uri: str) -> str:
    return uri if "://" in uri else os.path.abspath(uri)


def migration_key_for(manifests: tuple[str, ...], output: str) -> str:
    """Same manifests into the same prefix → the same key, so a re-run replaces its own lineage."""
    return hashlib.sha256("\n".join([output, *sorted(manifests)]).encode()).hexdigest()[:12]


def plan_from(options: PipelineOptions) -> MigrationPlan:
    migrate = options.view_as(MigrateOptions)
    if not migrate.manifest and not migrate.source:
        raise UsageError(
            "--manifest is required (a canonical manifest CSV, local path or gs:// URI), or --source PROFILE.json"
        )
    if not migrate.output:
        raise UsageError("--output is required (a local folder or gs:// prefix)")
    if migrate.max_page_pixels <= 0:
        raise UsageError("--max_page_pixels must be a positive number")
    output = absolute(migrate.output).rstrip("/")
    run_id = migrate.run_id or f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    sources = [(canonical_profile(absolute(uri)), absolute(uri)) for uri in migrate.manifest or ()]
    profile_uris = tuple(absolute(uri) for uri in migrate.source or ())
    for profile in (load_profile(uri) for uri in profile_uris):
        sources += [(profile, manifest) for manifest in expand_manifests(profile)]
    manifests = tuple(manifest for _, manifest in sources)
    if len(set(manifests)) != len(manifests):
        raise UsageError("an index file is named twice (by two --manifest or --source): each is read once")
    return MigrationPlan(
        tuple(sources),
        output,
        run_id,
        migration_key_for(manifests, output),
        migrate.max_page_pixels,
        blob_roots=tuple(absolute(root).rstrip("/") for root in migrate.blob_root or ()),
        profile_uris=profile_uris,
    )


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
    rows = pipeline | "ReadSources" >> ReadSources(list(plan.sources))
    refs = rows | "Spread" >> SpreadAndFlagRepeatedIds()
    outcomes = refs | "Migrate" >> MigrateDocuments(plan.output, plan.run_id, max_page_pixels=plan.max_page_pixels)
    final = outcomes | "Deduplicate" >> DeduplicateDocuments()
    tables = final | "Lineage" >> WriteLineage(plan.output, plan.migration_key, plan.run_id)
    summary = (refs, final) | "Summary" >> SummariseRun(summary_uri(plan.output, plan.migration_key), plan.run_id)
    if plan.blob_roots:
        excluded = (*plan.manifests, *plan.profile_uris)
        orphans = refs | "Orphans" >> FindOrphans(list(plan.blob_roots), plan.run_id, excluded)
        tables["orphans"] = orphans | "WriteOrphans" >> WriteParquetTable(
            plan.output, ORPHANS, plan.migration_key, plan.run_id
        )
    return {"outcomes": final, "summary": summary, **tables}


def unknown_arguments(argv: list[str]) -> list[str]:
    """Flags that neither Beam nor this job knows: a typo must not be silently dropped."""
    from apache_beam.options.pipeline_options import _BeamArgumentParser  # the parser Beam itself uses

    parser = _BeamArgumentParser(allow_abbrev=False, add_help=False)
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
    check_output_writable(plan.output)
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
    started = time.monotonic()
    with beam.Pipeline(options=options) as pipeline:
        build(pipeline, plan)
    elapsed = time.monotonic() - started
    stale = superseded_lineage_files(plan.output, plan.migration_key, plan.run_id)
    if stale:
        FileSystems.delete(stale)
        _LOGGER.info("replaced %d lineage file(s) of earlier runs of this migration", len(stale))
    summary = read_summary(plan)
    print(format_summary(summary, elapsed_seconds=elapsed, output=plan.output, lineage=lineage_folder(plan.output)))
    if plan.blob_roots:
        orphans = count_orphans(plan)
        print(f"orphans:    {orphans:,} file(s) under --blob_root that no index references (lineage orphans table)")
    if not summary["balanced"]:
        print("ERROR: documents in ≠ documents out for some source system; see the summary", file=sys.stderr)
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
