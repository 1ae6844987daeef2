"""From parsed options to an immutable MigrationPlan: every check a launch makes before anything runs.

The plan is all that build() needs: absolute URIs, the run id, the migration key and the per-document settings.
A template, a dry run and a test all get their graph from the same plan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.console.usage import UsageError
from pipelines.engines.portable import workers_on_this_machine
from pipelines.launch.input_files import check_regular_file
from pipelines.launch.options import DEFAULT_MAX_QUARANTINE_RATE, MigrateOptions, recorded_options
from pipelines.launch.parallelism import decode_lanes, worker_processes
from transforms.imaging.image_job import ImageLimits
from transforms.imaging.signatures import KNOWN_FORMATS
from transforms.lineage.bigquery_load import valid_dataset
from transforms.lineage.runs import RunInfo, code_version
from transforms.migrate.document_step import MigrationSettings
from transforms.migrate.journal import JournalSettings
from transforms.privacy.patient_key import LOCAL_RUNNERS, PatientKeyError, choose_key_ref
from transforms.selection.access_log import check_access_log
from transforms.selection.state import history_files
from transforms.sources.layouts.registry import layout_for
from transforms.sources.paths import absolute, folder_of
from transforms.sources.profiles import SourceProfile, canonical_profile, expand_manifests, load_profile
from transforms.storage.blobs import ReadPolicy
from transforms.storage.throttle import ReadCaps


@dataclass(frozen=True)
class MigrationPlan:
    """What build() needs, resolved once by the launcher: absolute URIs, run id, migration key."""

    sources: tuple[tuple[SourceProfile, str], ...]  # (profile, one index file), every file a glob names
    output: str
    run_id: str
    migration_key: str
    settings: MigrationSettings  # its patient_key (where workers find it) is chosen by with_patient_key
    max_quarantine_rate: float = DEFAULT_MAX_QUARANTINE_RATE
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    bigquery_dataset: str | None = None
    bigquery_location: str | None = None
    manifest_sha256: tuple[str, ...] = ()
    options_json: str = "{}"
    blob_roots: tuple[str, ...] = ()
    profile_uris: tuple[str, ...] = ()
    history: tuple[str, ...] = ()  # earlier runs' documents files under PREFIX/lineage, listed before this run
    adopted: tuple[str, ...] = ()  # killed runs whose lineage this run resumes (the lease names them)
    access_log: str | None = None
    max_documents: int | None = None
    detached: bool = False  # nobody waits for the run: its final step emits the OpenLineage end event

    @property
    def manifests(self) -> tuple[str, ...]:
        return tuple(manifest for _, manifest in self.sources)

    def lineage_arguments(self) -> dict:
        """RunLineage's arguments for this run, the same for the launcher and the job's final step."""
        return {
            "run_id": self.run_id,
            "migration_key": self.migration_key,
            "manifests": self.manifests,
            "output_prefix": self.output,
            "bigquery_dataset": self.bigquery_dataset,
        }

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


def migration_key_for(manifests: tuple[str, ...], output: str) -> str:
    """Same manifests into the same prefix → the same key: a re-run's lineage files are named beside the earlier
    runs' (…-<key>-<run>-…) and add to that history; lineage is append-only, nothing of an earlier run replaced."""
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


def declared_roots(
    sources: list[tuple[SourceProfile, str]], blob_roots: tuple[str, ...], allowed_roots: tuple[str, ...]
) -> tuple[str, ...]:
    """Where documents may be read from: each index's folder, each profile's path_map targets, the --blob_roots
    and --allowed_roots. Anything else a row names is never read."""
    roots = {folder_of(manifest) for _, manifest in sources}
    roots |= {target for profile, _ in sources for _, target in profile.path_map}
    return tuple(sorted(roots | set(blob_roots) | set(allowed_roots)))


def local_identifiers(sources: list[tuple[SourceProfile, str]]) -> tuple[str, ...]:
    """Every profile's local_identifiers, for the whole run: a hospital number is one in whichever source it is."""
    return tuple(sorted({pattern for profile, _ in sources for pattern in profile.local_identifiers}))


def _check_values(migrate: MigrateOptions) -> None:
    if not migrate.manifest and not migrate.source:
        raise UsageError(
            "--manifest is required (a canonical manifest CSV, local path or gs:// URI), or --source PROFILE.json"
        )
    if not migrate.output:
        raise UsageError("--output is required (a local folder or gs:// prefix)")
    for flag in ("max_page_pixels", "max_pages", "decode_timeout_seconds", "max_document_bytes"):
        if getattr(migrate, flag) <= 0:
            raise UsageError(f"--{flag} must be a positive number")
    if migrate.max_source_reads_per_second < 0 or migrate.max_source_mib_per_second < 0:
        raise UsageError("--max_source_reads_per_second and --max_source_mib_per_second take 0 (no cap) or more")
    if migrate.decode_lanes < 0:
        raise UsageError("--decode_lanes must be 0 (auto) or a positive number")
    if migrate.lineage_flush_documents <= 0:
        raise UsageError("--lineage_flush_documents must be a positive number")
    if migrate.max_documents < 0:
        raise UsageError("--max_documents must be 0 (every outstanding document) or a positive number")
    if not 0 <= migrate.max_quarantine_rate <= 1:
        raise UsageError("--max_quarantine_rate must be between 0 and 1")
    if migrate.bigquery_dataset and not valid_dataset(migrate.bigquery_dataset):
        raise UsageError(f"--bigquery_dataset must be PROJECT.DATASET, not {migrate.bigquery_dataset!r}")


