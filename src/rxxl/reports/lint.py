"""A lint for report workbooks: the checkable rules of ``shared/DOMAIN.md`` §7.

The test suite runs it over every template and generated report, so a sheet that breaks the
finance standard fails a test rather than a reviewer's eye. A broken rule is a
:class:`Finding` (rule id, sheet, cell, what is wrong and how to fix it), never an exception.

``sheet`` is ``""`` for a workbook-level finding; ``cell`` is an A1 reference to what is wrong
(a cell ``B7``, a range ``A1:C1``, rows ``5:9`` or columns ``C:D``) or ``""`` for the whole
sheet. Chart sheets have no cells: only the ``hidden`` rule applies to them.

Rules (``RULES`` maps each id to its check):

``input-style``
    A formula never carries the ``rx_input`` style: an input cell holds a constant.
``formula-constant``
    No numbers inside formulas except 0 and 1 (and any in ``allowed_numbers``). A sign is an
    operator, so ``-1`` counts as 1; ``5%`` counts as 0.05. Numbers in argument positions that
    are codes rather than figures are allowed: ``SUBTOTAL`` and ``AGGREGATE`` function numbers,
    ``ROUND``/``ROUNDUP``/``ROUNDDOWN`` digits, ``MATCH``/``XMATCH``/``XLOOKUP`` match and
    search modes, the ``WEEKDAY``/``WEEKNUM`` return type. Text, TRUE/FALSE, references and
    names are not constants. A formula that cannot be parsed is reported here too.
``row-formula``
    Consistent formulas, judged cell by cell in R1C1 terms (the formula relative to its own
    cell). A cell *breaks the pattern* in a direction (across its row, or down its column) when
    the cells immediately before and after it in that direction hold the same relative formula
    and it does not: a formula with a different relative formula, or a number constant not
    styled ``rx_input`` or ``rx_header`` (a figure pasted over a formula). A formula break is
    deliberate, and not reported, when the cell is styled ``rx_total`` or when a neighbour in
    the other direction holds the same relative formula and breaks the same way (a subtotal
    row crossing columns of line items, a quarter-total column crossing month columns). Only
    breaks with agreeing cells on *both* sides are found: the first and last cell of a run
    (an opening column, a total column) are never compared, so a table whose columns each hold
    one formula down the rows, and a time series whose rows each hold one formula across the
    months, both lint clean. One finding per cell.
``merged-cells``
    No merged ranges (use Center Across Selection for a heading over several columns).
``hidden``
    No hidden or very hidden sheet (except those in ``allowed_hidden_sheets``), row or column.
``number-format``
    Every number constant, date and formula has a number format other than General. With
    ``values``, a formula whose cached value is text or TRUE/FALSE is exempt.
``freeze-panes``
    Every worksheet has freeze panes.
``print-setup``
    Every worksheet prints landscape at no less than ``style.MIN_PRINT_SCALE`` (60%): the
    scale is ``page_setup.scale`` or, fit to pages, ``min(100%, pages x printable width /
    printed width)`` from ``fitToWidth`` (unset = 1, 0 = any) and the column widths (and the
    same for ``fitToHeight`` and the row heights); a sheet with tables repeats a header row
    on every page (print titles); the footer holds page x of y (``&P`` and ``&N``) and the
    generation stamp (``style.STAMP_WORD``).
``header-height``
    A table's header row is tall enough for its wrapped headers: a header wider than its
    column wraps to ``style.header_lines`` lines, which need ``style.header_height`` points.
``chart-over-table``
    No chart is anchored over a table's cells (header, data or totals): the cells a chart
    covers come from its anchor (two cells, or one cell and the chart's size over the
    column widths and row heights).
``chart-spline``
    Every line or scatter series is drawn straight, point to point: ``c:smooth val="0"``
    written out. A spline invents values between the months; and a series without the
    element is drawn as a spline by LibreOffice (the schema's default for ``smooth`` is true).
``chart-axis-zero``
    A value axis of amounts or counts starts at zero (``scaling.min = 0``), so that bar
    heights and the gap between two lines read true. An axis is of amounts or counts unless
    every series on it takes its values from cells formatted as a percentage (a rate may
    be zoomed to its range). Scatter and bubble charts are not checked.
``checks-sheet``
    A worksheet named ``Checks`` and a workbook-level defined name ``MasterCheck`` that refers to
    one cell on it; with ``values``, that cell holds 0 (within 1e-9).
``kpi-checks``
    Every number in the ``This month`` column of a table named ``kpis`` (the summary's KPI
    tiles) is referred to by a formula on the ``Checks`` sheet: each figure a CFO reads first
    is tied to its detail.
``error-values``
    With ``values`` only: no cell holds an Excel error value (``#DIV/0!``, ``#N/A``, ...).
``defined-names``
    Every defined name (workbook or sheet scope; Excel's reserved ``_xlnm`` names aside) refers
    to one absolute cell or rectangular range on an existing sheet, such as ``Checks!$B$4`` or
    ``'Capital requests'!$C$5:$C$9``, never to a constant, a formula or several areas.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.chartsheet import Chartsheet
from openpyxl.formula import Tokenizer
from openpyxl.formula.tokenizer import Token, TokenizerError
from openpyxl.formula.translate import Translator, TranslatorError
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.formula import ArrayFormula

from rxxl.errors import InputError
from rxxl.reports import style
from rxxl.reports.style import HEADER_STYLE, INPUT_STYLE, ORIENTATION, TOTAL_STYLE

__all__ = ["CHECKS_SHEET", "MASTER_CHECK", "RULES", "Finding", "effective_scale", "format_findings",
           "lint_workbook"]


CHECKS_SHEET = "Checks"
MASTER_CHECK = "MasterCheck"
#: The master check passes within this tolerance: it is a sum of differences of money figures.
MASTER_CHECK_TOLERANCE = 1e-9
_ALWAYS_ALLOWED_NUMBERS = frozenset({0.0, 1.0})
#: Argument positions (0-based) that take a code, not a figure, so any number is allowed there.
_CODE_ARGUMENTS: dict[str, frozenset[int]] = {
    "SUBTOTAL": frozenset({0}),
    "AGGREGATE": frozenset({0, 1}),
    "ROUND": frozenset({1}),
    "ROUNDUP": frozenset({1}),
    "ROUNDDOWN": frozenset({1}),
    "MATCH": frozenset({2}),
    "XMATCH": frozenset({2, 3}),
    "XLOOKUP": frozenset({4, 5}),
    "WEEKDAY": frozenset({1}),
    "WEEKNUM": frozenset({1}),
}
# Excel stores functions newer than 2007 with these prefixes in the file.
_FUNCTION_PREFIXES = ("_xlfn.", "_xlws.")
_CELL_RE = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)([1-9][0-9]{0,6})")
_ROW_RE = re.compile(r"(\$?)([1-9][0-9]{0,6})")
_COLUMN_RE = re.compile(r"(\$?)([A-Za-z]{1,3})")
_ABSOLUTE_AREA = r"\$[A-Za-z]{1,3}\$[1-9][0-9]{0,6}"
_NAME_TARGET_RE = re.compile(
    rf"(?P<sheet>'(?:[^']|'')+'|[^'!:\s]+)!(?P<area>{_ABSOLUTE_AREA}(?::{_ABSOLUTE_AREA})?)")


@dataclass(frozen=True)
class Finding:
    """One broken rule.

    Attributes
    ----------
    rule : str
        The rule id, a key of :data:`RULES`.
    sheet : str
        The sheet's name, or ``""`` for a workbook-level finding.
    cell : str
        An A1 reference (cell, range, rows or columns), or ``""`` for the whole sheet.
    message : str
        What is wrong and how to fix it.
    """

    rule: str
    sheet: str
    cell: str
    message: str


@dataclass(slots=True)
class _Cell:
    """What the rules need to know about one non-empty cell, gathered in one pass."""

    row: int
    column: int
    coordinate: str
    data_type: str
    style: str
    number_format: str
    #: The formula text; ``None`` for a constant and for a data-table formula.
    formula: str | None = None
    #: The formula relative to its own cell (R1C1 terms); ``None`` when it has none.
    relative: str | None = None
    constants: list[str] = field(default_factory=list)
    parse_error: str = ""


@dataclass
class _Sheet:
    title: str
    sheet: object
    #: Non-empty cells by (row, column), in row-major order.
    cells: dict[tuple[int, int], _Cell]


@dataclass
class _Context:
    workbook: Workbook
    sheets: list[_Sheet]
    #: Cached values by sheet title and (row, column); ``None`` without a values workbook.
    values: dict[str, dict[tuple[int, int], object]] | None
    allowed_hidden_sheets: frozenset[str]


def _function_name(token_value: str) -> str:
    name = token_value.rstrip("(").upper()
    for prefix in _FUNCTION_PREFIXES:
        name = name.removeprefix(prefix.upper())
    return name


def _relative_reference(reference: str, row: int, column: int) -> str:
    """A reference token in R1C1 terms relative to (row, column); names pass unchanged."""
    sheet, bang, area = reference.rpartition("!")
    pieces = area.split(":")
    ranged = len(pieces) > 1
    out = []
    for piece in pieces:
        if match := _CELL_RE.fullmatch(piece):
            column_abs, letters, row_abs, digits = match.groups()
            out.append(_r1c1("R", row_abs, int(digits), row)
                       + _r1c1("C", column_abs, column_index_from_string(letters), column))
        elif ranged and (match := _ROW_RE.fullmatch(piece)):
            out.append(_r1c1("R", match[1], int(match[2]), row))
        elif ranged and (match := _COLUMN_RE.fullmatch(piece)):
            out.append(_r1c1("C", match[1], column_index_from_string(match[2]), column))
        else:
            out.append(piece)
    return sheet + bang + ":".join(out)


def _r1c1(axis: str, absolute: str, index: int, origin: int) -> str:
    return f"{axis}{index}" if absolute else f"{axis}[{index - origin}]"


def _parse_formula(cell: _Cell, text: str, allowed_numbers: frozenset[float]) -> None:
    """Fill in ``cell.relative`` and ``cell.constants`` from one tokenization of ``text``."""
    try:
        tokens = [t for t in Tokenizer(text).items if t.type != Token.WSPACE]
    except TokenizerError as error:
        cell.parse_error = str(error)
        return
    # One frame per open function, bracket or array: [function name or "", argument index].
    frames: list[list] = []
    parts = []
    for position, token in enumerate(tokens):
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            parts.append(_relative_reference(token.value, cell.row, cell.column))
            continue
        parts.append(token.value.upper() if token.type == Token.FUNC else token.value)
        if token.subtype == Token.OPEN:
            name = _function_name(token.value) if token.type == Token.FUNC else ""
            frames.append([name, 0])
        elif token.subtype == Token.CLOSE and frames:
            frames.pop()
        elif token.type == Token.SEP and token.subtype == Token.ARG and frames:
            frames[-1][1] += 1
        elif token.type == Token.OPERAND and token.subtype == Token.NUMBER:
            percent = (position + 1 < len(tokens) and tokens[position + 1].type == Token.OP_POST
                       and tokens[position + 1].value == "%")
            number = float(token.value) / (100 if percent else 1)
            if number in allowed_numbers:
                continue
            if frames and frames[-1][1] in _CODE_ARGUMENTS.get(frames[-1][0], ()):
                continue
            cell.constants.append(token.value + ("%" if percent else ""))
    cell.relative = "".join(parts)


def _style_name(xl_cell) -> str:
    try:
        return xl_cell.style
    except IndexError:
        # openpyxl fails on files (LibreOffice writes them) whose cell formats point past the
        # list of named styles; such a cell has no named style the lint can see.
        return ""


def _scan_sheet(title: str, worksheet, allowed_numbers: frozenset[float]) -> _Sheet:
    cells: dict[tuple[int, int], _Cell] = {}
    if isinstance(worksheet, Chartsheet):
        return _Sheet(title, worksheet, cells)
    for row in worksheet.iter_rows():
        for xl_cell in row:
            value = xl_cell.value
            if value is None:
                continue
            cell = _Cell(xl_cell.row, xl_cell.column, xl_cell.coordinate, xl_cell.data_type,
                         _style_name(xl_cell), xl_cell.number_format)
            if xl_cell.data_type == "f":
                cell.formula = value.text if isinstance(value, ArrayFormula) else value
                if isinstance(cell.formula, str):
                    _parse_formula(cell, cell.formula, allowed_numbers)
                else:  # a what-if data table: Excel fills it, there is no formula text
                    cell.formula = None
                    cell.data_type = "table"
            cells[xl_cell.row, xl_cell.column] = cell
    return _Sheet(title, worksheet, cells)


def _scan_values(workbook: Workbook) -> dict[str, dict[tuple[int, int], object]]:
    values = {}
    for title in workbook.sheetnames:
        sheet = workbook[title]
        if isinstance(sheet, Chartsheet):
            continue
        values[title] = {(c.row, c.column): c.value for row in sheet.iter_rows() for c in row
                         if c.value is not None}
    return values


def _is_formula(cell: _Cell) -> bool:
    return cell.data_type in ("f", "table")


def _worksheets(context: _Context) -> Iterator[_Sheet]:
    return (sheet for sheet in context.sheets if not isinstance(sheet.sheet, Chartsheet))


# --- Rules ------------------------------------------------------------------------------------

def _input_style(context: _Context) -> Iterator[Finding]:
    """A formula with the input style: an input must hold a constant."""
    for sheet in _worksheets(context):
        for cell in sheet.cells.values():
            if _is_formula(cell) and cell.style == INPUT_STYLE:
                yield Finding("input-style", sheet.title, cell.coordinate,
                              f"formula in an {INPUT_STYLE} cell; inputs hold constants: type "
                              f"the value, or restyle the cell rx_calc if it is a calculation")


def _formula_constant(context: _Context) -> Iterator[Finding]:
    """Numbers inside formulas, other than 0, 1 and argument codes."""
    for sheet in _worksheets(context):
        for cell in sheet.cells.values():
            if cell.parse_error:
                yield Finding("formula-constant", sheet.title, cell.coordinate,
                              f"formula {cell.formula} cannot be parsed ({cell.parse_error}); "
                              f"correct it")
            elif cell.constants:
                numbers = ", ".join(cell.constants)
                yield Finding("formula-constant", sheet.title, cell.coordinate,
                              f"formula {cell.formula} contains the constant(s) {numbers}; put "
                              f"each in an {INPUT_STYLE} cell (named if it is a key input) and "
                              f"refer to that cell")


_ACROSS, _DOWN = (0, 1), (1, 0)


def _neighbours(sheet: _Sheet, cell: _Cell, step: tuple[int, int]) -> tuple[_Cell | None, ...]:
    return (sheet.cells.get((cell.row - step[0], cell.column - step[1])),
            sheet.cells.get((cell.row + step[0], cell.column + step[1])))


def _pattern_around(sheet: _Sheet, cell: _Cell, step: tuple[int, int]) -> _Cell | None:
    """The cell before ``cell`` if it and the cell after hold one relative formula that
    ``cell`` does not, else ``None``."""
    before, after = _neighbours(sheet, cell, step)
    if (before is None or after is None or before.relative is None
            or before.relative != after.relative or cell.relative == before.relative):
        return None
    return before


def _could_break(cell: _Cell) -> bool:
    if cell.relative is not None:
        return True
    return cell.data_type in ("n", "d") and cell.style not in (INPUT_STYLE, HEADER_STYLE)


def _deliberate_break(sheet: _Sheet, cell: _Cell, step: tuple[int, int]) -> bool:
    if cell.relative is None:
        return False
    if cell.style == TOTAL_STYLE:
        return True
    other = _DOWN if step == _ACROSS else _ACROSS
    return any(n is not None and n.relative == cell.relative
               and _pattern_around(sheet, n, step) is not None
               for n in _neighbours(sheet, cell, other))


def _expected_formula(pattern: _Cell, cell: _Cell) -> str:
    try:
        return Translator(pattern.formula, pattern.coordinate).translate_formula(cell.coordinate)
    except TranslatorError:
        return pattern.formula


def _row_formula(context: _Context) -> Iterator[Finding]:
    """A cell that breaks the relative formula its neighbours on both sides share."""
    for sheet in _worksheets(context):
        for cell in sheet.cells.values():
            if not _could_break(cell):
                continue
            for step in (_ACROSS, _DOWN):
                pattern = _pattern_around(sheet, cell, step)
                if pattern is None or _deliberate_break(sheet, cell, step):
                    continue
                before, after = _neighbours(sheet, cell, step)
                what = "formula" if cell.relative is not None else "constant"
                yield Finding(
                    "row-formula", sheet.title, cell.coordinate,
                    f"{what} breaks the formula {before.coordinate} and {after.coordinate} "
                    f"share; this cell should read {_expected_formula(pattern, cell)} (style it "
                    f"{TOTAL_STYLE} if it is a deliberate total)")
                break


def _merged_cells(context: _Context) -> Iterator[Finding]:
    """Merged ranges."""
    for sheet in _worksheets(context):
        for merged in sheet.sheet.merged_cells.ranges:
            yield Finding("merged-cells", sheet.title, merged.coord,
                          f"merged range {merged.coord}; unmerge it and use Center Across "
                          f"Selection (horizontal alignment centerContinuous) for a heading")


def _runs(indices: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Runs of consecutive integers as (first, last)."""
    first = last = None
    for index in sorted(indices):
        if last is not None and index == last + 1:
            last = index
            continue
        if first is not None:
            yield first, last
        first = last = index
    if first is not None:
        yield first, last


