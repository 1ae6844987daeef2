"""Issue 18 item 5 through the command line: every quarantine copy, a page-per-row document's .page-N.bin files
too, has its size and SHA-256 in lineage and in its JSON record, and reconcile verifies each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from samples.profiled import PAGES_PROFILE
from tests.lineage_checks import read_table
from tests.pipelines.test_evidence import reconcile
from transforms.storage.objects import sha256_hex

pytestmark = pytest.mark.slow  # whole runs of the pipeline


@pytest.fixture
def page_source(sample_dump, tmp_path) -> tuple[list[str], Path]:
    """The sample dump's page-per-row source alone, migrated: one document quarantined with page files copied."""
    argv = ["--source", str(Path(sample_dump.directory) / PAGES_PROFILE), "--output", str(tmp_path / "out")]
    assert main(["run", *argv]) == 0
    return argv, tmp_path / "out"


def test_page_copies_are_recorded_and_every_kind_of_damage_fails_reconcile(page_source, capsys):
    argv, output = page_source
    rows = [row for row in read_table(str(output), "documents") if row["quarantine_files"]]
    assert rows, "the sample's page-per-row source quarantines a document whose page files are copied"
    copies = [entry.rsplit(" ", 2) for row in rows for entry in row["quarantine_files"]]
    for uri, sha, size in copies:
        assert ".page-" in uri and sha256_hex(Path(uri).read_bytes()) == sha and Path(uri).stat().st_size == int(size)
    record = json.loads(Path(rows[0]["quarantine_uri"]).read_text())
    recorded = {page["copy"]: (page["sha256"], page["bytes"]) for page in record["page_files"] if page["copy"]}
    in_row = (entry.rsplit(" ", 2) for entry in rows[0]["quarantine_files"])
    assert recorded == {uri: (sha, int(size)) for uri, sha, size in in_row}
    assert reconcile(capsys, *argv)[0] == 0
    target = Path(copies[0][0])
    original = target.read_bytes()
    damages = {
        "deleted": lambda: target.unlink(),
        "byte flipped": lambda: target.write_bytes(original[:-1] + bytes([original[-1] ^ 1])),
        "overwritten": lambda: target.write_bytes(b"something else entirely"),
    }
    for name, damage in damages.items():
        damage()
        code, out, _ = reconcile(capsys, *argv)
        assert code == 1 and f"quarantine page copy: {target}" in out, (name, out)
        target.write_bytes(original)
    assert reconcile(capsys, *argv)[0] == 0
