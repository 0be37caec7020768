"""rxxl's one parser for dates, months and numbers: the loader, the metrics and the Excel
functions all read them here, so a cell means the same thing wherever it is given.

The rule is to read what has one reading and refuse what would have to be guessed:

- **Dates**: ISO ``2026-10-31`` or US ``10/31/2026`` text (month and day may have one digit), a
  time of day after either (``13:45``, ``1:45 PM``, ``T13:45:00Z``, ``-05:00``) is dropped and
  the date is kept as written, not converted to UTC; ``date``, ``datetime``, numpy and pandas
  datetimes (a time zone is dropped the same way). Refused with the reason: a two-digit year
  (``03/04/26`` is March 4 or April 3, of 1926 or 2026), day-first text, a bare year
  (``2026``), ``YYYYMMDD`` (``20260101``), ISO week dates (``2026-W01-1``), month names,
  trailing text, and days that do not exist (``2026-02-30``).
- **Excel serial numbers** (1 is 1900-01-01, :mod:`rxxl.dates`) are dates only where the caller
  says the values come from Excel (``serials=True``: the loader, for CSV and spreadsheet cells,
  and the RX_ functions). A Python caller's 45000 is not a date unless asked. Even there a whole
  number from 1900 to 2100 (a year typed into a date cell) and an 8-digit ``YYYYMMDD`` are
  refused, and so is 60, Excel's phantom 1900-02-29.
- **Months**: ``2026-10`` (``YYYY-MM``), and where the caller allows it, a date meaning its month.
- **Numbers**: plain (``1234.5``, ``-3``, ``1e3``), thousands separators in their proper places,
  accounting parentheses for negatives, a dollar sign only for amounts and a percent sign only
  for rates (``6%`` is 0.06, as Excel stores it). ``1.234,5``, ``nan`` and ``inf`` are not
  numbers.

Text is parsed per *distinct* value with Arrow kernels, so a million cells cost a few
vectorized passes. The parsers of whole columns (:func:`parse_date_texts`,
:func:`parse_number_texts`, :func:`excel_serial_dates`) return a reason code per value, which
:func:`date_problem` words; the value-level entry points (:func:`parse_dates`,
:func:`parse_month`) raise :class:`~rxxl.errors.InputError` or
:class:`~rxxl.errors.InputTypeError` naming the argument, the position, the value and the
accepted forms.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import numbers
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rxxl._arrays import as_label_vector
from rxxl.dates import from_excel_serial
from rxxl.errors import InputError, InputTypeError

#: Reason code: the value is valid.
OK = 0
#: Reason code: the value is blank.
BLANK = 1
# Reasons a value is not a number or a date. The loader adds its contract's own reasons
# (below a minimum, not a listed choice, ...) in rxxl.data.cells.
NOT_NUMBER = 2
NOT_DATE = 9
NO_SUCH_DAY = 10
BAD_SERIAL = 11
LOOKS_LIKE_YEAR = 12
LOOKS_LIKE_YYYYMMDD = 14
TWO_DIGIT_YEAR = 15
NUMBER_NOT_DATE = 16
#: The reasons :func:`date_problem` words.
DATE_REASONS = frozenset({NOT_DATE, NO_SUCH_DAY, BAD_SERIAL, LOOKS_LIKE_YEAR,
                          LOOKS_LIKE_YYYYMMDD, TWO_DIGIT_YEAR, NUMBER_NOT_DATE})

_DAY = np.timedelta64(1, "D")
_MAX_SERIAL = 2958465

# --- dates ---------------------------------------------------------------------------------------

_TIME = r"(?:[T ]\s*[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?\s*(?:[AaPp][Mm])?" \
        r"\s*(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
_ISO_DATE = r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})" + _TIME + "$"
_US_DATE = r"^(?P<month>[0-9]{1,2})/(?P<day>[0-9]{1,2})/(?P<year>[0-9]{4})" + _TIME + "$"
_ISO_MONTH = r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})$"
_TWO_DIGIT_YEAR = r"^[0-9]{1,2}[/-][0-9]{1,2}[/-][0-9]{2}" + _TIME + "$"
_SERIAL = r"^[0-9]+(?:\.[0-9]+)?$"


def date_forms(serials: bool) -> str:
    """The accepted forms of a date, for messages."""
    if serials:
        return "a date as 2026-10-31, 10/31/2026 or an Excel date"
    return "a date as text such as 2026-10-31 or 10/31/2026, or a date or datetime value"


def parse_date_texts(texts: pa.Array, *, month: bool = False, serials: bool = True
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Dates from distinct, trimmed texts: ``(datetime64[D] values, reasons)``.

    Parameters
    ----------
    texts : pyarrow.Array of str
        Distinct texts, already trimmed; none blank.
    month : bool
        Also read ``2026-10`` (as its first day), for month columns.
    serials : bool
        Read numbers written as text (``46326``) as Excel serials (:func:`excel_serial_dates`).
        Without it such a text is refused (:data:`NUMBER_NOT_DATE`) unless it looks like a year
        or ``YYYYMMDD``, which have their own reasons.

    Returns
    -------
    values : numpy.ndarray of datetime64[D]
        NaT where the reason is not :data:`OK`.
    reasons : numpy.ndarray of int8
    """
    n = len(texts)
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    reasons = np.full(n, NOT_DATE, dtype=np.int8)
    if n == 0:
        return values, reasons
    patterns = [_ISO_DATE, _US_DATE] + ([_ISO_MONTH] if month else [])
    for pattern in patterns:
        parts = pc.extract_regex(texts, pattern)
        matched = _to_bool(pc.is_valid(parts)) & (reasons == NOT_DATE)
        if not matched.any():
            continue
        chosen = parts.filter(pa.array(matched))
        year = _int_field(chosen, "year")
        month_number = _int_field(chosen, "month")
        day = _int_field(chosen, "day") if "day" in pattern else np.ones_like(year)
        dates, real = calendar_dates(year, month_number, day)
        where = np.flatnonzero(matched)
        values[where] = dates
        reasons[where] = np.where(real, OK, NO_SUCH_DAY)
    two_digit = _to_bool(pc.match_substring_regex(texts, _TWO_DIGIT_YEAR)) & (
        reasons == NOT_DATE)
    reasons[two_digit] = TWO_DIGIT_YEAR
    numeric = _to_bool(pc.match_substring_regex(texts, _SERIAL)) & (reasons == NOT_DATE)
    if numeric.any():
        serial_values, serial_reasons = excel_serial_dates(
            _to_float(texts.filter(pa.array(numeric))), allowed=serials
        )
        values[numeric] = serial_values
        reasons[numeric] = serial_reasons
    return values, reasons


