"""Issue 18 item 6 through the command line: an output inside an input root, or an input root inside the output,
is refused with one line and exit code 2, before anything is written."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from tests.pipelines.test_resume_and_waves import write_manifest


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("output_in_blob_root", "--output {dump}/migrated is inside the input root {dump}"),
        ("output_in_allowed_root", "--output {dump}/migrated is inside the input root {dump}"),
        ("index_output_in_blob_root", "--index_output {dump}/records is inside the input root {dump}"),
        ("input_in_output", "the input root {dump} is inside --output {tmp}"),
    ],
)
def test_outputs_and_inputs_never_nest(layout, message, tmp_path, capsys):
    dump = tmp_path / "dump"
    manifest = write_manifest(dump, 1)
    argv = {
        "output_in_blob_root": ["--blob_root", str(dump), "--output", str(dump / "migrated")],
        "output_in_allowed_root": ["--allowed_roots", str(dump), "--output", str(dump / "migrated")],
        "index_output_in_blob_root": [
            *("--blob_root", str(dump), "--output", str(tmp_path / "out"), "--index_output", str(dump / "records"))
        ],
        "input_in_output": ["--output", str(tmp_path)],
    }[layout]
    assert main(["run", "--manifest", str(manifest), *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message.format(dump=dump, tmp=tmp_path) in lines[0], lines
    assert not (dump / "migrated").exists() and not (tmp_path / "out").exists() and not (dump / "records").exists()
