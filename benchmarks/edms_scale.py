"""Peak memory of reconcile's EDMS check as the estate's DocumentReference NDJSON grows: it must stay flat; and
what finding a few earlier records costs, read whole (earlier.scan) or through the record index.

    python -m benchmarks.edms_scale [--records 50000 200000] [--sources 4] [--sample 20] [--lookup 10]

For each size, in a fresh process: synthetic lineage (current_documents, manifest_documents: 90% migrated, 5%
duplicates whose legacy id is on their canonical, 5% quarantined) in the reconcile connection's scratch database,
and NDJSON of one current DocumentReference per migrated document (three attachments each; every tenth also has an
older version of the same id, which the later meta.lastUpdated outdates), then check_edms with --verify_objects
sample:N. Reports seconds, the process's peak RSS and whether the check held (it must).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import json, resource, sys, time
from pipelines.operate.inventory import open_lineage
from pipelines.operate.reconcile_checks import Verify
from pipelines.operate.reconcile_edms import check_edms
from transforms.edms.config import FhirConfig
folder, documents, sources, sample = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
connection = open_lineage(folder + "/empty")
status = "CASE WHEN i % 20 = 18 THEN 'duplicate' WHEN i % 20 = 19 THEN 'quarantined' ELSE 'migrated' END"
connection.execute(
    f"CREATE TABLE current_documents AS SELECT 'SRC' || (i % {sources}) AS source_system, 'D' || lpad(i::TEXT, 9, '0') "
    f"AS document_id, {status} AS status, CASE WHEN i % 20 = 18 THEN 'SRC' || ((i - 1) % {sources}) || '/D' || "
    f"lpad((i - 1)::TEXT, 9, '0') END AS duplicate_of FROM range({documents}) AS t(i)"
)
connection.execute("CREATE TABLE manifest_documents AS SELECT source_system, document_id, FALSE AS repeated "
                   "FROM current_documents")
started = time.monotonic()
check, mix = check_edms(connection, folder + "/records", FhirConfig(), Verify(sample, 7))
print(json.dumps({"seconds": round(time.monotonic() - started, 1),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "holds": check.holds, "failures": check.failures[:3], "checked": sum(check.checked.values()),
                  "hashed": sum(check.hashed.values()), "sources": len(mix)}), flush=True)
"""


def resource(number: int, sources: int, updated: str, obj: Path, size: int, digest: str) -> dict:
    """One DocumentReference shaped as the builder writes it (about 1.6 KB)."""
    from transforms.edms.config import FhirConfig

    system = FhirConfig().source(f"SRC{number % sources}").identifier_system
    identifiers = [{"system": system, "value": f"D{number:09d}"}]
    if number % 20 == 17:  # the canonical of the next document, a duplicate
        duplicate = FhirConfig().source(f"SRC{(number + 1) % sources}").identifier_system
        identifiers.append({"system": duplicate, "value": f"D{number + 1:09d}"})
    attachment = {"contentType": "image/tiff", "url": obj.as_uri(), "size": size, "hash": digest}
    return {
        "resourceType": "DocumentReference",
        "id": hashlib.sha1(f"r{number}".encode()).hexdigest(),
        "meta": {"lastUpdated": updated, "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-DocumentReference"]},
        "identifier": identifiers,
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": "http://snomed.info/sct", "code": "371531000"}], "text": "Clinic Letter"},
        "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}},
        "date": updated,
        "securityLabel": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                                       "code": "R" if number % 50 == 0 else "N"}]}],
        "content": [
            {"attachment": {**attachment, "title": f"Clinic Letter page {page} of 3", "creation": "2015-03-02"}}
            for page in (1, 2, 3)
        ],
        "context": {"period": {"start": "2015-03-02"}},
    }  # fmt: skip


