"""gs:// in and out, against a real GCS API: gcp-storage-emulator, started by the fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apache_beam.io.filesystems import FileSystems

from pipelines.launch.launcher import migrate
from tests.conftest import compliant_bucket, compliant_records_bucket, upload_folder
from tests.lineage_checks import (
    check_every_source_balances,
    check_outcomes_match_plan,
    check_pages_are_pixel_identical,
    check_quarantine_keeps_original_bytes,
    read_bytes,
    read_table,
)
from tests.pipelines.test_end_to_end import all_sources

pytestmark = pytest.mark.slow  # whole dumps, emulators or subprocesses: outside the fast loop


def edms_lines(folder: str, kind: str) -> list[str]:
    """A folder's resources of one kind, without what differs between stores and runs: ids (keyed hashes over the
    reference, which names the store), times, URLs and legacy locations. Sorted, as JSON."""
    found = []
    [files] = FileSystems.match([f"{folder}/{kind}-*.ndjson"])
    for metadata in files.metadata_list:
        for line in read_bytes(metadata.path).decode().splitlines():
            resource = json.loads(line)
            for volatile in ("id", "meta", "date", "recorded", "target", "agent"):
                resource.pop(volatile, None)
            for content in resource.get("content", ()):
                content["attachment"]["url"] = content["attachment"]["url"].rsplit("/", 1)[-1]
            for entity in resource.get("entity", ()):
                if entity["what"]["identifier"]["system"] == "urn:ietf:rfc:3986":
                    entity["what"]["identifier"]["value"] = entity["what"]["identifier"]["value"].rsplit("/", 1)[-1]
            found.append(json.dumps(resource, sort_keys=True))
    return sorted(found)


def test_gs_manifest_and_gs_output(storage_emulator, sample_dump, tmp_path):
    """Every source from gs://: profiles' relative manifests and path_map targets resolve under gs:// too."""
    source = upload_folder(Path(sample_dump.directory), "legacy-archive", "export-2026")
    manifest = f"{source}/manifest.csv"
    output = "gs://cloud-edms/migration"

    compliant_bucket("cloud-edms")  # the preflight's posture, patched in
    records = compliant_records_bucket("cloud-edms-records") + "/edms"  # rewritable, so a bucket of their own

    def on_gcs(local: str) -> str:
        return f"{source}/{Path(local).relative_to(sample_dump.directory).as_posix()}"

    argv = ["--manifest", manifest, "--output", output, "--index_output", records]
    for profile in sample_dump.profiles:
        argv += ["--source", on_gcs(profile)]
    for root in sample_dump.blob_roots:
        argv += ["--blob_root", on_gcs(root)]
    assert migrate(argv) == 0  # its duration: python -m benchmarks.wall_clock --gcs

    documents = read_table(output, "documents")
    gcs_plan = sample_dump  # same rows; blob URIs now resolve under gs://
    check_outcomes_match_plan(documents, gcs_plan, all_sources=True)
    check_every_source_balances(documents, gcs_plan, all_sources=True)
    assert sorted(row["uri"] for row in read_table(output, "orphans")) == [on_gcs(o) for o in sample_dump.orphans]
    assert all(d["blob_uri"].startswith("gs://legacy-archive/") for d in documents if d["blob_uri"])
    pages = read_table(output, "pages")
    assert pages and all(page["object_uri"].startswith(f"{output}/objects/") for page in pages)
    check_pages_are_pixel_identical(documents, pages)
    check_quarantine_keeps_original_bytes(documents)
    assert FileSystems.match([f"{output}/lineage/summary-*.json"])[0].metadata_list

    from pipelines.cli import main

    proof = ["reconcile", "--output", output, "--manifest", manifest, "--index_output", records]
    proof += [arg for profile in sample_dump.profiles for arg in ("--source", on_gcs(profile))]
    assert main(proof) == 0  # on gs://: objects listed and hashed, the chain re-hashed, the record written

    # The same NDJSON as a local run of the same dump writes, but for where things are and when they were written.
    on_gs = {kind: edms_lines(f"{records}/fhir", kind) for kind in ("DocumentReference", "Provenance")}
    local = tmp_path / "local"
    assert migrate([*all_sources(sample_dump), "--output", str(local)]) == 0
    assert on_gs == {kind: edms_lines(str(local / "fhir"), kind) for kind in on_gs}
    assert len(on_gs["DocumentReference"]) == sum(d["status"] == "migrated" for d in documents)
    FileSystems.delete([pages[0]["object_uri"]])
    assert main(proof) == 1


def test_a_user_on_the_command_line_with_gs_in_and_out(storage_emulator, tmp_path):
    """sample-dump to gs://, run gs:// → gs://, as separate processes; a missing output bucket fails fast."""
    from google.cloud import storage

    from tests.pipelines.test_cli import edms

    client = storage.Client.create_anonymous_client()
    client.create_bucket("cli-legacy")
    compliant_bucket("cli-edms")
    compliant_records_bucket("cli-edms-records")
    dumped = edms("sample-dump", "gs://cli-legacy/export")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert client.bucket("cli-legacy").blob("export/manifest.csv").exists()

    manifest = "gs://cli-legacy/export/manifest.csv"
    result = edms(
        "run", "--manifest", manifest, "--output", "gs://cli-edms/run1", "--index_output", "gs://cli-edms-records/run1"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "every document accounted for: yes" in result.stdout
    names = [blob.name for blob in client.list_blobs("cli-edms", prefix="run1/")]
    assert any(name.startswith("run1/objects/") and name.endswith(".tif") for name in names)
    assert any(name.startswith("run1/lineage/documents-") for name in names)

    missing = edms("run", "--manifest", "gs://cli-legacy/export/manifest.csv", "--output", "gs://no-such-bucket/x")
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1 and "cannot write to --output" in missing.stderr


def test_a_missing_gs_manifest_is_one_clear_line(storage_emulator):
    import pytest

    from pipelines.launch.launcher import migrate as launch
    from transforms.sources.errors import ManifestError

    with pytest.raises(ManifestError, match="manifest not found: gs://legacy-archive/nope/manifest.csv"):
        launch(["--manifest", "gs://legacy-archive/nope/manifest.csv", "--output", "gs://cloud-edms/x"])
