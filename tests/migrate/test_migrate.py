"""MigrateDocumentFn called directly, and MigrateDocuments in a real pipeline."""

import base64
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from PIL import Image

from schemas.records import DocumentRef, RecordedOutcome, Status
from tests.faulty_converters import BUG_MARKER, CRASH_MARKER, HANG_MARKER, misbehaving_convert
from tests.images import bilevel_page, encode, multipage_g4
from transforms.edms.codes import NHS_NUMBER_SYSTEM
from transforms.edms.config import FhirConfig, SourceSystem
from transforms.edms.provenance import SHA256_SYSTEM
from transforms.edms.record import EdmsSettings
from transforms.migrate.document_step import MigrateDocumentFn, MigrateDocuments, MigrationSettings, QuarantineCrashedFn
from transforms.privacy.key_source import PatientKeyRef
from transforms.privacy.patient_key import patient_key

VALID_NHS = "943 476 5919"
KEY = b"test-patient-key-0123456789"


@pytest.fixture
def dump(tmp_path):
    folder = tmp_path / "dump"
    folder.mkdir()
    g4 = multipage_g4(3)
    (folder / "letter.tif").write_bytes(g4)
    png = encode(bilevel_page(seed=4).convert("L"), "PNG", dpi=(300, 300))
    (folder / "volume.dat").write_bytes(b"HEADER" + png + b"TAIL")
    (folder / "empty.tif").write_bytes(b"")
    return folder, g4, png


def key_ref(tmp_path) -> PatientKeyRef:
    """The key in a file, as a local run has it: settings (and so the job graph) hold only where it is."""
    path = tmp_path / "patient.key"
    path.write_bytes(KEY + b"\n")
    return PatientKeyRef("file", str(path))


def settings(tmp_path, **overrides) -> MigrationSettings:
    values = {
        "isolation": "never",
        "today": dt.date(2026, 1, 1),
        "document_types": DOCUMENT_TYPES,
        "patient_key": key_ref(tmp_path),
        **overrides,
    }
    return MigrationSettings(str(tmp_path / "out"), "run-1", **values)


DOCUMENT_TYPES = {"*": frozenset({"Clinic Letter", "Referral"})}


def make_fn(tmp_path, **overrides) -> MigrateDocumentFn:
    fn = MigrateDocumentFn(settings(tmp_path, **overrides))
    fn.setup()
    return fn


def ref(folder, document_id: str, blob: str, **fields) -> DocumentRef:
    fields.setdefault("document_type", "Clinic Letter")
    return DocumentRef("PAS", document_id, str(folder / "manifest.csv"), 1, blob_uri=str(folder / blob), **fields)


def test_migrated_pages_read_back_pixel_identical(tmp_path, dump):
    folder, g4, _ = dump
    fn = make_fn(tmp_path)
    [outcome] = list(
        fn.process(
            ref(
                folder, "D1", "letter.tif", nhs_number=VALID_NHS, page_count=3, checksum_md5=hashlib.md5(g4).hexdigest()
            )
        )
    )
    row = outcome.document
    assert row["status"] == Status.MIGRATED and row["reasons"] == []
    assert row["page_count"] == 3 and row["source_sha256"] == hashlib.sha256(g4).hexdigest()
    assert outcome.dedupe_key[0] == row["patient_key"] == patient_key(KEY, "9434765919")
    source = Image.open(io.BytesIO(g4))
    for page in outcome.pages:
        source.seek(page["page_number"] - 1)
        stored = Image.open(page["object_uri"])
        assert stored.mode == source.mode and stored.tobytes() == source.tobytes()
        assert hashlib.sha256(Path(page["object_uri"]).read_bytes()).hexdigest() == page["object_sha256"]
        assert page["dpi"] == 200.0 and page["object_format"] == "TIFF/CCITT-G4"


def test_byte_range_inside_a_volume(tmp_path, dump):
    folder, _, png = dump
    [outcome] = list(make_fn(tmp_path).process(ref(folder, "V1", "volume.dat", offset=6, length=len(png))))
    assert outcome.document["status"] == Status.MIGRATED
    assert outcome.document["source_sha256"] == hashlib.sha256(png).hexdigest()
    assert outcome.dedupe_key is None  # no NHS number: never merged


