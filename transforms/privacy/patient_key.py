"""Pseudonymous patient keys: HMAC-SHA256 of the normalised NHS number under a secret key.

A plain hash of a ten-digit number is no pseudonym: anyone can hash all 10^10 numbers.
A keyed hash is one, as long as the key stays away from the tables' readers. So the key
comes from --patient_key_secret (Secret Manager), --patient_key_file (a path or gs:// object)
or EDMS_PATIENT_KEY; a local run without any creates one under the user's config folder
(never under the output) and reuses it, so keys stay stable between runs. A managed runner
without a key is refused: a key made on the launching machine would be lost with it.

The launcher only chooses and checks the source (choose_key_ref); the job graph carries that
reference, and workers fetch the key in setup() (transforms/privacy/key_source.py), so the key
never travels in the staged pipeline or the Dataflow job description.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from transforms.privacy.key_source import (
    MIN_KEY_BYTES,
    SECRET_VERSION,
    PatientKeyError,
    PatientKeyRef,
    checked_key,
    load_key,
    private_file,
)

_LOGGER = logging.getLogger(__name__)

ENV_VAR = "EDMS_PATIENT_KEY"
LOCAL_RUNNERS = (None, "DirectRunner", "FnApiRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")
#: Runners whose workers are machines of their own, with no view of the launcher's files or environment.
CLOUD_RUNNERS = ("DataflowRunner", "apache_beam.runners.dataflow.dataflow_runner.DataflowRunner")

__all__ = ["MIN_KEY_BYTES", "PatientKeyError", "choose_key_ref", "default_key_path", "patient_key"]


def default_key_path(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/edms-migrate/patient.key (default ~/.config/…): the user's, not the output's."""
    environ = os.environ if environ is None else environ
    config = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "edms-migrate" / "patient.key"


def _create_or_read_local_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:  # O_EXCL: two runs starting together agree on one key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Path(private_file(str(path))).read_bytes()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_hex(32).encode() + b"\n")
    _LOGGER.warning("created a new patient key at %s (keep it; the same key keeps patient keys stable)", path)
    return path.read_bytes()


def _cloud_ready(ref: PatientKeyRef, runner: str | None) -> PatientKeyRef:
    if runner in CLOUD_RUNNERS and ref.on_this_machine:
        raise PatientKeyError(
            f"{runner} workers cannot read {ref}: use --patient_key_secret projects/P/secrets/S/versions/V "
            "or --patient_key_file gs://…"
        )
    return ref


def choose_key_ref(
    key_file: str | None,
    key_secret: str | None,
    runner: str | None,
    environ: Mapping[str, str] | None = None,
    *,
    workers_here: bool | None = None,
) -> PatientKeyRef:
    """Where this run's workers find the key: the secret or file given, else the environment variable, else (local
    runs only) the default file. What is on this machine is read and checked now; a secret or gs:// object is
    checked for its form only, so the launching identity needs no access to it (workers fetch it in setup()).
    WORKERS_HERE: the workers run on this machine (default: a local runner), e.g. a [local] Flink's LOOPBACK
    harness, so the local default key serves them; a cluster's workers need a key named for them."""
    environ = os.environ if environ is None else environ
    if key_file and key_secret:
        raise PatientKeyError("give --patient_key_file or --patient_key_secret, not both")
    if key_secret:
        if not SECRET_VERSION.match(key_secret):
            raise PatientKeyError(
                f"--patient_key_secret must be projects/PROJECT/secrets/SECRET/versions/VERSION, not {key_secret!r}"
            )
        return PatientKeyRef("secret", key_secret)
    if key_file:
        if key_file.startswith("gs://"):
            if not key_file[5:].partition("/")[2]:
                raise PatientKeyError(f"--patient_key_file {key_file} names a bucket, not an object")
            return PatientKeyRef("file", key_file)
        if "://" in key_file:
            raise PatientKeyError(f"--patient_key_file takes a path or a gs:// URI, not {key_file}")
        ref = _cloud_ready(PatientKeyRef("file", os.path.abspath(key_file)), runner)
        private_file(ref.name)
        load_key(ref)
        return ref
    if environ.get(ENV_VAR):
        ref = _cloud_ready(PatientKeyRef("env", ENV_VAR), runner)
        load_key(ref, environ=environ)
        return ref
    if not (runner in LOCAL_RUNNERS if workers_here is None else workers_here):
        raise PatientKeyError(
            f"a {runner} run needs a patient key: pass --patient_key_secret (Secret Manager) or --patient_key_file"
        )
    path = default_key_path(environ)
    checked_key(_create_or_read_local_key(path), path)
    _LOGGER.info("patient key: %s", path)
    return PatientKeyRef("file", str(path))


def patient_key(key: bytes, normalised_nhs_number: str) -> str:
    """The pseudonym written to analyst tables: hex HMAC-SHA256, stable for a key, useless without it."""
    return hmac.new(key, normalised_nhs_number.encode("ascii"), hashlib.sha256).hexdigest()
