"""The cells of one column as read from a file, and how each column kind parses them.

Readers hand over a column as whatever the file gave: Arrow arrays (CSV read as text,
Parquet as typed), pandas Series (a DataFrame from xlwings) or Python objects (openpyxl).
:func:`cells_of` sorts that into four shapes, and each kind's parser turns a shape into the
normalized values plus a status per row: :data:`OK`, :data:`BLANK` or a problem reason.
Dates and numbers are read by rxxl's one parser (:mod:`rxxl.parsing`), which the metrics and
the Excel functions also use; this module adds what the contract says: a minimum, the
plausibility bounds of amounts and event dates, and that a number in a typed file's date
column is refused (days since 1970 or an Excel serial?).

Text is parsed once per *distinct* value (ids repeat: thousands of NDCs and NPIs, hundreds of
dates in a million claims) and mapped back to the rows with integer codes, so a million rows
cost a handful of vectorized passes, never a Python loop per row.
"""

from __future__ import annotations

import datetime as _dt
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rxxl import parsing
from rxxl.constants import (
    EARLIEST_EVENT_DATE,
    EVENT_DATE_DAYS_AHEAD,
    MAX_AMOUNT,
    MAX_CELL_CHARS,
    MAX_QUANTITY,
)
from rxxl.data import identifiers as ids
from rxxl.data.contracts import US_STATES, Column
from rxxl.parsing import (
    BLANK,
    NOT_NUMBER,
    OK,
    excel_serial_dates,
    parse_date_texts,
    parse_number_texts,
)

# Row statuses: OK, BLANK and the reasons a text is no number or date come from the one
# parser (rxxl.parsing); NDC and NPI reasons from identifiers. The contract's own reasons:
NOT_FINITE = 3
BELOW_MINIMUM = 4
NOT_WHOLE = 5
NOT_CHOICE = 6
NOT_FLAG = 7
NOT_STATE = 8
NOT_QUARTER_START = 13
#: A number in a date column of a typed file (Parquet): days since 1970 or an Excel serial?
NUMBER_IN_TYPED_FILE = 40
#: An event date (a claim's service date, ...) before EARLIEST_EVENT_DATE or too far ahead.
TOO_EARLY = 41
TOO_LATE = 42
#: An amount or quantity beyond MAX_AMOUNT or MAX_QUANTITY in absolute value.
BEYOND_MAXIMUM = 43
#: A code or text longer than MAX_CELL_CHARS.
TOO_LONG = 44

#: Output resolution of date, month and quarter columns: microseconds reach 9999-12-31,
#: the open end some systems write for "still active" (nanoseconds stop in 2262).
DATE_DTYPE = "datetime64[us]"
STRING_DTYPE = pd.StringDtype("pyarrow")

_NUMBER_SENTINEL = "\x00"


# --- the four shapes of raw cells -------------------------------------------------------------


@dataclass
class TextCells:
    """Distinct trimmed texts and, per row, the position of its text (``-1``: blank)."""

    uniques: pa.Array
    codes: np.ndarray
    #: Per distinct text: the cell held a number, not text (Excel drops leading zeros).
    numeric: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    def shown(self, positions: np.ndarray) -> list[str]:
        picked = self.codes[positions]
        texts = self.uniques.take(pa.array(np.maximum(picked, 0))).to_pylist()
        return [t if c >= 0 else "" for t, c in zip(texts, picked, strict=True)]


@dataclass
class NumberCells:
    """Typed numbers (Parquet int/float, a numeric DataFrame column); NaN is blank."""

    values: np.ndarray
    #: From a typed file (Parquet), which has date types: a number there is no Excel serial.
    typed_file: bool = False

    def __len__(self) -> int:
        return len(self.values)

    def shown(self, positions: np.ndarray) -> list[str]:
        return [_number_text(v) for v in self.values[positions].tolist()]


@dataclass
class DateCells:
    """Typed dates or datetimes, already at midnight, as ``datetime64[us]``; NaT is blank."""

    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def shown(self, positions: np.ndarray) -> list[str]:
        return [str(v) for v in np.datetime_as_string(self.values[positions], unit="D")]


@dataclass
class BoolCells:
    """Typed true/false values with a missing mask."""

    values: np.ndarray
    missing: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def shown(self, positions: np.ndarray) -> list[str]:
        return ["TRUE" if v else "FALSE" for v in self.values[positions].tolist()]


