"""National Drug Codes and National Provider Identifiers: normalizing and checking them.

NDC (DOMAIN.md §8)
------------------
The FDA's NDC is 10 digits in three segments, labeler-product-package, laid out 4-4-2,
5-3-2 or 5-4-1; billing (HIPAA, CMS) uses an 11-digit 5-4-2 form made by putting a zero in
front of the short segment. rxxl normalizes every NDC to those 11 digits, without dashes:

=====================  ===================  ============================================
given                  read as              11 digits
=====================  ===================  ============================================
``00002759701``        11 digits            ``00002759701``
``00002-7597-01``      5-4-2 with dashes    ``00002759701``
``0002-7597-01``       4-4-2                ``00002759701`` (zero before the labeler)
``51655-089-52``       5-3-2                ``51655008952`` (zero before the product)
``58118-1397-3``       5-4-1                ``58118139703`` (zero before the package)
the number 2759701     11 digits that       ``00002759701``
                       lost leading zeros
=====================  ===================  ============================================

Refused, because a silently wrong NDC is worse than a question:

- **10 digits without dashes** (``0002759701``, ``5165508952``): the same ten digits read
  as 4-4-2, 5-3-2 or 5-4-1 give different 11-digit codes. Write the dashes printed on the
  package, or the 11-digit code.
- **Text of fewer than 10 digits** (``2759701`` in a CSV): a spreadsheet probably dropped the
  leading zeros of an 11-digit code, but it may as well be a 9-digit product code or a typo.
  The message suggests the zero-padded code to confirm.
- **A 10-digit number** (a cell holding 1234567890): either an 11-digit code that lost one
  leading zero or a 10-digit code without dashes.

An NDC whose labeler would be ``00000`` is refused too: the FDA assigns no such labeler, and
it is what a zero, a placeholder or a 9-digit product code becomes when padded.

A *number* of at most 9 digits (a numeric cell in Excel, a numeric Parquet column) is taken
as an 11-digit code whose leading zeros the spreadsheet dropped and is padded with zeros on
the left. That reading is the only one that fits a package NDC: Excel keeps dashed codes as
text, so a number held undashed digits; 11 digits give back exactly this code, and so does a
10-digit 4-4-2 code (its labeler starts with the zero that was lost), while 5-3-2 and 5-4-1
codes start with a 5-digit labeler, and those never start with zero (a zero-led 5-digit
labeler would collide with the 4-digit labeler it pads in the billing form).

NPI
---
The National Provider Identifier is 10 digits; the last is a Luhn check digit computed over
the prefix 80840 followed by the first nine digits (CMS, "Requirements for NPI Check Digit").
The prefix adds a constant 24 to the Luhn sum.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rxxl.errors import InputError

__all__ = ["normalize_ndc", "ndc_problem", "npi_is_valid", "npi_check_digit"]

NDC_FORMS = (
    "an NDC of 11 digits (00002759701 or 00002-7597-01) or 10 digits with the dashes "
    "printed on the package (4-4-2 0002-7597-01, 5-3-2 51655-089-52, 5-4-1 58118-1397-3)"
)

# Reasons (row statuses of rxxl.data.cells; 0 is OK, 1 blank).
NDC_NOT_NDC = 20
NDC_TEN_UNDASHED = 21
NDC_SHORT_TEXT = 22
NDC_TEN_DIGIT_NUMBER = 23
NDC_BAD_NUMBER = 24
NDC_BAD_SEGMENTS = 25
NDC_ZERO_LABELER = 26
NDC_REASONS = frozenset(range(20, 27))
NPI_NOT_TEN_DIGITS = 30
NPI_BAD_CHECK_DIGIT = 31

_LAYOUTS = {(5, 4, 2), (4, 4, 2), (5, 3, 2), (5, 4, 1)}
_DASHED = r"^(?P<labeler>[0-9]+)-(?P<product>[0-9]+)-(?P<package>[0-9]+)$"
_DIGITS = r"^[0-9]+$"
#: Luhn sum of the NPI prefix 80840 (8 + 0 + 8 + 2·4 + 0, the 4 doubled).
_PREFIX_SUM = 24


def ndc_reason_text(reason: int, shown: str, *, hidden: bool = False) -> str:
    """The sentence for an NDC problem, with ``shown`` as the value.

    With ``hidden``, ``shown`` is only the value's form (:mod:`rxxl.data.phi`): the
    sentence then spells no code computed from the value's digits.
    """
    digits = "".join(ch for ch in shown if ch.isdigit())  # a form's 9s count them, too
    if reason == NDC_TEN_UNDASHED:
        return (f"{shown} has 10 digits without dashes, which reads three ways (4-4-2, 5-3-2"
                " or 5-4-1); write it with the dashes printed on the package (e.g."
                " 0002-7597-01) or as the 11-digit code")
    if reason == NDC_SHORT_TEXT:
        fix = ("write it with zeros in front up to 11 digits" if hidden else
               f"the 11-digit code is {digits.zfill(11)}: write that")
        return (f"{shown} has only {len(digits)} digits; if a spreadsheet dropped its leading"
                f" zeros, {fix} (and keep the column as text), or correct the NDC")
    if reason == NDC_TEN_DIGIT_NUMBER:
        padded = "" if hidden else f" ({digits.zfill(11)})"
        return (f"{shown} is a 10-digit number: an 11-digit NDC that lost its leading zero"
                f"{padded} or a 10-digit NDC without dashes; format the column"
                " as text and write the 11-digit code")
    if reason == NDC_BAD_NUMBER:
        return (f"{shown} is a number that is not an NDC (an NDC is a whole number of at"
                f" most 11 digits); write {NDC_FORMS}")
    if reason == NDC_ZERO_LABELER:
        return (f"{shown} has the labeler code 00000, which the FDA never assigns (a"
                " placeholder, or a 9-digit product code?); write the package's NDC")
    if reason == NDC_BAD_SEGMENTS:
        return (f"{shown} has its dashes in the wrong places (the layouts are 4-4-2, 5-3-2,"
                f" 5-4-1 and 5-4-2); write {NDC_FORMS}")
    return f"{shown} is not an NDC; write {NDC_FORMS}"


def normalize_ndc_texts(texts: pa.Array, numeric: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Normalize distinct, trimmed, non-blank NDC texts: ``(11-digit codes, reasons)``.

    ``numeric`` marks texts that were numbers (whole numbers written without ``.0``).
    Codes of refused texts are left as given; the reasons say which are refused.
    """
    n = len(texts)
    reasons = np.full(n, NDC_NOT_NDC, dtype=np.int8)
    if n == 0:
        return texts, reasons
    length = np.asarray(pc.utf8_length(texts).to_numpy(zero_copy_only=False), dtype=np.int64)
    digits_only = _mask(pc.match_substring_regex(texts, _DIGITS))
    numeric = np.asarray(numeric, dtype=bool)
    out = texts
    reasons[digits_only & (length == 11)] = 0
    reasons[digits_only & (length == 10)] = NDC_TEN_UNDASHED
    reasons[digits_only & (length < 10)] = NDC_SHORT_TEXT
    padded = numeric & digits_only & (length < 10)
    reasons[padded] = 0
    reasons[numeric & digits_only & (length == 10)] = NDC_TEN_DIGIT_NUMBER
    reasons[numeric & ~(digits_only & (length <= 11))] = NDC_BAD_NUMBER
    if padded.any():
        out = pc.if_else(pa.array(padded), pc.utf8_lpad(texts, 11, "0"), out)
    segments = pc.extract_regex(texts, _DASHED)
    dashed = _mask(pc.is_valid(segments)) & ~numeric
    if dashed.any():
        parts = [pc.struct_field(segments, name) for name in ("labeler", "product", "package")]
        lengths = [np.asarray(pc.utf8_length(p).fill_null(0).to_numpy(zero_copy_only=False))
                   for p in parts]
        layout = np.zeros(n, dtype=bool)
        for sizes in _LAYOUTS:
            layout |= (lengths[0] == sizes[0]) & (lengths[1] == sizes[1]) & (
                lengths[2] == sizes[2])
        reasons[dashed] = np.where(layout[dashed], 0, NDC_BAD_SEGMENTS)
        joined = pc.binary_join_element_wise(
            pc.utf8_lpad(parts[0], 5, "0"), pc.utf8_lpad(parts[1], 4, "0"),
            pc.utf8_lpad(parts[2], 2, "0"), "",
        )
        out = pc.if_else(pa.array(dashed & layout), joined, out)
    zero_labeler = _mask(pc.starts_with(out, "00000")) & (reasons == 0)
    reasons[zero_labeler] = NDC_ZERO_LABELER
    return out, reasons


