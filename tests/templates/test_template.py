"""The Flex Template in templates/: metadata.json derived from the job's options and valid for the Dataflow API,
a Dockerfile and pins that agree with setup.py, and an entry point that launches like `edms-migrate run`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.cloud import dataflow_v1beta3 as dataflow
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipelines.generators.template_metadata import METADATA, metadata_json
from pipelines.generators.template_pins import REQUIREMENTS, install_requires, setup_keyword
from pipelines.launch.launcher import parse_options
from pipelines.launch.options import JOB_OPTIONS, MigrateOptions
from pipelines.launch.template_argv import template_argv

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "templates" / "Dockerfile").read_text(encoding="utf-8")
STALE = "is stale: python -m pipelines.generators.template_metadata --write"


def pin_lines() -> list[str]:
    return [line for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]


def pins() -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in (line.split("==") for line in pin_lines())}


def dockerfile_arg(name: str) -> str:
    return re.search(rf"^ARG {name}=(\S+)$", DOCKERFILE, re.M).group(1)


def test_metadata_json_is_generated_from_the_job_options():
    assert METADATA.read_text(encoding="utf-8") == metadata_json(), f"templates/metadata.json {STALE}"
    parameters = json.loads(metadata_json())["parameters"]
    assert [p["name"] for p in parameters] == [option.name for option in JOB_OPTIONS]
    assert [p["name"] for p in parameters if not p["isOptional"]] == ["output"]


def test_metadata_json_is_a_valid_dataflow_template_metadata():
    """Parsed strictly by the Dataflow API's own types (unknown fields or enum values raise)."""
    template = dataflow.TemplateMetadata.from_json(METADATA.read_text(encoding="utf-8"), ignore_unknown_fields=False)
    assert template.name == "edms-migrate" and not template.streaming
    by_name = {parameter.name: parameter for parameter in template.parameters}
    assert by_name["output"].param_type == dataflow.ParameterType.GCS_WRITE_FOLDER
    assert by_name["decode_isolation"].param_type == dataflow.ParameterType.ENUM
    assert [o.value for o in by_name["decode_isolation"].enum_options] == ["always", "risky", "never"]
    assert by_name["max_pages"].param_type == dataflow.ParameterType.NUMBER


def test_each_parameter_regex_takes_its_default_and_refuses_what_the_launcher_refuses():
    for parameter in json.loads(metadata_json())["parameters"]:
        patterns = [re.compile(regex) for regex in parameter.get("regexes", [])]
        if "defaultValue" in parameter:
            assert all(p.match(parameter["defaultValue"]) for p in patterns), parameter["name"]
    by_name = {p["name"]: p for p in json.loads(metadata_json())["parameters"]}
    output = re.compile(by_name["output"]["regexes"][0])
    assert output.match("gs://trust-edms/migration") and not output.match("/home/me/out")
    manifests = re.compile(by_name["manifest"]["regexes"][0])
    assert manifests.match("gs://a/m1.csv,gs://a/m2.csv") and not manifests.match("gs://a/m1.csv,/local.csv")
    assert not re.match(by_name["max_pages"]["regexes"][0], "-1")


def test_a_template_launch_parses_to_the_same_options_as_the_command_line():
    template = ["--manifest=gs://a/m1.csv,gs://a/m2.csv", "--output=gs://b/out", "--max_pages=50"]
    command = ["--manifest", "gs://a/m1.csv", "--manifest", "gs://a/m2.csv", "--output", "gs://b/out"]
    launched = parse_options(template_argv(template)).view_as(MigrateOptions)
    typed = parse_options([*command, "--max_pages", "50"]).view_as(MigrateOptions)
    assert launched.manifest == typed.manifest == ["gs://a/m1.csv", "gs://a/m2.csv"]
    assert launched.output == typed.output and launched.max_pages == typed.max_pages == 50


