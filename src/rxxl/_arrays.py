"""Turning what callers hand over (scalars, lists, ndarrays, Series, 2-D ranges) into arrays.

Shared by the metric modules so that every metric accepts the same shapes and fails the
same way: text or booleans where a number belongs raise :class:`~rxxl.errors.InputTypeError`
naming the argument and the position; ``None`` counts as missing (NaN) and each metric's NaN
policy decides what a missing value means.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from rxxl.errors import InputError, InputTypeError

_NUMBER_OR_BLANK_TYPES = frozenset(
    {int, float, type(None), np.float64, np.float32, np.int64, np.int32, np.int16, np.int8,
     np.uint64, np.uint32, np.uint16, np.uint8}
)


def _position(index: tuple[int, ...]) -> str:
    return " at position " + ",".join(str(i + 1) for i in index) if index else ""


def as_float_array(values: Any, name: str) -> np.ndarray:
    """Return ``values`` as a float ndarray of the same shape; ``None`` becomes NaN.

    >>> as_float_array([1, None, 2.5], "budget")
    array([1. , nan, 2.5])
    >>> as_float_array([1, "ten"], "budget")
    Traceback (most recent call last):
    ...
    rxxl.errors.InputTypeError: budget: expected a number at position 2, got text 'ten'
    """
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    elif isinstance(values, pd.DataFrame):
        values = values.to_numpy()
    array = np.asarray(values)
    kind = array.dtype.kind
    if kind in "iuf":
        return array.astype(float, copy=False)
    if kind == "b":
        raise InputTypeError(f"{name}: expected numbers, got TRUE/FALSE values")
    if kind != "O":
        # numpy turned a mixed list into text; look at the cells as they were given.
        array = np.asarray(values, dtype=object)
    # Object arrays come from Excel ranges and mixed lists. When every cell is a number or
    # blank (the usual case), numpy's cast is exact and fast; otherwise find the culprit.
    if set(map(type, array.ravel().tolist())) <= _NUMBER_OR_BLANK_TYPES:
        return array.astype(float)
    out = np.empty(array.shape, dtype=float)
    for index, cell in np.ndenumerate(array):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)) or cell is pd.NA:
            out[index] = np.nan
        elif isinstance(cell, numbers.Real) and not isinstance(cell, (bool, np.bool_)):
            out[index] = float(cell)
        else:
            what = f"text {cell!r}" if isinstance(cell, str) else f"{type(cell).__name__} {cell!r}"
            raise InputTypeError(f"{name}: expected a number{_position(index)}, got {what}")
    return out


def as_vector(values: Any, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D float array: a scalar, a list, a row or a column.

    >>> as_vector([[1], [2], [3]], "values")
    array([1., 2., 3.])
    >>> as_vector([[1, 2], [3, 4]], "values")
    Traceback (most recent call last):
    ...
    rxxl.errors.InputError: values: expected a single row or column, got a 2 x 2 range
    """
    return _flatten(as_float_array(values, name), name)


def as_label_vector(values: Any, name: str) -> np.ndarray:
    """Return ``values`` (codes, categories) as a 1-D object array of the same cells."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        values = [values]
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy(dtype=object)
    return _flatten(np.asarray(values, dtype=object), name)


def _flatten(array: np.ndarray, name: str) -> np.ndarray:
    if array.ndim == 0:
        return array.reshape(1)
    if array.ndim == 1:
        return array
    if array.ndim == 2 and 1 in array.shape:
        return array.ravel()
    shape = " x ".join(str(n) for n in array.shape)
    raise InputError(f"{name}: expected a single row or column, got a {shape} range")


def require_same_length(**vectors: np.ndarray) -> int:
    """Raise :class:`InputError` unless all vectors have the same length; return it."""
    lengths = {name: len(v) for name, v in vectors.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise InputError(f"ranges must have the same number of values: {listed}")
    return next(iter(lengths.values()))


def require_nonempty(vector: np.ndarray, name: str) -> None:
    """Raise :class:`InputError` if ``vector`` has no values or only missing ones."""
    if vector.size == 0:
        raise InputError(f"{name}: no values given")
    if vector.dtype.kind == "f" and np.isnan(vector).all():
        raise InputError(f"{name}: every value is blank")


def ratio(numerator: Any, denominator: Any) -> np.ndarray:
    """``numerator / denominator``, NaN where the denominator is 0: undefined (Excel's
    #DIV/0!), never inf or an error. A tiny denominator may still overflow to inf, the
    honest IEEE answer.

    >>> ratio([1.0, 1.0, 0.0], [4.0, 0.0, 0.0])
    array([0.25,  nan,  nan])
    """
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(den == 0, np.nan, num / np.where(den == 0, 1.0, den))


def scaled_to_largest(weights: np.ndarray) -> np.ndarray:
    """Weights divided by the largest |weight|, for shares that sums would overflow.

    A share Σ_part w / Σ_all w does not change when every w is divided by the same number,
    and after dividing by the largest no sum of n weights exceeds n: two amounts of 1e308
    sum to inf, so 1e308 / inf would give 0 instead of 50%. Weights whose sum is finite are
    returned as they are (so ordinary counts keep their exact sums), and so are weights that
    are not all finite.

    >>> scaled_to_largest(np.array([1e308, 1e308, 0.0]))
    array([1., 1., 0.])
    >>> scaled_to_largest(np.array([3.0, 1.0]))
    array([3., 1.])
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if weights.size == 0 or math.isfinite(float(np.sum(np.abs(weights)))):
            return weights
        largest = float(np.max(np.abs(weights)))
    if not math.isfinite(largest):
        return weights
    return weights / largest


def require_non_negative(values: np.ndarray, name: str, rule: str) -> None:
    """Raise :class:`InputError` at the first negative value, naming its position and ``rule``.

    >>> require_non_negative(np.array([3.0, -1.0]), "quantity", "quantities are 0 or more")
    Traceback (most recent call last):
    ...
    rxxl.errors.InputError: quantity: -1.0 at position 2 is negative; quantities are 0 or more
    """
    negative = values < 0
    if negative.any():
        index = tuple(int(i) for i in np.argwhere(negative)[0])
        raise InputError(
            f"{name}: {float(values[index])!r}{_position(index)} is negative; {rule}"
        )


def series_index(**raw: Any) -> tuple[pd.Index | None, str | None]:
    """The index of the first Series argument (and its name), checking that every other
    Series argument has the same index: values are matched by position, and positional
    matching of differently ordered Series would be silently wrong."""
    index, owner = None, None
    for name, value in raw.items():
        if not isinstance(value, pd.Series):
            continue
        if index is None:
            index, owner = value.index, name
        elif not value.index.equals(index):
            raise InputError(
                f"{owner} and {name} are Series with different indexes; values are matched by"
                f" position, so align them first (e.g. {name}.reindex({owner}.index))"
            )
    return index, owner


def line_name(position: int, index: pd.Index | None, unit: str = "line") -> str:
    """A line as messages name it: its 1-based position, and its label when it has one."""
    label = "" if index is None else f" ({index[position]!r})"
    return f"{unit} {position + 1}{label}"