def _hidden(context: _Context) -> Iterator[Finding]:
    """Hidden sheets, rows and columns."""
    for sheet in context.sheets:
        state = sheet.sheet.sheet_state
        if state != "visible" and sheet.title not in context.allowed_hidden_sheets:
            yield Finding("hidden", sheet.title, "",
                          f"sheet is {state}; unhide it, or delete it if nobody needs it")
        if isinstance(sheet.sheet, Chartsheet):
            continue
        rows = [index for index, dim in sheet.sheet.row_dimensions.items() if dim.hidden]
        for first, last in _runs(rows):
            yield Finding("hidden", sheet.title, f"{first}:{last}",
                          f"rows {first}:{last} are hidden; unhide them (group them with an "
                          f"outline left expanded if they are detail)")
        columns = set()
        for letter, dim in sheet.sheet.column_dimensions.items():
            if dim.hidden:
                low = dim.min or column_index_from_string(letter)
                columns.update(range(low, (dim.max or low) + 1))
        for first, last in _runs(columns):
            span = f"{get_column_letter(first)}:{get_column_letter(last)}"
            yield Finding("hidden", sheet.title, span,
                          f"columns {span} are hidden; unhide them, or move what they hold to "
                          f"a calculation sheet")


def _number_format(context: _Context) -> Iterator[Finding]:
    """Numbers, dates and formulas formatted General."""
    for sheet in _worksheets(context):
        cached = (context.values or {}).get(sheet.title, {})
        for cell in sheet.cells.values():
            if cell.number_format != "General":
                continue
            if _is_formula(cell):
                if isinstance(cached.get((cell.row, cell.column)), str | bool):
                    continue
            elif cell.data_type not in ("n", "d"):
                continue
            yield Finding("number-format", sheet.title, cell.coordinate,
                          "number formatted General; give it a house format from "
                          "rxxl.reports.style (DOLLARS, COUNT, PERCENT, RATIO, DAYS, DATE, ...)")


