"""`edms-migrate estimate`: a calibration run on a generated dump, and the capacity arithmetic it feeds."""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from pipelines.capacity.calibration import Calibration, census, document_kind, page_kind, sampled_documents
from pipelines.capacity.estimate import GIB, PIPELINE_CPU_SECONDS_PER_DOCUMENT, plan_capacity, report
from pipelines.cli import main
from transforms.sources.profiles import canonical_profile, expand_manifests, load_profile

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CALIBRATION = Calibration(
    documents=100,
    statuses={"migrated": 90, "quarantined": 10},
    pages=300,
    cpu_seconds=30.0,
    wall_seconds=40.0,
    bytes_in=100 * 2**20,
    bytes_out=50 * 2**20,
)


def test_the_plan_scales_the_measurements_to_the_archive_and_the_deadline():
    plan = plan_capacity(
        CALIBRATION, 235_000_000, dt.date(2026, 12, 31), NOW, worker_vcpus=4, vcpu_hour_price=0.05, gb_month_price=0.02
    )
    assert plan.cpu_seconds_per_page == 0.1 and plan.pages_per_document == 3.0
    assert plan.vcpu_hours == pytest.approx(0.1 * 3.0 * 235_000_000 / 3600)  # 19,583
    overhead = PIPELINE_CPU_SECONDS_PER_DOCUMENT * 235_000_000 / 3600
    assert plan.overhead_vcpu_hours == pytest.approx(overhead) and overhead > 0
    assert plan.vcpu_hours_planned == pytest.approx((plan.vcpu_hours + overhead) * 1.25)
    assert plan.hours_to_deadline == 364 * 24
    assert plan.workers == 1  # 24,479 vCPU-hours over 8,736 hours: one 4-vCPU worker suffices
    assert plan.hours == pytest.approx(plan.vcpu_hours_planned / 4)
    assert plan.storage_gib == pytest.approx(0.5 * 2**20 * 235_000_000 / GIB)
    assert plan.compute_cost == pytest.approx(plan.vcpu_hours_planned * 0.05)
    assert plan.storage_cost_per_month == pytest.approx(plan.storage_gib * 0.02)


def test_storage_is_reported_per_source_byte_on_the_samples_own_mix_of_pages():
    assert [page_kind(mode) for mode in ("1", "L", "I;16", "MINISBLACK;float64", "RGB", "CMYK", "P", None)] == [
        "bilevel",
        "grey",
        "grey",
        "grey",
        "colour",
        "colour",
        "colour",
        "PDF",
    ]
    assert document_kind([{"mode": "1"}, {"mode": "1"}]) == "bilevel"
    assert document_kind([{"mode": "1"}, {"mode": "RGB"}]) == "mixed"
    mixed = replace(
        CALIBRATION,
        storage_by_kind={"bilevel": [60, 180, 30 * 2**20, 30 * 2**20], "colour": [30, 40, 60 * 2**20, 66 * 2**20]},
    )
    assert mixed.object_bytes_per_source_byte == pytest.approx(96 / 90)
    text = report(mixed, 100, plan_capacity(mixed, 1000, dt.date(2026, 12, 31), NOW), "scratch")
    assert "1.07 object bytes per source byte on the sample's migrated documents" in text
    assert "(bilevel 82% of pages: 1.00, colour 18% of pages: 1.10)" in text


def test_the_per_document_overhead_counts_where_the_pages_cost_little():
    """An archive of tiny one-page documents: the pipeline's own cost per document, not the codecs, sizes it."""
    tiny = Calibration(
        documents=100, statuses={"migrated": 100}, pages=100, cpu_seconds=0.05, wall_seconds=1, bytes_in=1, bytes_out=1
    )
    without = plan_capacity(tiny, 235_000_000, dt.date(2026, 12, 31), NOW, overhead_cpu_seconds_per_document=0)
    default = plan_capacity(tiny, 235_000_000, dt.date(2026, 12, 31), NOW)
    assert without.overhead_vcpu_hours == 0
    overhead = PIPELINE_CPU_SECONDS_PER_DOCUMENT * 235_000_000 / 3600
    assert default.vcpu_hours_planned == pytest.approx(without.vcpu_hours_planned + overhead * 1.25)
    assert default.vcpu_hours_planned > 2 * without.vcpu_hours_planned  # the pages alone would under-plan it


