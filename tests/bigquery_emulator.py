"""Run bqemulator (a DuckDB-backed BigQuery API) on a loopback port, without its GEOGRAPHY support.

bqemulator loads DuckDB's `spatial` extension at start, downloading it if missing, and refuses to
start without it. There is no network here, and these tables have no GEOGRAPHY column, so the
spatial step is replaced by a no-op; everything else is the emulator as shipped. Run as a separate
process (python -m tests.bigquery_emulator PORT [GCS_LOCAL_ROOT]) so its threads and event loop stay out of the tests.
"""

from __future__ import annotations

import logging
import sys


def _without_spatial(self: object) -> None:
    logging.getLogger(__name__).info("bqemulator: GEOGRAPHY (DuckDB spatial) disabled: no extension download")


def main(port: int, gcs_local_root: str | None = None) -> None:
    from bqemulator.config import PersistenceMode, Settings
    from bqemulator.server import run_forever
    from bqemulator.storage.engine import DuckDBEngine

    DuckDBEngine._load_spatial = _without_spatial  # the one change: see the module docstring
    settings = Settings(
        persistence_mode=PersistenceMode.EPHEMERAL,
        rest_host="127.0.0.1",
        rest_port=port,
        grpc_host="127.0.0.1",
        grpc_port=0,
        enable_format_extensions=False,
        gcs_local_root=gcs_local_root,
        log_level="warning",
    )
    run_forever(settings)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
