"""Validating a table against its contract: every problem of a file in one pass, then raise.

A table arrives as one or more *parts* (a file, a sheet, one file of a directory of parts)
holding raw columns. Checking goes column by column and then across rows (keys, date
ranges, one-of groups), collecting problems as arrays of row positions; only the first
``max_problems`` of them, in file order, are turned into sentences. Either every cell is valid
and the normalized frame is returned, or :class:`DataValidationError` is raised and nothing
is returned: half-valid data never reaches a metric.

What a sentence may show of the file (cells, header names) follows the one rule of
:mod:`rxxl.data.phi`: in claims and encounters a cell is described by its form only, and a
header is shown only where it is a column name of some contract.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from rxxl import _texts
from rxxl.data import cells as cl
from rxxl.data import phi
from rxxl.data.contracts import TABLES, Column, Table
from rxxl.errors import InputError, InputTypeError

__all__ = ["DataValidationError", "Problem", "validate_table"]

PHI_HIDDEN = "(value hidden: patient identifier)"
_MAX_ROWS_LISTED = 5


@dataclass(frozen=True)
class Problem:
    """One problem found in an input table.

    ``message`` is a whole sentence that names the source, row and column, says what is
    wrong and what a valid value looks like; the other fields are for programs.
    """

    #: File (or sheet, table, part, "DataFrame") the problem is in.
    source: str
    #: Row number as the user sees it (CSV: line; xlsx: sheet row; else 1-based position);
    #: ``None`` for a problem of the whole file, such as a missing column.
    row: int | None
    #: Contract column (or columns, joined by ", ") the problem is in, if any.
    column: str | None
    message: str

    def __str__(self) -> str:
        return self.message


class DataValidationError(InputError):
    """An input table broke its contract; nothing was loaded.

    Attributes
    ----------
    problems : list of Problem
        The first problems in file order (at most ``max_problems``).
    total : int
        How many problems were found in all.

    Examples
    --------
    >>> error = DataValidationError(
    ...     [Problem("claims.csv", 7, "ndc", 'claims.csv, line 7, column "ndc": ...')], total=3)
    >>> print(error)
    3 problems found; nothing was loaded. Correct the input and load it again:
      claims.csv, line 7, column "ndc": ...
      ... and 2 more problems
    """

    def __init__(self, problems: Sequence[Problem], total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else int(total)
        super().__init__(self._text())

    def _text(self) -> str:
        count = f"{self.total:,} problem" + ("" if self.total == 1 else "s")
        lines = [f"{count} found; nothing was loaded. Correct the input and load it again:"]
        lines += [f"  {problem.message}" for problem in self.problems]
        more = self.total - len(self.problems)
        if more > 0:
            lines.append(f"  ... and {more:,} more problem" + ("" if more == 1 else "s"))
        return "\n".join(lines)

    def __reduce__(self):
        return (type(self), (self.problems, self.total))


@dataclass
class Part:
    """One piece of an input table as read: a file, a sheet, an Excel table, a DataFrame."""

    #: How messages name it: "claims.csv", 'book.xlsx, sheet "Claims"', "DataFrame".
    source: str
    #: Column names as found, in file order.
    header: list[str]
    #: Raw columns by the name as found (only those the contract may need).
    columns: dict[str, Any]
    nrows: int
    #: "line" for CSV files, "row" otherwise.
    row_word: str = "row"
    #: Row numbers as the user sees them, for 0-based positions; default position + 1.
    row_numbers: Callable[[np.ndarray], np.ndarray] | None = None
    #: xlsx: column letter of each header name, for cell references in messages.
    letters: dict[str, str] = field(default_factory=dict)
    #: Problems found while reading (a CSV line with too many fields, ...): (row, sentence).
    read_problems: list[tuple[int | None, str]] = field(default_factory=list)

    def rows(self, positions: np.ndarray) -> np.ndarray:
        if self.row_numbers is None:
            return np.asarray(positions, dtype=np.int64) + 1
        return np.asarray(self.row_numbers(np.asarray(positions, dtype=np.int64)))


def column_key(name: Any) -> str:
    """How column names are matched: without regard to case and surrounding spaces."""
    return str(name).strip().lower()


def resolve_table(table: Table | str) -> Table:
    """A contract by itself or by name."""
    if isinstance(table, Table):
        return table
    if isinstance(table, str) and table.strip().lower() in TABLES:
        return TABLES[table.strip().lower()]
    raise InputError(
        f"table: {table!r} is not an rxxl input table; expected one of {', '.join(TABLES)}"
    )


# --- the check ---------------------------------------------------------------------------------


@dataclass
class _Finding:
    """Problems of one kind: row positions (sorted) and how to word them, lazily."""

    positions: np.ndarray
    rank: int
    column: str | None
    describe: Callable[[np.ndarray], list[str]]


@dataclass
class Outcome:
    """What checking a table gave: the frame (if no problems), problems kept, total found."""

    frame: pd.DataFrame | None
    problems: list[Problem]
    total: int


def check_parts(parts: Sequence[Part], table: Table, max_problems: int, *,
                categorical: bool = False) -> Outcome:
    """Validate and normalize the parts of one table; never raises for bad data.
    ``categorical``: code and text columns as Categoricals where they arrive as distinct
    values (:func:`rxxl.data.cells.parse`)."""
    max_problems = _positive_count(max_problems)
    starts = np.cumsum([0] + [p.nrows for p in parts])
    n = int(starts[-1])
    file_problems: list[Problem] = []
    found: list[dict[str, str]] = []
    for part in parts:
        file_problems += [Problem(part.source, row, None, f"{part.source}: {text}")
                          for row, text in part.read_problems]
        mapping, problems = _match_columns(part, table)
        found.append(mapping)
        file_problems += problems

    def parse(column: Column, part: Part, name: str | None) -> cl.Parsed:
        if name is None:
            return cl.parse(cl.all_blank(part.nrows), column, categorical=categorical)
        return cl.parse(cl.cells_of(part.columns[name]), column, categorical=categorical)

    # The Arrow kernels that parse a column release the GIL: a thread per core parses the
    # columns of a 24-part claims folder about twice as fast on two cores.
    jobs = [(column, part, mapping.get(column.name))
            for column in table.columns for part, mapping in zip(parts, found, strict=True)]
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1) or 1) as pool:
        parsed_all = iter(list(pool.map(lambda job: parse(*job), jobs)))

    hidden = phi.holds_phi(table)
    findings: list[_Finding] = []
    output: dict[str, Any] = {}
    status: dict[str, np.ndarray] = {}
    missing_required = set()
    for rank, column in enumerate(table.columns):
        pieces, statuses = [], []
        for part, start, mapping in zip(parts, starts[:-1], found, strict=True):
            name = mapping.get(column.name)
            parsed = next(parsed_all)
            if name is None:
                if column.required:
                    missing_required.add(column.name)
            else:
                findings += _cell_findings(parsed, column, rank, part, int(start), name,
                                           hidden)
            pieces.append(parsed.values)
            statuses.append(parsed.status)
        output[column.name] = _concat(pieces, column, n)
        status[column.name] = np.concatenate(statuses) if statuses else np.zeros(0, np.int8)

    frame = pd.DataFrame(output)
    locate = _Locator(parts, starts, found)
    rule_rank = len(table.columns)
    findings += _key_findings(frame, status, table, missing_required, rule_rank, locate,
                              hidden)
    findings += _range_findings(frame, status, table, missing_required, rule_rank + 1,
                                hidden)
    findings += _one_of_findings(status, table, missing_required, rule_rank + 2)

    total = len(file_problems) + sum(len(f.positions) for f in findings)
    problems = file_problems[:max_problems]
    problems += _first_problems(findings, max_problems - len(problems), locate)
    if total:
        return Outcome(None, problems, total)
    return Outcome(frame, [], 0)


def _positive_count(max_problems: Any) -> int:
    if isinstance(max_problems, bool) or not isinstance(max_problems, (int, np.integer)):
        raise InputTypeError(f"max_problems: expected a whole number, got {max_problems!r}")
    if max_problems < 1:
        raise InputError(f"max_problems: expected 1 or more, got {max_problems}")
    return int(max_problems)


def _match_columns(part: Part, table: Table) -> tuple[dict[str, str], list[Problem]]:
    by_key: dict[str, list[str]] = {}
    for name in part.header:
        by_key.setdefault(column_key(name), []).append(name)
    mapping, problems = {}, []
    names = {column.name for column in table.columns}
    for column in table.columns:
        found = by_key.get(column.name, [])
        if len(found) > 1:
            listed = ", ".join(f'"{name}"' for name in found)
            problems.append(Problem(part.source, None, column.name,
                                    f'{part.source}: column "{column.name}" appears more than'
                                    f" once ({listed}); keep one of them"))
        elif found:
            mapping[column.name] = found[0]
        elif column.required:
            problems.append(Problem(part.source, None, column.name,
                                    f"{part.source}: " + _missing_text(column, part, names)))
    return mapping, problems


def _missing_text(column: Column, part: Part, names: set[str]) -> str:
    """A missing column, what the header holds and a close name; only known names are shown
    (:mod:`rxxl.data.phi`: the "header" of a file without one is its first row of data)."""
    shown = [str(h) for h in part.header if str(h).strip()]
    known = [h for h in shown if phi.is_known_header(h)]
    unknown = len(shown) - len(known)
    listed = ", ".join(known[:30]) + (f", ... ({len(known)} in all)" if len(known) > 30 else "")
    if not known and unknown:
        found = (f"no rxxl column name among {unknown:,} headers, which are not shown: is the"
                 " header line missing, so that the first line is data?")
    elif unknown:
        found = (f"{listed} and {unknown:,} header" + (" that is" if unknown == 1 else "s that"
                 " are") + " no rxxl column name (not shown)")
    else:
        found = listed or "no columns"
    return (f'column "{column.name}" is missing (found: {found}{_close_hint(column, part, names)});'
            f" add it, or rename the column that holds it, to {column.name}")


def _close_hint(column: Column, part: Part, names: set[str]) -> str:
    """'; did you mean ...?' for a header close to the column's name that no column took."""
    free = [h for h in part.header if str(h).strip() and column_key(h) not in names]
    close = difflib.get_close_matches(column.name, free, n=1, cutoff=0.6)
    if not close:
        keys = {phi.header_key(h): h for h in free}
        close = [keys[k] for k in difflib.get_close_matches(column.name, list(keys), 1, 0.6)]
    if not close:
        return ""
    if phi.is_known_header(close[0]):
        return f'; did you mean "{close[0]}"?'
    letter = part.letters.get(close[0])
    where = f"column {letter}" if letter else f"column {part.header.index(close[0]) + 1:,}"
    return f"; did you mean the header in {where}?"


