"""The EDMS records sealed into the run chain, through the real command line: each runs row vouches for the FHIR
files its run wrote (by name and SHA-256), so an edited, deleted or stray file under fhir/ fails reconcile, naming
it, and a stray one is never read as a record nor taken into a run; a clean run, a run with its records in their
own prefix (--index_output) and a run resumed after kill -9 between its records and its runs row still pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.lineage_checks import read_table
from tests.pipelines.test_evidence import reconcile
from tests.pipelines.test_evidence_guard import refused, share  # noqa: F401  (the fixture)
from tests.pipelines.test_failing_runs import write_share_dump
from tests.pipelines.test_resume_and_waves import kill_when_held

pytestmark = pytest.mark.slow  # whole runs of the pipeline


def vouched(output: Path) -> dict[str, str]:
    """Every EDMS file name → SHA-256 the runs rows list."""
    return dict(entry.rsplit(" ", 1) for row in read_table(str(output), "runs") for entry in row["edms_files"] or ())


def test_every_file_a_run_writes_under_fhir_is_signed_and_vouched_for(share, capsys):  # noqa: F811
    argv, output = share
    names = sorted(path.name for path in (output / "fhir").iterdir())
    assert [name.split("-", 1)[0] for name in names] == ["DocumentReference", "Provenance", "summary"]
    assert all(".mac-" in name for name in names) and names[0].endswith(".ndjson"), names  # *.ndjson imports
    assert sorted(vouched(output)) == names
    code, out, record = reconcile(capsys, *argv)
    assert code == 0 and record["checks"]["chain"]["checked"] > len(names), out


def test_an_edited_or_deleted_record_file_fails_reconcile_naming_it(share, capsys):  # noqa: F811
    argv, output = share
    [path] = (output / "fhir").glob("DocumentReference-*.ndjson")
    saved = path.read_bytes()
    first, *rest = saved.splitlines()
    edited = json.loads(first)
    edited["securityLabel"][0]["coding"][0]["code"] = "N"  # a label lowered: every other check still holds
    edited["description"] = "edited"
    path.write_bytes(b"\n".join([json.dumps(edited).encode(), *rest]) + b"\n")
    code, out, record = reconcile(capsys, *argv)
    assert code == 1 and f"EDMS file {path.name} has changed since the run recorded it" in out, out
    assert record["checks"]["edms"]["holds"] and not record["checks"]["chain"]["holds"]  # the seal caught it
    path.unlink()
    code, out, _ = reconcile(capsys, *argv)
    assert code == 1 and f"EDMS file {path.name} is missing" in out, out
    [summary] = (output / "fhir").glob("summary-*.json")
    path.write_bytes(saved)
    text = summary.read_text()
    summary.write_text(text.replace('"document_references": 3', '"document_references": 4'))
    assert summary.read_text() != text
    code, out, _ = reconcile(capsys, *argv)
    assert code == 1 and f"EDMS file {summary.name} has changed since the run recorded it" in out, out


def test_a_stray_record_file_is_refused_by_run_ignored_as_a_record_and_named_by_reconcile(share, capsys):  # noqa: F811
    argv, output = share
    [path] = (output / "fhir").glob("DocumentReference-*.ndjson")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for resource in lines:  # each migrated document a second current record, were the file read
        resource["id"] = resource["id"][::-1]
    stray = output / "fhir" / "DocumentReference-elsewhere-000-000.ndjson"
    stray.write_text("".join(json.dumps(resource) + "\n" for resource in lines))
    line = refused(capsys, argv)
    assert f"EDMS file {stray.name} is not signed" in line and "move it out of" in line, line
    code, out, record = reconcile(capsys, *argv)
    assert code == 1 and f"EDMS file {stray.name} is in no run's record and is not signed" in out, out
    assert record["checks"]["edms"]["holds"], out  # not read: no document has two current records
    assert stray.name not in vouched(output)

    copied = path.with_name(path.name.replace("-000-000.", "-001-000."))  # a signed name, for other bytes
    stray.rename(copied)
    assert f"EDMS file {copied.name} does not match its signature" in refused(capsys, argv)
    code, out, _ = reconcile(capsys, *argv)
    assert code == 1 and f"EDMS file {copied.name} is in no run's record and does not match its signature" in out
    copied.unlink()  # the operator moves it away: the next run starts, and seals nothing of it
    assert main(["run", *argv]) == 0
    assert reconcile(capsys, *argv)[0] == 0


def test_records_in_their_own_prefix_are_sealed_there(tmp_path, capsys):
    profile, output, records = write_share_dump(tmp_path / "dump"), tmp_path / "out", tmp_path / "records"
    argv = ["--source", str(profile), "--output", str(output)]
    assert main(["run", *argv, "--index_output", str(records)]) == 0
    assert not (output / "fhir").exists()
    assert sorted(vouched(output)) == sorted(path.name for path in (records / "fhir").iterdir())
    assert reconcile(capsys, *argv, "--index_output", str(records))[0] == 0
    code, out, _ = reconcile(capsys, *argv)  # the records looked for in the wrong place
    assert code == 1 and "EDMS file DocumentReference-" in out and "is missing" in out, out
    [path] = (records / "fhir").glob("DocumentReference-*.ndjson")
    path.write_text(path.read_text()[:-10] + "\n")  # cut short: no longer NDJSON
    code, out, _ = reconcile(capsys, *argv, "--index_output", str(records))
    assert code == 1 and f"EDMS file {path.name} has changed" in out, out
    assert "not checked: a record file cannot be read as FHIR NDJSON (JSONDecodeError)" in out, out


#: The real job, held at the OS boundary once its EDMS summary (the last file under fhir/) is linked into place:
#: then killed, so its records are on disk and no runs row vouches for them.
HELD_AFTER_EDMS_SUMMARY = """
import os, re, sys, threading
from pipelines.cli import main
real_link = os.link
def link(source, destination, *args, **kwargs):
    real_link(source, destination, *args, **kwargs)
    if re.search(r"/fhir/summary-killed[.]mac-[0-9a-f]+[.]json$", os.fspath(destination)):
        print("edms summary written", flush=True)
        threading.Event().wait()
