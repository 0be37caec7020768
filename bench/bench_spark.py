"""Benchmark: ``--engine spark`` against the local engine on one claims month of the large
sample (about a million claims), both as the command line runs them.

What is timed
-------------
Each command end to end in a fresh process (``python -m rxxl.cli ...``), as a user runs it:

- ``audit340b`` local (``--out audit.csv``) and ``audit340b --engine spark`` (``--out
  audit.parquet``), on the month's claims file and the sample's reference tables;
- ``denials --by payer`` local and ``--engine spark`` (``--out trend.csv``).

Spark runs in local mode (``--spark-master local[N]``, N the cores available), so the
figure is Spark's overhead on one machine (JVM start, Arrow transfer, shuffle), not a
cluster's speed-up: on one machine the local engine is the one to use.

Checks (the run fails when one does not hold): the Spark audit equals the local one claim
by claim (status, reasons, dollars at stake, entity, checked, the qualifying encounter);
the two trend tables are identical; both engines print the same lines.

    python bench/bench_spark.py                         # /tmp/large, latest month, 1 run
    python bench/bench_spark.py --sample DIR --month 2026-09 --repeat 3

Figures go to bench/results/spark.json (seconds, and seconds per million claims).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from _common import claims_month_file, comparison_parser, describe_machine, stats

RESULTS = Path(__file__).resolve().parent / "results" / "spark.json"
COMPARED = ("claim_id", "service_date", "entity_id", "site_id", "payer_type", "account",
            "checked", "status", "reasons", "dollars_at_risk", "encounter_date",
            "encounter_site_id")


def _run(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rxxl.cli", *argv], capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"rxxl {' '.join(argv)} failed (exit {done.returncode}):\n{done.stderr}")
    return seconds, done.stdout


def _same_audit(local_csv: Path, spark_parquet: Path) -> list[str]:
    local = pd.read_csv(local_csv, dtype=str, keep_default_na=False)
    spark = pq.read_table(spark_parquet).to_pandas()
    failures = []
    if len(local) != len(spark):
        return [f"{len(spark):,} claims audited on Spark, {len(local):,} locally"]
    local = local.sort_values("claim_id", ignore_index=True)
    spark = spark.sort_values("claim_id", ignore_index=True)
    for name in COMPARED:
        if name == "dollars_at_risk":
            mine = pd.to_numeric(spark[name]).round(2)
            theirs = pd.to_numeric(local[name].replace("", None)).round(2)
            equal = (mine == theirs) | (mine.isna() & theirs.isna())
        elif name == "checked":
            equal = spark[name].astype(str) == local[name].astype(str)
        else:
            mine = spark[name].astype(object).where(spark[name].notna(), "").astype(str)
            equal = mine == local[name].astype(str)
        if not equal.all():
            failures.append(f"{name}: {int((~equal).sum()):,} claims differ")
    return failures


def main() -> int:
    parser = comparison_parser(__doc__.splitlines()[0], (), "command")
    parser.set_defaults(repeat=1)
    args = parser.parse_args()
    claims = claims_month_file(args.sample, args.month)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    spark = ["--engine", "spark", "--spark-master", f"local[{cores}]"]
    rows = pq.ParquetFile(claims).metadata.num_rows
    failures: list[str] = []
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="rxxl-bench-spark-") as scratch:
        for repeat in range(args.repeat):
            folder = Path(scratch) / str(repeat)
            folder.mkdir()
            audit = ["audit340b", "--claims", str(claims), "--reference", str(args.sample)]
            trend = ["denials", "--claims", str(claims), "--by", "payer"]
            run = {}
            run["audit340b local"], local_lines = _run(
                [*audit, "--out", str(folder / "audit.csv")])
            run["audit340b spark"], spark_lines = _run(
                [*audit, "--out", str(folder / "audit.parquet"), *spark])
            print(f"audit340b: local {run['audit340b local']:.1f} s, spark"
                  f" {run['audit340b spark']:.1f} s", flush=True)
            run["denials local"], local_trend = _run(
                [*trend, "--out", str(folder / "local.csv")])
            run["denials spark"], spark_trend = _run(
                [*trend, "--out", str(folder / "spark.csv"), *spark])
            print(f"denials: local {run['denials local']:.1f} s, spark"
                  f" {run['denials spark']:.1f} s", flush=True)
            runs.append(run)
            if repeat == 0:
                failures += _same_audit(folder / "audit.csv", folder / "audit.parquet")
                if local_lines.replace("audit.csv", "OUT") != spark_lines.replace(
                        "audit.parquet", "OUT"):
                    failures.append("audit340b: the engines print different lines")
                if (folder / "local.csv").read_bytes() != (folder / "spark.csv").read_bytes():
                    failures.append("denials: the trend tables differ")
                if local_trend.replace("local.csv", "OUT") != spark_trend.replace(
                        "spark.csv", "OUT"):
                    failures.append("denials: the engines print different lines")
    steps = {name: stats(runs, name) for name in runs[0]}
    record = {
        "machine": describe_machine(args.date, "pyspark"),
        "claims_file": claims.name,
        "claims": rows,
        "spark_master": f"local[{cores}]",
        "repeat": args.repeat,
        "seconds": steps,
        "seconds_per_million_claims": {
            name: round(value["median"] / rows * 1e6, 2) for name, value in steps.items()},
        "checks_failed": failures,
    }
    for failure in failures:
        print("CHECK FAILED:", failure)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written to {RESULTS}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
