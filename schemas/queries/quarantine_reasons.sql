-- Why were documents quarantined? One row per source system and reason code (a document may have several).
SELECT
  d.source_system,
  reason,
  COUNT(*) AS documents
FROM {documents} AS d
CROSS JOIN UNNEST(d.reasons) AS reason
WHERE d.status = 'quarantined'
GROUP BY d.source_system, reason
ORDER BY d.source_system, documents DESC, reason
