"""The workbook lint: a workbook that follows DOMAIN.md §7 lints clean, and each rule catches the
break it is for, at the right sheet and cell."""

from __future__ import annotations

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table

from rxxl.errors import InputError
from rxxl.reports import style
from rxxl.reports.lint import RULES, Finding, effective_scale, format_findings, lint_workbook

MONTHS = ["Jan", "Feb", "Mar", "Apr"]
# style.py has no constant for the total role yet.
TOTAL_STYLE = "rx_total"


def _sheet(workbook: Workbook, title: str, headers: list[str], *, first: bool = False):
    """A sheet with the house title, a header row 3, freeze panes and print setup."""
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    sheet["A1"] = title
    sheet["A1"].style = style.TITLE_STYLE
    for column, header in enumerate(headers, start=1):
        sheet.cell(row=3, column=column, value=header).style = style.HEADER_STYLE
    sheet.freeze_panes = "B4"
    sheet.page_setup.orientation = style.ORIENTATION
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddFooter.left.text = "&8Three Rivers Health · March 2026"
    sheet.oddFooter.right.text = "&8Page &P of &N · Generated 2026-04-05 09:30"
    sheet.print_title_rows = "3:3"
    return sheet


def _put(sheet, ref: str, value, role: str = style.CALC_STYLE, number_format=style.DOLLARS):
    sheet[ref] = value
    sheet[ref].style = role
    sheet[ref].number_format = number_format


def _spend_chart(spend, rows=(4, 5)) -> LineChart:
    """Budget and actual by month, by the rules: straight lines, the $ axis from zero."""
    chart = LineChart()
    chart.title = "Spend by month"
    chart.add_data(Reference(spend, min_col=2, max_col=5, min_row=rows[0], max_row=rows[-1]),
                   from_rows=True)
    for series in chart.series:
        series.smooth = False
    chart.y_axis.scaling.min = 0
    return chart


def clean_workbook() -> Workbook:
    """Inputs, a time series (one formula per row), a table (one formula per column, with
    subtotals) and a Checks sheet, all by the rules."""
    workbook = Workbook()
    for named in style.named_styles():
        workbook.add_named_style(named)

    inputs = _sheet(workbook, "Inputs", ["Input", "Value"], first=True)
    inputs["A4"], inputs["A5"] = "Materiality ($)", "Tolerance ($)"
    _put(inputs, "B4", 5000, style.INPUT_STYLE)
    _put(inputs, "B5", 0.005, style.INPUT_STYLE, style.DOLLARS_CENTS)
    workbook.defined_names["Tolerance"] = DefinedName("Tolerance", attr_text="Inputs!$B$5")

    # Months across the columns: each row holds one formula, the last column totals it.
    spend = _sheet(workbook, "Spend", ["Line", *MONTHS, "Total $"])
    for row, label in zip(range(4, 8), ["Budget $", "Actual $", "Variance $", "Variance %"],
                          strict=True):
        spend.cell(row=row, column=1, value=label)
    for column in "BCDE":
        _put(spend, f"{column}4", 1000, style.INPUT_STYLE)
        _put(spend, f"{column}5", 1100, style.INPUT_STYLE)
        _put(spend, f"{column}6", f"={column}5-{column}4")
        _put(spend, f"{column}7", f"=IFERROR({column}6/{column}4,0)", number_format=style.PERCENT)
    for row in (4, 5, 6):
        _put(spend, f"F{row}", f"=SUM(B{row}:E{row})", TOTAL_STYLE)
    _put(spend, "F7", "=IFERROR(F6/F4,0)", TOTAL_STYLE, style.PERCENT)
    spend.add_chart(_spend_chart(spend), "A10")

    # A table: one formula per column down the rows, a subtotal row, a grand total.
    table = _sheet(workbook, "Variance", ["Cost center", "Budget $", "Actual $", "Variance $",
                                          "Variance %", "F/U"])
    for row, (label, budget, actual) in zip(range(4, 7), [("Inpatient", 100, 90),
                                                         ("Outpatient", 80, 95),
                                                         ("Infusion", 60, 60)], strict=True):
        table[f"A{row}"] = label
        _put(table, f"B{row}", budget, style.INPUT_STYLE)
        _put(table, f"C{row}", actual, style.INPUT_STYLE)
    table["A7"] = "Total"
    for row in range(4, 8):
        _put(table, f"D{row}", f"=C{row}-B{row}")
        _put(table, f"E{row}", f"=IFERROR(D{row}/B{row},0)", number_format=style.PERCENT)
        _put(table, f"F{row}", f'=IF(D{row}>0,"U","F")', number_format=style.TEXT)
    for column in "BC":
        _put(table, f"{column}7", f"=SUBTOTAL(9,{column}4:{column}6)", TOTAL_STYLE)
    # An Excel table over the rows, its headers each fitting its column on one line.
    excel_table = Table(displayName="Variances", ref="A3:F6")
    table.add_table(excel_table)
    table.column_dimensions["A"].width = 16
    for column in "BCDEF":
        table.column_dimensions[column].width = 12

    checks = _sheet(workbook, "Checks", ["Check", "Difference $", "Fails"])
    checks["A4"], checks["A5"] = "Spend total = sum of months", "Variance total = sum of rows"
    _put(checks, "B4", "=Spend!F6-SUM(Spend!B6:E6)", number_format=style.DOLLARS_CENTS)
    _put(checks, "B5", "=Variance!D7-SUM(Variance!D4:D6)", number_format=style.DOLLARS_CENTS)
    for row in (4, 5):
        _put(checks, f"C{row}", f"=IF(ABS(B{row})>Tolerance,1,0)", style.CHECK_STYLE,
             style.COUNT)
    checks["A7"] = "Master check (failures)"
    _put(checks, "C7", "=SUM(C4:C5)", style.CHECK_STYLE, style.COUNT)
    workbook.defined_names["MasterCheck"] = DefinedName("MasterCheck", attr_text="Checks!$C$7")
    return workbook