@pytest.mark.parametrize(
    ("blob", "fields", "reason"),
    [
        ("nope.tif", {}, "BLOB_MISSING"),
        ("volume.dat", {"offset": 10, "length": 10**6}, "BYTE_RANGE_OUT_OF_BOUNDS"),
        ("empty.tif", {}, "EMPTY_BLOB"),
        ("letter.tif", {"nhs_number": "9434765918"}, "NHS_NUMBER_INVALID"),
        ("letter.tif", {"checksum_md5": "0" * 32}, "CHECKSUM_MISMATCH"),
        ("letter.tif", {"page_count": 2}, "PAGE_COUNT_MISMATCH"),
        ("letter.tif", {"document_date": "2019-02-30"}, "DATE_INVALID"),
        ("letter.tif", {"document_date": "2031-01-01"}, "DATE_INVALID"),
        ("volume.dat", {"offset": 0, "length": 6}, "UNSUPPORTED_FORMAT"),
        ("letter.tif", {"document_type": "Shopping List"}, "DOCUMENT_TYPE_UNKNOWN"),
    ],
)
def test_each_problem_quarantines_with_its_reason_and_bytes(tmp_path, dump, blob, fields, reason):
    folder = dump[0]
    [outcome] = list(make_fn(tmp_path).process(ref(folder, "Q1", blob, **fields)))
    row = outcome.document
    assert row["status"] == Status.QUARANTINED and row["reasons"] == [reason]
    assert outcome.pages == () and row["quarantine_uri"]
    if row["source_bytes"]:
        with open(folder / blob, "rb") as original:
            original.seek(fields.get("offset") or 0)
            expected = original.read(row["source_bytes"])
        assert Path(row["quarantine_uri"]).read_bytes() == expected
    assert "9434765918" not in Path(row["quarantine_uri"].rsplit(".", 1)[0] + ".json").read_text()


@pytest.mark.slow
def test_hangs_and_native_crashes_cost_one_document_each(tmp_path, dump):
    """Real child processes: one is killed by SIGSEGV, one hangs past the limit; the worker recovers each time."""
    folder, g4, _ = dump
    (folder / "crash.tif").write_bytes(g4 + CRASH_MARKER)
    (folder / "hang.tif").write_bytes(g4 + HANG_MARKER)
    fn = MigrateDocumentFn(settings(tmp_path, isolation="always", decode_timeout_seconds=5), misbehaving_convert)
    fn.setup()
    try:
        outcomes = {
            name: list(fn.process(ref(folder, name, blob)))[0].document
            for name, blob in (
                ("before", "letter.tif"),
                ("crash", "crash.tif"),
                ("after-crash", "letter.tif"),
                ("hang", "hang.tif"),
                ("after-hang", "letter.tif"),
            )
        }
    finally:
        fn.teardown()
    assert {name: (row["status"], tuple(row["reasons"])) for name, row in outcomes.items()} == {
        "before": ("migrated", ()),
        "crash": ("quarantined", ("DECODER_CRASH",)),
        "after-crash": ("migrated", ()),
        "hang": ("quarantined", ("DECODE_TIMEOUT",)),
        "after-hang": ("migrated", ()),
    }
    assert Path(outcomes["crash"]["quarantine_uri"]).read_bytes() == g4 + CRASH_MARKER


def test_an_unexpected_exception_costs_one_document_not_the_job(tmp_path, dump):
    folder = dump[0]
    (folder / "bug.png").write_bytes(dump[2] + BUG_MARKER)
    refs = [ref(folder, "G4", "letter.tif"), ref(folder, "BUG", "bug.png")]
    with TestPipeline(argv=["--runner=FnApiRunner"]) as pipeline:
        outcomes = (
            pipeline
            | beam.Create(refs)
            | beam.ParDo(MigrateDocumentFn(settings(tmp_path), misbehaving_convert)).with_exception_handling(
                main_tag="outcomes", dead_letter_tag="crashed"
            )
        )
        recovered = outcomes.crashed | beam.ParDo(
            QuarantineCrashedFn(str(tmp_path / "out"), "run-1", key_ref(tmp_path))
        )
        assert_that(
            (outcomes.outcomes, recovered)
            | beam.Flatten()
            | beam.Map(lambda o: (o.label, o.document["status"], tuple(o.document["reasons"]))),
            equal_to([("PAS/G4", "migrated", ()), ("PAS/BUG", "quarantined", ("INTERNAL_ERROR",))]),
        )
    assert (tmp_path / "out" / "quarantine" / "run-1" / "PAS" / "BUG.bin").read_bytes() == dump[2] + BUG_MARKER


