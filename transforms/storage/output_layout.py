"""Every path under the output PREFIX, named here and nowhere else: the one place to read the output's layout.

    PREFIX/objects/ab/cd/<sha256>.<ext>                        page objects, content-addressed (storage/objects.py)
    PREFIX/quarantine/<run>/<source>/<document>.bin|.json      a run's quarantined originals and their records
    PREFIX/fhir/<Type>-<run>-<shard>-<part>.ndjson             EDMS records: FHIR DocumentReference and Provenance
                                                               (restricted: they name the patient; --index_output's)
    PREFIX/fhir/summary-<run>.json                             the run's EDMS summary
    PREFIX/edms-journal/<run>/<run>-j<rows>.parquet            EDMS records as the step made them, for a resumed run
                                                               (restricted, as fhir/ is; signed as lineage files are)
    PREFIX/lineage/<table>-<migration>-<run>-j<rows>.parquet   the per-document step's journal files
    PREFIX/lineage/<table>-<migration>-<run>-t<rows>.parquet   table files written after the step
    PREFIX/lineage/runs-<migration>-<run>-00000-of-00001.parquet   the run's one runs row
    PREFIX/lineage/summary-<migration>-<run>.json              the run's summary
    PREFIX/lineage/openlineage-<run>-<1-START|2-COMPLETE|2-FAIL>.jsonl   OpenLineage events, without a client
    PREFIX/lineage/<any of the above>.mac-<32 hex>.<ext>       the same, signed: the MAC in the name (signed_files.py)
    PREFIX/lease/<epoch>.lease.json|.beat-<n>|.released|.abandoned   the output's lease (pipelines/launch/lease.py)
    PREFIX/reconcile/reconcile-<time>-<random>.json            reconciliation records
    PREFIX/report.html                                         the report

Names only: nothing here reads or writes. Every segment taken from a document is made safe by safe_name.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from apache_beam.io.filesystems import FileSystems

OBJECTS = "objects"
QUARANTINE = "quarantine"
FHIR = "fhir"
EDMS_JOURNAL = "edms-journal"
LINEAGE = "lineage"
RECONCILE = "reconcile"
LEASE = "lease"
REPORT = "report.html"
#: Files under lineage/ that a run's chain does not cover: runs rows (chained by hash) and OpenLineage events.
RUNS_FILES = "runs-"
OPENLINEAGE_FILES = "openlineage-"
#: The suffix of a run's one runs-row file, named as a Beam sink would have named a single shard.
RUNS_ROW_SUFFIX = "-00000-of-00001.parquet"

#: File systems cap a name at 255 bytes; an id quoted for a path can be three times its length, plus a suffix.
MAX_NAME_BYTES = 160


def safe_name(text: str) -> str:
    """A path segment that cannot climb out of its folder, clash on case-insensitive stores or pass a file
    system's name limit: a long one keeps its start and ends in a hash of the whole, so it stays unique."""
    if text in ("", ".", ".."):
        return "%2E" * len(text) or "_"
    quoted = quote(text, safe="-_.")
    if len(quoted) <= MAX_NAME_BYTES:
        return quoted
    head = quoted[: MAX_NAME_BYTES - 18]
    if "%" in head[-2:]:  # never cut a %XX escape in half
        head = head[: head.rindex("%")]
    return f"{head}~{hashlib.sha256(text.encode()).hexdigest()[:16]}"


# objects/ and quarantine/


def objects_folder(output_prefix: str) -> str:
    return FileSystems.join(output_prefix, OBJECTS)


def object_uri(objects_root: str, digest: str, extension: str) -> str:
    """Under objects_folder(): two levels of the digest spread the objects over 65,536 folders."""
    return FileSystems.join(objects_root, digest[:2], digest[2:4], f"{digest}.{extension}")


def quarantine_folder(output_prefix: str, run_id: str) -> str:
    return FileSystems.join(output_prefix, QUARANTINE, safe_name(run_id))


def quarantine_base(quarantine_root: str, source_system: str, document_id: str, suffix: str = "") -> str:
    """A quarantined document's files without their extension (.bin, .json, .page-N.bin)."""
    return FileSystems.join(quarantine_root, safe_name(source_system), safe_name(document_id) + suffix)


def quarantine_bytes_uri(base_uri: str) -> str:
    """The exact original bytes of a quarantined document."""
    return base_uri + ".bin"


def quarantine_page_uri(base_uri: str, page_number: int) -> str:
    """One readable page file of a quarantined page-per-row document."""
    return f"{base_uri}.page-{page_number}.bin"


def quarantine_record_uri(base_uri: str) -> str:
    """Why a document was quarantined, and how to re-run it."""
    return base_uri + ".json"


def quarantine_record_of(quarantine_uri: str) -> str:
    """The record beside a quarantined document's bytes (or the record itself)."""
    return quarantine_record_uri(quarantine_uri.rsplit(".", 1)[0])


# fhir/ (restricted: under --index_output when given)


