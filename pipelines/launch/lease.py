"""One run at a time per output prefix: the lease.

The lease is a series of small objects under PREFIX/lease/ (not lineage/: it is a lock, not evidence, and the run
chain never lists it), each created once and never replaced or deleted, so it holds under a bucket retention policy:
- `<epoch>.lease.json`: taken by a create-only write (lease_store.py), naming the holder's run id, host and pid,
  signed with the evidence key. Of two runs taking the next epoch at once, exactly one creates it; the other exits 2
  with one line naming the holder.
- `<epoch>.beat-<n>`: the heartbeat, a new object every HEARTBEAT_SECONDS from a thread of the holder.
- `<epoch>.released`: the holder recorded its runs row; the next run takes epoch + 1 with nothing to resume.
  Releasing is the creation of this marker, not a deletion: nothing is ever removed, the lease included.
- `<epoch>.abandoned`: the holder stopped without recording a runs row (its pipeline raised, or a check refused
  it): the next run takes over without a flag and resumes what it left.
A holder that vanished without a marker (kill -9) is taken over at once when it ran on this host and its process
is gone; from another host, only after STALE_SECONDS without a heartbeat and only with --break_stale_lease.
Whoever takes over records it in its runs row, and resumes (adopts) the lineage of every run it took over from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.console.usage import UsageError
from pipelines.launch.lease_store import LeaseStore, store_for
from transforms.storage.output_layout import lease_file, lease_folder

_LOGGER = logging.getLogger("edms_migrate")
HEARTBEAT_SECONDS = 30.0
#: A lease whose newest heartbeat is older than this may be broken with --break_stale_lease.
STALE_SECONDS = 600.0


class LeaseHeld(UsageError):
    """Another run holds the output's lease (or the lease cannot be trusted): one line, exit 2."""


