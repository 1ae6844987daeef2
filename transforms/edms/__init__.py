"""The EDMS records: one FHIR R4 (UK Core) DocumentReference per current migrated document, with its Provenance."""
