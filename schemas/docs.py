"""Markdown for the README, derived from the code so the docs cannot drift from it.

python -m schemas.docs    # prints the lineage column tables and the reason-code table
"""

from __future__ import annotations

from schemas.tables import TABLES, Table
from transforms.reasons import OPERATOR_ACTIONS, Reason


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


if __name__ == "__main__":
    print("\n\n".join([*(table_markdown(table) for table in TABLES), reasons_markdown()]))