def _cell_findings(parsed: cl.Parsed, column: Column, rank: int, part: Part, start: int,
                   name: str, hidden: bool) -> list[_Finding]:
    bad = parsed.status > cl.BLANK
    if not column.blank_ok:
        bad |= parsed.status == cl.BLANK
    local = np.flatnonzero(bad)
    if len(local) == 0:
        return []

    def describe(positions: np.ndarray) -> list[str]:
        rows = positions - start
        shown = parsed.cells.shown(rows)
        # The date a cell was read as is computed from the cell: shown only where cells are.
        read = ([None] * len(rows) if parsed.read is None or hidden else
                np.datetime_as_string(parsed.read[rows], unit="D").tolist())
        return [cl.describe(int(parsed.status[row]), _show(value, column, hidden), column, day,
                            hidden=hidden)
                for row, value, day in zip(rows, shown, read, strict=True)]

    return [_Finding(local + start, rank, column.name, describe)]


def _show(value: Any, column: Column, hidden: bool) -> str:
    """A cell as a message shows it: quoted, by its form in a table of patients
    (:mod:`rxxl.data.phi`), and not at all in a patient-identifier column."""
    if column.phi:
        return PHI_HIDDEN
    if hidden:
        return phi.cell_form(value)
    text = str(value)
    if len(text) > phi.MAX_SHOWN:
        text = text[: phi.MAX_SHOWN - 3] + "..."
    return f'"{text}"'


