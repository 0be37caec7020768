"""The example workbook: every RX_ function on realistic hospital pharmacy figures.

``python -m rxxl.examples [PATH]`` writes it (default ``rx_functions.xlsx`` in the current
folder); the committed copy is ``workbooks/rx_functions.xlsx``. A "Read me" sheet lists each
function and where it is shown; one sheet per family (variance, generics, inventory, return on
investment, denials, 340B) holds its inputs and one row per example: a label, how to read the
result, and the ``=RX_...`` formula on the input cells.

Every formula carries the value rxxl computed for it, by calling the same function from
:mod:`rxxl.udfs` on the input cells as xlwings hands them over, so a reader that does not
calculate (pandas, a mail preview) shows real results. The workbook does not ask for a full
calculation on open (``fullCalcOnLoad`` off, the ``calcId`` of Excel 365), so Excel without
the add-in keeps them too. Functions that return a block are written as array formulas over
the block; the cells of the block carry its values. LibreOffice 7.4 without the add-in shows
the cached single-cell numbers and text, but recalculates array formulas and formulas with a
TRUE/FALSE result on load, and those show ``#NAME?`` (seen on 271 cells: 269 in array blocks,
2 TRUE/FALSE).

The RX_340B_CHECK example reads its reference files from the folder in its input cell, or from
``RXXL_REFERENCE_DIR`` when the cell is blank; its results are computed against the synthetic
health system ``rxxl sample`` writes with its default settings, whose latest-month claims the
example uses.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from rxxl import udfs
from rxxl.data.synthetic import generate
from rxxl.reports import style
from rxxl.reports.workbook import Filler, Formula, print_setup, register_styles, save

__all__ = ["DEFAULT_PATH", "build_function_examples"]

DEFAULT_PATH = Path("rx_functions.xlsx")

# A fixed creation, modification and zip entry time make a rebuild of unchanged content
# byte-identical, so the committed workbook changes only when its content does.
_STAMP = dt.datetime(2026, 11, 1)
_NOTES_WIDTH = 62
_DATA_WIDTH = (12, 40)
_LINE_HEIGHT = 13.5  # points per line of 10-point text
_ERRORS = ("#VALUE!", "#DIV/0!", "#NUM!")
_FIRST_ROW = 4
# Text and TRUE/FALSE results: a number format does not apply to them, and the Text format would
# turn the formula into text once someone edits the cell.
_GENERAL = "General"


@dataclass(frozen=True)
class _Arg:
    """A formula argument: the cells it refers to and how xlwings hands them over.

    ``whole`` arguments (declared ``ndim=2`` in :mod:`rxxl.udfs`) arrive as a list of rows;
    the others as the single cell's value. ``blank_means`` is what a blank cell stands for
    when computing the cached value (the reference folder's environment setting).
    """

    ref: str
    whole: bool = True
    blank_means: Any = None


def _one(ref: str, blank_means: Any = None) -> _Arg:
    return _Arg(ref, whole=False, blank_means=blank_means)


def _as_passed(value: Any) -> Any:
    """A cell value as xlwings passes it: every number a float, every date a datetime."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    raise TypeError(f"an example input holds {value!r}, which Excel cannot hand over")


def _rows(result: Any) -> list[list[Any]] | None:
    return result if isinstance(result, list) else None


class _Page:
    """One sheet: inputs and example rows, laid out top to bottom."""

    def __init__(self, filler: Filler, name: str, title: str, subtitle: str) -> None:
        self.filler = filler
        self.sheet: Worksheet = filler.book.create_sheet(name)
        self.row = _FIRST_ROW
        self.uses: list[tuple[str, str]] = []
        self._cell(1, 1, title, style.TITLE_STYLE)
        self._cell(2, 1, subtitle, style.SUBTITLE_STYLE)

    def _cell(self, row: int, column: int, value: Any, cell_style: str,
              number_format: str | None = None) -> None:
        self.filler.write(self.sheet, f"{get_column_letter(column)}{row}", value,
                          number_format=number_format, cell_style=cell_style)

    def _note(self, row: int, text: str) -> None:
        self._cell(row, 2, text, style.NOTE_STYLE)
        self.sheet.cell(row, 2).alignment = Alignment(wrap_text=True, vertical="top")
        # Excel does not grow a row for wrapped text on open; LibreOffice does.
        lines = math.ceil(len(text) * 1.05 / _NOTES_WIDTH)
        current = self.sheet.row_dimensions[row].height or _LINE_HEIGHT
        self.sheet.row_dimensions[row].height = max(current, lines * _LINE_HEIGHT)

    def _header(self, labels: Sequence[str]) -> None:
        for column, label in enumerate(labels, start=1):
            self._cell(self.row, column, label, style.HEADER_STYLE)
        self.row += 1

    def inputs(self, caption: str, about: str, headers: Sequence[str],
               lines: Sequence[tuple[str, Sequence[Any]]], formats: Sequence[str]) -> int:
        """An input table: a header row, then one row per line with its label in column A
        and its inputs from column C. Returns the first line's row."""
        self._header([caption, "About the inputs", *headers])
        first = self.row
        for label, values in lines:
            self._cell(self.row, 1, label, style.CALC_STYLE)
            for column, (value, number_format) in enumerate(zip(values, formats, strict=True),
                                                            start=3):
                self._cell(self.row, column, value, style.INPUT_STYLE, number_format)
            self.row += 1
        self._note(first, about)
        self.row += 1
        return first

    def examples(self) -> None:
        self._header(["Example", "How to read it", "Result"])

    def example(self, label: str, notes: str, function: str, args: Sequence[_Arg],
                formats: Sequence[str] | str = style.DOLLARS,
                headers: Sequence[str] = ()) -> None:
        """One example row; a block result fills the rows below it (under ``headers``, if
        given, written in the example row)."""
        formats = [formats] if isinstance(formats, str) else list(formats)
        value = getattr(udfs, function)(*(self._passed(arg) for arg in args))
        _refuse_errors(function, value)
        text = f"{function}({','.join(arg.ref for arg in args)})"
        self._cell(self.row, 1, label, style.CALC_STYLE)
        self.sheet.cell(self.row, 1).alignment = Alignment(vertical="top")
        self._note(self.row, notes)
        for column, header in enumerate(headers, start=3):
            self._cell(self.row, column, header, style.HEADER_STYLE)
        top = self.row + (1 if headers else 0)
        anchor = f"C{top}"
        self.uses.append((function, anchor))
        block = _rows(value)
        if block is None:
            self._cell(top, 3, Formula(text, value), style.CALC_STYLE, formats[0])
            self.row = top + 1
            return
        last = f"{get_column_letter(2 + len(block[0]))}{top + len(block) - 1}"
        for i, line in enumerate(block):
            for j in range(len(line)):
                cell = self.sheet.cell(top + i, 3 + j)
                cell.style = style.CALC_STYLE
                cell.number_format = formats[min(j, len(formats) - 1)]
        self.filler.write(self.sheet, anchor, Formula(text, block, ref=f"{anchor}:{last}"))
        self.row = top + len(block)

    def _passed(self, arg: _Arg) -> Any:
        first_col, first_row, last_col, last_row = range_boundaries(arg.ref)
        grid = [[_as_passed(self.sheet.cell(r, c).value) for c in range(first_col, last_col + 1)]
                for r in range(first_row, last_row + 1)]
        if arg.whole:
            return grid
        return arg.blank_means if grid[0][0] is None else grid[0][0]

    def finish(self) -> None:
        """Column widths, frozen title rows and print setup."""
        sheet = self.sheet
        sheet.column_dimensions["A"].width = style.WIDTHS["label"]
        sheet.column_dimensions["B"].width = _NOTES_WIDTH
        for column in range(3, sheet.max_column + 1):
            lengths = [len(self._width_text(sheet.cell(r, column)))
                       for r in range(_FIRST_ROW, sheet.max_row + 1)]
            width = min(max([*lengths, 0]) + 2, _DATA_WIDTH[1])
            sheet.column_dimensions[get_column_letter(column)].width = max(width, _DATA_WIDTH[0])
        sheet.freeze_panes = f"A{_FIRST_ROW}"
        print_setup(sheet)

    def _width_text(self, cell: Any) -> str:
        """The text a cell's column is sized for. An array block's cells after the first are
        blank until ``save`` writes their values, so their cached values count instead."""
        cached = self.filler.cached.get(self.sheet.title, {})
        value = cell.value if cell.data_type == "f" else cached.get(cell.coordinate, cell.value)
        return _shown(value)


def _shown(value: Any) -> str:
    if value is None or isinstance(value, ArrayFormula):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _refuse_errors(function: str, value: Any) -> None:
    cells = [c for line in value for c in line] if isinstance(value, list) else [value]
    for cell in cells:
        if isinstance(cell, str) and cell.startswith(_ERRORS):
            raise RuntimeError(f"the {function} example gives {cell!r}; fix its inputs")


# --- The sheets ------------------------------------------------------------------------------


def _variance(filler: Filler) -> _Page:
    page = _Page(filler, "Variance", "Budget variance",
                 "October 2026 budget lines of a 450-bed hospital's pharmacy department.")
    first = page.inputs(
        "Budget lines, October 2026", "One budget line per row. Line type is expense or revenue: "
        "it decides whether over budget is favorable.",
        ["Line type", "Budget ($)", "Actual ($)"],
        [("Drug expense: oncology infusion", ("expense", 1_200_000, 1_318_400)),
         ("Drug expense: anticoagulants", ("expense", 285_000, 271_900)),
         ("Pharmacy salaries and wages", ("expense", 642_000, 655_300)),
         ("IV compounding supplies", ("expense", 48_500, 52_100)),
         ("Outpatient pharmacy revenue", ("revenue", 910_000, 962_750))],
        [style.TEXT, style.DOLLARS, style.DOLLARS])
    onco, anticoag, revenue, last = first, first + 1, first + 4, first + 4
    volume = page.inputs(
        "Volume and materiality", "Adjusted patient days drive the flexed budget; a variance "
        "matters when it passes both the dollar and the percent threshold.",
        ["Value"],
        [("Budgeted adjusted patient days", (9_800,)),
         ("Actual adjusted patient days", (10_150,)),
         ("Materiality: least dollars", (10_000,)),
         ("Materiality: least percent", (0.05,))],
        [style.COUNT])
    page.sheet[f"C{volume + 3}"].number_format = style.PERCENT
    page.examples()
    page.example(
        "Variance, oncology infusion drugs", "Actual − budget. Positive: spent more than "
        "budgeted. Read it with RX_FAV, since over budget is bad on an expense line and good on "
        "a revenue line.", "RX_VARIANCE", [_Arg(f"E{onco}"), _Arg(f"D{onco}")])
    page.example(
        "Variance %, oncology infusion drugs", "(Actual − budget) / |budget|: the variance as a "
        "share of the budget. A zero budget gives #DIV/0!.", "RX_VARIANCE_PCT",
        [_Arg(f"E{onco}"), _Arg(f"D{onco}")], style.PERCENT)
    page.example(
        "Favorable or unfavorable, oncology", "U: an expense line over budget is unfavorable.",
        "RX_FAV", [_Arg(f"E{onco}"), _Arg(f"D{onco}"), _Arg(f"C{onco}")], _GENERAL)
    page.example(
        "Favorable or unfavorable, revenue", "F: a revenue line over budget is favorable.",
        "RX_FAV", [_Arg(f"E{revenue}"), _Arg(f"D{revenue}"), _Arg(f"C{revenue}")], _GENERAL)
    page.example(
        "Material?, oncology", "TRUE: the variance passes both thresholds above, in dollars "
        "and in percent, so the line needs an explanation for the CFO.", "RX_MATERIAL",
        [_Arg(f"E{onco}"), _Arg(f"D{onco}"), _one(f"C{volume + 2}"), _one(f"C{volume + 3}")],
        _GENERAL)
    page.example(
        "Material?, anticoagulants", "FALSE: the variance passes the dollar threshold but not "
        "the percent one, so it is noise rather than news.", "RX_MATERIAL",
        [_Arg(f"E{anticoag}"), _Arg(f"D{anticoag}"), _one(f"C{volume + 2}"),
         _one(f"C{volume + 3}")], _GENERAL)
    page.example(
        "Flexed budget, oncology", "The budget scaled to the actual patient days. Actual minus "
        "this is the part of the variance that volume does not explain; this flexed budget "
        "minus the original budget is the part it does.", "RX_FLEX_BUDGET",
        [_Arg(f"D{onco}"), _Arg(f"C{volume}"), _Arg(f"C{volume + 1}")])
    page.example(
        "F/U for every line at once", "Given ranges, RX_FAV returns one flag per line (an "
        "array formula over the block), in the order of the lines above.", "RX_FAV",
        [_Arg(f"E{first}:E{last}"), _Arg(f"D{first}:D{last}"), _Arg(f"C{first}:C{last}")],
        _GENERAL)
    page.row += 1
    drugs = page.inputs(
        "Drug spend, Q1 FY2027", "Unit prices and quantities per drug. The biosimilar is new "
        "this year: its budget price and quantity are blank.",
        ["Budget price ($/unit)", "Actual price ($/unit)", "Budget quantity", "Actual quantity"],
        [("Pembrolizumab 100 mg/4 mL vial", (5_950, 6_180, 420, 455)),
         ("Apixaban 5 mg tablet", (8.35, 8.61, 61_000, 58_400)),
         ("Enoxaparin 40 mg/0.4 mL syringe", (9.80, 7.95, 14_200, 15_900)),
         ("Immune globulin IV 10%, 20 g", (2_260, 3_075, 180, 174)),
         ("Pegfilgrastim biosimilar 6 mg syringe", (None, 1_450, None, 60))],
        [style.DOLLARS_CENTS, style.DOLLARS_CENTS, style.COUNT, style.COUNT])
    end = drugs + 4
    page.examples()
    page.example(
        "Price, volume and mix variance per drug", "One row per drug, in the order above: "
        "price (paid more per unit), volume (more units overall) and mix (a different blend of "
        "drugs). The three add up to the drug's spend variance; the new biosimilar has no "
        "budget price to compare, so its whole spend shows as mix.", "RX_PVM",
        [_Arg(f"D{drugs}:D{end}"), _Arg(f"C{drugs}:C{end}"), _Arg(f"F{drugs}:F{end}"),
         _Arg(f"E{drugs}:E{end}")], headers=["Price ($)", "Volume ($)", "Mix ($)"])
    bridge = page.inputs(
        "Drug purchases by location and account, October 2026", "One row per drug, location "
        "and purchasing account, in packages of that drug. Workload: infusion visits, "
        "adjusted patient days, prescriptions; the same on every row of a location.",
        ["Drug", "Location", "Account", "Actual qty", "Actual ($)", "Budget qty",
         "Budget ($)", "Budget workload", "Actual workload"],
        [("Pembrolizumab, infusion, 340B", ("Pembrolizumab 100 mg vial", "Infusion center",
                                            "340B", 40, 164_000, 48, 196_800, 1_200, 1_300)),
         ("Pembrolizumab, infusion, WAC", ("Pembrolizumab 100 mg vial", "Infusion center",
                                           "WAC", 10, 61_800, 0, 0, 1_200, 1_300)),
         ("Immune globulin, main, GPO", ("Immune globulin IV 20 g", "Main hospital", "GPO",
                                         174, 535_050, 180, 406_800, 9_800, 10_150)),
         ("Enoxaparin, main, GPO", ("Enoxaparin 40 mg syringe", "Main hospital", "GPO",
                                    15_900, 126_405, 14_200, 139_160, 9_800, 10_150)),
         ("Apixaban, outpatient, 340B", ("Apixaban 5 mg tablet", "Outpatient pharmacy",
                                         "340B", 90_000, 189_000, 60_000, 126_000, 2_400,
                                         2_400))],
        [style.TEXT, style.TEXT, style.TEXT, style.COUNT, style.DOLLARS, style.COUNT,
         style.DOLLARS, style.COUNT, style.COUNT])
    last_line = bridge + 4
    stock = page.inputs(
        "Stock change at cost, October 2026", "Ending minus beginning inventory per location: "
        "the outpatient pharmacy bought ahead of a price increase.",
        ["Location", "Change ($)"],
        [("Outpatient pharmacy", ("Outpatient pharmacy", 63_000)),
         ("Main hospital", ("Main hospital", 0))],
        [style.TEXT, style.DOLLARS])
    page.example(
        "Drug spend bridge per drug, location and account", "A header row, then one row per "
        "purchase line: inventory timing (stock bought ahead), returns, new and discontinued "
        "drugs, workload volume, utilization, account mix (340B capture) and price. They add "
        "up to the line's spend variance.", "RX_DRUG_BRIDGE",
        [_Arg(f"{column}{bridge}:{column}{last_line}") for column in "CDEFGHIJK"]
        + [_Arg(f"C{stock}:D{stock + 1}")],
        [_GENERAL] * 3 + [style.COUNT] * 3 + [style.DOLLARS] * 11 + [_GENERAL])
    return page


def _generics(filler: Filler) -> _Page:
    page = _Page(filler, "Generics", "Generics and biosimilars",
                 "Outpatient pharmacy claims, October 2026, by Medi-Span MONY code.")
    mony = page.inputs(
        "Claims by MONY code", "Medi-Span MONY codes. M: co-licensed brand, N: single-source "
        "brand, O: brand with generics available, Y: generic.",
        ["MONY code", "Claims"],
        [("Co-licensed brands", ("M", 610)), ("Single-source brands", ("N", 1_840)),
         ("Brands with a generic available", ("O", 2_130)), ("Generics", ("Y", 21_450))],
        [style.TEXT, style.COUNT])
    biologics = page.inputs(
        "Biologic units by FDA category", "BLA: the reference biologic; BIOSIMILAR: rxxl's tag "
        "for a 351(k) biosimilar (the FDA files both under BLA).",
        ["Category", "Units"],
        [("Filgrastim (Neupogen)", ("BLA", 310)), ("Filgrastim-sndz (Zarxio)", ("BIOSIMILAR", 940)),
         ("Infliximab (Remicade)", ("BLA", 120)), ("Infliximab-dyyb (Inflectra)",
                                                  ("BIOSIMILAR", 265))],
        [style.TEXT, style.COUNT])
    switch = page.inputs(
        "Generic switch candidates", "Units dispensed last quarter with brand and generic unit "
        "costs. Only O lines count; costs may be blank where no switch is possible.",
        ["MONY code", "Units", "Brand cost ($/unit)", "Generic cost ($/unit)"],
        [("Rosuvastatin 20 mg (Crestor)", ("O", 18_000, 9.42, 0.21)),
         ("Pregabalin 75 mg (Lyrica)", ("O", 9_600, 7.85, 0.32)),
         ("Apixaban 5 mg (Eliquis)", ("N", 58_400, 8.61, None)),
         ("Sitagliptin 100 mg (Januvia)", ("O", 4_200, 17.90, 1.10)),
         ("Atorvastatin 40 mg", ("Y", 42_000, None, 0.09))],
        [style.TEXT, style.COUNT, style.DOLLARS_CENTS, style.DOLLARS_CENTS])
    page.examples()
    codes, counts = f"C{mony}:C{mony + 3}", f"D{mony}:D{mony + 3}"
    page.example(
        "Generic dispensing rate", "Generic (Y) claims / all claims, weighted by the claim "
        "counts. Below the 85–90% that community pharmacies typically reach: single-source "
        "specialty brands weigh on a health system's rate.", "RX_GDR",
        [_Arg(codes), _Arg(counts)], style.PERCENT)
    page.example(
        "Generic efficiency rate", "Y / (O + Y): of the claims where a generic exists, the "
        "share filled with it. Close to 100% means little left to switch.",
        "RX_GENERIC_EFFICIENCY", [_Arg(codes), _Arg(counts)], style.PERCENT)
    page.example(
        "Biosimilar rate", "Biosimilar / (biosimilar + reference biologic) units: how far "
        "biosimilar conversion has come.", "RX_BIOSIMILAR_RATE",
        [_Arg(f"C{biologics}:C{biologics + 3}"), _Arg(f"D{biologics}:D{biologics + 3}")],
        style.PERCENT)
    end = switch + 4
    page.example(
        "Generic switch opportunity", "Σ (brand − generic cost) × units over the O lines: the "
        "dollars a full switch would have saved last quarter. N and Y lines add nothing.",
        "RX_GENERIC_OPPORTUNITY",
        [_Arg(f"{c}{switch}:{c}{end}") for c in "CDEF"])
    return page


def _inventory(filler: Filler) -> _Page:
    page = _Page(filler, "Inventory", "Inventory turns and days on hand",
                 "Drug inventory at cost by location, fiscal year 2026.")
    first = page.inputs(
        "Inventory by location, FY2026", "Annual cost of goods sold and the inventory at cost "
        "at the start and end of the year.",
        ["COGS ($)", "Beginning inventory ($)", "Ending inventory ($)"],
        [("Main inpatient pharmacy", (318_000_000, 27_600_000, 29_900_000)),
         ("Outpatient pharmacy", (96_200_000, 4_120_000, 4_380_000)),
         ("Infusion center", (48_500_000, 2_050_000, 2_450_000))],
        [style.DOLLARS] * 3)
    last = first + 2
    quarters = page.inputs(
        "Main pharmacy quarter-end snapshots", "The same year's COGS with five snapshots "
        "(the start, then each quarter end): the average over the year is fairer than two "
        "points when stock swings.",
        ["COGS ($)", "Jun 30, 2025 ($)", "Sep 30 ($)", "Dec 31 ($)", "Mar 31 ($)",
         "Jun 30, 2026 ($)"],
        [("Main inpatient pharmacy", (318_000_000, 27_600_000, 30_800_000, 26_900_000,
                                      28_300_000, 29_900_000))],
        [style.DOLLARS] * 6)
    month = page.inputs(
        "Main pharmacy, October 2026", "One month: COGS for the month, inventory at the start "
        "and end, and the days the COGS covers.",
        ["COGS ($)", "Beginning inventory ($)", "Ending inventory ($)", "Days in period"],
        [("Main inpatient pharmacy", (27_100_000, 29_900_000, 28_700_000, 31))],
        [style.DOLLARS, style.DOLLARS, style.DOLLARS, style.COUNT])
    page.examples()
    page.example(
        "Turns, main pharmacy", "COGS / average inventory: how many times a year the stock is "
        "used up. Hospital pharmacies commonly aim for about 10–12.", "RX_TURNS",
        [_Arg(f"C{first}"), _Arg(f"D{first}"), _Arg(f"E{first}")], style.RATIO)
    page.example(
        "Turns, from quarter-end snapshots", "A row of snapshots in place of beginning and "
        "ending inventory: the average of all of them is used.", "RX_TURNS",
        [_Arg(f"C{quarters}"), _Arg(f"D{quarters}:H{quarters}")], style.RATIO)
    page.example(
        "Days on hand, main pharmacy", "Average inventory × 365 / COGS = 365 / turns: days the "
        "stock would last at the year's pace.", "RX_DAYS_ON_HAND",
        [_Arg(f"C{first}"), _Arg(f"D{first}"), _Arg(f"E{first}")], style.DAYS)
    page.example(
        "Days on hand, October", "Monthly figures with the month's 31 days: turns and days "
        "are annualized, so a month compares with a year.", "RX_DAYS_ON_HAND",
        [_Arg(f"C{month}"), _Arg(f"D{month}"), _Arg(f"E{month}"), _one(f"F{month}")],
        style.DAYS)
    page.example(
        "Turns for every location", "Columns of COGS and inventories give one result per "
        "location, in the order above (an array formula over the block).", "RX_TURNS",
        [_Arg(f"{c}{first}:{c}{last}") for c in "CDE"], style.RATIO)
    return page


def _roi(filler: Filler) -> _Page:
    page = _Page(filler, "ROI", "Return on investment: IV compounding robot",
                 "Capital request: an IV compounding robot for the sterile compounding room, "
                 "bought July 2026, with seven years of labor, waste and outsourcing savings.")
    start = dt.date(2026, 7, 1)
    savings = (268_000, 291_000, 305_000, 312_000, 320_000, 327_000, 335_000)
    flows = page.inputs(
        "Cash flows", "Year 0 is the purchase and installation (negative); years 1–7 the net "
        "savings, at each year end. Enter 0 for a year without savings: a blank is refused.",
        ["Cash flow ($)", "Date"],
        [("Year 0: purchase and installation", (-1_450_000, start)),
         *((f"Year {year}: net savings", (amount, dt.date(2026 + year, 6, 30)))
           for year, amount in enumerate(savings, start=1))],
        [style.DOLLARS, style.DATE])
    rates = page.inputs(
        "Rates", "The health system's cost of capital discounts the savings; MIRR also needs "
        "the rate paid on the investment and the rate earned on reinvested savings.",
        ["Rate"],
        [("Discount rate (cost of capital)", (0.08,)), ("Finance rate", (0.07,)),
         ("Reinvestment rate", (0.05,))],
        [style.PERCENT])
    values, dates = f"C{flows}:C{flows + 7}", f"D{flows}:D{flows + 7}"
    rate = _one(f"C{rates}")
    page.examples()
    page.example(
        "Present value of the savings", "As Excel's NPV, the first value is discounted a full "
        "period, so give years 1–7 and add the year-0 outlay yourself "
        f"(=RX_NPV(C{rates},C{flows + 1}:C{flows + 7})+C{flows} is the request's NPV).",
        "RX_NPV", [rate, _Arg(f"C{flows + 1}:C{flows + 7}")])
    page.example(
        "Internal rate of return", "The rate at which the savings just repay the robot. Above "
        "the cost of capital, the request earns more than the money costs.", "RX_IRR",
        [_Arg(values)], style.PERCENT)
    page.example(
        "Net present value, dated", "As Excel's XNPV: the year-0 flow on its date is not "
        "discounted, the others by actual days / 365. Positive: worth doing at that rate.",
        "RX_XNPV", [rate, _Arg(values), _Arg(dates)])
    page.example(
        "Internal rate of return, dated", "As Excel's XIRR: IRR on the actual dates.",
        "RX_XIRR", [_Arg(values), _Arg(dates)], style.PERCENT)
    page.example(
        "Modified internal rate of return", "As Excel's MIRR: savings reinvested and the "
        "outlay financed at the rates above; lower than IRR, which assumes reinvestment at the IRR "
        "itself.", "RX_MIRR", [_Arg(values), _one(f"C{rates + 1}"), _one(f"C{rates + 2}")],
        style.PERCENT)
    page.example(
        "Payback", "Years until the savings repay the outlay, interpolated within the year; "
        "\"never\" if not within the seven years.", "RX_PAYBACK", [_Arg(values)], style.RATIO)
    page.example(
        "Discounted payback", "Payback on savings discounted at the cost of capital: later "
        "than simple payback, and the fairer test of a seven-year asset.", "RX_DPAYBACK",
        [rate, _Arg(values)], style.RATIO)
    page.example(
        "Simple ROI", "Net cash over the seven years / money put in: 40% would mean the outlay "
        "comes back with 40% on top, before the time value of money.", "RX_ROI", [_Arg(values)],
        style.PERCENT)
    return page


def _denials(filler: Filler) -> _Page:
    page = _Page(filler, "Denials", "Claim denials",
                 "Initial pharmacy claims: denial rates, a p-chart of the monthly rate, and "
                 "reason codes.")
    claims = [("paid", 412.60), ("paid", 88.15), ("denied", 1_930.00), ("paid", 56.40),
              ("paid", 240.75), ("denied", 118.20), ("paid", 1_275.00), ("paid", 32.90),
              ("paid", 615.30), ("paid", 97.45)]
    day = page.inputs(
        "Initial claims, Nov 3, 2026", "One initial claim per row (resubmissions left out): "
        "its status and billed amount.",
        ["Status", "Billed ($)"],
        [(f"Claim {i}", line) for i, line in enumerate(claims, start=1)],
        [style.TEXT, style.DOLLARS_CENTS])
    submitted = (2_214, 2_190, 2_305, 2_251, 2_288, 2_342, 2_276, 2_319, 2_198, 2_402, 2_355,
                 2_371)
    denied = (139, 128, 151, 140, 133, 149, 137, 146, 578, 152, 139, 144)
    months = [dt.date(2025 + (10 + i) // 12, (10 + i) % 12 + 1, 1) for i in range(12)]
    trend = page.inputs(
        "Humana Medicare Part D, by month", "Initial claims submitted and denied per month; "
        "a month is a date in it.",
        ["Month", "Submitted", "Denied"],
        [(month.strftime("%B %Y"), (month, s, d))
         for month, s, d in zip(months, submitted, denied, strict=True)],
        [style.MONTH, style.COUNT, style.COUNT])
    codes = page.inputs(
        "Reason codes", "NCPDP reject codes (type 07 as text so Excel keeps the 0) and CARC "
        "codes with their group.",
        ["Code"],
        [("NCPDP reject", ("75",)), ("NCPDP reject", ("07",)), ("CARC", ("CO-197",))],
        [style.TEXT])
    page.examples()
    statuses = f"C{day}:C{day + 9}"
    page.example(
        "Denial rate, by count", "Denied / all initial claims, by count.", "RX_DENIAL_RATE",
        [_Arg(statuses)], style.PERCENT)
    page.example(
        "Denial rate, by dollars", "The same, weighted by billed amount: one large denial "
        "makes the dollar rate much higher than the count rate.", "RX_DENIAL_RATE",
        [_Arg(statuses), _Arg(f"D{day}:D{day + 9}")], style.PERCENT)
    end = trend + 11
    page.example(
        "p-chart of the monthly denial rate", "One row per month, in the order above: the rate, "
        "the center line and the 3-sigma limits (revised without out-of-control months), and "
        "TRUE where the rate is outside them: the spike month is worth a call to the payer.",
        "RX_DENIAL_TREND",
        [_Arg(f"{c}{trend}:{c}{end}") for c in "CDE"],
        [style.PERCENT] * 4 + [_GENERAL],
        headers=["Denial rate", "Center line", "Upper limit", "Lower limit", "Out of control"])
    for offset, what in enumerate(("a prior authorization reject",
                                   "an eligibility reject (missing or invalid cardholder ID)",
                                   "a remittance adjustment: authorization absent")):
        page.example(
            f"Reason {page.sheet[f'C{codes + offset}'].value}",
            f"Description and root-cause category of {what}: the category groups codes for "
            "a denial trend by cause.", "RX_DENIAL_REASON", [_Arg(f"C{codes + offset}")],
            _GENERAL)
    return page


def _claims_sample(folder: Path, manifest: dict) -> pd.DataFrame:
    """A few paid claims of the latest month: two that pass and one of each planted kind."""
    claims = pd.read_parquet(folder / "claims" / f"{manifest['end_month']}.parquet")
    claims = claims[claims["status"] == "paid"]
    present = set(claims["claim_id"])
    kinds = [[c for c in p["identifiers"].get("claim_ids") or [] if c in present]
             for p in manifest["planted"]]
    planted = [ids[0] for ids in kinds if ids]
    problems = {c for ids in kinds for c in ids}
    clean = claims[(claims["account"] == "340B") & ~claims["claim_id"].isin(problems)].head(2)
    picked = claims[claims["claim_id"].isin([*clean["claim_id"], *planted])]
    optional = ["reject_code", "carc_code", "days_supply", "submission_clarification_code",
                "original_claim_id", "dispensing_fee", "tpa_fee"]
    return picked.drop(columns=optional).reset_index(drop=True)


def _340b(filler: Filler, folder: Path, manifest: dict) -> _Page:
    page = _Page(filler, "340B", "340B compliance check",
                 "Claims of October 2026 from the synthetic health system (`rxxl sample`), "
                 "checked against its 340B reference files.")
    settings = page.inputs(
        "Settings", "Reference folder: blank uses the RXXL_REFERENCE_DIR setting. The "
        "results shown were computed with the folder `rxxl sample --out DIR` writes (default "
        "seed and size); type that DIR here to recalculate. Look-back: days an encounter may "
        "precede the claim.",
        ["Value"], [("Reference folder", (None,)), ("Look-back days", (365,))], [style.TEXT])
    page.sheet[f"C{settings + 1}"].number_format = style.COUNT
    sample = _claims_sample(folder, manifest)
    formats = {"service_date": style.DATE, "quantity": style.COUNT,
               "billed_amount": style.DOLLARS_CENTS, "paid_amount": style.DOLLARS_CENTS,
               "unit_cost_340b": style.DOLLARS_CENTS, "unit_cost_wac": style.DOLLARS_CENTS}
    rows = [[None if pd.isna(v) else v for v in line]
            for line in sample.astype(object).to_numpy().tolist()]
    rows = [[dt.date.fromisoformat(str(v)) if name == "service_date" else v
             for name, v in zip(sample.columns, line, strict=True)] for line in rows]
    header = page.row
    page.inputs(
        "Claims (header row included)", "Columns as in the claims contract "
        "(docs/data-contracts.md). RX_340B_CHECK reads the header row, so the range starts "
        "on it; columns may come in any order.",
        list(sample.columns), [(f"Claim {i}", line) for i, line in enumerate(rows, start=1)],
        [formats.get(name, style.TEXT) for name in sample.columns])
    last = get_column_letter(2 + len(sample.columns))
    page.examples()
    page.example(
        "340B check per claim", "A header row, then one row per claim in the order above: "
        "status (compliant, violation or review), every reason code that applies, and the "
        "dollars at risk (units × (WAC − 340B cost)). Reasons are explained in the README.",
        "RX_340B_CHECK",
        [_Arg(f"C{header}:{last}{header + len(rows)}"),
         _one(f"C{settings}", blank_means=str(folder)), _one(f"C{settings + 1}")],
        [_GENERAL, _GENERAL, _GENERAL, style.DOLLARS])
    return page


def _read_me(filler: Filler, pages: Sequence[_Page]) -> None:
    sheet = filler.book.create_sheet("Read me", 0)
    write = filler.write
    write(sheet, "A1", "RX_ functions: examples", cell_style=style.TITLE_STYLE)
    write(sheet, "A2", "Every rxxl Excel function on realistic hospital pharmacy figures. "
          "Blue on yellow: inputs to change. Results recalculate with the rxxl add-in; "
          "Excel without it shows the values rxxl computed when the workbook was built.",
          cell_style=style.SUBTITLE_STYLE)
    # LibreOffice recalculates array formulas and TRUE/FALSE results on load whatever the
    # file asks (module docstring): say so rather than promise what it does not show.
    write(sheet, "A3", "LibreOffice without the add-in shows them too, except the results "
          "that fill a block of cells and the TRUE/FALSE results: those show #NAME?.",
          cell_style=style.SUBTITLE_STYLE)
    for column, label in enumerate(["Function", "What it returns", "Example"], start=1):
        sheet.cell(_FIRST_ROW, column, label).style = style.HEADER_STYLE
    uses = {}
    for page in pages:
        for function, anchor in page.uses:
            uses.setdefault(function, f"{quote_sheetname(page.sheet.title)}!{anchor}")
    for row, (function, where) in enumerate(sorted(uses.items()), start=_FIRST_ROW + 1):
        summary = getattr(udfs, function).__doc__.strip().splitlines()[0]
        for column, value in enumerate((function, summary, where), start=1):
            write(sheet, f"{get_column_letter(column)}{row}", value, cell_style=style.CALC_STYLE)
        sheet.cell(row, 3).hyperlink = Hyperlink(ref=f"C{row}", location=where)
    sheet.column_dimensions["A"].width = style.WIDTHS["label"]
    sheet.column_dimensions["B"].width = 90
    sheet.column_dimensions["C"].width = style.WIDTHS["text"]
    sheet.freeze_panes = f"A{_FIRST_ROW + 1}"
    print_setup(sheet, title_rows=_FIRST_ROW)


# --- Building and saving ---------------------------------------------------------------------


# The calculation engine id Excel 2016, 2019, 2021 and 365 write into calcPr.
EXCEL_365_CALC_ID = 191029


def build_function_examples(path: str | Path = DEFAULT_PATH) -> Path:
    """Write the example workbook of every RX_ function.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Where to write the .xlsx file (replaced atomically); default ``rx_functions.xlsx``
        in the current folder.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    book = Workbook()
    book.remove(book.active)
    book.properties.created = _STAMP
    register_styles(book)
    filler = Filler(book)
    with tempfile.TemporaryDirectory(prefix="rxxl-examples-") as scratch:
        folder = Path(scratch) / "health-system"
        manifest = generate(folder)
        pages = [_variance(filler), _generics(filler), _inventory(filler), _roi(filler),
                 _denials(filler), _340b(filler, folder, manifest)]
    for page in pages:
        page.finish()
    _read_me(filler, pages)
    # Every formula here is an RX_ call with its cached value: a forced full calculation on
    # load would turn each into #NAME? in Excel or LibreOffice without the add-in. Excel also
    # recalculates everything when the file's calcId is below its own engine's (MS-XLS
    # RecalcId, https://learn.microsoft.com/en-us/openspecs/office_file_formats/ms-xls/
    # 95ba561a-69a6-4661-a8dd-e03305bbff3f); openpyxl writes Excel 2007's 124519, so the id
    # Excel 2016 to 365 write is put instead.
    book.calculation.calcId = EXCEL_365_CALC_ID
    return save(filler, Path(path), stamp=_STAMP, calculate_on_load=False)


if __name__ == "__main__":
    print(build_function_examples(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PATH))
