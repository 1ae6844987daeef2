"""`edms-migrate reconcile`: the decommissioning proof for the legacy stores a migration read.

Per source system it checks that every manifest document has exactly one current outcome (for the reference the
manifest now gives), that every migrated page object exists and hashes to its recorded SHA-256 (all, or a random
sample of N per source), that every quarantined document has its bytes and its record, and that the run chain is
intact (the lineage files and the EDMS record files each runs row vouches for, and no file beside them); it lists
the orphans and the documents whose source is gone. It writes a reconciliation record under
PREFIX/reconcile/ and exits 0 only when every check holds, else 1 naming the first failures of each check.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from typing import Any

import duckdb

from pipelines.console.text_table import text_table
from pipelines.console.usage import UsageError
from pipelines.evidence.evidence_key_source import KEY_HINT, command_evidence_key
from pipelines.evidence.reconcile_records import anchors, write_record
from pipelines.launch.fhir_config import fhir_config
from pipelines.launch.options import SHOW_IDENTIFIERS, add_job_options
from pipelines.operate.inventory import (
    find_gone_sources,
    holds_migration,
    load_manifests,
    open_lineage,
    operator_pseudonyms,
    plan_sources,
)
from pipelines.operate.reconcile_checks import (
    LISTED,
    Check,
    Verify,
    check_objects,
    check_outcomes,
    check_quarantine,
    gone,
    orphans,
)
from pipelines.operate.reconcile_edms import check_edms
from pipelines.operate.status import outcome_counts
from transforms.edms.config import FhirConfig
from transforms.lineage.chain import verify_chain
from transforms.lineage.edms_seal import verify_edms, vouched_document_references
from transforms.lineage.runs import code_version, file_sha256
from transforms.privacy.pseudonyms import Pseudonyms, reveal
from transforms.storage.damage import damaged_files

_CHECKS = ("outcomes", "objects", "quarantine", "edms")
_COUNTS = ("documents", "migrated", "duplicate", "quarantined", "outstanding", "source_gone")
#: Failures printed per check; the record holds LISTED of them and the count of all.
PRINTED = 5


def reconcile(
    prefix: str,
    sources: tuple,
    manifests: tuple[str, ...],
    verify: Verify,
    pseudonyms: Pseudonyms | None = None,
    key: bytes | None = None,
    records_prefix: str | None = None,
    config: FhirConfig | None = None,
) -> tuple[dict, str]:
    """Run every check; write and return the record (and its URI). The record is analyst-side: it names
    documents by the pseudonyms lineage holds, however the manifests spell them. key: the evidence key (None: not
    found, and the chain fails for want of it: a forged file cannot be told from a killed run's without it). The
    EDMS records are under records_prefix (the run's --index_output; default: prefix), read with its --fhir_config."""
    started = dt.datetime.now(dt.UTC)
    earlier_heads = anchors(prefix)
    records = records_prefix or prefix
    chain = verify_chain(prefix, earlier_heads, key)
    verify_edms(chain, prefix, records, key)  # the EDMS record files each runs row vouches for, and any other
    if key is None:
        chain.fail(f"signatures not checked: no evidence key found ({KEY_HINT})")
    per_source: dict[str, dict[str, Any]] = {}
    mix: dict[str, dict[str, Any]] = {}
    try:
        connection = open_lineage(prefix)
        load_manifests(connection, sources, pseudonyms)
        find_gone_sources(connection)
        for row in outcome_counts(connection):
            per_source[row["source_system"]] = {key: row[key] for key in (*_COUNTS, "never_read", "changed")}
        edms, mix = _check_records(connection, prefix, records, config or FhirConfig(), verify, pseudonyms)
        checks = [
            check_outcomes(connection),
            check_objects(connection, verify),
            check_quarantine(connection, verify),
            edms,
        ]
    except duckdb.Error as error:  # a damaged lineage file cannot even be read: named, and every check fails
        connection, per_source = None, {}
        damaged = damaged_files(prefix) or [f"the lineage cannot be read ({str(error).splitlines()[0]})"]
        checks = [Check(name) for name in _CHECKS]
        for check in checks:
            for line in damaged:
                check.fail("", f"not checked: {line}")
    for check in checks:
        for source, entry in per_source.items():
            entry[f"{check.name}_checked"] = check.checked[source]
            entry[f"{check.name}_hashed"] = check.hashed[source]
            entry[f"{check.name}_failed"] = check.failed[source]
    recorded = {check.name: check.record() for check in checks}
    recorded["chain"] = {
        "holds": chain.holds,
        "failure_count": chain.failure_count,
        "failures": chain.failures,
        "checked": chain.files_checked,
        "runs": chain.runs,
        "head_run_id": chain.head_run_id,
        "head_sha256": chain.head_sha256,
        "earlier_heads_checked": len(earlier_heads),
    }
    record = {
        "reconciled_at": started.isoformat(),
        "output": prefix,
        "code_version": code_version(),
        "manifests": [{"uri": uri, "sha256": file_sha256(uri)} for uri in manifests],
        "verify_objects": str(verify),
        "sample_seed": verify.seed if verify.sample is not None else None,
        "sources": per_source,
        "checks": recorded,
        "orphans": orphans(connection) if connection else {"count": 0, "by_blob_root": {}, "listed": []},
        "source_gone": gone(connection) if connection else {"count": 0, "by_source": {}, "listed": []},
        "edms_records": mix,  # per source system: coded and uncoded types, confidentiality labels (current records)
        "verdict": "pass" if all(check["holds"] for check in recorded.values()) else "fail",
    }
    return record, write_record(prefix, record, started)


def _check_records(
    connection: duckdb.DuckDBPyConnection,
    prefix: str,
    records: str,
    config: FhirConfig,
    verify: Verify,
    pseudonyms: Pseudonyms | None,
) -> tuple[Check, dict[str, dict[str, Any]]]:
    """The edms check over the DocumentReference files a runs row vouches for (a file no row vouches for is no
    record: the chain check names it). A vouched file edited past parsing fails the check, never the command."""
    try:
        return check_edms(connection, records, config, verify, pseudonyms, vouched_document_references(prefix, records))
    except (ValueError, KeyError, TypeError, IndexError) as error:
        check = Check("edms")
        check.fail(
            "",
            f"not checked: a record file cannot be read as FHIR NDJSON ({type(error).__name__}); the chain "
            "check names the file that changed",
        )
        return check, {}


def format_record(record: dict[str, Any], uri: str) -> str:
    header = ["source system", *(key.replace("_", " ") for key in _COUNTS), "objects", "hashed", "failures"]
    body = []
    for source, entry in sorted(record["sources"].items()):
        failures = sum(entry[f"{name}_failed"] for name in _CHECKS)
        objects = (entry["objects_checked"], entry["objects_hashed"])
        body.append([source, *(entry[key] for key in _COUNTS), *objects, failures])
    lines = [
        f"\nReconciliation of {record['output']} against {len(record['manifests'])} index file(s); objects verified: "
        f"{record['verify_objects']}",
        text_table(header, body),
    ]
    for name, check in record["checks"].items():
        result = "holds" if check["holds"] else f"FAILS ({check['failure_count']:,})"
        extra = f", {check['hashed']:,} hashed" if check.get("hashed") else ""
        if name == "chain":
            extra = f" across {check['runs']:,} run(s); head {check['head_run_id']}"
        lines.append(f"  {name:<11} {result}: {check['checked']:,} checked{extra}")
        lines += [f"    - {message}" for message in check["failures"][:PRINTED]]
        if check["failure_count"] > PRINTED:
            lines.append(f"    … and {check['failure_count'] - PRINTED:,} more (the record lists {LISTED})")
    found = record["orphans"]
    lines.append(
        f"orphans: {found['count']:,} file(s) under a --blob_root that no index references (latest listing per root)"
        + "".join(f"\n    - {uri}" for uri in found["listed"][:PRINTED])
    )
    lines.append(
        f"source gone: {record['source_gone']['count']:,} done document(s) whose legacy bytes are no longer there "
        "(they stay migrated)"
    )
    lines.append(f"verdict: {record['verdict'].upper()}; record: {uri}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The job's own --output, --manifest, --source and patient key, where the EDMS records are and how they were
    named, how many stored objects to hash, and --show_identifiers."""
    names = ("output", "manifest", "source", "patient_key_file", "patient_key_secret", "index_output", "fhir_config")
    add_job_options(parser, names, required=("output",))
    SHOW_IDENTIFIERS.add_to(parser)
    parser.add_argument(
        "--verify_objects",
        default="all",
        help="hash every stored object (all, the default) or a random sample:N per source system",
    )


def main(args: argparse.Namespace) -> int:
    if not args.manifest and not args.source:
        raise UsageError("reconcile needs the manifests it proves: --manifest and/or --source")
    verify = Verify.parse(args.verify_objects, random.SystemRandom().randrange(1 << 31))
    prefix, sources, manifests = plan_sources(args.output, args.manifest, args.source)
    if not holds_migration(prefix):  # a mistyped --output: nothing to prove, and nothing is written there
        raise UsageError(f"{prefix} holds no migration (no lineage under it): check --output; nothing was written")
    pseudonyms = operator_pseudonyms(args, sources, prefix)
    records = args.index_output.rstrip("/") if args.index_output else None
    record, uri = reconcile(
        prefix,
        sources,
        manifests,
        verify,
        pseudonyms,
        command_evidence_key(args),
        records,
        fhir_config(args.fhir_config),
    )
    text = format_record(record, uri)
    if pseudonyms.seen is not None:  # --show_identifiers: the ids the manifests gave, on this terminal only
        text = reveal(text, pseudonyms.seen)
    print(text, file=sys.stdout)
    return 0 if record["verdict"] == "pass" else 1