@dataclass
class PlainTextCells:
    """Text not yet split into distinct values: ids such as claim numbers, mostly unique,
    need no more than trimming, and hashing a million of them would cost more than that."""

    texts: pa.ChunkedArray

    def __len__(self) -> int:
        return len(self.texts)

    def shown(self, positions: np.ndarray) -> list[str]:
        return [t or "" for t in self.texts.take(pa.array(positions)).to_pylist()]


Cells = TextCells | PlainTextCells | NumberCells | DateCells | BoolCells


def cells_of(raw: Any) -> Cells:
    """Sort a raw column (Arrow array, pandas Series, ndarray or list) into one of the shapes."""
    if isinstance(raw, (pa.Array, pa.ChunkedArray)):
        return _cells_of_arrow(raw)
    series = raw if isinstance(raw, pd.Series) else pd.Series(np.asarray(raw, dtype=object))
    return _cells_of_series(series)


def _cells_of_arrow(array: pa.Array | pa.ChunkedArray) -> Cells:
    kind = array.type
    if pa.types.is_dictionary(kind):
        if pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type):
            return _text_from_dictionary(array)
        return _cells_of_arrow(array.cast(kind.value_type))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(
        kind
    ):
        chunked = array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])
        return PlainTextCells(chunked)
    if pa.types.is_null(kind):
        return all_blank(len(array))
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return NumberCells(np.asarray(values, dtype=np.float64), typed_file=True)
    if pa.types.is_boolean(kind):
        missing = array.is_null().to_numpy(zero_copy_only=False)
        values = array.fill_null(False).to_numpy(zero_copy_only=False)
        return BoolCells(np.asarray(values, dtype=bool), np.asarray(missing, dtype=bool))
    if pa.types.is_date32(kind):
        # Days since 1970 as stored, NaT where null: no detour through pandas timestamps
        # (a million claims' service dates in 4 ms instead of 35).
        return DateCells(array.to_numpy(zero_copy_only=False).astype(DATE_DTYPE))
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return _cells_of_series(pd.Series(array.to_pandas(date_as_object=False)))
    return _cells_of_series(pd.Series(array.to_pylist(), dtype=object))


def _cells_of_series(series: pd.Series) -> Cells:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        missing = series.isna().to_numpy(dtype=bool)
        return BoolCells(series.fillna(False).to_numpy(dtype=bool), missing)
    if pd.api.types.is_numeric_dtype(dtype):
        return NumberCells(series.to_numpy(dtype=np.float64, na_value=np.nan))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if getattr(series.dt, "tz", None) is not None:
            # The date as written where the data was recorded, not converted to UTC.
            series = series.dt.tz_localize(None)
        return DateCells(series.dt.floor("D").to_numpy().astype(DATE_DTYPE))
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return _cells_of_arrow(pa.array(series.array))
    values = series.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return _cells_of_arrow(pa.array(values, type=pa.string(), from_pandas=True))
    # Mixed cells from a spreadsheet: numbers, text, dates and booleans side by side.
    return _text_from_dictionary(_cell_texts(values).dictionary_encode())


#: Object columns (as pandas' ``infer_dtype`` names them) in which equal cells always show
#: the same text, so each distinct value is written out once; not a column mixing kinds,
#: where 1 == 1.0 == True but TRUE is no number, nor time-zone-aware datetimes.
_ONE_TEXT_PER_VALUE = frozenset({"floating", "integer", "mixed-integer-float", "boolean",
                                 "date", "datetime", "datetime64"})


def _cell_texts(values: np.ndarray) -> pa.Array:
    """:func:`_cell_text` of every cell: per distinct value where that gives the same texts
    (a spreadsheet range of 100,000 amounts or dates as Python objects), else per cell."""
    if pd.api.types.infer_dtype(values, skipna=True) in _ONE_TEXT_PER_VALUE:
        codes, uniques = pd.factorize(values)
        distinct = uniques.tolist()
        if not any(getattr(value, "tzinfo", None) is not None for value in distinct):
            texts = pa.array([_cell_text(value) for value in distinct], type=pa.string())
            return texts.take(pa.array(codes, mask=codes < 0))
    return pa.array([_cell_text(v) for v in values.tolist()], type=pa.string())


