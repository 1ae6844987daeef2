"""The one identifier detector and its keyed pseudonyms: every spelling of a ten-digit run, a profile's local
formats, stable and joinable pseudonyms that never look like an identifier themselves."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.console.process import LOG_DIGIT_RUN, NoIdentifiersFilter
from schemas.reasons import Reason
from schemas.records import DocumentRef
from tests.privacy.test_redact import SEPARATORS, digit_runs
from transforms.privacy.pseudonyms import (
    PSEUDONYM,
    REMOVED,
    IdentifierPatternError,
    Pseudonyms,
    check_patterns,
    find_identifiers,
    reveal,
)
from transforms.privacy.redact import DIGIT_RUN
from transforms.sources.errors import ProfileError
from transforms.sources.profiles import parse_profile
from transforms.storage.blobs import said

KEY = b"k" * 32
LOCAL = (r"[A-Z]\d{7}", r"RRK\d{6}")
PROFILE = {
    "source_system": "PAS",
    "format": "csv",
    "manifest": "x.csv",
    "fields": {"document_id": "I", "blob_uri": "F"},
}


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("R04-2527601898", rf"R{PSEUDONYM.pattern}"),  # 04-2527601898: twelve digits in any punctuation
        ("DOC-2527601898", rf"DOC-{PSEUDONYM.pattern}"),
        ("555 979 7111", PSEUDONYM.pattern),
        ("SYS6761222028", rf"SYS{PSEUDONYM.pattern}"),
        ("/dump/img/6281948211/page.png", rf"/dump/img/{PSEUDONYM.pattern}/page\.png"),
        ("scans/RRK123456.tif", rf"scans/{PSEUDONYM.pattern}\.tif"),
        ("H1234567", PSEUDONYM.pattern),
        ("MRS1234567", rf"MR{PSEUDONYM.pattern}"),  # a hospital number inside an id is one too
        ("LTR-2004-00123", r"LTR-2004-00123"),  # nine digits: kept
        ("X12345678", "X12345678"),  # [A-Z]\d{7} is not cut out of a longer number
    ],
)
def test_identifiers_inside_values_become_pseudonyms_and_the_rest_stays(value, shape):
    assert re.fullmatch(shape, Pseudonyms(KEY, LOCAL).value(value))


def test_every_spelling_of_one_number_is_one_pseudonym_stable_per_key_and_none_without_it():
    pseudonyms = Pseudonyms(KEY)
    spellings = {pseudonyms.value(text) for text in ("5559797111", "555 979 7111", "555-979-7111", "555.979.7111")}
    assert len(spellings) == 1
    assert Pseudonyms(KEY).value("DOC-5559797111") == "DOC-" + spellings.pop()  # another process, the same key
    assert Pseudonyms(b"j" * 32).value("5559797111") != Pseudonyms(KEY).value("5559797111")
    assert Pseudonyms(None).value("DOC-5559797111") == f"DOC-{REMOVED}"


@given(
    digits=st.lists(st.sampled_from("0123456789"), min_size=10, max_size=14),
    gaps=st.lists(st.text(alphabet=SEPARATORS, max_size=3), min_size=14, max_size=14),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_no_ten_digit_run_survives_and_no_pseudonym_looks_like_one(digits, gaps, before, after):
    number = "".join(digit + gap for digit, gap in zip(digits, gaps, strict=False)).rstrip(SEPARATORS)
    pseudonymised = Pseudonyms(KEY).value(before + number + after)
    assert not digit_runs(pseudonymised)
    assert PSEUDONYM.search(pseudonymised)


def test_numbers_shaped_like_identifiers_are_null_and_messages_describe_them():
    pseudonyms = Pseudonyms(KEY)
    assert [pseudonyms.number(n) for n in (None, 0, 999_999_999, 4_852_538_883, -4_852_538_362)] == [
        None,
        0,
        999_999_999,
        None,
        None,
    ]
    assert said(4_852_538_883) == "a number of 10 digits" and said(-4_852_538_362) == "a negative number of 10 digits"
    assert said(4096) == "4096"


def test_a_ref_keeps_its_legacy_identity_for_the_restricted_side_and_a_shifted_source_is_quarantined():
    ref = DocumentRef("SYS6761222028", "R04-2527601898", "/m.csv", 2, blob_uri="/img/1860913903.png")
    changed = Pseudonyms(KEY).ref(ref)
    assert changed.legacy_key == ("SYS6761222028", "R04-2527601898")
    assert not find_identifiers(changed.label) and "2527601898" not in repr(changed)
    assert [finding.reason for finding in changed.findings] == [Reason.SOURCE_SYSTEM_IDENTIFIER]
    assert "6761222028" not in changed.findings[0].message
    plain = DocumentRef("PAS", "A1", "/m.csv", 2)
    assert Pseudonyms(KEY).ref(plain) is plain and plain.legacy_key == ("PAS", "A1")


def test_reveal_puts_back_only_what_the_restricted_map_holds():
    seen: dict[str, str] = {}
    pseudonyms = Pseudonyms(KEY, (), seen)
    text = f"{pseudonyms.value('PAS/R04-2527601898')} and {Pseudonyms(KEY).value('1111111111')}"
    assert reveal(text, seen).startswith("PAS/R04-2527601898 and pid_")
    assert pseudonyms.identifiers("DOC-2527601898") == {pseudonyms.value("2527601898"): "2527601898"}


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"local_identifiers": ["[A-Z"]}, "local_identifiers '[A-Z' is not a regular expression"),
        ({"local_identifiers": ["x*"]}, "matches the empty string"),
        ({"source_system": "SYS6761222028"}, "source_system (13 characters: letters and digits) looks like"),
        ({"source_system": "H1234567", "local_identifiers": ["[A-Z]\\d{7}"]}, "looks like a patient identifier"),
    ],
)
def test_a_bad_pattern_or_an_identifier_for_a_source_system_stops_the_launch(profile, message):
    with pytest.raises(ProfileError, match=re.escape(message)) as raised:
        parse_profile({**PROFILE, **profile}, "/p/pas.json")
    assert "6761222028" not in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(IdentifierPatternError):
        check_patterns(["("])


def test_the_cli_refuses_them_with_one_line_and_exit_code_2(tmp_path, capsys):
    from pipelines.cli import main

    (tmp_path / "x.csv").write_text("I,F\nA1,a.png\n")
    for name, extra in [("bad.json", {"local_identifiers": ["("]}), ("sys.json", {"source_system": "SYS6761222028"})]:
        (tmp_path / name).write_text(json.dumps({**PROFILE, **extra}))
        assert main(["run", "--source", str(tmp_path / name), "--output", str(tmp_path / "out")]) == 2
        error = capsys.readouterr().err
        assert len(error.strip().splitlines()) == 1 and "6761222028" not in error
    assert not (tmp_path / "out").exists()


def test_the_log_filter_is_the_same_detector_and_removes_identifiers_from_messages_and_tracebacks():
    import logging

    assert LOG_DIGIT_RUN.pattern == DIGIT_RUN.pattern
    try:
        raise ValueError("bad value 943 476 5919")
    except ValueError as error:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "doc %s failed", ("R04-2527601898",), None)
        record.exc_info = (type(error), error, error.__traceback__)
    assert NoIdentifiersFilter().filter(record)
    line = logging.Formatter().format(record)
    assert not digit_runs(line) and "doc R[identifier] failed" in line and "ValueError" in line


def test_status_and_reconcile_refuse_to_make_up_a_key(tmp_path, monkeypatch):
    """Over an output some run wrote, a new key would name every document differently: without the run's key they
    stop with one line (before any run, a key is made as a run would make it)."""
    import argparse

    from pipelines.console.usage import UsageError
    from pipelines.operate.inventory import operator_pseudonyms

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("EDMS_PATIENT_KEY", raising=False)
    args = argparse.Namespace(patient_key_file=None, patient_key_secret=None, show_identifiers=False)
    (tmp_path / "out" / "lineage").mkdir(parents=True)
    (tmp_path / "out" / "lineage" / "documents-k-r-j0.parquet").write_bytes(b"")  # an earlier run's lineage
    with pytest.raises(UsageError, match="no patient key"):
        operator_pseudonyms(args, (), str(tmp_path / "out"))
    assert not (tmp_path / "empty").exists()
    monkeypatch.setenv("EDMS_PATIENT_KEY", "x" * 32)
    shown = operator_pseudonyms(argparse.Namespace(**{**vars(args), "show_identifiers": True}), (), str(tmp_path))
    assert shown.seen == {} and shown.value("5559797111") == Pseudonyms(b"x" * 32).value("5559797111")


def test_the_access_log_is_keyed_as_the_refs_are(tmp_path, monkeypatch):
    """Selection joins the access log to refs whose ids the reading step pseudonymised: the log's raw ids must
    meet them (the pipeline's ReadAccessLogFn; status's DuckDB join is in test_identifiers_end_to_end)."""
    from transforms.privacy.key_source import PatientKeyRef
    from transforms.privacy.pseudonyms import PrivacySettings
    from transforms.selection.select import ReadAccessLogFn

    monkeypatch.setenv("EDMS_PATIENT_KEY_TEST", "y" * 32)
    log = tmp_path / "access.csv"
    log.write_text("source_system,document_id,access_count\nPAS,R04-2527601898,7\nPAS,A1,2\n")
    step = ReadAccessLogFn(PrivacySettings(PatientKeyRef("env", "EDMS_PATIENT_KEY_TEST"), LOCAL))
    step.setup()
    keys = {key: access.count for key, access in step.process(str(log))}
    ref = Pseudonyms(b"y" * 32, LOCAL).ref(DocumentRef("PAS", "R04-2527601898", "/m.csv", 1))
    assert keys == {ref.key: 7, ("PAS", "A1"): 2}
