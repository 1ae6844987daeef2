"""The Flex Template's launcher entry point (FLEX_TEMPLATE_PYTHON_PY_FILE in templates/Dockerfile).

Dataflow's template launcher runs this with the template's parameters as --name=value and Beam's launch options;
they become an ordinary `edms-migrate run`, with every check a launch makes (preflight included). Nobody waits
for a template's job, so it runs --detached: its own final step emits the OpenLineage COMPLETE or FAIL event.
"""

import sys

from pipelines.console.process import exit_without_finalising
from pipelines.launch.launcher import run
from pipelines.launch.template_argv import template_argv

if __name__ == "__main__":
    exit_without_finalising(run(["--detached", *template_argv(sys.argv[1:])]))
