"""Every TIFF variant of the coverage table (docs/formats.md) through the real pipeline, twice: each ends as its
row says, a kept page's stored object decodes (by tifffile) to exactly the source's samples, and two runs of
the same dump record the same lineage rows apart from run ids and times."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from samples.tiff_variants import KEPT, VARIANTS
from tests.lineage_checks import check_quarantine_keeps_original_bytes, read_bytes, read_history, read_table
from tests.tiff_checks import assert_same_samples, expected_samples, palette_of, shown_samples

pytestmark = pytest.mark.slow  # two runs of the DirectRunner over 60 files and the sample dump

#: What differs between two runs of the same input by design: which run, and when.
RUN_COLUMNS = {"run_id", "run_date", "recorded_at"}
SOURCE = "TIFF-VARIANTS"


@pytest.fixture(scope="module")
def variants_manifest(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiff-variants")
    with open(folder / "manifest.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["source_system", "document_id", "blob_uri"])
        writer.writeheader()
        for variant in VARIANTS:
            (folder / f"{variant.name}.tif").write_bytes(variant.build())
            writer.writerow({"source_system": SOURCE, "document_id": variant.name, "blob_uri": f"{variant.name}.tif"})
    return folder / "manifest.csv"


@pytest.fixture(scope="module")
def runs(variants_manifest, sample_dump, tmp_path_factory) -> list[str]:
    outputs = []
    for run in ("first", "second"):
        output = str(tmp_path_factory.mktemp(run) / "out")
        manifests = ["--manifest", str(variants_manifest), "--manifest", sample_dump.manifest_path]
        assert migrate([*manifests, "--output", output, "--max_quarantine_rate", "1"]) == 0
        outputs.append(output)
    return outputs


def test_every_variant_ends_as_its_coverage_row_says(runs, variants_manifest):
    documents = {d["document_id"]: d for d in read_table(runs[0], "documents") if d["source_system"] == SOURCE}
    pages: dict[str, list[dict]] = {}
    for page in sorted(read_table(runs[0], "pages"), key=lambda page: page["page_number"]):
        pages.setdefault(page["document_id"], []).append(page)
    assert sorted(documents) == sorted(variant.name for variant in VARIANTS)
    for variant in VARIANTS:
        document, source = documents[variant.name], (variants_manifest.parent / f"{variant.name}.tif").read_bytes()
        if variant.outcome != KEPT:
            assert (document["status"], document["reasons"]) == ("quarantined", [variant.outcome]), variant.name
            assert document["reason_messages"][0].startswith("page 1 ("), document["reason_messages"]
            continue
        assert document["status"] == "migrated", (variant.name, document["reason_messages"])
        stored_pages = pages[variant.name]
        assert tuple(dict.fromkeys(page["decoder"] for page in stored_pages)) == variant.decoders, variant.name
        assert stored_pages[0]["object_format"] == variant.stored, variant.name
        for index, page in enumerate(stored_pages):
            stored = read_bytes(page["object_uri"])
            expected = expected_samples(variant.name, source, index)
            assert_same_samples(shown_samples(stored), (expected * variant.scale).astype(expected.dtype))
            if variant.stored == "PNG":
                colours = len(palette_of(source))
                assert palette_of(stored)[:colours] == palette_of(source)[:colours], variant.name


def test_quarantined_variants_keep_their_exact_bytes(runs):
    check_quarantine_keeps_original_bytes(read_table(runs[0], "documents"))


def _comparable(row: dict, output: str) -> dict:
    """A row without its run id and times, and with the output prefix (and the run's own quarantine folder) taken
    out of the URIs it wrote."""
    run_folder = f"{output}/quarantine/{row['run_id']}/"
    return {
        name: value.replace(run_folder, "QUARANTINE/").replace(output, "OUTPUT") if isinstance(value, str) else value
        for name, value in row.items()
        if name not in RUN_COLUMNS
    }


@pytest.mark.parametrize("table", ["documents", "pages"])
def test_two_runs_of_the_same_dump_record_the_same_rows(runs, table):
    first, second = (
        sorted(
            (_comparable(row, output) for row in read_history(output, table)),
            key=lambda row: (row["source_system"], row["document_id"], row.get("page_number") or 0),
        )
        for output in runs
    )
    assert len(first) > 80  # every document of both dumps (documents), or every stored page (pages)
    assert first == second
    if table == "documents":  # and the messages in them say nothing that differs between runs: no reprs
        messages = [message for row in first for message in row["reason_messages"]]
        assert messages and not [message for message in messages if "0x" in message or "BytesIO" in message]
