-- The stored pages of each document whose current outcome is migrated: those of the run that migrated it.
SELECT p.*
FROM {pages_history} AS p
JOIN {documents} AS d
  ON p.source_system = d.source_system AND p.document_id = d.document_id AND p.run_id = d.run_id
WHERE d.status = 'migrated'
