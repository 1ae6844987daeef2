"""Definitions only: record types, reasons, tables, the profile JSON Schema, SQL queries and views."""

from pathlib import Path

#: The folder of the data files defined here (JSON Schema, SQL, BigQuery schema files), wherever it is installed.
SCHEMAS_FOLDER = Path(__file__).resolve().parent
