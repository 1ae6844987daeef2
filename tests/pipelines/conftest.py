"""Fixtures the pipeline tests share across modules."""

from __future__ import annotations

import pytest

from pipelines.launch.launcher import migrate
from tests.pipelines.test_end_to_end import all_sources


@pytest.fixture(scope="session")
def direct_migration(sample_dump, tmp_path_factory) -> str:
    """The sample dump and its profiles migrated once on the DirectRunner: what the Flink and Spark runs of the same
    dump are compared with (tests/portable_engines.py)."""
    output = str(tmp_path_factory.mktemp("direct") / "out")
    assert migrate([*all_sources(sample_dump), "--output", output]) == 0
    return output
