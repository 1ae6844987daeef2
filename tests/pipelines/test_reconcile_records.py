"""Issue 18 item 11 through the command line: reconcile checks the EDMS index records, by which clinicians find a
document once the legacy store is off. A deleted or edited record fails it, naming the document."""

from __future__ import annotations

import json

import pytest

from tests.pipelines.test_evidence import reconcile
from tests.pipelines.test_evidence_guard import share  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow  # a run of the pipeline


def test_a_deleted_or_edited_index_record_fails_reconcile(share, capsys):  # noqa: F811
    argv, output = share
    code, out, record = reconcile(capsys, *argv)
    assert code == 0 and record["checks"]["records"]["checked"] == 4, out  # D0, D1, D2 migrated; D3 a duplicate
    records = output / "documents" / "PAS-SCAN"
    saved = {path.name: path.read_bytes() for path in records.iterdir()}
    (records / "D0.json").unlink()
    edited = json.loads(saved["D1.json"])
    edited["pages"][0]["object_sha256"] = "0" * 64
    (records / "D1.json").write_text(json.dumps(edited))
    duplicate = json.loads(saved["D3.json"])
    duplicate.update(status="migrated", duplicate_of=None, canonical_record=None)
    (records / "D3.json").write_text(json.dumps(duplicate))
    code, out, record = reconcile(capsys, *argv)
    assert code == 1 and record["checks"]["records"]["failure_count"] == 3, out
    assert f"PAS-SCAN/D0: index record {records / 'D0.json'} is missing" in out
    assert f"PAS-SCAN/D1: index record {records / 'D1.json'} does not list the document's current page objects" in out
    assert f"PAS-SCAN/D3: index record {records / 'D3.json'} says 'migrated', lineage says duplicate" in out
    for name, data in saved.items():
        (records / name).write_bytes(data)
    assert reconcile(capsys, *argv)[0] == 0