def plan_from(options: PipelineOptions, *, expand_remote: bool = True) -> MigrationPlan:
    """`expand_remote=False` (a dry run): a profile's gs:// glob is carried as it is instead of being listed."""
    migrate = options.view_as(MigrateOptions)
    _check_values(migrate)
    for flag, uris in (("--manifest", migrate.manifest), ("--source", migrate.source)):
        for uri in uris or ():
            check_regular_file(flag, absolute(uri))
    for flag, uri in (("--access_log", migrate.access_log), ("--document_types", migrate.document_types)):
        check_regular_file(flag, uri and absolute(uri))
    output = absolute(migrate.output).rstrip("/")
    sources = [(canonical_profile(absolute(uri)), absolute(uri)) for uri in migrate.manifest or ()]
    profile_uris = tuple(absolute(uri) for uri in migrate.source or ())
    for profile in (load_profile(uri) for uri in profile_uris):
        remote = "://" in profile.manifest and not expand_remote
        sources += [(profile, manifest) for manifest in ([profile.manifest] if remote else expand_manifests(profile))]
    manifests = tuple(manifest for _, manifest in sources)
    for manifest in manifests:  # a profile's index files too
        check_regular_file("index file", manifest)
    if len(set(manifests)) != len(manifests):
        raise UsageError("an index file is named twice (by two --manifest or --source): each is read once")
    started_at = dt.datetime.now(dt.UTC)
    run_id = migrate.run_id or f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    values = options.get_all_options()
    lanes = decode_lanes(migrate.decode_lanes, values)
    resolved = {
        "decode_lanes": lanes,
        "manifest": list(manifests),
        "source": list(profile_uris),
        "blob_root": list(migrate.blob_root or ()),
        "output": output,
        "run_id": run_id,
    }
    blob_roots = tuple(absolute(root).rstrip("/") for root in migrate.blob_root or ())
    reading = ReadPolicy(
        roots=declared_roots(sources, blob_roots, tuple(absolute(root) for root in migrate.allowed_roots or ())),
        max_document_bytes=migrate.max_document_bytes,
    )
    index_output = absolute(migrate.index_output).rstrip("/") if migrate.index_output else None
    settings = MigrationSettings(
        output_prefix=output,
        run_id=run_id,
        limits=ImageLimits(migrate.max_page_pixels, migrate.max_pages, _allowed_formats(migrate.allowed_formats)),
        decode_timeout_seconds=migrate.decode_timeout_seconds,
        decode_memory_limit_mb=migrate.decode_memory_limit_mb or None,
        isolation=migrate.decode_isolation,
        decode_lanes=lanes,
        document_types=load_document_types(migrate.document_types),
        reading=reading,
        read_caps=ReadCaps(
            migrate.max_source_reads_per_second, migrate.max_source_mib_per_second, worker_processes(options)
        ),
        journal=JournalSettings(
            output,
            migration_key_for(manifests, output),
            run_id,
            started_at.date(),
            migrate.lineage_flush_documents,
            attempt=uuid.uuid4().hex[:8],  # this launch's own journal names
            records_prefix=index_output or output,
        ),
        index_output=index_output,
        local_identifiers=local_identifiers(sources),
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
        options_json=json.dumps(recorded_options(migrate, resolved, values["runner"]), sort_keys=True),
        blob_roots=blob_roots,
        profile_uris=profile_uris,
        access_log=absolute(migrate.access_log) if migrate.access_log else None,
        max_documents=migrate.max_documents or None,
        detached=migrate.detached,
    )


def with_patient_key(plan: MigrationPlan, options: PipelineOptions) -> MigrationPlan:
    """Where workers will find the key, chosen and checked after the cheap checks, so misuse is still one line (a new
    local key logs where it is). The plan holds the reference, never the key."""
    migrate = options.view_as(MigrateOptions)
    values = options.get_all_options()
    try:
        ref = choose_key_ref(
            migrate.patient_key_file,
            migrate.patient_key_secret,
            values["runner"],
            workers_here=values["runner"] in LOCAL_RUNNERS or workers_on_this_machine(values),
        )
    except PatientKeyError as error:
        raise UsageError(str(error)) from error
    return replace(plan, settings=replace(plan.settings, patient_key=ref))


def check_sources(plan: MigrationPlan) -> None:
    """Every index (and the access log) must be readable before the job starts: a bad one is one line, exit 2."""
    for profile, manifest in plan.sources:
        layout_for(profile).check_header(manifest, profile)
    if plan.access_log:
        check_access_log(plan.access_log)


def with_history(plan: MigrationPlan) -> MigrationPlan:
    """The lineage earlier runs left under the output: what this run resumes from (listed before it writes)."""
    return replace(plan, history=history_files(plan.output))
