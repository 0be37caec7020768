"""A table one part at a time: load each part through its contract, reduce it, drop it.

Twenty-four months of claims are 23 million rows; held at once, the ten columns a denial
trend reads take 7 GB. Most analyses are sums over claims, and sums of parts add up, so
:func:`map_parts` loads one part (a month's file of ``claims/``), hands the validated frame
to a function that reduces it to a small table, and lets the frame go before the next part.
Two parts are in flight at a time, one per core: Arrow's readers and NumPy's kernels release
the GIL, so on two cores the parts take about half the time.

The error policy is :func:`rxxl.data.load_table`'s: every part is checked, and when any
breaks its contract the problems of all of them (up to ``max_problems``, file by file) are
raised together; the caller's results are then never returned, so nothing partial is
written.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from rxxl.data.readers import load_table, source_files
from rxxl.data.validate import DataValidationError, Problem

__all__ = ["map_parts", "give_back_memory"]

Result = TypeVar("Result")

#: Parts loaded at once: one per core, at most two (each holds a part's columns in memory).
_MAX_WORKERS = 2


def map_parts(source: Any, table: str, function: Callable[[pd.DataFrame], Result], *,
              columns: Sequence[str] | None = None, categorical: bool = False,
              sheet: str | None = None, max_problems: int = 50,
              workers: int | None = None,
              loader: Callable[[Any], pd.DataFrame] | None = None) -> list[Result]:
    """``function`` of each part of ``source``, loaded and validated as a table of its own.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
        A directory of parts (``claims/2026-10.parquet`` ...), or one file or DataFrame (one
        part).
    table : str
        The contract (``"claims"``).
    function : callable
        Reduces one part's frame (as :func:`rxxl.data.load_table` returns it) to a result;
        it should keep nothing of the frame, or the memory saved is lost.
    columns, categorical, sheet, max_problems
        As for :func:`rxxl.data.load_table`.
    loader : callable, optional
        Loads one part instead of :func:`rxxl.data.load_table` (e.g. a
        :func:`rxxl.data.collapsed.load_collapsed`); it must raise
        :class:`DataValidationError` as that does.
    workers : int, optional
        Parts in flight at once (default: the cores, at most 2). ``function`` then runs in
        that many threads at the same time: it must not change shared state.

    Returns
    -------
    list
        One result per part, in part (file name) order.

    Raises
    ------
    DataValidationError
        When the source cannot be read or any part breaks its contract: the problems of
        every part, each naming its file, row and column. No result is returned.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("ndc\\n0002-7597-01\\n")
    >>> _ = (folder / "b.csv").write_text("ndc\\n51655-089-52\\n00002-7597-01\\n")
    >>> map_parts(folder, "orphan_drugs", len)
    [1, 2]
    """
    parts = [source] if isinstance(source, pd.DataFrame) else source_files(Path(source))
    count = workers or min(_MAX_WORKERS, os.cpu_count() or 1)

    def one(part: Any) -> tuple[Any, DataValidationError | None]:
        try:
            frame = (loader(part) if loader is not None else
                     load_table(part, table, columns=columns, categorical=categorical,
                                sheet=sheet, max_problems=max_problems))
        except DataValidationError as error:
            return None, error
        try:
            return function(frame), None
        finally:
            del frame
            give_back_memory()

    with ThreadPoolExecutor(max_workers=max(1, min(count, len(parts)))) as pool:
        outcomes = list(pool.map(one, parts))
    problems: list[Problem] = []
    total = 0
    for _, error in outcomes:
        if error is not None:
            problems += error.problems
            total += error.total
    if total:
        raise DataValidationError(problems[:max_problems], total)
    return [result for result, _ in outcomes]


def give_back_memory() -> None:
    """Return freed memory to the system between parts: each part is as big as the last, and
    Arrow's pool and the C allocator keep what they freed, so the footprint would creep up."""
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to trim
        pass
