"""Benchmark the Excel functions on what Excel hands over (run by hand, not by pytest).

    python bench/bench_udfs.py [--repeat 5]

RX_PVM over 100,000 drug lines and RX_XIRR over 10,000 dated cash flows, each called the
way classic xlwings calls it: ranges as lists of lists (one inner list per row), blanks as
None, dates as datetimes. Reports the best and median wall time of several runs; the
README's target is well under a second for each on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import time

import numpy as np

from rxxl import __version__, udfs

PVM_LINES = 100_000
XIRR_FLOWS = 10_000


def pvm_inputs(rng: np.random.Generator) -> tuple[list, list, list, list]:
    budget_qty = rng.integers(0, 5_000, PVM_LINES).astype(float)
    actual_qty = np.maximum(budget_qty * rng.normal(1.03, 0.15, PVM_LINES), 0).round()
    budget_price = rng.lognormal(3.0, 1.6, PVM_LINES).round(2)
    actual_price = (budget_price * rng.normal(1.02, 0.05, PVM_LINES)).round(2)
    new = rng.random(PVM_LINES) < 0.01  # new drugs: no budget at all
    gone = rng.random(PVM_LINES) < 0.01  # discontinued: no actual at all

    def column(values: np.ndarray, blank: np.ndarray) -> list[list]:
        return [[None if b else float(v)] for v, b in zip(values, blank, strict=True)]

    no_budget = new
    no_actual = gone & ~new
    budget_qty[no_budget] = 0
    actual_qty[no_actual] = 0
    return (
        column(actual_price, no_actual),
        column(budget_price, no_budget),
        column(actual_qty, no_actual),
        column(budget_qty, no_budget),
    )


def xirr_inputs(rng: np.random.Generator) -> tuple[list, list]:
    flows = rng.normal(1_000, 400, XIRR_FLOWS).round(2)
    flows[0] = -float(flows[1:].sum()) * 0.6
    start = dt.datetime(2020, 1, 1)
    days = np.cumsum(rng.integers(0, 3, XIRR_FLOWS))
    dates = [start + dt.timedelta(days=int(d)) for d in days]
    return [[float(v)] for v in flows], [[d] for d in dates]


def timed(call, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    pvm = pvm_inputs(rng)
    values, dates = xirr_inputs(rng)

    print(f"rxxl {__version__}, Python {platform.python_version()}, {platform.machine()}")
    best, median, table = timed(lambda: udfs.RX_PVM(*pvm), args.repeat)
    assert isinstance(table, list) and len(table) == PVM_LINES, table
    print(f"RX_PVM   {PVM_LINES:>7,} lines: best {best:.3f} s, median {median:.3f} s")
    best, median, rate = timed(lambda: udfs.RX_XIRR(values, dates), args.repeat)
    assert isinstance(rate, float), rate
    print(f"RX_XIRR  {XIRR_FLOWS:>7,} flows: best {best:.3f} s, median {median:.3f} s"
          f" (XIRR {rate:.6%})")


if __name__ == "__main__":
    main()
