"""Outputs and inputs never nest: an output inside a legacy store, or a store inside the output, is refused.

Nested, the migration's own files (EDMS records with NHS numbers, objects, quarantine copies) would be listed as the
store's orphans, could be read back as legacy documents, and a decommissioned store would take the archive with it.
"""

from __future__ import annotations

from pipelines.console import UsageError


def _inside(path: str, folder: str) -> bool:
    path, folder = path.rstrip("/") + "/", folder.rstrip("/") + "/"
    return path.startswith(folder)


def check_no_nesting(outputs: dict[str, str | None], roots: tuple[str, ...]) -> None:
    """outputs: flag → prefix (None: not given); roots: every declared input root (plan.settings.reading.roots)."""
    for flag, output in outputs.items():
        for root in roots if output else ():
            if _inside(output, root):
                raise UsageError(
                    f"{flag} {output} is inside the input root {root}: the migration's own files would be read as "
                    f"legacy files (and listed as orphans); put {flag} outside every input"
                )
            if _inside(root, output):
                raise UsageError(
                    f"the input root {root} is inside {flag} {output}: put the output and the legacy stores apart"
                )