def test_every_dependency_in_setup_py_is_pinned_by_a_version_it_allows():
    pinned = pins()
    for requirement in install_requires():
        name = canonicalize_name(requirement.name)
        assert name in pinned, (
            f"{name} is not in templates/requirements.txt: python -m pipelines.generators.template_pins --write"
        )
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]} breaks setup.py's {requirement}"


def test_each_pin_is_one_exact_version_of_one_distribution_in_sorted_order():
    """What pip install --no-deps -r needs: name==version, a version PEP 440 parses, no marker, no duplicate.
    Nothing here compares with what happens to be installed: a fresh install a week later may hold newer versions,
    and the image must still get these."""
    names = []
    for line in pin_lines():
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==" and not requirement.marker and not requirement.extras, line
        Version(specifier.version)  # raises InvalidVersion on anything pip would refuse
        names.append(canonicalize_name(requirement.name))
    assert names == sorted(set(names)) and len(names) > len(install_requires())


def test_the_dockerfile_builds_on_setup_pys_beam_and_python():
    image = dockerfile_arg("BEAM_SDK_IMAGE")
    python, beam = re.fullmatch(r"apache/beam_python(\d\.\d+)_sdk:(\S+)", image).groups()
    (beam_requirement,) = [r for r in install_requires() if canonicalize_name(r.name) == "apache-beam"]
    assert str(beam_requirement.specifier) == f"=={beam}" == f"=={pins()['apache-beam']}"
    assert SpecifierSet(setup_keyword("python_requires")).contains(f"{python}.0")
    assert f"python{python.replace('.', '')}-template-launcher-base" in dockerfile_arg("TEMPLATE_LAUNCHER_IMAGE")


def test_the_dockerfile_installs_the_pins_and_the_package_and_points_the_launcher_at_main():
    assert "COPY templates/requirements.txt requirements.txt" in DOCKERFILE
    assert "pip install --no-cache-dir --no-deps -r requirements.txt" in DOCKERFILE
    packaged = {
        name
        for name in re.findall(r'"(\w+)"', (ROOT / "setup.py").read_text())
        if f'"{name}.*"' in (ROOT / "setup.py").read_text()
    }
    assert packaged == {"pipelines", "transforms", "schemas", "samples"}
    for package in packaged:
        assert re.search(rf"^COPY {package} {package}$", DOCKERFILE, re.M), package
    assert "COPY templates/main.py main.py" in DOCKERFILE
    assert 'ENV FLEX_TEMPLATE_PYTHON_PY_FILE="${WORKDIR}/main.py"' in DOCKERFILE
    assert 'ENTRYPOINT ["/opt/apache/beam/boot"]' in DOCKERFILE
    assert not re.search(r"^ENV FLEX_TEMPLATE_PYTHON_(SETUP|REQUIREMENTS)_FILE", DOCKERFILE, re.M)  # all installed


@pytest.mark.slow
def test_the_template_entry_point_launches_a_dry_run(tmp_path):
    """templates/main.py as Dataflow's launcher runs it: parameters as --name=value, lists comma-separated."""
    for name in ("m1", "m2"):
        (tmp_path / f"{name}.csv").write_text("source_system,document_id,blob_uri\nPAS,1,a.tif\n", encoding="utf-8")
    parameters = [
        f"--manifest={tmp_path / 'm1.csv'},{tmp_path / 'm2.csv'}",
        "--output=gs://trust-edms-archive/migration",
        "--patient_key_secret=projects/trust-edms-prod/secrets/edms-patient-key/versions/3",
        "--decode_isolation=risky",
    ]
    beam = ["--runner=DataflowRunner", "--project=trust-edms-prod", "--region=europe-west2"]
    beam += ["--temp_location=gs://trust-edms-dataflow/tmp", "--sdk_container_image=x/edms:1", "--dry_run=True"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "templates" / "main.py"), *parameters, *beam],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "batch job in trust-edms-prod/europe-west2" in result.stdout and "  Migrate" in result.stdout
    assert result.stdout.rstrip().endswith("  RunEvent")  # a template's job is detached: it ends its own run
