"""Orphans: files under a --blob_root that nothing in the run references.

Decommissioning a legacy store needs proof that nothing was left in it. Files are listed, references are
collected from every ref (loose files, volumes and page files), and the two meet in one CoGroupByKey keyed by URI,
so the comparison scales with the store, not with one process's memory. The run's own index and profile files
are not orphans.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import apache_beam as beam

from schemas.records import DocumentRef
from schemas.tables import ORPHANS
from transforms.privacy.pseudonyms import PrivacySettings
from transforms.storage.emulators import StorageDoFn
from transforms.storage.listing import matched


def referenced_uris(ref: DocumentRef) -> Iterator[str]:
    if ref.blob_uri:
        yield ref.blob_uri
    for page in ref.page_blobs:
        yield page.blob_uri


class ListFilesFn(StorageDoFn):
    """Every file under one root, with its size."""

    def process(self, root: str) -> Iterator[tuple[str, tuple[str, int]]]:
        pattern = root.rstrip("/") + "/**"
        for metadata in matched(pattern):
            yield metadata.path, (root, int(metadata.size_in_bytes))


class UnreferencedFn(StorageDoFn):
    """An orphans row for each listed file nothing references; its location pseudonymised segment by segment,
    since scanning systems file by patient number (img/1860913903.png)."""

    def __init__(self, run_id: str, excluded: frozenset[str], privacy: PrivacySettings | None) -> None:
        self.run_id, self.excluded, self.privacy = run_id, excluded, privacy

    def setup(self) -> None:
        super().setup()
        self.pseudonyms = (self.privacy or PrivacySettings()).open()

    def process(self, item: tuple[str, dict[str, Iterable]]) -> Iterator[dict]:
        uri, groups = item
        listed, used = list(groups["listed"]), list(groups["used"])
        if listed and not used and uri not in self.excluded:
            root, size = listed[0]
            shown = self.pseudonyms.value(uri)
            yield ORPHANS.row(run_id=self.run_id, blob_root=self.pseudonyms.value(root), uri=shown, size_bytes=size)


class FindOrphans(beam.PTransform):
    """(refs) → orphans-table rows for files under the roots that no ref names."""

    def __init__(
        self, roots: list[str], run_id: str, excluded: Iterable[str] = (), privacy: PrivacySettings | None = None
    ) -> None:
        super().__init__()
        self.privacy = privacy
        self.roots = list(roots)
        self.run_id = run_id
        self.excluded = frozenset(excluded)

    def expand(self, refs: beam.PCollection[DocumentRef]) -> beam.PCollection[dict]:
        listed = refs.pipeline | "Roots" >> beam.Create(self.roots) | "ListFiles" >> beam.ParDo(ListFilesFn())
        used = refs | "ReferencedUris" >> beam.FlatMap(lambda ref: ((uri, None) for uri in referenced_uris(ref)))
        return (
            {"listed": listed, "used": used}
            | "MeetByUri" >> beam.CoGroupByKey()
            | "Unreferenced" >> beam.ParDo(UnreferencedFn(self.run_id, self.excluded, self.privacy))
        )