def excel_serial_dates(serials: np.ndarray, *, allowed: bool = True
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Excel serial numbers as dates (:mod:`rxxl.dates` rules): ``(values, reasons)``.

    A whole number from 1900 to 2100 is refused as a serial: it is far likelier a year typed
    into a date cell than a day in 1905; so is an 8-digit number that is a real ``YYYYMMDD``
    date (NCPDP's CCYYMMDD), which no serial reaches (the last is 2958465). With
    ``allowed=False`` (a caller whose numbers are not Excel's) every other number is refused
    too (:data:`NUMBER_NOT_DATE`).
    """
    serials = np.asarray(serials, dtype=np.float64)
    whole = np.floor(serials)
    in_range = np.isfinite(serials) & (whole >= 1) & (whole <= _MAX_SERIAL) & (whole != 60)
    year_like = (serials == whole) & (whole >= 1900) & (whole <= 2100)
    reasons = np.where(year_like, LOOKS_LIKE_YEAR, np.where(in_range, OK, BAD_SERIAL))
    compact = (serials == whole) & (whole >= 19000101) & (whole <= 99991231)
    if compact.any():
        number = np.where(compact, whole, 19000101).astype(np.int64)
        _, real = calendar_dates(number // 10000, number // 100 % 100, number % 100)
        reasons = np.where(compact & real, LOOKS_LIKE_YYYYMMDD, reasons)
    if not allowed:
        # Say what a year or YYYYMMDD looks like; any other number is simply no date here.
        named = (reasons == LOOKS_LIKE_YEAR) | (reasons == LOOKS_LIKE_YYYYMMDD)
        reasons = np.where(named, reasons, NUMBER_NOT_DATE)
    values = np.full(len(serials), np.datetime64("NaT"), dtype="datetime64[D]")
    good = reasons == OK
    if good.any():
        values[good] = from_excel_serial(serials[good])
    return values, reasons.astype(np.int8)


def calendar_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(datetime64[D] dates, real)``: ``real`` is False where no such month or day exists."""
    valid = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    months = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    dates = months.astype("datetime64[D]") + (np.clip(day, 1, 31) - 1) * _DAY
    valid &= dates.astype("datetime64[M]") == months
    return dates, valid


def date_problem(reason: int, shown: str, forms: str, digits: str = "") -> str:
    """The sentence for a value that is no date: ``shown`` and what is wrong, then the fix.

    ``shown`` leads the sentence (the value as messages show it); ``digits`` is the value as
    plain digits, used to rewrite a ``YYYYMMDD`` value (empty where the value may not be
    shown: the rewrite is then ``YYYY-MM-DD``).
    """
    if reason == LOOKS_LIKE_YYYYMMDD:
        rewrite = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}" if digits else "YYYY-MM-DD"
        return (f"{shown} looks like a date written as YYYYMMDD; write it as {rewrite}"
                f" (or {forms})")
    what = {
        NOT_DATE: "is not a date in a form rxxl reads",
        NO_SUCH_DAY: "is no real date (no such month or day)",
        BAD_SERIAL: "is not an Excel date serial (1 = 1900-01-01 up to 2958465 = 9999-12-31;"
                    " 60 is Excel's phantom 1900-02-29)",
        LOOKS_LIKE_YEAR: "looks like a year, not a date",
        TWO_DIGIT_YEAR: "is not a date rxxl reads: a two-digit year has several readings"
                        " (03/04/26 may be March 4 or April 3, of 1926 or 2026)",
        NUMBER_NOT_DATE: "is a number, not a date: numbers are read as Excel date serials"
                         " only from Excel cells and data files (convert serials with"
                         " rxxl.dates.from_excel_serial)",
    }[reason]
    return f"{shown} {what}; write {forms}"


def parse_dates(values: Any, name: str, *, serials: bool = False,
                unit: str = "position") -> np.ndarray:
    """Dates as ``datetime64[D]``, by the one rule (module docstring); a time of day is dropped.

    Parameters
    ----------
    values : scalar, sequence, ndarray, pandas Series or a single row or column
        ``date``, ``datetime``, ``pandas.Timestamp``, ``numpy.datetime64``, ISO or US text,
        and with ``serials`` Excel serial numbers.
    name : str
        Argument name for messages.
    serials : bool
        The values come from Excel (cells): numbers are Excel date serials.
    unit : str
        How messages call a place in ``values``: ``"position"`` (Python) or ``"cell"``.

    Raises
    ------
    InputError
        A blank value.
    InputTypeError
        A value that is no date by the rule, naming its place, the value and the forms.

    Examples
    --------
    >>> parse_dates(["2026-10-31", "10/31/2026 1:45 PM"], "dates")
    array(['2026-10-31', '2026-10-31'], dtype='datetime64[D]')
    >>> parse_dates(["03/04/26"], "dates")
    Traceback (most recent call last):
    ...
    rxxl.errors.InputTypeError: dates: position 1 holds '03/04/26', which is not a date rxxl \
reads: a two-digit year has several readings (03/04/26 may be March 4 or April 3, of 1926 or \
2026); write a date as text such as 2026-10-31 or 10/31/2026, or a date or datetime value
    """
    typed = _typed_datetimes(values)
    if typed is not None:
        days, flat = typed, None
        reasons = np.where(np.isnat(days), BLANK, OK).astype(np.int8)
    else:
        flat = as_label_vector(values, name)
        days, reasons = _cell_dates(flat, serials)
    bad = np.flatnonzero(reasons != OK)
    if bad.size == 0:
        return days
    i = int(bad[0])
    place = f"{name}: {unit} {i + 1}"
    if reasons[i] == BLANK:
        raise InputError(f"{place} is blank; give {date_forms(serials)}")
    cell = flat[i] if flat is not None else days[i]
    if reasons[i] == NOT_DATE and not isinstance(cell, (str, numbers.Real)):
        raise InputTypeError(f"{place} holds {type(cell).__name__} {cell!r}, not a date;"
                             f" give {date_forms(serials)}")
    digits = cell.strip() if isinstance(cell, str) else _number_digits(cell)
    raise InputTypeError(f"{place} holds " + date_problem(
        int(reasons[i]), f"{cell!r}, which", date_forms(serials), digits=digits))


def _typed_datetimes(values: Any) -> np.ndarray | None:
    """Days of a datetime-typed array or Series (the fast path), else None."""
    if isinstance(values, (pd.Series, pd.Index)) and pd.api.types.is_datetime64_any_dtype(
            values.dtype):
        series = pd.Series(values)
        if series.dt.tz is not None:
            series = series.dt.tz_localize(None)  # the date as written where it was recorded
        return series.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").ravel()
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        if values.ndim > 1 and 1 not in values.shape:
            return None  # let the flattening say it wants one row or column
        return values.astype("datetime64[D]").ravel()
    return None


def _cell_dates(flat: np.ndarray, serials: bool) -> tuple[np.ndarray, np.ndarray]:
    n = len(flat)
    days = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    reasons = np.full(n, NOT_DATE, dtype=np.int8)
    texts, text_at, numbers_at, number_values = [], [], [], []
    for i, cell in enumerate(flat.tolist()):
        if cell is None or cell is pd.NaT or cell is pd.NA or (
                isinstance(cell, float) and np.isnan(cell)):
            reasons[i] = BLANK
        elif isinstance(cell, str):
            if cell.strip():
                texts.append(cell.strip())
                text_at.append(i)
            else:
                reasons[i] = BLANK
        elif isinstance(cell, (bool, np.bool_)):
            continue
        elif isinstance(cell, numbers.Real):
            numbers_at.append(i)
            number_values.append(float(cell))
        elif isinstance(cell, (_dt.datetime, np.datetime64, _dt.date)):
            day = _day_of(cell)
            reasons[i] = BLANK if np.isnat(day) else OK
            days[i] = day
    if texts:
        codes, uniques = pd.factorize(np.asarray(texts, dtype=object))
        unique_days, unique_reasons = parse_date_texts(pa.array(list(uniques), pa.string()),
                                                       serials=serials)
        days[text_at] = unique_days[codes]
        reasons[text_at] = unique_reasons[codes]
    if numbers_at:
        number_days, number_reasons = excel_serial_dates(np.asarray(number_values),
                                                         allowed=serials)
        days[numbers_at] = number_days
        reasons[numbers_at] = number_reasons
    return days, reasons


def _day_of(cell: Any) -> np.datetime64:
    if isinstance(cell, np.datetime64):
        return cell.astype("datetime64[D]")
    if isinstance(cell, _dt.datetime):  # also pandas.Timestamp; a time zone is dropped
        return np.datetime64(cell.date(), "D")
    return np.datetime64(cell, "D")


def _number_digits(value: Any) -> str:
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return str(int(value))
    return str(value)


# --- months --------------------------------------------------------------------------------------

#: English month names and their first three letters, lower case, to 1-12.
_MONTHS_OF_YEAR = {**{name.lower(): i for i, name in enumerate(calendar.month_name) if name},
                   **{name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}}


def parse_month_of_year(value: Any, name: str, *, what: str = "a month of the year",
                        default: int | None = None) -> int:
    """A month of the year as 1-12: a whole number 1-12 (``10``, ``"10"``, or ``10.0`` as
    Excel hands a typed number over; text read by :func:`parse_number_texts`) or an English
    month name or its first three letters (``"October"``, ``"oct"``). None or blank gives
    ``default`` when one is given. ``what`` says in the error what the month is for.

    >>> parse_month_of_year("Oct", "--fiscal-year-start"), parse_month_of_year(7.0, "x")
    (10, 7)
    """
    if default is not None and (value is None or (isinstance(value, str)
                                                  and not value.strip())):
        return default
    number = None
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        number = int(value)
    elif isinstance(value, (float, np.floating)) and float(value).is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        # Digits are read by the one number parser, as a cell's number would be.
        parsed, ok = parse_number_texts(pa.array([text]))
        number = (int(parsed[0]) if ok[0] and float(parsed[0]).is_integer()
                  else _MONTHS_OF_YEAR.get(text))
    if number is None or not 1 <= number <= 12:
        example = f" (default {calendar.month_name[default]})" if default else ""
        raise InputError(f"{name} {value!r}: give {what}: 1 to 12 or a month name, e.g. 10"
                         f" or October{example}")
    return number


_MONTH_TEXT = r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})$"


