"""`edms-migrate demo` and `sample-dump`: a realistic legacy dump, and its migration, in one command."""

from __future__ import annotations

import os

from samples.dump import SampleDump, write_sample_dump


def write_dump(directory: str, *, seed: int = 0) -> SampleDump:
    dump = write_sample_dump(directory, seed=seed)
    systems = sorted({document.source_system for document in dump.documents})
    print(f"sample legacy dump: {len(dump.documents)} documents from {len(systems)} systems ({', '.join(systems)})")
    print(f"manifest:           {dump.manifest_path}")
    print(f"expected outcomes:  {os.path.join(dump.directory, 'expected_outcomes.json')}")
    return dump


def run_demo(output: str) -> int:
    from pipelines.migrate import migrate

    root = os.path.abspath(output)
    dump = write_dump(os.path.join(root, "legacy-dump"))
    migrated = os.path.join(root, "migrated")
    print(f"migrating on the DirectRunner into {migrated} …")
    return migrate(["--manifest", dump.manifest_path, "--output", migrated])
