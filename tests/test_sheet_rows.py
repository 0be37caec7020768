"""Inserting rows under a growing table: everything below moves, with every reference to it.

The expectations are written out by hand: a table of 1 data row at rows 4-5 filled with 4
rows needs 3 more rows; with 2 empty rows kept below it, what started at row 8 is at row 11.
"""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.hyperlink import Hyperlink

from rxxl.errors import InputError
from rxxl.reports.sheet_rows import shift_formula, shift_reference
from rxxl.reports.workbook import (
    Column,
    Filler,
    Formula,
    TableSpec,
    lay_out_sheet,
    register_styles,
    save,
)


@pytest.mark.parametrize(("reference", "own", "expected"), [
    ("B9", "Data", "B12"),                      # at the point: moves
    ("B7", "Data", "B7"),                       # above it: stays
    ("$B$9", "Data", "$B$12"),
    ("B$9", "Data", "B$12"),
    ("'Data'!B9", "Other", "'Data'!B12"),
    ("Data!B9", None, "Data!B12"),
    ("Other!B9", "Data", "Other!B9"),           # another sheet
    ("B9", "Other", "B9"),                      # no sheet: the formula's own sheet
    ("B5:B9", "Data", "B5:B12"),                # spans the point: grows
    ("B10:C12", "Data", "B13:C15"),
    ("B:B", "Data", "B:B"),                     # a whole column
    ("9:10", "Data", "12:13"),                  # whole rows
    ("budget[Actual]", "Data", "budget[Actual]"),
])
def test_references_move_like_excel(reference, own, expected):
    assert shift_reference(reference, own, "Data", 8, 3) == expected


def test_formulas_move_only_their_references():
    assert shift_formula("=SUM(B9:B10)+'Data'!C2*2", "Data", "Data", 8, 3) == \
        "=SUM(B12:B13)+'Data'!C2*2"
    assert shift_formula('=IF(A9>0,"B9",Data!A9)', "Other", "Data", 8, 3) == \
        '=IF(A9>0,"B9",Data!A12)'
    assert shift_formula("SUMIFS(x[a],Data!$A$9:$A$20,A9)", "Other", "Data", 8, 3) == \
        "SUMIFS(x[a],Data!$A$12:$A$23,A9)"


def _stacked_book():
    """Sheet Data: table `upper` (A4, 1 data row), 2 empty rows, a caption at A7 and table
    `lower` at A8 (header) with a totals formula, a merged note, a chart, a rule; sheet
    Other refers to the lower table."""
    book = Workbook()
    register_styles(book)
    data = book.active
    data.title = "Data"
    columns = (Column("Name", "name"), Column("Amount", "amount", "#,##0"))
    lay_out_sheet(data, "T", "S", [TableSpec("upper", "A4", columns),
                                   TableSpec("lower", "A8", columns, caption="Lower")])
    data["D9"] = "=B9*2"
    data["F12"] = "note"
    data.merge_cells("F12:G12")
    data["D12"] = ArrayFormula("D12:D13", "=B9:B10*3")
    data.row_dimensions[9].height = 30
    data.conditional_formatting.add("B9:B10", CellIsRule(
        operator="greaterThan", formula=["$B$9"], fill=PatternFill("solid", "FF0000")))
    validation = DataValidation(type="list", formula1="$A$9:$A$10")
    validation.add("C9")
    data.add_data_validation(validation)
    chart = BarChart()
    chart.add_data(Reference(data, min_col=2, min_row=8, max_row=10), titles_from_data=True)
    data.add_chart(chart, "I9")
    other = book.create_sheet("Other")
    other["A1"] = "='Data'!B9+Data!B4"
    other["A2"] = "go"
    other["A2"].hyperlink = Hyperlink(ref="A2", location="'Data'!A8")
    book.defined_names["LowerFirst"] = DefinedName("LowerFirst", attr_text="Data!$B$9")
    return book


def test_a_growing_table_moves_everything_below_it(tmp_path):
    book = _stacked_book()
    filler = Filler(book)
    lower = filler.fill("lower", pd.DataFrame({"name": ["x", "y"], "amount": [5, 7]}),
                        ["name", "amount"])
    filler.write("Data", "D20", Formula("B9", 5))
    upper = filler.fill("upper", pd.DataFrame({"name": list("abcd"), "amount": [1, 2, 3, 4]}),
                        ["name", "amount"])
    data = book["Data"]
    assert (upper.first_row, upper.rows) == (5, 4)
    # 3 more rows: the caption from A7 to A10 and the lower table from A8 to A11.
    assert data["A10"].value == "Lower"
    assert data.tables["lower"].ref == "A11:B13"
    assert (lower.first_row, lower.cell("amount")) == (12, "'Data'!$B$12")
    assert [data["A12"].value, data["B13"].value] == ["x", 7]
    assert data["D12"].value == "=B12*2"
    assert data["D15"].value.text == "=B12:B13*3" and data["D15"].value.ref == "D15:D16"
    assert data["D23"].value == "=B12"
    assert filler.cached["Data"]["D23"] == 5 and "D20" not in filler.cached["Data"]
    assert [str(r) for r in data.merged_cells.ranges] == ["F15:G15"]
    assert data.row_dimensions[12].height == 30 and not data.row_dimensions[9].height
    assert [str(cf.sqref) for cf in data.conditional_formatting] == ["B12:B13"]
    assert next(iter(data.conditional_formatting)).rules[0].formula == ["$B$12"]
    assert str(data.data_validations.dataValidation[0].sqref) == "C12"
    assert data.data_validations.dataValidation[0].formula1 == "$A$12:$A$13"
    chart = data._charts[0]
    assert chart.series[0].val.numRef.f == "'Data'!$B$12:$B$13"
    other = book["Other"]
    assert other["A1"].value == "='Data'!B12+Data!B4"
    assert other["A2"].hyperlink.location == "'Data'!A11"
    assert book.defined_names["LowerFirst"].attr_text == "Data!$B$12"
    target = save(filler, tmp_path / "moved.xlsx")
    again = load_workbook(target)
    assert again["Data"].tables["lower"].ref == "A11:B13"
    # The chart, anchored at I9 (beside the lower table), moved down with it.
    assert again["Data"]._charts[0].anchor._from.row == 11


def test_a_table_grows_into_empty_rows_without_inserting():
    book = Workbook()
    register_styles(book)
    sheet = book.active
    columns = (Column("Name", "name"),)
    lay_out_sheet(sheet, "T", "S", [TableSpec("only", "A4", columns),
                                    TableSpec("beside", "C4", columns)])
    sheet["C30"] = "far below, beside"
    Filler(book).fill("only", pd.DataFrame({"name": list("abcdefgh")}), ["name"])
    assert sheet["C30"].value == "far below, beside"
    assert sheet.tables["beside"].ref == "C4:C5"


def test_a_long_table_beside_the_insertion_point_is_refused_by_name():
    book = Workbook()
    register_styles(book)
    sheet = book.active
    sheet.title = "Data"
    columns = (Column("Name", "name"),)
    lay_out_sheet(sheet, "T", "S", [TableSpec("short", "A4", columns),
                                    TableSpec("below", "A8", columns),
                                    TableSpec("beside", "C4", columns)])
    filler = Filler(book)
    filler.fill("beside", pd.DataFrame({"name": list("abcdefgh")}), ["name"])
    with pytest.raises(InputError, match=r"table beside \(C4:C12\) spans that row"):
        filler.fill("short", pd.DataFrame({"name": list("abcd")}), ["name"])
