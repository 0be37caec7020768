"""Writing result tables to CSV or .xlsx safely.

- Atomic: written to a temporary file beside the target and renamed into place, so a failed
  run leaves any earlier output untouched and never a half-written file.
- No formula injection: text from data that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab
  or carriage return) is written as text, never as a formula. In .xlsx the cell is typed as a
  string; in CSV, which has no types, such text gets a leading apostrophe, the convention
  spreadsheets use to show the rest as typed.
- Control characters in text keep every row one record. CSV follows RFC 4180: records end
  in CRLF and a field holding a CR, LF or quote is quoted, so a bare carriage return in a
  drug name no longer starts a new record; every other character is written as it is, and
  Python's csv module, pandas and rxxl's loader read the same rows and values back. An .xlsx
  cell cannot hold most control characters (XML 1.0 forbids them, and XML readers turn a CR
  into LF), so they are written as Excel's own escape ``_xHHHH_`` (ECMA-376 Part 1,
  ST_Xstring), which Excel and LibreOffice show as the character and XlsxWriter (the claim
  detail) writes too; a literal ``_xHHHH_`` in the data is kept literal by ``_x005F_``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from rxxl.errors import InputError

#: Excel's last row (1,048,576) less the header.
EXCEL_MAX_DATA_ROWS = 1_048_575
#: Leading characters that make a spreadsheet read text as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: What an .xlsx cell's text escapes as _xHHHH_: the C0 controls but tab and LF, and an
#: underscore that starts a literal _xHHHH_.
_XLSX_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x1f]")
#: RFC 4180's record end; Python's csv module quotes any field holding one of its characters.
CSV_LINE_END = "\r\n"


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    os.close(handle)
    # mkstemp makes the file private; a report is an ordinary file (umask decides).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        yield Path(temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [name for name in frame.columns
            if frame[name].dtype == object or isinstance(frame[name].dtype, (pd.StringDtype,
                                                                                pd.CategoricalDtype))]


def defuse_csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells that a spreadsheet would read as formulas start with ``'``.

    >>> defuse_csv_text(pd.DataFrame({"id": ["=HYPERLINK(1)", "C1"], "n": [-1, 2]}))
                   id  n
    0  '=HYPERLINK(1) -1
    1              C1  2
    """
    out = frame.copy()
    for name in _text_columns(frame):
        text = out[name].astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(dtype=bool)
        if risky.any():
            out[name] = text.where(~risky, "'" + text)
    return out


def xlsx_text(text: str) -> str:
    r"""``text`` as an .xlsx cell holds it: control characters as Excel's ``_xHHHH_``.

    >>> xlsx_text("a\rb\x1b _x0041_\tc")
    'a_x000D_b_x001B_ _x005F_x0041_\tc'
    """
    return _XLSX_ESCAPED.sub(lambda found: f"_x{ord(found[0]):04X}_", text)


def write_table(frame: pd.DataFrame, path: Path, sheet: str = "Results") -> Path:
    """Write ``frame`` to ``path`` as CSV or .xlsx (by extension), atomically and safely."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(f"{path}: write .csv or .xlsx (got {suffix or 'no extension'})")
    if suffix == ".xlsx" and len(frame) > EXCEL_MAX_DATA_ROWS:
        raise InputError(
            f"{path}: {len(frame):,} rows do not fit one Excel sheet"
            f" ({EXCEL_MAX_DATA_ROWS:,} at most); write .csv instead"
        )
    with atomic_path(path) as temporary:
        if suffix == ".csv":
            defuse_csv_text(frame).to_csv(temporary, index=False, date_format="%Y-%m-%d",
                                          lineterminator=CSV_LINE_END)
        else:
            _write_xlsx(frame, temporary, sheet)
    return path


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet)
    worksheet.freeze_panes = "A2"
    for i, name in enumerate(frame.columns, start=1):
        width = min(max(len(str(name)), 10) + 2, 60)
        worksheet.column_dimensions[get_column_letter(i)].width = width
    worksheet.append([_text_cell(worksheet, str(name)) for name in frame.columns])
    text = set(_text_columns(frame))
    columns = []
    for name in frame.columns:
        series = frame[name]
        if name in text:
            columns.append(series.astype("string").to_numpy(dtype=object, na_value=None))
        elif pd.api.types.is_datetime64_any_dtype(series):
            columns.append(series.dt.to_pydatetime() if len(series) else np.array([]))
        else:
            values = series.to_numpy(dtype=object)
            values[pd.isna(values)] = None
            columns.append(values)
    formats = {name: "yyyy-mm-dd" for name in frame.columns
               if pd.api.types.is_datetime64_any_dtype(frame[name])}
    names = list(frame.columns)
    for row in zip(*columns, strict=True):
        cells = []
        for name, value in zip(names, row, strict=True):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                cells.append(None)
            elif name in text:
                cells.append(_text_cell(worksheet, value))
            elif name in formats:
                cell = WriteOnlyCell(worksheet, value)
                cell.number_format = formats[name]
                cells.append(cell)
            else:
                cells.append(value)
        worksheet.append(cells)
    book.save(path)


def _text_cell(worksheet, value: str) -> WriteOnlyCell:
    # openpyxl writes any string starting with "=" as a formula unless told it is text, and
    # refuses control characters (IllegalCharacterError) that xlsx_text escapes.
    cell = WriteOnlyCell(worksheet, xlsx_text(value))
    cell.data_type = "s"
    return cell
