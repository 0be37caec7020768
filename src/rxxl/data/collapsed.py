"""A part of a table collapsed to its distinct rows, validated as the whole part would be.

A denial trend reads a million claims a month but only a few thousand distinct rows of the
columns it groups by: 31 service days x 19 payers x 2 statuses x a dozen reject codes. Cells
of Parquet's dictionary-encoded text and of its date columns are checked by their distinct
values anyway (:mod:`rxxl.data.cells`), so :func:`load_collapsed` counts the rows of each
distinct combination straight from the file's integer codes, sums the amounts per
combination, and runs the contract over the distinct combinations only. When any of them
breaks the contract, the part is loaded whole with :func:`rxxl.data.load_table`, whose error
names each row: the messages are the same as without collapsing.

Parts that are not Parquet, or whose grouping columns are not stored as dictionaries or
dates, are loaded whole and grouped in pandas: slower, with the same result.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rxxl.data import cells as cl
from rxxl.data.readers import _read_parquet, _Unreadable, load_table
from rxxl.data.validate import Part, _match_columns, check_parts, resolve_table

__all__ = ["load_collapsed", "COUNT"]

#: The column of a collapsed frame that counts the rows each of its rows stands for.
COUNT = "row_count"
#: Combinations counted in a dense array; beyond, the present ones are found by sorting.
_DENSE_CELLS = 1 << 22


def load_collapsed(path: Path | str, table: str, *, by: Sequence[str],
                   sums: Sequence[str] = (), filled: Sequence[str] = (),
                   sheet: str | None = None, max_problems: int = 50) -> pd.DataFrame:
    """One part's rows collapsed to their distinct combinations of ``by``, with row counts.

    Parameters
    ----------
    path : path
        One file of the table (a ``claims/`` part).
    table : str
        Its contract (``"claims"``).
    by : sequence of str
        Columns whose distinct combinations are kept, validated and normalized as
        :func:`rxxl.data.load_table` gives them (codes and text as Categoricals).
    sums : sequence of str
        Money or number columns summed per combination (a blank counts 0).
    filled : sequence of str
        Columns of which only blank or filled matters (a resubmission's
        ``original_claim_id``): a combination splits by it, and the column holds the
        part's first filled value where filled, blank elsewhere. Every cell is still checked.
    sheet, max_problems
        As for :func:`rxxl.data.load_table`.

    Returns
    -------
    pandas.DataFrame
        The ``by``, ``filled`` and ``sums`` columns and :data:`COUNT` (rows of the part
        each row stands for); rows with a count of 0 are left out. Two rows may be equal
        after normalization (``"A "`` and ``"A"`` are counted apart, then both read
        ``"A"``); their counts and sums add up.

    Raises
    ------
    DataValidationError
        As :func:`rxxl.data.load_table` raises it for the part.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"ndc": ["00002759701", "51655008952"]}).to_parquet(
    ...     folder / "orphan.parquet")
    >>> load_collapsed(folder / "orphan.parquet", "orphan_drugs", by=["ndc"])
               ndc  row_count
    0  00002759701          1
    1  51655008952          1
    """
    path = Path(path)
    contract = resolve_table(table).subset([*by, *sums, *filled])
    collapsed = None
    if sheet is None and path.suffix.lower() in (".parquet", ".pq") and not (
            contract.key or contract.date_ranges or contract.one_of):
        collapsed = _from_codes(path, contract, list(by), list(sums), list(filled),
                                max_problems)
    if collapsed is None:
        # Not collapsible from the file's codes, or a cell breaks the contract: the whole
        # part through load_table, which names every bad row.
        frame = load_table(path, contract, categorical=True, sheet=sheet,
                           max_problems=max_problems)
        collapsed = _grouped(frame, list(by), list(sums), list(filled))
    return collapsed


def _from_codes(path: Path, contract, by: list[str], sums: list[str], filled: list[str],
                max_problems: int) -> pd.DataFrame | None:
    """The collapsed frame computed from the file's dictionary and date codes; None when
    the columns are not stored so, or a value breaks the contract."""
    try:
        part = _read_parquet(path, contract, str(path))
    except _Unreadable:
        return None
    mapping, problems = _match_columns(part, contract)
    if problems or len(mapping) < len(contract.columns):
        return None
    codes, keys = [], {}
    for name in by:
        encoded = _codes(part.columns[mapping[name]])
        if encoded is None:
            return None
        codes.append(encoded[0])
        keys[name] = encoded[1]
    markers = []
    for name in filled:
        column = part.columns[mapping[name]]
        if not pa.types.is_dictionary(column.type):
            return None
        dictionary = _codes(column)
        if not _distinct_valid(dictionary[1], name, contract, max_problems):
            return None
        # The loader's own rule of a blank cell (null, empty or spaces): code -1.
        text = cl._text_from_dictionary(column)
        is_filled = text.codes >= 0
        codes.append(is_filled.astype(np.int64))
        first = int(is_filled.argmax())
        markers.append(text.uniques[int(text.codes[first])].as_py() if is_filled[first]
                       else None)
    totals = {}
    for name in sums:
        parsed = cl.parse(cl.cells_of(part.columns[mapping[name]]),
                          next(c for c in contract.columns if c.name == name))
        if parsed.status.size and int(parsed.status.max()) > max(cl.OK, cl.BLANK):
            return None
        values = np.asarray(parsed.values, dtype=float)
        totals[name] = np.where(parsed.status == cl.OK, values, 0.0)

    sizes = [int(c.max()) + 1 if c.size else 1 for c in codes]
    cell = np.ravel_multi_index(codes, sizes) if codes else np.zeros(part.nrows, np.int64)
    cells = int(np.prod(sizes)) if codes else 1
    if cells <= _DENSE_CELLS:
        count = np.bincount(cell, minlength=cells)
        present = np.flatnonzero(count)
        position = np.full(cells, -1, dtype=np.int64)
        position[present] = np.arange(present.size)
        group = position[cell]
        count = count[present]
    else:
        present, group = np.unique(cell, return_inverse=True)
        count = np.bincount(group)
    combos = np.unravel_index(present, sizes) if codes else []
    raw = {name: values.take(pa.array(combo)) for (name, values), combo
           in zip(keys.items(), combos, strict=False)}
    for offset, (name, marker) in enumerate(zip(filled, markers, strict=True)):
        raw[name] = pa.array(np.where(combos[len(by) + offset] == 1, marker, None),
                             pa.string())
    small = Part(part.source, list(raw), raw, int(present.size))
    outcome = check_parts([small], contract.subset([*by, *filled]), max_problems,
                          categorical=True)
    if outcome.frame is None:
        return None
    frame = outcome.frame
    for name, values in totals.items():
        frame[name] = np.bincount(group, weights=values, minlength=present.size)
    frame[COUNT] = count.astype(np.int64)
    return frame


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array] | None:
    """Each row's code into an array of distinct raw values (its last entry: null)."""
    if pa.types.is_dictionary(column.type):
        # One array with one dictionary (combining unifies them); its int32 indices as they
        # are, the nulls (code: after the last entry) set where there are any.
        combined = (column.combine_chunks() if column.num_chunks
                    else pa.array([], column.type))
        dictionary = combined.dictionary
        indices = combined.indices
        codes = np.asarray(indices.to_numpy(zero_copy_only=False) if indices.null_count == 0
                           else indices.fill_null(len(dictionary)).to_numpy(
                               zero_copy_only=False), dtype=np.int32)
        return codes, pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
    if pa.types.is_date32(column.type):
        days = column.combine_chunks().cast(pa.int32()) if column.num_chunks else pa.array(
            [], pa.int32())
        bounds = pc.min_max(days).as_py()
        first, span = (bounds["min"], bounds["max"] - bounds["min"] + 1) if bounds["min"] \
            is not None else (0, 0)
        # Days after the first as the codes, the null code after the last day.
        codes = np.asarray(pc.subtract(days, first).fill_null(span).to_numpy(
            zero_copy_only=False), dtype=np.int32)
        values = pa.array(np.arange(first, first + span, dtype=np.int32)).cast(pa.date32())
        return codes, pa.concat_arrays([values, pa.nulls(1, pa.date32())])
    return None


def _distinct_valid(values: pa.Array, name: str, contract, max_problems: int) -> bool:
    """Every distinct value of a column meets the contract (so every cell does)."""
    part = Part("distinct values", [name], {name: values}, len(values))
    return check_parts([part], contract.subset([name]), max_problems).frame is not None


def _grouped(frame: pd.DataFrame, by: list[str], sums: list[str], filled: list[str]
             ) -> pd.DataFrame:
    """The collapsed frame of a loaded part, grouped in pandas."""
    keys = frame[by].copy()
    for name in filled:
        is_filled = frame[name].notna().to_numpy()
        first = frame[name][is_filled].iloc[0] if is_filled.any() else None
        keys[name] = pd.Series(np.where(is_filled, first, None), dtype=object)
    values = frame[sums].fillna(0.0) if sums else pd.DataFrame(index=frame.index)
    grouped = pd.concat([keys, values], axis=1).assign(**{COUNT: 1}).groupby(
        [*by, *filled], dropna=False, observed=True, sort=False)
    return grouped[[*sums, COUNT]].sum().reset_index()
