"""`python -m pipelines.migrate [--manifest MANIFEST ...] [--source PROFILE.json ...] --output PREFIX [options]`:
the same job as `edms-migrate run` (see pipelines/launcher.py)."""

import sys

from pipelines.launcher import run

if __name__ == "__main__":
    sys.exit(run())
