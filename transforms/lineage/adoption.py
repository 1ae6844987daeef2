"""What a run may take into its runs row from PREFIX/lineage/: its own files and a killed run's, nothing else.

A runs row seals every lineage file no earlier row lists (chain.py). Before this check, that included anything
anyone had put there: a forged documents file, or the files of a run whose runs row was deleted. Now, before a run
starts, every file no row lists must be signed with the evidence key (evidence_key.py) and belong to a run the
output's lease says was killed or abandoned (pipelines/lease.py): a run that never recorded itself. The runs rows
themselves must be signed and linked, and still hold every head an earlier reconciliation recorded. Anything else
stops the run before it reads a document, with one line naming the file and what to do; nothing is deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from transforms.lineage.chain import chained_files, recorded_runs, row_sha256
from transforms.lineage.runs import file_sha256
from transforms.storage.output_layout import lineage_folder
from transforms.storage.signed_files import Signature

#: What follows the run id in a lineage file's name: a journal file, a table file, a runs row, a summary.
_AFTER_RUN_ID = re.compile(r"^(-j|-t|-\d{5}-of-\d{5}|\.json$|\.parquet$)")


def name_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def run_of(name: str, run_ids: Iterable[str]) -> str | None:
    """Which of run_ids a lineage file's name says wrote it (`<table>-<migration key>-<run id>…`), or None."""
    parts = Signature.of(name).unsigned_name.split("-", 2)
    if len(parts) < 3:
        return None
    rest = parts[2]
    matching = [run_id for run_id in run_ids if rest.startswith(run_id) and _AFTER_RUN_ID.match(rest[len(run_id) :])]
    return max(matching, key=len, default=None)


def signed_by(uri: str, key: bytes) -> bool | None:
    """True: signed and valid; False: signed, but not for these bytes or this key; None: not signed at all."""
    signature = Signature.of(name_of(uri))
    if signature.tag is None:
        return None
    return signature.valid(key, file_sha256(uri))


def lineage_problems(
    output_prefix: str,
    key: bytes,
    run_id: str,
    adoptable: Iterable[str],
    anchors: Iterable[tuple[str, str, str]] = (),
) -> list[str]:
    """One line per reason this run may not start on this lineage (empty: it may). adoptable: the runs the lease
    says were killed or abandoned; anchors: (run id, row SHA-256, where) of heads earlier reconciliations saw."""
    folder = lineage_folder(output_prefix)
    move = f"move it out of {folder} (keep it for the record) and re-run; edms-migrate reconcile names it too"
    problems: list[str] = []
    runs, unreadable = recorded_runs(output_prefix)
    problems += [f"{line}: restore it from a copy, or {move}" for line in unreadable]
    signed_seen = False
    for position, run in enumerate(runs):
        signed = signed_by(run.uri, key)
        if signed is None and not signed_seen:  # a row from before runs were signed: the chain vouches for it
            continue
        signed_seen = True
        if not signed:
            problems.append(f"runs file {name_of(run.uri)} is not signed with this migration's key: {move}")
        expected = row_sha256(runs[position - 1].row) if position else ""
        if "previous_run_sha256" in run.row and run.row["previous_run_sha256"] != expected:
            problems.append(
                f"runs file {name_of(run.uri)}: the runs row before it is missing or edited (a gap in the run "
                "chain): restore the missing runs file from a copy; edms-migrate reconcile names the gap"
            )
    hashes = {run.row["run_id"]: row_sha256(run.row) for run in runs}
    for anchored, sha, where in anchors:
        if hashes.get(anchored) != sha:
            problems.append(
                f"the runs row of run {anchored}, the chain's head when {where} was recorded, "
                f"{'is gone' if anchored not in hashes else 'has changed'}: restore it from a copy"
            )
    sealed = set(hashes)
    adoptable = set(adoptable) - sealed
    listed = {name for run in runs for name in run.listed}
    files = chained_files(output_prefix)
    for uri in [*files, *(run.uri for run in runs)]:
        if run_of(name_of(uri), [run_id]) == run_id:
            problems.append(f"run id {run_id} already has lineage file {name_of(uri)}: choose another --run_id")
            break
    for uri in files:
        name = name_of(uri)
        if name in listed:
            continue
        signed = signed_by(uri, key)
        problem = unlisted_file_problem("lineage file", name, signed, run_of(name, sealed | adoptable), sealed, move)
        if problem:
            problems.append(problem)
    return problems


def unlisted_file_problem(
    noun: str, name: str, signed: bool | None, owner: str | None, sealed: set[str], move: str
) -> str | None:
    """Why a file no runs row lists stops a run (None: it is a killed run's, signed, so this run adopts it).
    signed as signed_by says; owner: the sealed or adoptable run its name claims."""
    if signed is None:
        return f"{noun} {name} is not signed: no run of this migration wrote it; {move}"
    if not signed:
        return f"{noun} {name} does not match its signature (edited, truncated, or signed with another key): {move}"
    if owner in sealed:
        return f"{noun} {name} claims run {owner}, which was sealed without it: {move}"
    if owner is None:
        return (
            f"{noun} {name} belongs to no run this one may resume (no runs row, and the lease names no killed run "
            f"of it): was its runs row removed? restore the runs file from a copy, or {move}"
        )
    return None
