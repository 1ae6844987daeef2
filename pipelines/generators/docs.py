"""Markdown for the docs pages, derived from the code so the docs cannot drift from it.

python -m pipelines.generators.docs            # print every generated section (options, reason codes, lineage columns,
                                    # the TIFF coverage table)
python -m pipelines.generators.docs --write    # rewrite the generated sections of every page in PAGES in place

A page holds each of its sections between <!-- BEGIN generated:NAME --> and <!-- END generated:NAME -->.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pipelines.launch.options import JOB_OPTIONS
from samples.tiff_variants import coverage_markdown
from schemas.reasons import OPERATOR_ACTIONS, Reason
from schemas.tables import TABLES, Table

ROOT = Path(__file__).resolve().parents[2]

#: Each generated section → the one page (relative to ROOT) it lives in: one page per reader.
PAGES: dict[str, str] = {
    "options": "docs/running.md",
    "reasons": "docs/governance.md",
    "tiff_coverage": "docs/formats.md",
    **{table.name: "docs/lineage.md" for table in TABLES},
}

_MARKER = re.compile(r"<!-- (?:BEGIN|END) generated:([\w-]+) -->")


def options_markdown() -> str:
    """docs/running.md's table of the job's own flags (Beam's own options are documented by Beam)."""
    lines = ["| option | default | meaning |", "|---|---|---|"]
    for option in JOB_OPTIONS:
        default = option.table_default or option.default
        lines.append(f"| `{option.flag}` | {'' if default is None else f'`{default}`'} | {option.help} |")
    return "\n".join(lines)


def table_markdown(table: Table) -> str:
    lines = [f"**{table.name}** — {table.description}", "", "| column | type | meaning |", "|---|---|---|"]
    for column in table.columns:
        kind = f"{column.type}[]" if column.repeated else column.type + (" (required)" if column.required else "")
        lines.append(f"| {column.name} | {kind} | {column.description} |")
    return "\n".join(lines)


def reasons_markdown() -> str:
    lines = ["| reason code | what an operator does |", "|---|---|"]
    lines += [f"| {reason.value} | {OPERATOR_ACTIONS[reason]} |" for reason in Reason]
    return "\n".join(lines)


def generated_sections() -> dict[str, str]:
    return {
        "options": options_markdown(),
        "reasons": reasons_markdown(),
        "tiff_coverage": coverage_markdown(),
        **{table.name: table_markdown(table) for table in TABLES},
    }


def sections_of(page: str) -> dict[str, str]:
    """The generated sections that live in page (a path relative to ROOT), fresh from the code."""
    return {name: body for name, body in generated_sections().items() if PAGES[name] == page}


def rewrite(text: str, page: str) -> str:
    """Replace each of page's <!-- BEGIN generated:NAME --> … <!-- END generated:NAME --> blocks with fresh content.

    A page that lacks one of its sections, or holds a section that lives elsewhere, is an error: every section is in
    exactly one page.
    """
    sections = sections_of(page)
    strays = sorted(set(_MARKER.findall(text)) - set(sections))
    if strays:
        raise SystemExit(f"{page} has generated sections that belong elsewhere: {strays} (see PAGES)")
    for name, body in sections.items():
        pattern = re.compile(rf"(<!-- BEGIN generated:{name} -->\n).*?(\n<!-- END generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{page} has no generated section {name!r}")
        text = pattern.sub(lambda match, body=body: match.group(1) + body + match.group(2), text)
    return text


def write_pages(root: Path = ROOT) -> list[str]:
    """Rewrite every page's generated sections; returns the pages that changed."""
    changed = []
    for page in sorted(set(PAGES.values())):
        path = root / page
        text = path.read_text(encoding="utf-8")
        fresh = rewrite(text, page)
        if fresh != text:
            path.write_text(fresh, encoding="utf-8")
            changed.append(page)
    return changed


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        for page in write_pages():
            print(f"rewrote {page}")
    else:
        print("\n\n".join(generated_sections().values()))
