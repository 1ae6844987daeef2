"""The whole job translated for Dataflow, offline: CI's proof that the graph a trust would launch is valid.

`edms-migrate run … --runner DataflowRunner --project P --region R --temp_location gs://B/tmp --dry_run=True`
builds the same plan and graph as a launch, lets DataflowRunner translate it (Beam's `--dry_run`: the runner
returns before any credential, staging or API call), adds the job environment the runner would have sent (workers,
network, KMS key, service account, container image), prints the job's steps and exits 0.

A dry run reads only local files: gs:// profiles, document-type lists, FHIR configs and key files would need GCS
and credentials, so it refuses them with one line; gs:// manifests, outputs and keys are carried as names, unread.
Its --fhir_config is checked whole, as a launch checks it, and its EDMS settings go into the translated graph.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions, TestOptions
from apache_beam.portability.api import beam_runner_api_pb2
from google.cloud import dataflow_v1beta3 as dataflow
from google.protobuf import json_format

from pipelines.console.usage import UsageError
from pipelines.engines.portable import PORTABLE_RUNNERS
from pipelines.launch.fhir_config import with_edms
from pipelines.launch.graph import build
from pipelines.launch.options import MigrateOptions
from pipelines.launch.plan import MigrationPlan, check_sources, plan_from, with_patient_key

_LOGGER = logging.getLogger("edms_migrate")
_TRUE = {"true", "1", "yes"}


def is_dry_run(options: PipelineOptions) -> bool:
    """Beam declares --dry_run without a type, so '--dry_run=False' would be a (truthy) string: read it as a flag."""
    test = options.view_as(TestOptions)
    value = test.dry_run
    test.dry_run = value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)
    return test.dry_run


@dataclass(frozen=True)
class TranslatedJob:
    """What a launch would send: the Dataflow CreateJobRequest (job, environment, region) and the pipeline proto
    that would be staged beside it."""

    request: dataflow.CreateJobRequest
    pipeline: beam_runner_api_pb2.Pipeline

    @property
    def job(self) -> dataflow.Job:
        return self.request.job

    def steps(self) -> list[str]:
        """The job's top-level steps, in the order the graph applied them (the stages a reader sees in the UI)."""
        transforms = self.pipeline.components.transforms
        (root,) = self.pipeline.root_transform_ids
        return [transforms[child].unique_name for child in transforms[root].subtransforms]

    def transform_names(self) -> list[str]:
        return sorted(transform.unique_name for transform in self.pipeline.components.transforms.values())

    def request_json(self) -> str:
        return json_format.MessageToJson(dataflow.CreateJobRequest.pb(self.request))


def _offline_reads(migrate: MigrateOptions) -> None:
    """Files a plan reads that are not local: refused, because reading them needs GCS and credentials."""
    remote = [
        (flag, uri)
        for flag, uris in (
            ("--source", migrate.source or ()),
            ("--document_types", [migrate.document_types]),
            ("--fhir_config", [migrate.fhir_config]),
        )
        for uri in uris
        if uri and "://" in uri
    ]
    if remote:
        flag, uri = remote[0]
        raise UsageError(f"a dry run reads no GCS: give {flag} {uri} as a local copy")


def _check_runner(options: PipelineOptions) -> None:
    runner = options.get_all_options()["runner"]
    cloud = options.view_as(GoogleCloudOptions)
    if runner in PORTABLE_RUNNERS:  # what covers them instead, said where they ask
        raise UsageError(
            f"--dry_run translates for Dataflow only: a {runner} launch checks its plan, patient key, job-server jar "
            "and workers' environment before it runs, and the job server translates the graph as the run starts "
            "(docs/flink-spark.md)"
        )
    if runner not in ("DataflowRunner", "apache_beam.runners.dataflow.dataflow_runner.DataflowRunner"):
        raise UsageError(f"--dry_run translates a job for --runner DataflowRunner, not {runner or 'DirectRunner'}")
    if not cloud.project or not cloud.region or not (cloud.temp_location or "").startswith("gs://"):
        raise UsageError("a dry run needs --project, --region and a gs:// --temp_location, as a launch does")


def offline_plan(options: PipelineOptions) -> MigrationPlan:
    """The launch's plan, with only the checks that need no network: local indexes are checked, remote ones named."""
    _check_runner(options)
    _offline_reads(options.view_as(MigrateOptions))
    plan = with_edms(plan_from(options, expand_remote=False), options.view_as(MigrateOptions).fhir_config)
    local = tuple((profile, manifest) for profile, manifest in plan.sources if "://" not in manifest)
    check_sources(MigrationPlan(local, plan.output, plan.run_id, plan.migration_key, plan.settings))
    return with_patient_key(plan, options)


def _environment(options: PipelineOptions, pipeline: beam_runner_api_pb2.Pipeline) -> dataflow.Environment:
    """The job environment DataflowRunner builds just before staging: worker pool, network, KMS key, service account
    and container image. Beam only builds it on the way to a real submission, so the dry run builds it here, with
    the same (internal) Beam code, and no staging: packages are named as the pipeline's environments stage them."""
    from apache_beam.runners.dataflow.internal import apiclient

    apiclient.DataflowApplicationClient._apply_sdk_environment_overrides(pipeline, {}, options)
    packages = sorted(
        beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(dependency.role_payload).staged_name
        for environment in pipeline.components.environments.values()
        for dependency in environment.dependencies
    )
    from apache_beam.runners.internal import names

    cloud = options.view_as(GoogleCloudOptions)
    return apiclient.Environment(
        packages=packages,
        options=options,
        environment_version=apiclient._FNAPI_ENVIRONMENT_MAJOR_VERSION,
        proto_pipeline_staged_url=f"{cloud.staging_location}/{names.STAGED_PIPELINE_FILENAME}",
        proto_pipeline=pipeline,
    ).proto


def translate(options: PipelineOptions, plan: MigrationPlan) -> TranslatedJob:
    """Build the graph and let DataflowRunner translate it without submitting (options must say --dry_run)."""
    if not is_dry_run(options):
        raise ValueError("translate() needs --dry_run=True: without it DataflowRunner submits the job")
    pipeline = beam.Pipeline(options=options)
    build(pipeline, plan)
    result = pipeline.run()
    job = result.job  # apiclient.Job: the Dataflow job and the pipeline proto it would stage
    job.proto.environment = _environment(job.options, job.proto_pipeline)  # the options as the runner left them
    cloud = job.options.view_as(GoogleCloudOptions)
    job.proto.project_id = cloud.project
    job.proto.location = cloud.region
    request = dataflow.CreateJobRequest(project_id=cloud.project, location=cloud.region, job=job.proto)
    return TranslatedJob(request, job.proto_pipeline)


def dry_run(options: PipelineOptions) -> int:
    """Translate, print the job's steps, exit 0: nothing is read from or written to GCS, nothing is submitted."""
    translated = translate(options, offline_plan(options))
    job = translated.job
    kind = "batch" if job.type_ == dataflow.JobType.JOB_TYPE_BATCH else dataflow.JobType(job.type_).name
    print(
        f"dry run: translated for Dataflow as a {kind} job in {job.project_id}/{job.location} "
        f"({len(translated.transform_names())} transforms); nothing was submitted. Steps:"
    )
    for step in translated.steps():
        print(f"  {step}")
    return 0
