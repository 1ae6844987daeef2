"""The README and the docs pages are generated from, and kept in step with, the code they describe."""

import re
import unicodedata
from pathlib import Path

import pytest

from pipelines.generators.docs import (
    PAGES,
    generated_sections,
    options_markdown,
    reasons_markdown,
    rewrite,
    table_markdown,
)
from samples.tiff_variants import coverage_markdown
from schemas.tables import TABLES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: Every Markdown page a reader opens: the README and docs/*.md, as paths relative to ROOT.
MARKDOWN = ["README.md", *sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").glob("*.md"))]


def text_of(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


def test_quick_start_is_the_two_commands():
    assert "pip install -e '.[test]' && edms-migrate demo\npytest\n" in README


def test_the_readme_is_a_landing_page():
    lines = README.count("\n")
    assert lines < 200, f"README.md has {lines} lines: move reference material to a page under docs/"


def test_every_generated_section_has_a_page_and_every_page_exists():
    assert set(PAGES) == set(generated_sections())
    for page in set(PAGES.values()):
        assert page in MARKDOWN, f"{page} is named in pipelines/generators/docs.py PAGES but does not exist"


@pytest.mark.parametrize("page", sorted(set(PAGES.values())))
def test_every_page_is_up_to_date(page):
    text = text_of(page)
    stale = "is stale: python -m pipelines.generators.docs --write"
    for name, page_of_name in PAGES.items():
        if page_of_name != page:
            continue
        if name == "options":
            assert options_markdown() in text, f"{page}'s options table {stale}"
        elif name == "reasons":
            assert reasons_markdown() in text, f"{page}'s reason codes {stale}"
        elif name == "tiff_coverage":
            assert coverage_markdown() in text, f"{page}'s TIFF coverage table {stale}"
        else:
            (table,) = [table for table in TABLES if table.name == name]
            assert table_markdown(table) in text, f"{page}'s {name} table {stale}"
    assert rewrite(text, page) == text


def test_every_generated_section_is_in_exactly_one_page():
    found: dict[str, list[str]] = {}
    for page in MARKDOWN:
        for name in re.findall(r"<!-- BEGIN generated:([\w-]+) -->", text_of(page)):
            found.setdefault(name, []).append(page)
    assert found == {name: [page] for name, page in PAGES.items()}


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, each space a hyphen."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(text: str) -> set[str]:
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)  # a '#' in a code block is not a heading
    seen: dict[str, int] = {}
    result = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        anchor = github_anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        result.add(anchor if count == 0 else f"{anchor}-{count}")
    return result


def relative_links(text: str) -> list[str]:
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)  # a code span is not a link (a link's text may be one: [`x`](x))
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [target for target in targets if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_relative_links_name_files_and_headings_that_exist():
    checked, broken = 0, []
    for page in MARKDOWN:
        for target in relative_links(text_of(page)):
            checked += 1
            path, _, anchor = target.partition("#")
            file = (ROOT / page).parent / path if path else ROOT / page
            if not file.resolve().exists():
                broken.append(f"{page}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
                broken.append(f"{page}: {target} (no such heading)")
    assert checked > 20  # the links were found at all
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]'" in ci and "\npytest" in ci
