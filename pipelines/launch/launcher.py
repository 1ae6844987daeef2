"""The launcher: argv → options → plan → checks → run the graph → summary → exit code.

`edms-migrate run …` and `python -m pipelines.migrate …` both end here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from dataclasses import replace
from typing import NoReturn

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions, WorkerOptions

from pipelines.console.process import configure_logging
from pipelines.console.usage import UsageError, print_error
from pipelines.engines.portable import is_portable, prepare_portable
from pipelines.engines.worker_pool import local_worker_pool
from pipelines.launch.dry_run import dry_run, is_dry_run
from pipelines.launch.fhir_config import with_earlier_records, with_edms
from pipelines.launch.graph import build
from pipelines.launch.job_lineage import submitted_message
from pipelines.launch.lease import OutputLease
from pipelines.launch.nesting import check_no_nesting
from pipelines.launch.openlineage_events import RunLineage
from pipelines.launch.options import MigrateOptions
from pipelines.launch.parallelism import runs_in_this_process
from pipelines.launch.plan import MigrationPlan, check_sources, plan_from, with_history, with_patient_key
from pipelines.launch.preflight import launch_checks
from pipelines.launch.run_record import check_lineage, check_run_id_unused, launcher_evidence_key, record_run
from pipelines.reports.edms import edms_line, edms_verdict
from pipelines.reports.summary_text import format_summary
from schemas.tables import ORPHANS
from transforms.decoders.warm_decoders import start_decoders_early
from transforms.edms.retire import retire_document_references
from transforms.edms.summary import read_summary as read_edms_summary
from transforms.lineage.readback import count_rows, quarantined_documents
from transforms.lineage.runs import file_sha256
from transforms.lineage.summary import check_failure
from transforms.privacy.key_source import key_for_worker
from transforms.privacy.patient_key import LOCAL_RUNNERS
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.sources.errors import ManifestError
from transforms.sources.paths import absolute, folder_of
from transforms.storage.damage import named_in
from transforms.storage.emulators import skip_credential_lookup_for_storage_emulator
from transforms.storage.objects import owner_only_umask, write_all
from transforms.storage.output_layout import fhir_folder, lineage_folder, summary_uri, write_check_uri
from transforms.storage.signed_files import signed_files

_LOGGER = logging.getLogger("edms_migrate")
#: The access log's one line (transforms/selection/access_log.py), raised on a worker, found in the runner's error.
_ACCESS_LOG_ERROR = re.compile(r"cannot read --access_log \S+: it is not a CSV file \(\w+\)")
#: The folder holding setup.py: pipelines/launch/launcher.py is three levels below it.
_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
    # Workers import this package: ship it with the job unless the user chose how, or the workers' container
    # (the template image, templates/Dockerfile) already has it installed.
    setup = options.view_as(SetupOptions)
    if (
        not setup.setup_file
        and not setup.requirements_file
        and not options.view_as(WorkerOptions).sdk_container_image
        and options.get_all_options()["runner"] not in LOCAL_RUNNERS
        and not is_portable(options.get_all_options())  # LOOPBACK and EXTERNAL workers install nothing staged
    ):
        setup.setup_file = os.path.join(_PROJECT_ROOT, "setup.py")
    return options


def check_output_writable(output: str, flag: str = "--output") -> None:
    """A mistyped bucket must stop the job here, not quarantine every document as STORAGE_ERROR.

    In the archive (--output) the probe, a few bytes under a fresh name each launch, is kept: nothing there is
    deleted, and a bucket retention policy (preflight asks for one) would refuse it anyway. Elsewhere (the EDMS
    records' own bucket) it is deleted where it can be, so that bucket holds only records."""
    probe = write_check_uri(output, uuid.uuid4().hex)
    try:
        write_all(probe, b"edms-migrate write check\n")
    except Exception as error:  # any filesystem's failure, reported as one line
        raise UsageError(f"cannot write to {flag} {output}: {type(error).__name__}: {error}".splitlines()[0]) from error
    if flag != "--output":
        try:
            FileSystems.delete([probe])
        except Exception:  # a records bucket under a retention policy (the trust's choice there)
            _LOGGER.info("the write check %s stays until the bucket's retention period ends", probe)


def count_orphans(plan: MigrationPlan) -> int:
    """Rows of this run's orphans table: the number an operator decommissioning a store looks for first."""
    return count_rows(plan.output, ORPHANS, plan.migration_key, plan.run_id)


def read_summary(plan: MigrationPlan) -> dict:
    uri = summary_uri(plan.output, plan.migration_key, plan.run_id)
    with FileSystems.open((signed_files(uri) or [uri])[0], compression_type="uncompressed") as handle:
        return json.loads(handle.read())


def prepare(argv: list[str]) -> tuple[PipelineOptions, MigrationPlan]:
    """Every check a launch makes, cheapest first, before any document is read."""
    options = parse_options(argv)
    using_emulator = skip_credential_lookup_for_storage_emulator()
    FileSystems.set_options(options)
    prepare_portable(options)  # Flink, Spark: the job-server jar and the workers' environment, checked
    plan = with_edms(plan_from(options), options.view_as(MigrateOptions).fhir_config)
    check_sources(plan)
    index_folders = {folder_of(manifest) for manifest in plan.manifests}
    allowed = {absolute(root).rstrip("/") for root in options.view_as(MigrateOptions).allowed_roots or ()}
    mapped = {target.rstrip("/") for profile, _ in plan.sources for _, target in profile.path_map}
    declared = allowed | mapped | set(plan.blob_roots)
    outputs = {"--output": plan.output, "--index_output": plan.settings.index_output}
    check_no_nesting(outputs, tuple(declared), index_folders)
    plan = replace(plan, manifest_sha256=tuple(file_sha256(manifest) for manifest in plan.manifests))
    launch_checks(options, plan.output)  # the destination's security posture, before anything is written
    for flag, output in (("--output", plan.output), ("--index_output", plan.settings.index_output)):
        if output:
            check_output_writable(output, flag)
    check_run_id_unused(plan)
    plan = with_patient_key(plan, options)  # the lineage it resumes from is listed once it holds the lease
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
    return options, plan


def migrate(argv: list[str]) -> int:
    """Launch, wait, print the summary. Returns the process exit code.

    Under an owner-only umask: every local output holds patient data. The job's own writes (objects, quarantine,
    and the lineage Parquet, made with pyarrow, no Beam sink) go through write_all or write_once, which set 0600
    whatever the umask; the umask covers anything a library creates on its own.
    """
    with owner_only_umask():
        return _migrate(argv)


def _migrate(argv: list[str]) -> int:
    if is_dry_run(parse_options(argv)):  # translate for Dataflow offline, submit nothing
        return dry_run(parse_options(argv))
    options, plan = prepare(argv)
    key = launcher_evidence_key(plan)
    lease = OutputLease(plan.output, key)
    held = lease.acquire(
        plan.run_id, break_stale=options.view_as(MigrateOptions).break_stale_lease, detached=plan.detached
    )
    try:
        check_lineage(plan, key, held.adopts)
        plan = replace(with_earlier_records(with_history(plan), held.adopts), adopted=held.adopts)
        if not plan.detached:
            lease.start_heartbeat()
        return _launch(options, plan, key, lease)
    except Exception as error:  # a damaged lineage file, met by a worker: one line, as every misuse
        line = named_in(error, plan.output) or _ACCESS_LOG_ERROR.search(str(error))
        if line is None:
            raise
        raise UsageError(line if isinstance(line, str) else line[0]) from error
    finally:
        if not plan.detached:  # a detached job's lease stays until it is broken once the job has finished
            lease.release() if lease.recorded else lease.abandon()


def _launch(options: PipelineOptions, plan: MigrationPlan, key: bytes, lease: OutputLease) -> int:
    """Run the graph while holding the lease; the lease learns when the runs row is recorded."""
    if runs_in_this_process(options.get_all_options()):
        start_decoders_early(plan.settings)
    events = RunLineage(
        run_id=plan.run_id,
        migration_key=plan.migration_key,
        manifests=plan.manifests,
        output_prefix=plan.output,
        bigquery_dataset=plan.bigquery_dataset,
    )
    events.start()
    if plan.detached:  # nobody waits (a Flex Template launch): the job's final step emits COMPLETE or FAIL
        try:
            pipeline = beam.Pipeline(options=options)
            build(pipeline, plan)
            print(submitted_message(pipeline.run(), plan.output))
        except BaseException as error:
            events.fail(error)
            raise
        return 0
    started = time.monotonic()
    try:
        with local_worker_pool(options), beam.Pipeline(options=options) as pipeline:
            build(pipeline, plan)
        elapsed = time.monotonic() - started
        summary = read_summary(plan)
        edms = read_edms_summary(fhir_folder(plan.settings.records_prefix), plan.run_id)
        if check_failure(summary, plan.max_quarantine_rate) is None and not (edms or {}).get("invalid"):
            finish_passing_run(plan, key)  # before the runs row, which vouches for the records it writes
        record_run(plan, summary, key, lease.held.as_runs_column())
        lease.recorded = True
    except BaseException as error:  # the FAIL event, then the error as before
        events.fail(error)
        raise
    events.complete(summary)
    print(format_summary(summary, elapsed_seconds=elapsed, output=plan.output, lineage=lineage_folder(plan.output)))
    if plan.blob_roots:
        orphans = count_orphans(plan)
        print(f"orphans:    {orphans:,} file(s) under --blob_root that no index references (lineage orphans table)")
    print(edms_line(edms, fhir_folder(plan.settings.records_prefix)))
    return verdict(summary, plan) or edms_verdict(edms)


def finish_passing_run(plan: MigrationPlan, key: bytes | None = None) -> None:
    """Only for a run that passed every check (only such a run changes anything an earlier run left), before its
    runs row: supersede the current DocumentReference of each document this run quarantined (`key`: the evidence
    key the lineage is read back with and the files are signed with). Lineage and the EDMS records are append-only
    history: no run deletes another run's files; the latest version of a record is the current."""
    settings = plan.settings
    patient_key = key_for_worker(settings.patient_key)
    retired = retire_document_references(
        fhir_folder(settings.records_prefix),
        plan.run_id,
        settings.edms.config,
        quarantined_documents(plan.output, plan.migration_key, plan.run_id, key),
        patient_key,
        settings.edms.agent,
        pseudonymise=Pseudonyms(patient_key, settings.local_identifiers).value,
        index_files=settings.edms.index_files,
        evidence=key,
    )
    if retired:
        _LOGGER.info("superseded %d DocumentReference(s) of documents quarantined by this run", retired)


def verdict(summary: dict, plan: MigrationPlan) -> int:
    """0, or 1 with one loud line: an unbalanced run, an index not parsed to its end, a store that could not be
    read, or a run over --max_quarantine_rate."""
    failure = check_failure(summary, plan.max_quarantine_rate)
    if failure:
        print(
            f"ERROR: {failure}. Lineage is written and nothing of an earlier run was changed: read the reasons "
            "(a wrong manifest or export? a store out of reach?), fix them, and re-run.",
            file=sys.stderr,
        )
        return 1
    return 0


def run(argv: list[str] | None = None) -> int:
    """`edms-migrate run` and `python -m pipelines.migrate`: misuse is one line and exit code 2."""
    configure_logging()
    try:
        return migrate(list(sys.argv[1:] if argv is None else argv))
    except (UsageError, ManifestError) as error:
        return print_error(error)
