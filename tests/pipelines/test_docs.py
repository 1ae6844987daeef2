"""The README is generated from, and kept in step with, the code it describes."""

from pathlib import Path

from pipelines.docs import reasons_markdown, rewrite, table_markdown
from schemas.tables import TABLES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_is_the_two_commands():
    assert "pip install -e '.[test]' && edms-migrate demo\npytest\n" in README


def test_every_table_and_reason_is_documented_as_the_code_defines_it():
    for table in TABLES:
        assert table_markdown(table) in README, f"{table.name} table is stale: python -m pipelines.docs --write"
    assert reasons_markdown() in README, "README's reason codes are stale: python -m pipelines.docs --write"
    assert rewrite(README) == README


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]'" in ci and "\npytest" in ci
