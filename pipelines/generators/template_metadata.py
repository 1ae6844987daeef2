"""The Flex Template's parameters written out from JOB_OPTIONS (templates/metadata.json); read back at launch by
pipelines/launch/template_argv.py.

python -m pipelines.generators.template_metadata            # print metadata.json
python -m pipelines.generators.template_metadata --write    # rewrite templates/metadata.json

Each job option is one template parameter, typed and checked by a regex as Dataflow's TemplateMetadata allows, so
the template form refuses what the launcher would refuse. A Flex Template passes each parameter once, as
--name=value: a repeatable option takes a comma-separated list there, which template_argv() turns back into
repeated flags. Beam's own options (sdk_container_image, service account, KMS key, …) are not parameters: Dataflow
takes them as launch options (`gcloud dataflow flex-template run --dataflow-kms-key …`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pipelines.launch.job_option import JobOption
from pipelines.launch.options import JOB_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
METADATA = ROOT / "templates" / "metadata.json"
NAME = "edms-migrate"
DESCRIPTION = (
    "Migrate a legacy scanned patient-record archive into Cloud Storage: every document migrated, found duplicate "
    "or quarantined with its bytes and a reason, with lineage tables in Parquet (and BigQuery)."
)
_INTEGER = r"^[0-9]+$"
_NUMBER = r"^[0-9]+(\.[0-9]+)?$"
_GCS = r"^gs://[^\n\r,]+$"
_GCS_LIST = r"^gs://[^\n\r,]+(,gs://[^\n\r,]+)*$"


def _label(option: JobOption) -> str:
    return option.name.replace("_", " ").capitalize().replace("Bigquery", "BigQuery").replace("Nhs", "NHS")


def parameter(option: JobOption) -> dict[str, Any]:
    """One option as a Dataflow ParameterMetadata (JSON names, as gcloud reads metadata.json)."""
    help_text = option.help + (" In a template: comma-separated for several." if option.repeatable else "")
    entry: dict[str, Any] = {
        "name": option.name,
        "label": _label(option),
        "helpText": help_text,
        "isOptional": not option.required,
        "paramType": option.param_type,
    }
    if option.switch:
        entry.update(paramType="BOOLEAN", regexes=["^(true|false)$"])
    elif option.choices:
        entry.update(
            paramType="ENUM",
            regexes=[f"^({'|'.join(option.choices)})$"],
            enumOptions=[{"value": choice, "label": choice} for choice in option.choices],
        )
    elif option.type in (int, float):
        entry.update(paramType="NUMBER", regexes=[_INTEGER if option.type is int else _NUMBER])
    elif option.param_type.startswith("GCS_"):
        entry["regexes"] = [_GCS_LIST if option.repeatable else _GCS]
    if option.default is not None and option.default is not False:
        entry["defaultValue"] = str(option.default).lower() if option.switch else str(option.default)
    return entry


def template_metadata() -> dict[str, Any]:
    return {
        "name": NAME,
        "description": DESCRIPTION,
        "streaming": False,
        "parameters": [parameter(option) for option in JOB_OPTIONS],
    }


def metadata_json() -> str:
    return json.dumps(template_metadata(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        METADATA.write_text(metadata_json(), encoding="utf-8")
        print(f"wrote {METADATA.relative_to(ROOT)}")
    else:
        print(metadata_json(), end="")
