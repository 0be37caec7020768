"""Benchmark: Excel functions on big ranges, this tree side by side with a baseline commit.

What is timed (each call as classic xlwings makes it: ranges as lists of lists, one inner
list per row, dates as datetimes):

- ``RX_IRR`` on 100,000 periodic flows: a level annuity (-P, then 100,000 payments of 1 at
  0.5% a period: IRR 0.5% exactly) and a random conventional series (one outflow, then
  random inflows), and the annuity with a mid-life overhaul (two sign changes);
- ``RX_XIRR`` on 100,000 daily flows (the annuity again, one flow a day);
- ``RX_DENIAL_TREND`` on 20,000 months (1900-01 onwards, month cells as datetimes);
- ``RX_340B_CHECK`` on 100,000 claim rows of a sample's latest claims month (the reference
  tables loaded by a first, small call, as in a workbook that recalculates).

Each function runs in a fresh process per code version (so that its peak memory, VmHWM, is
its own), first with the baseline's ``src/rxxl`` (``git archive`` of ``--baseline`` into a
temporary folder), then with this tree's. Both versions' results must be equal (IRRs within
1e-12 relative; everything else exactly); a difference is printed and fails the run.

    rxxl sample --size large --out /tmp/large      # for RX_340B_CHECK; about 50 s, once
    python bench/bench_excel_ranges.py             # baseline: the commit before issue 13 item 11
    python bench/bench_excel_ranges.py --only irr trend --repeat 3 --date 2026-12-03

Figures go to bench/results/excel_ranges.json. Exit status 1 when results differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _memory import peak_rss_mb  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "excel_ranges.json"
#: The last commit before issue 13 item 11 (big ranges in Excel).
BASELINE = "5af9a7a"
FLOWS = 100_000
MONTHS = 20_000
CLAIM_ROWS = 100_000
RATE = 0.005
CASES = ("irr annuity", "irr random", "irr overhaul", "xirr daily", "trend", "340b")


def _annuity() -> list[list[float]]:
    price = (1 - (1 + RATE) ** -FLOWS) / RATE  # present value of the payments at RATE
    return [[-price], *([[1.0]] * FLOWS)]


def _inputs(case: str, sample: Path) -> tuple:
    import numpy as np

    rng = np.random.default_rng(7)
    if case == "irr annuity":
        return (_annuity(),)
    if case == "irr random":
        flows = rng.normal(1_000, 400, FLOWS).round(2)
        flows[0] = -float(flows[1:].sum()) * 0.6
        return ([[float(v)] for v in flows],)
    if case == "irr overhaul":
        flows = _annuity()
        flows[FLOWS // 2] = [-500.0]  # an overhaul half-way: two sign changes
        return (flows,)
    if case == "xirr daily":
        start = dt.datetime(1800, 1, 1)
        return _annuity(), [[start + dt.timedelta(days=i)] for i in range(FLOWS + 1)]
    if case == "trend":
        months = [[dt.datetime(1900 + i // 12, 1 + i % 12, 1)] for i in range(MONTHS)]
        submitted = rng.integers(900, 1_100, MONTHS)
        denied = rng.binomial(submitted, 0.08)
        denied[MONTHS // 2] = submitted[MONTHS // 2] // 2  # one spike
        return (months, [[float(v)] for v in submitted], [[float(v)] for v in denied])
    if case == "340b":
        import pandas as pd

        latest = sorted((sample / "claims").glob("*.parquet"))[-1]
        claims = pd.read_parquet(latest).head(CLAIM_ROWS)
        values = claims.astype(object).where(claims.notna(), None).to_numpy().tolist()
        return [list(claims.columns), *values], str(sample)
    raise ValueError(case)


def _digest(result) -> str | float:
    if isinstance(result, float):
        return result
    return hashlib.sha256(json.dumps(result, default=str).encode()).hexdigest()


def child(case: str, sample: Path, repeat: int) -> dict:
    """One case in this process, with whichever ``rxxl`` is on the path."""
    import rxxl
    from rxxl import udfs

    function = {"irr annuity": udfs.RX_IRR, "irr random": udfs.RX_IRR,
                "irr overhaul": udfs.RX_IRR, "xirr daily": udfs.RX_XIRR,
                "trend": udfs.RX_DENIAL_TREND, "340b": udfs.RX_340B_CHECK}[case]
    args = _inputs(case, sample)
    if case == "340b":  # load the reference tables once, as a workbook's first call does
        function(args[0][:3], args[1])
    seconds, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        seconds.append(time.perf_counter() - start)
    shown = result if not isinstance(result, list) else f"{len(result)} rows"
    return {"rxxl": str(Path(rxxl.__file__).parent), "seconds": seconds,
            "peak_mb": round(peak_rss_mb()), "result": _digest(result), "shown": str(shown)}


def _baseline_tree(revision: str, folder: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision,
                              "src/rxxl"], check=True, capture_output=True).stdout
    tar = folder / "baseline.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as opened:
        opened.extractall(folder, filter="data")
    return folder / "src"


def _run(case: str, source: Path, sample: Path, repeat: int) -> dict:
    command = [sys.executable, __file__, "--child", case, "--sample", str(sample),
               "--repeat", str(repeat)]
    environment = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    if done.returncode:
        sys.exit(f"{case} failed with {source}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _same(case: str, before, after) -> bool:
    if isinstance(before, float) and isinstance(after, float):
        return (math.isnan(before) and math.isnan(after)) or math.isclose(
            before, after, rel_tol=1e-12)
    return before == after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    parser.add_argument("--sample", type=Path, default=Path("/tmp/large"),
                        help="sample folder for RX_340B_CHECK (rxxl sample --out DIR)")
    parser.add_argument("--only", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--repeat", type=int, default=1, help="calls per process")
    parser.add_argument("--date", default=dt.date.today().isoformat())
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.sample, args.repeat)))
        return 0

    figures, failures = {}, []
    with tempfile.TemporaryDirectory(prefix="rxxl-baseline-") as folder:
        baseline = _baseline_tree(args.baseline, Path(folder))
        for case in args.only:
            before = _run(case, baseline, args.sample, args.repeat)
            after = _run(case, ROOT / "src", args.sample, args.repeat)
            same = _same(case, before["result"], after["result"])
            if not same:
                failures.append(f"{case}: baseline {before['shown']}, now {after['shown']}")
            figures[case] = {
                version: {"seconds_median": round(statistics.median(run["seconds"]), 3),
                          "seconds_best": round(min(run["seconds"]), 3),
                          "peak_mb": run["peak_mb"], "result": run["shown"]}
                for version, run in (("baseline", before), ("now", after))
            }
            figures[case]["same_result"] = same
            b, a = figures[case]["baseline"], figures[case]["now"]
            print(f"{case:<13} baseline {b['seconds_median']:>8.3f} s {b['peak_mb']:>6,} MB"
                  f" | now {a['seconds_median']:>8.3f} s {a['peak_mb']:>6,} MB"
                  f" | {'same' if same else 'DIFFERENT'}: {a['result']}", flush=True)
    for failure in failures:
        print("RESULTS DIFFER:", failure)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "date": args.date,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "baseline": args.baseline, "repeat": args.repeat, "cases": figures,
        "results_differ": failures,
    }, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
