"""The output's lease (pipelines/lease.py) on its own: taken create-only, held, released, taken over.

What proves what:
- the local store (O_EXCL) is real here and in the racing runs of tests/pipelines/test_evidence_guard.py;
- GCS's create-only write (`if_generation_match=0`) cannot be proved against the storage emulator, which ignores
  preconditions (ARCHITECTURE.md), so `PreconditionClient` below is a double that enforces it as GCS does (412,
  PreconditionFailed): a mock, because nothing real here enforces it. The emulator proves the rest of
  GcsLeaseStore (listing and reading real objects).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from google.api_core.exceptions import PreconditionFailed

from pipelines.launch.lease import STALE_SECONDS, LeaseHeld, LeaseRecord, OutputLease
from pipelines.launch.lease_store import GcsLeaseStore, LocalLeaseStore

KEY = b"k" * 32


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_lease_is_held_released_and_taken_again(tmp_path):
    first = OutputLease(str(tmp_path), KEY)
    held = first.acquire("r1")
    assert (held.epoch, held.adopts, held.took_over) == (1, (), None)
    with pytest.raises(LeaseHeld, match=rf"leased to run r1 \(host {socket.gethostname()}, pid {os.getpid()}"):
        OutputLease(str(tmp_path), KEY).acquire("r2")
    first.release()
    second = OutputLease(str(tmp_path), KEY).acquire("r2")
    assert (second.epoch, second.adopts, second.took_over) == (2, (), None)
    assert sorted(os.listdir(tmp_path / "lease")) == [
        "0000000001.lease.json",
        "0000000001.released",
        "0000000002.lease.json",
    ]  # nothing replaced or deleted: the lease works under a retention policy


def test_a_killed_holder_on_this_host_is_taken_over_and_its_run_resumed(tmp_path):
    killed = OutputLease(str(tmp_path), KEY, pid=dead_pid())
    killed.acquire("killed")
    taken = OutputLease(str(tmp_path), KEY).acquire("next")
    assert taken.adopts == ("killed",)
    assert taken.took_over["run_id"] == "killed" and "process is gone" in taken.took_over["how"]
    assert json.loads(taken.as_runs_column())["adopted"] == ["killed"]


def test_an_abandoned_lease_passes_on_the_runs_to_resume(tmp_path):
    first = OutputLease(str(tmp_path), KEY, pid=dead_pid())
    first.acquire("killed")
    second = OutputLease(str(tmp_path), KEY)
    assert second.acquire("refused").adopts == ("killed",)
    second.abandon()  # it stopped before recording (a check refused it): what it was to resume passes on
    third = OutputLease(str(tmp_path), KEY).acquire("third")
    assert third.adopts == ("killed", "refused") and "abandoned" in third.took_over["how"]


def test_a_remote_holder_is_waited_for_then_broken_only_with_the_flag(tmp_path):
    remote = OutputLease(str(tmp_path), KEY, host="worker-elsewhere", pid=1)
    remote.acquire("remote")
    with pytest.raises(LeaseHeld, match="leased to run remote .* heartbeat 0 s ago: one run at a time"):
        OutputLease(str(tmp_path), KEY).acquire("mine")
    old = time.time() - STALE_SECONDS - 60
    for path in (tmp_path / "lease").iterdir():
        os.utime(path, (old, old))
    with pytest.raises(LeaseHeld, match="no heartbeat for 6.. s: if that run is dead, re-run with --break_stale"):
        OutputLease(str(tmp_path), KEY).acquire("mine")
    taken = OutputLease(str(tmp_path), KEY).acquire("mine", break_stale=True)
    assert taken.adopts == ("remote",) and "broken with --break_stale_lease" in taken.took_over["how"]


def test_the_heartbeat_adds_beats_and_keeps_the_lease_fresh(tmp_path):
    lease = OutputLease(str(tmp_path), KEY, host="worker-elsewhere")
    lease.acquire("beating")
    lease.start_heartbeat(interval=0.01)
    deadline = time.monotonic() + 30
    while not any(name.startswith("0000000001.beat-") for name in os.listdir(tmp_path / "lease")):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    lease.release()
    assert not lease._beats.is_alive()


def test_a_lease_file_not_signed_with_the_key_is_refused(tmp_path):
    (tmp_path / "lease").mkdir()
    forged = LeaseRecord(1, "forged", "h", 1, "2026-01-01T00:00:00+00:00", adopts=("sealed-run",))
    (tmp_path / "lease" / "0000000001.lease.json").write_bytes(forged.signed(b"another key, not ours"))
    with pytest.raises(LeaseHeld, match="0000000001.lease.json is not signed with this migration's key"):
        OutputLease(str(tmp_path), KEY).acquire("mine")


class PreconditionClient:
    """A google.cloud.storage Client double that enforces if_generation_match as GCS does (the emulator does not)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, int, dt.datetime]] = {}

    def bucket(self, name: str) -> PreconditionClient._Bucket:
        return self._Bucket(self, name)

    def list_blobs(self, bucket: str, prefix: str = ""):
        for (owner, name), (_, _, updated) in sorted(self.objects.items()):
            if owner == bucket and name.startswith(prefix):
                yield type("Listed", (), {"name": name, "updated": updated})

    class _Bucket:
        def __init__(self, client: PreconditionClient, name: str) -> None:
            self.client, self.name = client, name

        def blob(self, name: str) -> PreconditionClient._Blob:
            return PreconditionClient._Blob(self.client, (self.name, name))

    class _Blob:
        def __init__(self, client: PreconditionClient, key: tuple[str, str]) -> None:
            self.client, self.key = client, key

        def upload_from_string(self, data: bytes, if_generation_match: int | None = None) -> None:
            current = self.client.objects.get(self.key)
            generation = current[1] if current else 0
            if if_generation_match is not None and if_generation_match != generation:
                raise PreconditionFailed(f"412 {self.key}: generation {generation}, not {if_generation_match}")
            self.client.objects[self.key] = (data, generation + 1, dt.datetime.now(dt.UTC))

        def download_as_bytes(self) -> bytes:
            return self.client.objects[self.key][0]


