"""The Budget sheet: fiscal year to date (every line of the fiscal year, any first month),
lines not yet closed, and checks that cannot be computed.

All figures are from one hand-made cost center (``LINES``), worked out by hand below.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from rxxl import constants, ribbon
from rxxl.cli import main
from rxxl.data import load_table
from rxxl.errors import InputError
from rxxl.reports import checks as checks_sheet
from rxxl.reports import figures, monthly
from rxxl.reports.inputs import load_inputs
from rxxl.reports.lint import format_findings, lint_workbook
from rxxl.reports.monthly import build_report, package_name

MONTH = "2026-10"
CENTER = "7010 Pharmacy"
# One cost center, report month 2026-10. A blank actual is a line not yet closed.
#
#   line              type     2025-12  2026-01..06   2026-02  07       08      09       10
#   Drugs - A         expense  100/500  100/100 each           100/110  100/90  100/100  100/120
#   Supplies          expense                         30/30    50/40    50/60            (no row)
#   Pharmacy revenue  revenue                                                  1000/900 1000/open
#   Benefits          expense                                                           200/open
#   Drugs - B         expense                                                           300/open
#
# (budget/actual; Drugs - A's 2026-02 row is among its 100/100 months.)
_ROWS = (
    [("2025-12", "Drugs - A", "expense", 100, 500)]
    + [(f"2026-0{m}", "Drugs - A", "expense", 100, 100) for m in range(1, 7)]
    + [("2026-07", "Drugs - A", "expense", 100, 110), ("2026-08", "Drugs - A", "expense", 100, 90),
       ("2026-09", "Drugs - A", "expense", 100, 100), ("2026-10", "Drugs - A", "expense", 100, 120),
       ("2026-02", "Supplies", "expense", 30, 30), ("2026-07", "Supplies", "expense", 50, 40),
       ("2026-08", "Supplies", "expense", 50, 60),
       ("2026-09", "Pharmacy revenue", "revenue", 1000, 900),
       ("2026-10", "Pharmacy revenue", "revenue", 1000, None),
       ("2026-10", "Benefits", "expense", 200, None),
       ("2026-10", "Drugs - B", "expense", 300, None)]
)
LINES = pd.DataFrame(_ROWS, columns=["month", "line", "line_type", "budget", "actual"]).assign(
    cost_center=CENTER)

# Fiscal year to date of 2026-10 by first month of the fiscal year (budget, actual), each
# line's closed months only (a month without an actual adds neither):
#   July (Jul-Oct):    Drugs - A 400/420 (110+90+100+120), var +20 U
#                      Supplies 100/100 (Jul, Aug), var 0 F, no row in October
#                      Pharmacy revenue 1000/900 (Sep; Oct open), var -100 U
#                      Benefits, Drugs - B: nothing closed, blank
#   January (Jan-Oct): Drugs - A 1000/1020 (600 + 420; not December's 500), var +20 U
#                      Supplies 130/130 (Feb, Jul, Aug), var 0 F
#   October (Oct):     Drugs - A 100/120, var +20 U; Supplies not in the fiscal year
YTD = {
    7: {"Drugs - A": (400, 420, 20, "U"), "Supplies": (100, 100, 0, "F"),
        "Pharmacy revenue": (1000, 900, -100, "U"), "Benefits": (np.nan, np.nan, np.nan, None),
        "Drugs - B": (np.nan, np.nan, np.nan, None)},
    1: {"Drugs - A": (1000, 1020, 20, "U"), "Supplies": (130, 130, 0, "F"),
        "Pharmacy revenue": (1000, 900, -100, "U"), "Benefits": (np.nan, np.nan, np.nan, None),
        "Drugs - B": (np.nan, np.nan, np.nan, None)},
    10: {"Drugs - A": (100, 120, 20, "U"), "Pharmacy revenue": (np.nan, np.nan, np.nan, None),
         "Benefits": (np.nan, np.nan, np.nan, None), "Drugs - B": (np.nan, np.nan, np.nan, None)},
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A data folder with only the budget lines (every other table is a data note)."""
    path = tmp_path_factory.mktemp("budget-data")
    LINES.to_csv(path / "budget_lines.csv", index=False)
    return path


