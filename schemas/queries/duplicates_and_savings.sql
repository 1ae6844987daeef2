-- Duplicates found and the storage they did not need: per source system, bytes read and bytes stored.
-- A duplicate's pages are the canonical document's objects, so its object bytes are storage saved.
SELECT
  d.source_system,
  COUNTIF(d.status = 'duplicate') AS duplicates,
  SUM(CASE WHEN d.status = 'duplicate' THEN COALESCE(d.object_bytes, 0) ELSE 0 END) AS object_bytes_saved,
  SUM(CASE WHEN d.status = 'duplicate' THEN COALESCE(d.source_bytes, 0) ELSE 0 END) AS duplicate_source_bytes,
  SUM(CASE WHEN d.status = 'migrated' THEN COALESCE(d.source_bytes, 0) ELSE 0 END) AS migrated_source_bytes,
  SUM(CASE WHEN d.status = 'migrated' THEN COALESCE(d.object_bytes, 0) ELSE 0 END) AS migrated_object_bytes
FROM {documents} AS d
GROUP BY d.source_system
ORDER BY d.source_system
