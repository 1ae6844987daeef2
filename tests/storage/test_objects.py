import hashlib
import os
from pathlib import Path

from transforms.storage.objects import ObjectStore, QuarantineArea, safe_name


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
    area = QuarantineArea(str(tmp_path))
    base = area.base_uri("PAS/SCAN", "../../etc/passwd")
    assert base.startswith(str(tmp_path / "quarantine"))
    assert ".." not in os.path.relpath(base, tmp_path / "quarantine").split(os.sep)
    assert safe_name("..") != ".." and safe_name("") != ""
    record = area.put(base, b"original", {"why": "test"})
    assert Path(base + ".bin").read_bytes() == b"original" and os.path.exists(record)
