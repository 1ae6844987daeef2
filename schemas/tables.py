"""The lineage tables, defined once.

Each table is a tuple of columns in a tiny type vocabulary; the Arrow schema for Parquet, the BigQuery schema and
the column lists in docs/lineage.md are all derived from it, so the engines can never disagree about a column.
"""

from __future__ import annotations

from schemas.edms_tables import EDMS_RECORD_INDEX, REVIEW_UNCODED_TYPES
from schemas.table_model import Table, col

DOCUMENTS = Table(
    name="documents",
    description=(
        "One row per document per run that decided its outcome (migrated, duplicate or quarantined). Append-only "
        "history: the current view keeps each document's latest row."
    ),
    columns=(
        col("run_id", "STRING", "The run that produced this row.", required=True),
        col("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        col(
            "source_system",
            "STRING",
            "Legacy system the document came from (an identifier in it pseudonymised: SOURCE_SYSTEM_IDENTIFIER).",
            required=True,
        ),
        col(
            "document_id",
            "STRING",
            "Id within its source system (row-N when the manifest row had none); each patient identifier in it (ten "
            "digits, a profile's local_identifiers) is its keyed pseudonym, pid_ and 20 letters.",
            required=True,
        ),
        col("status", "STRING", "migrated, duplicate or quarantined.", required=True),
        col("reasons", "STRING", "Quarantine reason codes (see docs/governance.md).", repeated=True),
        col("reason_messages", "STRING", "A readable message per reason code, same order.", repeated=True),
        col("duplicate_of", "STRING", "SOURCE_SYSTEM/DOCUMENT_ID of the canonical document, for duplicates."),
        col("manifest_uri", "STRING", "Manifest the row was read from."),
        col(
            "manifest_row",
            "INT64",
            "1-based data row (or DIP record) in the manifest; page-per-row: the document's first row.",
        ),
        col("nhs_number_status", "STRING", "valid, invalid or missing. The number itself is never stored here."),
        col(
            "nhs_number_scheme",
            "STRING",
            "For valid numbers: nhs (England/Wales), chi (Scotland), hc (N. Ireland), test, other.",
        ),
        col(
            "patient_key",
            "STRING",
            "Pseudonym of a valid NHS number: hex HMAC-SHA256 under the run's patient key (see Privacy).",
        ),
        col("document_type", "STRING", "Document type recorded by the legacy system, any run of 10 digits redacted."),
        col("document_date", "DATE", "Document date recorded by the legacy system."),
        col("recorded_page_count", "INT64", "Page count the legacy system recorded."),
        col("page_count", "INT64", "Pages decoded from the image, or counted in the PDF."),
        col(
            "source_format",
            "STRING",
            "Format sniffed from the bytes: TIFF, JPEG, PNG, …, PDF (quarantined documents: also EPS, DOCX, ZIP, …).",
        ),
        col("source_compression", "STRING", "Compression of the first page as decoded (group4, tiff_lzw, jpeg, …)."),
        col("blob_uri", "STRING", "Resolved location of the legacy blob, each identifier in it pseudonymised."),
        col("byte_offset", "INT64", "Start of the byte range in the blob; null if shaped like an identifier."),
        col("byte_length", "INT64", "Length of the document's byte range; null if shaped like an identifier."),
        col("source_bytes", "INT64", "Bytes read from the legacy store."),
        col(
            "source_sha256",
            "STRING",
            "SHA-256 of the document's exact legacy bytes (page-per-row: its page files concatenated in page order).",
        ),
        col(
            "content_sha256",
            "STRING",
            "SHA-256 over the pages' pixel hashes in order (a PDF: over 'pdf', a NUL and its bytes): equal content, "
            "equal value.",
        ),
        col("object_bytes", "INT64", "Bytes of the stored page objects (a PDF: its one object)."),
        col("quarantine_uri", "STRING", "Where the original bytes were copied, for quarantined documents."),
        col(
            "metadata_json",
            "STRING",
            "The source profile's keep_metadata fields as a JSON object, any run of 10 digits redacted; else null.",
        ),
        col("source_profile", "STRING", "Source profile the document was read through (canonical for --manifest)."),
        col("page_files", "INT64", "Page-per-row sources: how many page files (rows) the document was assembled from."),
        col(
            "legacy_header_bytes",
            "INT64",
            "Bytes of proprietary header (FileNet-style) skipped before the image signature, summed over page files.",
        ),
        col(
            "recorded_at",
            "TIMESTAMP",
            "When this row was recorded. Lineage is append-only: a document's current outcome is its latest row.",
        ),
        col(
            "reference_sha256",
            "STRING",
            "SHA-256 of the document's reference (blob, offset, length, legacy checksum, page files): a re-run "
            "migrates it again only when this changed.",
        ),
        col("quarantine_files", "STRING", "Page-per-row quarantine copies: 'URI SHA256 BYTES' each.", repeated=True),
    ),
    cluster_columns=("source_system", "status", "patient_key"),
)