def _concat(pieces: list[Any], column: Column, n: int) -> Any:
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        return cl.parse(cl.all_blank(n), column).values
    if all(isinstance(p, pd.Categorical) for p in pieces) and column.kind in ("code", "text"):
        # Each part has its own categories; stacked as they are, they would turn to objects.
        return union_categoricals(pieces)
    return pd.concat([pd.Series(p) for p in pieces], ignore_index=True).array


class _Locator:
    """Turns global row positions into (source, row number, where-text) for messages."""

    def __init__(self, parts: Sequence[Part], starts: np.ndarray,
                 found: list[dict[str, str]]) -> None:
        self.parts, self.starts, self.found = parts, starts, found

    def split(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = np.searchsorted(self.starts, positions, side="right") - 1
        return index, positions - self.starts[index]

    def rows(self, positions: np.ndarray) -> list[tuple[int, int]]:
        """(part index, row number as the user sees it) of each position."""
        index, local = self.split(np.asarray(positions, dtype=np.int64))
        rows = np.zeros(len(index), dtype=np.int64)
        for i in np.unique(index):
            chosen = index == i
            rows[chosen] = self.parts[i].rows(local[chosen])
        return list(zip(index.tolist(), rows.tolist(), strict=True))

    def where(self, index: int, row: int, column: str | None) -> str:
        part = self.parts[index]
        text = f"{part.source}, {part.row_word} {row:,}"
        if column is None:
            return text
        name = self.found[index].get(column, column)
        letter = part.letters.get(name)
        cell = f" (cell {letter}{row})" if letter else ""
        return f'{text}, column "{name}"{cell}'

    def listing(self, positions: np.ndarray) -> str:
        """ "lines 17 and 2,045" or "a.parquet row 5 and b.parquet row 7"."""
        located = self.rows(positions)
        if len({index for index, _ in located}) == 1:
            part = self.parts[located[0][0]]
            words = [f"{row:,}" for _, row in located]
            return f"{part.row_word}s {_and(words, len(located))}"
        words = [f"{self.parts[i].source} {self.parts[i].row_word} {row:,}"
                 for i, row in located]
        return _and(words, len(located))


def _and(words: list[str], total: int) -> str:
    shown = words[:_MAX_ROWS_LISTED]
    if total > len(shown):
        return ", ".join(shown) + f" and {total - len(shown):,} more"
    return ", ".join(shown[:-1]) + f" and {shown[-1]}" if len(shown) > 1 else shown[0]


def _usable(status: dict[str, np.ndarray], names: Sequence[str], missing: set[str]
            ) -> np.ndarray | None:
    """Rows whose cells in ``names`` are all valid or blank; None if a column is missing."""
    if any(name in missing for name in names):
        return None
    ok = np.ones(len(status[names[0]]), dtype=bool)
    for name in names:
        ok &= status[name] <= cl.BLANK
    return ok


def _key_findings(frame: pd.DataFrame, status: dict[str, np.ndarray], table: Table,
                  missing: set[str], rank: int, locate: _Locator,
                  hidden: bool) -> list[_Finding]:
    key = list(table.key)
    if not key or len(frame) < 2:
        return []
    usable = _usable(status, key, missing)
    if usable is None:
        return []
    if len(key) == 1 and _all_distinct(frame[key[0]]):
        return []  # the usual case (claim ids), answered by one hash pass
    group = _key_groups(frame, key)
    if not usable.all():
        group = pd.factorize(np.where(usable, group, -1 - np.arange(len(group))))[0]
    counts = np.bincount(group)
    rows = np.flatnonzero(counts[group] > 1)
    if len(rows) == 0:
        return []
    order = np.argsort(group[rows], kind="stable")
    rows, group = rows[order], group[rows][order]
    bounds = np.flatnonzero(np.diff(group)) + 1
    members = np.split(rows, bounds)
    second = np.array([m[1] for m in members], dtype=np.int64)
    by_second = {int(m[1]): m for m in members}
    sort = np.argsort(second)
    columns = [table.column(name) for name in key]

    def describe(positions: np.ndarray) -> list[str]:
        texts = []
        for position in positions.tolist():
            occurrences = by_second[position]
            values = [_show_key(frame[c.name].iloc[position], c) for c in columns]
            if len(key) == 1:
                # A repeated "claim id" may be a patient's: a header can be wrong (phi).
                what = f"one {key[0]}" if hidden else f"{key[0]} {values[0]}"
                rule = f"each {key[0]} may appear once"
            else:
                what = (f"one combination of {', '.join(key)}" if hidden else
                        f"the key ({', '.join(key)}) = ({', '.join(values)})")
                rule = f"each combination of {', '.join(key)} may appear once"
            texts.append(f"{what} appears on {locate.listing(occurrences)}; {rule}: remove"
                         " the repeated rows or correct their values")
        return texts

    return [_Finding(second[sort], rank, ", ".join(key), describe)]


def _all_distinct(values: pd.Series) -> bool:
    """Whether a column has no repeated value (blanks count as a value, as in the key check)."""
    array = values.array
    if isinstance(array, pd.arrays.ArrowStringArray):
        texts = pa.chunked_array(array.__arrow_array__())
        if _texts.all_distinct(texts):  # a million claim ids: a tenth of Arrow's time
            return True
        distinct = pc.count_distinct(texts, mode="all").as_py()
    else:
        distinct = values.nunique(dropna=False)
    return distinct == len(values)


def _key_groups(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """One integer per row, equal exactly where the rows' keys are equal (blanks too)."""
    groups = np.zeros(len(frame), dtype=np.int64)
    for name in key:
        values = frame[name].array
        if isinstance(values, pd.arrays.ArrowStringArray):
            texts = pa.chunked_array(values.__arrow_array__()).combine_chunks()
            indices = texts.dictionary_encode().indices
            codes = np.asarray(indices.fill_null(-1).to_numpy(zero_copy_only=False),
                               dtype=np.int64)
        else:
            codes = pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)
        # Shift so blank (-1) is a value of its own, then keep the combined range compact.
        groups = groups * (int(codes.max(initial=-1)) + 2) + codes + 1
        if len(key) > 1:
            groups = pd.factorize(groups)[0]
    return groups.astype(np.int64)


def _show_key(value: Any, column: Column) -> str:
    if column.phi:
        return PHI_HIDDEN
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or (
            value is pd.NaT):
        return "(blank)"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:g}"
    return f'"{value}"'


