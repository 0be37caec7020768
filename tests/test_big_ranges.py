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


# --- RX_DENIAL_TREND on 20,000 months -----------------------------------------------------------

MONTHS = 20_000


def _months(count: int) -> list[list[dt.datetime]]:
    """Month cells as Excel hands them over (datetimes), January 1900 onwards."""
    return [[dt.datetime(1900 + i // 12, 1 + i % 12, 1)] for i in range(count)]


def test_denial_trend_on_20000_months_with_one_spike():
    # 1,000 claims a month, 100 denied (10%), but 500 in month 12,345. The spike is above
    # its UCL and set aside, so the center line is 19,999 * 100 / (19,999 * 1,000) = 10%;
    # sigma = sqrt(0.1 * 0.9 / 1000) = 0.0094868, UCL = 0.1 + 3 sigma = 0.1284605 and
    # LCL = 0.0715395 in every month; only the spike is out of control.
    denied = [[100.0]] * MONTHS
    denied[12_344] = [500.0]
    result = udfs.RX_DENIAL_TREND(_months(MONTHS), [[1_000.0]] * MONTHS, denied)
    assert isinstance(result, list) and len(result) == MONTHS, result
    assert [i for i, line in enumerate(result) if line[4]] == [12_344]
    assert result[12_344][0] == 0.5
    for line in (result[0], result[12_344], result[-1]):
        assert line[1:4] == pytest.approx([0.1, 0.1284605, 0.0715395], abs=1e-7)
    assert all(line[0] == 0.1 for i, line in enumerate(result) if i != 12_344)


def test_denial_trend_names_a_month_repeated_far_down_20000_months():
    months = _months(MONTHS)
    months[-1] = ["1900-07"]  # text for July 1900, which the 7th cell already holds
    result = udfs.RX_DENIAL_TREND(months, [[10.0]] * MONTHS, [[1.0]] * MONTHS)
    assert result == "#VALUE! months: 1900-07 appears more than once; give one row per month"


def test_denial_trend_reads_every_kind_of_month_cell_in_a_long_column():
    # 20,000 distinct months from January 1900, a quarter each as a datetime (the 28th,
    # 1:30 PM), a date (the 1st), an Excel serial (noon on the 15th: days since 1899-12-30,
    # plus 0.5; a day off in Jan-Feb 1900, Excel's leap-year bug, is still the same month)
    # and text ("1900-1", with spaces around). One row each, so one result row each.
    cells = []
    for i in range(MONTHS):
        year, month = 1900 + i // 12, 1 + i % 12
        serial = (dt.date(year, month, 15) - dt.date(1899, 12, 30)).days + 0.5
        cells.append([[dt.datetime(year, month, 28, 13, 30), dt.date(year, month, 1), serial,
                       f" {year}-{month} "][i % 4]])
    result = udfs.RX_DENIAL_TREND(cells, [[10.0]] * MONTHS, [[1.0]] * MONTHS)
    assert isinstance(result, list) and len(result) == MONTHS, result
    cells[-1] = [(dt.date(1900, 2, 15) - dt.date(1899, 12, 30)).days + 0.5]  # February 1900
    assert udfs.RX_DENIAL_TREND(cells, [[10.0]] * MONTHS, [[1.0]] * MONTHS) == (
        "#VALUE! months: 1900-02 appears more than once; give one row per month")


# --- RX_340B_CHECK on a long claims range -------------------------------------------------------


def test_340b_check_on_every_claim_of_the_small_sample_matches_the_engine(tmp_path):
    # All 24 months of the small sample in one range (about 61,000 rows), as xlwings hands
    # it over: the result lines up with the claims, row for row, and equals the audit of the
    # same claims loaded as a table. Cells of only spaces are blank (the cell rule), so the
    # modifiers blanked out as "  " in every third row read as no modifier at all.
    import pandas as pd

    from rxxl.audit340b import audit_claims
    from rxxl.data import load_reference, load_table
    from rxxl.data.synthetic import generate

    folder = tmp_path / "health-system"
    generate(folder, size="small")
    claims = pd.concat([pd.read_parquet(p) for p in sorted((folder / "claims").glob("*"))],
                       ignore_index=True)
    spaced = claims.astype(object).where(claims.notna(), None)
    spaced.loc[spaced.index % 3 == 0, "modifiers"] = "  "
    grid = [list(claims.columns), *spaced.to_numpy().tolist(), [None] * len(claims.columns)]
    result = udfs.RX_340B_CHECK(grid, str(folder))
    assert isinstance(result, list), result
    assert len(result) == len(claims) + 2 and result[-1] == [None] * 4  # header, padding
    blanked = claims.copy()
    blanked.loc[blanked.index % 3 == 0, "modifiers"] = None
    engine = audit_claims(load_table(blanked, "claims"), load_reference(folder))
    lines = result[1:-1]
    assert [line[0] for line in lines] == engine["claim_id"].tolist()
    assert [line[1] for line in lines] == engine["status"].tolist()
    assert [line[2] for line in lines] == engine["reasons"].tolist()
    assert any(line[1] == "violation" for line in lines)