def npi_reasons(texts: pa.Array) -> np.ndarray:
    """Check distinct, trimmed NPI texts: 0 for a valid NPI, else the reason."""
    n = len(texts)
    reasons = np.full(n, NPI_NOT_TEN_DIGITS, dtype=np.int8)
    if n == 0:
        return reasons
    ten = _mask(pc.match_substring_regex(texts, r"^[0-9]{10}$"))
    if ten.any():
        digits = _digit_matrix(texts.filter(pa.array(ten)), 10)
        good = _luhn_check_digits(digits[:, :9]) == digits[:, 9]
        reasons[ten] = np.where(good, 0, NPI_BAD_CHECK_DIGIT)
    return reasons


def _digit_matrix(texts: pa.Array, width: int) -> np.ndarray:
    """Rows of digits from texts known to hold exactly ``width`` ASCII digits."""
    fixed = pc.cast(texts.cast(pa.binary()), pa.binary(width))
    raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
    start = fixed.offset * width
    return (raw[start:start + len(fixed) * width].reshape(-1, width) - 48).astype(np.int64)


def _luhn_check_digits(first9: np.ndarray) -> np.ndarray:
    # The rightmost payload digit is doubled, then every second one to its left.
    doubled = first9[:, ::-2] * 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = _PREFIX_SUM + doubled.sum(axis=1) + first9[:, -2::-2].sum(axis=1)
    return (10 - total % 10) % 10


