"""A damaged lineage file (truncated, edited into something that is no Parquet) named in one line, by every command.

Nothing is deleted: the operator restores the file from a copy, or moves it out of lineage/ (keeping it for the
record), and re-runs. `run` meets it while selection reads the history (UnreadableLineage, raised on a worker and
recognised by the launcher in whatever error the runner wraps it in); status, report and reconcile meet it as a
DuckDB error and look for the file that cannot be read.
"""

from __future__ import annotations

import io
import re

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from transforms.storage.objects import read_all
from transforms.storage.output_layout import lineage_folder

_NAMED = re.compile(r"lineage file (\S+) cannot be read \((\w+)\)")


def unreadable_line(uri: str, reason: str) -> str:
    folder, name = uri.rsplit("/", 1)
    return (
        f"lineage file {name} cannot be read ({reason}): it is damaged or truncated. Nothing was changed: restore "
        f"it from a copy, or move it out of {folder} (keep it for the record), then re-run; reconcile names it too"
    )


class UnreadableLineage(Exception):
    """A lineage file that is not the table it should be: its one line says which and what to do."""

    @classmethod
    def of(cls, uri: str, error: BaseException) -> UnreadableLineage:
        return cls(unreadable_line(uri, type(error).__name__))


def named_in(error: BaseException, output_prefix: str) -> str | None:
    """The one line for an UnreadableLineage anywhere in error (a runner wraps a worker's error in its own)."""
    seen: BaseException | None = error
    while seen is not None:
        found = _NAMED.search(str(seen))
        if found:
            return unreadable_line(FileSystems.join(lineage_folder(output_prefix), found[1]), found[2])
        seen = seen.__cause__ or seen.__context__
    return None


def damaged_files(output_prefix: str) -> list[str]:
    """One line per lineage Parquet file that cannot be read as Parquet (read whole: only on an error's path)."""
    pattern = FileSystems.join(lineage_folder(output_prefix), "*.parquet")
    found = []
    for metadata in sorted(FileSystems.match([pattern])[0].metadata_list, key=lambda m: m.path):
        try:
            pq.read_table(io.BytesIO(read_all(metadata.path)))
        except Exception as error:  # any reader's complaint: the file is what is wrong
            found.append(unreadable_line(metadata.path, type(error).__name__))
    return found
