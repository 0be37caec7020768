"""What the benchmarks share besides peak memory: the machine record, the claims month, the
command line, one measured run in a child process, the statistics of several runs, and the
replenishment findings planted in a sample and found by a run."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import statistics
import subprocess
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


def comparison_parser(description: str, children: tuple[str, ...], what: str
                      ) -> argparse.ArgumentParser:
    """The command line of a benchmark that runs rxxl and a baseline (``children``, each a
    ``what``) in child processes on one claims month of a sample."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sample", type=Path, default=Path("/tmp/large"),
                        help="sample folder (rxxl sample --size large --out DIR)")
    parser.add_argument("--month", help="claims month YYYY-MM (default: the latest file)")
    parser.add_argument("--repeat", type=int, default=3, help=f"runs per {what}")
    parser.add_argument("--date", default=dt.date.today().isoformat(),
                        help="date recorded with the results (default today)")
    parser.add_argument("--child", choices=children, help=argparse.SUPPRESS)
    parser.add_argument("--claims", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser


def run_child(script: str, child: str, claims: Path, sample: Path, out: Path | None) -> dict:
    """One run of ``child`` by ``script --child`` in a fresh process (so imports, caches and
    peak memory are its own); the figures it prints last, as JSON."""
    command = [sys.executable, script, "--child", child, "--claims", str(claims),
               "--sample", str(sample)]
    if out is not None:
        command += ["--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{child} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def stats(runs: list[dict], key: str) -> dict | None:
    """Best, median and every value of ``key`` over the runs that measured it (None: none)."""
    values = [run[key] for run in runs if key in run]
    if not values:
        return None
    return {"best": min(values), "median": statistics.median(values), "runs": values}


def planted_replenishment(manifest: dict, months: set[str] | None = None) -> set[tuple]:
    """The manifest's planted over- and under-replenishment, of ``months`` (all when None),
    as (month, ndc, location, finding, packages)."""
    return {(p["identifiers"]["month"], p["identifiers"]["ndc"], p["identifiers"]["location"],
             p["expected"], float(p["details"]["packages"])) for p in manifest["planted"]
            if p["expected"] in ("OVER_REPLENISHED", "UNDER_REPLENISHED")
            and (months is None or p["identifiers"]["month"] in months)}


def replenishment_found(checked) -> set[tuple]:
    """The findings of a ``replenishment()`` result (or its CSV), in the same shape."""
    rows = checked[checked["finding"].notna()]
    return set(zip(rows["month"], rows["ndc"], rows["location"], rows["finding"],
                   rows["packages_over"] + rows["packages_under"], strict=True))
