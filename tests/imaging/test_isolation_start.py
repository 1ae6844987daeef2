"""The decoder child: started ahead of the first call, and spawned without re-importing the parent's __main__."""

from __future__ import annotations

import sys

from transforms.imaging.isolation import IsolatedWorker


def what_the_child_imported() -> dict[str, bool]:
    main = sys.modules.get("__mp_main__")
    return {
        "parent_main": main is not None and getattr(main, "__file__", None) is not None,
        "image_job": "transforms.imaging.image_job" in sys.modules,
        "apache_beam": "apache_beam" in sys.modules,
    }


def test_a_started_child_has_preloaded_the_imaging_core_and_not_the_parents_main():
    worker = IsolatedWorker(timeout_seconds=60, memory_limit_bytes=None)
    try:
        worker.start(preload=("transforms.imaging.image_job",))
        assert worker.call(what_the_child_imported) == {
            "parent_main": False,  # pytest's __main__ (a launcher's: all of Beam) was not imported again
            "image_job": True,
            "apache_beam": False,
        }
    finally:
        worker.stop()


def test_a_child_replaced_after_a_fault_is_spawned_the_same_way():
    worker = IsolatedWorker(timeout_seconds=60, memory_limit_bytes=None)
    try:
        worker.call(what_the_child_imported)
        worker.stop()  # as after a timeout or a crash: the next call starts a fresh child
        assert worker.call(what_the_child_imported)["parent_main"] is False
    finally:
        worker.stop()