def _values_workbook(workbook: Workbook, tmp_path, master=0):
    """The workbook as openpyxl reads it with ``data_only=True``, with the cached values a
    spreadsheet engine would have written for the cells the tests look at."""
    path = tmp_path / "values.xlsx"
    workbook.save(path)
    values = openpyxl.load_workbook(path, data_only=True)
    values["Checks"]["C7"] = master
    return values


def _only(findings: list[Finding]) -> tuple[str, str, str]:
    assert len(findings) == 1, format_findings(findings)
    return findings[0].rule, findings[0].sheet, findings[0].cell


# --- The clean workbook -----------------------------------------------------------------------

def test_clean_workbook_lints_clean():
    findings = lint_workbook(clean_workbook())
    assert findings == [], format_findings(findings)


def test_clean_workbook_lints_clean_from_a_path_with_values(tmp_path):
    workbook = clean_workbook()
    path = tmp_path / "clean.xlsx"
    workbook.save(path)
    findings = lint_workbook(str(path), values=_values_workbook(workbook, tmp_path))
    assert findings == [], format_findings(findings)


@pytest.mark.libreoffice
def test_clean_workbook_recalculated_by_libreoffice_lints_clean(tmp_path,
                                                                libreoffice_recalculate):
    path = tmp_path / "clean.xlsx"
    clean_workbook().save(path)
    findings = lint_workbook(path, values=libreoffice_recalculate(path))
    assert findings == [], format_findings(findings)


# --- One break per rule -----------------------------------------------------------------------

def _formula_in_input(wb):
    wb["Inputs"]["B4"] = "=B5"


def _constant_in_formula(wb):
    wb["Checks"]["B4"] = "=Spend!F6-SUM(Spend!B6:E6)*12"


def _formula_breaks_row(wb):
    wb["Spend"]["D6"] = "=D5-C4"


def _constant_pasted_over_row(wb):
    wb["Spend"]["D6"] = 100


def _formula_breaks_column(wb):
    wb["Variance"]["E5"] = "=IFERROR(D5/C5,0)"


def _lone_subtotal_break(wb):
    wb["Variance"]["D6"] = "=SUM(D4:D5)"


def _merged(wb):
    wb["Spend"].merge_cells("A1:F1")


def _hidden_sheet(wb):
    wb["Inputs"].sheet_state = "hidden"


def _hidden_rows(wb):
    for row in (5, 6):
        wb["Variance"].row_dimensions[row].hidden = True