def parse_month(value: Any, name: str, *, dates: bool = False) -> pd.Period:
    """A month argument (a report month) as a monthly ``pandas.Period``.

    ``YYYY-MM`` (``2026-10``; the month may have one digit), and with ``dates`` also any date
    :func:`parse_dates` reads (text, a date cell, a datetime), meaning its month: Excel turns a
    typed ``2026-10`` into the date 1 October 2026. Anything else is refused, where pandas
    would read ``2026`` as January and ``2026Q4`` as October.

    >>> parse_month("2026-10", "--month")
    Period('2026-10', 'M')
    >>> parse_month("2026Q4", "--month")
    Traceback (most recent call last):
    ...
    rxxl.errors.InputError: --month '2026Q4' is not a month: write it as YYYY-MM, e.g. 2026-10
    """
    form = "write it as YYYY-MM, e.g. 2026-10" + (", or a date in the month" if dates else "")
    refused = InputError(f"{name} {value!r} is not a month: {form}")
    if isinstance(value, str):
        parts = pc.extract_regex(pa.array([value.strip()]), _MONTH_TEXT)[0]
        if parts.is_valid:
            year, month = int(parts["year"].as_py()), int(parts["month"].as_py())
            if year >= 1 and 1 <= month <= 12:
                return pd.Period(year=year, month=month, freq="M")
            raise refused
    if not dates or value is None or isinstance(value, (bool, numbers.Real)):
        raise refused
    try:
        day = parse_dates([value], name)[0]
    except (InputError, InputTypeError):
        raise refused from None
    return pd.Period(str(day), freq="M")


