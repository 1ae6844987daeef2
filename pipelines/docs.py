"""Markdown for the README, derived from the code so the docs cannot drift from it.

python -m pipelines.docs            # print the lineage column tables and the reason-code table
python -m pipelines.docs --write    # rewrite the generated sections of README.md in place
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pipelines.options import options_markdown
from schemas.reasons import OPERATOR_ACTIONS, Reason
from schemas.tables import TABLES, Table

README = Path(__file__).resolve().parent.parent / "README.md"


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
        **{table.name: table_markdown(table) for table in TABLES},
    }


def rewrite(text: str) -> str:
    """Replace each <!-- BEGIN generated:NAME --> … <!-- END generated:NAME --> block with fresh content."""
    for name, body in generated_sections().items():
        pattern = re.compile(rf"(<!-- BEGIN generated:{name} -->\n).*?(\n<!-- END generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README has no generated section {name!r}")
        text = pattern.sub(lambda match, body=body: match.group(1) + body + match.group(2), text)
    return text


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        README.write_text(rewrite(README.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print("\n\n".join(generated_sections().values()))
