"""Writing a Spark result whole or not at all: into a hidden sibling, renamed into place.

Spark writes a Parquet directory file by file from many tasks; a run that fails halfway
would leave part of a result where the reader expects all of it. So the result is written
to ``_tmp-<uuid>-<name>`` beside ``--out`` (a name Spark and rxxl skip when reading a folder
of parts), checked, and renamed through the Hadoop FileSystem of ``--out``; on any failure
the temporary directory is deleted. On HDFS, local disks and DBFS the rename is one
operation; on object stores (S3, ABFS without hierarchical namespace) it is a copy and a
delete, so a reader may see the result appear file by file, but never a failed run's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from rxxl.errors import InputError, RxxlError
from rxxl.spark.inputs import is_uri, run_job, spark_location


def _filesystem(spark: Any, location: str) -> tuple[Any, Any]:
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(location)
    return path.getFileSystem(spark._jsc.hadoopConfiguration()), path


def refuse_existing(spark: Any, out: str) -> None:
    """Refuse an ``--out`` that exists: a Parquet directory cannot be replaced in one step,
    and a result is never merged into an earlier one."""
    fs, path = _filesystem(spark, spark_location(out))
    if fs.exists(path):
        raise InputError(f"{out}: already exists; give a new --out (a Parquet directory is"
                         " not replaced: move or delete the old one first)")


def write_parquet_atomically(spark: Any, frame: Any, out: str,
                             check: Callable[[str], Any] | None = None) -> Any:
    """Write ``frame`` as the Parquet directory ``out``, whole or not at all.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        The result to write.
    out : str
        A local path or a URI Spark writes (``s3://bucket/audit.parquet``); must not exist.
    check : callable, optional
        Called with the temporary location once written (e.g. to sum the result); its
        return value is returned, and if it raises nothing is left behind.

    Returns
    -------
    Whatever ``check`` returned (None without one).
    """
    location = spark_location(out)
    refuse_existing(spark, out)
    fs, target = _filesystem(spark, location)
    parent = target.getParent()
    if parent is None:
        raise InputError(f"{out}: give a directory to write, not the root of a file system")
    temporary = spark._jvm.org.apache.hadoop.fs.Path(
        parent, f"_tmp-{uuid.uuid4().hex}-{target.getName()}")
    context = spark.sparkContext
    tag = f"rxxl-{uuid.uuid4().hex}"
    # The run's jobs tagged: a stopped run cancels them (and only them, a Databricks
    # cluster's context is shared) before it deletes what they wrote.
    context.addJobTag(tag)
    try:
        run_job(lambda: frame.write.parquet(temporary.toString()))
        result = check(temporary.toString()) if check is not None else None
        if fs.exists(target):
            raise InputError(f"{out}: appeared while the run wrote; nothing was written, give"
                             " a new --out")
        if not fs.rename(temporary, target):
            raise RxxlError(f"{out}: the result could not be moved into place; nothing was"
                            " written (check that the folder may be written)")
    except BaseException:
        # Stopped runs too (Ctrl-C, SIGTERM): no half result stays behind.
        try:
            context.cancelJobsWithTag(tag)
            fs.delete(temporary, True)
        except Exception:  # noqa: BLE001 - the original error is the one to report
            pass
        raise
    finally:
        context.removeJobTag(tag)
    return result


__all__ = ["is_uri", "refuse_existing", "write_parquet_atomically"]