@dataclass(frozen=True)
class LeaseRecord:
    """One epoch of the lease: who holds it, and what it took over."""

    epoch: int
    run_id: str
    host: str
    pid: int
    started_at: str
    adopts: tuple[str, ...] = ()  # runs killed (or abandoned) before sealing, whose lineage this run resumes
    took_over: dict[str, Any] | None = None  # the previous holder, when this run did not find the lease released
    detached: bool = False  # a submitted job nobody waits for: never taken over without --break_stale_lease

    def signed(self, key: bytes) -> bytes:
        body = json.dumps({**asdict(self), "adopts": list(self.adopts)}, sort_keys=True)
        tag = hmac.new(key, b"edms-migrate/lease/1\n" + body.encode(), hashlib.sha256).hexdigest()
        return json.dumps({"lease": json.loads(body), "mac": tag}, sort_keys=True, indent=1).encode()

    @classmethod
    def verified(cls, data: bytes, key: bytes) -> LeaseRecord | None:
        """The record, or None when it is not one this migration's key signed."""
        try:
            outer = json.loads(data)
            body = json.dumps(outer["lease"], sort_keys=True)
            tag = hmac.new(key, b"edms-migrate/lease/1\n" + body.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(tag, outer["mac"]):
                return None
            return cls(**{**outer["lease"], "adopts": tuple(outer["lease"]["adopts"])})
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        return f"run {self.run_id} (host {self.host}, pid {self.pid}, since {self.started_at})"

    def as_runs_column(self) -> str:
        """What the runs row records of the lease (the `lease` column)."""
        return json.dumps({"epoch": self.epoch, "adopted": list(self.adopts), "took_over": self.took_over})


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


@dataclass
class OutputLease:
    """The lease of one output prefix, as one run takes, keeps and gives it up."""

    output_prefix: str
    key: bytes
    store: LeaseStore | None = None
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    held: LeaseRecord | None = None
    recorded: bool = False  # the holder's runs row is written: release, rather than abandon, at the end

    def __post_init__(self) -> None:
        self.store = self.store or store_for(self.output_prefix)
        self.folder = lease_folder(self.output_prefix)
        self._stop = threading.Event()
        self._beats: threading.Thread | None = None

    def _uri(self, name: str) -> str:
        epoch, _, suffix = name.partition(".")
        return lease_file(self.folder, int(epoch), suffix)

    def acquire(self, run_id: str, *, break_stale: bool = False, detached: bool = False) -> LeaseRecord:
        names = self.store.names(self.folder)
        epochs = sorted(int(name.split(".")[0]) for name in names if name.endswith(".lease.json"))
        adopts: tuple[str, ...] = ()
        took_over = None
        if epochs:
            previous = self._read(epochs[-1])
            adopts, took_over = self._take_over(previous, names, break_stale)
        record = LeaseRecord(
            epoch=(epochs[-1] + 1) if epochs else 1,
            run_id=run_id,
            host=self.host,
            pid=self.pid,
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            adopts=adopts,
            took_over=took_over,
            detached=detached,
        )
        if not self.store.create(self._uri(f"{record.epoch:010d}.lease.json"), record.signed(self.key)):
            winner = self._read(record.epoch)
            raise LeaseHeld(
                f"{self.output_prefix} is leased to {winner.describe()}, which started at the same moment: one run "
                "at a time per output; wait for it to finish"
            )
        self.held = record
        if took_over:
            _LOGGER.warning("took over the lease of %s: %s", self.output_prefix, took_over["how"])
        return record

    def _read(self, epoch: int) -> LeaseRecord:
        uri = self._uri(f"{epoch:010d}.lease.json")
        for _ in range(20):  # a lease being created this instant may be empty for a moment
            record = LeaseRecord.verified(self.store.read(uri), self.key)
            if record is not None:
                return record
            time.sleep(0.1)
        raise LeaseHeld(
            f"lease file {uri} is not signed with this migration's key: no run of it wrote it; move it out of "
            f"{self.folder} (keep it for the record) and re-run"
        )

    def _take_over(
        self, previous: LeaseRecord, names: dict[str, float], break_stale: bool
    ) -> tuple[tuple[str, ...], dict[str, Any] | None]:
        """(runs to resume, what was taken over) from the latest epoch, or LeaseHeld while it is held."""
        stem = f"{previous.epoch:010d}."
        if stem + "released" in names:
            return (), None
        inherited = tuple(dict.fromkeys((*previous.adopts, previous.run_id)))
        ages = [time.time() - when for name, when in names.items() if name.startswith(stem)]
        age = min(ages) if ages else float("inf")
        what = {"epoch": previous.epoch, "run_id": previous.run_id, "host": previous.host, "pid": previous.pid}
        if stem + "abandoned" in names:
            return inherited, {**what, "how": "abandoned by its holder, which stopped without recording a run"}
        if previous.detached:
            if break_stale:
                return inherited, {**what, "how": "a detached job's lease, broken with --break_stale_lease"}
            raise LeaseHeld(
                f"{self.output_prefix} is leased to the detached job of {previous.describe()}: once that job has "
                "finished (see its console), re-run with --break_stale_lease"
            )
        if previous.host == self.host and not process_alive(previous.pid):
            return inherited, {**what, "how": "its process is gone from this host (killed)"}
        if age > STALE_SECONDS:
            if break_stale:
                how = f"stale (no heartbeat for {age:.0f} s), broken with --break_stale_lease"
                return inherited, {**what, "how": how}
            raise LeaseHeld(
                f"{self.output_prefix} is leased to {previous.describe()}, with no heartbeat for {age:.0f} s: if "
                "that run is dead, re-run with --break_stale_lease"
            )
        raise LeaseHeld(
            f"{self.output_prefix} is leased to {previous.describe()}, heartbeat {age:.0f} s ago: one run at a "
            "time per output; wait for it to finish"
        )

    def start_heartbeat(self, interval: float = HEARTBEAT_SECONDS) -> None:
        def beat() -> None:
            number = 0
            while not self._stop.wait(interval):
                number += 1
                try:
                    self.store.create(self._uri(f"{self.held.epoch:010d}.beat-{number:06d}"), b"")
                except Exception as error:  # a lost heartbeat only makes the lease look stale sooner
                    _LOGGER.warning("lease heartbeat failed: %s", type(error).__name__)

        self._beats = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
        self._beats.start()

    def _end(self, marker: str) -> None:
        self._stop.set()
        if self._beats is not None:
            self._beats.join()
        if self.held is not None:
            self.store.create(self._uri(f"{self.held.epoch:010d}.{marker}"), b"")

    def release(self) -> None:
        """The run recorded its runs row: the next run starts afresh."""
        self._end("released")

    def abandon(self) -> None:
        """The run stopped without recording: the next run takes over and resumes what it left."""
        self._end("abandoned")
