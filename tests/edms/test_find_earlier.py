"""Earlier records found through the EDMS record index, on the DirectRunner: files the NDJSON writer cut, their
index rows written as real (signed-less) Parquet lineage, then lookups that fetch only the wanted lines. A file the
index does not cover (older than the index, or changed since) is read whole, and still found."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.tables import EDMS_RECORD_INDEX
from transforms.edms.find_earlier import FindEarlier
from transforms.edms.ndjson import INDEX, WriteNdjson
from transforms.edms.record import dumps
from transforms.edms.record_index import current_records
from transforms.lineage.tables import WriteParquetTable
from transforms.privacy.key_source import PatientKeyRef
from transforms.storage.listing import matched_paths
from transforms.storage.output_layout import lineage_folder, table_history_pattern

SYSTEM = "https://trust.example.nhs.uk/Id/pas"
NHS_LIKE = "9434765919"  # a legacy id that is an NHS number: lineage (and the index) name it by its pseudonym


def resource(number: int, updated: str = "2026-12-01T09:00:00.000Z", status: str = "current") -> dict:
    value = NHS_LIKE if number == 7 else f"D{number}"
    return {
        "resourceType": "DocumentReference",
        "id": f"{number:040x}",
        "meta": {"lastUpdated": updated},
        "identifier": [{"system": SYSTEM, "value": value}],
        "status": status,
        "description": "x" * (number * 13 % 200),
    }


def written(tmp_path, key: PatientKeyRef) -> tuple[str, str]:
    """Run "a": 60 records cut into several files, and their index as Parquet; returns (fhir folder, output)."""
    folder, output = str(tmp_path / "records" / "fhir"), str(tmp_path / "out")
    lines = [("DocumentReference", dumps(resource(n))) for n in range(60)]
    with TestPipeline() as pipeline:
        result = pipeline | beam.Create(lines) | WriteNdjson(folder, "a", max_bytes=2_000, indexing=(key, ()))
        _ = result[INDEX] | WriteParquetTable(output, EDMS_RECORD_INDEX, "k", "a", dt.date(2026, 12, 1))
    return folder, output


def find(folder: str, output: str, key: PatientKeyRef, wanted: list, expected: list) -> dict[str, int]:
    """FindEarlier over every file and index file there: asserts it finds expected (identity, id, lastUpdated);
    returns the lookup's counters."""
    earlier = tuple(sorted(matched_paths(os.path.join(folder, "DocumentReference-*.ndjson"))))
    index = tuple(matched_paths(table_history_pattern(lineage_folder(output), EDMS_RECORD_INDEX.name)))
    pipeline = TestPipeline()
    records = pipeline | beam.Create(wanted) | FindEarlier(folder, earlier, index, key)
    keyed = records | beam.Map(lambda item: (item[0], item[1]["id"], item[1]["meta"]["lastUpdated"]))
    assert_that(keyed, equal_to(expected))
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("edms_earlier"))["counters"]
    counts = {counter.key.metric.name: counter.committed for counter in counters}
    return {name: counts.get(name, 0) for name in ("lines_fetched", "files_read_whole")}


def test_the_index_covers_every_line_and_names_no_identifier(tmp_path):
    key = PatientKeyRef("file", str(tmp_path / "patient.key"))
    (tmp_path / "patient.key").write_bytes(b"k" * 32 + b"\n")
    folder, output = written(tmp_path, key)
    [index_file] = matched_paths(table_history_pattern(lineage_folder(output), EDMS_RECORD_INDEX.name))
    rows = pq.read_table(index_file).to_pylist()
    files = sorted(matched_paths(os.path.join(folder, "DocumentReference-*.ndjson")))
    assert len(rows) == 60 and len(files) > 3
    for uri in files:
        data = Path(uri).read_bytes()
        mine = [row for row in rows if row["file"] == os.path.basename(uri)]
        assert sum(row["byte_length"] + 1 for row in mine) == len(data)
        for row in mine:
            line = json.loads(data[row["byte_offset"] : row["byte_offset"] + row["byte_length"]])
            assert line["id"] == row["resource_id"] and line["meta"]["lastUpdated"] == row["last_updated"]
    assert NHS_LIKE not in json.dumps(rows, default=str)
    assert {row["document_id"] for row in rows if row["resource_id"] == f"{7:040x}"} != {NHS_LIKE}


def test_lookups_fetch_only_wanted_lines_and_read_uncovered_files_whole(tmp_path):
    key = PatientKeyRef("file", str(tmp_path / "patient.key"))
    (tmp_path / "patient.key").write_bytes(b"k" * 32 + b"\n")
    folder, output = written(tmp_path, key)
    old = os.path.join(folder, "DocumentReference-old-000-000.ndjson")  # before the index: never indexed
    with open(old, "wb") as handle:
        handle.write(dumps(resource(3, "2026-11-01T09:00:00.000Z")) + b"\n" + dumps(resource(70)) + b"\n")
    wanted = [(SYSTEM, "D3"), (SYSTEM, "D41"), (SYSTEM, "D70"), (SYSTEM, "D99")]
    expected = [
        ((SYSTEM, "D3"), f"{3:040x}", "2026-11-01T09:00:00.000Z"),
        ((SYSTEM, "D3"), f"{3:040x}", "2026-12-01T09:00:00.000Z"),
        ((SYSTEM, "D41"), f"{41:040x}", "2026-12-01T09:00:00.000Z"),
        ((SYSTEM, "D70"), f"{70:040x}", "2026-12-01T09:00:00.000Z"),
    ]
    counts = find(folder, output, key, wanted, expected)
    assert counts == {"lines_fetched": 2, "files_read_whole": 1}  # D3 and D41 by byte range; only "old" whole

    ours = matched_paths(os.path.join(folder, "DocumentReference-a-*.ndjson"))
    [with_41] = [uri for uri in ours if b'"D41"' in Path(uri).read_bytes()]
    with open(with_41, "ab") as handle:  # changed since it was indexed: no longer covered, read whole
        handle.write(dumps(resource(41, "2026-12-02T09:00:00.000Z", "superseded")) + b"\n")
    later = [((SYSTEM, "D41"), f"{41:040x}", when) for when in ("2026-12-01T09:00:00.000Z", "2026-12-02T09:00:00.000Z")]
    counts = find(folder, output, key, [(SYSTEM, "D41")], later)
    assert counts == {"lines_fetched": 0, "files_read_whole": 2}  # "old" and the changed file: nothing by range


def test_the_launchers_lookup_agrees_outside_beam(tmp_path):
    """Retirements (transforms/edms/retire.py) look records up in the launcher, with the same index and fallback."""
    key = PatientKeyRef("file", str(tmp_path / "patient.key"))
    (tmp_path / "patient.key").write_bytes(b"k" * 32 + b"\n")
    folder, output = written(tmp_path, key)
    old = Path(folder, "DocumentReference-old-000-000.ndjson")
    old.write_bytes(dumps(resource(3, "2026-12-05T09:00:00.000Z", "superseded")) + b"\n")
    earlier = sorted(matched_paths(os.path.join(folder, "DocumentReference-*.ndjson")))
    index = matched_paths(table_history_pattern(lineage_folder(output), EDMS_RECORD_INDEX.name))
    wanted = {(SYSTEM, "D3"), (SYSTEM, "D12"), (SYSTEM, "D99")}
    found = current_records(folder, earlier, index, wanted, lambda text: text)
    assert sorted(found) == [(SYSTEM, "D12"), (SYSTEM, "D3")]
    assert found[(SYSTEM, "D3")]["status"] == "superseded" and found[(SYSTEM, "D12")]["id"] == f"{12:040x}"