def _mask(array: pa.Array) -> np.ndarray:
    return np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _text_cells(values: Any):
    # Imported here: cells imports this module for the kind parsers.
    from rxxl.data.cells import as_text, cells_of

    return as_text(cells_of(values))


def _as_input(values: Any) -> tuple[Any, bool, pd.Index | None, str | None]:
    """(cells, was_scalar, index, name) of what a caller handed over."""
    if isinstance(values, pd.Series):
        return values, False, values.index, values.name
    if np.ndim(values) == 0:
        return pd.Series([values], dtype=object), True, None, None
    return pd.Series(np.ravel(np.asarray(values, dtype=object)), dtype=object), False, None, None


def normalize_ndc(values: Any, *, errors: str = "raise") -> Any:
    """Normalize NDCs to the 11-digit billing form, without dashes.

    Parameters
    ----------
    values : str, number or array-like of them
        NDCs as 11 digits, as 10 digits with dashes (4-4-2, 5-3-2, 5-4-1), as 11 digits with
        dashes (5-4-2), or as numbers whose leading zeros a spreadsheet dropped (see the
        module notes for what is refused and why).
    errors : {"raise", "coerce"}
        ``"raise"``: an :class:`~rxxl.errors.InputError` names the first value that is not
        an NDC and how many there are; ``"coerce"``: such values become missing.

    Returns
    -------
    str, numpy.ndarray of object or pandas.Series
        The 11-digit codes, shaped like the input (a Series keeps its index and has the
        pandas ``string`` dtype); blanks are missing (``None`` or ``<NA>``).

    Examples
    --------
    >>> normalize_ndc("0002-7597-01")
    '00002759701'
    >>> normalize_ndc(["51655-089-52", "58118-1397-3", "00002759701", 2759701, ""])
    array(['51655008952', '58118139703', '00002759701', '00002759701', None],
          dtype=object)
    >>> normalize_ndc("0002759701")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rxxl.errors.InputError: 1 value is not an NDC, the first at position 1: "0002759701" has ...
    >>> normalize_ndc(["0002759701", "12345-678-90"], errors="coerce")
    array([None, '12345067890'], dtype=object)
    """
    if errors not in ("raise", "coerce"):
        raise InputError(f'errors: expected "raise" or "coerce", got {errors!r}')
    series, scalar, index, name = _as_input(values)
    text = _text_cells(series)
    codes, reasons = normalize_ndc_texts(text.uniques, text.numeric)
    row_reasons = np.where(text.codes < 0, 1, reasons[np.maximum(text.codes, 0)]
                           if len(reasons) else 1)
    bad = np.flatnonzero(row_reasons > 1)
    if len(bad) and errors == "raise":
        first = int(bad[0])
        shown = f'"{text.shown(np.array([first]))[0]}"'
        count = f"{len(bad)} value is" if len(bad) == 1 else f"{len(bad)} values are"
        raise InputError(f"{count} not an NDC, the first at position {first + 1}: "
                         + ndc_reason_text(int(row_reasons[first]), shown))
    keep = row_reasons == 0
    taken = codes.take(pa.array(np.maximum(text.codes, 0), mask=~keep)) if len(codes) else (
        pa.nulls(len(keep), pa.string()))
    if scalar:
        return taken[0].as_py()
    if index is not None:
        return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([taken], pa.string())),
                         index=index, name=name)
    return np.asarray(taken.to_pylist(), dtype=object)


