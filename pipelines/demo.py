"""`edms-migrate demo` and `sample-dump`: a realistic legacy dump, and its migration, in one command."""

from __future__ import annotations

import os
import shutil

from pipelines.migrate import UsageError, migrate
from samples.dump import SampleDump, write_sample_dump

#: Files that mark a folder as a sample dump this tool wrote, so a second demo may replace it.
_SAMPLE_MARKERS = ("manifest.csv", "expected_outcomes.json")


def write_dump(directory: str, *, seed: int = 0) -> SampleDump:
    if os.path.isdir(directory) and os.listdir(directory):
        raise UsageError(f"{directory} is not empty: choose a new folder for the sample dump")
    dump = write_sample_dump(directory, seed=seed)
    systems = sorted({document.source_system for document in dump.documents})
    print(f"sample legacy dump: {len(dump.documents)} documents from {len(systems)} systems ({', '.join(systems)})")
    print(f"manifest:           {dump.manifest_path}")
    print(f"expected outcomes:  {os.path.join(dump.directory, 'expected_outcomes.json')}")
    return dump


def _remove_earlier_sample_dump(directory: str) -> None:
    if os.path.isdir(directory) and all(os.path.exists(os.path.join(directory, m)) for m in _SAMPLE_MARKERS):
        shutil.rmtree(directory)


def run_demo(output: str) -> int:
    """Dump into OUTPUT/legacy-dump, migrate into OUTPUT/migrated; a second demo re-runs over the same folders."""
    root = os.path.abspath(output)
    dump_folder = os.path.join(root, "legacy-dump")
    _remove_earlier_sample_dump(dump_folder)
    dump = write_dump(dump_folder)
    migrated = os.path.join(root, "migrated")
    print(f"migrating on the DirectRunner into {migrated} …")
    return migrate(["--manifest", dump.manifest_path, "--output", migrated])
