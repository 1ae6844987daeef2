"""The job's options as an operator types them: argv in, plan values or one named error out; the docs table and
every subcommand's --help name the options a person looks for, with the defaults they are told.

What is expected is written out here by hand, never read back from JOB_OPTIONS: a flag that stops reaching the
plan, a default that changes without its docs, or a subcommand that loses an option fails one of these.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.cli import _parser, main
from pipelines.console.usage import UsageError
from pipelines.launch.launcher import parse_options
from pipelines.launch.options import MigrateOptions
from pipelines.launch.plan import MigrationPlan, plan_from
from tests.pipelines.test_cli import edms
from transforms.imaging.image_job import ImageLimits

ROOT = Path(__file__).resolve().parents[2]
#: The options table of docs/running.md as an operator reads it: flag → the default it states (blank: none).
KNOWN_DEFAULTS = {
    "--manifest": "required",
    "--source": "",
    "--output": "required",
    "--access_log": "",
    "--max_documents": "0",
    "--lineage_flush_documents": "200",
    "--max_page_pixels": "150000000",
    "--max_pages": "10000",
    "--max_document_bytes": "2147483648",
    "--allowed_formats": "BMP,GIF,JPEG,JPEG2000,PDF,PNG,TIFF,WEBP",
    "--decode_timeout_seconds": "300.0",
    "--decode_memory_limit_mb": "4096",
    "--decode_isolation": "always",
    "--decode_lanes": "0",
    "--max_quarantine_rate": "0.8",
    "--patient_key_secret": "",
    "--bigquery_location": "europe-west2",
    "--index_output": "",
    "--allowed_locations": "europe-west2",
    "--preflight": "fail",
    "--skip_preflight": "False",
    "--detached": "False",
}


def _plan(tmp_path: Path, *flags: str) -> MigrationPlan:
    manifest = tmp_path / "m.csv"
    manifest.write_text("source_system,document_id,blob_uri\n")
    return plan_from(parse_options(["--manifest", str(manifest), "--output", str(tmp_path / "out"), *flags]))


def test_each_flag_reaches_the_plan_as_typed(tmp_path):
    plan = _plan(
        tmp_path,
        *("--max_pages", "7", "--max_page_pixels", "1000", "--max_document_bytes", "4096"),
        *("--allowed_formats", "tiff, PDF", "--decode_isolation", "risky", "--decode_timeout_seconds", "9.5"),
        *("--decode_memory_limit_mb", "0", "--max_quarantine_rate", "0.25", "--max_documents", "10"),
        *("--access_log", str(tmp_path / "access.csv"), "--index_output", str(tmp_path / "records")),
        *("--bigquery_dataset", "trust-edms.lineage", "--run_id", "r1", "--detached"),
        *("--lineage_flush_documents", "50"),
        *("--blob_root", str(tmp_path / "legacy"), "--blob_root", str(tmp_path / "more")),
    )
    assert plan.settings.limits == ImageLimits(1000, 7, frozenset({"TIFF", "PDF"}))
    assert (plan.settings.isolation, plan.settings.decode_timeout_seconds) == ("risky", 9.5)
    assert plan.settings.decode_memory_limit_mb is None  # 0: no cap
    assert plan.settings.reading.max_document_bytes == 4096 and plan.settings.journal.rows == 50
    assert (plan.max_quarantine_rate, plan.max_documents, plan.run_id, plan.detached) == (0.25, 10, "r1", True)
    assert plan.access_log == str(tmp_path / "access.csv") and plan.settings.index_output == str(tmp_path / "records")
    assert plan.bigquery_dataset == "trust-edms.lineage" and plan.blob_roots == (
        str(tmp_path / "legacy"),
        str(tmp_path / "more"),
    )
    recorded = json.loads(plan.options_json)
    assert recorded["max_pages"] == 7 and recorded["decode_isolation"] == "risky" and recorded["detached"] is True
    assert recorded["output"] == str(tmp_path / "out") and recorded["run_id"] == "r1"


def test_what_a_plan_holds_when_no_flag_is_given(tmp_path):
    plan = _plan(tmp_path)
    assert plan.settings.limits == ImageLimits(
        150_000_000, 10_000, frozenset({"TIFF", "JPEG", "PNG", "BMP", "GIF", "JPEG2000", "WEBP", "PDF"})
    )
    assert (plan.settings.isolation, plan.settings.decode_timeout_seconds, plan.settings.decode_memory_limit_mb) == (
        "always",
        300.0,
        4096,
    )
    assert (plan.max_quarantine_rate, plan.bigquery_location, plan.max_documents) == (0.8, "europe-west2", None)
    assert plan.access_log is None and plan.settings.index_output is None and not plan.detached
    assert plan.run_id and plan.output == str(tmp_path / "out")
    migrate = parse_options(["--output", "o"]).view_as(MigrateOptions)
    assert (migrate.preflight, migrate.skip_preflight, migrate.allowed_locations) == ("fail", False, "europe-west2")


@pytest.mark.parametrize(
    ("flags", "detached"),
    [((), False), (("--detached",), True), (("--detached=true",), True), (("--detached=false",), False)],
)
def test_a_switch_alone_is_true_and_takes_true_or_false_as_a_template_passes_it(tmp_path, flags, detached):
    assert _plan(tmp_path, *flags).detached is detached


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--max_pages", "many"), "invalid int value"),
        (("--decode_isolation", "sometimes"), "invalid choice"),
        (("--detached=maybe",), "expected true or false"),
        (("--no_such_flag=1",), "unrecognised option"),
        (("--max_quarantine_rate", "2"), "between 0 and 1"),
        (("--max_documents", "-1"), "--max_documents"),
        (("--max_pages", "0"), "--max_pages must be a positive number"),
        (("--allowed_formats", "TIFF,DOCX"), "--allowed_formats"),
        (("--bigquery_dataset", "lineage"), "PROJECT.DATASET"),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_it(tmp_path, flags, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        _plan(tmp_path, *flags)


def test_a_run_needs_an_output_and_an_index():
    with pytest.raises(UsageError, match="--output is required"):
        plan_from(parse_options(["--manifest", "m.csv"]))
    with pytest.raises(UsageError, match="--manifest is required"):
        plan_from(parse_options(["--output", "o"]))


def test_the_docs_table_gives_each_known_option_its_known_default():
    text = (ROOT / "docs" / "running.md").read_text(encoding="utf-8")
    table = {
        match["flag"]: match["default"].strip("`")
        for match in re.finditer(r"^\| `(?P<flag>--\w+)` \| (?P<default>[^|]*?) ?\|", text, re.MULTILINE)
    }
    assert {flag: table.get(flag) for flag in KNOWN_DEFAULTS} == KNOWN_DEFAULTS


def _help(capsys, *argv: str) -> str:
    """A subcommand's --help, in-process, with argparse's line wrapping undone."""
    code = main(list(argv)) if argv[0] == "run" else None
    if code is None:
        with pytest.raises(SystemExit) as stop:
            main(list(argv))
        code = stop.value.code
    assert code == 0
    return " ".join(capsys.readouterr().out.split())


def test_run_help_lists_the_job_options_with_their_defaults(capsys):
    text = _help(capsys, "run", "--help")
    for shown in (
        "--manifest MANIFEST",
        "--output OUTPUT",
        "--max_quarantine_rate MAX_QUARANTINE_RATE",
        "(default: 0.8)",
        "--decode_isolation {always,risky,never}",
        "--detached [true|false]",
        "--patient_key_secret PATIENT_KEY_SECRET",
        "Beam pipeline option",
    ):
        assert shown in text, shown


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("status", ("--output OUTPUT", "--manifest MANIFEST", "--source SOURCE", "--access_log ACCESS_LOG")),
        ("reconcile", ("--output OUTPUT", "--manifest MANIFEST", "--source SOURCE", "--verify_objects")),
        ("preflight", ("--output OUTPUT", "--index_output INDEX_OUTPUT", "--bigquery_dataset", "--allowed_locations")),
    ],
)
def test_subcommands_take_the_jobs_own_options_and_say_what_they_mean(capsys, command, options):
    text = _help(capsys, command, "--help")
    for option in options:
        assert option in text, option
    assert "Output prefix (local folder or gs:// URI)" in text  # the job's own words for --output


def test_status_gathers_repeated_manifests_and_requires_the_output():
    args = _parser().parse_args(["status", "--output", "o", "--manifest", "a.csv", "--manifest", "b.csv"])
    assert (args.output, args.manifest, args.source, args.access_log) == ("o", ["a.csv", "b.csv"], None, None)
    with pytest.raises(UsageError, match="required: --output"):
        _parser().parse_args(["reconcile", "--manifest", "a.csv"])


@pytest.mark.slow
def test_run_help_lists_the_job_options_with_defaults_and_points_to_beams():
    result = edms("run", "--help")
    assert result.returncode == 0, result.stderr
    assert "--max_quarantine_rate" in result.stdout and "(default: 0.8)" in result.stdout
    assert "Beam pipeline option" in result.stdout and "unrecognised" not in result.stderr
