-- Did every document of every source system arrive, and what happened to the rest?
-- One row per source system: documents read, each outcome, and whether they add up.
-- pages: pages decoded (of migrated and duplicate documents); a duplicate's pages are stored once, as its twin's.
SELECT
  d.source_system,
  COUNT(*) AS documents,
  COUNTIF(d.status = 'migrated') AS migrated,
  COUNTIF(d.status = 'duplicate') AS duplicate,
  COUNTIF(d.status = 'quarantined') AS quarantined,
  COUNTIF(d.status NOT IN ('migrated', 'duplicate', 'quarantined')) AS unaccounted,
  SUM(COALESCE(d.page_count, 0)) AS pages,
  SUM(COALESCE(d.source_bytes, 0)) AS bytes_in
FROM {documents} AS d
GROUP BY d.source_system
ORDER BY d.source_system