def _hidden_column(wb):
    wb["Spend"].column_dimensions["C"].hidden = True


def _general_number(wb):
    wb["Spend"]["B4"].number_format = "General"


def _general_formula(wb):
    wb["Checks"]["B5"].number_format = "General"


def _no_freeze(wb):
    wb["Spend"].freeze_panes = None


def _portrait(wb):
    wb["Variance"].page_setup.orientation = "portrait"


def _set_scale_too_small(wb):
    wb["Variance"].sheet_properties.pageSetUpPr.fitToPage = False
    wb["Variance"].page_setup.scale = 50


def _too_wide_for_one_page(wb):
    # Six columns 40 wide: (7 × 40 + 5) px × 0.75 = 213.75 pt each, 1,282.5 pt in all; one
    # Letter landscape page (720 pt between half-inch margins) prints them at 56%.
    for column in "ABCDEF":
        wb["Variance"].column_dimensions[column].width = 40


def _print_time_footer(wb):
    wb["Checks"].oddFooter.left.text = "&8rxxl &D &T"
    wb["Checks"].oddFooter.right.text = "&8Page &P of &N"


def _no_print_titles(wb):
    wb["Variance"]._print_rows = None  # openpyxl's setter ignores None


def _short_header_row(wb):
    # "Budget $" in a column 6 wide wraps to two lines; the row is the default 15 pt.
    wb["Variance"].column_dimensions["B"].width = 6


def _chart_over_table(wb):
    # openpyxl's default chart is 15 × 7.5 cm = 567 × 283.5 px. From C5: C to F are 12 wide,
    # 7 × 12 + 5 = 89 px each (356 px), and the default columns G on 64 px, so the chart ends
    # in J (356 + 4 × 64 = 612 ≥ 567); rows are 20 px, so it ends in row 5 + 14 = 19.
    chart = BarChart()
    chart.add_data(Reference(wb["Variance"], min_col=2, min_row=3, max_row=6),
                   titles_from_data=True)
    chart.y_axis.scaling.min = 0  # only the placement is wrong
    wb["Variance"].add_chart(chart, "C5")


def _spline(wb):
    wb["Spend"]._charts[0].series[1].smooth = True


def _smooth_not_said(wb):
    # openpyxl's default: no c:smooth element, which LibreOffice draws as a spline.
    wb["Spend"]._charts[0].series[0].smooth = None


def _amount_axis_from_the_data(wb):
    wb["Spend"]._charts[0].y_axis.scaling.min = None


def _amount_axis_from_900(wb):
    wb["Spend"]._charts[0].y_axis.scaling.min = 900


def _no_footer(wb):
    for part in (wb["Checks"].oddFooter.left, wb["Checks"].oddFooter.right):
        part.text = None


def _no_master_name(wb):
    del wb.defined_names["MasterCheck"]


def _master_is_a_range(wb):
    wb.defined_names["MasterCheck"] = DefinedName("MasterCheck", attr_text="Checks!$C$4:$C$5")


def _constant_name(wb):
    wb.defined_names["Rate"] = DefinedName("Rate", attr_text="0.05")


def _relative_sheet_name(wb):
    wb["Inputs"].defined_names["Materiality"] = DefinedName("Materiality",
                                                            attr_text="Inputs!B4")


def _name_on_missing_sheet(wb):
    wb.defined_names["Old"] = DefinedName("Old", attr_text="'Old data'!$A$1")


def _kpi_without_a_check(workbook: Workbook) -> None:
    """A KPI table of two tiles; a Checks row ties the first only."""
    summary = _sheet(workbook, "Summary", ["Measure", "This month"])
    summary.column_dimensions["A"].width = summary.column_dimensions["B"].width = 16
    for row, (measure, value) in zip((4, 5), (("Drug spend", 1100), ("GDR", 0.9)), strict=True):
        summary[f"A{row}"] = measure
        _put(summary, f"B{row}", value)
    summary.add_table(Table(displayName="kpis", ref="A3:B5"))
    checks = workbook["Checks"]
    checks["A6"] = "Spend tile = spend total"
    _put(checks, "B6", "=Summary!$B$4-Spend!C5", number_format=style.DOLLARS_CENTS)
    _put(checks, "C6", "=IF(ABS(B6)>Tolerance,1,0)", style.CHECK_STYLE, style.COUNT)
    _put(checks, "C7", "=SUM(C4:C6)", style.CHECK_STYLE, style.COUNT)


