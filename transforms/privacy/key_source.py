"""Where the patient key lives, and fetching it where it is used: on the worker, in a DoFn's setup().

The job graph carries a PatientKeyRef (a Secret Manager version name, a file path or gs:// URI, or the name of an
environment variable), never the key: on Dataflow a pickled DoFn is in the staged pipeline and the job description,
which many more people can read than the secret. Each worker process fetches the key once and keeps it in memory
(a cache per process, so many DoFn instances cost one Secret Manager call).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from apache_beam.io.filesystems import FileSystems

MIN_KEY_BYTES = 16
#: A Secret Manager secret version: the version is a number or "latest" (a pinned number is reproducible).
SECRET_VERSION = re.compile(r"^projects/[^/\s]+/secrets/[^/\s]+/versions/(\d+|latest)$")


class PatientKeyError(Exception):
    """No usable key: one line from the launcher, or a failed setup() on a worker (before any document)."""


@dataclass(frozen=True)
class PatientKeyRef:
    """Where the key is, safe to log and to pickle: it holds no secret."""

    kind: Literal["secret", "file", "env"]
    name: str  # projects/P/secrets/S/versions/V, a path or gs:// URI, or an environment variable's name

    @property
    def on_this_machine(self) -> bool:
        """A local file or variable: readable by local workers, not by a managed runner's."""
        return self.kind == "env" or (self.kind == "file" and "://" not in self.name)

    def __str__(self) -> str:
        return {"secret": "Secret Manager ", "file": "", "env": "$"}[self.kind] + self.name


def checked_key(key: bytes, origin: object) -> bytes:
    key = key.strip()
    if len(key) < MIN_KEY_BYTES:
        raise PatientKeyError(f"the patient key from {origin} is shorter than {MIN_KEY_BYTES} bytes")
    return key


def private_file(path: str) -> str:
    """A local key others can read is no secret: the launcher refuses it, as ssh refuses a private key with an
    open mode (workers then read what the launcher checked)."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError as error:
        raise PatientKeyError(f"cannot read --patient_key_file {path}: {error.strerror}") from error
    if mode & 0o077:
        raise PatientKeyError(
            f"the patient key file {path} is open to other users (mode {mode:04o}): run chmod 600 {path}"
        )
    return path


def _read_file(uri: str) -> bytes:
    try:
        with FileSystems.open(uri, compression_type="uncompressed") as handle:
            return handle.read()
    except Exception as error:  # each filesystem raises its own kind; one line for the user
        reason = getattr(error, "strerror", None) or f"{type(error).__name__}: {error}".splitlines()[0]
        raise PatientKeyError(f"cannot read --patient_key_file {uri}: {reason}") from error


def _access_secret(name: str, client: Any | None) -> bytes:
    """One access_secret_version call; the payload's CRC32C is checked, as Google's samples do."""
    import google_crc32c

    if client is None:
        from google.cloud import secretmanager

        client = secretmanager.SecretManagerServiceClient()
    try:
        response = client.access_secret_version(request={"name": name})
    except Exception as error:  # permission, not found, network: the worker's setup() fails with the reason
        raise PatientKeyError(f"cannot access --patient_key_secret {name}: {type(error).__name__}: {error}") from error
    payload = response.payload
    if payload.data_crc32c and google_crc32c.value(payload.data) != payload.data_crc32c:
        raise PatientKeyError(f"--patient_key_secret {name}: the payload failed its CRC32C check")
    return payload.data


def load_key(
    ref: PatientKeyRef, *, secrets_client: Any | None = None, environ: Mapping[str, str] | None = None
) -> bytes:
    """The key itself, from wherever ref says; `secrets_client` is a SecretManagerServiceClient (tests inject one)."""
    if ref.kind == "secret":
        return checked_key(_access_secret(ref.name, secrets_client), ref)
    if ref.kind == "file":
        return checked_key(_read_file(ref.name), ref)
    value = (os.environ if environ is None else environ).get(ref.name)
    if not value:
        raise PatientKeyError(f"${ref.name} is not set in this process")
    return checked_key(value.encode(), ref)


_CACHE: dict[PatientKeyRef, bytes] = {}
_CACHE_LOCK = threading.Lock()


def key_for_worker(ref: PatientKeyRef, *, secrets_client: Any | None = None) -> bytes:
    """load_key, once per worker process and ref: DoFns call it from setup()."""
    with _CACHE_LOCK:
        if ref not in _CACHE:
            _CACHE[ref] = load_key(ref, secrets_client=secrets_client)
        return _CACHE[ref]
