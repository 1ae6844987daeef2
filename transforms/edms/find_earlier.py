"""FindEarlier: the wanted documents' earlier DocumentReference versions, as (identity, resource), in a pipeline.

Where earlier runs' index (record_index.py) covers a file, only the wanted lines are read, by byte range; the files
it does not cover (written before the index existed, a retirement's, or changed since) are read whole, line by
line, as earlier.scan reads them. Only wanted identities, locations and the found records cross a shuffle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.pvalue import AsList

from transforms.edms.earlier import Identity, scan
from transforms.edms.record_index import Location, covered, fetch, file_name, indexed_bytes, locate
from transforms.privacy.key_source import PatientKeyRef, key_for_worker
from transforms.privacy.pseudonyms import Pseudonyms
from transforms.storage.emulators import StorageDoFn

#: What a lookup read: lines fetched by byte range, files read whole (the run's metrics; tests read them).
_FETCHED = Metrics.counter("edms_earlier", "lines_fetched")
_READ_WHOLE = Metrics.counter("edms_earlier", "files_read_whole")


class _Whole:
    """The covered file names (a side input list) as a set, made once per list seen, not once per element."""

    def __init__(self) -> None:
        self._list: list | None = None
        self._set: frozenset[str] = frozenset()

    def __call__(self, whole: list) -> frozenset[str]:
        if whole is not self._list:
            self._list, self._set = whole, frozenset(whole)
        return self._set


class _LocateFn(StorageDoFn):
    """One index file → (file name, (identity, location)) for each wanted document's line it names."""

    def process(self, uri: str, wanted: list) -> Iterator[tuple[str, tuple[Identity, Location]]]:
        for identity, location in locate(uri, {tuple(item) for item in wanted}):
            yield location[0], (identity, location)


class _IndexedBytesFn(StorageDoFn):
    def process(self, uri: str) -> Iterator[tuple[str, int]]:
        yield from indexed_bytes(uri)


class _CoveredFn(StorageDoFn):
    """(file name, bytes every index accounts for) → the name, when that is the whole file."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def process(self, element: tuple[str, int]) -> Iterator[str]:
        if covered(self.folder, *element):
            yield element[0]


class _FetchFn(StorageDoFn):
    """(file name, its located lines) → (identity, resource) for each, if the index covers the file."""

    def __init__(self, folder: str) -> None:
        self.folder, self.whole = folder, _Whole()

    def process(self, element: tuple[str, Iterable], whole: list) -> Iterator[tuple[Identity, dict]]:
        name, locations = element
        if name in self.whole(whole):
            for found in fetch(self.folder, name, locations):
                _FETCHED.inc()
                yield found


class _ScanFn(StorageDoFn):
    """One earlier file the index does not cover → (identity, resource) for each wanted document's line in it."""

    def __init__(self, patient_key: PatientKeyRef, local_identifiers: tuple[str, ...]) -> None:
        self.patient_key, self.local_identifiers = patient_key, local_identifiers
        self.whole = _Whole()

    def setup(self) -> None:
        super().setup()
        self.pseudonyms = Pseudonyms(key_for_worker(self.patient_key), self.local_identifiers)

    def process(self, uri: str, wanted: list, whole: list) -> Iterator[tuple[Identity, dict]]:
        if wanted and file_name(uri) not in self.whole(whole):
            _READ_WHOLE.inc()
            yield from scan(uri, {tuple(item) for item in wanted}, self.pseudonyms.value)


class FindEarlier(beam.PTransform):
    """Wanted identities → (identity, resource) for every earlier version of each found in the listed files."""

    def __init__(
        self,
        folder: str,
        earlier_files: tuple[str, ...],
        index_files: tuple[str, ...],
        patient_key: PatientKeyRef,
        local_identifiers: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.folder, self.earlier_files, self.index_files = folder, earlier_files, index_files
        self.patient_key, self.local_identifiers = patient_key, local_identifiers

    def expand(self, wanted: beam.PCollection[Identity]) -> beam.PCollection[tuple[Identity, dict]]:
        pipeline, wanted_list = wanted.pipeline, AsList(wanted)
        index = pipeline | "IndexFiles" >> beam.Create(list(self.index_files)) | "SpreadIndex" >> beam.Reshuffle()
        listed = {file_name(uri) for uri in self.earlier_files}  # only files this run may supersede
        whole = AsList(
            index
            | "IndexedBytes" >> beam.ParDo(_IndexedBytesFn())
            | "OfListedFiles" >> beam.Filter(lambda item: item[0] in listed)
            | "SumBytes" >> beam.CombinePerKey(sum)
            | "Covered" >> beam.ParDo(_CoveredFn(self.folder))
        )
        fetched = (
            index
            | "Locate" >> beam.ParDo(_LocateFn(), wanted_list)
            | "ByFile" >> beam.GroupByKey()
            | "Fetch" >> beam.ParDo(_FetchFn(self.folder), whole)
        )
        scanned = (
            pipeline
            | "EarlierFiles" >> beam.Create(list(self.earlier_files))
            | "SpreadFiles" >> beam.Reshuffle()
            | "ScanUnindexed" >> beam.ParDo(_ScanFn(self.patient_key, self.local_identifiers), wanted_list, whole)
        )
        return (fetched, scanned) | "Found" >> beam.Flatten()