def _range_findings(frame: pd.DataFrame, status: dict[str, np.ndarray], table: Table,
                    missing: set[str], rank: int, hidden: bool) -> list[_Finding]:
    findings = []
    for offset, (start, end) in enumerate(table.date_ranges):
        if start in missing or end in missing:
            continue
        begins = frame[start].to_numpy()
        ends = frame[end].to_numpy()
        backwards = np.flatnonzero(ends < begins)
        if len(backwards) == 0:
            continue

        def describe(positions: np.ndarray, start=start, end=end, begins=begins, ends=ends):
            return [f"{end}{_date_shown(ends[p], hidden)} is before {start}"
                    f"{_date_shown(begins[p], hidden)}; correct one of them ({end} is on or"
                    f" after {start}, or blank while open)"
                    for p in positions.tolist()]

        findings.append(_Finding(backwards, rank + offset / 100, end, describe))
    return findings


def _date_shown(value: np.datetime64, hidden: bool) -> str:
    return "" if hidden else " " + str(np.datetime_as_string(value, unit="D"))


def _one_of_findings(status: dict[str, np.ndarray], table: Table, missing: set[str],
                     rank: int) -> list[_Finding]:
    findings = []
    for offset, group in enumerate(table.one_of):
        if any(name in missing for name in group):
            continue
        empty = np.ones(len(status[group[0]]), dtype=bool)
        for name in group:
            empty &= status[name] == cl.BLANK
        positions = np.flatnonzero(empty)
        if len(positions) == 0:
            continue
        names = " or ".join(group)
        text = (f"{' and '.join(group)} are all blank" if len(group) > 2
                else f"{' and '.join(group)} are both blank")

        def describe(positions: np.ndarray, text=text, names=names) -> list[str]:
            return [f"{text}; fill in {names}"] * len(positions)

        findings.append(_Finding(positions, rank + offset / 100, ", ".join(group), describe))
    return findings


