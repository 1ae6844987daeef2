"""Plain-text tables for the terminal, in the style of the end-of-run summary: names left, numbers right."""

from __future__ import annotations

from collections.abc import Sequence


def cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def text_table(header: Sequence[str], rows: Sequence[Sequence[object]], *, totals: int = 0, left: int = 1) -> str:
    """header and rows as aligned columns; the last `totals` rows follow a rule; the first `left` columns are
    left-aligned (names), the rest right-aligned (numbers)."""
    lines = [list(header), *([cell(value) for value in row] for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        if totals and index == len(lines) - totals:
            out.append("  ".join("-" * width for width in widths))
        out.append(
            "  ".join(
                text.ljust(width) if i < left else text.rjust(width)
                for i, (text, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
    return "\n".join(out)


def duration(hours: float) -> str:
    """A time span as a person says it: minutes, hours or days."""
    if hours * 60 < 1:
        return "under a minute"
    if hours < 1:
        return f"{hours * 60:.0f} minutes"
    if hours < 48:
        return f"{hours:.1f} hours"
    return f"{hours / 24:.1f} days"
