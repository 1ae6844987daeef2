"""The destination's security posture, checked before any patient data is written.

`edms-migrate preflight --output gs://… [--index_output gs://…] [--bigquery_dataset P.D] [--fhir_config FILE]` runs
the checks (the config, when given, checked whole first, as a launch checks it), and so does every launch unless
--skip_preflight. Each bucket that will hold patient data must enforce public access
prevention and uniform bucket-level access, be in an allowed location, encrypt with a default CMEK key and have soft
delete. The archive (the output's objects, quarantine and lineage, all written once) must also have a retention
policy. The EDMS records (FHIR NDJSON under fhir/) are append-only too (a change is a new line in a new file), so
they may share the archive's bucket; --index_output gives them a bucket of their own, under separate access (they
hold NHS numbers), where a retention policy is the trust's choice. Beam's --temp_location and --staging_location are
deleted as the job ends, so they must not be under a retention policy. The BigQuery dataset must be in an allowed
location with a default CMEK key. A failed check is one line naming it; `--preflight warn` prints the lines and
carries on. Local outputs have no posture to check.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions

from pipelines.console.usage import OneLineParser, UsageError
from pipelines.engines.portable import PORTABLE_RUNNERS
from pipelines.launch.fhir_config import fhir_config
from pipelines.launch.options import MigrateOptions, add_job_options

_LOGGER = logging.getLogger("edms_migrate")
_COMMAND_OPTIONS = ("output", "bigquery_dataset", "index_output", "fhir_config", "allowed_locations")  # declared order
#: What a bucket holds, which decides its checks.
ARCHIVE, INDEX_RECORDS, TEMPORARY = "archive", "EDMS records", "temporary files"


@dataclass(frozen=True)
class Check:
    """One posture check of one resource: its name (what an operator searches for), and what was found."""

    target: str  # gs://bucket or PROJECT.DATASET
    name: str
    ok: bool
    found: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAILED'}: {self.target}: {self.name}: {self.found}"


def allowed(text: str) -> frozenset[str]:
    return frozenset(location.strip().lower() for location in text.split(",") if location.strip())


def bucket_checks(bucket, locations: frozenset[str], role: str = ARCHIVE) -> list[Check]:
    """The checks of one bucket (google.cloud.storage.Bucket) in its role: the archive, EDMS records, temp files."""
    target = f"gs://{bucket.name}"
    iam = bucket.iam_configuration
    prevention = iam.public_access_prevention or "unspecified"
    location = (bucket.location or "unknown").lower()
    soft_delete = bucket.soft_delete_policy.retention_duration_seconds or 0
    retention = bucket.retention_period or 0
    held = f"{retention} s{' (locked)' if bucket.retention_policy_locked else ''}" if retention else "none"

    def check(name: str, ok: bool, found: str) -> Check:
        return Check(target, name, ok, found)

    placed = check("location", location in locations, f"{location} (allowed: {', '.join(sorted(locations))})")
    if role == TEMPORARY:
        return [placed, check("temp_files_deletable", not retention, f"retention policy {held}" + _REFUSES_DELETES)]
    checks = [
        check("public_access_prevention", prevention == "enforced", f"{prevention} (must be enforced)"),
        check(
            "uniform_bucket_level_access",
            bool(iam.uniform_bucket_level_access_enabled),
            "enabled" if iam.uniform_bucket_level_access_enabled else "disabled: object ACLs could grant access",
        ),
        placed,
        check(
            "default_kms_key",
            bool(bucket.default_kms_key_name),
            bucket.default_kms_key_name or "none: objects would be encrypted with a Google-managed key",
        ),
    ]
    if role == ARCHIVE:
        checks.append(check("retention_policy", retention > 0, held))
    checks.append(check("soft_delete", soft_delete > 0, f"{soft_delete // 86400} days" if soft_delete else "disabled"))
    return checks


_REFUSES_DELETES = ": Beam deletes its temporary and staged files as the job ends; use a bucket without one"


def dataset_checks(dataset, locations: frozenset[str]) -> list[Check]:  # dataset: google.cloud.bigquery.Dataset
    target = f"{dataset.project}.{dataset.dataset_id}"
    location = (dataset.location or "unknown").lower()
    encryption = dataset.default_encryption_configuration
    key = encryption.kms_key_name if encryption else None
    return [
        Check(target, "location", location in locations, f"{location} (allowed: {', '.join(sorted(locations))})"),
        Check(target, "default_kms_key", bool(key), key or "none: tables would use a Google-managed key"),
    ]


def _storage_client():
    import os

    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):  # the emulator needs, and has, no credentials
        return storage.Client.create_anonymous_client()
    return storage.Client()


@dataclass(frozen=True)
class Destination:
    """A location the job will write, the flag that named it, and what it holds."""

    flag: str
    uri: str | None
    role: str


def destinations(
    output: str, index_output: str | None, temporary: Iterable[tuple[str, str | None]] = ()
) -> list[Destination]:
    """The job's destinations with their roles; EDMS records default to the output's own bucket. `temporary`:
    (flag, uri) of Beam's temp and staging locations."""
    records = ("--index_output", index_output) if index_output else ("--output", output)
    return [
        Destination("--output", output, ARCHIVE),
        Destination(*records, INDEX_RECORDS),
        *(Destination(flag, uri, TEMPORARY) for flag, uri in temporary),
    ]


