"""The shape of the code, held by tests: no import cycles between modules or packages, transforms/ stages in one
line, a pure imaging core, small modules."""

from __future__ import annotations

import ast
import functools
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
IMAGING_MUST_NOT_IMPORT = (
    "apache_beam",
    "google",
    "pyarrow",
    "duckdb",
    "transforms",
    "pipelines",
    "samples",
    # process management: it is decoders/' business (isolation, early start, lanes)
    "multiprocessing",
    "subprocess",
    "concurrent",
    "atexit",
    "signal",
    "shutil",
    "tempfile",
)
#: Names the imaging core never uses: file I/O (Path reads and writes, Beam's FileSystems) and glibc's mallopt
#: through ctypes. ctypes itself stays: the native calls into libtiff for its warnings belong to decoding.
IMAGING_MUST_NOT_NAME = frozenset({"FileSystems", "mallopt", "read_text", "read_bytes", "write_text", "write_bytes"})
#: os.<name> calls that manage processes or touch files (os.path, to find Pillow's libtiff, is allowed).
IMAGING_MUST_NOT_CALL_OS = frozenset(
    {"fork", "forkpty", "kill", "killpg", "setsid", "system", "popen", "open", "remove", "unlink", "rename"}
    | {"replace", "makedirs", "mkdir", "write", "read", "dup2", "pipe", "waitpid", "execv", "execvp", "spawnv"}
)
#: transforms/' stage packages, lowest first: a package imports only packages before it in this line.
TRANSFORMS_LINE = (
    "storage",  # blobs (capped reads), objects, the output layout, Parquet table files
    "imaging",  # the pure core: bytes in, values out
    "decoders",  # the decoder processes: isolation, early start, lanes, risk
    "privacy",  # NHS numbers, the patient key, redaction
    "sources",  # profiles, manifests, layouts → DocumentRefs
    "selection",  # what a run migrates, and the run's tallies
    "edms",  # the EDMS records: FHIR DocumentReference and Provenance (restricted side)
    "migrate",  # the per-document step and what it records as it goes
    "dedupe",  # de-duplication, its rows, review
    "lineage",  # after the step: tables, summary, runs and chain, orphans, BigQuery
)


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


@functools.cache  # parsed once for every test here (read-only)
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


def package_of(module: str) -> str:
    """A module's package for the line and the package-cycle check: its first two dotted components."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: dict[str, set[str]], root: str) -> dict[str, set[str]]:
    """The import graph between ROOT's packages (ROOT's loose modules count as packages of their own)."""
    packages: dict[str, set[str]] = {}
    for module, imported in graph.items():
        if module == root or not module.startswith(root + "."):
            continue
        source = package_of(module)
        packages.setdefault(source, set())
        for target in imported:
            if target.startswith(root + ".") and package_of(target) != source:
                packages[source].add(package_of(target))
    for targets in list(packages.values()):
        for target in targets:
            packages.setdefault(target, set())
    return packages


def against_the_line(packages: dict[str, set[str]], line: tuple[str, ...], root: str) -> list[str]:
    """Every import of a package by one lower in the line, and every package the line does not place."""
    rank = {f"{root}.{name}": index for index, name in enumerate(line)}
    wrong = [f"{package} is not in the line" for package in sorted(packages) if package not in rank]
    wrong += [
        f"{source} imports {target}, which is above it"
        for source in sorted(packages)
        for target in sorted(packages[source])
        if source in rank and target in rank and rank[target] > rank[source]
    ]
    return wrong


def test_no_import_cycles_between_the_projects_modules():
    assert cycles(project_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("root", ["transforms", "pipelines"])
def test_no_import_cycles_between_packages(root):
    assert cycles(package_graph(project_graph(), root)) == []


def test_the_package_cycle_finder_finds_a_cycle_between_packages_that_no_module_cycle_shows():
    graph = {
        "transforms.low.a": {"transforms.high.b"},
        "transforms.high.b": set(),
        "transforms.high.c": {"transforms.low.d"},
        "transforms.low.d": set(),
    }
    assert cycles(graph) == []
    assert cycles(package_graph(graph, "transforms")) == [["transforms.high", "transforms.low"]]


def test_transforms_stages_import_only_stages_below_them_in_the_line():
    assert set(TRANSFORMS_LINE) == {path.name for path in (ROOT / "transforms").iterdir() if path.is_dir()} - {
        "__pycache__"
    }
    assert against_the_line(package_graph(project_graph(), "transforms"), TRANSFORMS_LINE, "transforms") == []


def test_the_line_check_finds_an_import_upwards_and_a_package_off_the_line():
    graph = {"transforms.storage.a": {"transforms.lineage.b"}, "transforms.lineage.b": set(), "transforms.new.c": set()}
    assert against_the_line(package_graph(graph, "transforms"), ("storage", "lineage"), "transforms") == [
        "transforms.new is not in the line",
        "transforms.storage imports transforms.lineage, which is above it",
    ]


def named_in(path: Path) -> set[str]:
    """Every bare name and attribute a module uses (what it calls, reads and passes), os.<name> as "os.<name>"."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                names.add(f"os.{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names)
            if node.module == "os":
                names.update(f"os.{alias.name}" for alias in node.names)
    return names


def calls_builtin_open(path: Path) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def imaging_offences(path: Path) -> list[str]:
    bad = [
        imported
        for imported in imports_of(path)
        if imported.startswith(IMAGING_MUST_NOT_IMPORT) and not imported.startswith(IMAGING_MAY_IMPORT)
    ]
    forbidden = IMAGING_MUST_NOT_NAME | {f"os.{name}" for name in IMAGING_MUST_NOT_CALL_OS}
    return bad + sorted(named_in(path) & forbidden) + (["open()"] if calls_builtin_open(path) else [])


def test_the_purity_check_finds_process_management_and_file_io(tmp_path):
    impure = tmp_path / "impure.py"
    impure.write_text(
        "import atexit\nimport ctypes\nfrom concurrent.futures import ProcessPoolExecutor\n"
        "import os\nctypes.CDLL(None).mallopt(1, 2)\nos.kill(1, 9)\ndata = open('x', 'rb').read()\nsystem = 1\n",
        encoding="utf-8",
    )
    assert imaging_offences(impure) == [
        "atexit",
        "concurrent.futures",
        "concurrent.futures.ProcessPoolExecutor",
        "mallopt",
        "os.kill",
        "open()",
    ]


def test_imaging_is_pure_no_beam_no_filesystems_no_other_stage():
    offending = {}
    for name, path in project_modules().items():
        if not name.startswith("transforms.imaging"):
            continue
        bad = imaging_offences(path)
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