def _freeze_panes(context: _Context) -> Iterator[Finding]:
    """Worksheets without freeze panes."""
    for sheet in _worksheets(context):
        if sheet.sheet.freeze_panes is None:
            yield Finding("freeze-panes", sheet.title, "",
                          "no freeze panes; freeze below the header row and right of the "
                          "label column")


#: Printable height in points of a Letter landscape page (8.5 in) less the margins.
_PRINTABLE_HEIGHT = (8.5 - style.MARGINS["top"] - style.MARGINS["bottom"]) * 72


def effective_scale(worksheet) -> float:
    """The scale (percent) a worksheet prints at: with fit to page, the smaller of the
    width's (fit to ``fitToWidth`` pages, unset = 1, 0 = any number) and the height's (fit to
    ``fitToHeight`` pages, unset = 1, 0 = any number), from the column widths and row heights,
    never above 100; without it, ``page_setup.scale`` (unset = 100)."""
    properties = worksheet.sheet_properties.pageSetUpPr
    if properties is None or not properties.fitToPage:
        return float(worksheet.page_setup.scale or 100)
    scales = [100.0]
    wide = worksheet.page_setup.fitToWidth
    wide = 1 if wide is None else int(wide)
    if wide > 0:
        scales.append(style.print_scale(style.printed_width(worksheet), wide))
    tall = worksheet.page_setup.fitToHeight
    tall = 1 if tall is None else int(tall)
    if tall > 0:
        default = worksheet.sheet_format.defaultRowHeight or style.DEFAULT_HEIGHT
        height = sum(worksheet.row_dimensions[row].height or default
                     if row in worksheet.row_dimensions else default
                     for row in range(1, worksheet.max_row + 1))
        scales.append(min(100.0, 100.0 * tall * _PRINTABLE_HEIGHT / height))
    return min(scales)


