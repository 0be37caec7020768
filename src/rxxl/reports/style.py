"""The house style of every rxxl workbook, in one place (``shared/DOMAIN.md`` §7).

Templates, generated reports, the claim detail workbook and the workbook lint all take their
fonts, fills and number formats from here, so a sheet looks the same whichever writer made it.

Cell roles (FAST Standard / ICAEW code: one distinct style per role):

- ``rx_input``: a value an analyst may change (blue text on pale yellow). Only constants.
- ``rx_calc``: a formula or a value rxxl computed (black text).
- ``rx_header``: a column header (bold, white on dark blue, wrapped, bottom border).
- ``rx_title``: the sheet title in A1; ``rx_subtitle`` the line under it.
- ``rx_check``: a check result (0 when the sheet ties out); ``rx_note`` explanatory text.

Number formats: thousands separators, negatives in parentheses, zero as a dash, percentages
with one decimal; never General for a number.
"""

from __future__ import annotations

import math
import re
import textwrap

from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import column_index_from_string, coordinate_to_tuple
from openpyxl.utils.cell import range_boundaries

FONT_NAME = "Calibri"
FONT_SIZE = 10
HEADER_FILL = "1F3864"  # dark blue
HEADER_FONT = "FFFFFF"
INPUT_FONT = "0000FF"  # blue: the FAST convention for inputs
INPUT_FILL = "FFF2CC"  # pale yellow
CHECK_FILL = "E2EFDA"  # pale green
FAIL_FILL = "F8CBAD"  # pale red, for conditional formatting of failures
NOTE_FONT = "595959"
LINK_FONT = "0563C1"  # Excel's own hyperlink blue, distinct from the inputs' blue

# --- Number formats -------------------------------------------------------------------------
DOLLARS = '#,##0;(#,##0);"–"'
DOLLARS_CENTS = '#,##0.00;(#,##0.00);"–"'
COUNT = '#,##0;(#,##0);"–"'
#: A change of a rate in percentage points (the value is in points: 1.2 is 1.2 points).
POINTS = '+0.0" pts";-0.0" pts";0.0" pts"'
#: A count whose zero is news (checks that fail): 0, not a dash.
TALLY = "#,##0"
PERCENT = '0.0%;(0.0%);"–"'
#: Ratios such as inventory turns.
RATIO = '#,##0.0;(#,##0.0);"–"'
DAYS = '#,##0.0;(#,##0.0);"–"'
DATE = "yyyy-mm-dd"
MONTH = "mmm yyyy"
TEXT = "@"

#: Column widths (characters) by kind of content.
WIDTHS = {"label": 34, "text": 18, "code": 12, "number": 14, "percent": 10, "date": 12,
          "flag": 8}

#: Print setup shared by every sheet: Letter landscape (A4 landscape is wider, so a sheet
#: legible on Letter is legible on A4), half-inch side margins.
ORIENTATION = "landscape"
PAPER_SIZE = 1  # Letter; a US health system prints on Letter
#: Margins in inches (left, right, top, bottom, header, footer).
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.75, "header": 0.3, "footer": 0.3}
#: Width in points of the printable area: Letter landscape is 11 in wide, less the margins.
PRINTABLE_WIDTH = (11.0 - MARGINS["left"] - MARGINS["right"]) * 72
#: No sheet prints below this scale (percent): below it 10 pt text is under 6 pt on paper.
MIN_PRINT_SCALE = 60
#: The scale a wide sheet aims for when it is split over pages, with room above the minimum
#: for the difference between this estimate of column widths and the reader's own.
TARGET_PRINT_SCALE = 75
#: The word that starts the generation stamp in every footer; the lint looks for it.
STAMP_WORD = "Generated"
#: Footer text (openpyxl's ``ws.oddFooter.left/center/right.text``); Excel's codes: &A sheet
#: name, &P page, &N pages; a literal ampersand is ``&&``. The left part (organization and
#: month) and the stamp are the report's, written at fill time; these are the template's.
FOOTER_LEFT = "rxxl"
FOOTER_CENTER = "&A"
FOOTER_PAGES = "Page &P of &N"


#: Characters a one-line footer cannot hold (XML forbids most; a line break would split it).
_NOT_IN_FOOTER = re.compile("[\x00-\x1f\x7f\ufffe\uffff]+")


def footer_text(text: str) -> str:
    r"""``text`` as footer text: Excel reads ``&`` as the start of a code, so it is doubled;
    control characters (from a data file's names) become a space.

    >>> footer_text("Smith & Jones Health\r\n· March 2026")
    'Smith && Jones Health · March 2026'
    """
    return _NOT_IN_FOOTER.sub(" ", text).replace("&", "&&")


def footer_right(stamp: str) -> str:
    """The footer's right part: page x of y and the generation stamp (``stamp`` is the text the
    package writes as its generation time, e.g. ``2026-03-05 14:02``).

    >>> footer_right("2026-03-05 14:02")
    'Page &P of &N · Generated 2026-03-05 14:02'
    """
    return f"{FOOTER_PAGES} · {STAMP_WORD} {footer_text(stamp)}"


