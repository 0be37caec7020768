"""Saving formulas with cached values: scalar and array formulas, read back by openpyxl, pandas
and LibreOffice."""

from __future__ import annotations

import datetime as dt
import math
import zipfile

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from rxxl.reports.workbook import Filler, Formula, save

SHEET = "Array demo"
# Quantity and units per pack for three drugs; the second pack size is missing (0).
INPUTS = [(3, 1), (1, 0), (4, 2)]
# Every formula the workbook holds: where it goes and what rxxl computed for it. A Formula with
# a ref is an array formula whose value has one row of values per row of the block.
FORMULAS = {
    "D1": Formula("SUM(A1:A3)", 8),
    "D2": Formula('IF(A1>2,"big","small")', "big"),
    "D3": Formula("A2/B2", "#DIV/0!"),
    "F1": Formula("A1:A3/B1:B3", [[3.0], ["#DIV/0!"], [2.0]], ref="F1:F3"),
    "G1": Formula('IF(A1:A3>2,"big","small")', [["big"], ["small"], ["big"]], ref="G1:G3"),
    "H1": Formula("A1:A3>2", [[True], [False], [True]], ref="H1:H3"),
    "I1": Formula("A1:B3*2", [[6, 2], [2, 0], [8, 4]], ref="I1:J3"),
}


def _expected() -> dict[str, object]:
    """The cached value of every formula cell and every cell of an array block."""
    values = {}
    for coordinate, formula in FORMULAS.items():
        if formula.ref is None:
            values[coordinate] = formula.value
            continue
        first_col, first_row, _, _ = range_boundaries(formula.ref)
        for i, line in enumerate(formula.value):
            for j, value in enumerate(line):
                values[f"{get_column_letter(first_col + j)}{first_row + i}"] = value
    return values


def _filler() -> Filler:
    book = Workbook()
    book.active.title = SHEET
    for row, line in enumerate(INPUTS, start=1):
        for column, value in enumerate(line, start=1):
            book.active.cell(row, column, value)
    return Filler(book)


@pytest.fixture()
def saved(tmp_path):
    filler = _filler()
    for coordinate, formula in FORMULAS.items():
        filler.write(SHEET, coordinate, formula)
    return save(filler, tmp_path / "formulas.xlsx")


def _same(got, expected) -> bool:
    if isinstance(expected, bool) or not isinstance(expected, int | float):
        return got == expected and type(got) is type(expected)
    return isinstance(got, int | float) and not isinstance(got, bool) and got == expected


def test_formulas_are_written_intact(saved):
    sheet = load_workbook(saved)[SHEET]
    for coordinate, formula in FORMULAS.items():
        written = sheet[coordinate].value
        if formula.ref is None:
            assert written == "=" + formula.text, coordinate
        else:
            assert isinstance(written, ArrayFormula), coordinate
            assert (written.ref, written.text) == (formula.ref, "=" + formula.text)
    assert sheet.array_formulae == {c: f.ref for c, f in FORMULAS.items() if f.ref}


def test_every_cell_of_a_block_has_its_cached_value(saved):
    sheet = load_workbook(saved, data_only=True)[SHEET]
    for coordinate, expected in _expected().items():
        cell = sheet[coordinate]
        assert _same(cell.value, expected), (coordinate, cell.value, expected)
        if expected == "#DIV/0!":
            assert cell.data_type == "e", coordinate  # an error value, not text


def test_the_block_cells_hold_values_only_as_excel_writes_them(saved):
    with zipfile.ZipFile(saved) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="F1"><f t="array" ref="F1:F3">A1:A3/B1:B3</f><v>3.0</v></c>' in xml
    assert '<c r="F2" t="e"><v>#DIV/0!</v></c>' in xml
    assert '<c r="G2" t="str"><v>small</v></c>' in xml
    assert '<c r="H2" t="b"><v>0</v></c>' in xml
    assert '<c r="J3"><v>4</v></c>' in xml


