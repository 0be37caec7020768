"""Benchmark: the 340B audit of a month of claims, rxxl against a DuckDB SQL baseline.

What is compared
----------------
*rxxl*: as ``rxxl audit340b`` does, ``rxxl.data.load_claims_and_reference(claims month
file, sample folder)`` of the columns the checks read (``claim_id`` and
``audit340b.CHECKED_COLUMNS``, the columns the query reads too), codes as categories (every
cell validated against its contract; the two loads run side by side), then
``rxxl.audit340b.audit_claims`` with the default policy.

*DuckDB*: ``bench/audit340b.sql``, one query (CTEs) that reads the same files directly
(``read_parquet``, ``read_csv`` with explicit types, no validation) and computes for every
claim the same reason codes (joined by ";" in the order of ``audit340b.REASONS``), status and
dollars at stake, fetched as an Arrow table. DuckDB uses its default threads (every core).

Each run of each engine is a fresh process, so that its peak memory (VmHWM, the resident
high-water mark) is its own; runs alternate between the engines so that anything else on the
machine weighs on both alike. Times exclude interpreter start-up and imports (reported apart).
Both engines' results of the first run are then compared claim by claim on status, reasons,
resolved entity, ``checked`` and dollars at stake (within half a cent: rxxl rounds to cents);
any difference is printed and fails the run.

Targets (issue 18): rxxl end to end at most 10 s and 4 GB peak on the 2-core machine, and at
most 1.0 times DuckDB end to end (issue 17 asked 1.5). They are judged on the median run
(peaks: the highest).

    pip install -e ".[bench]"                       # DuckDB, for the baseline only
    rxxl sample --size large --out /tmp/large       # about 50 s, once
    python bench/bench_audit340b.py                 # /tmp/large, latest month, 3 repeats
    python bench/bench_audit340b.py --sample DIR --month 2026-10 --repeat 5 --date 2026-11-23

Figures go to bench/results/audit340b.json as well. The exit status is 1 when the results
differ or a target is missed.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

from _common import (  # bench/ is on sys.path
    claims_month_file,
    comparison_parser,
    describe_machine,
    run_child,
    stats,
)
from _memory import peak_rss_mb

BENCH = Path(__file__).resolve().parent
SQL = BENCH / "audit340b.sql"
RESULTS = BENCH / "results" / "audit340b.json"
ENGINES = ("rxxl", "duckdb")
TARGET_SECONDS = 10.0
TARGET_PEAK_MB = 4096.0
TARGET_RATIO = 1.0
#: The default policy's look-back window, passed to the query (checked against rxxl's).
LOOKBACK_DAYS = 365
#: Columns both engines return and the comparison looks at.
COMPARED = ("claim_id", "entity_id", "checked", "status", "reasons", "dollars_at_risk")


def _cpu_s() -> tuple[float, float]:
    """This process's CPU seconds so far: (user + system, system)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_stime


# --- one run of one engine, in a fresh process ------------------------------------------------


def run_rxxl(claims: Path, reference: Path, out: Path | None) -> dict:
    """Load (with validation) and audit; the figures, and the result written to ``out``."""
    start = time.perf_counter()
    from rxxl.audit340b import CHECKED_COLUMNS, audit_claims
    from rxxl.data import load_claims_and_reference

    imported, cpu = time.perf_counter(), _cpu_s()
    # As `rxxl audit340b` does: claims and reference load side by side on the two cores.
    frame, tables = load_claims_and_reference(claims, reference,
                                              columns=("claim_id", *CHECKED_COLUMNS),
                                              categorical=True)
    loaded = time.perf_counter()
    audit = audit_claims(frame, tables)
    done, cpu_done = time.perf_counter(), _cpu_s()
    figures = {
        "import_s": imported - start,
        "load_s": loaded - imported,
        "audit_s": done - loaded,
        "end_to_end_s": done - imported,
        "cpu_s": cpu_done[0] - cpu[0],
        "system_cpu_s": cpu_done[1] - cpu[1],
        "peak_mb": peak_rss_mb(),
        "claims": len(frame),
        "encounters": len(tables["encounters"]),
    }
    if out is not None:
        audit["status"] = audit["status"].astype(str)
        audit[list(COMPARED)].to_parquet(out, index=False)
    return figures


