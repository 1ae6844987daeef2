"""The evidence key for commands that check lineage but run no job (reconcile): from where `run` took the key.

Unlike `run`, these never create a key: with no --patient_key_file, --patient_key_secret or $EDMS_PATIENT_KEY,
the local default key is used only if it is there, and otherwise there is none (the caller says what that costs).
"""

from __future__ import annotations

import argparse
import os

from pipelines.console.usage import UsageError
from transforms.privacy.evidence_key import evidence_key
from transforms.privacy.key_source import PatientKeyError, PatientKeyRef, load_key, private_file
from transforms.privacy.patient_key import ENV_VAR, choose_key_ref, default_key_path

KEY_HINT = f"give the run's --patient_key_file or --patient_key_secret, or set ${ENV_VAR}"


def command_evidence_key(args: argparse.Namespace) -> bytes | None:
    """The evidence key, or None when no key is given and the local default key does not exist."""
    key_file, key_secret = args.patient_key_file, args.patient_key_secret
    try:
        if not key_file and not key_secret and not os.environ.get(ENV_VAR):
            path = default_key_path()
            if not path.is_file():
                return None
            private_file(str(path))
            return evidence_key(load_key(PatientKeyRef("file", str(path))))
        return evidence_key(load_key(choose_key_ref(key_file, key_secret, None)))
    except PatientKeyError as error:
        raise UsageError(str(error)) from error
