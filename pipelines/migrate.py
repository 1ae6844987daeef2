"""`python -m pipelines.migrate [--manifest MANIFEST ...] [--source PROFILE.json ...] --output PREFIX [options]`:
the same job as `edms-migrate run` (see pipelines/launch/launcher.py)."""

from pipelines.console.process import exit_without_finalising
from pipelines.launch.launcher import run

if __name__ == "__main__":
    exit_without_finalising(run())
