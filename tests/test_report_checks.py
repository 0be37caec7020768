"""The Checks sheet ties the package together: every summary KPI tile to its detail sheet, the
inventory roll-forward, the denial counts and the 340B totals; tampering a figure fails them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from rxxl.data.synthetic import generate
from rxxl.reports import checks as checks_sheet
from rxxl.reports.lint import format_findings, lint_workbook
from rxxl.reports.monthly import build_report, package_name
from rxxl.reports.workbook import Filled

MONTH = "2026-10"


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("checks")
    generate(folder / "data", size="small")
    build_report(folder / "data", MONTH, folder / "out")
    return folder / "out" / package_name(pd.Period(MONTH))


def _table(book, name: str) -> pd.DataFrame:
    for sheet in book.worksheets:
        if name in sheet.tables:
            values = [[cell.value for cell in row] for row in sheet[sheet.tables[name].ref]]
            return pd.DataFrame(values[1:], columns=values[0])
    raise KeyError(name)


def _cell(book, name: str, column: str, row: int):
    """The cell of data row ``row`` (0-based, -1 the last) under header ``column``."""
    for sheet in book.worksheets:
        if name in sheet.tables:
            rows = list(sheet[sheet.tables[name].ref])
            header = [cell.value for cell in rows[0]]
            data = rows[1:-1] if sheet.tables[name].totalsRowCount else rows[1:]
            return data[row][header.index(column)]
    raise KeyError(name)


#: A part of the name of each check the demo month must have.
EXPECTED = [
    "drug spend tile equals the 24-month table", "drug cost per APD times",
    "GDR tile", "turns tile", "days on hand tile", "denial rate tile times the month",
    "HFMA denial rate tile", "340B savings tile", "340B exceptions tile",
    "all locations' beginning + purchases - COGS - expired equals ending",
    "month's claims submitted", "month's claims denied",
    "listed in the claim detail", "exceptions by reason add up to the month's exceptions",
]


def test_demo_month_has_every_new_check_and_all_pass(package):
    book = load_workbook(package, data_only=True)
    checks = _table(book, "checks")
    for part in EXPECTED:
        assert checks["Check"].str.contains(part, regex=False).sum() >= 1, part
    # One roll-forward per location with a count the month before (all six in the demo).
    locations = _table(book, "inventory")["Location"].dropna().iloc[:-1]  # less "Total"
    rolled = checks["Check"].str.match(r"Inventory: \S+ beginning")
    assert rolled.sum() == len(locations) == 6
    assert (checks["Fails"] == 0).all(), checks.loc[checks["Fails"] != 0, "Check"].tolist()
    cover = _table(book, "cover").set_index("Item")["Value"]
    assert cover["Checks"] == "All checks pass"
    # The count the claim detail lists: its exceptions (violation or review).
    assert cover["340B exceptions in the claim detail"] == _table(
        book, "exceptions_by_month")["Exceptions"].iloc[-1]
    # The counts the checks divide by are settings, not numbers inside formulas.
    settings = _table(book, "check_settings").set_index("Setting")["Value"]
    assert (settings["Days in a year"], settings["Days in the month"]) == (365, 31)
    assert lint_workbook(package) == [], format_findings(lint_workbook(package))


def test_every_kpi_tile_has_a_check(package):
    # The dollar denial rate too, now that the Denials grid shows the dollars submitted.
    book = load_workbook(package, data_only=True)
    tiles = _table(book, "kpis")["Measure"].dropna().tolist()
    unchecked = [t for t in tiles if not any(
        t == kind or (not kind.startswith("Initial denial") and t.startswith(kind))
        for kind in checks_sheet.KPI_CHECKED)]
    assert unchecked == []


def test_roll_forward_of_a_hand_computed_location():
    # MAIN: beginning 1,000, bought 500, expired 20, ending 1,100. COGS = 500 - (1,100 -
    # 1,000) - 20 = 380, so 1,000 + 500 - 380 - 20 = 1,100 = ending. CLINIC has no count the
    # month before (no beginning): no roll-forward for it, and none for the total.
    stock = pd.DataFrame({"location": ["MAIN", "CLINIC"], "beginning": [1_000.0, None],
                          "purchases": [500.0, 50.0], "cogs": [380.0, None],
                          "expired": [20.0, 0.0], "ending": [1_100.0, 40.0]})
    cells = Filled("Inventory", 5, 2, {key: i + 1 for i, key in enumerate(
        ["location", "beginning", "ending", "average", "purchases", "expired", "cogs"])},
        totals_row=7)
    rows: list[dict] = []
    checks_sheet._inventory_checks(checks_sheet._adder(rows), stock, cells)
    assert [row["check"] for row in rows] == [
        "Inventory: MAIN beginning + purchases - COGS - expired equals ending"]
    row = rows[0]
    assert row["figure_a"].text == "'Inventory'!$B$5+'Inventory'!$E$5-'Inventory'!$G$5-" \
                                   "'Inventory'!$F$5"
    assert (row["figure_a"].value, row["figure_b"].value) == (1_100.0, 1_100.0)


@pytest.mark.libreoffice
def test_tampered_figures_fail_their_checks_after_libreoffice_recalculation(
        package, tmp_path, libreoffice_recalculate):
    book = load_workbook(package)
    # Each tampered cell: a constant that differs from rxxl's figure by more than $0.01.
    tampered = {
        ("kpis", "This month", 2): 0.5,                      # GDR tile
        ("inventory", "Ending ($)", 0): 1.0,                 # first location's ending
        ("exceptions_by_month", "Exceptions", -1): 999,      # the month's exceptions
        ("kpis", "This month", 8): 1.0,                      # 340B savings tile
    }
    for (table, column, row), value in tampered.items():
        _cell(book, table, column, row).value = value
    # One payer's claims submitted in the month.
    trend = _table(load_workbook(package, data_only=True), "denial_trend")
    first = int(trend.index[trend["Month"] == MONTH][0])
    _cell(book, "denial_trend", "Submitted", first).value = 10**6
    path = tmp_path / "tampered.xlsx"
    book.save(path)
    recalculated = load_workbook(libreoffice_recalculate(path), data_only=True)
    checks = _table(recalculated, "checks")
    failing = checks.loc[checks["Fails"] == 1, "Check"].tolist()
    for part in ["GDR tile", "beginning + purchases - COGS - expired equals ending",
                 "all locations' beginning", "turns tile", "days on hand tile",
                 "340B exceptions tile", "listed in the claim detail",
                 "exceptions by reason add up to the month's exceptions", "340B savings tile",
                 "month's claims submitted", "denial rate tile times the month"]:
        assert any(part in name for name in failing), (part, failing)
    # Untouched figures still tie.
    passing = checks.loc[checks["Fails"] == 0, "Check"].tolist()
    assert any("drug spend tile" in name for name in passing)
    assert any("month's claims denied" in name for name in passing)
    # The HFMA rate's denominator is the three months before, which were not touched.
    assert any("HFMA denial rate" in name for name in passing)
    master = _table(recalculated, "master_check")
    assert master.iloc[0, 1] == len(failing)


def test_denial_tiles_compare_in_claims_with_hand_counts():
    # October: payer A 100 submitted, 8 denied; payer B 50 submitted, 4 denied. Claim rate
    # 12 / 150 = 0.08, so 0.08 x 150 = 12 claims denied. July-September submitted 120, 150
    # and 180 (average 150): HFMA rate 12 / 150 = 0.08, 0.08 x 150 = 12. Dollars: A $10,000
    # submitted, $900 denied; B $5,000 and $300: 1,200 / 15,000 = 0.08, 0.08 x 15,000 = 1,200.
    frame = pd.DataFrame({"payer": ["A", "B", "A", "A", "A"],
                          "month": ["2026-10", "2026-10", "2026-09", "2026-08", "2026-07"],
                          "submitted": [100, 50, 180, 150, 120], "denied": [8, 4, 9, 7, 6],
                          "submitted_dollars": [1e4, 5e3, 0, 0, 0],
                          "denied_dollars": [900.0, 300.0, 0, 0, 0]})
    trend = Filled("Denials", 5, 5, {"payer": 1, "month": 2, "submitted": 3, "denied": 4})
    grid = Filled("Denials", 5, 2, {"payer": 1, "submitted_dollars": 18, "denied_dollars": 19},
                  totals_row=7)
    tiles = {"Initial denial rate": ("'Summary'!$C$19", 0.08),
             "Initial denial rate, dollars": ("'Summary'!$C$20", 0.08),
             "Initial denial rate, HFMA": ("'Summary'!$C$21", 0.08)}
    rows: list[dict] = []
    checks_sheet._denial_tiles(checks_sheet._adder(rows), tiles.get,
                          {"denial_trend": trend, "denial_grid": grid}, frame,
                          pd.Period(MONTH))
    assert len(rows) == 3
    for row in rows[:2]:
        assert row["figure_a"].value == pytest.approx(12.0)
        assert row["figure_b"].value == 12.0
    assert rows[0]["figure_b"].text == (
        "SUMPRODUCT(('Denials'!$B$5:$B$9=\"2026-10\")*'Denials'!$D$5:$D$9)")
    dollars = rows[2]
    assert dollars["figure_a"].value == pytest.approx(1_200.0)
    assert dollars["figure_b"].value == pytest.approx(1_200.0)
    assert dollars["figure_a"].text == "'Summary'!$C$20*'Denials'!$R$7"
    assert dollars["figure_b"].text == "IF(ISNUMBER('Denials'!$S$7),'Denials'!$S$7,NA())"
