"""Insert whole rows into a worksheet as Excel's *Insert Rows* does, for stacked tables.

A template sheet stacks its tables vertically, each with one empty data row. When a table is
filled with more rows than it has and something lies below it in its columns (the next
table's caption, a chart, a finance team's own note), :func:`insert_rows` makes room: every
row from the insertion point down moves, with everything that points at those rows.
openpyxl's own ``insert_rows`` moves only the cells; Excel also moves, and this does too:

- cell values, styles, links (a link's own cell and its location, when it points at a moved
  row) and row heights;
- Excel tables, merged cells, conditional formats and data validations (and their formulas);
- charts and pictures anchored below the point, and every chart series' references;
- every formula of the workbook that refers to a moved row, on any sheet, array formulas
  included (a range that spans the point grows, as in Excel), defined names, the print area
  and the repeated print rows.

References are rewritten token by token with openpyxl's formula tokenizer; structured
references (``budget[Actual ($)]``) and names need no change, whole-column references none.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from rxxl.errors import InputError

#: One end of an A1 reference: column and row, each optional and optionally absolute.
_END = re.compile(r"^(\$?[A-Za-z]{1,3})?(\$?)(\d+)?$")


def _sheet_and_range(reference: str) -> tuple[str | None, str]:
    """``'Budget'!$A$4:$B$9`` -> ("Budget", "$A$4:$B$9"); no sheet -> (None, reference)."""
    if "!" not in reference:
        return None, reference
    sheet, _, cells = reference.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, cells


def _shift_end(end: str, at: int, count: int) -> str:
    match = _END.match(end)
    if not match or match.group(3) is None:
        return end  # a whole column, a name or an error: rows do not move it
    column, dollar, row = match.group(1) or "", match.group(2), int(match.group(3))
    return f"{column}{dollar}{row + count if row >= at else row}"


def shift_reference(reference: str, own_sheet: str | None, moved: str, at: int,
                    count: int) -> str:
    """``reference`` after ``count`` rows were inserted at row ``at`` of sheet ``moved``.

    A reference without a sheet is on ``own_sheet`` (the formula's sheet; None: it has
    none, as in a defined name). Each end moves on its own, so a range that spans the
    insertion point grows, as in Excel.

    >>> shift_reference("'Budget'!$B$5:$B$9", None, "Budget", 7, 3)
    "'Budget'!$B$5:$B$12"
    >>> shift_reference("C12", "Summary", "Budget", 7, 3)
    'C12'
    """
    sheet, cells = _sheet_and_range(reference)
    if (sheet or own_sheet) != moved or "[" in cells:
        return reference
    prefix = reference[: len(reference) - len(cells)]
    return prefix + ":".join(_shift_end(end, at, count) for end in cells.split(":"))


def shift_formula(formula: str, own_sheet: str | None, moved: str, at: int,
                  count: int) -> str:
    """A formula (with or without its ``=``) with every reference to a moved row shifted."""
    if own_sheet != moved and moved not in formula and moved.replace("'", "''") not in formula:
        return formula  # it names no cell of the moved sheet
    text = formula if formula.startswith("=") else "=" + formula
    tokens = Tokenizer(text).items
    out = []
    for token in tokens:
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            out.append(shift_reference(token.value, own_sheet, moved, at, count))
        else:
            out.append(token.value)
    shifted = "".join(out)
    return "=" + shifted if formula.startswith("=") else shifted


def first_used_row(sheet: Worksheet, first_col: int, last_col: int, below: int) -> int | None:
    """The first row after ``below`` that holds anything in columns ``first_col`` to
    ``last_col``: a value, a table or a merged range. None if empty.

    Charts are not counted: one below a table moves with the rows inserted above it, and one
    that a growing table reaches is moved below the table when the workbook is finished
    (:func:`rxxl.reports.workbook.keep_charts_off_tables`)."""
    rows = [row for (row, col), cell in sheet._cells.items()
            if row > below and first_col <= col <= last_col and cell.value is not None]
    for ref in [t.ref for t in sheet.tables.values()] + [
            r.coord for r in sheet.merged_cells.ranges]:
        left, top, right, bottom = range_boundaries(ref)
        if bottom > below and left <= last_col and first_col <= right:
            rows.append(max(top, below + 1))
    return min(rows) if rows else None


def insert_rows(book: Workbook, sheet: Worksheet, at: int, count: int, *,
                moved_cells: Callable[[int, int], None] | None = None) -> None:
    """Insert ``count`` empty rows before row ``at`` of ``sheet``, moving everything below
    and every reference to it. ``moved_cells(at, count)`` is called so that a caller that
    keeps cell positions (the :class:`~rxxl.reports.workbook.Filler`'s cached values and
    filled tables) moves them too.

    Refuses, naming the table, when an Excel table spans the insertion point (a table beside
    the growing one, longer than it): inserting rows inside it would put empty rows in its
    data.
    """
    if count <= 0:
        return
    for table in sheet.tables.values():
        name = table.displayName
        _, top, _, bottom = range_boundaries(table.ref)
        if top < at <= bottom:
            raise InputError(
                f"sheet {sheet.title}: a table needs {count} more rows at row {at}, but table "
                f"{name} ({table.ref}) spans that row; move {name} below or beside the tables "
                "above it so that rows can be inserted")
    title = sheet.title

    def rows(text: str, own: str | None) -> str:
        return shift_formula(text, own, title, at, count)

    _move_cells(sheet, at, count)
    _move_row_heights(sheet, at, count)
    for table in sheet.tables.values():
        table.ref = _shift_range(table.ref, at, count)
        if table.autoFilter is not None and table.autoFilter.ref:
            table.autoFilter.ref = _shift_range(table.autoFilter.ref, at, count)
    for merged in list(sheet.merged_cells.ranges):
        if merged.min_row >= at:
            merged.shift(row_shift=count)
    _move_conditional_formats(sheet, at, count, rows)
    for validation in sheet.data_validations.dataValidation:
        validation.sqref = MultiCellRange(
            [_shift_range(part.coord, at, count) for part in validation.sqref.ranges])
        for attribute in ("formula1", "formula2"):
            if getattr(validation, attribute):
                setattr(validation, attribute, rows(getattr(validation, attribute), title))
    for drawing in [*sheet._charts, *sheet._images]:
        _move_anchor(drawing, at, count)
    for breaks in sheet.row_breaks.brk:
        if breaks.id >= at:
            breaks.id += count
    if sheet.print_title_rows:
        sheet.print_title_rows = _shift_range(sheet.print_title_rows.replace("$", ""), at,
                                              count)
    for other in book.worksheets:
        _shift_sheet_formulas(other, rows)
        for chart in other._charts:
            _shift_chart(chart, rows)
        for defined in list(other.defined_names.values()):
            defined.attr_text = rows(defined.attr_text, None)
        if other.print_area:
            other.print_area = [rows(area, None) for area in other.print_area.split(",")]
    for defined in list(book.defined_names.values()):
        defined.attr_text = rows(defined.attr_text, None)
    if moved_cells is not None:
        moved_cells(at, count)


def _shift_range(ref: str, at: int, count: int) -> str:
    return ":".join(_shift_end(end, at, count) for end in ref.split(":"))


def _move_cells(sheet: Worksheet, at: int, count: int) -> None:
    """Move the stored cells from row ``at`` down, the lowest first (none is overwritten)."""
    for row, col in sorted((key for key in sheet._cells if key[0] >= at), reverse=True):
        cell = sheet._cells.pop((row, col))
        cell.row = row + count
        sheet._cells[(row + count, col)] = cell
        if cell.hyperlink is not None:
            cell.hyperlink.ref = cell.coordinate


def _move_row_heights(sheet: Worksheet, at: int, count: int) -> None:
    dimensions = sheet.row_dimensions
    for row in sorted((r for r in list(dimensions) if r >= at), reverse=True):
        dimension = dimensions.pop(row)
        dimension.index = row + count
        dimensions[row + count] = dimension


def _move_conditional_formats(sheet: Worksheet, at: int, count: int,
                              rows: Callable[[str, str | None], str]) -> None:
    moved = ConditionalFormattingList()
    for formatting in sheet.conditional_formatting:
        where = " ".join(_shift_range(part.coord, at, count) for part in formatting.sqref.ranges)
        for rule in formatting.rules:
            rule.formula = [rows(text, sheet.title) for text in (rule.formula or [])]
            moved.add(where, rule)
    sheet.conditional_formatting = moved


def _move_anchor(drawing, at: int, count: int) -> None:
    """A chart or picture anchored at or below row ``at``. A cell anchor (``"E20"``, as
    openpyxl keeps it until saved) moves its row; a marker anchor counts rows from 0, so
    row ``at`` is marker row ``at - 1``."""
    anchor = drawing.anchor
    if isinstance(anchor, str):
        drawing.anchor = _shift_end(anchor, at, count)
        return
    for marker in (getattr(anchor, "_from", None), getattr(anchor, "to", None)):
        if marker is not None and marker.row >= at - 1:
            marker.row += count


def _shift_sheet_formulas(sheet: Worksheet, rows: Callable[[str, str | None], str]) -> None:
    for cell in sheet._cells.values():
        value = cell.value
        if isinstance(value, ArrayFormula):
            value.text = rows(value.text, sheet.title)
            value.ref = _sheetless(rows(f"{_quoted(sheet.title)}!{value.ref}", None))
        elif cell.data_type == "f" and isinstance(value, str):
            cell.value = rows(value, sheet.title)
        if cell.hyperlink is not None and cell.hyperlink.location:
            cell.hyperlink.location = rows(cell.hyperlink.location, None)


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _sheetless(reference: str) -> str:
    return _sheet_and_range(reference)[1]


def _shift_chart(chart, rows: Callable[[str, str | None], str]) -> None:
    """Every reference a chart's series hold (values, categories, names, x and y)."""
    # A combined chart (columns and a line) keeps its second chart's series apart.
    series_lists = {id(part): part.series for part in getattr(chart, "_charts", [chart])}
    for series in (one for found in series_lists.values() for one in found):
        for part in (series.val, series.cat, series.xVal, series.yVal, series.tx):
            if part is None:
                continue
            for holder in ("numRef", "strRef", "multiLvlStrRef"):
                reference = getattr(part, holder, None)
                if reference is not None and reference.f:
                    reference.f = rows(reference.f, None)
