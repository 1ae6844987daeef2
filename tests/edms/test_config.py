"""--fhir_config: the issue's exact shape works; anything wrong is refused at launch in one line, exit code 2."""

from __future__ import annotations

import json

import pytest

from pipelines.cli import main
from pipelines.launch.launcher import run
from pipelines.launch.template_argv import template_argv
from transforms.edms.codes import RECORD_ARTIFACT
from transforms.edms.config import DEFAULT_IDENTIFIER_BASE, FhirConfigError, parse_config

EXACT = {
    "sources": {
        "PAS": {
            "identifier_system": "https://trust.example.nhs.uk/Id/pas-document",
            "custodian_ods": "RRK",
            "author_ods": "RRK99",
        }
    },
    "document_types": {"Clinic Letter": {"code": "371531000", "display": "Report of clinical encounter"}},
    "confidentiality": {
        "document_types": {"Sexual Health Letter": "R"},
        "restricted_flag": {"column": "restricted", "values": {"Y": "R", "V": "V"}},
    },
}


def test_the_exact_shape_of_the_issue_is_read():
    config = parse_config(EXACT)
    pas = config.source("PAS")
    assert (pas.identifier_system, pas.custodian_ods, pas.author_ods) == (
        EXACT["sources"]["PAS"]["identifier_system"],
        "RRK",
        "RRK99",
    )
    assert config.document_types["clinic letter"] == ("371531000", "Report of clinical encounter")
    assert config.type_labels == {"sexual health letter": "R"}
    [flag] = config.restricted_flags
    assert flag.column == "restricted" and flag.values == {"y": "R", "v": "V"}


def test_the_richer_form_adds_categories_and_leaves_the_rest_as_the_exact_shape_reads_it():
    richer = _with(
        ["categories"],
        {
            "default": {"code": "371531000", "display": "Report of clinical encounter"},
            "document_types": {"Clinic Letter": {"code": "734163000", "display": "Care plan"}},
        },
    )
    config, exact = parse_config(richer), parse_config(EXACT)
    assert config.default_category == ("371531000", "Report of clinical encounter")
    assert config.type_categories == {"clinic letter": ("734163000", "Care plan")}
    assert exact.default_category == RECORD_ARTIFACT and exact.type_categories == {}
    assert (config.sources, config.document_types, config.type_labels) == (
        exact.sources,
        exact.document_types,
        exact.type_labels,
    )


def test_a_source_with_no_entry_gets_a_default_system_and_no_author_or_custodian():
    other = parse_config(EXACT).source("RADIOLOGY PAGES")
    assert other.identifier_system == DEFAULT_IDENTIFIER_BASE + "RADIOLOGY%20PAGES"
    assert other.author_ods is None and other.custodian_ods is None


def _with(path: list[str], value) -> dict:
    config = json.loads(json.dumps(EXACT))
    holder = config
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return config


BAD = {
    "unknown top key": (_with(["colour"], "blue"), "unknown key 'colour'"),
    "unknown source key": (_with(["sources", "PAS", "ods"], "RRK"), "sources.PAS: unknown key 'ods'"),
    "Verhoeff": (_with(["document_types", "Clinic Letter", "code"], "371531001"), "Verhoeff"),
    "too short": (_with(["document_types", "Clinic Letter", "code"], "12345"), "SNOMED CT"),
    "ODS shape": (_with(["sources", "PAS", "custodian_ods"], "rrk-1"), "custodian_ods: 'rrk-1' is not an ODS"),
    "confidentiality": (_with(["confidentiality", "document_types", "Sexual Health Letter"], "S"), "'S' is not a v3"),
    "flag value": (_with(["confidentiality", "restricted_flag", "values", "Y"], "X"), "values.Y: 'X'"),
    "relative system": (_with(["sources", "PAS", "identifier_system"], "pas-document"), "not an absolute URI"),
    "unknown categories key": (_with(["categories"], {"fallback": {}}), "categories: unknown key 'fallback'"),
    "category Verhoeff": (
        _with(["categories"], {"default": {"code": "419891009", "display": "Record artifact"}}),
        "categories.default.code: '419891009' is not a SNOMED CT id",
    ),
    "type category Verhoeff": (
        _with(["categories"], {"document_types": {"Clinic Letter": {"code": "734163001", "display": "Care plan"}}}),
        "categories.document_types.Clinic Letter.code: '734163001'",
    ),
    "category without display": (
        _with(["categories"], {"default": {"code": "419891008"}}),
        "categories.default: 'display' is required",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_an_invalid_config_is_refused_naming_where(name):
    config, message = BAD[name]
    with pytest.raises(FhirConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_config(config)


@pytest.mark.parametrize(
    "name",
    ["Verhoeff", "ODS shape", "unknown top key", "confidentiality", "unknown categories key", "category Verhoeff"],
)
def test_a_bad_config_exits_2_with_one_line_before_anything_is_read(tmp_path, capsys, name):
    config = tmp_path / "fhir.json"
    config.write_text(json.dumps(BAD[name][0]))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("source_system,document_id,blob_uri,nhs_number,document_type,document_date\n")
    code = run(["--manifest", str(manifest), "--output", str(tmp_path / "out"), "--fhir_config", str(config)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "--fhir_config" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_config_that_is_not_json_exits_2(tmp_path, capsys):
    config = tmp_path / "fhir.json"
    config.write_text("{not json")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("source_system,document_id,blob_uri,nhs_number,document_type,document_date\n")
    assert run(["--manifest", str(manifest), "--output", str(tmp_path / "out"), "--fhir_config", str(config)]) == 2
    assert "not JSON" in capsys.readouterr().err


def test_every_launch_path_refuses_a_bad_config_in_one_line(tmp_path, capsys):
    """The Flex Template's entry (templates/main.py: --name=value parameters, detached) and `edms-migrate
    preflight` refuse it as `run` does (the dry run: tests/pipelines/test_dry_run.py), before anything is read."""
    config = tmp_path / "fhir.json"
    config.write_text(json.dumps(BAD["category Verhoeff"][0]))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("source_system,document_id,blob_uri,nhs_number,document_type,document_date\n")
    parameters = [f"--manifest={manifest}", f"--output={tmp_path / 'out'}", f"--fhir_config={config}"]
    launches = {
        "template": lambda: run(["--detached", *template_argv(parameters)]),
        "preflight": lambda: main(["preflight", "--output", "gs://trust-edms-archive/x", "--fhir_config", str(config)]),
    }
    for name, launch in launches.items():
        assert launch() == 2, name
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--fhir_config" in err[0] and "categories.default.code" in err[0], (name, err)
    assert not (tmp_path / "out").exists()
