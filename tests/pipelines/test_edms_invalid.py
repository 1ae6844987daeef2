"""A resource that fails a rule is never written, and the run exits 1 naming the document and the rule.

--fhir_config refuses every such config at launch, so the one way left to a failing resource is a config that
bypassed those checks: the test hands the plan one (its loader replaced; everything else is the real pipeline).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.launch.launcher import migrate
from tests.edms_checks import lines
from tests.images import multipage_g4
from transforms.edms.config import FhirConfig, SourceSystem

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
