"""edms-migrate: the package for pip install, and for Dataflow workers (--setup_file)."""

from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="edms-migrate",
    version="0.1.0",
    description="Migrate legacy scanned patient-record archives into cloud object storage, with lineage.",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(
        include=[
            "pipelines",
            "pipelines.*",
            "transforms",
            "transforms.*",
            "schemas",
            "schemas.*",
            "samples",
            "samples.*",
        ]
    ),
    include_package_data=True,
    package_data={"schemas": ["*.json", "profiles/*.json", "queries/*.sql", "bigquery/*.json"]},
    install_requires=[
        "apache-beam[gcp]==2.77.0",
        "pillow>=11.0",
        "pyarrow>=17.0",
        "duckdb>=1.1",
        "openlineage-python>=1.30",
        "imagehash>=4.3",
        "jsonschema>=4.18",
        "pikepdf>=9.0",  # PDF validation; its wheel bundles qpdf
        "google-cloud-secret-manager>=2.20",
        "google-cloud-dataflow-client>=0.8",
        "google-crc32c>=1.5",
        "tifffile>=2026.3.3",  # TIFF variants Pillow cannot read or would reduce (16-bit colour, float, CMYK 16, …)
        "imagecodecs>=2026.3.6",  # tifffile's codecs (LZW, Deflate, JPEG, CCITT, PackBits, …) in one wheel
        "numpy>=1.26",
        "fhirclient==4.4.0",  # FHIR R4 (4.0.1) models: every EDMS record is parsed strictly before it is written
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "hypothesis>=6.100",
            "gcp-storage-emulator>=2024.8.3",
            "bqemulator==1.4.0",
            "ruff>=0.6",
            "packaging>=24",
        ],
    },
    entry_points={"console_scripts": ["edms-migrate=pipelines.cli:entry"]},
)