def _print_setup(context: _Context) -> Iterator[Finding]:
    """Worksheets that do not print landscape, print below the minimum scale, do not repeat
    their tables' header rows, or lack the footer of page x of y and the generation stamp."""
    for sheet in _worksheets(context):
        worksheet = sheet.sheet
        orientation = worksheet.page_setup.orientation
        if orientation != ORIENTATION:
            yield Finding("print-setup", sheet.title, "",
                          f"orientation is {orientation or 'unset (portrait)'}; set "
                          f"page_setup.orientation = '{ORIENTATION}'")
        scale = effective_scale(worksheet)
        if scale < style.MIN_PRINT_SCALE:
            yield Finding("print-setup", sheet.title, "",
                          f"prints at about {scale:.0f}%, below the {style.MIN_PRINT_SCALE}% "
                          f"that stays legible; fit to more pages wide (page_setup.fitToWidth, "
                          f"rxxl.reports.style.pages_wide) with fitToHeight = 0")
        if worksheet.tables and not worksheet.print_title_rows:
            yield Finding("print-setup", sheet.title, "",
                          "no print titles; repeat the main table's header row on every page "
                          "(print_title_rows = '4:4')")
        footer = worksheet.oddFooter
        text = " ".join(part.text or "" for part in (footer.left, footer.center, footer.right))
        if not text.strip():
            yield Finding("print-setup", sheet.title, "",
                          "no footer; set it with rxxl.reports.workbook.print_setup"
                          " (organization and month, sheet, page x of y, generation stamp)")
        elif "&P" not in text or "&N" not in text or style.STAMP_WORD not in text:
            yield Finding("print-setup", sheet.title, "",
                          f"the footer lacks page x of y (&P of &N) or the generation stamp "
                          f"('{style.STAMP_WORD} ...'); set it with "
                          f"rxxl.reports.style.footer_right(stamp)")


