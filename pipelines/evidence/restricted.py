"""Reading the restricted area back for an operator who asks (`--show_identifiers`): pseudonym → identifier.

The restricted records (quarantine records, EDMS index records) each keep the map from the pseudonyms lineage
shows for their document back to the identifiers the export gave. The operator commands read only the records of
the documents they name, and only with --show_identifiers; what they write stays pseudonymised.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from pipelines.console.usage import UsageError
from transforms.storage.objects import read_all

_LOGGER = logging.getLogger("edms_migrate")


def identifiers_in_records(uris: Iterable[str]) -> dict[str, str]:
    """pseudonym → identifier from each record's "identifiers"; a record that cannot be read is skipped (logged
    by name only: its document stays named by its pseudonym)."""
    found: dict[str, str] = {}
    for uri in uris:
        try:
            found.update(json.loads(read_all(uri)).get("identifiers") or {})
        except Exception as error:  # a missing or unreadable record: that document stays pseudonymised
            _LOGGER.warning("cannot read the restricted record %s: %s", uri, type(error).__name__)
    return found


def check_destination(prefix: str, destination: str | None) -> str:
    """A file that names patients goes where the operator says, never under the analyst-readable output prefix."""
    if not destination:
        raise UsageError("--show_identifiers needs --out FILE outside the output prefix: the report will name patients")
    if destination.rstrip("/").startswith(prefix.rstrip("/") + "/"):
        raise UsageError(f"--out {destination} is under the output prefix, where analysts read: choose another place")
    return destination