def write_records(folder: Path, documents: int, sources: int) -> None:
    """NDJSON files of 20,000 lines, as the writer cuts them; every tenth document has an outdated version too."""
    obj = folder / "object.tif"
    obj.write_bytes(b"II*\0" + bytes(4000))
    size, digest = obj.stat().st_size, base64.b64encode(hashlib.sha1(obj.read_bytes()).digest()).decode()
    fhir = folder / "records" / "fhir"
    fhir.mkdir(parents=True)
    lines: list[bytes] = []

    def flush(part: int) -> None:
        (fhir / f"DocumentReference-bench-000-{part:03d}.ndjson").write_bytes(b"\n".join(lines) + b"\n")
        lines.clear()

    part = 0
    for number in range(documents):
        if number % 20 in (18, 19):  # a duplicate or a quarantined document: no record of its own
            continue
        if number % 10 == 0:
            lines.append(json.dumps(resource(number, sources, "2026-01-01T00:00:00Z", obj, size, digest)).encode())
        lines.append(json.dumps(resource(number, sources, "2026-06-01T00:00:00Z", obj, size, digest)).encode())
        if len(lines) >= 20_000:
            flush(part)
            part += 1
    if lines:
        flush(part)


def measure(documents: int, sources: int, sample: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="edms-scale-") as folder:
        write_records(Path(folder), documents, sources)
        (Path(folder) / "empty").mkdir()
        child = [sys.executable, "-c", _CHILD, folder, str(documents), str(sources), str(sample)]
        done = subprocess.run(child, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def lookup(documents: int, sources: int, wanted_count: int) -> dict:
    """Seconds (process CPU) to find wanted_count documents' records: every file read whole, then through the index
    (one Parquet file per NDJSON file, as the pipeline writes them per bundle); both must find the same records."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from schemas.tables import EDMS_RECORD_INDEX
    from transforms.edms import earlier, record_index
    from transforms.edms.config import FhirConfig

    with tempfile.TemporaryDirectory(prefix="edms-lookup-") as folder:
        write_records(Path(folder), documents, sources)
        fhir = str(Path(folder) / "records" / "fhir")
        files = earlier.document_reference_files(fhir)
        index = []
        for uri in files:
            name = record_index.file_name(uri)
            rows = list(record_index.index_rows(name, Path(uri).read_bytes(), "bench", lambda text: text))
            schema = EDMS_RECORD_INDEX.arrow_schema()
            table = pa.Table.from_pylist([{**row, "run_date": None} for row in rows], schema=schema)
            index.append(str(Path(folder) / f"edms_record_index-{name}.parquet"))
            pq.write_table(table, index[-1])
        step = documents // wanted_count
        wanted = {
            (FhirConfig().source(f"SRC{n % sources}").identifier_system, f"D{n:09d}")
            for n in range(0, documents, step)
            if n % 20 not in (18, 19)
        }
        started = time.process_time()
        scanned = record_index.current_records(fhir, files, [], wanted, lambda text: text)  # no index: whole files
        scan_seconds = time.process_time() - started
        started = time.process_time()
        indexed = record_index.current_records(fhir, files, index, wanted, lambda text: text)
        index_seconds = time.process_time() - started
        assert scanned == indexed and len(indexed) == len(wanted), (len(scanned), len(indexed), len(wanted))
        return {
            "found": len(indexed),
            "ndjson_mib": round(sum(Path(uri).stat().st_size for uri in files) / 2**20, 1),
            "index_mib": round(sum(Path(uri).stat().st_size for uri in index) / 2**20, 1),
            "scan_cpu_s": round(scan_seconds, 2),
            "index_cpu_s": round(index_seconds, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--sources", type=int, default=4)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--lookup", type=int, default=0, help="measure finding this many records instead")
    args = parser.parse_args()
    for documents in args.records:
        if args.lookup:
            found = lookup(documents, args.sources, args.lookup)
        else:
            found = measure(documents, args.sources, args.sample)
        print(json.dumps({"documents": documents, **found}), flush=True)


if __name__ == "__main__":
    main()
