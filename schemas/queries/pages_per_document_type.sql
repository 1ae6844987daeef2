-- Pages per document type, over migrated documents and the pages actually stored for them.
SELECT
  COALESCE(d.document_type, '(none)') AS document_type,
  COUNT(*) AS documents,
  SUM(p.pages) AS pages,
  MAX(p.pages) AS most_pages
FROM {documents} AS d
JOIN (
  SELECT source_system, document_id, COUNT(*) AS pages
  FROM {pages}
  GROUP BY source_system, document_id
) AS p
  ON p.source_system = d.source_system AND p.document_id = d.document_id
WHERE d.status = 'migrated'
GROUP BY document_type
ORDER BY document_type
