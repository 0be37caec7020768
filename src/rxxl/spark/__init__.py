"""rxxl on Apache Spark: the 340B audit and the denial trend of more claims than one machine
holds, computed by rxxl's own rules on a Spark cluster (PySpark, Databricks).

Nothing here re-implements a rule. Spark reads the claims, moves them (claims and encounters
of a patient to the same task) and adds up counts; on the executors each piece goes through
rxxl's contract (:func:`rxxl.data.validate.check_parts`) and rxxl's metric functions
(:func:`rxxl.audit340b.audit_claims`, :func:`rxxl.denials.denial_counts`). See docs/spark.md.

``pyspark`` is an optional dependency (``pip install 'rxxl[spark]'``): importing this package
does not import it; the first run does, and says what to install when it is missing.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

__all__ = ["is_uri", "location", "run_audit340b", "run_denials"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


def is_uri(text: str) -> bool:
    """Whether ``text`` names its file system (``s3://``, ``dbfs:/``, ``file:``); a Windows
    drive letter (``C:``) is a local path."""
    return bool(_SCHEME.match(str(text)))


def location(text: str) -> str | Path:
    """A ``--claims`` or ``--out`` argument: a URI kept as text (``Path`` would turn
    ``s3://b/x`` into ``s3:/b/x``), anything else a local path."""
    return text if is_uri(text) else Path(text)

_EXPORTS = {"run_audit340b": "audit", "run_denials": "denials"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"rxxl.spark.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'rxxl.spark' has no attribute {name!r}")
