"""Sheets, tables and formulas of the report workbooks: laid out in templates, filled from data.

A template sheet holds a title, notes and one or more Excel tables side by side; the tables
(named, e.g. ``budget_lines``) are the data anchors. Filling writes a DataFrame into a table
wherever the finance team has moved it, copies each column's style from the template's
first data row, and resizes the table; everything else on the sheet is left as it was.

Cached values: openpyxl writes formulas without a result, so a reader that does not calculate
(pandas, python-calamine, a mail preview) would see blanks. Every formula rxxl writes carries
the value rxxl computed for it (:class:`Formula`), and :func:`save` puts those values into the
saved file's XML as the formulas' cached results. An array formula over a block carries one
value per cell of the block, and every cell of the block gets its value, as Excel writes it.
Excel and LibreOffice recalculate on open and show the same numbers.

Formulas of the template itself (a finance team's own additions) are kept but not
evaluated: rxxl is not a spreadsheet engine, and no well-kept Python library evaluates
Excel's functions, tables and structured references reliably. They are saved without a
cached value, the workbook is flagged for a full calculation on load (``fullCalcOnLoad``), and
:meth:`Filler.uncached_formulas` names them so that the report can say so.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from defusedxml import ElementTree
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.cell import coordinate_from_string, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from rxxl import __version__
from rxxl.errors import InputError
from rxxl.outputs import FORMULA_STARTS, atomic_path, xlsx_text
from rxxl.reports import sheet_rows, style

#: Empty rows kept between a growing table and what lies below it (the template's gap, at most).
STACK_GAP = 2


@dataclass(frozen=True)
class Column:
    """One column of a table: its header (with the unit), the frame column it shows, its
    number format and width."""

    header: str
    key: str
    number_format: str = style.TEXT
    width: float = style.WIDTHS["number"]
    #: Text longer than the column wraps onto more lines (the row grows) instead of being cut.
    wrap: bool = False


@dataclass(frozen=True)
class TableSpec:
    """An Excel table on a template sheet: the anchor a frame is written into."""

    name: str
    anchor: str
    columns: tuple[Column, ...]
    caption: str = ""
    #: Keys of the columns summed in the table's totals row (none: no totals row).
    totals: tuple[str, ...] = ()
    #: Data rows the layout keeps for the table under its template row: a table of a fixed
    #: size that feeds a chart (24 months) fills them without moving what lies below, so the
    #: chart's ranges, made for that size, stay right.
    reserved: int = 1


@dataclass(frozen=True)
class Formula:
    """A formula to write (without the leading ``=``) and the value rxxl computed for it.

    With ``ref``, a block such as ``"C5:E7"`` whose top-left cell is the one the formula is
    written to, it is an array formula over the block (Ctrl+Shift+Enter in Excel), and
    ``value`` holds the block's values: one list per row, one value per cell.
    """

    text: str
    value: Any
    ref: str | None = None


@dataclass
class Filled:
    """Where a table landed after filling: sheet, first data row, columns by key."""

    sheet: str
    first_row: int
    rows: int
    columns: dict[str, int]
    #: The sheet row of the table's totals row, if it has one.
    totals_row: int | None = None

    def total(self, key: str) -> str:
        """A1 reference, with the sheet, of a column's cell in the totals row."""
        if self.totals_row is None:
            raise InputError(f"the table on sheet {self.sheet} has no totals row")
        letter = get_column_letter(self.columns[key])
        return f"{quote_sheetname(self.sheet)}!${letter}${self.totals_row}"

    def cell(self, key: str, row: int = 0, *, absolute: bool = True) -> str:
        """A1 reference, with the sheet, of data row ``row`` (0-based; -1 the last) of a
        column."""
        index = self.rows + row if row < 0 else row
        letter = get_column_letter(self.columns[key])
        number = self.first_row + index
        ref = f"${letter}${number}" if absolute else f"{letter}{number}"
        return f"{quote_sheetname(self.sheet)}!{ref}"

    def column_range(self, key: str) -> str:
        letter = get_column_letter(self.columns[key])
        last = self.first_row + max(self.rows, 1) - 1
        return f"{quote_sheetname(self.sheet)}!${letter}${self.first_row}:${letter}${last}"


