"""`--worker_pool local`: a Beam worker pool on this machine for a Flink or Spark run, started and stopped here.

A worker pool (`python -m apache_beam.runners.worker.worker_pool_main`) is what a cluster runs beside each task
manager for --environment_type EXTERNAL: the engine asks it for an SDK harness per parallel task slot, and it
starts each as a process of its own (`python -c …SdkHarness…`, found on its PATH). Here one pool serves the
embedded engine's slots: the harness processes are as many as Flink's --parallelism or Spark's local[N], and
the pool itself only waits for requests. It runs with this interpreter, first on its PATH, so its harnesses
import the same edms-migrate.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

from apache_beam.options.pipeline_options import PipelineOptions, PortableOptions

_LOGGER = logging.getLogger("edms_migrate")
#: --worker_pool's meaning, declared with the job's options (pipelines/options.py).
WORKER_POOL_HELP = (
    "FlinkRunner, SparkRunner: 'local' starts a Beam worker pool here for the run, as EXTERNAL harnesses (what a "
    "cluster runs); else a local engine runs them LOOPBACK, in the launcher."
)
START_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("localhost", port)) == 0


#: The pool, started so that it gets SIGKILL when the launcher dies, even by kill -9 (Linux's PR_SET_PDEATHSIG,
#: set by the pool itself: a preexec_fn would fork the launcher, and gRPC's fork handlers abort a process whose
#: gRPC threads run, as a previous run's do). Elsewhere the pool just starts.
_POOL = (
    "import contextlib, ctypes, runpy, signal, sys\n"
    "with contextlib.suppress(Exception):\n"
    "    ctypes.CDLL('libc.so.6').prctl(1, signal.SIGKILL)\n"
    "sys.argv = ['worker_pool_main', *sys.argv[1:]]\n"
    "runpy.run_module('apache_beam.runners.worker.worker_pool_main', run_name='__main__')\n"
)


def start_pool(port: int) -> subprocess.Popen:
    """One worker_pool_main process listening on localhost:PORT, its harnesses on this interpreter."""
    environ = dict(os.environ)
    environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), environ.get("PATH", "")])
    pool = subprocess.Popen(
        [sys.executable, "-c", _POOL, f"--service_port={port}"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _listening(port):
        if pool.poll() is not None or time.monotonic() > deadline:
            stop_pool(pool)
            raise RuntimeError(f"the local worker pool did not start on port {port} (exit code {pool.returncode})")
        time.sleep(0.1)
    return pool


def stop_pool(pool: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s: the pool's harnesses end when the engine stops them or loses them."""
    if pool.poll() is None:
        pool.terminate()
        try:
            pool.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pool.kill()
            pool.wait()


@contextlib.contextmanager
def local_worker_pool(options: PipelineOptions) -> Iterator[str | None]:
    """With --worker_pool local: a pool for the run's duration, its address set as --environment_config.
    Yields the address (None when the run asked for no pool)."""
    if options.get_all_options().get("worker_pool") != "local":
        yield None
        return
    port = free_port()
    pool = start_pool(port)
    address = f"localhost:{port}"
    options.view_as(PortableOptions).environment_config = address
    _LOGGER.info("worker pool: pid %d at %s (EXTERNAL SDK harnesses)", pool.pid, address)
    try:
        yield address
    finally:
        stop_pool(pool)