BREAKS = [
    (_kpi_without_a_check, ("kpi-checks", "Summary", "B5")),
    (_formula_in_input, ("input-style", "Inputs", "B4")),
    (_constant_in_formula, ("formula-constant", "Checks", "B4")),
    (_formula_breaks_row, ("row-formula", "Spend", "D6")),
    (_constant_pasted_over_row, ("row-formula", "Spend", "D6")),
    (_formula_breaks_column, ("row-formula", "Variance", "E5")),
    (_lone_subtotal_break, ("row-formula", "Variance", "D6")),
    (_merged, ("merged-cells", "Spend", "A1:F1")),
    (_hidden_sheet, ("hidden", "Inputs", "")),
    (_hidden_rows, ("hidden", "Variance", "5:6")),
    (_hidden_column, ("hidden", "Spend", "C:C")),
    (_general_number, ("number-format", "Spend", "B4")),
    (_general_formula, ("number-format", "Checks", "B5")),
    (_no_freeze, ("freeze-panes", "Spend", "")),
    (_portrait, ("print-setup", "Variance", "")),
    (_set_scale_too_small, ("print-setup", "Variance", "")),
    (_too_wide_for_one_page, ("print-setup", "Variance", "")),
    (_print_time_footer, ("print-setup", "Checks", "")),
    (_no_print_titles, ("print-setup", "Variance", "")),
    (_no_footer, ("print-setup", "Checks", "")),
    (_short_header_row, ("header-height", "Variance", "B3")),
    (_chart_over_table, ("chart-over-table", "Variance", "C5:J19")),
    (_spline, ("chart-spline", "Spend", "A10")),
    (_smooth_not_said, ("chart-spline", "Spend", "A10")),
    (_amount_axis_from_the_data, ("chart-axis-zero", "Spend", "A10")),
    (_amount_axis_from_900, ("chart-axis-zero", "Spend", "A10")),
    (_no_master_name, ("checks-sheet", "Checks", "")),
    (_master_is_a_range, ("checks-sheet", "Checks", "")),
    (_constant_name, ("defined-names", "", "")),
    (_relative_sheet_name, ("defined-names", "Inputs", "")),
    (_name_on_missing_sheet, ("defined-names", "", "")),
]


@pytest.mark.parametrize(("breaking", "expected"), BREAKS, ids=[b.__name__ for b, _ in BREAKS])
def test_each_break_gives_exactly_its_finding(breaking, expected):
    workbook = clean_workbook()
    breaking(workbook)
    assert _only(lint_workbook(workbook)) == expected


def test_every_rule_has_a_break_test():
    tested = {expected[0] for _, expected in BREAKS} | {"error-values"}
    assert tested == set(RULES)


def test_breaks_survive_a_save_and_reload(tmp_path):
    workbook = clean_workbook()
    for breaking in (_merged, _hidden_column, _hidden_rows, _relative_sheet_name,
                     _formula_breaks_row):
        breaking(workbook)
    # Saved as one <col> element spanning D:E, which continues the hidden column C.
    workbook["Spend"].column_dimensions.group("D", "E", hidden=True)
    path = tmp_path / "broken.xlsx"
    workbook.save(path)
    found = {(f.rule, f.sheet, f.cell) for f in lint_workbook(path)}
    assert found == {("merged-cells", "Spend", "A1:F1"), ("hidden", "Spend", "C:E"),
                     ("hidden", "Variance", "5:6"), ("defined-names", "Inputs", ""),
                     ("row-formula", "Spend", "D6")}


def test_chart_breaks_survive_a_save_and_reload(tmp_path):
    workbook = clean_workbook()
    _spline(workbook)
    _amount_axis_from_900(workbook)
    path = tmp_path / "charts.xlsx"
    workbook.save(path)
    found = {(f.rule, f.sheet, f.cell) for f in lint_workbook(path)}
    assert found == {("chart-spline", "Spend", "A10"), ("chart-axis-zero", "Spend", "A10")}


