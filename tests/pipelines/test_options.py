"""Every job option is declared once: the parser, the recorded options, run --help and the docs table agree."""

from __future__ import annotations

import argparse
import json

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.cli import help_text
from pipelines.options import JOB_OPTIONS, MigrateOptions, options_markdown, recorded_options
from tests.pipelines.test_cli import edms


def test_every_declared_option_reaches_the_beam_parser_the_table_and_the_help():
    parser = argparse.ArgumentParser(add_help=False)
    MigrateOptions._add_argparse_args(parser)
    assert [action.option_strings[0] for action in parser._actions] == [option.flag for option in JOB_OPTIONS]
    table, text = options_markdown(), help_text()
    for option in JOB_OPTIONS:
        assert f"| `{option.flag}` |" in table
        assert option.flag in text


def test_recorded_options_hold_every_option_resolved_values_and_the_runner():
    migrate = PipelineOptions(["--output", "out", "--max_pages", "7"]).view_as(MigrateOptions)
    recorded = recorded_options(migrate, {"output": "/abs/out"}, "DirectRunner")
    assert set(recorded) == {option.name for option in JOB_OPTIONS} | {"runner"}
    assert recorded["output"] == "/abs/out" and recorded["max_pages"] == 7 and recorded["runner"] == "DirectRunner"
    json.dumps(recorded)  # what the runs table stores must serialise


@pytest.mark.slow
def test_run_help_lists_the_job_options_with_defaults_and_points_to_beams():
    result = edms("run", "--help")
    assert result.returncode == 0, result.stderr
    assert "--max_quarantine_rate" in result.stdout and "(default: 0.8)" in result.stdout
    assert "Beam pipeline option" in result.stdout and "unrecognised" not in result.stderr