def ndc_problem(value: Any) -> str | None:
    """Say what is wrong with one NDC, or ``None`` when it is valid (or blank).

    Parameters
    ----------
    value : str or number
        One NDC, in any form :func:`normalize_ndc` reads.

    Returns
    -------
    str or None
        A sentence naming the value, what is wrong and what to write instead.

    Examples
    --------
    >>> ndc_problem("0002-7597-01") is None
    True
    >>> print(ndc_problem("5165508952").split(";")[0])
    "5165508952" has 10 digits without dashes, which reads three ways (4-4-2, 5-3-2 or 5-4-1)
    >>> print(ndc_problem("0002-75970-1").split(" (")[0])
    "0002-75970-1" has its dashes in the wrong places
    """
    text = _text_cells(pd.Series([value], dtype=object))
    if text.codes[0] < 0:
        return None
    _, reasons = normalize_ndc_texts(text.uniques, text.numeric)
    reason = int(reasons[text.codes[0]])
    return None if reason == 0 else ndc_reason_text(reason, f'"{text.shown(np.array([0]))[0]}"')


def npi_is_valid(values: Any) -> Any:
    """Whether each value is a valid NPI: 10 digits with the right Luhn check digit.

    Parameters
    ----------
    values : str, int or array-like of them
        NPIs as text or as whole numbers; blanks are not valid.

    Returns
    -------
    bool or numpy.ndarray of bool

    Examples
    --------
    >>> npi_is_valid("1234567893")
    True
    >>> npi_is_valid(["1234567893", "1234567890", 1558598797, "123456789", None])
    array([ True, False,  True, False, False])
    """
    series, scalar, _, _ = _as_input(values)
    text = _text_cells(series)
    reasons = npi_reasons(text.uniques)
    valid = np.zeros(len(text.codes), dtype=bool)
    filled = text.codes >= 0
    valid[filled] = reasons[text.codes[filled]] == 0
    return bool(valid[0]) if scalar else valid


def npi_check_digit(first9: str) -> str:
    """The check digit that completes the first nine digits of an NPI.

    Parameters
    ----------
    first9 : str
        Nine digits.

    Returns
    -------
    str
        One digit.

    Examples
    --------
    CMS's example: the identifier 123456789 gets check digit 3, so 1234567893 is an NPI.

    >>> npi_check_digit("123456789")
    '3'
    """
    text = str(first9).strip()
    if len(text) != 9 or not text.isascii() or not text.isdigit():
        raise InputError(f"first9: expected the first nine digits of an NPI, got {first9!r}")
    digits = np.frombuffer(text.encode(), dtype=np.uint8).astype(np.int64) - 48
    return str(int(_luhn_check_digits(digits.reshape(1, 9))[0]))