PAGES = Table(
    name="pages",
    description="One row per stored object of a migrated document: each page of an image, or a whole PDF (page 1).",
    columns=(
        col("run_id", "STRING", "The run that produced this row.", required=True),
        col("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        col("source_system", "STRING", "Legacy system the document came from.", required=True),
        col("document_id", "STRING", "Id within its source system.", required=True),
        col("page_number", "INT64", "1-based page number within the document (a PDF's one object: 1).", required=True),
        col("object_uri", "STRING", "Absolute URI of the stored page object (or PDF).", required=True),
        col("object_sha256", "STRING", "SHA-256 of the stored object's bytes (its name).", required=True),
        col(
            "object_format",
            "STRING",
            "Encoding of the stored object (TIFF/CCITT-G4, TIFF/Deflate, TIFF/JPEG, JPEG/from-TIFF, PNG, "
            "JPEG/original, …; PDF, kept byte for byte).",
            required=True,
        ),
        col("object_bytes", "INT64", "Size of the stored object.", required=True),
        col("pixel_sha256", "STRING", "SHA-256 of the page's decoded pixels in canonical form; null for a PDF."),
        col("width", "INT64", "Width in pixels; null for a PDF."),
        col("height", "INT64", "Height in pixels; null for a PDF."),
        col(
            "mode",
            "STRING",
            "Pixel mode, kept unchanged from the source: a Pillow mode (1, L, RGB, …), or for samples Pillow has no "
            "mode for, photometric and sample type (RGB;uint16, SEPARATED;uint16, MINISBLACK;float64); null for a PDF.",
        ),
        col("dpi", "FLOAT64", "Horizontal resolution in dots per inch, when the source recorded one."),
        col("dpi_y", "FLOAT64", "Vertical resolution in dots per inch, when the source recorded one."),
        col(
            "orientation",
            "INT64",
            "Source EXIF/TIFF orientation 1-8: re-encoded TIFF pages are stored upright, others carry it.",
        ),
        col(
            "icc_profile_sha256", "STRING", "SHA-256 of the embedded ICC profile, carried on the object; null if none."
        ),
        col("source_compression", "STRING", "Compression of the page in the legacy file."),
        col("ink_coverage", "FLOAT64", "Fraction of the page darker than mid-grey; null for a PDF."),
        col(
            "flags",
            "STRING",
            "Checks for a reviewer, never a reason to drop a page: blank, inverted, low_dpi.",
            repeated=True,
        ),
        col("perceptual_hash", "STRING", "256-bit pHash of the page (64 hex digits): near for rescans and re-saves."),
        col(
            "decoder",
            "STRING",
            "Which library read the page: pillow, or tifffile for TIFF variants Pillow cannot read or would reduce "
            "(docs/formats.md); null for a PDF.",
        ),
        col(
            "encode_path",
            "STRING",
            "How the object was made: passthrough (the source page's own Group 4, Deflate or JPEG strips or JPEG "
            "tiles, copied into a single-page TIFF and proven to hold the same pixels), jpeg-stream (a TIFF page's "
            "own JPEG data as a JPEG file: JPEGTables and its one strip, or an old-style JPEG's whole stream), "
            "reencoded (decoded, encoded losslessly, decoded again to prove it) or original (the source file kept "
            "byte for byte: a JPEG, a PDF).",
        ),
    ),
    cluster_columns=("source_system", "object_format"),
)

RUNS = Table(
    name="runs",
    description="One row per run: when, with what code, options and inputs, and how many of each outcome.",
    columns=(
        col("run_id", "STRING", "The run this row describes.", required=True),
        col("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column.", required=True),
        col("started_at", "TIMESTAMP", "When the launcher started the run (UTC).", required=True),
        col("finished_at", "TIMESTAMP", "When the run was recorded, after its pipeline (UTC).", required=True),
        col("migration_key", "STRING", "Identifies the migration: the manifests and the output prefix.", required=True),
        col("output_prefix", "STRING", "Where objects, EDMS records and lineage went.", required=True),
        col("manifests", "STRING", "The manifests read, as URIs.", repeated=True),
        col("manifest_sha256", "STRING", "SHA-256 of each manifest at the start, same order.", repeated=True),
        col("options_json", "STRING", "The job's own options, as JSON (no secrets: the patient key is never here)."),
        col("code_version", "STRING", "edms-migrate version (and git commit when run from a checkout)."),
        col("manifest_documents", "INT64", "Manifest rows read.", required=True),
        col("migrated", "INT64", "Documents migrated.", required=True),
        col("duplicate", "INT64", "Documents found to duplicate another.", required=True),
        col("quarantined", "INT64", "Documents quarantined.", required=True),
        col("already_done", "INT64", "Documents skipped unread: migrated or duplicate already, reference unchanged."),
        col("deferred", "INT64", "Outstanding documents left for a later wave (--max_documents)."),
        col("source_gone", "INT64", "Documents already migrated whose legacy source can no longer be found."),
        col("pages", "INT64", "Pages stored for migrated documents.", required=True),
        col("bytes_in", "INT64", "Bytes read from the legacy store.", required=True),
        col("bytes_out", "INT64", "Bytes of page objects of migrated documents.", required=True),
        col("objects_written", "INT64", "Page objects newly written (0 on a re-run).", required=True),
        col(
            "balanced",
            "BOOL",
            "True when every source system's documents in equal its outcomes, already-done and deferred ones.",
            required=True,
        ),
        col(
            "lineage_files",
            "STRING",
            "'NAME SHA256' of each lineage file this row vouches for: the run's own tables and summary, and any "
            "left by a run that crashed before it was recorded (see governance: the run chain).",
            repeated=True,
        ),
        col("lineage_sha256", "STRING", "SHA-256 of the sorted lineage_files: the run's lineage, sealed."),
        col(
            "previous_run_sha256",
            "STRING",
            "SHA-256 of the previous run's row (canonical JSON); empty for the first. A removed or edited run breaks "
            "it.",
        ),
        col(
            "lease",
            "STRING",
            "The output's lease as this run held it, JSON: its epoch, the killed runs whose lineage it resumed, and "
            "the holder it took over from and how (a process gone, abandoned, or broken with --break_stale_lease).",
        ),
        col(
            "edms_files",
            "STRING",
            "'NAME SHA256' of each EDMS record file (FHIR NDJSON, EDMS summary) under the records prefix's fhir/ this "
            "row vouches for: the run's own, and any of a run that crashed before it was recorded.",
            repeated=True,
        ),
    ),
    cluster_columns=("migration_key",),
)

REVIEW_MISFILING = Table(
    name="review_misfiling",
    description=(
        "Documents whose content is identical under different patients: never merged, and a likely misfiling "
        "for information governance to look at. One row per document of such a group."
    ),
    columns=(
        col("run_id", "STRING", "The run that produced this row.", required=True),
        col("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        col("content_sha256", "STRING", "The content the documents share (documents.content_sha256).", required=True),
        col("patients", "INT64", "Different patient keys with this content.", required=True),
        col("documents", "INT64", "Documents with this content.", required=True),
        col("source_system", "STRING", "Legacy system of this document.", required=True),
        col("document_id", "STRING", "Id of this document within its source system.", required=True),
        col("status", "STRING", "migrated or duplicate (of the same patient's copy).", required=True),
        col("patient_key", "STRING", "This document's patient key.", required=True),
        col("document_type", "STRING", "Document type recorded by the legacy system, any run of 10 digits redacted."),
        col("document_date", "DATE", "Document date recorded by the legacy system."),
    ),
    cluster_columns=("content_sha256",),
)

REVIEW_NEAR_DUPLICATES = Table(
    name="review_near_duplicates",
    description=(
        "Pairs of one patient's migrated documents with pages that look alike but are not identical (a rescan, "
        "a re-saved page): candidates for a person to review, never merged automatically."
    ),
    columns=(
        col("run_id", "STRING", "The run that produced this row.", required=True),
        col("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        col("patient_key", "STRING", "The patient both documents belong to.", required=True),
        col("source_system_a", "STRING", "First document (the smaller source_system/document_id).", required=True),
        col("document_id_a", "STRING", "First document's id.", required=True),
        col("source_system_b", "STRING", "Second document's source system.", required=True),
        col("document_id_b", "STRING", "Second document's id.", required=True),
        col("page_count_a", "INT64", "Pages of the first document.", required=True),
        col("page_count_b", "INT64", "Pages of the second document.", required=True),
        col("similar_pages", "INT64", "Non-blank pages of the first with a near page in the second.", required=True),
        col("min_distance", "INT64", "Smallest pHash Hamming distance between their pages (0–256).", required=True),
    ),
    cluster_columns=("patient_key",),
)

ORPHANS = Table(
    name="orphans",
    description="Files under a --blob_root that no manifest row or index record of the run references.",
    columns=(
        col("run_id", "STRING", "The run that produced this row.", required=True),
        col("run_date", "DATE", "UTC date the run started: the BigQuery partitioning column."),
        col("blob_root", "STRING", "The --blob_root the file was found under.", required=True),
        col("uri", "STRING", "Absolute URI of the unreferenced file, identifiers pseudonymised.", required=True),
        col("size_bytes", "INT64", "Size of the file."),
    ),
    cluster_columns=("blob_root",),
)

EDMS = (REVIEW_UNCODED_TYPES, EDMS_RECORD_INDEX)  # schemas/edms_tables.py
TABLES = (DOCUMENTS, PAGES, RUNS, REVIEW_MISFILING, REVIEW_NEAR_DUPLICATES, *EDMS, ORPHANS)
TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