os.link = link
sys.exit(main(sys.argv[1:]))
"""


def test_a_run_killed_after_its_records_is_resumed_and_its_records_sealed(tmp_path, capsys):
    profile, output = write_share_dump(tmp_path / "dump", documents=3), tmp_path / "out"  # no twins
    argv = ["--source", str(profile), "--output", str(output)]
    kill_when_held(HELD_AFTER_EDMS_SUMMARY, ["run", *argv, "--run_id", "killed"], "edms summary written")
    killed = sorted(path.name for path in (output / "fhir").glob("*-killed*") if path.suffix != ".partial")
    assert len(killed) == 3 and not list((output / "lineage").glob("runs-*")), killed  # records, and no row
    code, out, record = reconcile(capsys, *argv)
    unrecorded = f"EDMS file {killed[0]} is in no run's record: a run crashed before recording it"
    assert code == 1 and any(line.startswith(unrecorded) for line in record["checks"]["chain"]["failures"]), out
    assert "PAS-SCAN/D0: migrated, with 0 current DocumentReference(s)" in out  # unsealed: not read as records
    assert main(["run", *argv, "--run_id", "resumed"]) == 0
    runs = {row["run_id"]: row for row in read_table(str(output), "runs")}
    assert json.loads(runs["resumed"]["lease"])["adopted"] == ["killed"]
    assert set(killed) <= {entry.split(" ")[0] for entry in runs["resumed"]["edms_files"]}
    code, out, _ = reconcile(capsys, *argv)
    assert code == 0, out
    assert main(["run", *argv, "--run_id", "after"]) == 0 and reconcile(capsys, *argv)[0] == 0