def _header_height(context: _Context) -> Iterator[Finding]:
    """Table header rows too short for their wrapped headers."""
    for sheet in _worksheets(context):
        worksheet = sheet.sheet
        widths = style.column_widths(worksheet)
        default = worksheet.sheet_format.defaultRowHeight or style.DEFAULT_HEIGHT
        for table in worksheet.tables.values():
            if table.headerRowCount == 0:
                continue
            first, row, last, _ = range_boundaries(table.ref)
            height = (worksheet.row_dimensions[row].height or default
                      if row in worksheet.row_dimensions else default)
            for column in range(first, last + 1):
                text = worksheet.cell(row, column).value
                if text is None:
                    continue
                width = widths.get(column, style.DEFAULT_WIDTH)
                lines = style.header_lines(str(text), width)
                needed = style.header_height(lines) if lines > 1 else 0.0
                if height + 1e-6 < needed:
                    yield Finding("header-height", sheet.title,
                                  f"{get_column_letter(column)}{row}",
                                  f"header wraps to {lines} lines in a column {width:g} wide "
                                  f"but the row is {height:g} pt tall; set "
                                  f"row_dimensions[{row}].height = {needed:g} "
                                  f"(rxxl.reports.style.header_height) or widen the column")


def _chart_over_table(context: _Context) -> Iterator[Finding]:
    """Charts anchored over the cells of an Excel table."""
    for sheet in _worksheets(context):
        worksheet = sheet.sheet
        for chart in getattr(worksheet, "_charts", []):
            covered = style.chart_cells(worksheet, chart)
            if covered is None:
                continue
            left, top, right, bottom = covered
            where = f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"
            for table in worksheet.tables.values():
                name = table.displayName
                first_col, first_row, last_col, last_row = range_boundaries(table.ref)
                if left <= last_col and first_col <= right and top <= last_row \
                        and first_row <= bottom:
                    yield Finding("chart-over-table", sheet.title, where,
                                  f"a chart covers {where}, over table {name} ({table.ref}); "
                                  f"anchor it beside or below the table's cells")