def run_duckdb(claims: Path, reference: Path, out: Path | None) -> dict:
    """The query from files to an Arrow table; the figures, and the result written to ``out``."""
    start = time.perf_counter()
    import duckdb

    query = SQL.read_text()
    imported, cpu = time.perf_counter(), _cpu_s()
    connection = duckdb.connect()
    result = connection.sql(query, params={
        "claims": str(claims), "reference": str(reference), "lookback_days": LOOKBACK_DAYS,
    }).to_arrow_table()
    done, cpu_done = time.perf_counter(), _cpu_s()
    figures = {
        "import_s": imported - start,
        "end_to_end_s": done - imported,
        "cpu_s": cpu_done[0] - cpu[0],
        "system_cpu_s": cpu_done[1] - cpu[1],
        "peak_mb": peak_rss_mb(),
        "claims": result.num_rows,
        "threads": connection.execute("SELECT current_setting('threads')").fetchall()[0][0],
    }
    if out is not None:
        import pyarrow.parquet as pq

        pq.write_table(result.select(list(COMPARED)), out)
    return figures


# --- checks -----------------------------------------------------------------------------------


def check_sql_order() -> None:
    """The query lists the reason codes in the order of audit340b.REASONS, and looks back
    as far as the default policy."""
    from rxxl.audit340b import REASONS, AuditPolicy

    if AuditPolicy().lookback_days != LOOKBACK_DAYS:
        sys.exit(f"the default look-back is now {AuditPolicy().lookback_days} days; set"
                 f" LOOKBACK_DAYS in {Path(__file__).name}")
    listed = re.findall(r"THEN '([A-Z0-9_]+)' END", SQL.read_text())
    if listed != list(REASONS):
        sys.exit(f"{SQL.name}: reason codes {listed} are not those of audit340b.REASONS"
                 f" in order {list(REASONS)}")


def compare(rxxl_file: Path, duckdb_file: Path, shown: int = 20) -> dict:
    """Claim by claim: same claims, status, reasons, entity, checked and dollars."""
    import numpy as np
    import pandas as pd

    ours = pd.read_parquet(rxxl_file)
    theirs = pd.read_parquet(duckdb_file)
    report: dict = {"claims_rxxl": len(ours), "claims_duckdb": len(theirs)}
    both = ours.merge(theirs, on="claim_id", how="outer", suffixes=("_rxxl", "_duckdb"),
                      indicator=True)
    report["only_rxxl"] = int((both["_merge"] == "left_only").sum())
    report["only_duckdb"] = int((both["_merge"] == "right_only").sum())
    both = both[both["_merge"] == "both"]
    differ = np.zeros(len(both), dtype=bool)
    for column in ("status", "reasons", "entity_id", "checked"):
        left = both[f"{column}_rxxl"].astype("string").fillna("<blank>")
        right = both[f"{column}_duckdb"].astype("string").fillna("<blank>")
        unequal = (left != right).to_numpy(dtype=bool)
        report[f"differ_{column}"] = int(unequal.sum())
        differ |= unequal
    # rxxl rounds dollars at stake to cents (np.round, half to even); the query keeps the
    # documented product quantity x (WAC - 340B cost): they agree within half a cent.
    dollars_r = both["dollars_at_risk_rxxl"].to_numpy(dtype=float)
    dollars_d = both["dollars_at_risk_duckdb"].to_numpy(dtype=float)
    unequal = ~np.isclose(dollars_r, dollars_d, rtol=0, atol=0.005 + 1e-9, equal_nan=True)
    report["differ_dollars_at_risk"] = int(unequal.sum())
    differ |= unequal
    report["agree"] = bool(not differ.any() and not report["only_rxxl"]
                           and not report["only_duckdb"])
    counts = ours["reasons"][ours["reasons"] != ""].str.split(";").explode().value_counts()
    report["reason_counts"] = {code: int(n) for code, n in counts.items()}
    report["status_counts"] = {k: int(v) for k, v in ours["status"].value_counts().items()}
    if report["only_rxxl"] or report["only_duckdb"]:
        print(f"\nDIFFERENCES: {report['only_rxxl']:,} claims only in rxxl's result,"
              f" {report['only_duckdb']:,} only in DuckDB's")
    if differ.any():
        columns = ["claim_id", *(f"{c}_{e}" for c in COMPARED[1:] for e in ENGINES)]
        with pd.option_context("display.width", 200, "display.max_columns", None,
                               "display.max_colwidth", 60):
            print(f"\nDIFFERENCES: {int(differ.sum()):,} claims (first {shown}):")
            print(both.loc[differ, columns].head(shown).to_string(index=False))
    return report


# --- the report -------------------------------------------------------------------------------