def test_pandas_reads_the_cached_values(saved):
    frame = pd.read_excel(saved, sheet_name=SHEET, header=None)
    expected = _expected()
    for coordinate, value in expected.items():
        column, row, _, _ = range_boundaries(coordinate)
        got = frame.iat[row - 1, column - 1]
        if value == "#DIV/0!":
            assert pd.isna(got), coordinate  # pandas reads an error value as missing
        else:
            assert got == value, (coordinate, got, value)


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_same_values(saved, libreoffice_recalculate):
    sheet = load_workbook(libreoffice_recalculate(saved), data_only=True)[SHEET]
    for coordinate, expected in _expected().items():
        got = sheet[coordinate].value
        if isinstance(expected, bool):
            # LibreOffice has no boolean type: it writes TRUE and FALSE as 1 and 0.
            assert got in (0, 1) and bool(got) is expected, (coordinate, got)
        elif isinstance(expected, int | float):
            assert math.isclose(got, expected), (coordinate, got, expected)
        else:
            assert got == expected, (coordinate, got, expected)


@pytest.mark.parametrize(("ref", "value", "message"), [
    ("C2:C4", [[1], [2], [3]], r"'Array demo'!B2: its block C2:C4 must start at B2"),
    ("A1:B3", [[1, 2], [3, 4], [5, 6]], r"'Array demo'!B2: its block A1:B3 must start at B2"),
    ("B2:C3", [[1, 2]], r"'Array demo'!B2: its value must be 2 rows of 2 values"),
    ("B2:C3", 1, r"'Array demo'!B2: its value must be 2 rows of 2 values"),
])
def test_a_malformed_array_formula_is_refused_naming_its_cell(ref, value, message):
    filler = _filler()
    with pytest.raises(ValueError, match=message):
        filler.write(SHEET, "B2", Formula("A1:A3*2", value, ref=ref))


def test_a_formula_cell_written_again_with_data_keeps_the_data(tmp_path):
    filler = _filler()
    filler.write(SHEET, "D1", Formula("SUM(A1:A3)", 8))
    filler.write(SHEET, "D1", 7)
    sheet = load_workbook(save(filler, tmp_path / "rewritten.xlsx"), data_only=True)[SHEET]
    assert sheet["D1"].value == 7


def test_a_stamped_save_is_byte_identical(tmp_path):
    stamp = dt.datetime(2026, 11, 1)
    paths = []
    for name in ("first.xlsx", "second.xlsx"):
        filler = _filler()
        filler.book.properties.created = stamp
        filler.write(SHEET, "F1", FORMULAS["F1"])
        paths.append(save(filler, tmp_path / name, stamp=stamp))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert load_workbook(paths[0]).properties.modified == stamp
    with zipfile.ZipFile(paths[0]) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 11, 1, 0, 0, 0)}


# --- Excel tables with a totals row ------------------------------------------------------------


def _totals_template(path, function: str | None = None):
    from rxxl.reports.workbook import Column, TableSpec, lay_out_sheet, register_styles

    book = Workbook()
    register_styles(book)
    lay_out_sheet(book.active, "Spend", "By drug", (TableSpec(
        "spend", "A4", (Column("Drug", "drug"), Column("Spend ($)", "spend", "#,##0"),
                        Column("Units [#]", "units", "#,##0")), totals=("spend", "units")),))
    if function:  # as a finance team would pick another function in Excel
        book.active.tables["spend"].tableColumns[1].totalsRowFunction = function
    book.save(path)
    return path


