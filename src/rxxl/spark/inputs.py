"""Reading a table with Spark and checking it against rxxl's contract on the executors.

Spark reads Parquet (a file or a folder of parts, on any file system Spark reads: local,
``s3://``, ``abfss://``, ``dbfs:/``). Each Arrow batch is checked by rxxl's own contract
(:func:`rxxl.data.validate.check_parts`, the code ``rxxl validate`` runs), one part per
file, numbered by the row's position in its file (Spark's ``_metadata.row_index``), so a
problem names the file and row exactly as the local loader does. Problems come back as
rows of data, never as an executor's exception: a Spark error text may quote a cell, and
rxxl prints patient data nowhere (:mod:`rxxl.data.phi`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import pyarrow as pa

from rxxl.data.contracts import Table
from rxxl.data.phi import fault_text
from rxxl.data.validate import DataValidationError, Outcome, Part, Problem, check_parts
from rxxl.errors import RxxlError
from rxxl.spark import is_uri

#: The columns Spark adds to every row read: which file, and where in it (0-based).
FILE_COLUMN, ROW_COLUMN = "_rxxl_file", "_rxxl_row"
#: Problems kept, as on the local command line.
MAX_PROBLEMS = 50
#: The problem rows the validation job returns.
PROBLEM_SCHEMA = ("source string, row long, `column` string, message string, seq long,"
                  " problems long, rows long")

def spark_location(location: str) -> str:
    """How Spark is given a location: a URI as it is; Databricks' driver paths as the
    cluster's (``/dbfs/x`` is ``dbfs:/x``, a ``/Volumes/...`` path is resolved by the
    workspace); any other local path as an absolute ``file:`` URI (Spark would resolve a
    bare path on the cluster's default file system, not this machine's).

    >>> spark_location("s3://bucket/claims/"), spark_location("/dbfs/rx/claims")
    ('s3://bucket/claims/', 'dbfs:/rx/claims')
    """
    location = str(location)
    if is_uri(location):
        return location
    if location.startswith("/dbfs/"):
        return "dbfs:/" + location[len("/dbfs/"):]
    if location.startswith("/Volumes/"):
        return location
    return Path(location).resolve().as_uri()


def shown_file(file_path: str) -> str:
    """A file as messages name it: a local file by its path, any other by its URI."""
    parsed = urlparse(file_path)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    return file_path


def without_key(table: Table) -> Table:
    """The contract without its uniqueness key: a batch sees some of the rows only, so the
    key is checked across all rows by Spark (:func:`duplicate_key_problems`)."""
    return dataclasses.replace(table, key=())


def unreadable(source: str, text: str) -> DataValidationError:
    """The loader's error for a source that cannot be read at all."""
    return DataValidationError([Problem(source, None, None, f"{source}: {text}")], 1)


def read_parquet(spark: Any, source: str, table: Table) -> Any:
    """The table's columns of the Parquet file or folder ``source``, with each row's file and
    row index, as a Spark DataFrame (nothing is read yet but the schema).

    Raises
    ------
    DataValidationError
        ``source`` does not exist, is not Parquet, or lacks a required column (worded as
        the local loader words it).
    """
    from pyspark.sql import functions as F

    if not is_uri(source):
        path = Path(source)
        if not path.exists():
            raise unreadable(source, "no such file or directory")
        if path.is_dir() and not any(p.suffix.lower() == ".parquet" for p in path.iterdir()):
            raise unreadable(source, "the directory holds no .parquet parts; the Spark engine"
                             " reads Parquet (write the parts as Parquet, or use --engine"
                             " local)")
    try:
        # Parts are the .parquet files, as for the local loader (a README or a writer's
        # _SUCCESS beside them is no part; names starting with _ or . Spark skips itself).
        frame = spark.read.option("pathGlobFilter", "*.parquet").parquet(
            spark_location(source))
    except Exception as exc:  # noqa: BLE001 - Spark's analysis errors have many classes
        raise unreadable(source, _read_fault(exc)) from None
    present = {name.strip().lower(): name for name in frame.columns}
    wanted = [column.name for column in table.columns if column.name in present]
    # The header checked as the loader checks it (missing and misspelt columns), once.
    header = Part(source, list(frame.columns), {}, 0)
    header_table = dataclasses.replace(table, columns=tuple(
        c for c in table.columns if c.name not in present))
    outcome = check_parts([header], header_table, MAX_PROBLEMS)
    if outcome.total:
        raise DataValidationError(outcome.problems, outcome.total)
    return frame.select(
        *(F.col(f"`{present[name]}`").alias(name) for name in wanted),
        F.col("_metadata.file_path").alias(FILE_COLUMN),
        F.col("_metadata.row_index").alias(ROW_COLUMN),
    )


