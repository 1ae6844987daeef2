"""The shape of the code, held by tests: no import cycles, a pure imaging core, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("transforms", "pipelines", "schemas", "samples", "benchmarks")
MAX_MODULE_LINES = 300
#: What the imaging core may import beyond the standard library and itself: codecs and arrays, never Beam or I/O.
IMAGING_MAY_IMPORT = (
    "PIL",
    "imagehash",
    "numpy",
    "tifffile",
    "imagecodecs",
    "pikepdf",
    "schemas",
    "transforms.imaging",
)
IMAGING_MUST_NOT_IMPORT = ("apache_beam", "google", "pyarrow", "duckdb", "transforms", "pipelines", "samples")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def imports_of(path: Path) -> list[str]:
    """Every module an import statement names, anywhere in the file (inside functions too)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return names


def project_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {
        name: {imported for imported in imports_of(path) if imported in modules} - {name}
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each one an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_the_projects_modules():
    assert cycles(project_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imaging_is_pure_no_beam_no_filesystems_no_other_stage():
    offending = {}
    for name, path in project_modules().items():
        if not name.startswith("transforms.imaging"):
            continue
        bad = [
            imported
            for imported in imports_of(path)
            if imported.startswith(IMAGING_MUST_NOT_IMPORT) and not imported.startswith(IMAGING_MAY_IMPORT)
        ]
        if bad or "FileSystems" in path.read_text(encoding="utf-8"):
            offending[name] = bad or ["FileSystems"]
    assert offending == {}


@pytest.mark.parametrize("package", ["transforms", "pipelines", "schemas", "benchmarks"])
def test_no_module_over_300_lines(package):
    long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / package).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


#: The build-time generators (docs tables, BigQuery JSON, template metadata and pins): nothing that runs imports them.
GENERATORS = "pipelines.generators"
#: Where code outside pipelines/ may import project modules from (the Flex Template's launcher among them).
IMPORTERS = (*PACKAGES, "templates")


def generator_importers(importers: dict[str, list[str]], generators: str = GENERATORS) -> dict[str, list[str]]:
    """Modules outside the generators package that import it, and what they import from it."""
    return {
        name: found
        for name, imported in importers.items()
        if not (name == generators or name.startswith(f"{generators}."))
        and (found := sorted({i for i in imported if i == generators or i.startswith(f"{generators}.")}))
    }


def test_no_runtime_module_imports_the_build_time_generators():
    importers = {
        module_name(path): imports_of(path) for package in IMPORTERS for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert generator_importers(importers) == {}


def test_the_generator_check_finds_a_runtime_import():
    importers = {
        "pipelines.generators.docs": ["pipelines.launch.options"],
        "pipelines.cli": ["pipelines.generators.template_metadata", "pipelines.launch.launcher"],
        "templates.main": ["pipelines.generators"],
        "pipelines.generators_old": ["pipelines.generators_old.docs"],  # another name, not the package
    }
    assert generator_importers(importers) == {
        "pipelines.cli": ["pipelines.generators.template_metadata"],
        "templates.main": ["pipelines.generators"],
    }


def test_pipelines_keeps_at_most_8_loose_modules():
    loose = sorted(path.name for path in (ROOT / "pipelines").glob("*.py"))
    assert len(loose) <= 8, loose
