-- Each document's current row: its latest outcome. Lineage is append-only history, so a document re-run three
-- times has three rows; this view keeps the newest, and every count an analyst or the report makes counts it once.
SELECT *
FROM {documents_history}
WHERE TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY source_system, document_id ORDER BY recorded_at DESC, run_id DESC) = 1