def _first_problems(findings: list[_Finding], room: int, locate: _Locator) -> list[Problem]:
    """The first ``room`` problems in file order (row, then column), worded."""
    if room <= 0 or not findings:
        return []
    positions = np.concatenate([f.positions[:room] for f in findings])
    ranks = np.concatenate([np.full(min(len(f.positions), room), f.rank, dtype=float)
                            for f in findings])
    which = np.concatenate([np.full(min(len(f.positions), room), i)
                            for i, f in enumerate(findings)])
    order = np.lexsort((ranks, positions))[:room]
    problems: dict[int, Problem] = {}
    for i in np.unique(which[order]):
        finding = findings[i]
        chosen = order[which[order] == i]
        texts = finding.describe(positions[chosen])
        for slot, position, text in zip(chosen, positions[chosen], texts, strict=True):
            index, row = locate.rows(np.array([position]))[0]
            column = finding.column if finding.column and "," not in finding.column else None
            where = locate.where(index, row, column)
            if column is None and finding.column:
                where += f", columns {finding.column}"
            problems[int(slot)] = Problem(locate.parts[index].source, row, finding.column,
                                          f"{where}: {text}")
    return [problems[int(slot)] for slot in order]


# --- DataFrames --------------------------------------------------------------------------------


def frame_part(frame: pd.DataFrame, source: str) -> Part:
    """A pandas DataFrame as one part: rows are numbered by position, from 1."""
    if not isinstance(frame, pd.DataFrame):
        raise InputTypeError(f"frame: expected a pandas DataFrame, got {type(frame).__name__}")
    header = [str(c) for c in frame.columns]
    columns = {name: frame.iloc[:, i] for i, name in enumerate(header)}
    return Part(source, header, columns, len(frame))


