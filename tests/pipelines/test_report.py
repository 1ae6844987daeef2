"""`edms-migrate report`: a self-contained HTML report, checked as HTML and rendered in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from pipelines.launch.launcher import migrate
from tests.lineage_checks import nhs_number_spellings, read_table
from tests.pipelines.test_cli import edms

pytestmark = pytest.mark.slow  # whole dumps, emulators or subprocesses: outside the fast loop


@pytest.fixture(scope="module")
def report(sample_dump, tmp_path_factory) -> tuple[str, Path]:
    output = str(tmp_path_factory.mktemp("report") / "out")
    assert migrate(["--manifest", sample_dump.manifest_path, "--output", output]) == 0
    result = edms("report", output)
    assert result.returncode == 0, result.stderr[-2000:]
    path = Path(result.stdout.strip().removeprefix("report: "))
    assert path == Path(output, "report.html") and path.is_file()
    return output, path


def chromium() -> str:
    """The browser, or a skip with its reason on a machine without one; in CI (CI=true) its absence fails."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        reason = "Chromium is needed to render the report (.ci/run installs it: apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    return binary


def headless(*args: str, profile: Path) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([chromium(), *flags, *args], capture_output=True, text=True, timeout=120)


def test_the_report_is_self_contained_and_states_the_outcomes(report, sample_dump):
    output, path = report
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|<img|\ssrc=|@import|url\(", text), "the report must need nothing else"
    documents = read_table(output, "documents")
    for source, count in Counter(d["source_system"] for d in documents).items():
        assert f"<td>{source}</td><td>{count:,}</td>" in text, source  # the reconciliation row: documents read
    assert text.count("<svg") >= 4 and "Every document is accounted for" in text
    quarantined = [d for d in documents if d["status"] == "quarantined" and d["quarantine_uri"]]
    links = re.findall(r'href="file://([^"]+)"', text)
    assert quarantined and {d["quarantine_uri"] for d in quarantined} <= set(links)
    assert all(Path(link).is_file() for link in links)
    assert not [n for n in nhs_number_spellings(sample_dump) if n in text]


def test_the_report_renders_in_headless_chromium(report, tmp_path):
    _, path = report
    dom = headless("--dump-dom", path.as_uri(), profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for heading in (
        "Outcomes per source system",
        "Quarantine reasons",
        "Duplicates and storage saved",
        "pages per second",
    ):
        assert heading in dom.stdout
    assert dom.stdout.count("<rect") >= 10
    shot = tmp_path / "report.png"
    rendered = headless(
        f"--screenshot={shot}", "--window-size=1200,1600", path.as_uri(), profile=tmp_path / "profile-shot"
    )
    assert rendered.returncode == 0 and shot.is_file(), rendered.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 1600)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50, "the screenshot is blank"
    green = sum(count for count, (r, g, b) in colours if (r, g, b) == (0x2E, 0x7D, 0x32))
    assert green > 2000, "the migrated bars (green) are not on screen"


def test_report_without_lineage_is_one_line_and_exit_code_2(tmp_path):
    result = edms("report", str(tmp_path))
    assert result.returncode == 2 and "no lineage under" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
