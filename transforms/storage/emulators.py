"""Local emulators of Google Cloud APIs, for tests and offline trials.

With STORAGE_EMULATOR_HOST set, google-cloud-storage talks to the emulator and
needs no credentials, but Beam still looks for Google credentials first and
retries for about 20 s when there are none. Only in that case we tell Beam's
credential cache there are none, which is where those retries end anyway.
Production (no emulator variable) keeps Beam's normal credential lookup.
"""

from __future__ import annotations

import logging
import os

import apache_beam as beam

_LOGGER = logging.getLogger(__name__)


def skip_credential_lookup_for_storage_emulator() -> bool:
    """True when an emulator is configured and Beam's credential lookup was short-circuited."""
    if not os.environ.get("STORAGE_EMULATOR_HOST"):
        return False
    try:
        from apache_beam.internal.gcp import auth
    except ImportError:  # Beam without [gcp]: no gs:// at all
        return False
    credentials = getattr(auth, "_Credentials", None)
    if credentials is None or not hasattr(credentials, "_credentials_lock"):
        _LOGGER.warning("this Beam version's credential cache is unknown; emulator runs may wait ~20 s for auth")
        return False
    with credentials._credentials_lock:
        credentials._credentials = None
        credentials._credentials_init = True
    return True


class StorageDoFn(beam.DoFn):
    """A DoFn that reads or writes through FileSystems. Its worker may be a fresh process, so the emulator hook
    runs in setup(), once per DoFn instance; a subclass that sets up more calls super().setup() first."""

    def setup(self) -> None:
        skip_credential_lookup_for_storage_emulator()
