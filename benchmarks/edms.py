"""CPU per document of the EDMS record: building and validating its DocumentReference and Provenance.

    python -m benchmarks.edms [--documents 2000] [--pages 1,3,20] [--page_kib 40]

What the per-document step adds per migrated document (transforms/edms/record.py): the builders, fhirclient's
strict R4 parse of both resources and the extra rules, and the SHA-1 of each stored object (reported apart: it
grows with the bytes, the rest with the pages), and the EDMS journal's Parquet file per flush of 200 records
(transforms/edms/journal.py). Process CPU time, after a warm-up; the target is 1 ms a document.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time

from samples.identities import random_nhs_number
from schemas.records import DocumentOutcome, DocumentRef
from transforms.edms.config import parse_config
from transforms.edms.journal import journal_bytes
from transforms.edms.record import EdmsSettings, edms_record, stored_objects
from transforms.migrate.journal import DEFAULT_JOURNAL_ROWS

CONFIG = {
    "sources": {"PAS": {"identifier_system": "https://trust.example.nhs.uk/Id/pas-document", "custodian_ods": "RRK"}},
    "document_types": {"Clinic Letter": {"code": "371531000", "display": "Report of clinical encounter"}},
    "confidentiality": {"restricted_flag": {"column": "restricted", "values": {"Y": "R"}}},
}


def documents(count: int, pages: int, numbers: list[str]) -> list[tuple[DocumentRef, DocumentOutcome]]:
    made = []
    for n in range(count):
        ref = DocumentRef(
            "PAS", f"D{n:07d}", "/exports/pas/manifest.csv", n + 2, blob_uri=f"/legacy/pas/{n}.tif",
            nhs_number=numbers[n % len(numbers)], document_type="Clinic Letter", document_date="2015-03-02",
            metadata=(("restricted", "Y" if n % 50 == 0 else ""), ("SURNAME", "Smith")),
        )  # fmt: skip
        rows = tuple(
            {"page_number": p, "object_uri": f"gs://trust-edms/archive/objects/{n:04x}/{p:02d}{n:058x}.tif"}
            for p in range(1, pages + 1)
        )
        document = {"document_date": dt.date(2015, 3, 2), "page_count": pages, "source_sha256": "ab" * 32}
        made.append((ref, DocumentOutcome(document=document, pages=rows)))
    return made


def measure(count: int, pages: int, page_bytes: int) -> tuple[float, float, float]:
    """(ms of CPU a document for build + validate, for the SHA-1 of its objects, for journaling its record)."""
    settings = EdmsSettings(parse_config(CONFIG), dt.datetime.now(dt.UTC), "bench")
    key = os.urandom(32)
    rng = random.Random(1)
    made = documents(count, pages, [random_nhs_number(rng) for _ in range(500)])
    blob = os.urandom(page_bytes)
    data = [blob] * pages
    for ref, outcome in made[:50]:  # warm-up: imports, caches
        edms_record(settings, key, ref, outcome, data, "bench")
    records = []
    started = time.process_time()
    for ref, outcome in made:
        record = edms_record(settings, key, ref, outcome, data, "bench")
        assert not record.failures, record.failures
        records.append(record)
    total = time.process_time() - started
    started = time.process_time()
    for _, outcome in made:
        stored_objects([page["object_uri"] for page in outcome.pages], data)
    hashing = time.process_time() - started
    started = time.process_time()
    for first in range(0, count, DEFAULT_JOURNAL_ROWS):
        journal_bytes(records[first : first + DEFAULT_JOURNAL_ROWS])
    journaling = time.process_time() - started
    return 1000 * (total - hashing) / count, 1000 * hashing / count, 1000 * journaling / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--pages", default="1,3,20")
    parser.add_argument("--page_kib", type=int, default=40)
    args = parser.parse_args()
    print(f"{'pages':>5}  {'build+validate ms/doc':>22}  {'SHA-1 ms/doc':>13}  {'journal ms/doc':>15}", end="")
    print(f"  ({args.page_kib} KiB a page)")
    for pages in (int(text) for text in args.pages.split(",")):
        build, sha1, journal = measure(args.documents, pages, args.page_kib * 1024)
        print(f"{pages:>5}  {build:>22.3f}  {sha1:>13.3f}  {journal:>15.3f}")


if __name__ == "__main__":
    main()