def validate_table(frame: pd.DataFrame, table: Table | str, *, source: str = "DataFrame",
                   max_problems: int = 50) -> pd.DataFrame:
    """Validate a DataFrame against a table's contract and return it normalized.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as read by any means (xlwings, a database query); any dtypes.
    table : rxxl.data.contracts.Table or str
        The contract, or its name (``"claims"``, ``"sites"``, ...).
    source : str
        How messages name the frame.
    max_problems : int
        How many problems to keep in the error; all are counted.

    Returns
    -------
    pandas.DataFrame
        Exactly the contract's columns in contract order (extra columns are dropped, absent
        optional columns are added as blank), with normalized dtypes: ``string`` for codes,
        text, NDCs (11 digits), NPIs and states; ``category`` with the listed values for
        choices; ``datetime64[us]`` at midnight for dates (months on their first day);
        ``float64`` for money and numbers; ``Int64`` for integers; ``boolean`` for flags.
        Blank cells are missing values.

    Raises
    ------
    DataValidationError
        If any cell or row breaks the contract; it lists the problems (row numbers count
        from 1) and nothing is returned.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"NDC": ["0002-7597-01", " 51655-089-52 "], "extra": [1, 2]})
    >>> validate_table(raw, "orphan_drugs")
               ndc
    0  00002759701
    1  51655008952
    >>> try:
    ...     validate_table(pd.DataFrame({"ndc": ["0002-7597-01", "abc"]}), "orphan_drugs")
    ... except DataValidationError as error:
    ...     print(error.total, error.problems[0].message.split(";")[0])
    1 DataFrame, row 2, column "ndc": "abc" is not an NDC
    """
    outcome = check_parts([frame_part(frame, source)], resolve_table(table), max_problems)
    if outcome.frame is None:
        raise DataValidationError(outcome.problems, outcome.total)
    return outcome.frame
