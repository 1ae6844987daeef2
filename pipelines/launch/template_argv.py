"""The Flex Template's parameters read back at launch (templates/main.py): a template passes each parameter once,
as --name=value, so a repeatable option arrives as a comma-separated list (pipelines/generators/template_metadata.py
says so in the template's form)."""

from __future__ import annotations

from pipelines.launch.options import JOB_OPTIONS

_REPEATABLE = {option.name for option in JOB_OPTIONS if option.repeatable}


def template_argv(argv: list[str]) -> list[str]:
    """Template parameters (--name=value, once each) → the launcher's argv: lists split into repeated flags."""
    result: list[str] = []
    for arg in argv:
        name, equals, value = arg.partition("=")
        if equals and name.startswith("--") and name[2:] in _REPEATABLE:
            result += [part for item in value.split(",") if item.strip() for part in (name, item.strip())]
        else:
            result.append(arg)
    return result
