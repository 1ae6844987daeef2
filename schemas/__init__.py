"""Record types and table schemas: one definition each, from which Arrow, BigQuery and docs derive."""
