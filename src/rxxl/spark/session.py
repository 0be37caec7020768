"""The Spark session rxxl runs on: the cluster's own (Databricks, ``spark-submit``), or one
started for the run."""

from __future__ import annotations

import os
import shutil
from typing import Any

from rxxl.errors import RxxlError

#: Where a run started by rxxl computes when ``--spark-master`` is not given and no session
#: is active: every core of this machine (Spark's local mode).
DEFAULT_MASTER = "local[*]"

INSTALL_HINT = "install it with: pip install 'rxxl[spark]'"


def require_pyspark() -> Any:
    """The ``pyspark.sql`` module, or an :class:`RxxlError` that says what to install."""
    try:
        import pyspark.sql
    except ImportError:
        raise RxxlError(f"--engine spark needs PySpark, which is not installed; {INSTALL_HINT}"
                        " (and Java 17 or later)") from None
    return pyspark.sql


def java_found() -> bool:
    """Whether a Java runtime for a local Spark is on this machine (``JAVA_HOME`` or
    ``java`` on the PATH), as PySpark's launcher looks for one."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None


def spark_session(master: str | None = None) -> Any:
    """The session to run on.

    Parameters
    ----------
    master : str, optional
        A Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``). Without one, the
        active session is used (Databricks notebooks and jobs, ``spark-submit``, pyspark
        shells have one); when there is none, a local session on every core is started
        (:data:`DEFAULT_MASTER`).

    Raises
    ------
    RxxlError
        PySpark is not installed, no Java runtime is found, or Spark does not start.
    """
    sql = require_pyspark()
    active = sql.SparkSession.getActiveSession()
    if active is not None and master is None:
        return _classic(active)
    if not java_found() and active is None:
        raise RxxlError("--engine spark: Java was not found (no JAVA_HOME, no java on the"
                        " PATH); Spark needs Java 17 or later, e.g. apt-get install"
                        " openjdk-17-jre-headless, or set JAVA_HOME")
    builder = sql.SparkSession.builder.appName("rxxl")
    builder = builder.master(master or DEFAULT_MASTER)
    if active is None:
        # A run's own session: no web UI port to hold, no progress bars over rxxl's lines.
        builder = builder.config("spark.ui.enabled", "false").config(
            "spark.ui.showConsoleProgress", "false")
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - py4j and pyspark raise many kinds
        raise RxxlError(f"--engine spark: Spark did not start at {master or DEFAULT_MASTER}"
                        f" ({type(exc).__name__}); check the master URL and the Java"
                        " installation") from None
    if active is None:
        # Spark logs a failed task's error text, which can quote a cell of the claims; rxxl
        # reports its own message instead (rxxl.data.phi). A cluster's session keeps the
        # cluster's logging.
        session.sparkContext.setLogLevel("OFF")
    return _classic(session)


def _classic(session: Any) -> Any:
    """``session`` when it is a classic one (a JVM on this driver); Spark Connect clients
    have none, and the audit renames its output through the driver's Hadoop FileSystem."""
    if getattr(session, "_jsc", None) is None:
        raise RxxlError("--engine spark: this is a Spark Connect session (Databricks"
                        " serverless or a shared access mode cluster), which rxxl does not"
                        " support yet; run on a cluster in dedicated (single user) access"
                        " mode, or with spark-submit")
    return session
