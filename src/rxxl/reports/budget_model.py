"""The Budget sheet as a live model: each line's variance, variance %, F/U, materiality, YTD
and flexed-budget figures, and the subtotals per cost center, are Excel formulas on the
line's own cells, so an analyst who corrects an actual or a volume, or changes the
materiality inputs at the top of the sheet (named ``MaterialityAmount`` and
``MaterialityPercent``), sees every figure follow. Each formula carries the value rxxl
computed (:class:`~rxxl.reports.workbook.Formula`): the rules themselves are
:mod:`rxxl.variance`'s, and a test recalculates the sheet with LibreOffice and finds the same
values.

A blank (a line not closed, or without a row this month) gives a blank, never 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from rxxl import variance
from rxxl.constants import FAVORABLE, LINE_TYPES, REVENUE, UNFAVORABLE
from rxxl.reports import figures, style
from rxxl.reports.templates import MATERIALITY_NAMES, fill_table
from rxxl.reports.workbook import Filled, Filler, Formula

#: The Budget sheet's totals rows' cost center.
ALL_COST_CENTERS = "All cost centers"



def _flag(actual: str, budget: str, line_type: str) -> str:
    """F or U as :func:`rxxl.variance.favorability`: a revenue line below budget is U, an
    expense line above it; on budget is F."""
    return (f'IF({line_type}="{REVENUE}",IF({actual}<{budget},"{UNFAVORABLE}","{FAVORABLE}"),'
            f'IF({actual}>{budget},"{UNFAVORABLE}","{FAVORABLE}"))')


def _rules() -> dict[str, str]:
    """Each live column's formula, with ``{key}`` for a cell of the same row."""
    amount, percent = MATERIALITY_NAMES
    return {
        "variance": 'IF(AND(ISNUMBER({actual}),ISNUMBER({budget})),{actual}-{budget},"")',
        "variance_pct": 'IF(ISNUMBER({variance}),IF({budget}=0,"",{variance}/ABS({budget})),"")',
        "fu": 'IF(ISNUMBER({variance}),' + _flag("{actual}", "{budget}", "{line_type}") + ',"")',
        # A zero budget with a variance counts as an infinite percent (rxxl.variance.is_material).
        "material": (f'IF(ISNUMBER({{variance}}),IF(AND(ABS({{variance}})>={amount},'
                     f'IF({{budget}}=0,{{variance}}<>0,ABS({{variance}})/ABS({{budget}})>='
                     f'{percent})),"Yes",""),"")'),
        "ytd_variance": ('IF(AND(ISNUMBER({ytd_actual}),ISNUMBER({ytd_budget})),'
                         '{ytd_actual}-{ytd_budget},"")'),
        "ytd_variance_pct": ('IF(ISNUMBER({ytd_variance}),IF({ytd_budget}=0,"",'
                             '{ytd_variance}/ABS({ytd_budget})),"")'),
        "ytd_fu": ('IF(ISNUMBER({ytd_variance}),'
                   + _flag("{ytd_actual}", "{ytd_budget}", "{line_type}") + ',"")'),
        # Flexed only for a closed line with both volumes (figures.budget).
        "flexed_budget": (f'IF(AND({{status}}="{figures.CLOSED}",ISNUMBER({{budget_volume}}),'
                          'ISNUMBER({actual_volume}),ISNUMBER({budget})),IF({budget_volume}=0,"",'
                          '{budget}*{actual_volume}/{budget_volume}),"")'),
        "volume_variance": 'IF(ISNUMBER({flexed_budget}),{flexed_budget}-{budget},"")',
        "spending_variance": 'IF(ISNUMBER({flexed_budget}),{actual}-{flexed_budget},"")',
    }


