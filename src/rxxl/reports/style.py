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

from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

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

#: Print setup shared by every sheet.
ORIENTATION = "landscape"
PAPER_SIZE = 1  # Letter; a US health system prints on Letter
#: Footer text (openpyxl's ``ws.oddFooter.left.text`` / ``.right.text``); Excel's codes:
#: &D date, &T time, &P page, &N pages.
FOOTER_LEFT = "rxxl &D &T"
FOOTER_RIGHT = "Page &P of &N"
#: The same footer for writers that take one packed string (XlsxWriter).
FOOTER = "&L&8" + FOOTER_LEFT + "&R&8" + FOOTER_RIGHT


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
