"""Decode lanes: several documents in flight in one MigrateDocumentFn, each outcome still exactly once."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.pvalue import TaggedOutput
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.utils.windowed_value import WindowedValue

from schemas.records import Status
from tests.faulty_converters import BUG_MARKER, CRASH_MARKER, HANG_MARKER, misbehaving_convert
from tests.migrate.test_migrate import dump, key_ref, ref, settings  # noqa: F401 (dump: a fixture used below)
from transforms.decoders.lanes import Lanes
from transforms.imaging.image_job import convert_blobs
from transforms.migrate.document_step import MigrateDocumentFn
from transforms.migrate.quarantine import QuarantineCrashedFn


class Meeting:
    """Who is inside the image job at once. Each call waits (up to 10 s) for a second call to be inside with it,
    so documents only migrate if two lanes really run together."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.most = 0
        self.barrier = threading.Barrier(2, timeout=10)


MEETING = Meeting()


def meeting_convert(blobs, limits, recorded_page_count, legacy_header=None):
    with MEETING.lock:
        MEETING.inside += 1
        MEETING.most = max(MEETING.most, MEETING.inside)
    try:
        MEETING.barrier.wait()
        return convert_blobs(blobs, limits, recorded_page_count, legacy_header)
    finally:
        with MEETING.lock:
            MEETING.inside -= 1


def run_directly(fn: MigrateDocumentFn, refs) -> tuple[list, list]:
    """(what process() emitted, what finish_bundle() emitted, unwrapped from its WindowedValues)."""
    during = [output for document in refs for output in fn.process(document)]
    at_end = []
    for output in fn.finish_bundle() or ():
        if isinstance(output, TaggedOutput):
            assert isinstance(output.value, WindowedValue)
            at_end.append(TaggedOutput(output.tag, output.value.value))
        else:
            assert isinstance(output, WindowedValue)
            at_end.append(output.value)
    return during, at_end


def test_two_lanes_run_two_documents_together_and_never_three(tmp_path, dump):  # noqa: F811
    global MEETING
    MEETING = Meeting()
    folder = dump[0]
    refs = [ref(folder, f"D{n}", "letter.tif") for n in range(6)]
    fn = MigrateDocumentFn(settings(tmp_path, decode_lanes=2), meeting_convert)
    fn.setup()
    try:
        during, at_end = run_directly(fn, refs)
    finally:
        fn.teardown()
    outcomes = during + at_end
    assert sorted(o.document["document_id"] for o in outcomes) == [f"D{n}" for n in range(6)]
    assert {o.document["status"] for o in outcomes} == {Status.MIGRATED}
    assert MEETING.most == 2
    # Outcomes leave as documents finish: at most one lane's worth is still held when the bundle ends.
    assert len(at_end) <= 2 and len(during) >= 4


def test_lanes_overlap_inside_a_real_pipeline(tmp_path, dump):  # noqa: F811
    """The runner hands the step a bundle of many documents, so its lanes have something to overlap."""
    global MEETING
    MEETING = Meeting()
    folder = dump[0]
    refs = [ref(folder, f"D{n}", "letter.tif") for n in range(4)]
    with TestPipeline(argv=["--runner=FnApiRunner"]) as pipeline:
        fn = MigrateDocumentFn(settings(tmp_path, decode_lanes=2), meeting_convert)
        outcomes = pipeline | beam.Create(refs) | beam.Reshuffle() | beam.ParDo(fn)
        assert_that(outcomes | beam.Map(lambda o: o.document["status"]), equal_to([Status.MIGRATED] * 4))
    assert MEETING.most == 2


def test_lanes_refuse_more_work_than_lanes():
    lanes = Lanes(["a", "b"])
    release = threading.Event()
    try:
        lanes.submit(1, lambda lane: release.wait(10) and lane)
        lanes.submit(2, lambda lane: release.wait(10) and lane)
        with pytest.raises(RuntimeError, match="every lane is busy"):
            lanes.submit(3, lambda lane: lane)
        release.set()
        finished = lanes.drain()
    finally:
        lanes.close()
    assert sorted(f.key for f in finished) == [1, 2] and sorted(f.result for f in finished) == ["a", "b"]


def _counters(result) -> dict[str, int]:
    totals: dict[str, int] = {}
    for counter in result.metrics().query(MetricsFilter().with_namespace("edms"))["counters"]:
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + counter.attempted
    return totals