# --- numbers -------------------------------------------------------------------------------------

# A plain number as Python and Excel write it: 12, -3.5, .5, 1e3.
_PLAIN_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
# A number as a spreadsheet displays it: $1,234.50, -$5, (1,234.50) for a negative, 6.5%.
_DRESSED_NUMBER = (
    r"^(?P<open>\()?\s*(?P<sign>[+-]?)\s*(?P<dollar>\$?)\s*(?P<sign2>[+-]?)\s*"
    r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?P<fraction>\.[0-9]*)?"
    r"\s*(?P<close>\)?)\s*(?P<percent>%?)$"
)


def parse_number_texts(texts: pa.Array, *, dollar: bool = False, percent: bool = False
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Numbers from distinct, trimmed texts: ``(values, ok)``.

    Accepted: plain numbers (``1234.5``, ``-3``, ``1e3``), thousands separators in their
    proper places (``1,234,567.89``), accounting parentheses for negatives
    (``(1,234.50)``), with ``dollar`` a dollar sign (``$1,234.50``, ``-$5``) and with
    ``percent`` a trailing percent sign (``6%`` is 0.06, as Excel stores it): only a rate or
    share takes one, so ``12%`` in a quantity is refused rather than read as 0.12 units.
    Anything else, including ``1.234,5``, ``1,23``, ``nan`` and ``inf``, is not a number:
    guessing would risk a silently wrong amount.
    """
    values = np.full(len(texts), np.nan)
    if len(texts) == 0:
        return values, np.zeros(0, dtype=bool)
    plain = _to_bool(pc.match_substring_regex(texts, _PLAIN_NUMBER))
    if plain.any():
        values[plain] = _to_float(texts.filter(pa.array(plain)))
    ok = plain.copy()
    rest = ~plain
    if not rest.any():
        return values, ok
    others = texts.filter(pa.array(rest))
    parts = pc.extract_regex(others, _DRESSED_NUMBER)
    matched = _to_bool(pc.is_valid(parts))

    def field(name: str) -> np.ndarray:
        return np.asarray(
            pc.struct_field(parts, name).fill_null("").to_numpy(zero_copy_only=False),
            dtype=object,
        )

    whole, fraction = field("whole"), field("fraction")
    has_digits = (np.char.str_len(whole.astype(str)) > 0) | (
        np.char.str_len(fraction.astype(str)) > 1
    )
    opened, closed = field("open") == "(", field("close") == ")"
    sign, sign2 = field("sign"), field("sign2")
    dollars, percents = field("dollar") == "$", field("percent") == "%"
    valid = matched & has_digits & (opened == closed) & ~((sign != "") & (sign2 != ""))
    valid &= ~(opened & ((sign != "") | (sign2 != "")))
    if not dollar:
        valid &= ~dollars
    if not percent:
        valid &= ~percents
    if valid.any():
        digits = np.char.replace(whole[valid].astype(str), ",", "") + fraction[valid].astype(str)
        digits = np.where(np.char.str_len(digits) == 0, "0", digits)
        number = np.asarray(digits.astype(np.float64))
        negative = (sign[valid] == "-") | (sign2[valid] == "-") | opened[valid]
        number = np.where(negative, -number, number)
        number = np.where(percents[valid], number / 100.0, number)
        where = np.flatnonzero(rest)[valid]
        values[where] = number
        ok[where] = True
    return values, ok


# --- Arrow helpers -------------------------------------------------------------------------------


def _to_bool(array: pa.Array) -> np.ndarray:
    return np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _to_float(texts: pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(texts, pa.float64()).to_numpy(zero_copy_only=False),
                      dtype=np.float64)


def _int_field(parts: pa.Array, name: str) -> np.ndarray:
    return np.asarray(pc.cast(pc.struct_field(parts, name), pa.int64()).to_numpy(
        zero_copy_only=False), dtype=np.int64)
