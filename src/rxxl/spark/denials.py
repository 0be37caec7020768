"""``rxxl denials --engine spark``: the monthly denial trend of claims Spark reads.

Counts are summable (:func:`rxxl.denials.denial_counts`): each Arrow batch of claims is
checked by rxxl's contract and counted by rxxl's own function on the executors
(``mapInArrow``), Spark sums the counts per group and month, and the small table comes back
to this machine, where :func:`rxxl.denials.trend_from_counts` draws the p-charts and
:func:`rxxl.outputs.write_table` writes it as the local command does. Validation and
counting are one pass over the claims: a batch with a problem returns its problems instead
of counts, and if any batch has one, nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from rxxl import denials
from rxxl.data.contracts import CLAIMS
from rxxl.data.validate import check_parts
from rxxl.errors import InputError, RxxlError
from rxxl.outputs import refuse_inputs, write_table
from rxxl.spark import inputs
from rxxl.spark.inputs import FILE_COLUMN, ROW_COLUMN, is_uri, run_job
from rxxl.spark.session import spark_session

_COUNTS = ("submitted", "denied", "submitted_dollars", "denied_dollars")
#: One schema for both answers of a batch: problem rows (the validation columns) or count
#: rows (``group, month`` and the counts).
_ROWS = pa.schema([
    ("source", pa.string()), ("row", pa.int64()), ("column", pa.string()),
    ("message", pa.string()), ("seq", pa.int64()), ("problems", pa.int64()),
    ("rows", pa.int64()), ("group", pa.string()), ("month", pa.string()),
    ("submitted", pa.int64()), ("denied", pa.int64()), ("submitted_dollars", pa.float64()),
    ("denied_dollars", pa.float64()),
])
_DDL = ("source string, row long, `column` string, message string, seq long, problems long,"
        " rows long, `group` string, month string, submitted long, denied long,"
        " submitted_dollars double, denied_dollars double")


def run_denials(claims: str, out: Path, by: str, columns: Sequence[str], *,
                master: str | None = None) -> tuple[int, pd.DataFrame]:
    """Count denials on Spark and write the trend table to ``out`` (CSV or xlsx, here).

    Parameters
    ----------
    claims : str
        Claims Parquet: a file or a folder of parts, a local path or any URI Spark reads.
    out : path
        The trend table, ``.csv`` or ``.xlsx`` on this machine (it is small).
    by : str
        The claims column to trend by (``payer``, ``reason_code``, ``site_id``).
    columns : sequence of str
        The claims columns read (the others are never loaded).
    master : str, optional
        Spark master (default: the active session, else ``local[*]``).

    Returns
    -------
    tuple
        ``(claims counted, trend table)``.
    """
    claims = str(claims)
    if is_uri(str(out)):
        raise InputError(f"{out}: the denial trend is a small table written on this machine;"
                         " give a local .csv or .xlsx")
    if Path(out).suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"{out}: write .csv or .xlsx")
    refuse_inputs([out], [] if is_uri(claims) else [claims])
    spark = spark_session(master)
    table = CLAIMS.subset(columns)
    frame = inputs.read_parquet(spark, claims, table)
    rows = run_job(lambda: _summed(frame.mapInArrow(count_batches(table, by), _DDL)))
    count = inputs.raise_problems([r for r in rows if r["group"] is None
                                   and r["month"] is None])
    if count == 0:
        raise RxxlError(f"{claims}: no claims (the table has its header but no rows);"
                        " nothing to trend, and nothing was written")
    counted = pd.DataFrame([{by: r["group"], "month": r["month"],
                             **{name: r[name] for name in _COUNTS}}
                            for r in rows if r["month"] is not None])
    trend = denials.trend_from_counts(counted, by=by)
    write_table(trend, out, sheet="Denial trend")
    return count, trend


def _summed(results: Any) -> list[Any]:
    """One small collect: problem rows as they are, the per-batch tallies added up, the
    counts summed per group and month on Spark."""
    from pyspark.sql import functions as F

    keys = ["source", "row", "column", "message", "seq", "group", "month"]
    return results.groupBy(*keys).agg(
        *(F.sum(name).alias(name) for name in ("problems", "rows", *_COUNTS))).collect()


def count_batches(table: Any, by: str
                  ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The ``mapInArrow`` function: each batch checked by the contract, then counted by
    :func:`rxxl.denials.denial_counts` (or its problems returned)."""
    contract = inputs.without_key(table)

    def count(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            names = [n for n in batch.schema.names if n not in (FILE_COLUMN, ROW_COLUMN)]
            parts = inputs.batch_parts(batch, names)
            if not parts:
                continue
            outcome = check_parts(parts, contract, inputs.MAX_PROBLEMS)
            tally = inputs.problem_batch(outcome.problems, outcome.total, batch.num_rows)
            yield pa.RecordBatch.from_arrays(
                [*tally.columns, *(pa.nulls(tally.num_rows, f.type) for f in list(_ROWS)[7:])],
                schema=_ROWS)
            if outcome.frame is None:
                continue
            counts = denials.denial_counts(outcome.frame, by=by)
            groups = counts[by].astype(object)
            columns = {
                "group": [None if pd.isna(g) else str(g) for g in groups],
                "month": counts["month"].astype(str).tolist(),
                **{name: counts[name].tolist() for name in _COUNTS},
            }
            n = len(counts)
            yield pa.RecordBatch.from_arrays(
                [pa.nulls(n, f.type) for f in list(_ROWS)[:7]]
                + [pa.array(columns[f.name], f.type) for f in list(_ROWS)[7:]], schema=_ROWS)

    return count
