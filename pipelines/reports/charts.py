"""Inline SVG charts and HTML tables for the report: no scripts, no external files, so it opens anywhere."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from pipelines.reports.summary_text import human_bytes

COLOURS = {"migrated": "#2e7d32", "duplicate": "#1565c0", "quarantined": "#c62828"}
PALETTE = ("#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#c62828", "#5d4037", "#455a64")

e = html.escape


def stacked_bars(title: str, labels: Sequence[str], series: dict[str, Sequence[int]], colours: dict[str, str]) -> str:
    """One horizontal bar per label, split by series; the legend says which colour is which."""
    width, left, bar, gap = 760, 170, 26, 12
    height = 40 + len(labels) * (bar + gap) + 30
    total = max([sum(values) for values in zip(*series.values(), strict=True)] or [1]) or 1
    parts = [f'<svg role="img" aria-label="{e(title)}" viewBox="0 0 {width} {height}" width="100%">']
    for row, label in enumerate(labels):
        y = 30 + row * (bar + gap)
        parts.append(f'<text x="{left - 8}" y="{y + bar * 0.7:.0f}" text-anchor="end" class="label">{e(label)}</text>')
        x = float(left)
        for name, values in series.items():
            value = values[row]
            if value:
                w = (width - left - 60) * value / total
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colours[name]}">'
                    f"<title>{e(label)}: {value:,} {e(name)}</title></rect>"
                )
                if w > 28:
                    parts.append(
                        f'<text x="{x + w / 2:.1f}" y="{y + bar * 0.7:.0f}" text-anchor="middle" class="inbar">'
                        f"{value:,}</text>"
                    )
                x += w
        row_total = sum(values[row] for values in series.values())
        parts.append(f'<text x="{x + 6:.1f}" y="{y + bar * 0.7:.0f}" class="label">{row_total:,}</text>')
    x = left
    for name in series:
        parts.append(f'<rect x="{x}" y="{height - 22}" width="12" height="12" fill="{colours[name]}"/>')
        parts.append(f'<text x="{x + 16}" y="{height - 12}" class="label">{e(name)}</text>')
        x += 20 + 9 * len(name) + 20
    parts.append("</svg>")
    return "".join(parts)


def simple_bars(
    title: str, labels: Sequence[str], values: Sequence[float], unit: Callable[[float], str], colour: str = PALETTE[0]
) -> str:
    """Horizontal bars, longest first as given, each labelled with its value."""
    width, left, bar, gap = 760, 230, 22, 10
    height = 20 + len(labels) * (bar + gap)
    top = max(values or [1]) or 1
    parts = [f'<svg role="img" aria-label="{e(title)}" viewBox="0 0 {width} {height}" width="100%">']
    for row, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 10 + row * (bar + gap)
        w = (width - left - 110) * value / top
        parts.append(f'<text x="{left - 8}" y="{y + bar * 0.72:.0f}" text-anchor="end" class="label">{e(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{max(w, 1):.1f}" height="{bar}" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + bar * 0.72:.0f}" class="label">{e(unit(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def before_after(labels: Sequence[str], before: Sequence[int], after: Sequence[int]) -> str:
    """Bytes read and bytes stored per source format, side by side."""
    width, left, bar, gap = 760, 120, 14, 16
    height = 30 + len(labels) * (2 * bar + gap) + 20
    top = max([*before, *after, 1])
    parts = [
        f'<svg role="img" aria-label="bytes before and after by format" viewBox="0 0 {width} {height}" width="100%">'
    ]
    for row, label in enumerate(labels):
        y = 10 + row * (2 * bar + gap)
        parts.append(f'<text x="{left - 8}" y="{y + bar + 4}" text-anchor="end" class="label">{e(label)}</text>')
        for offset, (value, colour) in enumerate(((before[row], "#90a4ae"), (after[row], "#2e7d32"))):
            w = (width - left - 110) * value / top
            parts.append(
                f'<rect x="{left}" y="{y + offset * bar}" width="{max(w, 1):.1f}" height="{bar - 2}" fill="{colour}"/>'
            )
            text_y = y + offset * bar + bar - 4
            parts.append(f'<text x="{left + w + 6:.1f}" y="{text_y}" class="small">{human_bytes(value)}</text>')
    y = height - 14
    for x, colour, name in ((left, "#90a4ae", "legacy bytes"), (left + 130, "#2e7d32", "stored bytes")):
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y}" class="label">{name}</text>')
    parts.append("</svg>")
    return "".join(parts)


def table(headers: Sequence[str], body: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    cells = "".join(
        "<tr>"
        + "".join(f"<td>{e(f'{c:,}' if isinstance(c, int) else str(c if c is not None else ''))}</td>" for c in row)
        + "</tr>"
        for row in body
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"


def object_link(uri: str) -> str:
    """A link a browser can follow: file:// for local objects, the Cloud console's URL for gs://."""
    if uri.startswith("gs://"):
        return "https://storage.cloud.google.com/" + uri[5:]
    return "file://" + uri
