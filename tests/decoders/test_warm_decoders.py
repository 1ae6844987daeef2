"""Decoder children started early: the step set up later claims those very children, and only matching ones."""

from __future__ import annotations

import multiprocessing
import os

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.launch.plan import runs_in_this_process
from tests.migrate.test_migrate import settings
from transforms.decoders import warm_decoders
from transforms.decoders.warm_decoders import child_settings, start_decoders_early
from transforms.migrate.document_step import MigrateDocumentFn


@pytest.fixture(autouse=True)
def nothing_waiting():
    warm_decoders.stop_unclaimed()
    yield
    warm_decoders.stop_unclaimed()


def child_pid(worker) -> int:
    return worker.call(os.getpid)


def test_a_claimed_child_is_one_started_early_and_other_settings_get_their_own(tmp_path):
    early = child_settings(settings(tmp_path, isolation="always"))
    warm_decoders.prestart(2, early)
    assert warm_decoders.waiting() == 2
    started = {child.pid for child in multiprocessing.active_children()}
    claimed = [warm_decoders.claim(early) for _ in range(2)]
    other = warm_decoders.claim((early[0] + 1, *early[1:]))  # another time limit: never handed a mismatched child
    try:
        assert warm_decoders.waiting() == 0
        assert {child_pid(worker) for worker in claimed} <= started
        assert child_pid(other) not in started
    finally:
        for worker in (*claimed, other):
            worker.stop()


def test_the_step_takes_the_children_the_launcher_started(tmp_path):
    run = settings(tmp_path, isolation="always", decode_lanes=2)
    start_decoders_early(run)
    assert warm_decoders.waiting() == 2
    fn = MigrateDocumentFn(run)
    fn.setup()
    try:
        assert warm_decoders.waiting() == 0
        assert len({child_pid(lane.isolated) for lane in fn.lanes}) == 2
    finally:
        fn.teardown()


def test_without_isolation_nothing_starts_early(tmp_path):
    start_decoders_early(settings(tmp_path, isolation="risky", decode_lanes=2))
    assert warm_decoders.waiting() == 0


@pytest.mark.parametrize(
    ("argv", "here"),
    [
        ([], True),
        (["--runner=DirectRunner", "--direct_running_mode=in_memory"], True),
        (["--direct_running_mode=multi_processing", "--direct_num_workers=2"], False),  # the workers' own children
        (["--runner=DataflowRunner"], False),
    ],
)
def test_children_start_early_only_where_the_step_runs_in_the_launcher(argv, here):
    assert runs_in_this_process(PipelineOptions(argv).get_all_options()) is here
