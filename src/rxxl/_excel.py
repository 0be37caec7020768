"""What the Excel functions share: turning cells into arrays and results back into cells.

Kept apart from :mod:`rxxl.udfs` so that module holds nothing but the RX_ functions that
xlwings imports into Excel.

The one rule for what a cell hands over (also in the README):

- A single cell, a row, a column or a block arrives as a scalar or a list of lists; blanks
  (and cells holding an Excel error, which classic xlwings passes on as blanks) are None.
- Ranges that go together must have the same number of cells; trailing rows that are blank
  in all of them are padding and are dropped, so a range may reach below the data.
- One result from a series (NPV, IRR, GDR, ...): any other blank is bad input.
- One result per cell (RX_VARIANCE on a column): a blank input gives a blank result there.
- Bad input returns the text ``#VALUE! <what is wrong and how to fix it>``; an undefined
  result returns Excel's error literal (``#DIV/0!``, ``#NUM!``), which the rxxl add-in's
  function wrappers turn into a real Excel error value.
- Nothing raises into Excel: an unexpected failure also becomes a ``#VALUE!`` message.
"""

from __future__ import annotations

import datetime as dt
import functools
import numbers
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rxxl._arrays import as_float_array
from rxxl.data.contracts import CLAIMS
from rxxl.data.phi import fault_text, header_key
from rxxl.errors import InputError, InputTypeError, RxxlError
from rxxl.parsing import OK as DATE_OK
from rxxl.parsing import excel_serial_dates, parse_date_texts, parse_dates, parse_month

CATEGORY = "Rx Finance"

DIV0 = "#DIV/0!"
NUM = "#NUM!"
VALUE = "#VALUE!"
#: Older Excel versions show #VALUE! for a UDF string longer than 255 characters.
_MAX_MESSAGE = 255


