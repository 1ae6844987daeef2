"""Reconcile's EDMS check in DuckDB (no pipeline run): the current version of each id, and each failure it names,
on real NDJSON files, a real object and the real reconcile connection, with small lineage tables made in place."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from benchmarks.edms_scale import measure
from pipelines.operate.inventory import open_lineage
from pipelines.operate.reconcile_checks import Verify
from pipelines.operate.reconcile_edms import check_edms
from transforms.edms.config import FhirConfig

SYSTEM = FhirConfig().source("PAS").identifier_system


def record(id_: str, value: str, updated: str, obj: Path, status: str = "current", also: tuple = ()) -> str:
    data = obj.read_bytes()
    digest = base64.b64encode(hashlib.sha1(data).digest()).decode()
    attachment = {"url": obj.as_uri(), "size": len(data), "hash": digest}
    return json.dumps(
        {
            "id": id_,
            "meta": {"lastUpdated": updated},
            "status": status,
            "identifier": [{"system": SYSTEM, "value": value}, *({"system": SYSTEM, "value": v} for v in also)],
            "type": {"text": "Letter"} if value == "D2" else {"coding": [{"code": "371531000"}]},
            "securityLabel": [{"coding": [{"code": "R" if value == "D1" else "N"}]}],
            "content": [{"attachment": attachment}],
        }
    )


def test_each_failure_is_named_from_the_current_versions_only(tmp_path):
    obj = tmp_path / "object.tif"
    obj.write_bytes(b"II*\0page")
    fhir = tmp_path / "records" / "fhir"
    fhir.mkdir(parents=True)
    early, late = "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z"
    (fhir / "DocumentReference-a-000-000.ndjson").write_text(
        "\n".join(
            [
                record("r1", "D1", early, obj),  # D1: one current record (its later version below)
                record("r2", "D2", early, obj, also=("D5",)),  # D2: canonical of D5, later superseded
                record("r3", "D3", late, obj),  # D3: quarantined, yet current
                record("r4a", "D4", late, obj),  # D4: two current records
                record("r4b", "D4", late, obj),
                record("r6", "D6", late, obj, also=("D7",)),  # D6: canonical of D7, with its identifier
            ]
        )
        + "\n"
    )
    (fhir / "DocumentReference-b-000-000.ndjson").write_text(
        record("r1", "D1", late, obj) + "\n" + record("r2", "D2", late, obj, status="superseded") + "\n"
    )
    check, mix = check_edms(lineage(tmp_path), str(tmp_path / "records"), FhirConfig(), Verify())
    assert check.failures == [
        "PAS/D2: migrated, with 0 current DocumentReference(s), not one",  # its latest version is superseded
        "PAS/D3: quarantined, yet it has a current DocumentReference",
        "PAS/D4: migrated, with 2 current DocumentReference(s), not one",
        "PAS/D5: its legacy id is not on its canonical PAS/D2's record",
    ]
    assert check.checked["PAS"] == 7 and check.hashed["PAS"] == 2  # D1 and D6: one attachment each
    assert mix == {"PAS": {"coded": 2, "uncoded": 0, "labels": {"R": 1, "N": 1}}}
    obj.write_bytes(b"II*\0another page")
    check, _ = check_edms(lineage(tmp_path), str(tmp_path / "records"), FhirConfig(), Verify(1, 3))  # a sample of one
    assert check.hashed["PAS"] == 1
    assert check.failures[-1].endswith("is not the object it names (size or SHA-1 differs)")


def lineage(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A reconcile connection (no lineage files) with small current_documents and manifest_documents tables."""
    connection = open_lineage(str(tmp_path / "lineage-none"))
    connection.execute(
        "CREATE TABLE current_documents AS SELECT * FROM (VALUES ('PAS', 'D1', 'migrated', NULL), "
        "('PAS', 'D2', 'migrated', NULL), ('PAS', 'D3', 'quarantined', NULL), ('PAS', 'D4', 'migrated', NULL), "
        "('PAS', 'D5', 'duplicate', 'PAS/D2'), ('PAS', 'D6', 'migrated', NULL), ('PAS', 'D7', 'duplicate', 'PAS/D6')) "
        "AS t(source_system, document_id, status, duplicate_of)"
    )
    connection.execute(
        "CREATE TABLE manifest_documents AS SELECT source_system, document_id, FALSE AS repeated FROM current_documents"
    )
    return connection


@pytest.mark.slow  # a child process importing Beam
def test_the_memory_benchmark_builds_a_consistent_estate():
    """The benchmark's synthetic records and lineage agree, so its peak RSS is of a check that held."""
    result = measure(500, sources=3, sample=5)
    assert result["holds"] and result["checked"] == 500 and result["hashed"] == 3 * 5 * 3
