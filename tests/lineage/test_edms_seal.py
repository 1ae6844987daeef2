"""The EDMS record files under the run chain, on real files: signed as the writers sign them, runs rows written as
the launcher writes them (tests/pipelines/test_edms_seal.py runs the real pipeline)."""

from __future__ import annotations

from pathlib import Path

from tests.lineage.test_chain import runs_row
from transforms.lineage.chain import ChainCheck, write_runs_row
from transforms.lineage.edms_seal import (
    edms_fields,
    edms_problems,
    edms_run_of,
    verify_edms,
    vouched_document_references,
)
from transforms.storage.signed_files import signed_name

KEY, OTHER_KEY = b"k" * 32, b"o" * 32


def signed(folder: Path, name: str, data: bytes, key: bytes = KEY) -> str:
    path = folder / signed_name(name, key, data)
    path.write_bytes(data)
    return path.name


def record(output: Path, records: Path, run_id: str, hour: int, adopted: tuple[str, ...] = ()) -> dict:
    """The run's runs row, as record_run makes it: its lineage and the EDMS files of it and the runs it adopts."""
    row = runs_row(output, run_id, hour, **edms_fields(str(output), str(records), (run_id, *adopted), KEY))
    write_runs_row(str(output), "k", run_id, row, KEY)
    return row


def test_a_files_run_is_read_from_its_name_longest_run_id_first():
    runs = ["r1", "r1-b", "x"]
    assert edms_run_of(signed_name("DocumentReference-r1-000-001.ndjson", KEY, b""), runs) == "r1"
    assert edms_run_of("Provenance-r1-b-retired-000-000.ndjson", runs) == "r1-b"
    assert edms_run_of("summary-r1-b.mac-" + "0" * 32 + ".json", runs) == "r1-b"
    assert edms_run_of("DocumentReference-r1-extra.ndjson", runs) is None  # not a shape a run writes
    assert edms_run_of("DocumentReference-r2-000-000.ndjson", runs) is None
    assert edms_run_of("stray.ndjson", runs) is None


def test_a_row_vouches_for_its_own_and_adopted_signed_files_only(tmp_path):
    output, records = tmp_path / "out", tmp_path / "records"
    (output / "lineage").mkdir(parents=True)
    fhir = records / "fhir"
    fhir.mkdir(parents=True)
    own = [signed(fhir, "DocumentReference-r2-000-000.ndjson", b'{"a":1}\n'), signed(fhir, "summary-r2.json", b"{}")]
    adopted = signed(fhir, "DocumentReference-killed-000-000.ndjson", b'{"k":1}\n')
    (fhir / "DocumentReference-r2-001-000.ndjson").write_bytes(b"unsigned\n")
    forged = signed(fhir, "DocumentReference-r2-002-000.ndjson", b"x\n", OTHER_KEY)
    (fhir / "Provenance-r2-000-000.ndjson.1234.partial").write_bytes(b"half")  # a writer's temporary: ignored
    row = record(output, records, "r2", 1, adopted=("killed",))
    assert sorted(entry.split(" ")[0] for entry in row["edms_files"]) == sorted([*own, adopted])

    check = ChainCheck()
    verify_edms(check, str(output), str(records), KEY)
    assert check.files_checked == 3 and sorted(check.failures) == [
        "EDMS file DocumentReference-r2-001-000.ndjson is in no run's record and is not signed: no run of the "
        "migration wrote it",
        f"EDMS file {forged} is in no run's record and does not match its signature: edited or forged",
    ]
    assert [Path(uri).name for uri in vouched_document_references(str(output), str(records))] == sorted(
        [own[0], adopted]
    )
    problems = edms_problems(str(output), str(records), KEY, "r3", adoptable=())
    assert len(problems) == 2 and all("move it out of" in line for line in problems), problems
    assert "run id r2 already has EDMS file" in edms_problems(str(output), str(records), KEY, "r2", ())[0]

    (fhir / "DocumentReference-r2-001-000.ndjson").unlink()
    (fhir / forged).unlink()
    (fhir / own[0]).write_bytes(b'{"a":2}\n')
    (fhir / adopted).unlink()
    check = ChainCheck()
    verify_edms(check, str(output), str(records), KEY)
    assert sorted(check.failures) == sorted(
        [f"run r2: EDMS file {own[0]} has changed since the run recorded it", f"run r2: EDMS file {adopted} is missing"]
    )


def test_a_killed_runs_signed_file_is_adopted_only_while_no_row_seals_that_run(tmp_path):
    output, records = tmp_path / "out", tmp_path / "records"
    (output / "lineage").mkdir(parents=True)
    (records / "fhir").mkdir(parents=True)
    record(output, records, "r1", 0)
    late = signed(records / "fhir", "DocumentReference-r1-001-000.ndjson", b"late\n")
    killed = signed(records / "fhir", "DocumentReference-killed-000-000.ndjson", b"k\n")
    assert edms_problems(str(output), str(records), KEY, "r2", adoptable=("killed",)) == [
        f"EDMS file {late} claims run r1, which was sealed without it: move it out of {records / 'fhir'} (keep it "
        "for the record) and re-run; edms-migrate reconcile names it too"
    ]
    unadopted = edms_problems(str(output), str(records), KEY, "r2", ())[0]  # the lease names no killed run
    assert unadopted.startswith(f"EDMS file {killed} belongs to no run this one may resume"), unadopted
