"""The Denials sheet's fill: the payer x month grid with its live shading, the named
p-charts of the top payers, the Pareto, the root causes and the payer x month detail.

The grid's rates are the detail's (:func:`rxxl.reports.figures.denial_grid`); a cell is
shaded by a conditional format whose formula reads the payer's upper control limit of that
month from the detail, so a limit or a rate changed in the workbook re-shades the grid.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.pagebreak import Break

from rxxl.reports import style
from rxxl.reports.figures import GRID_MONTHS, PCHARTS, grid_key
from rxxl.reports.templates import (
    MONTHS_SHOWN,
    PARETO_CHARTED,
    chart_title,
    denials_print_area,
    grid_header,
    pchart_title,
)
from rxxl.reports.workbook import Filled, Filler, Formula

#: The grid's month header: the month and the unit (its first 7 characters are the month,
#: which the shading's formula reads).
MONTH_HEADER = "{month} (%)"


def fill_denials(filler: Filler, denial: dict[str, pd.DataFrame],
                 fill: Callable[[str, pd.DataFrame | None], Filled]) -> None:
    """Fill the Denials sheet's tables from :func:`rxxl.reports.figures.denial_figures`
    (``fill`` fills one table and records its cells), name the month columns and the
    p-charts, write the dollar denial rate as formulas and shade the grid."""
    # The stacked tables first, top down (a growing one inserts whole rows under it); then
    # the tables right of them, which grow into the empty rows below them.
    grid_frame = denial.get("denial_grid")
    grid = fill("denial_grid", grid_frame)
    months = denial["grid_months"]["month"].tolist() if "grid_months" in denial else []
    _name_months(filler, months)
    for name in ("pareto", "denial_categories"):
        fill(name, denial.get(name))
    payers = (denial["pchart_payers"]["payer"].tolist() if "pchart_payers" in denial else [])
    for number in range(1, PCHARTS + 1):
        fill(f"pchart_{number}", denial.get(f"pchart_{number}"))
    _name_pcharts(filler, payers)
    trend = fill("denial_trend", denial.get("denial_trend"))
    sheet = filler.book[grid.sheet]
    _pin_charts(filler)
    sheet.print_area = denials_print_area(sheet)
    # The reasons start a page: the Pareto and its chart are not cut across two pages.
    _, reasons, _, _ = range_boundaries(filler.table("pareto")[1].ref)
    sheet.row_breaks.append(Break(id=reasons - 2))  # after the row above the caption
    if grid_frame is None or not len(grid_frame):
        return
    _dollar_rates(filler, grid, grid_frame)
    _shade_out_of_control(filler, grid, trend, len(months))


def _name_months(filler: Filler, months: list[str]) -> None:
    """Write the grid's months into its month headers (the template's say "Month -3 (%)"),
    in the cells and the table's column names; a header a finance team rewrote stays."""
    sheet, table = filler.table("denial_grid")
    first_col, header_row, _, _ = range_boundaries(table.ref)
    shown = months[-GRID_MONTHS:]
    for offset in range(GRID_MONTHS):
        back = GRID_MONTHS - 1 - offset
        cell = sheet.cell(header_row, first_col + 1 + offset)
        column = table.tableColumns[1 + offset]
        if cell.value != grid_header(back) or back >= len(shown):
            continue
        cell.value = column.name = MONTH_HEADER.format(month=shown[len(shown) - 1 - back])


def _name_pcharts(filler: Filler, payers: list[str]) -> None:
    """Title each p-chart with its payer (the chart whose rate series reads table
    ``pchart_<n>``), and caption its data; a chart without a payer says so."""
    sheet, _ = filler.table("pchart_1")
    for number in range(1, PCHARTS + 1):
        _, table = filler.table(f"pchart_{number}")
        first_col, header_row, _, _ = range_boundaries(table.ref)
        rate = f"${get_column_letter(first_col + 1)}${header_row + 1}"
        payer = payers[number - 1] if number <= len(payers) else None
        title = (pchart_title(payer) if payer else
                 f"p-chart {number}: no payer (the month has fewer than {number} payers)")
        for chart in sheet._charts:
            series = chart.series[0] if chart.series else None
            if series is not None and series.val.numRef.f.split("!")[-1].startswith(rate):
                chart.title = chart_title(title)
        caption = sheet.cell(header_row - 1, first_col)
        if payer and isinstance(caption.value, str) and caption.value.startswith("p-chart"):
            caption.value = f"p-chart {number}: {payer}"


