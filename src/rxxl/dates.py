"""Excel date serial numbers.

Excel stores a date as the number of days since 1899-12-31 with 1900 wrongly treated as a
leap year, so from 1900-03-01 on (serial 61) a serial is the number of days since 1899-12-30.
Serial 60 is the phantom 1900-02-29, which no real date matches.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rxxl._arrays import as_vector
from rxxl.errors import InputError

_EPOCH_FROM_MARCH_1900 = np.datetime64("1899-12-30", "D")
_EPOCH_BEFORE_MARCH_1900 = np.datetime64("1899-12-31", "D")
_PHANTOM_LEAP_DAY = 60
#: Excel's last valid date, 9999-12-31.
_MAX_SERIAL = 2958465


def from_excel_serial(serials: Any, name: str = "dates") -> np.ndarray:
    """Convert Excel date serial numbers to ``datetime64[D]``; a time of day is dropped.

    Parameters
    ----------
    serials : number or sequence of numbers
        Excel serials (1 is 1900-01-01; 45658 is 2025-01-01).
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray of datetime64[D]

    Examples
    --------
    >>> from_excel_serial([1, 59, 61, 45658.75])
    array(['1900-01-01', '1900-02-28', '1900-03-01', '2025-01-01'],
          dtype='datetime64[D]')
    """
    values = as_vector(serials, name)
    whole = np.floor(values)
    bad = np.isnan(values) | (whole < 1) | (whole > _MAX_SERIAL) | (whole == _PHANTOM_LEAP_DAY)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name}: {values[position]!r} at position {position + 1} is not an Excel date serial"
            " (1 = 1900-01-01 up to 2958465 = 9999-12-31, and 60 is Excel's phantom 1900-02-29)"
        )
    days = whole.astype(np.int64)
    epoch = np.where(days >= _PHANTOM_LEAP_DAY, _EPOCH_FROM_MARCH_1900, _EPOCH_BEFORE_MARCH_1900)
    return epoch + days.astype("timedelta64[D]")
