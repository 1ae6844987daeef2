"""NDJSON files as fhirStores.import reads them: one resource per line, files cut at the size limit, written once."""

from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from transforms.edms.earlier import identity_of_line
from transforms.edms.ndjson import WriteNdjson, parts
from transforms.edms.record import dumps
from transforms.edms.record_index import current_records


def resource(number: int, padding: int = 0) -> dict:
    return {
        "resourceType": "DocumentReference",
        "id": f"{number:040x}",
        "meta": {"lastUpdated": f"2026-12-0{1 + number % 2}T09:00:00.000Z"},
        "identifier": [{"system": "https://trust.example.nhs.uk/Id/pas", "value": f'D"{number}\\é'}],
        "status": "current",
        "description": "x" * padding,
    }


def test_parts_never_exceed_the_limit_and_keep_every_line():
    lines = [dumps(resource(n, padding=n * 7)) for n in range(200)]
    files = list(parts(lines, 4_000))
    assert all(len(data) <= 4_000 for data in files) and len(files) > 10
    assert b"".join(files).splitlines() == lines


def test_written_files_are_sorted_lines_under_the_limit(tmp_path):
    lines = [("DocumentReference", dumps(resource(n, padding=300))) for n in range(40)]
    lines += [("Provenance", b'{"resourceType":"Provenance","id":"p1"}')]
    with TestPipeline() as pipeline:
        _ = pipeline | beam.Create(lines) | WriteNdjson(str(tmp_path), "run-1", max_bytes=3_000)
    written = sorted(tmp_path.glob("*.ndjson"))
    documents = [path for path in written if path.name.startswith("DocumentReference-run-1-000-")]
    assert len(documents) > 3 and all(path.stat().st_size <= 3_000 for path in documents)
    assert [path.name for path in written if path.name.startswith("Provenance")] == ["Provenance-run-1-000-000.ndjson"]
    read = [line for path in documents for line in path.read_bytes().splitlines()]
    assert read == sorted(line for _, line in lines[:40])


def test_earlier_records_are_found_by_their_own_identifier_escaped_or_not(tmp_path):
    first, later = resource(1), resource(1)
    later["meta"]["lastUpdated"], later["status"] = "2026-12-09T09:00:00.000Z", "superseded"
    path = tmp_path / "DocumentReference-a-000-000.ndjson"
    path.write_bytes(b"\n".join([dumps(first), dumps(resource(2)), json.dumps(later).encode()]) + b"\n")
    identity = ("https://trust.example.nhs.uk/Id/pas", 'D"1\\é')
    assert identity_of_line(dumps(first)) == identity
    found = current_records(str(tmp_path), [str(path)], [], {identity}, lambda text: text)  # no index: read whole
    assert list(found) == [identity] and found[identity]["status"] == "superseded"  # the latest version