def _cell(stats: dict | None) -> str:
    return "-" if stats is None else f"{stats['best']:.2f} / {stats['median']:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = comparison_parser(__doc__.splitlines()[0], ENGINES, "engine")
    args = parser.parse_args(argv)

    if args.child:
        run = run_rxxl if args.child == "rxxl" else run_duckdb
        print(json.dumps(run(args.claims, args.sample, args.out)))
        return 0

    claims = claims_month_file(args.sample, args.month)
    if args.repeat < 1:
        sys.exit("--repeat: 1 or more")
    check_sql_order()
    machine = describe_machine(args.date, "duckdb")

    runs: dict[str, list[dict]] = {engine: [] for engine in ENGINES}
    with tempfile.TemporaryDirectory() as scratch:
        outputs = {engine: Path(scratch) / f"{engine}.parquet" for engine in ENGINES}
        for i in range(args.repeat):
            for engine in ENGINES:
                figures = run_child(__file__, engine, claims, args.sample,
                                    outputs[engine] if i == 0 else None)
                runs[engine].append(figures)
                print(f"run {i + 1}/{args.repeat} {engine:6}: end to end"
                      f" {figures['end_to_end_s']:.2f} s, peak {figures['peak_mb']:,.0f} MB",
                      flush=True)
        comparison = compare(outputs["rxxl"], outputs["duckdb"])

    summary = {}
    for engine in ENGINES:
        summary[engine] = {key: stats(runs[engine], key) for key in
                           ("import_s", "load_s",
                            "audit_s", "end_to_end_s", "cpu_s", "system_cpu_s")}
        summary[engine]["peak_mb"] = max(run["peak_mb"] for run in runs[engine])
    ours, theirs = summary["rxxl"]["end_to_end_s"], summary["duckdb"]["end_to_end_s"]
    ratio = {"best": ours["best"] / theirs["best"], "median": ours["median"] / theirs["median"]}
    targets = {
        "rxxl_end_to_end_s": [ours["median"], TARGET_SECONDS,
                              ours["median"] <= TARGET_SECONDS],
        "rxxl_peak_mb": [summary["rxxl"]["peak_mb"], TARGET_PEAK_MB,
                         summary["rxxl"]["peak_mb"] <= TARGET_PEAK_MB],
        "ratio_rxxl_to_duckdb": [ratio["median"], TARGET_RATIO, ratio["median"] <= TARGET_RATIO],
        "results_agree": [comparison["agree"], True, comparison["agree"]],
    }

    first = runs["rxxl"][0]
    print(f"\n340B audit of {claims} ({first['claims']:,} claims,"
          f" {first['encounters']:,} encounters), {args.repeat} run(s) per engine,"
          f" {machine['cores']} cores, DuckDB {machine['duckdb']}"
          f" ({runs['duckdb'][0]['threads']} threads)")
    print("seconds as best / median; imports excluded; CPU s: user + system over all threads")
    header = (f"{'engine':8} {'load s':>13} {'audit s':>13} {'end to end s':>13}"
              f" {'CPU s':>13} {'peak MB':>9}")
    print(header)
    print("-" * len(header))
    for engine in ENGINES:
        row = summary[engine]
        print(f"{engine:8} {_cell(row['load_s']):>13} {_cell(row['audit_s']):>13}"
              f" {_cell(row['end_to_end_s']):>13} {_cell(row['cpu_s']):>13}"
              f" {row['peak_mb']:>9,.0f}")
    print(f"ratio rxxl / DuckDB end to end: {ratio['best']:.2f} (best) /"
          f" {ratio['median']:.2f} (median)")
    print(f"results agree claim by claim: {'yes' if comparison['agree'] else 'NO'}"
          f" ({comparison['claims_rxxl']:,} claims; status {comparison['status_counts']})")
    print(f"reasons found: {comparison['reason_counts']}")
    labels = {"rxxl_end_to_end_s": ("rxxl end to end (median)", "s"),
              "rxxl_peak_mb": ("rxxl peak memory", "MB"),
              "ratio_rxxl_to_duckdb": ("rxxl / DuckDB end to end (median)", "x")}
    for key, (value, limit, ok) in targets.items():
        if key in labels:
            label, unit = labels[key]
            print(f"  {'PASS' if ok else 'FAIL'}  {label}: {value:,.2f} {unit} (target <="
                  f" {limit:,.1f} {unit})")
        else:
            print(f"  {'PASS' if ok else 'FAIL'}  results agree")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "audit340b",
        "machine": machine,
        "sample": str(args.sample),
        "claims_file": str(claims),
        "claims": first["claims"],
        "encounters": first["encounters"],
        "repeat": args.repeat,
        "engines": summary,
        "runs": runs,
        "ratio_rxxl_to_duckdb_end_to_end": ratio,
        "targets": {key: {"value": value, "limit": limit, "pass": ok}
                    for key, (value, limit, ok) in targets.items()},
        "comparison": comparison,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(BENCH.parent)}")
    return 0 if all(ok for _, _, ok in targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