@pytest.fixture(scope="module")
def inputs(folder):
    return load_inputs(folder, MONTH)


@pytest.fixture(scope="module")
def package(folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("budget-report")
    build_report(folder, MONTH, out)
    return out / package_name(pd.Period(MONTH))


def _table(path: Path, name: str, data_only: bool = True) -> pd.DataFrame:
    book = load_workbook(path, data_only=data_only)
    for sheet in book.worksheets:
        if name in sheet.tables:
            rows = [[cell.value for cell in row] for row in sheet[sheet.tables[name].ref]]
            return pd.DataFrame(rows[1:], columns=rows[0])
    raise KeyError(name)


# --- Fiscal year ----------------------------------------------------------------------------


@pytest.mark.parametrize(("month", "start", "first"), [
    ("2026-10", 10, "2026-10"), ("2026-10", 1, "2026-01"), ("2026-10", 7, "2026-07"),
    ("2026-06", 7, "2025-07"), ("2026-07", 7, "2026-07"), ("2026-09", 10, "2025-10"),
    ("2026-12", 1, "2026-01"), ("2027-01", 1, "2027-01"),
])
def test_fiscal_year_months_start_at_the_first_month_given(month, start, first):
    months = figures.fiscal_year_months(pd.Period(month, "M"), start)
    assert [str(m) for m in months] == [str(m) for m in pd.period_range(first, month, freq="M")]


def test_default_fiscal_year_starts_in_july():
    assert constants.FISCAL_YEAR_START == 7
    assert str(figures.fiscal_year_months(pd.Period("2026-10", "M"))[0]) == "2026-07"


@pytest.mark.parametrize("start", [7, 1, 10])
def test_ytd_keeps_every_line_of_the_fiscal_year(inputs, start):
    lines, _ = figures.budget(inputs, fiscal_year_start=start)
    shown = lines.set_index("line")
    assert sorted(shown.index) == sorted(YTD[start])
    for line, (budget, actual, variance, fu) in YTD[start].items():
        row = shown.loc[line]
        got = (row["ytd_budget"], row["ytd_actual"], row["ytd_variance"])
        np.testing.assert_allclose(np.array(got, dtype=float), [budget, actual, variance],
                                   err_msg=line)
        assert row["ytd_fu"] == fu if fu else pd.isna(row["ytd_fu"]), line


def test_the_default_fiscal_year_is_july(inputs):
    default, _ = figures.budget(inputs)
    july, _ = figures.budget(inputs, fiscal_year_start=7)
    pd.testing.assert_frame_equal(default, july)


def test_line_without_a_row_this_month_shows_blank_month_and_says_so(inputs):
    lines, _ = figures.budget(inputs, fiscal_year_start=7)
    supplies = lines.set_index("line").loc["Supplies"]
    assert supplies["status"] == "No row this month"
    for key in ("budget", "actual", "variance", "variance_pct", "flexed_budget"):
        assert pd.isna(supplies[key]), key
    assert pd.isna(supplies["fu"]) and supplies["material"] == ""


@pytest.mark.parametrize(("given", "month"), [
    (10, 10), ("10", 10), ("10.0", 10), (10.0, 10), ("October", 10), ("oct", 10),
    (" January ", 1), ("1", 1), ("Jul", 7), (None, 7), ("", 7),
])
def test_fiscal_year_start_setting_is_a_month_number_or_name(given, month):
    assert figures.parse_fiscal_year_start(given) == month


@pytest.mark.parametrize("given", ["0", "13", "Octo", "2026-10", "10.5", -1, True, "10%",
                                   "nan"])
def test_a_bad_fiscal_year_start_says_how_to_write_it(given):
    with pytest.raises(InputError, match="first month of the fiscal year: 1 to 12 or a"
                                         " month name"):
        figures.parse_fiscal_year_start(given)


def test_cli_fiscal_year_start_moves_ytd_and_the_package_says_so(folder, tmp_path, capsys):
    assert main(["report", "--data", str(folder), "--month", MONTH, "--out", str(tmp_path),
                 "--fiscal-year-start", "October"]) == 0
    path = tmp_path / package_name(pd.Period(MONTH))
    shown = _table(path, "budget").set_index("Line")
    assert shown.loc["Drugs - A", "YTD budget ($)"] == 100
    assert shown.loc["Drugs - A", "YTD actual ($)"] == 120
    assert "Supplies" not in shown.index
    cover = _table(path, "cover").set_index("Item")["Value"]
    assert cover["Fiscal year to date"] == "FYTD from 2026-10 (fiscal year starts in October)"
    budget = load_workbook(path)["Budget"]
    _, header, _, _ = range_boundaries(budget.tables["budget"].ref)
    assert "FYTD from 2026-10" in budget.cell(header - 1, 1).value  # the caption
    capsys.readouterr()
    assert main(["report", "--data", str(folder), "--month", MONTH, "--out", str(tmp_path),
                 "--fiscal-year-start", "13"]) == 2
    assert "--fiscal-year-start" in capsys.readouterr().err


def test_package_names_the_default_fiscal_year(package):
    cover = _table(package, "cover").set_index("Item")["Value"]
    assert cover["Fiscal year to date"] == "FYTD from 2026-07 (fiscal year starts in July)"


def test_ribbon_reads_fiscal_year_start_from_the_environment(monkeypatch):
    monkeypatch.setenv("RXXL_FISCAL_YEAR_START", "January")

    class Book:  # no rxxl.conf sheet: the environment is next
        sheets: list = []

    assert ribbon._fiscal_year_start(Book()) == 1
    assert "FISCAL_YEAR_START" in ribbon.SETTINGS


# --- Lines not yet closed -------------------------------------------------------------------


def test_open_lines_are_not_closed_and_have_no_variance(inputs):
    lines, _ = figures.budget(inputs)
    shown = lines.set_index("line")
    assert shown["status"].to_dict() == {
        "Drugs - A": "Closed", "Supplies": "No row this month", "Pharmacy revenue": "Not closed",
        "Benefits": "Not closed", "Drugs - B": "Not closed"}
    for line in ("Pharmacy revenue", "Benefits", "Drugs - B"):
        assert pd.isna(shown.loc[line, "variance"]) and pd.isna(shown.loc[line, "fu"])


def test_subtotals_compare_closed_lines_and_show_the_open_budget(inputs):
    # Expense, October: closed Drugs - A 100/120 -> variance +20 U; not closed: Benefits 200
    # + Drugs - B 300 = 500. (Counting open lines as $0 would give 600/120, -480 "F".)
    # Revenue: nothing closed -> blank; not closed 1000.
    _, centers = figures.budget(inputs)
    centers = centers.set_index("line_type")
    expense, revenue = centers.loc["expense"], centers.loc["revenue"]
    assert (expense["budget"], expense["actual"], expense["variance"], expense["fu"],
            expense["open_budget"]) == (100, 120, 20, "U", 500)
    assert pd.isna(revenue["budget"]) and pd.isna(revenue["actual"])
    assert pd.isna(revenue["variance"]) and pd.isna(revenue["fu"])
    assert revenue["open_budget"] == 1000


def test_drug_spend_compares_the_closed_drug_lines(inputs):
    # October drug lines: Drugs - A 100/120 closed, Drugs - B 300 open -> 100 vs 120.
    spend = figures.spend_by_month(inputs).set_index("month")
    october = spend.loc[pd.Timestamp("2026-10-01")]
    assert (october["budget"], october["actual"]) == (100, 120)
    september = spend.loc[pd.Timestamp("2026-09-01")]
    assert (september["budget"], september["actual"]) == (100, 100)


def test_package_shows_open_lines_ties_its_checks_and_names_them(package):
    notes = _table(package, "data_notes")["Data notes"].tolist()
    assert ("3 budget lines not closed for 2026-10: 7010 Pharmacy / Benefits, 7010 Pharmacy /"
            " Drugs - B, 7010 Pharmacy / Pharmacy revenue; their budget ($1,500) is left out of"
            " the variances and the drug spend") in notes
    assert any(note.startswith("1 budget line has no row for 2026-10 but has one earlier in"
                               " the fiscal year: 7010 Pharmacy / Supplies") for note in notes)
    assert _table(package, "master_check")["Failures"].tolist() == [0]
    cover = _table(package, "cover").set_index("Item")["Value"]
    assert cover["Checks"] == "All checks pass"
    lines = _table(package, "budget").set_index("Line")
    assert lines.loc["Benefits", "Status"] == "Not closed"
    assert pd.isna(lines.loc["Benefits", "Variance ($)"])
    totals = _table(package, "budget_totals").set_index("Type")
    assert totals.loc["expense", "Budget, closed ($)"] == 100
    assert totals.loc["expense", "Actual ($)"] == 120
    assert totals.loc["expense", "F/U"] == "U"
    assert totals.loc["expense", "Budget, not closed ($)"] == 500
    kpis = _table(package, "kpis").set_index("Measure")
    spend = kpis.loc["Total drug spend (closed lines; 1 not closed)"]
    assert (spend["This month"], spend["Budget / target"], spend["F/U"]) == (120, 100, "U")
    assert lint_workbook(package) == [], format_findings(lint_workbook(package))


def _compare_with_libreoffice(path: Path, recalculated: Path) -> int:
    """Every formula's LibreOffice result equals rxxl's cached value; returns how many."""
    cached = load_workbook(path, data_only=True)
    engine = load_workbook(recalculated, data_only=True)
    compared = 0
    for sheet in load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    mine = cached[sheet.title][cell.coordinate].value
                    theirs = engine[sheet.title][cell.coordinate].value
                    where = f"{sheet.title}!{cell.coordinate}: {cell.value}"
                    if theirs in (None, ""):
                        assert mine in (None, ""), where
                    elif isinstance(mine, float):
                        assert theirs == pytest.approx(mine, rel=1e-9, abs=1e-6), where
                    else:
                        assert theirs == mine, where
                    compared += 1
    return compared


@pytest.mark.libreoffice
def test_libreoffice_agrees_on_the_open_lines_package(package, libreoffice_recalculate):
    recalculated = libreoffice_recalculate(package)
    assert _compare_with_libreoffice(package, recalculated) > 15
    assert lint_workbook(package, values=recalculated) == []


# --- Checks that cannot be computed ---------------------------------------------------------


@pytest.fixture(scope="module")
def overflow(folder, tmp_path_factory):
    """Two closed October drug lines of 9e307 each: their sum, 1.8e308, is beyond a double.
    Built past the loader (which refuses such amounts) as the report would get them."""
    inputs = load_inputs(folder, MONTH)
    lines = inputs.tables["budget_lines"]
    huge = (lines["month"] == "2026-10-01") & lines["line"].isin(["Drugs - A", "Drugs - B"])
    lines.loc[huge, ["budget", "actual"]] = 9e307
    out = tmp_path_factory.mktemp("overflow")
    patch = pytest.MonkeyPatch()
    patch.setattr(monthly, "load_inputs", lambda *args, **kwargs: inputs)
    try:
        summaries = build_report(folder, MONTH, out)
    finally:
        patch.undo()
    return out / package_name(pd.Period(MONTH)), summaries


def test_a_check_that_cannot_be_computed_fails(overflow):
    path, summaries = overflow
    assert "n/a" in summaries[0].line and "0 checks fail" not in summaries[0].line
    checks = _table(path, "checks")
    spend = checks[checks["Check"].str.contains("drug spend")].iloc[0]
    assert spend["Fails"] == 1 and spend["Result"] == "cannot be computed"
    passing = checks[checks["Result"] == "passes"]
    assert (passing["Fails"] == 0).all()
    failed = int(checks["Fails"].sum())
    assert failed >= 1
    assert _table(path, "master_check")["Failures"].tolist() == [failed]
    cover = _table(path, "cover").set_index("Item")["Value"]
    assert cover["Checks"] != "All checks pass" and cover["Checks"].startswith(str(failed))
    formulas = _table(path, "checks", data_only=False)
    assert formulas["Fails"].str.contains("ISNUMBER(", regex=False).all()


@pytest.mark.libreoffice
def test_libreoffice_agrees_a_check_that_cannot_be_computed_fails(overflow,
                                                                   libreoffice_recalculate):
    path, _ = overflow
    recalculated = libreoffice_recalculate(path)
    engine = _table(recalculated, "checks")
    mine = _table(path, "checks")
    assert engine["Fails"].tolist() == mine["Fails"].tolist()
    assert engine["Result"].tolist() == mine["Result"].tolist()
    for theirs, ours in zip(engine["Difference"], mine["Difference"], strict=True):
        assert theirs == (ours if isinstance(ours, str) else pytest.approx(ours, abs=1e-6))
    assert _table(recalculated, "master_check")["Failures"].tolist() == \
        _table(path, "master_check")["Failures"].tolist()
    assert _table(recalculated, "cover").set_index("Item").loc["Checks", "Value"] == \
        _table(path, "cover").set_index("Item").loc["Checks", "Value"]


def test_a_figure_that_is_not_a_number_cannot_be_computed():
    rows = [{"figure_a": monthly.Formula("A1", np.inf), "figure_b": monthly.Formula("B1", 1.0)},
            {"figure_a": monthly.Formula("A1", 2.0), "figure_b": np.nan},
            {"figure_a": monthly.Formula("A1", 2.0), "figure_b": monthly.Formula("B1", 2.0)},
            {"figure_a": monthly.Formula("A1", 2.0), "figure_b": monthly.Formula("B1", 3.0)}]
    checks_sheet._evaluate(rows)
    assert [row["result"] for row in rows] == ["cannot be computed", "cannot be computed",
                                               "passes", "fails"]
    assert [row["fails"] for row in rows] == [1, 1, 0, 1]


def test_hand_data_loads_as_the_contract_reads_it():
    frame = load_table(pd.read_csv(io.StringIO(LINES.to_csv(index=False))), "budget_lines")
    assert frame["actual"].isna().sum() == 3


# --- The live model -------------------------------------------------------------------------


def test_budget_sheet_formulas_follow_an_analysts_edits(package, tmp_path, libreoffice_recalculate):
    """Close Drugs - B at 330 and lower the materiality amount to $25, recalculate with
    LibreOffice: the line, its subtotal and the totals follow, by hand:
    Drugs - B 330 - 300 = +30, 30 / 300 = 10%, U, material (30 >= 25 and 10% >= 5%);
    Drugs - A +20 stays not material (20 < 25); the cost center's closed expense lines
    100 + 300 = 400 budget, 120 + 330 = 450 actual, +50 U; open expense budget 200
    (Benefits); no drug line is left open."""
    book = load_workbook(package)
    budget = book["Budget"]
    first_col, header, last_col, last = range_boundaries(budget.tables["budget"].ref)
    heads = {budget.cell(header, c).value: c for c in range(first_col, last_col + 1)}
    rows = {budget.cell(r, heads["Line"]).value: r for r in range(header + 1, last + 1)}
    before = _table(package, "budget").set_index("Line")
    assert before.loc["Drugs - A", "Variance ($)"] == 20
    assert before.loc["Drugs - A", "F/U"] == "U" and _blank(before.loc["Drugs - A", "Material"])
    assert _blank(before.loc["Drugs - B", "Variance ($)"])
    budget.cell(rows["Drugs - B"], heads["Actual ($)"]).value = 330
    budget.cell(rows["Drugs - B"], heads["Status"]).value = figures.CLOSED
    _, materiality, _, _ = range_boundaries(budget.tables["materiality"].ref)
    budget.cell(materiality + 1, 1).value = 25
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    after = libreoffice_recalculate(edited)
    lines = _table(after, "budget").set_index("Line")
    assert lines.loc["Drugs - B", "Variance ($)"] == 30
    assert lines.loc["Drugs - B", "Variance (%)"] == pytest.approx(0.10)
    assert lines.loc["Drugs - B", "F/U"] == "U" and lines.loc["Drugs - B", "Material"] == "Yes"
    assert _blank(lines.loc["Drugs - A", "Material"])
    centers = _table(after, "budget_by_cost_center").set_index("Type")
    expense = centers.loc["expense"]
    assert (expense["Budget, closed ($)"], expense["Actual ($)"], expense["Variance ($)"],
            expense["F/U"], expense["Budget, not closed ($)"]) == (400, 450, 50, "U", 200)
    totals = _table(after, "budget_totals").set_index("Type")
    assert totals.loc["expense", "Variance ($)"] == 50
    cover = _table(after, "cover").set_index("Item")["Value"]
    assert cover["Drug lines not closed"] == 0


def _blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and np.isnan(value))