# A series' values reference: 'Sheet name'!$B$5:$B$28 or Sheet!B5:B28.
_SERIES_REF_RE = re.compile(r"^(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^!']+))!(?P<area>.+)$")


def _charts_with_place(context: _Context):
    """(sheet title, top-left cell of the chart, chart, one of its plots) for every plot."""
    for sheet in _worksheets(context):
        worksheet = sheet.sheet
        for chart in getattr(worksheet, "_charts", []):
            covered = style.chart_cells(worksheet, chart)
            where = "" if covered is None else f"{get_column_letter(covered[0])}{covered[1]}"
            for plot in getattr(chart, "_charts", None) or [chart]:
                yield sheet.title, where, chart, plot


def _chart_name(chart) -> str:
    """The chart's title text, for a message (titles are labels, never claim values)."""
    try:
        runs = [run.t for paragraph in chart.title.tx.rich.p for run in (paragraph.r or [])]
    except AttributeError:
        return "an untitled chart"
    return f"chart {' '.join(runs)!r}" if runs else "an untitled chart"


def _chart_spline(context: _Context) -> Iterator[Finding]:
    """Line and scatter series drawn as splines, or not said to be straight."""
    for title, where, chart, plot in _charts_with_place(context):
        if plot.tagname not in ("lineChart", "line3DChart", "scatterChart"):
            continue
        for number, series in enumerate(plot.series, start=1):
            if series.smooth is not False:
                yield Finding("chart-spline", title, where,
                              f"series {number} of {_chart_name(chart)} is drawn as a spline "
                              f"(smooth is {series.smooth}); set series.smooth = False so "
                              f"the line goes straight from point to point")


def _is_percent_series(workbook: Workbook, series) -> bool:
    """True when the series' value cells are formatted as a percentage."""
    reference = getattr(getattr(series.val, "numRef", None), "f", None) if series.val else None
    found = _SERIES_REF_RE.match(reference or "")
    if found is None:
        return False
    title = found["plain"] or found["quoted"].replace("''", "'")
    if title not in workbook.sheetnames:
        return False
    try:
        left, top, _, _ = range_boundaries(found["area"].replace("$", ""))
    except (ValueError, TypeError):
        return False
    return "%" in (workbook[title].cell(row=top, column=left).number_format or "")


def _chart_axis_zero(context: _Context) -> Iterator[Finding]:
    """Amount and count axes that do not start at zero."""
    for title, where, chart, plot in _charts_with_place(context):
        if plot.tagname in ("scatterChart", "bubbleChart") or not plot.series:
            continue
        axis = getattr(plot, "y_axis", None)
        if axis is None or getattr(axis, "tagname", "") != "valAx":
            continue
        if all(_is_percent_series(context.workbook, series) for series in plot.series):
            continue
        low = axis.scaling.min if axis.scaling is not None else None
        if low is None or low != 0:
            yield Finding("chart-axis-zero", title, where,
                          f"the value axis of {_chart_name(chart)} holds amounts or counts "
                          f"but starts at {'the data' if low is None else f'{low:g}'}; set "
                          f"y_axis.scaling.min = 0 so bars and gaps read true")


def _name_target(defined) -> tuple[str, str] | None:
    """(sheet, area without ``$``) of a name that refers to one absolute cell or range."""
    target = _NAME_TARGET_RE.fullmatch(defined.attr_text or "")
    if target is None:
        return None
    sheet = target["sheet"]
    if sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, target["area"].replace("$", "")


def _master_check_name(workbook: Workbook):
    # Excel treats names case-insensitively; openpyxl keys them as written.
    for name, defined in workbook.defined_names.items():
        if name.lower() == MASTER_CHECK.lower():
            return defined
    return None


