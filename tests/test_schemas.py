"""One definition per table: Arrow, BigQuery and the exported JSON schema files agree with it."""

from __future__ import annotations

import json

from google.cloud import bigquery

from pipelines.generators.bigquery_schemas import FOLDER, expected_files
from schemas.tables import TABLES


def test_exported_bigquery_schema_files_match_the_tables():
    assert sorted(path.name for path in FOLDER.glob("*.json")) == sorted(expected_files())
    for name, text in expected_files().items():
        assert (FOLDER / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: python -m pipelines.generators.bigquery_schemas"
        )


def test_arrow_and_bigquery_schemas_name_the_same_columns_and_modes():
    for table in TABLES:
        arrow = table.arrow_schema()
        fields = [
            bigquery.SchemaField.from_api_repr(field)
            for field in json.loads((FOLDER / f"{table.name}.json").read_text())
        ]
        assert [field.name for field in fields] == arrow.names == list(table.column_names)
        for field in fields:
            arrow_field = arrow.field(field.name)
            assert (field.mode == "REQUIRED") == (not arrow_field.nullable and field.mode != "REPEATED")
        assert table.partition_column in table.column_names
        assert set(table.cluster_columns) <= set(table.column_names) and len(table.cluster_columns) <= 4