def _cached(value: object) -> object:
    """A computed figure as the formula's cached result: blank (NaN, None) is ""."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, np.generic):
        return value.item()
    return value


def line_formulas(filler: Filler, lines: Filled, budget: pd.DataFrame) -> None:
    """Write the live columns of the budget lines (:func:`_rules`) over the filled values."""
    if budget.empty:
        return
    sheet = filler.book[lines.sheet]
    letters = {key: get_column_letter(col) for key, col in lines.columns.items()}
    for key, rule in _rules().items():
        col = lines.columns[key]
        values = budget[key].tolist()
        for index, value in enumerate(values):
            row = lines.first_row + index
            text = rule.format(**{name: f"{letter}{row}" for name, letter in letters.items()})
            filler._write(sheet, sheet.cell(row, col), Formula(text, _cached(value)))


def cost_center_formulas(filler: Filler, centers_cells: Filled, lines: Filled,
                         centers: pd.DataFrame) -> None:
    """The subtotals per cost center and line type as SUMIFS over the budget lines: closed
    lines' budget and actual (blank when none is closed), variance, %, F/U, and the budget of
    the lines not closed (blank when none)."""
    if centers.empty:
        return
    sheet = filler.book[centers_cells.sheet]
    letters = {key: get_column_letter(col) for key, col in centers_cells.columns.items()}

    def where(status: str, row: int) -> str:
        return (f"{lines.column_range('cost_center')},{letters['cost_center']}{row},"
                f"{lines.column_range('line_type')},{letters['line_type']}{row},"
                f'{lines.column_range("status")},"{status}"')

    for index, frame_row in enumerate(centers.to_dict("records")):
        row = centers_cells.first_row + index
        at = {key: f"{letter}{row}" for key, letter in letters.items()}
        rules = {
            key: f'IF(COUNTIFS({where(status, row)})=0,"",SUMIFS({lines.column_range(source)},'
                 f"{where(status, row)}))"
            for key, source, status in (("budget", "budget", figures.CLOSED),
                                        ("actual", "actual", figures.CLOSED),
                                        ("open_budget", "budget", figures.NOT_CLOSED))}
        # Variance, % and F/U by the lines' own rules, on the subtotal's cells.
        rules.update({key: _rules()[key].format(**at)
                      for key in ("variance", "variance_pct", "fu")})
        for key, text in rules.items():
            cell = sheet.cell(row, centers_cells.columns[key])
            filler._write(sheet, cell, Formula(text, _cached(frame_row[key])))


def type_totals(filler: Filler, lines: Filled, budget: pd.DataFrame) -> Filled:
    """Fill the totals by type: budget and actual of the closed lines of each line type
    present, and the budget of its lines not closed, as SUMIFS over the budget lines, with
    variance, variance % and F/U formulas (F/U blank when no line of the type is closed):
    live, so a corrected line updates them."""
    present = budget[budget["status"] != figures.NO_ROW] if len(budget) else budget
    kinds = [kind for kind in LINE_TYPES if len(present) and (present["line_type"] == kind).any()]
    totals = fill_table(filler, "budget_totals", pd.DataFrame(
        {"cost_center": ALL_COST_CENTERS, "line_type": kinds}))
    sheet = filler.book[totals.sheet]
    for row, kind in enumerate(kinds):
        mine = {key: totals.cell(key, row, absolute=False).split("!")[1]
                for key in totals.columns}
        chosen = present[present["line_type"] == kind]
        closed = chosen["status"] == figures.CLOSED
        planned, actual = float(chosen.loc[closed, "budget"].sum()), float(
            chosen.loc[closed, "actual"].sum())
        waiting = float(chosen.loc[chosen["status"] == figures.NOT_CLOSED, "budget"].sum())

        def sumifs(key: str, status: str, kind_cell: str = mine["line_type"]) -> str:
            return (f"SUMIFS({lines.column_range(key)},{lines.column_range('line_type')},"
                    f'{kind_cell},{lines.column_range("status")},"{status}")')

        formulas = {
            "budget": Formula(sumifs("budget", figures.CLOSED), planned),
            "actual": Formula(sumifs("actual", figures.CLOSED), actual),
            "variance": Formula(f"{mine['actual']}-{mine['budget']}", actual - planned),
            "variance_pct": Formula(
                f'IF({mine["budget"]}=0,"",{mine["variance"]}/ABS({mine["budget"]}))',
                (actual - planned) / abs(planned) if planned else ""),
            "fu": Formula(
                f"IF(COUNTIFS({lines.column_range('line_type')},{mine['line_type']},"
                f'{lines.column_range("status")},"{figures.CLOSED}")=0,"",'
                f'{_flag(mine["actual"], mine["budget"], mine["line_type"])})',
                variance.favorability(actual, planned, kind) if closed.any() else ""),
            "open_budget": Formula(sumifs("budget", figures.NOT_CLOSED), waiting),
        }
        for key, formula in formulas.items():
            filler.write(sheet, mine[key], formula, sheet[mine[key]].number_format,
                         style.TOTAL_STYLE)
    return totals