def test_a_rate_axis_may_start_where_the_data_starts():
    # Row 7 is Variance %, formatted as a percentage: a rate, not an amount.
    workbook = clean_workbook()
    rates = _spend_chart(workbook["Spend"], rows=(7,))
    rates.y_axis.scaling.min = None
    workbook["Spend"].add_chart(rates, "H10")
    assert lint_workbook(workbook) == []


def test_a_combined_chart_checks_each_plot():
    # A Pareto: bars of amounts on one axis, a straight line on a second; the bars' axis
    # starts where the data does.
    workbook = clean_workbook()
    spend = workbook["Spend"]
    bars = BarChart()
    bars.add_data(Reference(spend, min_col=2, max_col=5, min_row=4), from_rows=True)
    line = _spend_chart(spend, rows=(5,))
    line.y_axis.axId, line.y_axis.crosses = 200, "max"
    bars += line
    spend.add_chart(bars, "H10")
    assert _only(lint_workbook(workbook)) == ("chart-axis-zero", "Spend", "H10")


def test_missing_checks_sheet_is_a_workbook_finding():
    workbook = clean_workbook()
    del workbook.defined_names["MasterCheck"]
    workbook["Checks"].title = "Reconciliation"
    assert _only(lint_workbook(workbook)) == ("checks-sheet", "", "")


def test_messages_say_how_to_fix():
    workbook = clean_workbook()
    _formula_breaks_row(workbook)
    _constant_in_formula(workbook)
    by_rule = {f.rule: f.message for f in lint_workbook(workbook)}
    assert "should read =D5-D4" in by_rule["row-formula"]
    assert "12" in by_rule["formula-constant"] and "rx_input" in by_rule["formula-constant"]


# --- Values: master check and error values ----------------------------------------------------

def test_master_check_not_zero(tmp_path):
    workbook = clean_workbook()
    findings = lint_workbook(workbook, values=_values_workbook(workbook, tmp_path, master=2))
    assert _only(findings) == ("checks-sheet", "Checks", "C7")
    assert "is 2, not 0" in findings[0].message


@pytest.mark.parametrize("master", [1e-12, -1e-12, 0.0])
def test_master_check_within_tolerance_passes(tmp_path, master):
    workbook = clean_workbook()
    assert lint_workbook(workbook, values=_values_workbook(workbook, tmp_path, master)) == []


@pytest.mark.parametrize("master", [None, "#REF!", True, float("nan")])
def test_master_check_missing_or_not_a_number(tmp_path, master):
    workbook = clean_workbook()
    values = _values_workbook(workbook, tmp_path, master)
    found = {(f.rule, f.sheet, f.cell) for f in lint_workbook(workbook, values=values)}
    assert ("checks-sheet", "Checks", "C7") in found


def test_error_value_is_found(tmp_path):
    workbook = clean_workbook()
    values = _values_workbook(workbook, tmp_path)
    values["Variance"]["E5"] = "#DIV/0!"
    findings = lint_workbook(workbook, values=values)
    assert _only(findings) == ("error-values", "Variance", "E5")
    assert "#DIV/0!" in findings[0].message


def test_text_formula_may_be_general_when_values_show_text(tmp_path):
    workbook = clean_workbook()
    workbook["Variance"]["F5"].number_format = "General"
    assert _only(lint_workbook(workbook)) == ("number-format", "Variance", "F5")
    values = _values_workbook(workbook, tmp_path)
    values["Variance"]["F5"] = "U"
    assert lint_workbook(workbook, values=values) == []


# --- Heuristics that must not flag legitimate layouts ------------------------------------------

def test_subtotal_row_across_formula_columns_is_a_deliberate_break():
    workbook = clean_workbook()
    table = workbook["Variance"]
    # A subtotal row (not styled rx_total) through the formula columns D and E.
    table["D6"] = "=SUBTOTAL(9,D4:D5)"
    table["E6"] = "=SUBTOTAL(9,E4:E5)"
    assert lint_workbook(workbook) == []


def test_lone_total_styled_rx_total_is_a_deliberate_break():
    workbook = clean_workbook()
    _put(workbook["Variance"], "D6", "=SUM(D4:D5)", TOTAL_STYLE)
    assert lint_workbook(workbook) == []