def test_migrate_documents_isolated_in_a_real_pipeline(tmp_path, dump):
    folder = dump[0]
    refs = [ref(folder, "G4", "letter.tif", page_count=3), ref(folder, "EMPTY", "empty.tif")]
    with TestPipeline(argv=["--runner=FnApiRunner"]) as pipeline:
        outcomes = pipeline | beam.Create(refs) | MigrateDocuments(settings(tmp_path, isolation="always"))
        assert_that(
            outcomes | beam.Map(lambda o: (o.label, o.status, o.page_count)),
            equal_to([("PAS/G4", "migrated", 3), ("PAS/EMPTY", "quarantined", None)]),
        )


def test_the_risky_policy_isolates_rare_formats_and_exotic_tiffs_only():
    from tests.images import bilevel_page, encode
    from transforms.decoders.risk import looks_risky

    page = bilevel_page()
    assert not looks_risky(multipage_g4(2))
    assert not looks_risky(encode(page.convert("L"), "JPEG"))
    assert not looks_risky(encode(page.convert("L"), "TIFF", compression="tiff_lzw"))
    assert looks_risky(encode(page, "GIF")) and looks_risky(encode(page.convert("RGB"), "BMP"))
    assert looks_risky(encode(page.convert("RGB"), "JPEG2000"))
    thunderscan = bytearray(multipage_g4(1))
    compression_at = thunderscan.find(b"\x03\x01\x03\x00\x01\x00\x00\x00")  # tag 259, SHORT, count 1
    assert compression_at > 0
    thunderscan[compression_at + 8 : compression_at + 10] = (32809).to_bytes(2, "little")
    assert looks_risky(bytes(thunderscan))
    assert looks_risky(b"no signature at all")


