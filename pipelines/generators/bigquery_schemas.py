"""Write each table's BigQuery schema to schemas/bigquery/<table>.json, for infrastructure code (Terraform, bq).

python -m pipelines.generators.bigquery_schemas

tests/test_schemas.py fails when the files and schemas/tables.py disagree.
"""

from __future__ import annotations

import json

from schemas import SCHEMAS_FOLDER
from schemas.tables import TABLES, Table

FOLDER = SCHEMAS_FOLDER / "bigquery"


def schema_json(table: Table) -> str:
    return json.dumps(table.bigquery_schema(), indent=2) + "\n"


def layout_json() -> str:
    """Partitioning and clustering per table, which a schema file cannot say."""
    layout = {
        table.name: {
            "time_partitioning": {"type": "DAY", "field": table.partition_column},
            "clustering": list(table.cluster_columns),
        }
        for table in TABLES
    }
    return json.dumps(layout, indent=2, sort_keys=True) + "\n"


def expected_files() -> dict[str, str]:
    return {**{f"{table.name}.json": schema_json(table) for table in TABLES}, "layout.json": layout_json()}


if __name__ == "__main__":
    FOLDER.mkdir(exist_ok=True)
    for name, text in expected_files().items():
        (FOLDER / name).write_text(text, encoding="utf-8")
        print(FOLDER / name)
