"""Benchmark: denial analytics over the whole large sample (24 months, about 23.5M claims).

What is timed
-------------
*load*: ``rxxl.data.load_table(sample/claims, "claims", columns=rxxl.cli.DENIAL_COLUMNS)``,
every cell of the ten columns a denial analysis reads validated against the claims contract.

*analysis*, on the loaded claims: ``denial_trend`` by payer, by reason code and by site (a
p-chart per group), ``pareto`` of reasons, and ``denial_rates`` by payer and month with the
HFMA denominator. Each is timed on its own.

Checks (the run fails when one does not hold): the only out-of-control payer-month is the
planted spike of the sample's ``manifest.json`` (kind "denial spike"), its reject code leads
that payer-month's Pareto, and the spike payer's monthly initial denial rates equal those the
generator recorded (to the 4 decimals it keeps).

    rxxl sample --size large --out /tmp/large       # about 50 s, once
    python bench/bench_denials.py                   # /tmp/large, 3 repeats of the analysis
    python bench/bench_denials.py --sample DIR --repeat 5 --date 2026-11-23

Figures go to bench/results/denials.json. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from _memory import peak_rss_mb  # bench/ is on sys.path when run as a script

from rxxl import denials
from rxxl.cli import DENIAL_COLUMNS
from rxxl.data import load_table

RESULTS = Path(__file__).resolve().parent / "results" / "denials.json"


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def _check(claims, manifest: dict, trend) -> list[str]:
    spike = next(p for p in manifest["planted"] if p["kind"] == "denial spike")
    payer, month = spike["identifiers"]["payer"], spike["identifiers"]["month"]
    failures = []
    flagged = trend.loc[trend["out_of_control"], ["payer", "month"]]
    pairs = list(flagged.itertuples(index=False, name=None))
    if pairs != [(payer, month)]:
        failures.append(f"out-of-control payer-months {pairs}; expected only {(payer, month)}")
    mine = trend[trend["payer"] == payer].set_index("month")["denial_rate"].round(4)
    recorded = spike["details"]["initial_denial_rate_by_month"]
    wrong = {m: (float(mine.get(m)), r) for m, r in recorded.items()
             if abs(float(mine.get(m)) - r) > 5e-5}
    if wrong:
        failures.append(f"{payer} monthly rates differ from the generator's: {wrong}")
    in_spike = (claims["payer"] == payer) & (
        claims["service_date"].dt.strftime("%Y-%m") == month)
    top = denials.pareto(claims[in_spike])["reason_code"].iloc[0]
    if top != spike["identifiers"]["reject_code"]:
        failures.append(f"top reason of the spike is {top}, expected "
                        f"{spike['identifiers']['reject_code']}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=Path("/tmp/large"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--date", default=dt.date.today().isoformat())
    args = parser.parse_args()
    manifest = json.loads((args.sample / "manifest.json").read_text())

    claims, load_seconds = _timed(load_table, args.sample / "claims", "claims",
                                  columns=DENIAL_COLUMNS)
    print(f"load: {len(claims):,} claims, {len(DENIAL_COLUMNS)} columns, {load_seconds:.1f} s",
          flush=True)
    steps = {
        "trend by payer": lambda: denials.denial_trend(claims, by="payer"),
        "trend by reason code": lambda: denials.denial_trend(claims, by="reason_code"),
        "trend by site": lambda: denials.denial_trend(claims, by="site_id"),
        "pareto of reasons": lambda: denials.pareto(claims),
        "rates by payer and month, HFMA": lambda: denials.denial_rates(
            claims, by=("payer", "month"), hfma=True),
    }
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    totals = []
    for _ in range(args.repeat):
        total = 0.0
        for name, step in steps.items():
            result, elapsed = _timed(step)
            seconds[name].append(elapsed)
            total += elapsed
            if name == "trend by payer":
                trend = result
        totals.append(total)
    failures = _check(claims, manifest, trend)
    medians = {name: round(statistics.median(values), 2) for name, values in seconds.items()}
    for name, value in medians.items():
        print(f"{name:<34}{value:>6.2f} s")
    analysis = round(statistics.median(totals), 2)
    peak = round(peak_rss_mb())
    print(f"{'analysis, all of the above':<34}{analysis:>6.2f} s (median of {args.repeat})")
    print(f"peak memory {peak:,} MB")
    for failure in failures:
        print("CHECK FAILED:", failure)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "date": args.date,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "claims": len(claims),
        "months": int(trend["month"].nunique()),
        "load_seconds": round(load_seconds, 2),
        "analysis_seconds_median": analysis,
        "step_seconds_median": medians,
        "peak_mb": peak,
        "checks_failed": failures,
    }, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
