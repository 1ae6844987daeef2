-- Pages per document type, over migrated documents with objects stored for them.
-- Pages come from the documents table: a PDF is one stored object holding all its pages.
SELECT
  COALESCE(d.document_type, '(none)') AS document_type,
  COUNT(*) AS documents,
  SUM(d.page_count) AS pages,
  MAX(d.page_count) AS most_pages
FROM {documents} AS d
JOIN (
  SELECT DISTINCT source_system, document_id
  FROM {pages}
) AS p
  ON p.source_system = d.source_system AND p.document_id = d.document_id
WHERE d.status = 'migrated'
GROUP BY document_type
ORDER BY document_type