def excel_safe(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return a version of an RX_ function that never raises into Excel."""

    @functools.wraps(function)
    def safe(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except RxxlError as exc:
            return _message(str(exc))
        except Exception as exc:  # noqa: BLE001 - a cell must show a message, never a traceback
            # A library's text may quote a cell (a patient's id): the kind of fault only.
            return _message(f"rxxl could not compute this: {fault_text(exc)}")

    return safe


def _message(text: str) -> str:
    message = f"{VALUE} {text}"
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def cells(value: Any) -> np.ndarray:
    """A cell argument as a 2-D object array; a scalar is 1 x 1, a 1-D list one column."""
    if isinstance(value, np.ndarray):
        array = value.astype(object)
    elif isinstance(value, (list, tuple)):
        array = np.empty((0, 0), dtype=object) if len(value) == 0 else _from_lists(value)
    else:
        array = np.empty((1, 1), dtype=object)
        array[0, 0] = value
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise InputError(f"expected a cell or a range, got {array.ndim} dimensions")
    return array


def _from_lists(value: list | tuple) -> np.ndarray:
    try:
        array = np.array(value, dtype=object)
    except ValueError:
        raise InputError("a range must be rectangular: its rows have different widths") from None
    if array.ndim > 2:  # cells holding lists: not something Excel hands over
        raise InputError(f"expected a cell or a range, got {array.ndim} dimensions")
    return array


def blank_mask(array: np.ndarray) -> np.ndarray:
    """Blank cells: None, NaN, or text of only spaces.

    Column by column, so that a range of 100,000 claims is not a Python call per cell: a
    column of numbers or dates is blank where it is missing, a column of text checks each
    distinct text once, and only a column of mixed kinds goes cell by cell.
    """
    mask = np.asarray(pd.isna(array), dtype=bool)
    if array.size == 0 or array.dtype.kind not in "OUS":
        return mask
    grid = array.reshape(-1, 1) if array.ndim < 2 else array.reshape(array.shape[0], -1)
    spaces = np.zeros(grid.shape, dtype=bool)
    for j in range(grid.shape[1]):
        column = grid[:, j]
        kind = pd.api.types.infer_dtype(column, skipna=True)
        if kind in _WITHOUT_TEXT:
            continue
        if kind == "string":
            spaces[:, j] = _only_spaces(column)
        else:
            spaces[:, j] = [isinstance(c, str) and not c.strip() for c in column.tolist()]
    return mask | spaces.reshape(mask.shape)


def _only_spaces(texts: np.ndarray) -> np.ndarray:
    """Which cells of a column of text (or missing) hold text of only spaces (Python's
    ``str.isspace``, or empty). Only a text that starts with a space can be one, so the
    first characters are read column-wise and only those texts are checked one by one."""
    try:
        first = pc.utf8_slice_codeunits(pa.array(texts, type=pa.string(), from_pandas=True),
                                        0, 1).dictionary_encode()
    except (pa.ArrowException, UnicodeError):  # e.g. a lone surrogate: cell by cell
        return np.array([isinstance(c, str) and not c.strip() for c in texts.tolist()], bool)
    spacey = np.array([not c.strip() for c in first.dictionary.to_pylist()], dtype=bool)
    codes = first.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    out = np.zeros(texts.size, dtype=bool)
    if spacey.size:
        maybe = np.flatnonzero((codes >= 0) & spacey[np.maximum(codes, 0)])
        out[maybe] = [not texts[i].strip() for i in maybe]
    return out


#: What :func:`pandas.api.types.infer_dtype` calls a column that holds no text at all.
_WITHOUT_TEXT = frozenset({
    "empty", "floating", "integer", "mixed-integer-float", "decimal", "complex", "boolean",
    "datetime64", "datetime", "date", "timedelta64", "timedelta", "time", "period",
})


def _blank_to_none(array: np.ndarray) -> np.ndarray:
    out = array.copy()
    out[blank_mask(array)] = None
    return out


def flat(name: str, value: Any) -> np.ndarray:
    """A single row or column (or cell) as a 1-D object array with blanks as None."""
    array = cells(value)
    if array.size == 0:
        raise InputError(f"{name}: the range is empty")
    if 1 not in array.shape:
        rows, cols = array.shape
        raise InputError(f"{name}: expected a single row or column, got {rows} x {cols} cells")
    return _blank_to_none(array.ravel())


def columns(**ranges: Any) -> dict[str, np.ndarray]:
    """Flatten ranges that go together, check their lengths, drop trailing all-blank rows."""
    flats = {name: flat(name, value) for name, value in ranges.items()}
    lengths = {name: len(v) for name, v in flats.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n} cells" for name, n in lengths.items())
        raise InputError(f"ranges must be the same size: {listed}")
    blank_rows = np.logical_and.reduce([blank_mask(v) for v in flats.values()])
    filled = np.flatnonzero(~blank_rows)
    if filled.size == 0:
        raise InputError(f"{', '.join(flats)}: every cell is blank")
    keep = int(filled[-1]) + 1
    return {name: v[:keep] for name, v in flats.items()}


def no_blanks(name: str, values: np.ndarray) -> np.ndarray:
    """Refuse a blank inside a series where a blank has no agreed meaning."""
    gaps = np.flatnonzero(blank_mask(values))
    if gaps.size:
        raise InputError(
            f"{name}: cell {int(gaps[0]) + 1} is blank; enter 0 if that is what it means"
            " (Excel would skip it and shift every later value)"
        )
    return values


def series(**ranges: Any) -> dict[str, np.ndarray]:
    """Ranges that go together, padding dropped, with no blank left inside."""
    return {name: no_blanks(name, v) for name, v in columns(**ranges).items()}


def number(name: str, value: Any, default: float | None = None) -> float:
    """A single-number argument; a blank (or omitted) optional argument takes its default."""
    array = cells(value)
    if array.size != 1:
        raise InputError(f"{name}: expected a single cell, got {array.size} cells")
    cell = array[0, 0]
    if blank_mask(array)[0, 0]:
        if default is None:
            raise InputError(f"{name}: required, but the cell is blank")
        return default
    if isinstance(cell, bool) or not isinstance(cell, numbers.Real):
        raise InputTypeError(f"{name}: expected a number, got {cell!r}")
    return float(cell)


def filled_numbers(name: str, value: Any) -> np.ndarray:
    """A cell or block of numbers, none of them blank, as a 2-D float array."""
    grid = _blank_to_none(cells(value))
    if grid.size == 0:
        raise InputError(f"{name}: the range is empty")
    gaps = np.argwhere(blank_mask(grid))
    if gaps.size:
        row, col = (int(i) + 1 for i in gaps[0])
        raise InputError(f"{name}: the cell at row {row}, column {col} of the range is blank")
    return as_float_array(grid, name)


def dates_of(name: str, values: np.ndarray) -> np.ndarray:
    """Date cells as datetime64[D] by rxxl's one rule (:mod:`rxxl.parsing`): date cells,
    Excel serial numbers, ISO or US text; the rest is refused naming the cell."""
    return parse_dates(values, name, serials=True, unit="cell")


def distinct_months(name: str, values: np.ndarray) -> np.ndarray:
    """Month cells (a date, an Excel serial, or text such as 2026-10) as ``datetime64[M]``,
    each month at most once.

    The rule is :func:`rxxl.parsing.parse_month` (with dates) for a text or date cell and
    :func:`dates_of` for a number. The cells are read column-wise by the same parsers
    (:func:`rxxl.parsing.parse_date_texts`, :func:`rxxl.parsing.excel_serial_dates`); only a
    cell those leave unread goes through the one-cell rule, which reads it or raises its
    message: 20,000 months take milliseconds, not one parse (and one list count) each.
    """
    cells_ = values.tolist()
    months = np.full(len(cells_), np.datetime64("NaT"), dtype="datetime64[M]")
    kinds = np.array([_month_cell_kind(cell) for cell in cells_], dtype=np.int8)
    for kind, read in ((_NUMBER, _serial_months), (_TEXT, _text_months),
                       (_DATETIME, _datetime_months), (_DATE, _date_months)):
        at = np.flatnonzero(kinds == kind)
        if at.size:
            months[at] = read([cells_[i] for i in at])
    for i in np.flatnonzero(np.isnat(months)):  # unread by the column-wise pass: the cell rule
        cell = cells_[i]
        if isinstance(cell, numbers.Real) and not isinstance(cell, bool):
            months[i] = dates_of(name, np.array([cell], dtype=object))[0]
        else:
            months[i] = np.datetime64(parse_month(cell, f"{name}: cell {i + 1}", dates=True), "M")
    _, where, counts = np.unique(months, return_inverse=True, return_counts=True)
    repeated = np.flatnonzero(counts[where] > 1)
    if repeated.size:
        month = np.datetime_as_string(months[repeated[0]], unit="M")
        raise InputError(f"{name}: {month} appears more than once; give one row per month")
    return months


_OTHER, _NUMBER, _TEXT, _DATETIME, _DATE = range(5)


def _month_cell_kind(cell: Any) -> int:
    if isinstance(cell, bool):
        return _OTHER
    if isinstance(cell, numbers.Real):
        return _NUMBER
    if isinstance(cell, str):
        return _TEXT
    if isinstance(cell, dt.datetime):  # before date: a datetime is a date too
        return _DATETIME if cell.tzinfo is None else _OTHER
    return _DATE if isinstance(cell, dt.date) else _OTHER


def _serial_months(cells_: list) -> np.ndarray:
    days, reasons = excel_serial_dates(np.asarray(cells_, dtype=float))
    return np.where(reasons == DATE_OK, days, np.datetime64("NaT")).astype("datetime64[M]")


def _text_months(cells_: list) -> np.ndarray:
    texts = pd.Series(cells_, dtype=object).str.strip()
    codes, uniques = pd.factorize(texts)
    days, reasons = parse_date_texts(pa.array(list(uniques), pa.string()), month=True,
                                     serials=False)
    days = np.where(reasons == DATE_OK, days, np.datetime64("NaT"))
    return days[codes].astype("datetime64[M]")


def _datetime_months(cells_: list) -> np.ndarray:
    # numpy reads naive datetimes as written; to months, a time of day falls away
    return np.array(cells_, dtype="datetime64[us]").astype("datetime64[M]")


def _date_months(cells_: list) -> np.ndarray:
    return np.array(cells_, dtype="datetime64[D]").astype("datetime64[M]")


def as_cell(value: float, undefined: str) -> Any:
    """A single numeric result; NaN becomes the function's Excel error, ±inf ``#NUM!``.

    An infinite result from finite cells is an overflow (the true value is beyond a double,
    as ``=1E308*10``), which Excel shows as ``#NUM!``; it is never a number in a cell.
    """
    return cell_values([value], undefined)[0]


def cell_values(values: Any, undefined: str) -> np.ndarray:
    """Numeric results as an object array of cells: NaN as ``undefined``, ±inf as ``#NUM!``.

    The one rule for every numeric cell (:func:`as_cell` is its single-cell case); numpy
    floats become Python's.
    """
    numbers_ = np.asarray(values, dtype=float)
    out = numbers_.astype(object)
    out[np.isnan(numbers_)] = undefined
    out[np.isinf(numbers_)] = NUM
    return out


def shaped(result: Any, like: np.ndarray, blank: np.ndarray, undefined: str) -> Any:
    """An element-wise result in the shape of its input: a scalar for one cell, else rows.

    Blank inputs give blank (None) results; other NaN results give ``undefined``, ±inf
    ``#NUM!`` (see :func:`as_cell`).
    """
    values = np.broadcast_to(np.asarray(result), like.shape)
    if values.dtype.kind == "f":
        out = cell_values(values, undefined)
    else:
        out = values.astype(object)  # numpy bools and text become Python's
    out[blank] = None
    if out.shape == (1, 1):
        return out[0, 0]
    return out.tolist()


def aligned(**ranges: Any) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Cells of element-wise arguments as 2-D arrays of one common shape.

    A single cell is used for every cell of the others (a budget of 0 against a column of
    actuals). Returns the arrays, the shape template, and which result cells are blank.
    """
    grids = {name: _blank_to_none(cells(value)) for name, value in ranges.items()}
    shapes = {grid.shape for grid in grids.values() if grid.size != 1}
    if len(shapes) > 1:
        listed = ", ".join(f"{name} is {g.shape[0]} x {g.shape[1]}" for name, g in grids.items())
        raise InputError(f"ranges must be the same size: {listed}")
    shape = shapes.pop() if shapes else (1, 1)
    like = np.empty(shape, dtype=object)
    blank = np.zeros(shape, dtype=bool)
    for grid in grids.values():
        if grid.size == 0:
            raise InputError("a range is empty")
        blank |= np.broadcast_to(blank_mask(grid), shape)
    return grids, like, blank


def claims_frame(value: Any) -> tuple[pd.DataFrame, int]:
    """A claims range with its header row, validated against the claims contract.

    Returns the claims and how many trailing rows were padding (blank in every column, the
    cell rule), so the caller can give those rows blank results and keep its spill aligned
    with the input. A blank row between claims is not padding and is refused.
    """
    from rxxl.data import validate_table

    grid = cells(value)
    body = grid[1:]
    blank = blank_mask(body)  # once: a range may hold 100,000 claims
    blank_rows = blank.all(axis=1) if body.size else np.ones(len(body), bool)
    filled = np.flatnonzero(~blank_rows)
    if filled.size == 0:
        raise InputError("claims: give the header row and at least one claim row")
    keep = int(filled[-1]) + 1
    gaps = np.flatnonzero(blank_rows[:keep])
    if gaps.size:
        raise InputError(
            f"claims: row {int(gaps[0]) + 2} of the range is blank but claims follow it;"
            " delete the blank row (only rows below the last claim are padding)"
        )
    header = [str(name).strip() if name is not None else "" for name in grid[0]]
    if not {header_key(name) for name in header} & {c.name for c in CLAIMS.columns}:
        # The first row is then a claim: never list it (it holds a patient's id).
        raise InputError(
            "claims: the range's first row must be its header row (claim_id, service_date,"
            " ndc, ...), but none of its cells is a claims column name; select the range"
            " with its header row"
        )
    filled_cells = body[:keep].copy()
    filled_cells[blank[:keep]] = None
    frame = pd.DataFrame(filled_cells, columns=header)
    claims = validate_table(frame, "claims", source="claims range", max_problems=3)
    return claims, len(body) - keep


#: Reference tables by folder, reloaded when a file anywhere below the folder changes.
_REFERENCE_CACHE: dict[str, tuple[tuple, dict[str, pd.DataFrame]]] = {}


def reference_tables(folder: Any) -> dict[str, pd.DataFrame]:
    """The 340B reference tables from ``folder`` or the RXXL_REFERENCE_DIR setting."""
    from rxxl.data import load_reference

    name = None if folder is None or blank_mask(cells(folder))[0, 0] else str(folder).strip()
    name = name or os.environ.get("RXXL_REFERENCE_DIR")
    if not name:
        raise InputError(
            "reference_folder: give the folder of the 340B reference files, or set"
            " RXXL_REFERENCE_DIR"
        )
    path = Path(name).expanduser()
    stamp = _stamp(path)
    cached = _REFERENCE_CACHE.get(str(path))
    if cached is None or cached[0] != stamp:
        _REFERENCE_CACHE[str(path)] = (stamp, load_reference(path))
    return _REFERENCE_CACHE[str(path)][1]


def _stamp(folder: Path) -> tuple:
    """Every file below ``folder``: relative name, modification time (ns) and size.

    Recursive because a table may be a folder of parts (``encounters/2026-10.parquet``):
    a part rewritten in place changes neither the folder's entries nor their times. The
    size catches a rewrite within the file system's time resolution.
    """
    if not folder.is_dir():
        return ()
    files = (p for p in folder.rglob("*") if p.is_file())
    return tuple(sorted(
        (p.relative_to(folder).as_posix(), p.stat().st_mtime_ns, p.stat().st_size) for p in files
    ))
