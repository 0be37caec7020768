"""docs/data-contracts.md is generated from rxxl.data.contracts and must not drift."""

from __future__ import annotations

from pathlib import Path

from rxxl.data import contracts

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-contracts.md"


def test_data_contracts_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == contracts.contracts_markdown(), (
        "docs/data-contracts.md is out of date with src/rxxl/data/contracts.py; regenerate it"
        " with `python -m rxxl.data.contracts > docs/data-contracts.md`"
    )


def test_every_table_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for name in contracts.TABLES:
        assert f"### `{name}`" in text