# --- Laying out a template -----------------------------------------------------------------

def register_styles(book: Workbook) -> None:
    for named in style.named_styles():
        if named.name not in book.named_styles:
            book.add_named_style(named)


def lay_out_sheet(sheet: Worksheet, title: str, subtitle: str, tables: Sequence[TableSpec],
                  *, presentation: bool = False) -> None:
    """Title, subtitle, empty tables with styled headers and one styled data row, widths,
    frozen headers and print setup."""
    sheet["A1"] = title
    sheet["A1"].style = style.TITLE_STYLE
    sheet["A2"] = subtitle
    sheet["A2"].style = style.SUBTITLE_STYLE
    header_rows = []
    for spec in tables:
        first_col, header_row, _, _ = range_boundaries(spec.anchor + ":" + spec.anchor)
        header_rows.append(header_row)
        if spec.caption:
            caption = sheet.cell(header_row - 1, first_col, spec.caption)
            caption.style = style.NOTE_STYLE
        for offset, column in enumerate(spec.columns):
            col = first_col + offset
            head = sheet.cell(header_row, col, column.header)
            head.style = style.HEADER_STYLE
            body = sheet.cell(header_row + 1, col)
            body.style = style.CALC_STYLE
            body.number_format = column.number_format
            if column.wrap:
                body.alignment = Alignment(horizontal="left", wrap_text=True)
            elif column.key in style.CENTERED_KEYS:
                body.alignment = Alignment(horizontal="center")
            elif not offset and column.number_format in (style.MONTH, style.DATE):
                # A month that labels its row reads from the left, as the labels above it.
                body.alignment = Alignment(horizontal="left")
            elif offset and column.number_format == style.TEXT:
                # Text after a number would touch it ("83.1%Inventory timing").
                body.alignment = Alignment(horizontal="left", indent=1)
            letter = get_column_letter(col)
            current = sheet.column_dimensions[letter].width or 0
            sheet.column_dimensions[letter].width = max(current, column.width)
        last = get_column_letter(first_col + len(spec.columns) - 1)
        table = Table(displayName=spec.name,
                      ref=f"{spec.anchor}:{last}{header_row + 1 + bool(spec.totals)}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
        if spec.totals:
            _add_totals_row(sheet, table, spec, first_col, header_row + 2)
        sheet.add_table(table)
    # A header wider than its column wraps (the header style): give its row the lines it
    # takes in the column as wide as the tables sharing it made it.
    for spec, header_row in zip(tables, header_rows, strict=True):
        first_col = range_boundaries(spec.anchor + ":" + spec.anchor)[0]
        lines = max(style.header_lines(column.header, sheet.column_dimensions[
            get_column_letter(first_col + offset)].width or column.width)
            for offset, column in enumerate(spec.columns))
        if lines > 1:
            current = sheet.row_dimensions[header_row].height or 0
            sheet.row_dimensions[header_row].height = max(current, style.header_height(lines))
    if len(set(header_rows)) > 1:
        # Stacked tables: the title stays in view, and the lowest table (the long list the
        # ones above summarise) repeats its header on every printed page.
        sheet.freeze_panes = "A3"
        print_setup(sheet, title_rows=max(header_rows))
    else:
        sheet.freeze_panes = f"A{min(header_rows) + 1}" if header_rows else "A4"
        print_setup(sheet, title_rows=min(header_rows) if header_rows else None)
    if presentation:
        sheet.sheet_view.showGridLines = False


def _add_totals_row(sheet: Worksheet, table: Table, spec: TableSpec, first_col: int,
                    row: int) -> None:
    """Excel's totals row under the table: "Total" in the first column, a sum in each of
    ``spec.totals``, in the total style (bold, a rule above)."""
    unknown = set(spec.totals) - {column.key for column in spec.columns}
    if unknown:
        raise ValueError(f"table {spec.name}: totals of unknown columns {sorted(unknown)}")
    table.totalsRowCount = 1
    last = get_column_letter(first_col + len(spec.columns) - 1)
    table.autoFilter = AutoFilter(ref=f"{spec.anchor}:{last}{row - 1}")
    for offset, column in enumerate(spec.columns):
        entry = TableColumn(id=offset + 1, name=column.header)
        if column.key in spec.totals:
            entry.totalsRowFunction = "sum"
        elif offset == 0:
            entry.totalsRowLabel = "Total"
        table.tableColumns.append(entry)
        cell = sheet.cell(row, first_col + offset)
        cell.style = style.TOTAL_STYLE
        cell.number_format = column.number_format


#: The stamp a template and the add-in's examples carry until a report writes its own.
TEMPLATE_STAMP = f"by rxxl {__version__}"


def print_setup(sheet: Worksheet, title_rows: int | None = None, *,
                footer_left: str | None = None, stamp: str | None = None) -> None:
    """Landscape Letter, margins, fit to as many pages wide as keep the scale at or above
    :data:`rxxl.reports.style.TARGET_PRINT_SCALE` (from the column widths; as many pages
    tall as it takes), the header row ``title_rows`` repeated on every page, and the footer:
    organization and month left (``footer_left``), the sheet centre, page x of y and the
    generation stamp right.

    Call it after the columns have their widths; :func:`finish_printing` calls it again for
    every sheet once a workbook is filled.
    """
    sheet.page_setup.orientation = style.ORIENTATION
    sheet.page_setup.paperSize = style.PAPER_SIZE
    sheet.page_setup.fitToWidth = style.pages_wide(style.printed_width(sheet))
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    for side, inches in style.MARGINS.items():
        setattr(sheet.page_margins, side, inches)
    sheet.oddFooter.left.text = style.footer_text(footer_left) if footer_left else (
        sheet.oddFooter.left.text or style.FOOTER_LEFT)
    sheet.oddFooter.center.text = style.FOOTER_CENTER
    if stamp is not None or not sheet.oddFooter.right.text:
        sheet.oddFooter.right.text = style.footer_right(stamp or TEMPLATE_STAMP)
    for part in (sheet.oddFooter.left, sheet.oddFooter.center, sheet.oddFooter.right):
        part.size = 8
    if title_rows:
        sheet.print_title_rows = f"{title_rows}:{title_rows}"


def finish_printing(book: Workbook, *, footer_left: str | None = None,
                    stamp: str | None = None) -> None:
    """:func:`print_setup` again on every worksheet of a filled workbook: the widths as they
    now are, the report's organization and month, and its generation stamp in the footer.
    A sheet of stacked tables repeats the header of its longest table (the one that spans
    pages); other sheets keep the repeated header rows as set."""
    for sheet in book.worksheets:
        tables = [range_boundaries(table.ref) for table in sheet.tables.values()]
        if len({top for _, top, _, _ in tables}) > 1:
            # Stacked tables: the longest one, as filled, is the one that spans pages.
            _, top, _, _ = max(tables, key=lambda ref: ref[3] - ref[1])
            sheet.print_title_rows = f"{top}:{top}"
        print_setup(sheet, footer_left=footer_left, stamp=stamp)


def keep_charts_off_tables(book: Workbook, gap: int = 2) -> None:
    """Move each chart anchored over a table's cells down, ``gap`` empty rows below the lowest
    table it covers: a filled table grows down from its template's one row, and a chart
    placed beside the empty table would cover its rows (the ``chart-over-table`` lint).
    Only charts anchored by one cell (the template's) are moved; their columns stay."""
    for sheet in book.worksheets:
        tables = [range_boundaries(table.ref) for table in sheet.tables.values()]
        for chart in sheet._charts:
            marker = getattr(chart.anchor, "_from", None)
            if marker is None or getattr(chart.anchor, "to", None) is not None:
                continue
            # Moving below one table can land on another further down: repeat until clear.
            for _ in range(len(tables) + 1):
                left, top, right, bottom = style.chart_cells(sheet, chart)
                below = [last_row for first_col, first_row, last_col, last_row in tables
                         if left <= last_col and first_col <= right and top <= last_row
                         and first_row <= bottom]
                if not below:
                    break
                marker.row = max(below) + gap  # 0-based: gap empty rows between
                marker.rowOff = 0


# --- Filling ---------------------------------------------------------------------------------


class Filler:
    """Writes data and formulas into a template workbook and remembers formula results."""

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self.cached: dict[str, dict[str, Any]] = {}
        #: Every table filled so far, by name: where it is now (rows inserted above it later
        #: move it, :meth:`_make_room`).
        self.filled: dict[str, Filled] = {}

    def table(self, name: str) -> tuple[Worksheet, Table]:
        for sheet in self.book.worksheets:
            if name in sheet.tables:
                return sheet, sheet.tables[name]
        raise InputError(f"the template has no Excel table named {name}; rebuild it with "
                         "`rxxl templates build` or restore the table")

    def location(self, name: str) -> str:
        """Where table ``name`` starts (its header's first cell), as a link location."""
        sheet, table = self.table(name)
        return f"{quote_sheetname(sheet.title)}!{table.ref.split(':')[0]}"

    def link(self, filled: Filled, key: str, locations: Sequence[str | None]) -> None:
        """Make data row i's ``key`` cell a link within the workbook to ``locations[i]``
        (``'Sheet'!A4``; None: no link), in the link style: every figure is traceable."""
        sheet = self.book[filled.sheet]
        for index, where in enumerate(locations):
            if where is None:
                continue
            cell = sheet.cell(filled.first_row + index, filled.columns[key])
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=where)
            font = copy(cell.font)
            font.color, font.underline = style.LINK_FONT, "single"
            cell.font = font

    def fill(self, name: str, frame: pd.DataFrame, keys: Sequence[str]) -> Filled:
        """Write ``frame[keys]`` into table ``name`` (its columns in that order)."""
        sheet, table = self.table(name)
        first_col, header_row, last_col, last_row = range_boundaries(table.ref)
        if last_col - first_col + 1 != len(keys):
            raise InputError(f"table {name} on sheet {sheet.title} has "
                             f"{last_col - first_col + 1} columns, rxxl writes {len(keys)}; "
                             "restore its columns (add new columns beside the table, not in it)")
        styles = [_style_of(sheet.cell(header_row + 1, first_col + i)) for i in range(len(keys))]
        totals = bool(table.totalsRowCount)
        self._make_room(sheet, first_col, last_col, last_row,
                        header_row + max(len(frame), 1) + totals)
        total_styles = [_style_of(sheet.cell(last_row, first_col + i)) for i in range(len(keys))]
        for row in range(header_row + 1, last_row + 1):
            for col in range(first_col, last_col + 1):
                sheet.cell(row, col).value = None
        rows = max(len(frame), 1)
        columns = [_cells(frame[key]) if key in frame.columns else [None] * len(frame)
                   for key in keys]
        for offset, (values, cell_style) in enumerate(zip(columns, styles, strict=True)):
            col = first_col + offset
            for index in range(rows):
                cell = sheet.cell(header_row + 1 + index, col)
                _apply_style(cell, cell_style)
                value = values[index] if index < len(values) else None
                self._write(sheet, cell, value)
        top_left, last = f"{get_column_letter(first_col)}{header_row}", get_column_letter(last_col)
        table.ref = f"{top_left}:{last}{header_row + rows + totals}"
        if table.autoFilter is not None:
            table.autoFilter.ref = f"{top_left}:{last}{header_row + rows}"
        filled = Filled(sheet.title, header_row + 1, len(frame),
                        {key: first_col + i for i, key in enumerate(keys)},
                        header_row + rows + 1 if totals else None)
        if totals:
            self._write_totals(sheet, table, filled, columns, total_styles)
        self._fit_wrapped_rows(sheet, filled, columns, styles)
        self.filled[name] = filled
        return filled

    @staticmethod
    def _fit_wrapped_rows(sheet: Worksheet, filled: Filled, columns: list[list[Any]],
                          styles: list[tuple[Any, ...]]) -> None:
        """Rows tall enough for the text of the columns that wrap: neither Excel nor
        LibreOffice grows a row written with a file, so wrapped lines would overlap."""
        wrapped = [offset for offset, saved in enumerate(styles) if saved[5].wrap_text]
        if not wrapped:
            return  # most tables: no widths to read
        widths = style.column_widths(sheet)
        for offset in wrapped:
            values = columns[offset]
            width = widths.get(min(filled.columns.values()) + offset, style.DEFAULT_WIDTH)
            for index, value in enumerate(values):
                lines = style.text_lines(value, width) if isinstance(value, str) else 1
                if lines > 1:
                    row = sheet.row_dimensions[filled.first_row + index]
                    row.height = max(row.height or 0, style.text_height(lines))

    def reserve(self, name: str, rows: int) -> None:
        """Give table ``name`` (without a totals row) ``rows`` data rows before it is filled,
        so that a formula written now can refer to a cell of its row ``k``: growing later
        would move what lies under the table's template row, that cell included."""
        sheet, table = self.table(name)
        first_col, header_row, last_col, last_row = range_boundaries(table.ref)
        if table.totalsRowCount:
            raise ValueError(f"table {name} has a totals row: fill it instead of reserving")
        new_last = header_row + max(rows, 1)
        self._make_room(sheet, first_col, last_col, last_row, new_last)
        if new_last > last_row:
            top_left = f"{get_column_letter(first_col)}{header_row}"
            table.ref = f"{top_left}:{get_column_letter(last_col)}{new_last}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref

    def _make_room(self, sheet: Worksheet, first_col: int, last_col: int, last_row: int,
                   new_last: int) -> None:
        """Rows for a table growing from ``last_row`` to ``new_last``: it grows into the empty
        rows below it; when it would come closer to what lies below it in its columns (the
        next stacked table, a chart, a note) than the template's gap (at most
        :data:`STACK_GAP` empty rows), whole rows are inserted (:mod:`rxxl.reports.sheet_rows`)
        so that the gap stays."""
        if new_last <= last_row:
            return
        below = sheet_rows.first_used_row(sheet, first_col, last_col, last_row)
        if below is None:
            return
        gap = min(below - last_row - 1, STACK_GAP)
        sheet_rows.insert_rows(self.book, sheet, below, new_last + gap + 1 - below,
                               moved_cells=lambda at, count: self._moved(sheet.title, at, count))

    def _moved(self, title: str, at: int, count: int) -> None:
        """Rows inserted at ``at`` of sheet ``title``: the cached values and the tables
        filled so far move with their cells."""
        cached = self.cached.get(title)
        if cached:
            moved = {}
            for coordinate, value in cached.items():
                column, row = coordinate_from_string(coordinate)
                moved[f"{column}{row + count if row >= at else row}"] = value
            self.cached[title] = moved
        for filled in self.filled.values():
            if filled.sheet == title and filled.first_row >= at:
                filled.first_row += count
                if filled.totals_row is not None:
                    filled.totals_row += count

    def _write_totals(self, sheet: Worksheet, table: Table, filled: Filled,
                      columns: list[list[Any]], styles: list[tuple[Any, ...]]) -> None:
        """The totals row: Excel's own SUBTOTAL over each column (so a filter narrows it),
        with rxxl's value of it cached. A function a finance team picked in Excel (average,
        count, max, ...) is kept."""
        first_col = min(filled.columns.values())
        for offset, (column, values, cell_style) in enumerate(
                zip(table.tableColumns, columns, styles, strict=True)):
            cell = sheet.cell(filled.totals_row, first_col + offset)
            _apply_style(cell, cell_style)
            function = column.totalsRowFunction
            if function in _SUBTOTALS:
                number, compute = _SUBTOTALS[function]
                self._write(sheet, cell, Formula(
                    f"SUBTOTAL({number},{table.displayName}[{_escape_column(column.name)}])",
                    compute([v for v in values if isinstance(v, (int, float))
                             and not isinstance(v, bool) and math.isfinite(v)])))
            elif column.totalsRowLabel:
                cell.value = column.totalsRowLabel

    def uncached_formulas(self) -> list[str]:
        """``'Sheet'!A1`` of every formula in the workbook that rxxl did not write, i.e. the
        template's own: saved without a cached value, since rxxl does not evaluate Excel
        formulas it did not compute itself."""
        found = []
        for sheet in self.book.worksheets:
            mine = self.cached.get(sheet.title, {})
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f" and cell.coordinate not in mine:
                        found.append(f"{quote_sheetname(sheet.title)}!{cell.coordinate}")
        return found

    def write(self, sheet: Worksheet | str, coordinate: str, value: Any,
              number_format: str | None = None, cell_style: str | None = None) -> None:
        """Write one value or :class:`Formula` into a cell."""
        sheet = self.book[sheet] if isinstance(sheet, str) else sheet
        cell = sheet[coordinate]
        if cell_style:
            cell.style = cell_style
        if number_format:
            cell.number_format = number_format
        self._write(sheet, cell, value)

    def _write(self, sheet: Worksheet, cell: Any, value: Any) -> None:
        if isinstance(value, Formula):
            self._write_formula(sheet, cell, value)
        elif isinstance(value, str):
            # Control characters as Excel's _xHHHH_ (openpyxl refuses them): rxxl.outputs.
            cell.value = xlsx_text(value)
            if value.startswith(FORMULA_STARTS):
                cell.data_type = "s"  # data text is never a formula
        else:
            cell.value = _plain(value)

    def _write_formula(self, sheet: Worksheet, cell: Any, formula: Formula) -> None:
        """Write a formula, or an array formula over its block, and remember its values."""
        cached = self.cached.setdefault(sheet.title, {})
        if formula.ref is None:
            cell.value = "=" + formula.text
            cached[cell.coordinate] = _plain(formula.value)
            return
        block = _block(sheet.title, cell.coordinate, formula)
        cell.value = ArrayFormula(formula.ref, "=" + formula.text)
        for coordinate, value in block:
            if coordinate != cell.coordinate:
                # Excel keeps only a value in the block's other cells. openpyxl skips an empty
                # unstyled cell, but writes one holding "", which gives save an element to fill.
                sheet[coordinate].value = ""
            cached[coordinate] = _plain(value)


