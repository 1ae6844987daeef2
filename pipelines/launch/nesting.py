"""Outputs and inputs never nest: an output inside a legacy store, or a store inside the output, is refused.

Nested, the migration's own files (EDMS records with NHS numbers, objects, quarantine copies) would be listed as the
store's orphans, could be read back as legacy documents, and a decommissioned store would take the archive with it.
"""

from __future__ import annotations

from pipelines.console.usage import UsageError


def _inside(path: str, folder: str) -> bool:
    path, folder = path.rstrip("/") + "/", folder.rstrip("/") + "/"
    return path.startswith(folder)


def check_no_nesting(outputs: dict[str, str | None], roots: tuple[str, ...], index_folders: set[str]) -> None:
    """outputs: flag → prefix (None: not given); roots: the declared input roots (--blob_root, --allowed_roots, the
    profiles' path_map targets) and index_folders (each index file's folder, where relative paths point). An
    output may not be inside a declared root, nor any root or index folder inside an output. An output beside its
    index file, inside the index's folder (a manifest in the working folder, an output under it), is allowed: no
    store of the migration is listed there, and a row can name the output only by pointing into it on purpose."""
    for flag, output in outputs.items():
        for root in sorted({*roots, *index_folders}) if output else ():
            if root in roots and _inside(output, root):
                raise UsageError(
                    f"{flag} {output} is inside the input root {root}: the migration's own files would be read as "
                    f"legacy files (and listed as orphans); put {flag} outside every input"
                )
            if _inside(root, output):
                raise UsageError(
                    f"the input root {root} is inside {flag} {output}: put the output and the legacy stores apart"
                )