def _checks_sheet(context: _Context) -> Iterator[Finding]:
    """The Checks sheet and its master check, 0 when ``values`` are given."""
    workbook = context.workbook
    if CHECKS_SHEET not in workbook.sheetnames:
        yield Finding("checks-sheet", "", "",
                      f"no sheet named {CHECKS_SHEET}; add one with each check as a row and the "
                      f"master check (the number of failures) named {MASTER_CHECK}")
        return
    defined = _master_check_name(workbook)
    if defined is None:
        yield Finding("checks-sheet", CHECKS_SHEET, "",
                      f"no workbook-level defined name {MASTER_CHECK}; name the master check "
                      f"cell on {CHECKS_SHEET} (workbook scope)")
        return
    target = _name_target(defined)
    if target is None or target[0] != CHECKS_SHEET or ":" in target[1]:
        yield Finding("checks-sheet", CHECKS_SHEET, "",
                      f"{MASTER_CHECK} refers to {defined.attr_text}; make it refer to one "
                      f"cell on {CHECKS_SHEET}, e.g. {CHECKS_SHEET}!$C$4")
        return
    if context.values is None:
        return
    coordinate = target[1]
    match = _CELL_RE.fullmatch(coordinate)
    value = context.values.get(CHECKS_SHEET, {}).get(
        (int(match[4]), column_index_from_string(match[2])))
    if value is None:
        problem = "has no cached value; recalculate the workbook (e.g. LibreOffice headless)"
    elif isinstance(value, bool) or not isinstance(value, int | float):
        problem = f"is {value!r}, not a number; fix the formula"
    elif math.isfinite(value) and abs(value) <= MASTER_CHECK_TOLERANCE:
        return
    else:
        problem = f"is {value:g}, not 0; the failing rows of {CHECKS_SHEET} say what to fix"
    yield Finding("checks-sheet", CHECKS_SHEET, coordinate, f"master check {problem}")


def _error_values(context: _Context) -> Iterator[Finding]:
    """Cached Excel error values (only with ``values``)."""
    if context.values is None:
        return
    for sheet in _worksheets(context):
        for (row, column), value in context.values.get(sheet.title, {}).items():
            if isinstance(value, str) and value in ERROR_CODES:
                coordinate = f"{get_column_letter(column)}{row}"
                yield Finding("error-values", sheet.title, coordinate,
                              f"cell shows {value}; guard the formula (IFERROR where a blank "
                              f"is right) or fix the input it depends on")


def _defined_names(context: _Context) -> Iterator[Finding]:
    """Defined names that are not one absolute cell or range on an existing sheet."""
    scopes = [("", context.workbook.defined_names)]
    scopes += [(sheet.title, sheet.sheet.defined_names) for sheet in _worksheets(context)]
    for scope, names in scopes:
        for name, defined in names.items():
            if defined.is_reserved:
                continue
            target = _name_target(defined)
            if target is None:
                yield Finding("defined-names", scope, "",
                              f"name {name} refers to {defined.attr_text!r}; names are for key "
                              f"inputs and checks: make it refer to one absolute cell or range, "
                              f"such as Inputs!$C$5, and put any value in that cell")
            elif target[0] not in context.workbook.sheetnames:
                yield Finding("defined-names", scope, "",
                              f"name {name} refers to sheet {target[0]!r}, which does not "
                              f"exist; point it at the cell it stands for, or delete it")


#: The summary's KPI table (its name) and the column of the month's figure (its header).
KPI_TABLE, KPI_FIGURE = "kpis", "This month"


def _checked_cells(workbook: Workbook, sheet_title: str) -> set[tuple[int, int]]:
    """The cells of sheet ``sheet_title`` that a formula on the Checks sheet refers to."""
    covered: set[tuple[int, int]] = set()
    for row in workbook[CHECKS_SHEET].iter_rows():
        for cell in row:
            value = cell.value.text if isinstance(cell.value, ArrayFormula) else cell.value
            if not (isinstance(value, str) and value.startswith("=")):
                continue
            try:
                tokens = Tokenizer(value).items
            except TokenizerError:
                continue
            for token in tokens:
                if token.type != Token.OPERAND or token.subtype != Token.RANGE:
                    continue
                where, _, area = token.value.rpartition("!")
                if where.strip("'").replace("''", "'") != sheet_title or "[" in area:
                    continue
                try:
                    left, top, right, bottom = range_boundaries(area.replace("$", ""))
                except ValueError:
                    continue
                covered.update((r, c) for r in range(top, bottom + 1)
                               for c in range(left, right + 1))
    return covered


def _kpi_checks(context: _Context) -> Iterator[Finding]:
    """Every figure of the summary's KPI table has a check on the Checks sheet."""
    workbook = context.workbook
    if CHECKS_SHEET not in workbook.sheetnames:
        return
    for sheet in _worksheets(context):
        table = sheet.sheet.tables.get(KPI_TABLE) if hasattr(sheet.sheet, "tables") else None
        if table is None:
            continue
        left, top, right, bottom = range_boundaries(table.ref)
        headers = {sheet.sheet.cell(top, col).value: col for col in range(left, right + 1)}
        column = headers.get(KPI_FIGURE)
        if column is None:
            continue
        checked = _checked_cells(workbook, sheet.title)
        for row in range(top + 1, bottom + 1):
            value = sheet.sheet.cell(row, column).value
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue  # a blank figure is not a figure to tie
            if (row, column) not in checked:
                measure = sheet.sheet.cell(row, left).value
                yield Finding("kpi-checks", sheet.title, f"{get_column_letter(column)}{row}",
                              f"KPI {measure!r} has no check on {CHECKS_SHEET}; add a check that"
                              " ties it to the figure on its detail sheet")