def _block(sheet: str, coordinate: str, formula: Formula) -> list[tuple[str, Any]]:
    """The cells of an array formula's block with their values, row by row.

    Refuses a block that does not start at the formula's own cell (Excel keeps an array
    formula in the block's top-left cell) or values that do not fit the block.
    """
    where = f"array formula in {quote_sheetname(sheet)}!{coordinate}"
    first_col, first_row, last_col, last_row = range_boundaries(formula.ref)
    if f"{get_column_letter(first_col)}{first_row}" != coordinate:
        raise ValueError(f"{where}: its block {formula.ref} must start at {coordinate}, the "
                         "cell the formula is written to")
    rows, columns = last_row - first_row + 1, last_col - first_col + 1
    lines = formula.value
    if not (isinstance(lines, list | tuple) and len(lines) == rows
            and all(isinstance(line, list | tuple) and len(line) == columns for line in lines)):
        raise ValueError(f"{where}: its value must be {rows} rows of {columns} values, one per "
                         f"cell of {formula.ref}")
    return [(f"{get_column_letter(first_col + j)}{first_row + i}", value)
            for i, line in enumerate(lines) for j, value in enumerate(line)]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


#: Totals row functions: SUBTOTAL's function number (the 100s skip rows a filter hides) and
#: what it gives over the numbers of the column.
_SUBTOTALS = {
    "sum": (109, lambda values: sum(values)),
    "average": (101, _mean),
    "count": (103, len),
    "countNums": (102, len),
    "max": (104, lambda values: max(values) if values else 0),
    "min": (105, lambda values: min(values) if values else 0),
}