def packed_footer(left: str, stamp: str) -> str:
    """The whole footer as one string, for writers that take it packed (XlsxWriter): &L, &C
    and &R start the left, centre and right parts, &8 sets 8 pt.

    >>> packed_footer("Mercy · March 2026", "2026-03-05 14:02")
    '&L&8Mercy · March 2026&C&8&A&R&8Page &P of &N · Generated 2026-03-05 14:02'
    """
    return f"&L&8{footer_text(left)}&C&8{FOOTER_CENTER}&R&8{footer_right(stamp)}"


def column_points(width: float) -> float:
    """Printed width in points of a column ``width`` characters wide.

    Excel measures a column in widths of the default font's digit (7 px for Calibri 11 at
    96 dpi) plus 5 px of padding; a point is 96/72 px.
    https://learn.microsoft.com/en-us/dotnet/api/documentformat.openxml.spreadsheet.column

    >>> column_points(8.43)  # Excel's default column: 64 px
    48.0
    """
    return round(width * 7 + 5) * 72 / 96


def pages_wide(total_points: float) -> int:
    """How many pages wide a sheet ``total_points`` wide prints on, fit to that many pages:
    the fewest at which the scale, ``min(100%, pages x PRINTABLE_WIDTH / width)``, is at least
    :data:`TARGET_PRINT_SCALE`.

    >>> pages_wide(700), pages_wide(960), pages_wide(961)
    (1, 1, 2)
    """
    return max(1, math.ceil(total_points * TARGET_PRINT_SCALE / 100 / PRINTABLE_WIDTH - 1e-9))


def print_scale(total_points: float, pages: int) -> float:
    """The scale (percent) of a sheet ``total_points`` wide fit to ``pages`` pages wide; fitting
    never enlarges, so at most 100.

    >>> print_scale(1440, 1), print_scale(1440, 2), print_scale(500, 1)
    (50.0, 100.0, 100.0)
    """
    return min(100.0, 100.0 * pages * PRINTABLE_WIDTH / total_points) if total_points else 100.0


def _font(**kwargs) -> Font:
    return Font(name=FONT_NAME, size=kwargs.pop("size", FONT_SIZE), **kwargs)


_THIN = Side(style="thin", color="808080")


def named_styles() -> list[NamedStyle]:
    """The named styles a template registers (new objects each call: openpyxl binds a style
    to one workbook)."""
    return [
        NamedStyle(name="rx_title", font=_font(bold=True, size=14, color=HEADER_FILL)),
        NamedStyle(name="rx_subtitle", font=_font(italic=True, color=NOTE_FONT)),
        NamedStyle(
            name="rx_header",
            font=_font(bold=True, color=HEADER_FONT),
            fill=PatternFill("solid", fgColor=HEADER_FILL),
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
            border=Border(bottom=_THIN),
        ),
        NamedStyle(name="rx_input", font=_font(color=INPUT_FONT),
                   fill=PatternFill("solid", fgColor=INPUT_FILL),
                   border=Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)),
        NamedStyle(name="rx_calc", font=_font()),
        NamedStyle(name="rx_total", font=_font(bold=True), border=Border(top=_THIN)),
        NamedStyle(name="rx_check", font=_font(bold=True),
                   fill=PatternFill("solid", fgColor=CHECK_FILL)),
        NamedStyle(name="rx_note", font=_font(italic=True, color=NOTE_FONT)),
        # The Summary's commentary: a sentence a row, overflowing to the right (not wrapped).
        NamedStyle(name="rx_commentary", font=_font(size=FONT_SIZE + 1),
                   alignment=Alignment(vertical="center", horizontal="left")),
    ]


INPUT_STYLE = "rx_input"
CALC_STYLE = "rx_calc"
HEADER_STYLE = "rx_header"
TITLE_STYLE = "rx_title"
CHECK_STYLE = "rx_check"
TOTAL_STYLE = "rx_total"
SUBTITLE_STYLE = "rx_subtitle"
NOTE_STYLE = "rx_note"
COMMENTARY_STYLE = "rx_commentary"


#: Height in points of one line of header text (10 pt bold Calibri) and the row's padding.
HEADER_LINE_HEIGHT = 12.75
HEADER_PADDING = 1.5
#: One line of 10 pt body text, in points.
BODY_LINE_HEIGHT = 13.0


def header_lines(text: str, width: float) -> int:
    """Lines a wrapped header takes in a column ``width`` characters wide: its words wrapped
    at about one character per unit of width (bold 10 pt text is about as wide as the 11 pt
    digit a width counts); a word longer than the column breaks across lines.

    >>> header_lines("Spend", 14), header_lines("Variance to budget", 14)
    (1, 2)
    """
    return max(1, len(textwrap.wrap(str(text), width=max(int(width) - 1, 1))))


def header_height(lines: int) -> float:
    """Row height in points that shows ``lines`` lines of header text.

    >>> header_height(2)
    27.0
    """
    return lines * HEADER_LINE_HEIGHT + HEADER_PADDING