#: Rule id → check, in the order findings are reported within a sheet.
RULES: dict[str, Callable[[_Context], Iterator[Finding]]] = {
    "input-style": _input_style,
    "formula-constant": _formula_constant,
    "row-formula": _row_formula,
    "merged-cells": _merged_cells,
    "hidden": _hidden,
    "number-format": _number_format,
    "freeze-panes": _freeze_panes,
    "print-setup": _print_setup,
    "header-height": _header_height,
    "chart-over-table": _chart_over_table,
    "chart-spline": _chart_spline,
    "chart-axis-zero": _chart_axis_zero,
    "checks-sheet": _checks_sheet,
    "kpi-checks": _kpi_checks,
    "error-values": _error_values,
    "defined-names": _defined_names,
}


# --- Entry points -----------------------------------------------------------------------------

def _open(source, *, data_only: bool, argument: str) -> Workbook:
    if isinstance(source, Workbook):
        if source.read_only or source.write_only:
            raise InputError(f"{argument}: the lint needs a workbook opened normally, not "
                             f"read-only or write-only (sheet settings are not available)")
        return source
    if not isinstance(source, str | os.PathLike):
        raise InputError(f"{argument} must be a path to an .xlsx file or an openpyxl Workbook, "
                         f"not {type(source).__name__}")
    try:
        return load_workbook(source, data_only=data_only)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InputError(f"{argument}: cannot open {os.fspath(source)!r} as an Excel workbook "
                         f"({error})") from error


def lint_workbook(source, *, values=None, allowed_numbers: Iterable[float] = (),
                  allowed_hidden_sheets: Iterable[str] = (),
                  skip: Iterable[str] = ()) -> list[Finding]:
    """Check a workbook against the rules of ``DOMAIN.md`` §7.

    Parameters
    ----------
    source : str, os.PathLike or openpyxl.Workbook
        The workbook with its formulas (loaded with ``data_only=False``, the default).
    values : str, os.PathLike or openpyxl.Workbook, optional
        The same workbook with cached values (``data_only=True``), e.g. after LibreOffice
        recalculated it; enables the master-check value and the ``error-values`` rule.
    allowed_numbers : iterable of float, optional
        Numbers allowed inside formulas besides 0 and 1.
    allowed_hidden_sheets : iterable of str, optional
        Sheets that may be hidden, e.g. an add-in's configuration sheet.
    skip : iterable of str, optional
        Rule ids not to run, e.g. ``{"checks-sheet"}`` for a detail workbook with no checks.

    Returns
    -------
    list of Finding
        Workbook-level findings first, then by sheet in tab order; within a sheet, by rule in
        :data:`RULES` order and then by cell. Empty when the workbook passes.

    Raises
    ------
    InputError
        If ``source`` or ``values`` is not a workbook, ``values`` has other sheets than
        ``source``, or ``skip`` names an unknown rule.

    Examples
    --------
    >>> from openpyxl import Workbook
    >>> [f.rule for f in lint_workbook(Workbook(), skip={"print-setup", "defined-names"})]
    ['checks-sheet', 'freeze-panes']
    """
    skip = set(skip)
    if unknown := skip - RULES.keys():
        raise InputError(f"skip: unknown rule(s) {sorted(unknown)}; known: {list(RULES)}")
    workbook = _open(source, data_only=False, argument="source")
    cached = None
    if values is not None:
        value_workbook = _open(values, data_only=True, argument="values")
        if value_workbook.sheetnames != workbook.sheetnames:
            raise InputError(f"values has sheets {value_workbook.sheetnames}, source has "
                             f"{workbook.sheetnames}; pass the same workbook loaded with "
                             f"data_only=True")
        cached = _scan_values(value_workbook)
    numbers = _ALWAYS_ALLOWED_NUMBERS | {float(n) for n in allowed_numbers}
    sheets = [_scan_sheet(title, workbook[title], numbers) for title in workbook.sheetnames]
    context = _Context(workbook, sheets, cached, frozenset(allowed_hidden_sheets))
    findings = [f for rule, check in RULES.items() if rule not in skip for f in check(context)]
    order = {title: index for index, title in enumerate(workbook.sheetnames, start=1)}
    return sorted(findings, key=lambda f: order.get(f.sheet, 0))


def format_findings(findings: Iterable[Finding]) -> str:
    """The findings as text, one line each, for a test failure or a terminal.

    Examples
    --------
    >>> print(format_findings([Finding("freeze-panes", "Inventory", "", "no freeze panes")]))
    1 finding
    Inventory: [freeze-panes] no freeze panes
    >>> format_findings([])
    'No findings.'
    """
    findings = list(findings)
    if not findings:
        return "No findings."
    lines = [f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"]
    for finding in findings:
        where = "!".join(part for part in (finding.sheet, finding.cell) if part) or "workbook"
        lines.append(f"{where}: [{finding.rule}] {finding.message}")
    return "\n".join(lines)