def test_the_edms_record_names_the_patient_and_lists_pages_in_order_deterministically(tmp_path, dump):
    """Built and validated where the objects' bytes are: each attachment's SHA-1 and size are its object's."""
    folder, g4, _ = dump
    document = ref(folder, "D/1", "letter.tif", nhs_number=VALID_NHS, document_type="Referral", page_count=3)
    edms = EdmsSettings(issued=dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC), agent="test")
    [outcome] = list(make_fn(tmp_path, edms=edms).process(document))
    record = outcome.edms
    assert record.failures == () and "9434765919" not in repr(record)
    resource = record.resource()
    assert resource["subject"]["identifier"] == {"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}
    assert resource["identifier"][0]["value"] == "D/1" and "D/1" not in resource["id"]
    assert resource["type"] == {"text": "Referral"} and resource["securityLabel"][0]["coding"][0]["code"] == "N"
    attachments = [content["attachment"] for content in resource["content"]]
    assert [a["title"] for a in attachments] == [f"Referral, page {n} of 3" for n in (1, 2, 3)]
    for attachment, page in zip(attachments, sorted(outcome.pages, key=lambda p: p["page_number"]), strict=True):
        stored = Path(page["object_uri"]).read_bytes()
        assert attachment["url"] == Path(page["object_uri"]).as_uri() and attachment["size"] == len(stored)
        assert attachment["hash"] == base64.b64encode(hashlib.sha1(stored).digest()).decode()
    [provenance] = [json.loads(record.provenance)]
    assert provenance["target"] == [{"reference": f"DocumentReference/{resource['id']}"}]
    assert {"system": SHA256_SYSTEM, "value": hashlib.sha256(g4).hexdigest()} in [
        entity["what"]["identifier"] for entity in provenance["entity"]
    ]
    assert resource["meta"]["lastUpdated"] == resource["date"] == "2026-12-01T09:30:00.000Z"
    [again] = list(make_fn(tmp_path, edms=edms).process(document))
    assert again.edms.document_reference == record.document_reference  # the same run settings: the same bytes


def test_quarantined_documents_get_no_edms_record(tmp_path, dump):
    folder, _, _ = dump
    [outcome] = list(make_fn(tmp_path).process(ref(folder, "E1", "empty.tif", nhs_number=VALID_NHS)))
    assert outcome.document["status"] == Status.QUARANTINED and outcome.edms is None
    assert RecordedOutcome.of(outcome).edms is None


def test_the_per_document_step_writes_no_edms_file(tmp_path, dump):
    """Records are written once, after de-duplication (transforms/edms/write.py): a quarantine here, in a run that
    may yet fail a check, changes no earlier record; only the launcher retires one, after the run passed."""
    folder, g4, _ = dump
    document = ref(folder, "D1", "letter.tif", nhs_number=VALID_NHS)
    [first] = list(make_fn(tmp_path).process(document))
    assert first.document["status"] == Status.MIGRATED and RecordedOutcome.of(first).edms == first.edms
    assert not (tmp_path / "out" / "fhir").exists() and not (tmp_path / "out" / "documents").exists()


def test_a_resource_failing_a_rule_is_kept_out_and_names_the_rule(tmp_path, dump):
    """A config that bypassed its checks (a wrong ODS code): the record carries the failure, no resource."""
    folder, _, _ = dump
    config = FhirConfig(sources={"PAS": SourceSystem("https://trust.example.nhs.uk/Id/pas", custodian_ods="rrk!")})
    fn = make_fn(tmp_path, edms=EdmsSettings(config=config))
    [outcome] = list(fn.process(ref(folder, "D1", "letter.tif", nhs_number=VALID_NHS)))
    assert outcome.document["status"] == Status.MIGRATED
    assert outcome.edms.document_reference is None and outcome.edms.provenance is None
    assert [failure.split(":")[0] for failure in outcome.edms.failures] == ["ODS_CODE_SHAPE"]


def page_files_ref(folder, *names: str) -> DocumentRef:
    from schemas.records import PageBlob

    blobs = tuple(PageBlob(str(folder / name), manifest_row=n) for n, name in enumerate(names, start=1))
    return DocumentRef(
        "RAD",
        "R1",
        str(folder / "pages.csv"),
        1,
        blob_uri=blobs[0].blob_uri,
        page_blobs=blobs,
        document_type="Referral",
    )


def test_page_files_are_decoded_in_order_into_one_document(tmp_path):
    for seed in range(3):
        (tmp_path / f"p{seed}.tif").write_bytes(encode(bilevel_page(seed=seed), "TIFF", compression="group4"))
    [outcome] = list(make_fn(tmp_path).process(page_files_ref(tmp_path, "p2.tif", "p0.tif", "p1.tif")))
    row = outcome.document
    assert (row["status"], row["page_count"], row["page_files"]) == (Status.MIGRATED, 3, 3)
    for page, seed in zip(outcome.pages, (2, 0, 1), strict=True):
        assert Image.open(page["object_uri"]).tobytes() == bilevel_page(seed=seed).tobytes()


def test_a_page_file_with_several_pages_quarantines_the_document(tmp_path):
    (tmp_path / "one.tif").write_bytes(encode(bilevel_page(), "TIFF", compression="group4"))
    (tmp_path / "three.tif").write_bytes(multipage_g4(3))
    [outcome] = list(make_fn(tmp_path).process(page_files_ref(tmp_path, "one.tif", "three.tif")))
    assert outcome.document["reasons"] == ["PAGE_SEQUENCE_INVALID"]
    assert "page file 2 holds 3 pages" in outcome.document["reason_messages"][0]
    record = json.loads(Path(outcome.document["quarantine_uri"]).read_text())
    assert [page["blob_uri"] for page in record["page_files"]] == [
        str(tmp_path / "one.tif"),
        str(tmp_path / "three.tif"),
    ]
    base = outcome.document["quarantine_uri"].removesuffix(".json")
    for number, name in enumerate(("one.tif", "three.tif"), start=1):  # every page file's bytes are kept
        assert Path(f"{base}.page-{number}.bin").read_bytes() == (tmp_path / name).read_bytes()