def text_lines(text: str, width: float) -> int:
    """Lines a wrapped body cell takes: regular 10 pt text fits about 1.15 characters per
    unit of width (narrower than the bold header and the digit a width counts).

    >>> text_lines("Budget sheet: drug lines' actual equals the summary's drug spend", 64)
    1
    """
    return max(1, len(textwrap.wrap(str(text), width=max(int(width * 1.15) - 1, 1))))


def text_height(lines: int) -> float:
    """Row height in points that shows ``lines`` lines of 10 pt body text.

    >>> text_height(2)
    27.0
    """
    return lines * BODY_LINE_HEIGHT + 1.0


#: Excel's default column width (characters) and row height (points).
DEFAULT_WIDTH = 8.43
DEFAULT_HEIGHT = 15.0


def column_widths(sheet) -> dict[int, float]:
    """Width (characters) of each column, 1 to the sheet's last used one, of an openpyxl
    worksheet: its set width, else the sheet's default. A loaded workbook keeps one
    dimension for a run of equal columns (``min`` to ``max``), so every column of a run
    gets its width."""
    default = sheet.sheet_format.defaultColWidth or DEFAULT_WIDTH
    widths = dict.fromkeys(range(1, sheet.max_column + 1), default)
    for letter, dimension in sheet.column_dimensions.items():
        if dimension.width:
            first = dimension.min or column_index_from_string(letter)
            for column in range(first, max(dimension.max or first, first) + 1):
                if column in widths:
                    widths[column] = dimension.width
    return widths


def printed_width(sheet) -> float:
    """Printed width in points of an openpyxl worksheet's used columns at 100%, or of the
    columns of its print area when it has one (a sheet may keep detail beside what it
    prints)."""
    widths = column_widths(sheet)
    area = getattr(sheet, "print_area", None)
    if area and "," not in area:  # one area: its columns; several: the whole sheet
        first, _, last, _ = range_boundaries(area.split("!")[-1].replace("$", ""))
        widths = {column: width for column, width in widths.items() if first <= column <= last}
    return sum(column_points(width) for width in widths.values())


_EMU_PER_PIXEL = 9525
_EMU_PER_CM = 360000


def chart_cells(worksheet, chart) -> tuple[int, int, int, int] | None:
    """(first column, first row, last column, last row), 1-based, of the cells a chart covers,
    from its anchor: two cells, or one cell and the chart's size (walking the column widths
    and row heights)."""
    anchor = chart.anchor
    if isinstance(anchor, str):
        col, row = coordinate_to_tuple(anchor)[::-1]
        start = (col - 1, 0, row - 1, 0)
        size = (chart.width * _EMU_PER_CM, chart.height * _EMU_PER_CM)
    elif getattr(anchor, "_from", None) is None:
        return None  # an absolute anchor: placed by position, not over cells
    else:
        marker = anchor._from
        start = (marker.col, marker.colOff or 0, marker.row, marker.rowOff or 0)
        to = getattr(anchor, "to", None)
        if to is not None:
            # The "to" marker's cell is covered only if the chart reaches into it.
            last_col = to.col + (1 if to.colOff else 0)
            last_row = to.row + (1 if to.rowOff else 0)
            return (start[0] + 1, start[2] + 1, max(last_col, start[0] + 1),
                    max(last_row, start[2] + 1))
        size = (anchor.ext.width, anchor.ext.height)
    widths = column_widths(worksheet)
    default_height = worksheet.sheet_format.defaultRowHeight or DEFAULT_HEIGHT

    def column_emu(column: int) -> float:
        return round(widths.get(column, DEFAULT_WIDTH) * 7 + 5) * _EMU_PER_PIXEL

    def row_emu(row: int) -> float:
        height = (worksheet.row_dimensions[row].height or default_height
                  if row in worksheet.row_dimensions else default_height)
        return height * 96 / 72 * _EMU_PER_PIXEL

    def last(first: int, offset: float, extent: float, measure) -> int:
        index, remaining = first, extent + offset - measure(first)
        while remaining > 0:
            index += 1
            remaining -= measure(index)
        return index

    first_col, first_row = start[0] + 1, start[2] + 1
    return (first_col, first_row, last(first_col, start[1], size[0], column_emu),
            last(first_row, start[3], size[1], row_emu))


#: Columns shown centred: flags (F/U, Yes, TRUE) and the trend bars.
CENTERED_KEYS = frozenset({"fu", "ytd_fu", "material", "in_band", "out_of_control", "trend"})

#: Eight heights of a sparkline-style trend, lowest first (Unicode block elements, U+2581-8).
SPARK_BARS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"


def sparkline(values) -> str:
    """A trend as one bar per month, scaled from the lowest to the highest of the values
    (a flat trend is all middle bars); a month without a figure is a space. "" without any
    figure.

    >>> sparkline([1, 2, 3, 4, 5, 6, 7, 8])
    '▁▂▃▄▅▆▇█'
    >>> sparkline([5, float("nan"), 5])
    '▄ ▄'
    """
    numbers = [float(v) if v is not None else math.nan for v in values]
    known = [v for v in numbers if math.isfinite(v)]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    top = len(SPARK_BARS) - 1
    return "".join(
        " " if not math.isfinite(v) else
        SPARK_BARS[round((v - low) / span * top) if span else top // 2] for v in numbers)