class BlindStore(GcsLeaseStore):
    """Lists nothing: two runs that both looked before either created, as in a real race."""

    def names(self, folder: str) -> dict[str, float]:
        return {}


def test_on_gcs_two_runs_taking_the_same_epoch_at_once_one_is_refused():
    client = PreconditionClient()
    first = OutputLease("gs://archive/migration", KEY, store=BlindStore(client))
    assert first.acquire("first").epoch == 1
    with pytest.raises(LeaseHeld, match="leased to run first .* started at the same moment"):
        OutputLease("gs://archive/migration", KEY, store=BlindStore(client)).acquire("second")
    assert [name for _, name in client.objects] == ["migration/lease/0000000001.lease.json"]


def test_on_gcs_the_lease_is_held_released_and_taken_over():
    client = PreconditionClient()
    held = OutputLease("gs://archive/m", KEY, store=GcsLeaseStore(client))
    held.acquire("one")
    with pytest.raises(LeaseHeld, match="leased to run one"):
        OutputLease("gs://archive/m", KEY, store=GcsLeaseStore(client)).acquire("two")
    held.release()
    assert OutputLease("gs://archive/m", KEY, store=GcsLeaseStore(client)).acquire("two").epoch == 2


def test_the_gcs_store_lists_and_reads_real_objects_on_the_emulator(storage_emulator):
    from google.cloud import storage

    client = storage.Client.create_anonymous_client()
    if not client.bucket("lease-test").exists():
        client.create_bucket("lease-test")
    store = GcsLeaseStore()
    assert store.create("gs://lease-test/out/lease/0000000001.lease.json", b"{}")
    store.create("gs://lease-test/out/lease/sub/ignored", b"")
    names = store.names("gs://lease-test/out/lease")
    assert list(names) == ["0000000001.lease.json"] and names["0000000001.lease.json"] > time.time() - 3600
    assert store.read("gs://lease-test/out/lease/0000000001.lease.json") == b"{}"


def test_the_local_store_creates_once(tmp_path):
    store = LocalLeaseStore()
    uri = str(tmp_path / "lease" / "x")
    assert store.create(uri, b"one") and not store.create(uri, b"two")
    assert Path(uri).read_bytes() == b"one" and (os.stat(uri).st_mode & 0o777) == 0o600
