"""The wall-clock figures the tests used to assert, measured here instead and printed.

    python -m benchmarks.wall_clock [--gcs]

A test proves what happens, not how fast: a limit tuned on one machine fails on a busier one and passes a slow
regression on a faster one. These are the durations those tests once bounded, so a change that slows them shows:

- bomb: a TIFF header claiming 400000×250000 pixels refused as DECOMPRESSION_BOMB (was < 5 s; expect ms: no
  pixel is allocated);
- hang: an isolated child that never answers, ended by its 8 s time limit and replaced (the decode-lanes test's
  hang; was part of < 40 s);
- dry run: the whole job translated for Dataflow offline (was < 15 s; minutes means Beam is looking for
  credentials);
- gcs (with --gcs): the generated sample dump migrated from and to the storage emulator (was < 60 s; minutes
  means the credential short-cut for the emulator is not working).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image

from schemas.reasons import QuarantineError

PROJECT = "trust-edms-prod"
REGION = "europe-west2"


def timed(name: str, work: Callable[[], object]) -> None:
    started = time.perf_counter()
    result = work()
    print(f"{name:<10} {time.perf_counter() - started:8.2f} s   {result}", flush=True)


def _claiming(width: int, height: int) -> bytes:
    """An 8×8 Group 4 TIFF whose ImageWidth and ImageLength (tags 256, 257) claim WIDTH×HEIGHT."""
    buffer = io.BytesIO()
    Image.new("1", (8, 8), 1).save(buffer, "TIFF", compression="group4")
    data = bytearray(buffer.getvalue())
    ifd = struct.unpack_from("<I", data, 4)[0]
    for index in range(struct.unpack_from("<H", data, ifd)[0]):
        at = ifd + 2 + index * 12
        tag = struct.unpack_from("<H", data, at)[0]
        if tag in (256, 257):
            struct.pack_into("<HHII", data, at, tag, 4, 1, width if tag == 256 else height)
    return bytes(data)


def bomb() -> str:
    from transforms.imaging.image_job import ImageLimits, convert_document

    data = _claiming(400_000, 250_000)
    try:
        convert_document(data, ImageLimits(), None)
    except QuarantineError as error:
        return error.finding.reason.value
    return "migrated (a bug: the bomb was not refused)"


def _sleep_forever() -> None:
    time.sleep(3600)


def hang() -> str:
    from benchmarks.wall_clock import _sleep_forever as sleep_forever  # by module name: the child cannot see __main__
    from transforms.decoders.isolation import IsolatedWorker

    worker = IsolatedWorker(timeout_seconds=8, memory_limit_bytes=None)
    try:
        worker.call(sleep_forever)
    except QuarantineError as error:
        return error.finding.reason.value
    finally:
        worker.stop()
    return "answered (a bug: the child should hang)"


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    def refuse(*args, **kwargs):
        raise OSError("network used during a dry run")

    saved = socket.socket.connect, socket.getaddrinfo
    socket.socket.connect, socket.getaddrinfo = refuse, refuse
    try:
        yield
    finally:
        socket.socket.connect, socket.getaddrinfo = saved


def dry_run(folder: Path) -> str:
    from pipelines.launch.launcher import run

    (folder / "manifest.csv").write_text("source_system,document_id,blob_uri\nPAS,1,a.tif\n", encoding="utf-8")
    flags = {
        "runner": "DataflowRunner",
        "project": PROJECT,
        "region": REGION,
        "temp_location": "gs://trust-edms-dataflow/tmp",
        "sdk_container_image": f"{REGION}-docker.pkg.dev/{PROJECT}/edms/edms-migrate:0.1.0",
        "patient_key_secret": f"projects/{PROJECT}/secrets/edms-patient-key/versions/3",
        "manifest": str(folder / "manifest.csv"),
        "output": "gs://trust-edms-archive/migration",
        "blob_root": "gs://legacy-scans/pas",
    }
    with _offline():
        code = run([*(f"--{name}={value}" for name, value in flags.items()), "--dry_run=True"])
    return f"exit {code}"


def gcs(folder: Path) -> str:
    from gcp_storage_emulator.server import create_server

    from pipelines.launch.launcher import migrate
    from samples.dump import write_sample_dump
    from tests.conftest import TEST_PAGE_SIZE, compliant_bucket, compliant_records_bucket, upload_folder

    dump = write_sample_dump(folder / "dump", seed=7, page_size=TEST_PAGE_SIZE)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server("127.0.0.1", port, data_dir=str(folder / "gcs"))
    server.start()
    with contextlib.ExitStack() as stack:
        stack.callback(server.stop)
        os.environ["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{port}"
        source = upload_folder(Path(dump.directory), "legacy-archive", "export")
        compliant_bucket("cloud-edms")
        records = compliant_records_bucket("cloud-edms-records") + "/edms"

        def on_gcs(local: str) -> str:
            return f"{source}/{Path(local).relative_to(dump.directory).as_posix()}"

        argv = ["--manifest", f"{source}/manifest.csv", "--output", "gs://cloud-edms/migration"]
        argv += ["--index_output", records]
        for profile in dump.profiles:
            argv += ["--source", on_gcs(profile)]
        for root in dump.blob_roots:
            argv += ["--blob_root", on_gcs(root)]
        started = time.perf_counter()
        code = migrate(argv)
        return f"exit {code}, {len(dump.all_documents)} documents in {time.perf_counter() - started:.1f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gcs", action="store_true", help="also migrate the sample dump on the storage emulator")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edms-wall-clock-") as work:
        timed("bomb", bomb)
        timed("hang", hang)
        timed("dry run", lambda: dry_run(Path(work)))
        if args.gcs:
            timed("gcs", lambda: gcs(Path(work)))


if __name__ == "__main__":
    main()
