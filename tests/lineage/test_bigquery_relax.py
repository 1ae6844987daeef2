"""Evolving a BigQuery table an earlier version made: the modes that changed, the columns added, nothing else."""

from __future__ import annotations

from schemas.tables import DOCUMENTS, PAGES
from transforms.lineage.bigquery_load import relaxed_schema


def test_columns_that_became_nullable_are_relaxed_and_the_rest_kept():
    remote = [dict(field) for field in PAGES.bigquery_schema()]
    for field in remote:
        if field["name"] in ("pixel_sha256", "width"):
            field["mode"] = "REQUIRED"
    relaxed = relaxed_schema(remote, PAGES)
    assert [field["name"] for field in relaxed] == list(PAGES.column_names)
    assert relaxed == PAGES.bigquery_schema()
    assert {field["name"]: field["mode"] for field in relaxed}["object_uri"] == "REQUIRED"


def test_a_current_table_needs_no_change():
    assert relaxed_schema(DOCUMENTS.bigquery_schema(), DOCUMENTS) is None
    assert relaxed_schema(PAGES.bigquery_schema(), PAGES) is None


def test_a_column_added_since_is_appended_nullable_and_the_rest_kept():
    remote = [dict(field) for field in PAGES.bigquery_schema() if field["name"] != "decoder"]
    evolved = relaxed_schema(remote, PAGES)
    assert evolved[: len(remote)] == remote
    assert evolved[len(remote) :] == [{"name": "decoder", "type": "STRING", "mode": "NULLABLE", **_description()}]


def _description() -> dict:
    field = next(field for field in PAGES.bigquery_schema() if field["name"] == "decoder")
    return {key: value for key, value in field.items() if key not in ("name", "type", "mode")}


def test_a_nullable_column_added_since_is_appended():
    remote = [dict(field) for field in PAGES.bigquery_schema() if field["name"] != "encode_path"]
    evolved = relaxed_schema(remote, PAGES)
    assert evolved == PAGES.bigquery_schema() and evolved[-1]["name"] == "encode_path"
    assert evolved[-1]["mode"] == "NULLABLE"
