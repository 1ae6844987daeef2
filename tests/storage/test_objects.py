import hashlib
import os
import stat
from pathlib import Path

from transforms.storage.objects import ObjectStore, QuarantineArea, owner_only_umask, write_all
from transforms.storage.output_layout import safe_name


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_objects_are_content_addressed_and_written_once(tmp_path):
    store = ObjectStore(str(tmp_path))
    uri, digest, written = store.put(b"page bytes", "tif")
    assert digest == hashlib.sha256(b"page bytes").hexdigest()
    assert uri == str(tmp_path / "objects" / digest[:2] / digest[2:4] / f"{digest}.tif")
    assert written and Path(uri).read_bytes() == b"page bytes"
    before = os.stat(uri).st_mtime_ns
    assert store.put(b"page bytes", "tif") == (uri, digest, False)
    assert os.stat(uri).st_mtime_ns == before
    assert not [name for name in os.listdir(os.path.dirname(uri)) if name.endswith(".partial")]


def test_a_damaged_object_is_rewritten(tmp_path):
    store = ObjectStore(str(tmp_path))
    uri, _, _ = store.put(b"page bytes", "png")
    with open(uri, "wb") as damaged:
        damaged.write(b"page")
    assert store.put(b"page bytes", "png")[2] is True
    assert Path(uri).read_bytes() == b"page bytes"


def test_quarantine_names_cannot_escape_their_folder(tmp_path):
    area = QuarantineArea(str(tmp_path), "../run")
    base = area.base_uri("PAS/SCAN", "../../etc/passwd")
    assert base.startswith(str(tmp_path / "quarantine"))
    assert ".." not in os.path.relpath(base, tmp_path / "quarantine").split(os.sep)
    assert len(os.path.relpath(base, tmp_path / "quarantine").split(os.sep)) == 3  # run, source, document
    assert safe_name("..") != ".." and safe_name("") != ""
    record = area.put(base, b"original", {"why": "test"})
    assert Path(base + ".bin").read_bytes() == b"original" and os.path.exists(record)


def test_local_writes_are_owner_only_whatever_the_umask(tmp_path):
    """Scans, quarantined originals and index records are patient data: 0600 files, 0700 folders we create, even
    under the most open umask; a folder that was there before is not ours to change."""
    tmp_path.chmod(0o755)
    previous = os.umask(0)
    try:
        write_all(str(tmp_path / "out" / "documents" / "PAS" / "1.json"), b"{}")
        write_all(str(tmp_path / "out" / "documents" / "PAS" / "1.json"), b"{ }")  # replacing keeps it private
    finally:
        os.umask(previous)
    assert mode(tmp_path / "out" / "documents" / "PAS" / "1.json") == 0o600
    assert [
        mode(tmp_path / "out"),
        mode(tmp_path / "out" / "documents"),
        mode(tmp_path / "out" / "documents" / "PAS"),
    ] == [0o700] * 3
    assert mode(tmp_path) == 0o755
    assert [p.name for p in (tmp_path / "out" / "documents" / "PAS").iterdir()] == ["1.json"]


def test_the_launchers_umask_makes_files_others_write_owner_only(tmp_path):
    """Beam writes lineage Parquet itself; the umask is what keeps those files private (and it is restored)."""
    before = os.umask(0o022)
    try:
        with owner_only_umask():
            (tmp_path / "by-another-library").write_bytes(b"x")
            (tmp_path / "folder").mkdir()
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(before)
    assert mode(tmp_path / "by-another-library") == 0o600 and mode(tmp_path / "folder") == 0o700
