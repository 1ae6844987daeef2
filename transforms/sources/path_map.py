"""Rewriting the legacy paths an export recorded (UNC shares, drive letters, backslashes) to where the dump is now.

Windows paths compare case-insensitively, so prefixes do too; the longest matching prefix wins, so a specific
share folder can be mapped apart from its parent. A Windows path that no prefix maps is a finding, never a guess.
"""

from __future__ import annotations

import re

from schemas.reasons import Finding, Reason
from transforms.sources.paths import resolve_blob_uri

_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def _normal(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").casefold()


def is_windows_path(path: str) -> bool:
    """A UNC path (\\\\server\\share) or a drive-letter path (C:\\...): meaningless off the legacy network."""
    return path.startswith("\\\\") or bool(_DRIVE.match(path))


def describe_path(path: str) -> str:
    """A Windows path's shape: its root, which names infrastructure (`\\\\FILESRV01\\Scans`, `R:`) and is what a
    path_map prefix needs, and how many folders and file follow it, never their names: legacy stores file scans
    under folders named for the patient."""
    segments = [segment for segment in path.replace("\\", "/").split("/") if segment]
    if path.startswith("\\\\"):
        root, rest = segments[:2], segments[2:]
        where = "a UNC path under \\\\" + "\\".join(root)
    else:
        root, rest = segments[:1], segments[1:]
        where = f"a path on drive {root[0]}" if root else "a path"
    return f"{where} with {len(rest)} more segment{'s' if len(rest) != 1 else ''}"


def map_path(raw: str, path_map: tuple[tuple[str, str], ...], folder: str) -> tuple[str | None, Finding | None]:
    """(resolved URI, None) or (None, finding). Targets in path_map are already absolute URIs or paths."""
    slashed = raw.replace("\\", "/")
    for prefix, target in sorted(path_map, key=lambda item: -len(item[0])):
        normal = _normal(prefix)
        if slashed.casefold() == normal or slashed.casefold().startswith(normal + "/"):
            rest = slashed[len(normal) :].lstrip("/")
            return (target.rstrip("/") + "/" + rest if rest else target), None
    if is_windows_path(raw):
        return None, Finding(Reason.PATH_UNMAPPED, f"legacy path ({describe_path(raw)}) matches no path_map prefix")
    return resolve_blob_uri(raw, folder), None