def test_a_copied_neighbour_formula_is_not_excused_as_a_deliberate_break():
    workbook = clean_workbook()
    # E5 now holds D5's relative formula (C-B one column over): not a subtotal row.
    workbook["Variance"]["E5"] = "=D5-C5"
    assert _only(lint_workbook(workbook)) == ("row-formula", "Variance", "E5")


def test_absolute_and_whole_column_references_compare_in_r1c1_terms():
    workbook = clean_workbook()
    table = workbook["Variance"]
    for row in range(4, 8):
        table[f"D{row}"] = f"=(C{row}-B{row})*(Inputs!$B$4>0)+0*SUM(Inputs!B:B)"
    assert lint_workbook(workbook) == []
    table["D5"] = "=(C5-B5)*(Inputs!$B$5>0)+0*SUM(Inputs!B:B)"
    assert _only(lint_workbook(workbook)) == ("row-formula", "Variance", "D5")


def test_input_and_header_constants_between_formulas_are_not_breaks():
    workbook = clean_workbook()
    _put(workbook["Spend"], "D6", 100, style.INPUT_STYLE)
    assert lint_workbook(workbook) == []


# --- Formula constants ------------------------------------------------------------------------

@pytest.mark.parametrize("formula", [
    "=SUBTOTAL(109,Spend!B4:B5)",
    "=ROUND(Spend!B4,2)",
    "=MATCH(Spend!B4,Spend!B4:E4,-1)",
    "=_xlfn.XLOOKUP(Spend!B4,Spend!B4:E4,Spend!B5:E5,0,-1,2)",
    "=AGGREGATE(14,6,Spend!B4:E4,1)",
    '=IF(Spend!B4>0,"12 months",0)',
    "=IFERROR(Spend!B6/Spend!B4,0)*100%",
    "=-1*Spend!B4+TRUE",
    "=SUM(Spend!4:4)",
])
def test_allowed_numbers_in_formulas(formula):
    workbook = clean_workbook()
    workbook["Checks"]["B4"] = formula
    assert lint_workbook(workbook, skip={"row-formula"}) == []


@pytest.mark.parametrize(("formula", "constants"), [
    ("=Spend!B4/12", "12"),
    ("=Spend!B4*5%", "5%"),
    ("=ROUND(Spend!B4*1.5,2)", "1.5"),
    ("=INDEX(Spend!B4:E4,3)", "3"),
    ("=SUM({2,3})", "2, 3"),
    ("=DATE(2024,1,31)", "2024, 31"),
])
def test_numbers_that_are_constants(formula, constants):
    workbook = clean_workbook()
    workbook["Checks"]["B4"] = formula
    findings = lint_workbook(workbook)
    assert _only(findings) == ("formula-constant", "Checks", "B4")
    assert f"constant(s) {constants};" in findings[0].message


def test_allowed_numbers_option():
    workbook = clean_workbook()
    _constant_in_formula(workbook)
    assert lint_workbook(workbook, allowed_numbers=[12]) == []


def test_unparseable_formula_is_reported():
    workbook = clean_workbook()
    workbook["Checks"]["B4"] = '=IF(Spend!B4>0,"open'
    findings = lint_workbook(workbook)
    assert _only(findings) == ("formula-constant", "Checks", "B4")
    assert "cannot be parsed" in findings[0].message


# --- Options, chart sheets, order, formatting ---------------------------------------------------

def test_allowed_hidden_sheet():
    workbook = clean_workbook()
    _hidden_sheet(workbook)
    assert lint_workbook(workbook, allowed_hidden_sheets={"Inputs"}) == []


def test_skip_rules():
    workbook = Workbook()
    assert {f.rule for f in lint_workbook(workbook, skip=set(RULES) - {"freeze-panes"})} == {
        "freeze-panes"}
    assert lint_workbook(workbook, skip=RULES) == []


def test_chart_sheet_only_checked_for_hidden():
    workbook = clean_workbook()
    chart = workbook.create_chartsheet("Trend")
    assert lint_workbook(workbook) == []
    chart.sheet_state = "veryHidden"
    assert _only(lint_workbook(workbook)) == ("hidden", "Trend", "")


