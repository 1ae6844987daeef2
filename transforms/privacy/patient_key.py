"""Pseudonymous patient keys: HMAC-SHA256 of the normalised NHS number under a secret key.

A plain hash of a ten-digit number is no pseudonym: anyone can hash all 10^10 numbers.
A keyed hash is one, as long as the key stays away from the tables' readers. So the key
comes from --patient_key_file or EDMS_PATIENT_KEY; a local run without either creates one
under the user's config folder (never under the output) and reuses it, so keys stay stable
between runs. A managed runner without a key is refused: a key made on the launching
machine would be lost with it. On Dataflow, give a file or a Secret Manager-mounted
environment variable; the key travels to the workers inside the pipeline (the DoFn holds it).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

ENV_VAR = "EDMS_PATIENT_KEY"
MIN_KEY_BYTES = 16
LOCAL_RUNNERS = (None, "DirectRunner", "FnApiRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")


class PatientKeyError(Exception):
    """No usable key: reported as one line by the launcher."""


@dataclass(frozen=True)
class PatientKeySource:
    key: bytes = field(repr=False)
    origin: str  # where it came from, safe to log: a path or the variable's name


def default_key_path(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/edms-migrate/patient.key (default ~/.config/…): the user's, not the output's."""
    environ = os.environ if environ is None else environ
    config = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "edms-migrate" / "patient.key"


def _checked(key: bytes, origin: str) -> bytes:
    key = key.strip()
    if len(key) < MIN_KEY_BYTES:
        raise PatientKeyError(f"the patient key from {origin} is shorter than {MIN_KEY_BYTES} bytes")
    return key


def _private(path: Path) -> Path:
    """A key others can read is no secret: refuse it, as ssh refuses a private key with an open mode."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PatientKeyError(
            f"the patient key file {path} is open to other users (mode {mode:04o}): run chmod 600 {path}"
        )
    return path


def _create_or_read_local_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:  # O_EXCL: two runs starting together agree on one key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _private(path).read_bytes()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_hex(32).encode() + b"\n")
    _LOGGER.warning("created a new patient key at %s (keep it; the same key keeps patient keys stable)", path)
    return path.read_bytes()


def resolve_patient_key(
    key_file: str | None, runner: str | None, environ: Mapping[str, str] | None = None
) -> PatientKeySource:
    """The key for this run: the file given, else the environment variable, else (local runs only) the default."""
    environ = os.environ if environ is None else environ
    if key_file:
        try:
            return PatientKeySource(_checked(_private(Path(key_file)).read_bytes(), key_file), key_file)
        except OSError as error:
            raise PatientKeyError(f"cannot read --patient_key_file {key_file}: {error.strerror}") from error
    if environ.get(ENV_VAR):
        return PatientKeySource(_checked(environ[ENV_VAR].encode(), ENV_VAR), f"${ENV_VAR}")
    if runner not in LOCAL_RUNNERS:
        raise PatientKeyError(
            f"a {runner} run needs a patient key: pass --patient_key_file or set {ENV_VAR} (e.g. from Secret Manager)"
        )
    path = default_key_path(environ)
    key = _checked(_create_or_read_local_key(path), str(path))
    _LOGGER.info("patient key: %s", path)
    return PatientKeySource(key, str(path))


def patient_key(key: bytes, normalised_nhs_number: str) -> str:
    """The pseudonym written to analyst tables: hex HMAC-SHA256, stable for a key, useless without it."""
    return hmac.new(key, normalised_nhs_number.encode("ascii"), hashlib.sha256).hexdigest()