def _escape_column(name: str) -> str:
    """A column name inside a structured reference: ' escapes [ ] # and ' itself."""
    return "".join("'" + char if char in "[]#'" else char for char in name)


def _style_of(cell: Any) -> tuple[Any, ...]:
    return (cell.style, cell.number_format, copy(cell.font), copy(cell.fill),
            copy(cell.border), copy(cell.alignment))


def _apply_style(cell: Any, saved: tuple[Any, ...]) -> None:
    named, number_format, font, fill, border, alignment = saved
    cell.style = named
    cell.font, cell.fill, cell.border, cell.alignment = font, fill, border, alignment
    cell.number_format = number_format


def _plain(value: Any) -> Any:
    """A cell value openpyxl writes: NaN, NaT and NA are blank; numpy scalars plain."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date() if value == value.normalize() else \
            value.to_pydatetime()
    if isinstance(value, np.datetime64):
        return _plain(pd.Timestamp(value))
    return value


def _cells(series: pd.Series) -> list[Any]:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [_plain(v) for v in series]
    return [_plain(v) for v in series.astype(object).tolist()]


# --- Saving with cached formula results ------------------------------------------------------

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
# A cell element as openpyxl writes it: empty (<c .../>) or with content.
_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>/]*?)\s*(?:/>|>(.*?)</c>)', re.S)
# A formula element with its attributes (t="array" ref="C5:E7" for an array formula).
_FORMULA = re.compile(r"<f(?:\s[^>]*)?>.*?</f>", re.S)
_ARRAY_REF = re.compile(r'<f t="array" ref="([^"]+)"')
_MODIFIED = re.compile(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def save(filler: Filler, target: Path, *, stamp: dt.datetime | None = None,
         calculate_on_load: bool = True) -> Path:
    """Save the workbook atomically, with the cached result of every formula rxxl wrote.

    ``stamp`` (UTC) becomes the file's modified time and its zip entries' times instead of
    now, so saving the same content again gives the same bytes. ``calculate_on_load=False``
    clears the full-calculation flag, for a workbook whose every formula carries its cached
    value and whose functions a reader may not know (the RX_ examples opened without the
    add-in would otherwise recalculate to ``#NAME?``).
    """
    target = Path(target)
    # Excel computes every formula on open, the template's own ones included (their cached
    # values are missing), even when the template was last saved by Excel without the flag.
    filler.book.calculation.fullCalcOnLoad = calculate_on_load
    with atomic_path(target) as temporary:
        filler.book.save(temporary)
        _rewrite(temporary, filler.cached, stamp)
    return target


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.findall("rel:Relationship", _NS)}
    parts = {}
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        target = targets[sheet.get(f"{{{_NS['r']}}}id")]
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        parts[sheet.get("name")] = path
    return parts


def _rewrite(path: Path, cached: dict[str, dict[str, Any]], stamp: dt.datetime | None) -> None:
    """Put the cached values into the saved file's sheets, the codes-as-text note into each
    (:func:`_codes_as_text`) and, with a stamp, pin its times."""
    with zipfile.ZipFile(path) as archive:
        parts = _sheet_parts(archive)
        contents = {info.filename: (info, archive.read(info.filename))
                    for info in archive.infolist()}
    for sheet, part in parts.items():
        info, data = contents[part]
        xml = data.decode("utf-8")
        if sheet in cached:
            xml = _with_cached_values(xml, cached[sheet])
        contents[part] = (info, _codes_as_text(xml).encode("utf-8"))
    if stamp is not None:
        contents = _stamped(contents, stamp)
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in contents.values():
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


#: Elements that follow ignoredErrors in a worksheet (ECMA-376 CT_Worksheet's order).
_AFTER_IGNORED_ERRORS = re.compile(
    r"<(?:smartTags|drawing|legacyDrawing|legacyDrawingHF|drawingHF|picture|oleObjects|"
    r"controls|webPublishItems|tableParts|extLst)\b|</worksheet>")
_IGNORE_TEXT_NUMBERS = ('<ignoredErrors><ignoredError sqref="A1:XFD1048576" '
                        'numberStoredAsText="1"/></ignoredErrors>')


def _codes_as_text(xml: str) -> str:
    """A sheet's XML telling Excel that numbers stored as text are meant: NDCs, NPIs, cost
    centers and months are codes kept as text (leading zeros), and Excel would flag each
    with a green triangle ("number stored as text")."""
    if "<ignoredErrors" in xml:
        return xml
    found = _AFTER_IGNORED_ERRORS.search(xml)
    if found is None:
        return xml
    return xml[:found.start()] + _IGNORE_TEXT_NUMBERS + xml[found.start():]


def _with_cached_values(xml: str, values: dict[str, Any]) -> str:
    """A sheet's XML with its formulas' cached values.

    Only a formula cell or a cell of an array block takes a value: a cell written again with
    plain data after its formula keeps that data.
    """
    in_blocks = _array_cells(xml)

    def cached_cell(match: re.Match[str]) -> str:
        ref, attributes, content = match.groups()
        formula = _FORMULA.match(content or "")
        if ref not in values or not (formula or ref in in_blocks):
            return match.group(0)
        kind, shown = _cached_xml(values[ref])
        # openpyxl typed the cell for its formula or placeholder; the value's type replaces it.
        attributes = re.sub(r'\s+t="[^"]*"', "", attributes)
        type_attr = f' t="{kind}"' if kind else ""
        formula_xml = formula.group(0) if formula else ""
        return f'<c r="{ref}"{attributes}{type_attr}>{formula_xml}<v>{shown}</v></c>'

    return _CELL.sub(cached_cell, xml)


def _array_cells(xml: str) -> set[str]:
    """Every cell of the sheet's array formula blocks."""
    cells = set()
    for ref in _ARRAY_REF.findall(xml):
        first_col, first_row, last_col, last_row = range_boundaries(ref)
        cells.update(f"{get_column_letter(col)}{row}" for row in range(first_row, last_row + 1)
                     for col in range(first_col, last_col + 1))
    return cells


def _cached_xml(value: Any) -> tuple[str | None, str]:
    """The cell type (None: a number) and the ``<v>`` text of a cached value."""
    if value is None:
        return "str", ""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, (int, float)):
        return None, repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        from openpyxl.utils.datetime import to_excel

        return None, repr(float(to_excel(value)))
    if isinstance(value, str) and value in ERROR_CODES:
        # Text that is an error code is the error, as openpyxl writes it in a plain cell.
        return "e", value
    return "str", escape(str(value))


def _stamped(contents: dict[str, tuple[zipfile.ZipInfo, bytes]],
             stamp: dt.datetime) -> dict[str, tuple[zipfile.ZipInfo, bytes]]:
    """The parts with ``stamp`` as the workbook's modified time and every entry's zip time."""
    info, core = contents["docProps/core.xml"]
    modified = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    core = _MODIFIED.sub(rf"\g<1>{modified}\g<2>", core.decode("utf-8")).encode("utf-8")
    contents = {**contents, "docProps/core.xml": (info, core)}
    return {name: (zipfile.ZipInfo(name, stamp.timetuple()[:6]), data)
            for name, (_, data) in contents.items()}
