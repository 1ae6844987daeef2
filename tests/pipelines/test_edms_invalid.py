"""A resource that fails a rule is never written, and the run exits 1 naming the document and the rule.

--fhir_config refuses every such config at launch, so the one way left to a failing resource is a config that
bypassed those checks: the test hands the plan one (its loader replaced; everything else is the real pipeline).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from tests.edms_checks import lines
from tests.images import multipage_g4
from transforms.edms.config import FhirConfig, SourceSystem
from transforms.edms.rules import validate

pytestmark = pytest.mark.slow


def test_a_failing_resource_is_not_written_and_the_run_exits_1_naming_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "a.tif").write_bytes(multipage_g4(1))
    (tmp_path / "b.tif").write_bytes(multipage_g4(2))
    (tmp_path / "manifest.csv").write_text(
        "source_system,document_id,blob_uri,nhs_number,document_type,document_date\n"
        "PAS,L1,a.tif,943 476 5919,Clinic Letter,2020-01-02\n"
        "RAD,R1,b.tif,943 476 5919,X-ray Report,2020-01-03\n",
        encoding="utf-8",
    )
    wrong = FhirConfig(sources={"PAS": SourceSystem("https://trust.example.nhs.uk/Id/pas", custodian_ods="rrk!")})
    monkeypatch.setattr("pipelines.launch.fhir_config.load_fhir_config", lambda uri: wrong)
    output = tmp_path / "out"
    assert migrate(["--manifest", str(tmp_path / "manifest.csv"), "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert "ERROR: EDMS record not written: PAS/L1: ODS_CODE_SHAPE: ODS code 'rrk!'" in err
    written = lines(output / "fhir", "DocumentReference")
    assert [r["identifier"][0]["value"] for r in written] == ["R1"]  # the valid one is written, the other never
    assert not Path(output, "retired").exists()


def test_an_earlier_record_without_category_is_superseded_by_a_line_that_has_one(tmp_path, capsys):
    """An earlier version of this code wrote no category (nor an untyped document's description): a changed
    document supersedes that record with a line brought up to the UK Core rules, and the run passes."""
    (tmp_path / "a.tif").write_bytes(multipage_g4(1))
    row = "PAS,L1,{blob},943 476 5919,,2020-01-02\n"
    header = "source_system,document_id,blob_uri,nhs_number,document_type,document_date\n"
    (tmp_path / "manifest.csv").write_text(header + row.format(blob="a.tif"), encoding="utf-8")
    output = tmp_path / "out"
    argv = ["--manifest", str(tmp_path / "manifest.csv"), "--output", str(output)]
    assert migrate([*argv, "--run_id", "first"]) == 0
    [path] = (output / "fhir").glob("DocumentReference-first-*.ndjson")
    [earlier] = lines(output / "fhir", "DocumentReference", "first")
    old = {name: value for name, value in earlier.items() if name not in ("category", "description")}
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")  # as the earlier version wrote it
    (tmp_path / "moved.tif").write_bytes((tmp_path / "a.tif").read_bytes())  # the same bytes, another reference
    (tmp_path / "manifest.csv").write_text(header + row.format(blob="moved.tif"), encoding="utf-8")
    assert migrate([*argv, "--run_id", "second"]) == 0, capsys.readouterr().err
    second = lines(output / "fhir", "DocumentReference", "second")
    [superseded] = [r for r in second if r["id"] == old["id"]]
    assert superseded["status"] == "superseded"
    assert superseded["category"] == earlier["category"] and superseded["description"] == "Scanned document"
    assert all(validate(resource) == [] for resource in second)