def test_a_near_deadline_needs_a_fleet_that_finishes_in_time():
    plan = plan_capacity(CALIBRATION, 235_000_000, dt.date(2026, 1, 8), NOW, worker_vcpus=8)
    assert plan.hours_to_deadline == 7 * 24
    assert plan.workers == 19  # ceil(24,479 planned vCPU-hours / (8 vCPU × 168 hours)) = ceil(18.2)
    assert plan.hours <= plan.hours_to_deadline
    assert plan.workers * plan.worker_vcpus * plan.hours == pytest.approx(plan.vcpu_hours_planned)


def sources_of(dump) -> list:
    sources = [(canonical_profile(dump.manifest_path), dump.manifest_path)]
    for path in dump.profiles:
        profile = load_profile(path)
        sources += [(profile, manifest) for manifest in expand_manifests(profile)]
    return sources


@pytest.mark.slow  # a whole dump
def test_the_census_counts_every_document_once_and_samples_uniformly(sample_dump):
    sources = sources_of(sample_dump)
    everything = census(sources, 10_000, random.Random(1))
    assert everything.documents == len(sample_dump.all_documents)
    assert everything.rows > everything.documents  # page-per-row sources have a row per page
    documents = sampled_documents(sources, everything.sample)
    assert sorted((d.source_system, d.document_id) for d in documents) == sorted(
        (d.source_system, d.document_id) for d in sample_dump.all_documents
    )
    assert any(d.page_blobs for d in documents)  # page-per-row documents, assembled as the job does
    draws = [census(sources, 5, random.Random(seed)).sample for seed in range(3)]
    assert all(len(draw) == 5 for draw in draws) and draws[0] != draws[1]


@pytest.mark.slow
def test_estimate_on_a_generated_dump(sample_dump, tmp_path, capsys):
    argv = ["estimate", "--manifest", sample_dump.manifest_path]
    for profile in sample_dump.profiles:
        argv += ["--source", profile]
    argv += ["--sample", "25", "--documents", "235000000", "--deadline", "2099-12-31", "--seed", "3"]
    argv += ["--vcpu_hour_price", "0.056", "--gb_month_price", "0.02", "--scratch", str(tmp_path / "scratch")]
    assert main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    calibration, plan = result["calibration"], result["plan"]
    assert result["counted"] == len(sample_dump.all_documents)
    assert calibration["documents"] == 25 and sum(calibration["statuses"].values()) == 25
    assert calibration["pages"] > 0 and calibration["cpu_seconds"] > 0 and calibration["bytes_out"] > 0
    assert plan["documents"] == 235_000_000
    per_page = calibration["cpu_seconds"] / calibration["pages"]
    assert plan["vcpu_hours"] == pytest.approx(per_page * calibration["pages"] / 25 * 235_000_000 / 3600)
    assert plan["overhead_vcpu_hours"] == pytest.approx(PIPELINE_CPU_SECONDS_PER_DOCUMENT * 235_000_000 / 3600)
    assert plan["compute_cost"] == pytest.approx(plan["vcpu_hours_planned"] * 0.056)
    assert list((tmp_path / "scratch" / "objects").rglob("*.tif"))  # the sample really was migrated there
    assert main([*argv]) == 0
    text = capsys.readouterr().out
    assert "calibration: 25 documents sampled at random" in text and " × 4 vCPU for " in text
    assert "for indexes, selection, shuffles, de-duplication and lineage" in text
    assert "object bytes per source byte on the sample's migrated documents (" in text
    assert set(calibration["storage_by_kind"]) <= {"bilevel", "grey", "colour", "mixed", "PDF"}
    assert sum(kind[0] for kind in calibration["storage_by_kind"].values()) == calibration["statuses"]["migrated"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--deadline", "2001-01-01"], "is not in the future"),
        (["--deadline", "2099-01-01", "--sample", "0"], "must be positive"),
        (["--deadline", "someday"], "invalid fromisoformat value"),
        (["--deadline", "2099-01-01", "--overhead_ms_per_document", "-1"], "cannot be negative"),
    ],
)
def test_misuse_of_estimate_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    manifest = Path(tmp_path / "m.csv")
    manifest.write_text("source_system,document_id,blob_uri\nPAS,1,a.tif\n")
    assert main(["estimate", "--manifest", str(manifest), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