def test_in_a_pipeline_each_document_leaves_once_and_counts_land_on_the_step(tmp_path, dump):  # noqa: F811
    folder = dump[0]
    (folder / "bug.png").write_bytes(dump[2] + BUG_MARKER)
    out = tmp_path / "out"
    out.mkdir()
    (out / "quarantine").write_text("not a folder: every quarantine write fails")
    refs = [ref(folder, f"G{n}", "letter.tif") for n in range(4)]
    refs += [ref(folder, "EMPTY", "empty.tif"), ref(folder, "BUG", "bug.png")]
    pipeline = TestPipeline(argv=["--runner=FnApiRunner"])
    fn = MigrateDocumentFn(settings(tmp_path, decode_lanes=3), misbehaving_convert)
    step = (
        pipeline
        | beam.Create(refs)
        | beam.ParDo(fn).with_exception_handling(main_tag="outcomes", dead_letter_tag=MigrateDocumentFn.CRASHED)
    )
    recovered = step.crashed | beam.ParDo(QuarantineCrashedFn(str(out), "run-1", key_ref(tmp_path)))
    outcomes = (step.outcomes, recovered) | beam.Flatten()
    assert_that(
        outcomes | beam.Map(lambda o: (o.label, o.document["status"], tuple(o.document["reasons"]))),
        equal_to(
            [(f"PAS/G{n}", "migrated", ()) for n in range(4)]
            + [
                ("PAS/EMPTY", "quarantined", ("EMPTY_BLOB", "STORAGE_ERROR")),
                ("PAS/BUG", "quarantined", ("INTERNAL_ERROR", "STORAGE_ERROR")),
            ]
        ),
    )
    result = pipeline.run()
    result.wait_until_finish()
    counts = _counters(result)
    assert (counts["documents_migrated"], counts["documents_quarantined"], counts["pages_migrated"]) == (4, 1, 12)
    assert counts["documents_crashed"] == 1
    # One failure counted on a lane thread (EMPTY's evidence), one by QuarantineCrashedFn (BUG's).
    assert counts["quarantine_write_failures"] == 2


@pytest.mark.slow
def test_a_hang_or_a_crash_in_one_lane_costs_that_document_only(tmp_path, dump):  # noqa: F811
    """Real children: the hang holds one lane until its time limit while the other lane goes on."""
    folder, g4, _ = dump
    (folder / "crash.tif").write_bytes(g4 + CRASH_MARKER)
    (folder / "hang.tif").write_bytes(g4 + HANG_MARKER)
    names = ("hang", "before-crash", "crash", "after-crash", "last")
    blobs = ("hang.tif", "letter.tif", "crash.tif", "letter.tif", "letter.tif")
    fn = MigrateDocumentFn(
        settings(tmp_path, isolation="always", decode_timeout_seconds=8, decode_lanes=2), misbehaving_convert
    )
    children_before = set(multiprocessing.active_children())
    fn.setup()
    try:
        during, at_end = run_directly(fn, [ref(folder, name, blob) for name, blob in zip(names, blobs, strict=True)])
    finally:
        fn.teardown()
    assert set(multiprocessing.active_children()) <= children_before  # teardown stopped every child
    rows = {o.document["document_id"]: o.document for o in during + at_end}
    assert {name: (row["status"], tuple(row["reasons"])) for name, row in rows.items()} == {
        "hang": ("quarantined", ("DECODE_TIMEOUT",)),
        "before-crash": ("migrated", ()),
        "crash": ("quarantined", ("DECODER_CRASH",)),
        "after-crash": ("migrated", ()),
        "last": ("migrated", ()),
    }
    assert [o.document["document_id"] for o in at_end][-1] == "hang"  # the others did not wait for it
    assert Path(rows["crash"]["quarantine_uri"]).read_bytes() == g4 + CRASH_MARKER


class RecordingThrottle:
    """Stands in for the process's read caps: which thread asked before and after each read."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str, int | None]] = []

    def before_read(self, source_system: str) -> None:
        with self.lock:
            self.calls.append(("before", threading.current_thread().name, None))

    def after_read(self, source_system: str, size: int) -> None:
        with self.lock:
            self.calls.append(("after", threading.current_thread().name, size))


def test_every_lanes_read_goes_through_the_processs_read_caps(tmp_path, dump):  # noqa: F811
    global MEETING
    MEETING = Meeting()
    folder, g4, _ = dump
    fn = MigrateDocumentFn(settings(tmp_path, decode_lanes=2), meeting_convert)
    fn.setup()
    fn.throttle = RecordingThrottle()
    try:
        during, at_end = run_directly(fn, [ref(folder, f"D{n}", "letter.tif") for n in range(4)])
    finally:
        fn.teardown()
    assert len(during + at_end) == 4
    calls = fn.throttle.calls
    assert [kind for kind, _, _ in calls].count("before") == 4
    assert [size for kind, _, size in calls if kind == "after"] == [len(g4)] * 4
    assert {thread.rsplit("_", 1)[0] for _, thread, _ in calls} == {"decode-lane"}  # read on the lanes, capped
