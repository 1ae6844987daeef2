"""`edms-migrate demo` and `sample-dump`: a realistic legacy dump, and its migration, in one command."""

from __future__ import annotations

import os
import shutil
import tempfile

from pipelines.console.usage import UsageError
from pipelines.launch.launcher import migrate
from pipelines.reports.report_page import write_report
from samples.dump import SampleDump, write_sample_dump
from transforms.storage.emulators import skip_credential_lookup_for_storage_emulator
from transforms.storage.listing import matched
from transforms.storage.objects import write_all

#: Files that mark a folder as a sample dump this tool wrote, so a second demo may replace it.
_SAMPLE_MARKERS = ("manifest.csv", "expected_outcomes.json")


def _upload(local_folder: str, target: str) -> None:
    """Copy a dump written locally to an object store, through Beam's FileSystems."""
    for folder, _, files in os.walk(local_folder):
        for name in sorted(files):
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, local_folder).replace(os.sep, "/")
            with open(path, "rb") as source:
                write_all(f"{target.rstrip('/')}/{relative}", source.read())


def write_dump(directory: str, *, seed: int = 0) -> SampleDump:
    """A sample dump in a local folder, or under a gs:// prefix (written locally first, then uploaded)."""
    if "://" in directory:
        skip_credential_lookup_for_storage_emulator()
        if matched(directory.rstrip("/") + "/*"):
            raise UsageError(f"{directory} is not empty: choose a new prefix for the sample dump")
        with tempfile.TemporaryDirectory(prefix="edms-sample-") as scratch:
            dump = write_sample_dump(scratch, seed=seed)
            _upload(scratch, directory)
        location = directory.rstrip("/")
    else:
        if os.path.isdir(directory) and os.listdir(directory):
            raise UsageError(f"{directory} is not empty: choose a new folder for the sample dump")
        dump = write_sample_dump(directory, seed=seed)
        location = dump.directory
    systems = sorted({document.source_system for document in dump.all_documents})
    print(f"sample legacy dump: {len(dump.all_documents)} documents from {len(systems)} systems ({', '.join(systems)})")
    print(f"manifest:           {location}/manifest.csv")
    for profile in dump.profiles:
        print(f"source profile:     {location}/{os.path.relpath(profile, dump.directory)}")
    print(f"expected outcomes:  {location}/expected_outcomes.json")
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
    print(f"migrating every source on the DirectRunner into {migrated} …")
    argv = ["--manifest", dump.manifest_path, "--output", migrated]
    for profile in dump.profiles:
        argv += ["--source", profile]
    for blob_root in dump.blob_roots:
        argv += ["--blob_root", blob_root]
    code = migrate(argv)
    print(f"report:     {write_report(migrated)}")
    return code
