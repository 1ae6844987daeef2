"""Reading a document's bytes: missing, unavailable and out-of-bounds kept apart; nothing read outside the roots."""

from __future__ import annotations

import os

import pytest

from schemas.reasons import QuarantineError, Reason
from transforms.storage.blobs import ReadPolicy, read_range, with_retries
from transforms.storage.roots import containing_root

FAST = ReadPolicy(attempts=3, first_delay_seconds=0.0)


def reason(call) -> Reason:
    with pytest.raises(QuarantineError) as raised:
        call()
    return raised.value.finding.reason


def test_a_store_error_is_retried_with_backoff_then_unavailable_never_missing():
    calls, waits = [], []

    def refused() -> bytes:
        calls.append(1)
        raise PermissionError(13, "Permission denied")  # what an expired mount or a revoked ACL raises

    assert reason(lambda: with_retries(refused, "/store/a.tif", ReadPolicy(attempts=4), waits.append)) is (
        Reason.SOURCE_UNAVAILABLE
    )
    assert len(calls) == 4 and waits == [0.5, 1.0, 2.0]


def test_a_store_that_recovers_within_the_retries_gives_the_bytes():
    answers = iter([ConnectionError("reset"), TimeoutError("slow"), b"bytes"])

    def flaky() -> bytes:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert with_retries(flaky, "gs://b/a.tif", FAST, lambda _: None) == b"bytes"


def test_not_found_is_not_retried():
    calls = []

    def gone() -> bytes:
        calls.append(1)
        raise FileNotFoundError("a.tif")

    with pytest.raises(FileNotFoundError):
        with_retries(gone, "/store/a.tif", FAST, lambda _: None)
    assert calls == [1]


def test_a_missing_blob_is_missing_but_a_missing_store_is_unavailable(tmp_path):
    store = tmp_path / "share"
    store.mkdir()
    policy = ReadPolicy(roots=(str(store),), attempts=1)
    assert reason(lambda: read_range(str(store / "gone.tif"), None, None, policy)) is Reason.BLOB_MISSING
    store.rmdir()  # the share is not mounted: every file under it "disappears" at once
    assert reason(lambda: read_range(str(store / "a.tif"), None, None, policy)) is Reason.SOURCE_UNAVAILABLE


def test_nothing_outside_the_roots_is_read(tmp_path):
    dump, secret = tmp_path / "dump", tmp_path / "secret.key"
    dump.mkdir()
    secret.write_bytes(b"private key material")
    (dump / "link.tif").symlink_to(secret)
    policy = ReadPolicy(roots=(str(dump),))
    for location in (str(secret), str(dump / ".." / "secret.key"), str(dump / "link.tif"), "gs://other/a.tif"):
        assert reason(lambda location=location: read_range(location, None, None, policy)) is Reason.BLOB_OUTSIDE_ROOTS


def test_roots_compare_whole_segments_after_normalising():
    roots = ("/mnt/dump", "gs://legacy/scans")
    assert containing_root("/mnt/dump/a/../b.tif", roots) == "/mnt/dump"
    assert containing_root("/mnt/dump-other/b.tif", roots) is None
    assert containing_root("gs://legacy/scans/../../other/x", roots) is None
    assert containing_root("gs://legacy/scans/2019/x.tif", roots) == "gs://legacy/scans"


def test_a_document_over_the_size_limit_is_refused_before_any_byte_is_read(tmp_path):
    volume = tmp_path / "volume.dat"
    volume.write_bytes(os.urandom(4096))
    policy = ReadPolicy(max_document_bytes=1000)
    assert reason(lambda: read_range(str(volume), None, None, policy)) is Reason.DOCUMENT_TOO_LARGE
    assert read_range(str(volume), 100, 1000, policy) == volume.read_bytes()[100:1100]