def fhir_folder(records_prefix: str) -> str:
    return FileSystems.join(records_prefix, FHIR)


def fhir_file(folder: str, resource_type: str, run_id: str, shard: int, part: int) -> str:
    """One NDJSON file of one resource type, written once (a retirement's run id ends in "-retired")."""
    return FileSystems.join(folder, f"{resource_type}-{safe_name(run_id)}-{shard:03d}-{part:03d}.ndjson")


def fhir_files_pattern(folder: str, resource_type: str) -> str:
    return FileSystems.join(folder, f"{resource_type}-*.ndjson")


def edms_summary_uri(folder: str, run_id: str) -> str:
    return FileSystems.join(folder, f"summary-{safe_name(run_id)}.json")


def edms_journal_file(records_prefix: str, run_id: str, rows_name: str) -> str:
    """The EDMS records one journal flush held: a killed run's records, which its resumption writes."""
    run = safe_name(run_id)  # in the name too: it is what the signature covers, so a file moved to another run fails
    return FileSystems.join(records_prefix, EDMS_JOURNAL, run, f"{run}-j{rows_name}.parquet")


def edms_journal_pattern(records_prefix: str, run_id: str) -> str:
    run = safe_name(run_id)
    return FileSystems.join(records_prefix, EDMS_JOURNAL, run, f"{run}-j*.parquet")


# lineage/


def lineage_folder(output_prefix: str) -> str:
    return FileSystems.join(output_prefix, LINEAGE)


def table_prefix(output_prefix: str, table_name: str, migration_key: str, run_id: str) -> str:
    """The start of every file name of one run's table; the writers add -j<rows>, -t<rows> or the runs suffix."""
    return FileSystems.join(lineage_folder(output_prefix), f"{table_name}-{migration_key}-{run_id}")


def journal_file(table_prefix_: str, rows_name: str) -> str:
    return f"{table_prefix_}-j{rows_name}.parquet"


def journal_files_pattern(output_prefix: str, table_name: str, migration_key: str, run_id: str) -> str:
    return table_prefix(output_prefix, table_name, migration_key, run_id) + "-j*.parquet"


def table_file(table_prefix_: str, rows_name: str) -> str:
    return f"{table_prefix_}-t{rows_name}.parquet"


def run_table_files_pattern(output_prefix: str, table_name: str, migration_key: str, run_id: str) -> str:
    """Every file of one run's table, whoever wrote it."""
    return table_prefix(output_prefix, table_name, migration_key, run_id) + "*.parquet"


def runs_row_file(output_prefix: str, table_name: str, migration_key: str, run_id: str) -> str:
    return table_prefix(output_prefix, table_name, migration_key, run_id) + RUNS_ROW_SUFFIX


def table_history_pattern(lineage_folder_: str, table_name: str) -> str:
    """Every file of one table, every run's, under a lineage folder."""
    return f"{lineage_folder_.rstrip('/')}/{table_name}-*.parquet"


def lineage_files_pattern(output_prefix: str) -> str:
    return FileSystems.join(lineage_folder(output_prefix), "*")


def summary_uri(output_prefix: str, migration_key: str, run_id: str) -> str:
    """One summary per run: a later run, failing or not, never overwrites an earlier run's."""
    return FileSystems.join(lineage_folder(output_prefix), f"summary-{migration_key}-{run_id}.json")


def openlineage_events_uri(output_prefix: str, run_id: str, order: int, state: str) -> str:
    return FileSystems.join(lineage_folder(output_prefix), f"{OPENLINEAGE_FILES}{run_id}-{order}-{state}.jsonl")


def openlineage_events_pattern(output_prefix: str, run_id: str) -> str:
    return FileSystems.join(lineage_folder(output_prefix), f"{OPENLINEAGE_FILES}{run_id}-*.jsonl")


def write_check_uri(output_prefix: str, token: str) -> str:
    """The launcher's probe that the output is writable (a dot file: the chain does not cover it)."""
    return FileSystems.join(lineage_folder(output_prefix), f".write-check-{token}")


# lease/ (a lock, not evidence: outside lineage/)


def lease_folder(output_prefix: str) -> str:
    return FileSystems.join(output_prefix, LEASE)


def lease_file(lease_folder_: str, epoch: int, suffix: str) -> str:
    """One object of the lease: <epoch>.lease.json, .beat-<n>, .released or .abandoned."""
    return FileSystems.join(lease_folder_, f"{epoch:010d}.{suffix}")


# reconcile/ and the report


def reconcile_folder(output_prefix: str) -> str:
    return FileSystems.join(output_prefix, RECONCILE)


def reconcile_record_uri(output_prefix: str, stamp: str, token: str) -> str:
    return FileSystems.join(reconcile_folder(output_prefix), f"reconcile-{stamp}-{token}.json")


def reconcile_records_pattern(output_prefix: str) -> str:
    return FileSystems.join(reconcile_folder(output_prefix), "reconcile-*.json")


def report_uri(output_prefix: str) -> str:
    return FileSystems.join(output_prefix, REPORT)
