"""Writing result tables to CSV or .xlsx safely.

- Atomic: written to a temporary file beside the target and renamed into place, so a failed
  run leaves any earlier output untouched and never a half-written file. An operating-system
  error while writing (a full disk) names the target, not the temporary file.
- Nothing lost: an output is never one of the run's inputs (the same file by any spelling, or
  a file inside an input folder, such as a folder of claims parts or the 340B reference
  folder), a folder or a read-only file is never replaced, and a scratch folder is private
  (outside the output folder) and removed, by the next run if a run was killed.
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
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from rxxl.errors import InputError
from rxxl.locking import FileLock

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
    check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = None
    try:
        try:
            handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                                 dir=target.parent)
        except OSError as exc:  # the folder cannot take a file: say which folder
            raise naming(exc, target.parent, exc.filename or "") from exc
        os.close(handle)
        # mkstemp makes the file private; a report is an ordinary file (umask decides).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        yield Path(temporary)
        os.replace(temporary, target)
    except OSError as exc:
        named = naming(exc, target, *([temporary] if temporary else []))
        if named is exc:
            raise
        raise named from exc
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)


def naming(exc: OSError, target: str | os.PathLike, *internal: str | os.PathLike) -> OSError:
    """``exc`` naming ``target`` when it names no file or only one of ``internal`` (temporary
    files the user never chose), so that a message says which output could not be written."""
    names = {os.fspath(path) for path in internal}
    if exc.errno is None:  # not the operating system's (no error number to keep)
        return exc
    if exc.filename is not None and os.fspath(exc.filename) not in names:
        if exc.filename2 is None or os.fspath(exc.filename2) not in names:
            return exc
    return type(exc)(exc.errno, exc.strerror, os.fspath(target))


def check_replaceable(target: Path) -> None:
    """Refuse a target that is a folder, or a file made read-only (a user's way of saying
    "keep this"; POSIX would let a rename replace it silently)."""
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISDIR(mode):
        raise InputError(f"{target}: is a folder; name the file to write, e.g."
                         f" {Path(target) / 'result.csv'}")
    if not mode & stat.S_IWUSR:
        raise InputError(f"{target}: the file is read-only; make it writable to have it"
                         " replaced, or choose another name")


def refuse_inputs(outputs: Iterable[str | os.PathLike],
                  inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output that is one of the inputs (by any spelling: a symlink, a hard link,
    ``./``) or lies inside an input folder (a folder of parts or of reference tables, whose
    next read would take the output for an input, or an output for an input file)."""
    sources = [(Path(path), Path(path).resolve()) for path in inputs]
    for output in outputs:
        resolved = Path(output).resolve()
        for given, source in sources:
            if resolved == source or _same_file(resolved, source):
                what = ("is an input of this run" if source.exists()
                        else "would be read as an input by the next run")
                raise InputError(f"{output}: {what} ({given}); write the result elsewhere,"
                                 " so the inputs are kept")
            if source.is_dir() and resolved.is_relative_to(source):
                raise InputError(f"{output}: is inside the input folder {given}; write the"
                                 " result outside the input folders")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


#: Private scratch folders (XlsxWriter's row files) in the system's temporary folder.
SCRATCH_PREFIX = "rxxl-scratch-"
_SCRATCH_LOCK = ".rxxl-scratch.lock"
#: A scratch folder without its lock file yet is a live run's for this long.
_SCRATCH_GRACE_SECONDS = 60


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private folder (mode 0700) in the system's temporary folder, never in an output
    folder, removed on exit. A killed run cannot remove its own, so each call first removes
    the scratch folders of runs that are gone (their lock is free), as their row files may
    hold patient identifiers."""
    remove_stale_scratch()
    folder = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
    lock = FileLock(folder / _SCRATCH_LOCK)
    try:
        lock.acquire()
        yield folder
    finally:
        lock.release()
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale_scratch() -> None:
    """Remove this user's scratch folders whose run is no longer alive."""
    try:
        candidates = [p for p in Path(tempfile.gettempdir()).iterdir()
                      if p.name.startswith(SCRATCH_PREFIX)]
    except OSError:
        return
    for folder in candidates:
        try:
            if not folder.is_dir() or (hasattr(os, "geteuid")
                                       and folder.stat().st_uid != os.geteuid()):
                continue
            if not (folder / _SCRATCH_LOCK).exists() and \
                    time.time() - folder.stat().st_mtime < _SCRATCH_GRACE_SECONDS:
                continue  # just made by a live run that is about to lock it
            lock = FileLock(folder / _SCRATCH_LOCK)
            if lock.acquire():  # no live run holds it
                lock.release()
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


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


def csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    r"""``frame`` as an output CSV holds it: formulas defused (:func:`defuse_csv_text`) and a
    NUL byte in text written as U+FFFD, since a file holding NUL is binary to rxxl's reader
    and to many other tools.

    >>> csv_text(pd.DataFrame({"lot": ["A\x007", "=1"]}))["lot"].tolist()
    ['A�7', "'=1"]
    """
    out = defuse_csv_text(frame)
    for name in _text_columns(out):
        text = out[name].astype("string")
        nul = text.str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
        if nul.any():
            out[name] = text.str.replace("\x00", "\ufffd", regex=False)
    return out


def append_csv(frame: pd.DataFrame, handle, *, header: bool) -> None:
    """Append ``frame`` to a CSV file open in binary mode, with the header row only when
    ``header``: a table written part by part (the audit pack's claim universe) reads back as
    if written at once.

    The same text as :func:`write_table` (formulas defused, NUL as U+FFFD, RFC 4180 CRLF
    records, dates as ``YYYY-MM-DD``), written by Arrow's CSV writer: about 15 times faster
    than pandas on a month's 400,000 claims. It quotes every text field, which RFC 4180
    allows and every reader reads the same.
    """
    text = csv_text(frame)
    columns = {}
    for name in text.columns:
        values = text[name]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            columns[name] = pa.array(values.to_numpy(dtype="datetime64[D]"), type=pa.date32(),
                                     mask=values.isna().to_numpy())
        elif pd.api.types.is_numeric_dtype(values.dtype) and values.dtype != bool:
            columns[name] = pa.array(values.to_numpy(dtype=float, na_value=np.nan),
                                     from_pandas=True)
        else:
            columns[name] = pa.array(values.astype("string").to_numpy(
                dtype=object, na_value=None), type=pa.string())
    table = pa.table(columns) if columns else pa.table({})
    pa_csv.write_csv(table, handle, pa_csv.WriteOptions(include_header=header,
                                                        eol=CSV_LINE_END))


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
            csv_text(frame).to_csv(temporary, index=False, date_format="%Y-%m-%d",
                                          lineterminator=CSV_LINE_END)
        else:
            _write_xlsx(frame, temporary, sheet)
    return path


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    # openpyxl is imported here, not with the module: a command that writes CSV or Parquet
    # starts a sixth of a second sooner.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet)
    worksheet.freeze_panes = "A2"
    for i, name in enumerate(frame.columns, start=1):
        width = min(max(len(str(name)), 10) + 2, 60)
        worksheet.column_dimensions[get_column_letter(i)].width = width
    worksheet.append([_text_cell(WriteOnlyCell(worksheet), str(name))
                      for name in frame.columns])
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
                cells.append(_text_cell(WriteOnlyCell(worksheet), value))
            elif name in formats:
                cell = WriteOnlyCell(worksheet, value)
                cell.number_format = formats[name]
                cells.append(cell)
            else:
                cells.append(value)
        worksheet.append(cells)
    book.save(path)


def _text_cell(cell, value: str):
    """An empty write-only cell given ``value`` as text."""
    # openpyxl writes any string starting with "=" as a formula unless told it is text, and
    # refuses control characters (IllegalCharacterError) that xlsx_text escapes.
    cell.value = xlsx_text(value)
    cell.data_type = "s"
    return cell
