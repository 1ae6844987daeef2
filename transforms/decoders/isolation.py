"""Running the decoders in a child process, so a hang or a native crash costs one document only.

At 235 million images a one-in-a-million decoder fault happens hundreds of times. In
the worker's own process a segfault would kill the bundle and a hang would stall the
thread forever. Here each DoFn instance keeps one long-lived child (started with
`spawn`, safe beside the runner's threads) with a memory cap; the parent keeps the
bytes and the storage clients, so a failed call becomes a quarantine with a precise
reason and the document's bytes. Beam's with_exception_handling(use_subprocess=True)
would move the whole DoFn, storage I/O included, into a forked child and report only
an exception; this isolates just the CPU work.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import importlib
import logging
import multiprocessing
import os
import resource
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from schemas.reasons import QuarantineError, Reason

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")


#: glibc's mallopt parameters, and what the child sets them to: buffers up to this size come from the heap and
#: are reused once freed, instead of being mapped afresh for every page (and faulted in, 4 KiB at a time).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_HEAP_REUSE_BYTES = 256 * 2**20


def reuse_freed_memory() -> bool:
    """Have malloc keep and reuse freed page-sized buffers in this process; False where the C library is not glibc.

    An A4 page at 300 dpi is 8.7 MB a copy; glibc maps every such buffer freshly and returns it on free, so each
    decode, copy and comparison page-faults its way through fresh memory: 500,000 faults for 87 pages, a quarter
    of the imaging core's CPU (measured: 37 → 28 ms a page, peak RSS unchanged). Peak memory is what the pages
    need either way; between documents the child keeps up to _HEAP_REUSE_BYTES more of it resident.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _HEAP_REUSE_BYTES) and mallopt(_M_TRIM_THRESHOLD, 2 * _HEAP_REUSE_BYTES))


#: How often a decoder child looks for its parent; a child whose parent has gone ends within this.
PARENT_CHECK_SECONDS = 1.0


def _end_with_parent(parent: int) -> None:
    """A launcher killed outright (SIGTERM, SIGKILL, OOM) cannot stop its decoder children, which would otherwise
    live on, idle, holding their memory: each child ends itself once its parent is gone (re-parented)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _prepare_child(memory_limit_bytes: int | None) -> None:
    """Runs once in each child: end with its parent, cap its memory, let it reuse page buffers, and quieten the
    warning the parent quietens too."""
    _end_with_parent(os.getppid())
    if memory_limit_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    reuse_freed_memory()
    warnings.filterwarnings("ignore", message="Corrupt EXIF data", category=UserWarning)


def _preload(modules: tuple[str, ...]) -> None:
    """Runs in a new child: import the modules its calls need, while the parent gets on with its own work."""
    for module in modules:
        importlib.import_module(module)


_SPAWNING = threading.Lock()


@contextlib.contextmanager
def _main_module_not_reimported(function: Callable[..., object]) -> Iterator[None]:
    """While a child is spawned, hide the parent's __main__ from spawn, which would otherwise re-import it there.

    For `python -m pipelines.migrate` that is the launcher and all of Beam: 1.5 s of CPU in every decoder child
    (measured) for a process that only ever runs the imaging core, found by its own module name. A function that
    lives in __main__ needs it, and keeps it.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(function, "__module__", None) == "__main__":
        yield
        return
    with _SPAWNING:  # one thread at a time hides and restores them, so none restores another's hidden values
        saved = {name: main.__dict__[name] for name in ("__spec__", "__file__") if name in main.__dict__}
        main.__spec__ = None
        main.__dict__.pop("__file__", None)
        try:
            yield
        finally:
            main.__dict__.update(saved)


class IsolatedWorker:
    """A child process that runs one call at a time under a time limit; it is replaced after any fault."""

    def __init__(self, *, timeout_seconds: float, memory_limit_bytes: int | None) -> None:
        self.timeout_seconds = timeout_seconds
        self.memory_limit_bytes = memory_limit_bytes
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _ensure_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_prepare_child,
                initargs=(self.memory_limit_bytes,),
            )
        return self._pool

    def start(self, preload: tuple[str, ...]) -> None:
        """Start the child now and have it import PRELOAD, without waiting: the first call then finds it ready."""
        if self._pool is None:
            with _main_module_not_reimported(_preload):
                self._ensure_pool().submit(_preload, preload)

    def call(self, function: Callable[..., T], *args: Any) -> T:
        with _main_module_not_reimported(function):  # a child is spawned by the first submit to a new pool
            future = self._ensure_pool().submit(function, *args)
        try:
            return future.result(timeout=self.timeout_seconds)
        except concurrent.futures.TimeoutError as error:
            self.stop()
            raise QuarantineError(
                Reason.DECODE_TIMEOUT, f"decoding did not finish within {self.timeout_seconds:g} s"
            ) from error
        except BrokenProcessPool as error:
            self.stop()
            raise QuarantineError(Reason.DECODER_CRASH, "the decoder process died (native crash)") from error
        except MemoryError as error:
            raise QuarantineError(
                Reason.DECOMPRESSION_BOMB, f"decoding needed more than the {self._limit_text()} memory limit"
            ) from error

    def _limit_text(self) -> str:
        return f"{self.memory_limit_bytes // 2**20} MiB" if self.memory_limit_bytes else "available"

    def stop(self) -> None:
        """Kill the child (it may be hung) and forget it; the next call starts a fresh one."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        for process in processes:
            if process.is_alive():
                process.kill()
        # The pool's own manager thread also reaps the killed child; joining it first means our join below
        # cannot lose that race (waitpid's ECHILD) and leave a dead child listed as active.
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        if manager is not None:
            manager.join(timeout=5)
        for process in processes:
            process.join(timeout=5)


class InProcessWorker:
    """The same interface without isolation: for tests of the work itself, and for --decode_isolation=none."""

    def call(self, function: Callable[..., T], *args: Any) -> T:
        try:
            return function(*args)
        except MemoryError as error:
            raise QuarantineError(Reason.DECOMPRESSION_BOMB, "decoding ran out of memory") from error

    def stop(self) -> None:
        pass
