"""The vocabulary lineage tables are written in: a column, a table, and how each maps to Arrow and BigQuery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

_ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOL": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    required: bool = False
    repeated: bool = False

    def arrow_field(self) -> pa.Field:
        value_type = _ARROW_TYPES[self.type]
        if self.repeated:
            return pa.field(self.name, pa.list_(value_type), nullable=False)
        return pa.field(self.name, value_type, nullable=not self.required)

    def bigquery_field(self) -> dict[str, str]:
        mode = "REPEATED" if self.repeated else ("REQUIRED" if self.required else "NULLABLE")
        return {"name": self.name, "type": self.type, "mode": mode, "description": self.description}


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([column.arrow_field() for column in self.columns])

    def bigquery_schema(self) -> list[dict[str, str]]:
        return [column.bigquery_field() for column in self.columns]

    #: BigQuery layout: partitioned by the run's date, clustered for the common questions.
    partition_column: str = "run_date"
    cluster_columns: tuple[str, ...] = ()

    def row(self, **values: Any) -> dict[str, Any]:
        """A row with every column present; unknown names are a programming error, caught here."""
        unknown = set(values) - set(self.column_names)
        if unknown:
            raise KeyError(f"{self.name} has no columns {sorted(unknown)}")
        row = {column.name: values.get(column.name, [] if column.repeated else None) for column in self.columns}
        missing = [column.name for column in self.columns if column.required and row[column.name] is None]
        if missing:
            raise ValueError(f"{self.name} row lacks required {missing}")
        return row


def col(name: str, type_: str, description: str, **flags: bool) -> Column:
    return Column(name, type_, description, **flags)
