"""Source profiles: the JSON Schema, unknown keys, path resolution, and legacy path mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.reasons import Reason
from transforms.sources.path_map import map_path
from transforms.sources.profiles import ProfileError, load_profile, parse_profile

ROOT = Path(__file__).resolve().parents[2]
BASE = {"source_system": "PAS", "format": "csv", "manifest": "m.csv", "fields": {"document_id": "A", "blob_uri": "B"}}


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "schemas" / "profiles").glob("*.json")))
def test_shipped_example_profiles_are_valid(name):
    profile = load_profile(str(ROOT / "schemas" / "profiles" / name))
    assert profile.name == name.removesuffix(".json") and profile.source_system


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"delimeter": ";"}, "unknown key(s) 'delimeter'"),
        ({"fields": {"document_id": "A", "blob_uri": "B", "patient": "P"}}, "unknown key(s) 'patient' in fields"),
        ({"fields": {"document_id": "A"}}, "'blob_uri' is a required property"),
        ({"format": "xml"}, "format"),
        ({"delimiter": ";;"}, "delimiter"),
        ({"encoding": "klingon-8"}, "'klingon-8' is not a known text encoding"),
        ({"keep_metadata": "WARD"}, "keep_metadata: 'WARD' is not of type 'array'"),
        ({"keep_metadata": ["WARD", "WARD"]}, "keep_metadata"),
        ({"keep_metadata": ["B"]}, "keep_metadata names 'B', which fields maps to a canonical field"),
        ({"legacy_header": "sometimes"}, "legacy_header: 'sometimes' is not valid"),
        ({"legacy_header": 0}, "legacy_header: 0 is not valid"),
        ({"legacy_header": True}, "legacy_header: True is not valid"),
    ],
)
def test_a_bad_profile_is_one_error_naming_the_key(change, message):
    with pytest.raises(ProfileError, match=None) as raised:
        parse_profile({**BASE, **change}, "/profiles/pas.json")
    assert message in str(raised.value) and "/profiles/pas.json" in str(raised.value)


@pytest.mark.parametrize(("value", "policy"), [(None, None), ("search", "search"), (256, 256), (256.0, 256)])
def test_the_legacy_header_policy_is_read_from_the_profile(value, policy):
    document = BASE if value is None else {**BASE, "legacy_header": value}
    assert parse_profile(document, "/profiles/pas.json").legacy_header == policy


def test_manifest_and_path_map_targets_are_relative_to_the_profile_folder(tmp_path):
    (tmp_path / "pas.json").write_text(
        json.dumps({**BASE, "manifest": "exports/*.csv", "path_map": {"\\\\SRV\\Share": "mounted", "D:\\": "gs://b/d"}})
    )
    profile = load_profile(str(tmp_path / "pas.json"))
    assert profile.manifest == f"{tmp_path}/exports/*.csv"
    assert dict(profile.path_map) == {"\\\\SRV\\Share": f"{tmp_path}/mounted", "D:\\": "gs://b/d"}


def test_keep_metadata_is_an_allow_list_and_empty_by_default():
    assert parse_profile(BASE, "/p/pas.json").keep_metadata == frozenset()
    kept = parse_profile({**BASE, "keep_metadata": ["WARD", ">>DocumentHandle"]}, "/p/pas.json").keep_metadata
    assert kept == {"WARD", ">>DocumentHandle"}


def test_a_profile_that_is_not_json_is_one_error(tmp_path):
    (tmp_path / "p.json").write_text("{source_system: PAS")
    with pytest.raises(ProfileError, match="is not valid JSON"):
        load_profile(str(tmp_path / "p.json"))


PATH_MAP = (("\\\\FILESRV01\\OnBase", "/mnt/onbase"), ("\\\\FILESRV01\\OnBase\\DG2", "gs://dg2"), ("R:\\", "/mnt/r"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\\\\FILESRV01\\OnBase\\DG1\\v0001.dat", "/mnt/onbase/DG1/v0001.dat"),
        ("\\\\filesrv01\\onbase\\DG1\\v0001.dat", "/mnt/onbase/DG1/v0001.dat"),  # Windows paths ignore case
        ("\\\\FILESRV01\\OnBase\\DG2\\v7.dat", "gs://dg2/v7.dat"),  # the longest prefix wins
        ("R:\\2004\\a.tif", "/mnt/r/2004/a.tif"),
        ("scans\\2004\\a.tif", "/dump/scans/2004/a.tif"),  # relative: from the manifest's folder
        ("/abs/a.tif", "/abs/a.tif"),
    ],
)
def test_legacy_paths_are_mapped(raw, expected):
    assert map_path(raw, PATH_MAP, "/dump") == (expected, None)


@pytest.mark.parametrize(
    ("raw", "root", "hidden"),
    [
        ("\\\\OTHERSRV\\OnBase\\v1.dat", "under \\\\OTHERSRV\\OnBase with 1 more segment", "v1.dat"),
        ("Q:\\scans\\Smith John\\a.tif", "on drive Q: with 3 more segments", "Smith"),
        ("\\\\FILESRV01\\OnBaseOld\\Jones\\v.dat", "under \\\\FILESRV01\\OnBaseOld with 2 more", "Jones"),
    ],
)
def test_an_unmapped_windows_path_is_a_finding_not_a_guess(raw, root, hidden):
    """The message names the path's root (what a path_map prefix needs), never the folders under it: legacy stores
    file scans under folders named for the patient."""
    uri, finding = map_path(raw, PATH_MAP, "/dump")
    assert uri is None and finding.reason is Reason.PATH_UNMAPPED and root in finding.message
    assert hidden not in finding.message