def run_checks(where: Iterable[Destination], bigquery_dataset: str | None, locations: frozenset[str]) -> list[Check]:
    """Every check of every destination. A bucket that cannot be read is a UsageError. A bucket in two roles (the
    archive's also holding the EDMS records) is checked in each, its shared checks once."""
    checks: list[Check] = []
    buckets: dict[str, object] = {}
    for destination in where:
        uri = destination.uri
        if not uri or not uri.startswith("gs://"):
            continue
        name = uri[5:].split("/", 1)[0]
        if name not in buckets:
            try:
                buckets[name] = _storage_client().get_bucket(name)
            except Exception as error:  # not found, forbidden, no credentials: one line
                reason = "does not exist" if "404" in str(error) else f"{type(error).__name__}: {error}"
                flag = destination.flag
                raise UsageError(f"cannot write to {flag} gs://{name}: bucket {reason}".splitlines()[0]) from error
        made = {(check.target, check.name) for check in checks}
        checks += [
            check
            for check in bucket_checks(buckets[name], locations, destination.role)
            if (check.target, check.name) not in made
        ]
    if bigquery_dataset:
        from transforms.lineage.bigquery_load import bigquery_client

        project = bigquery_dataset.split(".", 1)[0]
        try:
            dataset = bigquery_client(project).get_dataset(bigquery_dataset)
        except Exception as error:  # a missing dataset would be created without CMEK: refuse
            reason = "does not exist" if "404" in str(error) else f"{type(error).__name__}: {error}"
            detail = f"{reason}: create it in an allowed location with a default CMEK key first".splitlines()[0]
            return [*checks, Check(bigquery_dataset, "dataset", False, detail)]
        checks += dataset_checks(dataset, locations)
    return checks


def enforce(checks: list[Check], mode: str) -> None:
    """One line on stderr per failed check; in `fail` mode, then refuse (UsageError: exit code 2)."""
    failed = [check for check in checks if not check.ok]
    for check in failed:
        print(f"edms-migrate: preflight {check.line()}", file=sys.stderr)
    if failed and mode != "warn":
        raise UsageError(
            f"preflight: {len(failed)} check(s) of the destination failed; nothing was written. Fix them, or "
            "pass --preflight warn (report and continue) or --skip_preflight"
        )
    if checks:
        _LOGGER.info("preflight: %d of %d check(s) passed", len(checks) - len(failed), len(checks))


def launch_checks(options: PipelineOptions, output: str) -> None:
    """The preflight every launch makes (unless --skip_preflight), before anything is written."""
    migrate = options.view_as(MigrateOptions)
    if migrate.skip_preflight:
        _LOGGER.warning("preflight skipped (--skip_preflight): the destination's posture was not checked")
        return
    cloud = options.view_as(GoogleCloudOptions)
    temporary = [("--temp_location", cloud.temp_location), ("--staging_location", cloud.staging_location)]
    where = destinations(output, migrate.index_output, temporary)
    checks = run_checks(where, migrate.bigquery_dataset, allowed(migrate.allowed_locations))
    enforce(checks, migrate.preflight)
    runner = options.get_all_options()["runner"]
    if runner in PORTABLE_RUNNERS and not output.startswith("gs://"):
        _LOGGER.warning(
            "preflight: %s writes to %s, which is not gs://: only buckets and BigQuery datasets are checked; the "
            "access controls and encryption of a local or mounted path are the cluster's own (docs/flink-spark.md)",
            runner,
            output,
        )


def preflight_command(argv: list[str]) -> int:
    """`edms-migrate preflight`: every check, one line each (ok on stdout, failures on stderr); exit 0 or 2."""
    parser = OneLineParser(prog="edms-migrate preflight", description=__doc__.splitlines()[0])
    add_job_options(parser, _COMMAND_OPTIONS, show_default=True)
    args = parser.parse_args(argv)
    if args.fhir_config:  # what the launch will refuse, refused here too: one line, exit 2
        fhir_config(args.fhir_config)
    if not (args.output or "").startswith("gs://") and not args.bigquery_dataset:
        raise UsageError("preflight checks a gs:// --output (and --index_output, --bigquery_dataset)")
    where = destinations(args.output, args.index_output)
    checks = run_checks(where, args.bigquery_dataset, allowed(args.allowed_locations))
    for check in checks:
        if check.ok:
            print(check.line())
    enforce(checks, "fail")
    print(f"preflight: all {len(checks)} check(s) passed")
    return 0
