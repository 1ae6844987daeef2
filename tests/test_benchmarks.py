"""The benchmarks' own plumbing, so their numbers stay meaningful: the floor loop does the work it claims, the
tiny dump is distinct per document, and the process-tree watcher sees a child's memory and CPU. No timing here."""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

from PIL import Image

from benchmarks.floor_loop import run as run_floor_loop
from benchmarks.process_tree import run_tree
from benchmarks.tiny import tiny_page, write_dump
from tests.images import bilevel_page, encode, multipage_g4


def test_the_floor_loop_stores_every_page_losslessly_and_quarantines_what_it_cannot_decode(tmp_path):
    (tmp_path / "letter.tif").write_bytes(multipage_g4(3))
    grey = encode(bilevel_page(seed=3).convert("L"), "PNG")
    (tmp_path / "volume.dat").write_bytes(b"xx" + grey)
    (tmp_path / "manifest.csv").write_text(
        "source_system,document_id,blob_uri,offset,length\n"
        "A,1,letter.tif,,\n"
        f"A,2,volume.dat,2,{len(grey)}\n"
        "A,3,volume.dat,0,2\n"
    )
    counts = run_floor_loop([str(tmp_path / "manifest.csv")], tmp_path / "out")
    assert counts == {"documents": 3, "pages": 4, "quarantined": 1}
    objects = sorted((tmp_path / "out" / "objects").rglob("*.*"))
    assert len(objects) == 4
    for path in objects:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem  # named by content, as the pipeline does
    stored = {Image.open(path).convert("L").tobytes() for path in objects if path.suffix == ".tif"}
    assert bilevel_page(seed=3).convert("L").tobytes() in stored  # the grey PNG page, re-encoded as Deflate TIFF


def test_tiny_documents_are_distinct_one_page_group4_tiffs(tmp_path):
    pages = {tiny_page(number) for number in range(50)}
    assert len(pages) == 50 and all(len(page) < 1000 for page in pages)
    with Image.open(io.BytesIO(tiny_page(7))) as image:
        assert image.mode == "1" and image.info["compression"] == "group4"
    manifest = Path(write_dump(tmp_path / "dump", 20))
    rows = manifest.read_text().splitlines()
    assert len(rows) == 21 and (tmp_path / "dump" / "volume.dat").stat().st_size == sum(
        len(tiny_page(n)) for n in range(20)
    )


def test_the_process_tree_watcher_sees_a_childs_memory_and_cpu():
    script = (
        "import subprocess, sys\n"
        "child = 'b = bytearray(200 * 2**20); import time; t = time.process_time()\\n"
        "while time.process_time() - t < 0.6: pass'\n"
        "subprocess.run([sys.executable, '-c', child], check=True)\n"
        "print('ok')\n"
    )
    run = run_tree([sys.executable, "-c", script], interval=0.05)
    assert run.returncode == 0 and run.stdout.strip() == "ok"
    assert max(run.peak_rss_mib["other"]) > 200  # the grandchild's 200 MiB high-water mark
    assert run.cpu_seconds >= 0.6


def test_the_runners_table_counts_the_jvm_and_states_the_load():
    from benchmarks.runners import _recounted, table

    result = {
        "runner": "flink-pool",
        "seconds": 60.0,
        "cpu_seconds": 7.5,  # RUSAGE_CHILDREN without the JVM the launcher did not wait for
        "cpu_seconds_by_role": {"main": 4.0, "JVM job server + engine": 20.0, "harness": 3.0},
        "peak_rss_mib": {"main": 250.0, "JVM job server + engine": 700.0, "harness": 220.0, "decoder child": 130.0},
        "processes": {"main": 1, "JVM job server + engine": 1, "harness": 2, "decoder child": 2},
        "load_average": [1.2, 1.9],
    }
    row = table([_recounted(result)]).splitlines()[-1]
    assert row == "| flink-pool | 60.0 | 27.0 (20.0) | 250 / 700 ×1 / 220 ×2 / 130 ×2 | 1.2 → 1.9 |"


def test_the_edms_benchmark_builds_valid_records_for_every_document():
    """Its numbers count only documents whose records pass every rule (measure asserts it per document)."""
    from benchmarks.edms import measure

    build, sha1, journal = measure(20, 3, 1024)
    assert build > 0 and sha1 >= 0 and journal > 0
