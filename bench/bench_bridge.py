"""Benchmark: the drug-spend bridge of every month of the large sample, against the price /
volume / mix split per NDC that the report used before (the baseline), in the same run.

What is timed, per month (the finance tables loaded once, through their contracts)
-------------------------------------------------------------------------------------
*bridge*: ``figures.bridge_lines`` (the month's purchases per drug x location x account, with
workload and stock change), ``drug_bridge.drug_bridge``, ``largest_drivers`` and
``figures.reconcile_purchases`` (purchases against the GL drug lines).

*baseline*: the month's purchases summed per NDC and split by
``variance.purchase_drivers`` (price, volume, mix, returns), as the package did before.

Checks (the run fails when one does not hold): in every month the eight drivers add up to
actual - budget to the cent, and the purchases reconcile to the GL drug lines; in the latest
month the two largest drivers are the planted forward buy (inventory timing at its location,
manifest P20) and the planted price spike (price of its drug, P19), each within 2% of the
amount the manifest records.

    rxxl sample --size large --out /tmp/large       # about 2 minutes, once
    python bench/bench_bridge.py                    # /tmp/large, 3 repeats
    python bench/bench_bridge.py --sample DIR --repeat 5 --date 2026-12-06

Figures go to bench/results/bridge.json. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
from _common import describe_machine  # bench/ is on sys.path when run as a script

from rxxl import drug_bridge, variance
from rxxl.data import load_table
from rxxl.reports import figures
from rxxl.reports.inputs import FINANCE_TABLES, Inputs

RESULTS = Path(__file__).resolve().parent / "results" / "bridge.json"


def _inputs(sample: Path, tables: dict, month: pd.Period) -> Inputs:
    """The finance tables of ``sample`` as the report holds them (no claims: the bridge
    reads none)."""
    return Inputs(folder=sample, month=month, tables=tables, reference=None, claims=None,
                  audit=None, audit_by_month=pd.DataFrame(), denial_counts=pd.DataFrame(),
                  monthly_claims=pd.DataFrame(), notes=[], last_claim_date=None)


def bridge(inputs: Inputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    lines, change = figures.bridge_lines(inputs)
    table = drug_bridge.drug_bridge(
        lines["ndc"], lines["location"], lines["account"], lines["actual_quantity"],
        lines["actual_spend"], lines["budget_quantity"], lines["budget_spend"],
        lines["budget_workload"], lines["actual_workload"], change)
    figures.reconcile_purchases(inputs)
    return table, drug_bridge.largest_drivers(table, 8)


def baseline(inputs: Inputs) -> pd.DataFrame:
    purchases = inputs.tables["drug_purchases"]
    month = purchases[purchases["month"].dt.to_period("M") == inputs.month]
    month = month.assign(actual_spend=month["quantity"] * month["unit_cost_actual"],
                         budget_spend=month["budget_quantity"] * month["unit_cost_budget"])
    per = month.groupby("ndc", observed=True).agg(
        actual_quantity=("quantity", "sum"), budget_quantity=("budget_quantity", "sum"),
        actual_spend=("actual_spend", "sum"), budget_spend=("budget_spend", "sum"))
    return variance.purchase_drivers(per["actual_spend"], per["budget_spend"],
                                     per["actual_quantity"], per["budget_quantity"])


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def _check_latest(largest: pd.DataFrame, manifest: dict) -> list[str]:
    planted = {p["id"]: p for p in manifest["planted"]}
    buy, spike = planted["P20"], planted["P19"]
    expected = [("inventory_timing", None, buy["identifiers"]["location"],
                 buy["details"]["forward_buy"]),
                ("price", spike["identifiers"]["ndc"], None,
                 spike["details"]["cost_of_the_increase"])]
    failures = []
    top = largest.head(2)
    for driver, drug, location, amount in expected:
        row = top[(top["driver"] == driver) & (top["drug"].fillna("").eq(drug or ""))
                  & (top["location"].fillna("").eq(location or ""))]
        if row.empty:
            failures.append(f"{driver} of {drug or location} is not one of the two largest"
                            f" drivers: {top[['driver', 'drug', 'location']].values.tolist()}")
        elif abs(float(row["amount"].iloc[0]) / amount - 1) > 0.02:
            failures.append(f"{driver} of {drug or location}: {float(row['amount'].iloc[0]):,.2f}"
                            f" against the planted {amount:,.2f}, more than 2% apart")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("/tmp/large"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--date", default=dt.date.today().isoformat())
    args = parser.parse_args()
    manifest = json.loads((args.sample / "manifest.json").read_text())
    tables = {name: load_table(args.sample / f"{name}.csv", name) for name in FINANCE_TABLES
              if (args.sample / f"{name}.csv").exists()}
    months = [pd.Period(m) for m in manifest["months"]][1:]  # the first has no stock before
    failures: list[str] = []
    bridge_runs, baseline_runs, lines = [], [], 0
    for _ in range(args.repeat):
        bridge_total = baseline_total = 0.0
        for month in months:
            inputs = _inputs(args.sample, tables, month)
            (table, largest), seconds = _timed(bridge, inputs)
            bridge_total += seconds
            baseline_total += _timed(baseline, inputs)[1]
            gap = (table[list(drug_bridge.DRIVERS)].sum(axis=1) - table["total_variance"]).abs()
            if gap.max() > 0.005:
                failures.append(f"{month}: the drivers miss actual - budget by {gap.max():.4f}")
            if month == months[-1]:
                failures += _check_latest(largest, manifest)
                lines = len(table)
        bridge_runs.append(bridge_total)
        baseline_runs.append(baseline_total)
    failures = sorted(set(failures))
    result = {
        **describe_machine(args.date, "numpy"),
        "sample": manifest["size"],
        "months": len(months),
        "lines_latest_month": lines,
        "bridge_seconds_all_months_median": round(statistics.median(bridge_runs), 3),
        "baseline_seconds_all_months_median": round(statistics.median(baseline_runs), 3),
        "ratio": round(statistics.median(bridge_runs) / statistics.median(baseline_runs), 2),
        "checks_failed": failures,
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
