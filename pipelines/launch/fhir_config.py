"""--fhir_config, read and checked whole at launch (and by reconcile): anything wrong is one line and exit 2."""

from __future__ import annotations

from pipelines.console.usage import UsageError
from transforms.edms.config import FhirConfig, FhirConfigError, load_fhir_config
from transforms.sources.paths import absolute


def fhir_config(uri: str | None) -> FhirConfig:
    try:
        return load_fhir_config(absolute(uri) if uri else None)
    except FhirConfigError as error:
        raise UsageError(f"--fhir_config {uri}: {error}") from error
