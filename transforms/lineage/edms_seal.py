"""The EDMS records under the run chain: each runs row vouches for the FHIR files its run wrote, as for lineage.

The NDJSON and the EDMS summary under <records prefix>/fhir/ (the restricted area: --index_output, else --output)
are what the EDMS imports, so they are evidence like lineage files, and handled the same way (chain.py):
- each is signed, the MAC in its name (storage/signed_files.py), `<Type>-<run>-<shard>-<part>.mac-<hex>.ndjson`;
- the runs row's `edms_files` lists "NAME SHA256" of every file under fhir/ no earlier row lists, written by this
  run or by a killed run it resumes (and signed by the key): an edited or deleted file no longer hashes as listed;
- the row itself is chained and signed, so the list cannot be edited either;
- before a run starts, a file no row lists must be a killed run's, signed, or the run refuses (edms_problems);
- reconcile re-hashes every listed file, names every file no row lists, and reads only listed files as records.
The list is a column of the row rather than a file under lineage/ because the records may be in another bucket,
and the row is what the chain already hashes and signs: nothing new to trust.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from apache_beam.io.filesystems import FileSystems

from transforms.lineage.adoption import signed_by, unlisted_file_problem
from transforms.lineage.chain import ChainCheck, RecordedRun, check_vouched, recorded_runs
from transforms.lineage.runs import file_sha256
from transforms.storage.listing import matched_paths
from transforms.storage.output_layout import fhir_folder, safe_name
from transforms.storage.signed_files import Signature

COLUMN = "edms_files"
NOUN = "EDMS file"
#: What follows the run id in a file's name under fhir/: an NDJSON part (a retirement's too), or the summary.
_AFTER_RUN_ID = re.compile(r"^((-retired)?-\d{3}-\d{3}\.ndjson|\.json)$")


def edms_files(records_prefix: str) -> dict[str, str]:
    """Every file under the records prefix's fhir/, name → URI (not a writer's temporary file)."""
    found = {}
    for uri in matched_paths(FileSystems.join(fhir_folder(records_prefix), "*")):
        name = uri.rsplit("/", 1)[-1]
        if not name.startswith(".") and not name.endswith(".partial"):
            found[name] = uri
    return found


def edms_run_of(name: str, run_ids: Iterable[str]) -> str | None:
    """Which of run_ids a file's name under fhir/ says wrote it (`<Type>-<run>-…`, `summary-<run>.json`), or None."""
    _, dash, rest = Signature.of(name).unsigned_name.partition("-")
    if not dash:
        return None
    matching = [
        run_id
        for run_id in run_ids
        if rest.startswith(safe_name(run_id)) and _AFTER_RUN_ID.match(rest[len(safe_name(run_id)) :])
    ]
    return max(matching, key=len, default=None)


def _vouched(runs: list[RecordedRun]) -> set[str]:
    return {name for run in runs for name in run.vouched(COLUMN)}


def edms_fields(output_prefix: str, records_prefix: str, run_ids: Iterable[str], key: bytes | None) -> dict[str, list]:
    """The runs row's edms_files: each file under fhir/ no earlier row lists, of this run or a killed run it
    resumes (run_ids), signed with the key (key None: unit tests' unsigned files). Anything else stays unlisted,
    and reconcile names it."""
    listed, own = _vouched(recorded_runs(output_prefix)[0]), tuple(run_ids)
    entries = []
    for name, uri in sorted(edms_files(records_prefix).items()):
        if name in listed or edms_run_of(name, own) is None:
            continue
        sha = file_sha256(uri)
        if key is None or Signature.of(name).valid(key, sha):
            entries.append(f"{name} {sha}")
    return {COLUMN: entries}


def edms_problems(output_prefix: str, records_prefix: str, key: bytes, run_id: str, adoptable: Iterable[str]) -> list:
    """One line per file under fhir/ that stops this run (as adoption.lineage_problems does for lineage/): a file
    of this run id already, or one no row lists that is not a killed run's, signed. Such a file would be read as
    an earlier record (and superseded or given identifiers by this run), so the run does not start."""
    folder = fhir_folder(records_prefix)
    move = f"move it out of {folder} (keep it for the record) and re-run; edms-migrate reconcile names it too"
    runs, _ = recorded_runs(output_prefix)
    sealed = {run.row["run_id"] for run in runs}
    adoptable, listed = set(adoptable) - sealed, _vouched(runs)
    problems = []
    files = edms_files(records_prefix)
    for name in files:
        if edms_run_of(name, [run_id]) == run_id:
            problems.append(f"run id {run_id} already has EDMS file {name} in {folder}: choose another --run_id")
            break
    for name, uri in sorted(files.items()):
        if name in listed:
            continue
        owner = edms_run_of(name, sealed | adoptable)
        problem = unlisted_file_problem(NOUN, name, signed_by(uri, key), owner, sealed, move)
        if problem:
            problems.append(problem)
    return problems


def verify_edms(check: ChainCheck, output_prefix: str, records_prefix: str, key: bytes | None) -> None:
    """Reconcile's part: every file a row lists is there and hashes as listed; every other file is named."""
    runs, _ = recorded_runs(output_prefix)
    check_vouched(check, edms_files(records_prefix), runs, COLUMN, NOUN, key)


def vouched_document_references(output_prefix: str, records_prefix: str) -> list[str]:
    """The DocumentReference files some runs row lists, by URI in name order: the only ones read as records."""
    listed = _vouched(recorded_runs(output_prefix)[0])
    files = edms_files(records_prefix)
    records = [name for name in sorted(files) if name.startswith("DocumentReference-") and name.endswith(".ndjson")]
    return [files[name] for name in records if name in listed]
