"""Issue 18 item 11 through the command line, on the FHIR records that replaced the index records: reconcile checks
the EDMS records, by which clinicians find a document once the legacy store is off. A deleted record or an edited
attachment fails it, naming the document."""

from __future__ import annotations

import json

import pytest

from tests.pipelines.test_evidence import reconcile
from tests.pipelines.test_evidence_guard import share  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow  # a run of the pipeline


def test_a_deleted_or_edited_edms_record_fails_reconcile(share, capsys):  # noqa: F811
    argv, output = share
    code, out, record = reconcile(capsys, *argv)
    assert code == 0 and record["checks"]["edms"]["checked"] == 4, out  # D0-D3: three migrated, D3 a duplicate
    [path] = (output / "fhir").glob("DocumentReference-*.ndjson")
    saved = path.read_text()
    by_id = {json.loads(line)["identifier"][0]["value"]: line for line in saved.splitlines()}
    edited = json.loads(by_id["D1"])
    edited["content"][0]["attachment"]["hash"] = "A" * 27 + "="
    kept = [line for name, line in by_id.items() if name not in ("D0", "D1")] + [json.dumps(edited)]
    path.write_text("\n".join(kept) + "\n")
    try:
        code, out, record = reconcile(capsys, *argv)
    finally:
        path.write_text(saved)
    assert code == 1 and record["checks"]["edms"]["failure_count"] == 2, out
    assert "PAS-SCAN/D0: migrated, with 0 current DocumentReference(s), not one" in out
    assert "PAS-SCAN/D1 attachment 1" in out and "size or SHA-1 differs" in out, out
    assert reconcile(capsys, *argv)[0] == 0