@pytest.mark.parametrize("rows", [5, 2, 0])
def test_totals_row_follows_the_data_and_caches_subtotals(tmp_path, rows):
    template = _totals_template(tmp_path / "t.xlsx")
    frame = pd.DataFrame({"drug": [f"D{i}" for i in range(rows)],
                          "spend": [100.5 * (i + 1) for i in range(rows)],
                          "units": [i + 1 for i in range(rows)]})
    filler = Filler(load_workbook(template))
    filler.fill("spend", pd.DataFrame({"drug": list("ABCDEFG"), "spend": range(7),
                                       "units": range(7)}), ["drug", "spend", "units"])
    filled = filler.fill("spend", frame, ["drug", "spend", "units"])  # the table shrinks
    path = save(filler, tmp_path / "out.xlsx")
    sheet = load_workbook(path)["Sheet"]
    table = sheet.tables["spend"]
    last = 4 + max(rows, 1) + 1
    assert table.ref == f"A4:C{last}" and table.autoFilter.ref == f"A4:C{last - 1}"
    assert filled.totals_row == last and filled.total("spend") == f"'Sheet'!$B${last}"
    assert sheet[f"A{last}"].value == "Total"
    assert sheet[f"B{last}"].value == "=SUBTOTAL(109,spend[Spend ($)])"
    assert sheet[f"C{last}"].value == "=SUBTOTAL(109,spend[Units '['#']])"
    assert sheet[f"B{last}"].style == "rx_total"
    assert all(sheet.cell(r, 1).value is None for r in range(last + 1, 13))  # no leftovers
    values = load_workbook(path, data_only=True)["Sheet"]
    assert values[f"B{last}"].value == pytest.approx(frame["spend"].sum())
    assert values[f"C{last}"].value == frame["units"].sum()


def test_a_totals_function_chosen_in_excel_is_kept(tmp_path):
    template = _totals_template(tmp_path / "t.xlsx", function="average")
    filler = Filler(load_workbook(template))
    filler.fill("spend", pd.DataFrame({"drug": ["A", "B", "C"], "spend": [1.0, 2.0, 6.0],
                                       "units": [1, 1, 1]}), ["drug", "spend", "units"])
    path = save(filler, tmp_path / "out.xlsx")
    assert load_workbook(path)["Sheet"]["B8"].value == "=SUBTOTAL(101,spend[Spend ($)])"
    assert load_workbook(path, data_only=True)["Sheet"]["B8"].value == pytest.approx(3.0)


@pytest.mark.libreoffice
def test_libreoffice_computes_the_totals_row_as_cached(tmp_path, libreoffice_recalculate):
    template = _totals_template(tmp_path / "t.xlsx")
    filler = Filler(load_workbook(template))
    frame = pd.DataFrame({"drug": ["A", "B", "C"], "spend": [10.25, 20.5, 30.0],
                          "units": [3, 4, 5]})
    filler.fill("spend", frame, ["drug", "spend", "units"])
    recalculated = load_workbook(libreoffice_recalculate(save(filler, tmp_path / "out.xlsx")),
                                 data_only=True)
    sheet = recalculated[recalculated.sheetnames[0]]
    assert sheet["B8"].value == pytest.approx(60.75) and sheet["C8"].value == 12


def test_a_chart_over_a_grown_table_moves_below_it(tmp_path):
    from openpyxl import Workbook, load_workbook
    from openpyxl.chart import BarChart
    from openpyxl.worksheet.table import Table

    from rxxl.reports import style
    from rxxl.reports.workbook import keep_charts_off_tables

    book = Workbook()
    sheet = book.active
    for row in range(4, 31):
        sheet.cell(row, 1, "x" if row > 4 else "Site")
    sheet.add_table(Table(displayName="sites", ref="A4:A30"))
    sheet.add_chart(BarChart(), "A10")  # placed beside the one-row template table
    path = tmp_path / "book.xlsx"
    book.save(path)
    loaded = load_workbook(path)  # as a report fills a loaded template
    keep_charts_off_tables(loaded)
    chart = loaded.active._charts[0]
    # The table ends in row 30; two empty rows (31, 32), the chart from row 33 (0-based 32).
    assert chart.anchor._from.row == 32
    assert style.chart_cells(loaded.active, chart)[1] == 33


def test_codes_stored_as_text_raise_no_excel_flag(tmp_path):
    """An NDC in a text cell is a code, not a number to fix: every sheet tells Excel to skip
    its "number stored as text" check (ignoredErrors, in its place before tableParts)."""
    filler = _filler()
    filler.book.create_sheet("Codes")["A1"] = "00006148230"
    path = save(filler, tmp_path / "codes.xlsx")
    with zipfile.ZipFile(path) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/sheet")]
        for name in sheets:
            xml = archive.read(name).decode()
            assert xml.count('numberStoredAsText="1"') == 1, name
            assert xml.index("<ignoredErrors") > xml.index("<sheetData")
    assert load_workbook(path)["Codes"]["A1"].value == "00006148230"