def _read_fault(exc: BaseException) -> str:
    condition = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    name = condition() if callable(condition) else None
    if name == "PATH_NOT_FOUND":
        return "no such file or directory"
    return f"Spark cannot read it as Parquet: {fault_text(exc)}"


def batch_parts(batch: pa.RecordBatch | pa.Table, names: list[str]) -> list[Part]:
    """The rows of a batch as parts, one per file, numbered as in their file (from 1)."""
    files = batch.column(FILE_COLUMN).to_numpy(zero_copy_only=False)
    if len(files) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, files[1:] != files[:-1]])
    parts = []
    # Runs of one file stay in their order: a batch is a slice of one file, or a few.
    for start, stop in zip(starts, np.r_[starts[1:], len(files)], strict=True):
        rows = batch.slice(int(start), int(stop - start))
        index = rows.column(ROW_COLUMN).to_numpy(zero_copy_only=False).astype(np.int64)
        parts.append(Part(shown_file(str(files[start])), list(names),
                          {name: rows.column(name) for name in names}, len(index),
                          row_numbers=lambda positions, index=index: index[positions] + 1))
    return parts


def check_batches(table: Table) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The ``mapInArrow`` function that checks each batch against ``table`` (without its key)
    and returns its problems (at most :data:`MAX_PROBLEMS`) and one row counting them."""
    contract = without_key(table)

    def check(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            names = [n for n in batch.schema.names if n not in (FILE_COLUMN, ROW_COLUMN)]
            parts = batch_parts(batch, names)
            outcome = check_parts(parts, contract, MAX_PROBLEMS) if parts else Outcome(
                None, [], 0)
            yield problem_batch(outcome.problems, outcome.total, batch.num_rows)

    return check


def problem_batch(problems: list[Problem], total: int, rows: int) -> pa.RecordBatch:
    """Problems as rows (in the order found), and a last row with the counts."""
    n = len(problems)
    return pa.RecordBatch.from_pydict({
        "source": [p.source for p in problems] + [None],
        "row": [p.row for p in problems] + [None],
        "column": [p.column for p in problems] + [None],
        "message": [p.message for p in problems] + [None],
        "seq": list(range(n)) + [None],
        "problems": [None] * n + [int(total)],
        "rows": [None] * n + [int(rows)],
    }, schema=pa.schema([("source", pa.string()), ("row", pa.int64()),
                         ("column", pa.string()), ("message", pa.string()),
                         ("seq", pa.int64()), ("problems", pa.int64()), ("rows", pa.int64())]))


def validate(frame: Any, table: Table) -> int:
    """Check every cell of ``frame`` (from :func:`read_parquet`) on the executors; the row
    count when all are valid.

    Raises
    ------
    DataValidationError
        With the first problems in file order (file, row) and the count of all, as the local
        loader reports them.
    """
    found = run_job(lambda: frame.mapInArrow(check_batches(table), PROBLEM_SCHEMA).collect())
    return raise_problems(found)


def raise_problems(found: list[Any], extra: tuple[list[Problem], int] = ([], 0)) -> int:
    """Raise the problems of validation rows (with ``extra`` ones found otherwise); else the
    rows counted."""
    total = sum(r["problems"] for r in found if r["message"] is None) + extra[1]
    if total:
        listed = [r for r in found if r["message"] is not None]
        # File order: by file, then row (a file-level problem first), then as found.
        listed.sort(key=lambda r: (r["source"], -1 if r["row"] is None else r["row"],
                                   r["seq"]))
        problems = [Problem(r["source"], r["row"], r["column"], r["message"]) for r in listed]
        problems = sorted(problems + extra[0],
                          key=lambda p: (p.source, -1 if p.row is None else p.row))
        raise DataValidationError(problems[:MAX_PROBLEMS], total)
    return sum(r["rows"] for r in found if r["message"] is None)


def duplicate_key_problems(frame: Any, table: Table) -> tuple[list[Problem], int]:
    """The rows that repeat a key of ``table`` across all of ``frame`` (a key such as the
    claim id is not per patient: Spark groups the whole table by it), worded by rxxl's own
    check on just the repeated rows: (problems of the first :data:`MAX_PROBLEMS` repeated
    keys, number of repeated keys)."""
    from pyspark.sql import functions as F

    if not table.key:
        return [], 0
    key = [F.nullif(F.trim(F.col(name).cast("string")), F.lit("")).alias(name)
           for name in table.key]
    keyed = frame.select(*key, FILE_COLUMN, ROW_COLUMN)
    repeated = keyed.groupBy(*table.key).agg(
        F.count(F.lit(1)).alias("n"),
        F.min(F.struct(FILE_COLUMN, ROW_COLUMN)).alias("first")).filter("n > 1")
    count = run_job(lambda: repeated.count())
    if count == 0:
        return [], 0
    shown = repeated.orderBy("first").limit(MAX_PROBLEMS).select(*table.key)
    rows = run_job(lambda: keyed.join(F.broadcast(shown), list(table.key), "left_semi")
                   .orderBy(FILE_COLUMN, ROW_COLUMN).toArrow())
    only_key = dataclasses.replace(table, columns=tuple(table.column(n) for n in table.key),
                                   date_ranges=(), one_of=())
    outcome = check_parts(batch_parts(rows, list(table.key)), only_key, MAX_PROBLEMS)
    return outcome.problems, int(count)


def run_job(job: Callable[[], Any]) -> Any:
    """Run a Spark action; a failure becomes rxxl's error: a file Spark could not read is
    named with the reason's kind (:func:`read_fault`), anything else only by the kind of
    fault (Spark's text can quote cells of the claims)."""
    try:
        return job()
    except RxxlError:
        raise
    except Exception as exc:  # noqa: BLE001 - Py4J, Spark and Python worker errors
        unread = read_fault(exc)
        if unread is not None:
            raise unread from None
        raise RxxlError(f"the Spark job failed: {fault_text(exc)}") from None


def read_fault(exc: BaseException) -> DataValidationError | None:
    """The file a Spark job could not read and why, from Spark's error condition and its
    parameters (a path, a column, types: never a cell), as the loader's error."""
    condition, parameters = _condition(exc)
    if condition is None or not condition.startswith("FAILED_READ_FILE"):
        return None
    path = parameters.get("path")
    source = shown_file(path) if path else "a claims part"
    if condition.endswith("PARQUET_COLUMN_DATA_TYPE_MISMATCH"):
        column = parameters.get("column", "a column").strip("[]`")
        return unreadable(source, f'column "{column}" is stored as'
                          f" {parameters.get('actualType', 'another type')} here and as"
                          f" {parameters.get('expectedType', 'another type')} in other parts;"
                          " write every part with the same column types")
    return unreadable(source, f"Spark cannot read the file ({condition}); check that it is"
                      " whole Parquet with the same columns as the other parts")


def _condition(exc: BaseException) -> tuple[str | None, dict[str, str]]:
    """Spark's error condition and message parameters, looked up the JVM cause chain."""
    getter = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    if callable(getter) and getter():
        parameters = getattr(exc, "getMessageParameters", lambda: {})() or {}
        found = getter()
        if found.startswith("FAILED_READ_FILE") or not hasattr(exc, "java_exception"):
            return found, dict(parameters)
    throwable = getattr(exc, "java_exception", None)
    for _ in range(10):
        if throwable is None:
            break
        try:
            condition = throwable.getCondition()
        except Exception:  # noqa: BLE001 - not a SparkThrowable (py4j raises on the call)
            condition = None
        if condition:
            parameters = throwable.getMessageParameters()
            return str(condition), {str(k): str(parameters.get(k)) for k in parameters.keySet()}
        throwable = throwable.getCause()
    return None, {}
