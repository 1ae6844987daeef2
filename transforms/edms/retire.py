"""Retiring: a document a passing run quarantined may have a current DocumentReference from an earlier run. The
EDMS must not show it as current any more, yet it is evidence: it is written again as superseded (with a
Provenance), in a file of its own, and the earlier line stays where it is. Called by the launcher, only after the
run passed every check, and before its runs row: the row vouches for these files too (lineage/edms_seal.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from transforms.edms.config import FhirConfig
from transforms.edms.documentreference import upgraded
from transforms.edms.earlier import document_reference_files
from transforms.edms.ndjson import MAX_FILE_BYTES, parts
from transforms.edms.record import dumps
from transforms.edms.record_index import current_records
from transforms.edms.reissue import superseded, update_provenance
from transforms.storage.output_layout import fhir_file
from transforms.storage.signed_files import write_signed_once


def retire_document_references(
    folder: str,
    run_id: str,
    config: FhirConfig,
    documents: Iterable[tuple[str, str]],
    key: bytes,
    agent: str,
    now: dt.datetime | None = None,
    pseudonymise: Callable[[str], str] | None = None,
    index_files: tuple[str, ...] = (),
    evidence: bytes | None = None,
) -> int:
    """Supersede the current record of each (source system, document id), as lineage names them (`pseudonymise`
    maps a record's legacy id the same way); returns how many were retired. index_files: earlier runs' record
    index, by which the records are fetched alone from the files it covers. Files are signed with `evidence`."""
    wanted = {config.identity(source, document_id) for source, document_id in documents}
    earlier = [uri for uri in document_reference_files(folder) if f"-{run_id}-" not in uri.rsplit("/", 1)[-1]]
    records = current_records(folder, earlier, index_files, wanted, pseudonymise or (lambda text: text))
    found = [upgraded(config, record) for record in records.values() if record["status"] == "current"]
    if not found:
        return 0
    now = now or dt.datetime.now(dt.UTC)
    retired = sorted((superseded(record, now) for record in found), key=lambda record: record["id"])
    written = {
        "DocumentReference": [dumps(record) for record in retired],
        "Provenance": [dumps(update_provenance(key, record, run_id, now, agent)) for record in retired],
    }
    for resource_type, lines in written.items():
        for part, data in enumerate(parts(lines, MAX_FILE_BYTES)):
            write_signed_once(fhir_file(folder, resource_type, f"{run_id}-retired", 0, part), data, evidence)
    return len(retired)