def test_findings_are_ordered_workbook_first_then_by_tab():
    workbook = clean_workbook()
    for breaking in (_no_footer, _constant_name, _no_freeze, _hidden_sheet):
        breaking(workbook)
    assert [f.sheet for f in lint_workbook(workbook)] == ["", "Inputs", "Spend", "Checks"]


def test_format_findings():
    findings = [Finding("hidden", "Spend", "C:C", "columns C:C are hidden"),
                Finding("defined-names", "", "", "name Rate refers to '0.05'")]
    assert format_findings(findings) == ("2 findings\n"
                                         "Spend!C:C: [hidden] columns C:C are hidden\n"
                                         "workbook: [defined-names] name Rate refers to '0.05'")


# --- Inputs -----------------------------------------------------------------------------------

def test_path_types(tmp_path):
    path = tmp_path / "clean.xlsx"
    clean_workbook().save(path)
    assert lint_workbook(path) == []
    assert lint_workbook(str(path)) == []


@pytest.mark.parametrize("junk", [42, None, b"PK", ["a.xlsx"]])
def test_junk_source_raises(junk):
    with pytest.raises(InputError, match="source must be a path"):
        lint_workbook(junk)


def test_unreadable_files_raise(tmp_path):
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook")
    for path in (text, tmp_path / "missing.xlsx", tmp_path / "notes.csv"):
        with pytest.raises(InputError, match="cannot open"):
            lint_workbook(path)


def test_read_only_workbook_raises(tmp_path):
    path = tmp_path / "clean.xlsx"
    clean_workbook().save(path)
    with pytest.raises(InputError, match="read-only"):
        lint_workbook(openpyxl.load_workbook(path, read_only=True))


def test_values_of_another_workbook_raise():
    with pytest.raises(InputError, match="values has sheets"):
        lint_workbook(clean_workbook(), values=Workbook())


def test_unknown_rule_in_skip_raises():
    with pytest.raises(InputError, match="unknown rule"):
        lint_workbook(clean_workbook(), skip={"no-such-rule"})


def test_cell_format_past_the_named_styles_counts_as_unstyled():
    workbook = clean_workbook()
    # LibreOffice writes such files; openpyxl raises IndexError reading the cell's style.
    workbook["Inputs"]["B4"] = "=B5"
    workbook["Inputs"]["B4"]._style.xfId = 99
    assert lint_workbook(workbook) == []


def test_a_chart_beside_a_table_is_not_over_it():
    workbook = clean_workbook()
    chart = BarChart()
    workbook["Variance"].add_chart(chart, "H3")  # the table ends in column F
    assert lint_workbook(workbook) == []


@pytest.mark.parametrize(("widths", "pages", "scale"), [
    # Printable width: 11 in - 2 × 0.5 in = 10 in = 720 pt. A column w wide prints
    # (7w + 5) px × 0.75 pt/px.
    ([30] * 6, 1, 74.4),   # 6 × 161.25 = 967.5 pt; 720 / 967.5 = 74.4%
    ([40] * 6, 1, 56.1),   # 6 × 213.75 = 1,282.5 pt; 720 / 1,282.5 = 56.1%
    ([40] * 6, 2, 100.0),  # 1,440 / 1,282.5 > 1: fitting never enlarges
    ([40] * 12, 3, 84.2),  # 2,565 pt; 2,160 / 2,565 = 84.2%
])
def test_effective_scale_from_column_widths(widths, pages, scale):
    workbook = Workbook()
    sheet = workbook.active
    for column, width in enumerate(widths, start=1):
        sheet.cell(1, column, "x")
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = pages, 0
    assert effective_scale(sheet) == pytest.approx(scale, abs=0.05)


def test_effective_scale_of_a_set_scale_and_of_fit_to_one_page_tall():
    sheet = Workbook().active
    sheet.page_setup.scale = 45
    assert effective_scale(sheet) == 45
    # Fit to one page wide and tall: 200 rows of 15 pt = 3,000 pt on a page 8.5 in less
    # 0.6 + 0.75 in of margins = 514.8 pt tall: 17.2%.
    sheet["A200"] = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = sheet.page_setup.fitToHeight = 1
    assert effective_scale(sheet) == pytest.approx(17.16, abs=0.01)