def _cell_text(value: Any) -> str | None:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if np.isnan(number) else _NUMBER_SENTINEL + _number_text(number)
    if isinstance(value, (_dt.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        return None if pd.isna(stamp) else stamp.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def _number_text(number: float) -> str:
    """A number as Excel shows it: whole numbers without ``.0`` (7010, not 7010.0)."""
    if np.isnan(number):
        return ""
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def _text_from_dictionary(encoded: pa.Array | pa.ChunkedArray) -> TextCells:
    """Distinct trimmed texts from a dictionary-encoded column; blank texts get code -1."""
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries()
        dictionary = (encoded.chunk(0).dictionary if encoded.num_chunks
                      else pa.array([], pa.string()))
        indices = pa.chunked_array(
            [chunk.indices for chunk in encoded.chunks], type=encoded.type.index_type
        )
    else:
        dictionary, indices = encoded.dictionary, encoded.indices
    codes = np.asarray(indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    dictionary = dictionary.cast(pa.string())
    numeric = np.asarray(
        pc.starts_with(dictionary, _NUMBER_SENTINEL).fill_null(False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    if numeric.any():
        dictionary = pc.replace_substring(dictionary, _NUMBER_SENTINEL, "")
    trimmed = pc.utf8_trim_whitespace(dictionary)
    blank = np.asarray(
        pc.or_kleene(pc.is_null(trimmed), pc.equal(trimmed, "")).fill_null(True).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    if blank.any():
        codes = np.where(codes >= 0, np.where(blank[np.maximum(codes, 0)], -1, codes), -1)
    return TextCells(trimmed.fill_null(""), codes, numeric)


def all_blank(n: int) -> TextCells:
    """A column of ``n`` blank cells (an optional column the file lacks)."""
    return TextCells(pa.array([], pa.string()), np.full(n, -1, dtype=np.int64),
                     np.zeros(0, dtype=bool))


def as_text(cells: Cells) -> TextCells:
    """Any shape as text, the way a spreadsheet would show it (numbers remember they were)."""
    if isinstance(cells, TextCells):
        return cells
    if isinstance(cells, PlainTextCells):
        # One dictionary for the whole column: unifying one per CSV block costs far more.
        texts = cells.texts.cast(pa.large_string()).combine_chunks()
        return _text_from_dictionary(texts.dictionary_encode())
    if isinstance(cells, NumberCells):
        codes, uniques = pd.factorize(cells.values, use_na_sentinel=True)
        texts = [_number_text(v) for v in uniques.tolist()]
        return TextCells(pa.array(texts, pa.string()), codes.astype(np.int64),
                         np.ones(len(texts), dtype=bool))
    if isinstance(cells, DateCells):
        codes, uniques = pd.factorize(cells.values, use_na_sentinel=True)
        texts = np.datetime_as_string(np.asarray(uniques, dtype=DATE_DTYPE), unit="D")
        return TextCells(pa.array(texts.tolist(), pa.string()), codes.astype(np.int64),
                         np.zeros(len(texts), dtype=bool))
    codes = np.where(cells.missing, -1, cells.values.astype(np.int64)).astype(np.int64)
    return TextCells(pa.array(["FALSE", "TRUE"]), codes, np.zeros(2, dtype=bool))


# --- parsing by kind ---------------------------------------------------------------------------


@dataclass
class Parsed:
    """One column parsed: the output values and a status per row (OK, BLANK or a reason)."""

    values: Any
    status: np.ndarray
    cells: Cells
    #: Dates as read, for messages about a date out of bounds (None for other kinds).
    read: np.ndarray | None = None


def parse(cells: Cells, column: Column, *, categorical: bool = False) -> Parsed:
    """Parse a column's cells by its kind; invalid and blank cells become missing values.

    ``categorical``: codes and text that arrive as distinct values (a Parquet dictionary, a
    spreadsheet's repeats) come back as a pandas Categorical of their distinct normalized
    values instead of one string per row: an analysis that only groups by them skips writing
    out a million strings.
    """
    kind = column.kind
    if kind in ("money", "number", "integer"):
        return _parse_numbers(cells, column)
    if kind in ("date", "month", "quarter"):
        return _parse_dates(cells, column)
    if kind == "flag" and isinstance(cells, BoolCells):
        status = np.where(cells.missing, BLANK, OK).astype(np.int8)
        return Parsed(pd.arrays.BooleanArray(cells.values, cells.missing), status, cells)
    if kind in ("code", "text") and isinstance(cells, PlainTextCells):
        tidy = _tidy_status(cells.texts)
        if tidy is not None:  # nothing to trim, blank or too long: the file's own strings
            return Parsed(pd.arrays.ArrowStringArray(cells.texts), tidy, cells)
        trimmed = pc.utf8_trim_whitespace(cells.texts)
        empty = pc.equal(trimmed, "")
        blank = pc.or_kleene(pc.is_null(trimmed), empty).fill_null(True)
        status = np.where(_to_bool(blank), BLANK, OK).astype(np.int8)
        longest = pc.max(pc.utf8_length(trimmed)).as_py()
        if longest is not None and longest > MAX_CELL_CHARS:
            too_long = _to_bool(pc.greater(pc.utf8_length(trimmed), MAX_CELL_CHARS))
            status = np.where(too_long, TOO_LONG, status).astype(np.int8)
        # Nulls are missing already; only empty texts (rare) need turning into missing, and
        # skipping that pass saves a copy of columns with millions of identifiers.
        if pc.any(empty).as_py():
            trimmed = pc.if_else(empty, pa.scalar(None, trimmed.type), trimmed)
        return Parsed(pd.arrays.ArrowStringArray(trimmed), status, cells)
    text = as_text(cells)
    parser = _TEXT_PARSERS[kind]
    normalized, reasons = parser(text, column)
    status = _row_status(text.codes, reasons)
    if kind == "choice":
        codes = np.where(status == OK, _per_row(normalized, text.codes, -1), -1)
        values = pd.Categorical.from_codes(codes, categories=list(column.choices))
    elif kind == "flag":
        per_row = _per_row(normalized, text.codes, False).astype(bool)
        values = pd.arrays.BooleanArray(per_row, status != OK)
    elif categorical and kind in ("code", "text"):
        values = _categories(normalized, text.codes, status)
    else:
        values = _take_strings(normalized, text.codes, status)
    return Parsed(values, status, text)


def _tidy_status(texts: pa.ChunkedArray) -> np.ndarray | None:
    """The rows' status (OK, or BLANK where null) when the texts need no trimming, none is
    empty and none is too long; else None, and they are trimmed and measured.

    Five million patient ids are read from their offsets and edge bytes alone (a tenth of
    trimming them). Any edge byte that is a control, a space or outside ASCII (a UTF-8
    whitespace such as a no-break space starts and ends with such bytes) sends the column
    the long way."""
    status = []
    for chunk in texts.chunks:
        wide = {pa.string(): np.int32, pa.large_string(): np.int64}.get(chunk.type)
        if wide is None:
            return None
        offsets = np.frombuffer(chunk.buffers()[1], dtype=wide)[
            chunk.offset: chunk.offset + len(chunk) + 1]
        lengths = np.diff(offsets)
        null = (np.zeros(len(chunk), dtype=bool) if chunk.null_count == 0
                else chunk.is_null().to_numpy(zero_copy_only=False))
        given = ~null
        if len(chunk) and ((lengths[given] == 0).any()
                           or int(lengths.max(initial=0)) > MAX_CELL_CHARS):
            return None
        data = chunk.buffers()[2]
        if given.any():
            data = np.frombuffer(data, dtype=np.uint8)
            edges = np.concatenate([data[offsets[:-1][given]], data[offsets[1:][given] - 1]])
            if ((edges <= 0x20) | (edges >= 0x7F)).any():
                return None
        status.append(np.where(null, BLANK, OK).astype(np.int8))
    return np.concatenate(status) if status else np.zeros(0, dtype=np.int8)


def _per_row(per_unique: np.ndarray, codes: np.ndarray, blank: Any) -> np.ndarray:
    """Values of the distinct texts spread over the rows; ``blank`` where a row is blank."""
    if len(per_unique) == 0:
        return np.full(len(codes), blank, dtype=per_unique.dtype)
    return np.where(codes < 0, blank, per_unique[np.maximum(codes, 0)])


def _row_status(codes: np.ndarray, reasons: np.ndarray) -> np.ndarray:
    return _per_row(reasons, codes, BLANK).astype(np.int8)


def _take_strings(normalized: pa.Array, codes: np.ndarray, status: np.ndarray) -> Any:
    if len(normalized) == 0:
        return pd.arrays.ArrowStringArray(pa.nulls(len(codes), pa.large_string()))
    indices = pa.array(codes, type=pa.int64(), mask=status != OK)
    taken = normalized.cast(pa.large_string()).take(indices)
    return pd.arrays.ArrowStringArray(pa.chunked_array([taken], type=pa.large_string()))


def _categories(normalized: pa.Array, codes: np.ndarray, status: np.ndarray
                ) -> pd.Categorical:
    """The rows' values as a Categorical of the distinct normalized texts (two spellings that
    normalize alike, such as " A" and "A", become one category)."""
    position, distinct = pd.factorize(np.asarray(normalized.to_numpy(zero_copy_only=False),
                                                 dtype=object))
    position = np.append(position, -1)  # code -1 (blank) and rows not OK: missing
    return pd.Categorical.from_codes(position[np.where(status == OK, codes, -1)],
                                     categories=pd.Index(distinct, dtype=object))


def _parse_code(text: TextCells, column: Column) -> tuple[pa.Array, np.ndarray]:
    too_long = _to_bool(pc.greater(pc.utf8_length(text.uniques), MAX_CELL_CHARS))
    return text.uniques, np.where(too_long, TOO_LONG, OK).astype(np.int8)


def _parse_state(text: TextCells, column: Column) -> tuple[pa.Array, np.ndarray]:
    upper = pc.utf8_upper(text.uniques)
    known = _to_bool(pc.is_in(upper, value_set=pa.array(US_STATES)))
    return upper, np.where(known, OK, NOT_STATE).astype(np.int8)


def _parse_choice(text: TextCells, column: Column) -> tuple[np.ndarray, np.ndarray]:
    listed = pa.array([c.lower() for c in column.choices])
    index = pc.index_in(pc.utf8_lower(text.uniques), value_set=listed)
    found = _to_bool(pc.is_valid(index))
    positions = np.asarray(index.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return positions, np.where(found, OK, NOT_CHOICE).astype(np.int8)


_TRUE = ("true", "yes", "y", "1")
_FALSE = ("false", "no", "n", "0")


def _parse_flag(text: TextCells, column: Column) -> tuple[np.ndarray, np.ndarray]:
    lower = pc.utf8_lower(text.uniques)
    true = _to_bool(pc.is_in(lower, value_set=pa.array(_TRUE)))
    false = _to_bool(pc.is_in(lower, value_set=pa.array(_FALSE)))
    return true, np.where(true | false, OK, NOT_FLAG).astype(np.int8)


def _parse_ndc(text: TextCells, column: Column) -> tuple[pa.Array, np.ndarray]:
    return ids.normalize_ndc_texts(text.uniques, text.numeric)


def _parse_npi(text: TextCells, column: Column) -> tuple[pa.Array, np.ndarray]:
    reasons = ids.npi_reasons(text.uniques)
    return text.uniques, reasons


_TEXT_PARSERS = {
    "code": _parse_code,
    "text": _parse_code,
    "state": _parse_state,
    "choice": _parse_choice,
    "flag": _parse_flag,
    "ndc": _parse_ndc,
    "npi": _parse_npi,
}


def _to_bool(array: pa.Array) -> np.ndarray:
    return np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


# --- numbers -----------------------------------------------------------------------------------

def _parse_numbers(cells: Cells, column: Column) -> Parsed:
    if isinstance(cells, NumberCells):
        values = cells.values
        status = np.where(np.isnan(values), BLANK, OK).astype(np.int8)
    else:
        text = as_text(cells)
        cells = text
        unique_values, ok = parse_number_texts(text.uniques, dollar=column.kind == "money",
                                               percent=column.percent)
        reasons = np.where(ok, OK, NOT_NUMBER).astype(np.int8)
        status = _row_status(text.codes, reasons)
        values = np.where(status == OK, _per_row(unique_values, text.codes, np.nan), np.nan)
    checked = _check_number_values(values, status, column)
    if checked is not status:  # some value out of bounds: it reads as missing
        values = np.where(checked == OK, values, np.nan)
    status = checked
    if column.kind == "integer":
        bad = np.isnan(values)
        return Parsed(pd.arrays.IntegerArray(np.where(bad, 0, values).astype(np.int64), bad),
                      status, cells)
    return Parsed(np.asarray(values, dtype=np.float64), status, cells)


def _check_number_values(values: np.ndarray, status: np.ndarray, column: Column) -> np.ndarray:
    """The status with the values' own faults (infinite, below the minimum, beyond the
    maximum, not whole); ``status`` itself when the values have none (told from their least
    and greatest, two passes instead of five over a million amounts)."""
    if column.kind != "integer" and values.size and not np.isnan(values).all():
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        if (np.isfinite(low) and np.isfinite(high) and max(-low, high) <= _maximum(column)
                and (column.minimum is None or low >= column.minimum)):
            return status
    ok = status == OK
    with np.errstate(invalid="ignore"):
        status = np.where(ok & ~np.isfinite(values), NOT_FINITE, status)
        if column.kind == "integer":
            status = np.where((status == OK) & (values != np.floor(values)), NOT_WHOLE, status)
        if column.minimum is not None:
            status = np.where((status == OK) & (values < column.minimum), BELOW_MINIMUM, status)
        status = np.where((status == OK) & (np.abs(values) > _maximum(column)), BEYOND_MAXIMUM,
                          status)
    return status.astype(np.int8)


def _maximum(column: Column) -> float:
    return MAX_AMOUNT if column.kind == "money" else MAX_QUANTITY


# --- dates are parsed by rxxl.parsing; the contract adds its bounds -----------------------


def _parse_dates(cells: Cells, column: Column) -> Parsed:
    kind = column.kind
    if isinstance(cells, DateCells):
        days = cells.values.astype("datetime64[D]")
        status = np.where(np.isnat(days), BLANK, OK).astype(np.int8)
    elif isinstance(cells, NumberCells) and cells.typed_file:
        # A typed file could have used a date type; its numbers have two common readings
        # 70 years apart (days since 1970, Excel serials), so neither is guessed.
        days = np.full(len(cells), np.datetime64("NaT"), dtype="datetime64[D]")
        status = np.where(np.isnan(cells.values), BLANK, NUMBER_IN_TYPED_FILE).astype(np.int8)
    elif isinstance(cells, NumberCells):
        blank = np.isnan(cells.values)
        days, reasons = excel_serial_dates(np.where(blank, 1.0, cells.values))
        status = np.where(blank, BLANK, reasons).astype(np.int8)
    else:
        text = as_text(cells)
        cells = text
        unique_days, reasons = parse_date_texts(text.uniques, month=kind == "month")
        status = _row_status(text.codes, reasons)
        days = _per_row(unique_days, text.codes, np.datetime64("NaT"))
    if kind == "month":
        days = days.astype("datetime64[M]").astype("datetime64[D]")
    elif kind == "quarter":
        months = days.astype("datetime64[M]")
        first_day = days == months.astype("datetime64[D]")
        quarter_month = (months.astype(np.int64) % 3) == 0
        status = np.where((status == OK) & ~(first_day & quarter_month), NOT_QUARTER_START,
                          status).astype(np.int8)
    read = None
    if column.event:
        status, read = _event_bounds(days, status), days
    days = np.where(status == OK, days, np.datetime64("NaT"))
    return Parsed(days.astype(DATE_DTYPE), status, cells, read)


def _event_bounds(days: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Refuse event dates out of the plausible span (rxxl.constants says why)."""
    latest = np.datetime64(_dt.date.today(), "D") + EVENT_DATE_DAYS_AHEAD
    ok = status == OK
    status = np.where(ok & (days < np.datetime64(EARLIEST_EVENT_DATE, "D")), TOO_EARLY, status)
    return np.where(ok & (days > latest), TOO_LATE, status).astype(np.int8)


# --- messages ----------------------------------------------------------------------------------

_EXPECTED = {
    "code": "an identifier",
    "text": "some text",
    "ndc": ids.NDC_FORMS,
    "npi": "an NPI: 10 digits whose last is the check digit (e.g. 1234567893)",
    "date": "a date as 2026-10-31, 10/31/2026 or an Excel date",
    "month": "a month as 2026-10, or a date in the month",
    "quarter": "the first day of a quarter (January, April, July or October 1st), "
               "e.g. 2026-10-01",
    "money": "an amount in dollars such as 1234.50, 1,234.50 or $1,234.50",
    "number": "a number such as 1234.5 (1,234.5 is read too)",
    "integer": "a whole number such as 30",
    "flag": "true or false (also yes/no, y/n, 1/0)",
    "state": "a two-letter US state or territory code such as NY",
}


def expected(column: Column) -> str:
    """What a valid cell of ``column`` looks like, for messages."""
    if column.kind == "choice":
        return "one of " + ", ".join(column.choices)
    text = _EXPECTED[column.kind]
    if column.percent:
        text = "a number such as 0.065 (6.5% and 1,234.5 are read too)"
    if column.minimum is not None:
        text += f", at least {column.minimum:g}"
    return text


_LIMITS = {True: f"the largest amount rxxl accepts (${MAX_AMOUNT:,.0f} either way)",
           False: f"the largest quantity rxxl accepts ({MAX_QUANTITY:,.0f} either way)"}


def describe(reason: int, shown: str, column: Column, read: str | None = None, *,
             hidden: bool = False) -> str:
    """The sentence for one cell problem: what is wrong and what to write instead.

    ``shown`` is the value as it appears in messages (quoted, or its form: see
    :mod:`rxxl.data.phi`); ``read`` is the date it was read as, for a date out of bounds.
    With ``hidden`` nothing computed from the cell is added (its digits rewritten as a date
    or padded as an NDC), since ``shown`` is only its form.
    """
    form = expected(column)
    if reason in parsing.DATE_REASONS:
        return parsing.date_problem(reason, shown, form,
                                    digits="" if hidden else shown.strip('"'))
    if reason == BLANK:
        if column.kind in ("code", "text"):
            return f"the cell is blank but {column.name} is required; fill it in"
        return f"the cell is blank but {column.name} is required; write {form}"
    if reason in ids.NDC_REASONS:
        return ids.ndc_reason_text(reason, shown, hidden=hidden)
    if reason == NUMBER_IN_TYPED_FILE:
        return (f"{shown} is a number in a date column of a typed file: as days since 1970 (as"
                " many tools write dates) and as an Excel serial it gives dates 70 years apart,"
                " so rxxl does not guess; write the column with a date type (Parquet date32,"
                " e.g. pyarrow's pa.date32() or a pandas datetime64 column) or as text such as"
                " 2026-10-31")
    if reason == TOO_LONG:
        # Not the value: a paste gone wrong can be a whole file, patients' rows included.
        return (f"the value is longer than {MAX_CELL_CHARS:,} characters, the most an Excel"
                f" cell holds, and no {column.name} is that long: correct the cell in the"
                " source (a value pasted over and over, or a whole file pasted into one cell?)")
    if reason == BEYOND_MAXIMUM:
        return (f"{shown} is beyond {_LIMITS[column.kind == 'money']}, more than any single"
                f" row holds: a mis-typed or mis-read number? Correct it in the source ({form})")
    as_read = f" (read as {read})" if read and read not in shown else ""
    what = {
        NOT_NUMBER: "is not a number",
        NOT_FINITE: "is not a finite number",
        BELOW_MINIMUM: f"is below the minimum of {column.minimum or 0:g}",
        NOT_WHOLE: "is not a whole number",
        NOT_CHOICE: "is not one of the listed values",
        NOT_FLAG: "is not true or false",
        NOT_STATE: "is not a US state or territory code",
        NOT_QUARTER_START: "is not the first day of a calendar quarter",
        ids.NPI_NOT_TEN_DIGITS: "is not 10 digits",
        ids.NPI_BAD_CHECK_DIGIT: "fails the NPI check digit (a mistyped digit?)",
        TOO_EARLY: f"is a date{as_read} before {EARLIEST_EVENT_DATE}, earlier than any data"
                   " rxxl reads: a mis-read date? (days since 1970 read as an Excel serial"
                   " fall around 1956)",
        TOO_LATE: f"is a date{as_read} more than {EVENT_DATE_DAYS_AHEAD} days after today, which"
                  " has not happened yet: a mis-read date? (an Excel serial read as days"
                  " since 1970 falls around 2100)",
    }[reason]
    return f"{shown} {what}; write {form}"

