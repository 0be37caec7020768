"""What the benchmarks share besides peak memory: the machine record and the claims month."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from pathlib import Path


def describe_machine(date: str, engine: str) -> dict:
    """The machine and versions a result was measured with; ``engine`` is the module the
    benchmark compares rxxl with (``duckdb``, ``xlsxwriter``)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    record = {
        "date": date,
        "cores": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "memory_gb": round(memory, 1),
        "machine": platform.machine(),
        "system": platform.platform(),
        "python": platform.python_version(),
    }
    for name in ("rxxl", engine, "pandas", "pyarrow", "numpy"):
        record[name] = importlib.import_module(name).__version__
    return record


def claims_month_file(sample: Path, month: str | None) -> Path:
    """The sample's claims file of ``month`` (default: the latest); exits with the fix when
    there is none."""
    months = sorted((sample / "claims").glob("*.parquet"))
    if not months:
        sys.exit(f"no claims in {sample / 'claims'}; make the sample first:"
                 f" rxxl sample --size large --out {sample}")
    claims = sample / "claims" / f"{month}.parquet" if month else months[-1]
    if not claims.exists():
        sys.exit(f"no such claims file: {claims}")
    return claims
