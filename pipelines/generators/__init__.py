"""Build-time generators: docs tables, BigQuery JSON, template metadata and pins. No runtime code imports them."""
