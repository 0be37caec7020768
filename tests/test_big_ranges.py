"""Big ranges in Excel (issue 13 item 11): correct answers on 100,000 flows and 20,000 months.

These check results (closed forms worked out by hand in the comments) and, where it is cheap,
that memory stays proportional to the input. Timings are in bench/bench_excel_ranges.py.
"""

from __future__ import annotations

import datetime as dt
import tracemalloc

import pytest

from rxxl import roi, udfs

N = 100_000


def _peak_mb(call) -> tuple[object, float]:
    """What ``call`` returns and the most memory it held at once (numpy reports its arrays
    to tracemalloc)."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# --- RX_IRR / RX_XIRR on 100,000 flows ------------------------------------------------------------


def test_irr_of_a_level_annuity_of_100000_payments_is_its_rate():
    # -P, then 100,000 payments of 1. At r = 0.5% the payments are worth
    # (1 - 1.005^-100000) / 0.005 = 200 - 200 * e^-498.8, i.e. 200 to 200 digits: a price of
    # 200 is an IRR of 0.5%. Newton from the 10% guess steps below -100% here (NPV(10%) is
    # about -190 with a slope of about -91), so this is the bracketed search on 100,000 flows.
    flows = [-200.0] + [1.0] * N
    rate, peak = _peak_mb(lambda: roi.irr(flows))
    assert rate == pytest.approx(0.005, rel=1e-12)
    # The flows as floats take 0.8 MB; a rates x flows matrix took 1.9 GB.
    assert peak < 64, f"{peak:.0f} MB for {N:,} flows"


def test_rx_irr_on_a_100000_cell_column():
    column = [[-200.0]] + [[1.0]] * N
    assert udfs.RX_IRR(column) == pytest.approx(0.005, rel=1e-12)


def test_irr_after_a_long_run_of_zero_periods():
    # 99,998 empty periods, then -1 and 0.99 a period later:
    # -1/(1+r)^99998 + 0.99/(1+r)^99999 = 0  <=>  1 + r = 0.99, so r = -1%.
    # (1 - 1%)^-99999 is about e^1005: the plain NPV overflows at and below the root.
    flows = [0.0] * (N - 2) + [-1.0, 0.99]
    assert roi.irr(flows) == pytest.approx(-0.01, rel=1e-12)


@pytest.mark.parametrize("guess, root", [(0.3, 0.20), (0.05, 0.10)])
def test_two_irrs_after_100000_zero_periods(guess, root):
    # -100 + 230/(1+r) - 132/(1+r)^2 = 0 at r = 10% and 20% (tests/test_roi.py works it by
    # hand); starting 100,000 periods later multiplies the NPV by (1+r)^-100000 > 0, which
    # keeps both roots but underflows to 0 at every rate above 0.71%, where a plain NPV
    # would make every rate look like a root. Newton's steps shrink to about (1+r)/100,000,
    # so the bracketed search decides: the root nearest the guess.
    flows = [0.0] * N + [-100.0, 230.0, -132.0]
    assert roi.irr(flows, guess) == pytest.approx(root, abs=1e-12)


def test_irr_of_100000_periods_of_losses_then_one_return():
    # -1 for 100,000 periods, then +1. With q = 1/(1+r): NPV = -(q^N - 1)/(q - 1) + q^N,
    # so NPV * (q - 1) = q^N (q - 2) + 1 = 0 and q = 2 - q^-N, which is 2 to 30,000 digits:
    # r = -50%. The plain NPV there is about 2^100000 - 2^100000: it overflows.
    flows = [-1.0] * N + [1.0]
    assert udfs.RX_IRR([[v] for v in flows]) == pytest.approx(-0.5, rel=1e-12)


def test_irr_without_a_root_after_100000_zero_periods_is_num():
    # 1 - 3x + 3x^2 with x = 1/(1+r) has no real root (discriminant 9 - 12 < 0): no IRR,
    # #NUM!, however long the run of empty periods before it.
    flows = [0.0] * N + [1.0, -3.0, 3.0]
    assert roi.irr(flows[N:]) != roi.irr(flows[N:])  # NaN
    assert udfs.RX_IRR([[v] for v in flows]) == "#NUM!"


def test_xirr_of_a_daily_annuity_over_100000_days():
    # -P on day 0, then 1 a day for 100,000 days, priced at i = 0.01% a day:
    # P = (1 - 1.0001^-100000) / 0.0001. XIRR counts actual/365, so its annual rate is
    # 1.0001^365 - 1 = 3.7172%.
    daily = 0.0001
    price = (1 - (1 + daily) ** -N) / daily
    start = dt.date(1800, 1, 1)
    dates = [start + dt.timedelta(days=i) for i in range(N + 1)]
    rate, peak = _peak_mb(lambda: roi.xirr([-price] + [1.0] * N, dates, guess=5.0))
    assert rate == pytest.approx((1 + daily) ** 365 - 1, rel=1e-10)
    assert peak < 128, f"{peak:.0f} MB for {N:,} flows"
