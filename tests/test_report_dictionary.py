"""The package's data dictionary: every column of the template, defined and sourced, in words
that follow the code's own constants."""

from __future__ import annotations

import ast
import inspect

import pandas as pd
import pytest

from rxxl.audit340b import DEFAULT_LOOKBACK_DAYS, REASONS
from rxxl.constants import (
    DENIAL_RATE_TARGET,
    GDR_BENCHMARK,
    MATERIALITY_AMOUNT,
    MATERIALITY_PERCENT,
    TURNS_TARGET_HIGH,
    TURNS_TARGET_LOW,
)
from rxxl.outputs import FORMULA_STARTS
from rxxl.reports import dictionary
from rxxl.reports.dictionary import BY_KEY, ENTRIES, dictionary_table
from rxxl.reports.inputs import AUDIT_MONTHS
from rxxl.reports.templates import SHEETS


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return dictionary_table()


def _template_columns() -> list[tuple[str, str]]:
    """Every table column of the template, each sheet's followed by the row labels of its
    blocks (the Capital sheet's requests)."""
    return [pair for sheet, (_, _, specs, _) in SHEETS.items() for pair in (
        *((sheet, column.header) for spec in specs for column in spec.columns),
        *((name, label) for name, label, _ in dictionary.BLOCK_ROWS if name == sheet))]


def _definition(table: pd.DataFrame, sheet: str, column: str) -> str:
    rows = table[(table["sheet"] == sheet) & (table["column"] == column)]
    assert len(rows) == 1, (sheet, column)
    return rows["definition"].iloc[0]


def test_every_column_of_the_template_once_in_its_order(table):
    assert list(table.columns) == ["sheet", "column", "definition", "source"]
    expected = list(dict.fromkeys(_template_columns()))
    assert list(zip(table["sheet"], table["column"], strict=True)) == expected


def test_every_definition_and_source_is_cell_text(table):
    for row in table.itertuples():
        where = f"{row.sheet} / {row.column}"
        assert row.definition.strip(), f"{where}: no definition"
        assert row.source.strip(), f"{where}: no source"
        for text in (row.definition, row.source):
            assert not text.startswith(FORMULA_STARTS), f"{where}: starts like a formula"
        assert row.definition.endswith("."), f"{where}: definition does not end with a period"


def test_every_entry_is_a_column_of_the_template():
    # A renamed table or column key leaves a stale entry behind: the text would no longer be
    # shown, and its column would fall back to nothing.
    columns = {(spec.name, column.key) for _, _, specs, _ in SHEETS.values()
               for spec in specs for column in spec.columns}
    assert set(ENTRIES) <= columns
    assert set(BY_KEY) <= {key for _, key in columns}


def test_meaning_follows_the_table():
    spend = ENTRIES[("spend_by_month", "actual")][0]
    assert ENTRIES[("kpis", "actual")][0].startswith("This month's value of the measure")
    assert "budget lines" in spend.lower() and spend != ENTRIES[("budget", "actual")][0]
    assert ENTRIES[("budget", "actual")][1] == "budget_lines: actual"


def test_a_shared_header_with_two_meanings_gives_both(table):
    status = _definition(table, "340B", "Status")
    assert "Exceptions by reason:" in status and "Tracer audit sample:" in status
    assert _definition(table, "Denials", "Center (%)").startswith("The p-chart's center line")


def test_materiality_quotes_the_thresholds(table):
    material = _definition(table, "Budget", "Material")
    assert f"${MATERIALITY_AMOUNT:,.0f}" in material
    assert f"{MATERIALITY_PERCENT:.0%}" in material


def test_targets_quote_the_benchmarks(table):
    target = _definition(table, "Summary", "Budget / target")
    assert f"{GDR_BENCHMARK:.0%}" in target
    assert f"{DENIAL_RATE_TARGET:.0%}" in target
    assert f"{(TURNS_TARGET_LOW + TURNS_TARGET_HIGH) / 2:g}" in target
    assert f"{TURNS_TARGET_LOW:g} to {TURNS_TARGET_HIGH:g}" in _definition(
        table, "Inventory", "In target band")


def test_audit_trend_and_reasons_follow_the_audit(table):
    assert f"{AUDIT_MONTHS} audited months" in _definition(table, "340B", "Month")
    assert f"last {AUDIT_MONTHS} months" in _definition(table, "Summary", "Prior year")
    reason = _definition(table, "340B", "Reason")
    assert all(code in reason for code in REASONS)
    assert f"{DEFAULT_LOOKBACK_DAYS} days" in reason


def test_dictionary_does_not_import_the_report():
    # monthly imports the dictionary; the other way round would be a cycle.
    tree = ast.parse(inspect.getsource(dictionary))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert not any(name and name.startswith("rxxl.reports.monthly") for name in imported)