_AREA = re.compile(r"^(?P<sheet>.*!)?\$?(?P<c1>[A-Z]+)\$?(?P<r1>[0-9]+)"
                   r"(?::\$?(?P<c2>[A-Z]+)\$?(?P<r2>[0-9]+))?$")


def _pin_charts(filler: Filler) -> None:
    """Each Denials chart reads the rows of its table the template charted (a p-chart its
    table's months, the Pareto its first reasons): rows inserted inside a chart's range
    (a table above growing) stretch the range, as in Excel, and the chart would show
    empty months or the rows of another table."""
    sheet, _ = filler.table("pareto")
    for name, rows in [(f"pchart_{n}", MONTHS_SHOWN) for n in range(1, PCHARTS + 1)] + [
            ("pareto", PARETO_CHARTED)]:
        _, table = filler.table(name)
        first_col, header_row, last_col, _ = range_boundaries(table.ref)
        for chart in sheet._charts:
            series = [one for part in [chart, *getattr(chart, "_charts", [])]
                      for one in part.series]
            columns = {_area(one.val.numRef.f)[0] for one in series if one.val.numRef}
            if not columns or not all(first_col <= c <= last_col for c in columns):
                continue
            for one in series:
                for source in (one.val, one.cat):
                    ref = source and (source.numRef or source.strRef)
                    if ref is not None:
                        ref.f = _rows(ref.f, header_row + 1, header_row + rows)
                if one.tx is not None and one.tx.strRef is not None:
                    one.tx.strRef.f = _rows(one.tx.strRef.f, header_row, header_row)


def _area(ref: str) -> tuple[int, str]:
    match = _AREA.match(ref)
    return column_index_from_string(match["c1"]), match["sheet"] or ""


def _rows(ref: str, first: int, last: int) -> str:
    """``ref`` (one column) over rows ``first`` to ``last``."""
    match = _AREA.match(ref)
    sheet, column = match["sheet"] or "", match["c1"]
    if first == last:
        return f"{sheet}${column}${first}"
    return f"{sheet}${column}${first}:${column}${last}"


def _dollar_rates(filler: Filler, grid: Filled, frame: pd.DataFrame) -> None:
    """The dollar denial rate of each payer as denied $ / submitted $ of its row (blank when
    nothing was submitted), live."""
    def rate(row: int, value: float) -> Formula:
        submitted = f"{letter('submitted_dollars')}{row}"
        denied = f"{letter('denied_dollars')}{row}"
        return Formula(f'IF({submitted}>0,{denied}/{submitted},"")',
                       value if pd.notna(value) else "")

    def letter(key: str) -> str:
        return get_column_letter(grid.columns[key])

    for index, value in enumerate(frame["dollar_rate"]):
        row = grid.first_row + index
        filler.write(grid.sheet, f"{letter('dollar_rate')}{row}", rate(row, value))
    if grid.totals_row is not None:
        # All payers: the Summary's "Initial denial rate, dollars" of the month.
        submitted, denied = frame["submitted_dollars"].sum(), frame["denied_dollars"].sum()
        filler.write(grid.sheet, f"{letter('dollar_rate')}{grid.totals_row}",
                     rate(grid.totals_row, denied / submitted if submitted > 0 else None))


def _shade_out_of_control(filler: Filler, grid: Filled, trend: Filled, months: int) -> None:
    """Shade a grid rate above its payer's UCL of that month: the formula looks the limit
    up in the detail by payer and by the month its header names."""
    if not grid.rows or not trend.rows or not months:
        return
    sheet = filler.book[grid.sheet]
    first = grid.columns[grid_key(GRID_MONTHS - 1)] + GRID_MONTHS - months
    last = grid.columns[grid_key(0)]
    top, bottom = grid.first_row, grid.first_row + grid.rows - 1
    corner = f"{get_column_letter(first)}{top}"
    payer = f"${get_column_letter(grid.columns['payer'])}{top}"
    header = f"{get_column_letter(first)}${top - 1}"

    def column(key: str) -> str:
        return trend.column_range(key).split("!")[1]

    rule = FormulaRule(formula=[
        f"AND(ISNUMBER({corner}),{corner}>SUMIFS({column('ucl')},{column('payer')},{payer},"
        f"{column('month')},LEFT({header},7)))"],
        fill=PatternFill("solid", fgColor=style.FAIL_FILL),
        font=None)
    sheet.conditional_formatting.add(
        f"{corner}:{get_column_letter(last)}{bottom}", rule)
