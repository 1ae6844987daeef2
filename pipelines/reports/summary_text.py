"""The end-of-run summary as a person reads it in a terminal."""

from __future__ import annotations

from typing import Any

_COLUMNS = (
    ("source system", None),
    ("documents", "manifest_documents"),
    ("migrated", "migrated"),
    ("duplicate", "duplicate"),
    ("quarantined", "quarantined"),
    ("pages", "pages"),
    ("bytes in", "bytes_in"),
    ("bytes out", "bytes_out"),
)


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


def _cells(name: str, entry: dict[str, Any]) -> list[str]:
    cells = [name]
    for _, key in _COLUMNS[1:]:
        value = entry.get(key, 0)
        cells.append(human_bytes(value) if key.startswith("bytes") else f"{value:,}")
    return cells


def format_summary(summary: dict[str, Any], *, elapsed_seconds: float, output: str, lineage: str) -> str:
    rows = [[title for title, _ in _COLUMNS]]
    rows += [_cells(source, entry) for source, entry in summary["sources"].items()]
    rows.append(_cells("TOTAL", summary["totals"]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = [f"\nRun {summary['run_id']} finished in {elapsed_seconds:.1f} s"]
    for index, row in enumerate(rows):
        if index == len(rows) - 1:
            lines.append("  ".join("-" * width for width in widths))
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
    profiles = [
        f"{source} ← {', '.join(sorted(entry.get('profiles', {})))}"
        for source, entry in summary["sources"].items()
        if entry.get("profiles")
    ]
    if profiles:
        lines.append("read through profiles: " + "; ".join(profiles))
    reasons: dict[str, int] = {}
    for entry in summary["sources"].values():
        for reason, count in entry["reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    if reasons:
        lines.append(
            "quarantine reasons: " + ", ".join(f"{reason} {count}" for reason, count in sorted(reasons.items()))
        )
    pages = summary["totals"]["pages"]
    if elapsed_seconds > 0:
        lines.append(
            f"throughput: {pages / elapsed_seconds:.1f} pages/s; "
            f"{summary['totals']['objects_written']:,} new objects written"
        )
    lines.append("every document accounted for: " + ("yes" if summary["balanced"] else "NO"))
    lines.append(f"objects:    {output}/objects/")
    lines.append(f"quarantine: {output}/quarantine/")
    lines.append(f"lineage:    {lineage}/")
    return "\n".join(lines)
