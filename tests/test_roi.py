"""Return on investment: known values with their sources, identities, NaN and shape policy."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from rxxl import roi
from rxxl.errors import InputError, InputTypeError

MS_XNPV_FLOWS = [-10_000, 2_750, 4_250, 3_250, 2_750]
MS_XNPV_DATES = ["2008-01-01", "2008-03-01", "2008-10-30", "2009-02-15", "2009-04-01"]
MS_IRR_FLOWS = [-70_000, 12_000, 15_000, 18_000, 21_000, 26_000]
MS_MIRR_FLOWS = [-120_000, 39_000, 30_000, 21_000, 37_000, 46_000]

# (function, args, expected, absolute tolerance, source). Microsoft's Excel documentation
# prints results rounded; the tolerance is half a unit of the printed last digit.
KNOWN_VALUES = [
    (roi.npv, (0.10, [-10_000, 3_000, 4_200, 6_800]), 1188.44, 0.005, "MS NPV example 1"),
    (lambda r, v: roi.npv(r, v[1:]) + v[0],
     (0.08, [-40_000, 8_000, 9_200, 10_000, 12_000, 14_500]), 1922.06, 0.005, "MS NPV example 2"),
    (lambda r, v: roi.npv(r, v[1:] + [-9_000]) + v[0],
     (0.08, [-40_000, 8_000, 9_200, 10_000, 12_000, 14_500]), -3749.47, 0.005,
     "MS NPV example 2, with a 9,000 loss in year six"),
    (roi.irr, (MS_IRR_FLOWS[:5],), -0.021, 0.0005, "MS IRR example, after four years: -2.1%"),
    (roi.irr, (MS_IRR_FLOWS,), 0.087, 0.0005, "MS IRR example, after five years: 8.7%"),
    (roi.irr, (MS_IRR_FLOWS[:3], -0.10), -0.444, 0.0005, "MS IRR example, two years: -44.4%"),
    (roi.xnpv, (0.09, MS_XNPV_FLOWS, MS_XNPV_DATES), 2086.65, 0.005, "MS XNPV example"),
    # Microsoft prints 0.373362535; Excel stops its iteration at 1e-8, so compare to 1e-8.
    (roi.xirr, (MS_XNPV_FLOWS, MS_XNPV_DATES), 0.373362535, 1e-8, "MS XIRR example"),
    (roi.mirr, (MS_MIRR_FLOWS, 0.10, 0.12), 0.1261, 0.00005, "MS MIRR example, five years"),
    (roi.mirr, (MS_MIRR_FLOWS[:4], 0.10, 0.12), -0.0480, 0.00005, "MS MIRR example, three years"),
    (roi.mirr, (MS_MIRR_FLOWS, 0.10, 0.14), 0.1348, 0.00005, "MS MIRR example, 14% reinvest"),
    # Hand-computed: 100,000 robot, 30,000/yr: cumulative -10,000 after 3 years, 1/3 of year 4.
    (roi.payback, ([-100_000, 30_000, 30_000, 30_000, 30_000],), 3 + 1 / 3, 1e-12, "by hand"),
    (roi.payback, ([-100_000, 50_000, 50_000],), 2.0, 1e-12, "by hand: exactly at year end"),
    # Discounted at 10%: 45,454.55 + 41,322.31 = 86,776.86 after 2 years; 13,223.14 of the
    # year-3 discounted 37,565.74 remains: 2.352 years.
    (roi.discounted_payback, (0.10, [-100_000, 50_000, 50_000, 50_000]),
     2 + (100_000 - 50_000 / 1.1 - 50_000 / 1.21) / (50_000 / 1.331), 1e-12, "by hand"),
    (roi.simple_roi, ([-100_000, 30_000, 30_000, 30_000, 30_000],), 0.2, 1e-12, "by hand"),
]


@pytest.mark.parametrize(
    "function, args, expected, tolerance, source", KNOWN_VALUES, ids=[k[-1] for k in KNOWN_VALUES]
)
def test_known_values(function, args, expected, tolerance, source):
    assert function(*args) == pytest.approx(expected, abs=tolerance)


def test_npv_is_excel_convention_not_numpy_financial():
    import numpy_financial as npf

    flows = [-1_000, 300, 400, 500]
    assert roi.npv(0.07, flows) == pytest.approx(npf.npv(0.07, flows) / 1.07, rel=1e-15)
    assert roi.npv(0.07, flows) != pytest.approx(npf.npv(0.07, flows))


# --- undefined results ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: roi.irr([100, 200, 300]),  # no investment
        lambda: roi.irr([-100, -200]),  # no return
        lambda: roi.xirr([100, 200], ["2026-01-01", "2027-01-01"]),
        lambda: roi.mirr([-100, -10], 0.1, 0.1),
        lambda: roi.npv(-1, [100, 100]),
        lambda: roi.xnpv(-1, [100, 100], ["2026-01-01", "2027-01-01"]),
        lambda: roi.simple_roi([10, 20]),
        lambda: roi.npv(0.1, [100, np.nan, 100]),
        lambda: roi.irr([-100, None, 120]),
        lambda: roi.payback([-100, np.nan, 120]),
    ],
)
def test_undefined_results_are_nan(call):
    assert math.isnan(call())


def test_payback_never_is_infinite():
    assert roi.payback([-100, 10, 10]) == math.inf
    assert roi.discounted_payback(0.5, [-100, 60, 60]) == math.inf
    assert roi.payback([10, 10]) == 0.0


def test_payback_is_the_last_crossing_when_a_later_outflow_dips_below_zero():
    # Cumulative: -100, +50, -150, +150. Recovered for good during year 3: 2 + 150/300.
    assert roi.payback([-100, 150, -200, 300]) == pytest.approx(2.5)


def test_irr_picks_the_root_nearest_the_guess_when_there_are_two():
    # -100 + 230/(1+r) - 132/(1+r)^2 = 0 has roots r = 10% and r = 20%.
    flows = [-100, 230, -132]
    assert roi.irr(flows, 0.05) == pytest.approx(0.10, abs=1e-12)
    assert roi.irr(flows, 0.25) == pytest.approx(0.20, abs=1e-12)


def test_irr_finds_a_root_where_newton_from_the_guess_diverges():
    # A long, back-loaded series whose IRR is far from the 10% guess.
    flows = [-1.0] + [0.0] * 29 + [1e9]
    expected = 1e9 ** (1 / 30) - 1
    assert roi.irr(flows) == pytest.approx(expected, rel=1e-10)


# --- shapes and bad input -----------------------------------------------------------------------

FLOWS = [-1_000.0, 300.0, 400.0, 500.0]
SHAPES = {
    "list": FLOWS,
    "ndarray": np.array(FLOWS),
    "series": pd.Series(FLOWS, index=list("abcd")),
    "column": [[v] for v in FLOWS],
    "row": [FLOWS],
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_input_shape_gives_the_same_answer(shape):
    values = SHAPES[shape]
    assert roi.npv(0.1, values) == pytest.approx(roi.npv(0.1, FLOWS), rel=1e-15)
    assert roi.irr(values) == pytest.approx(roi.irr(FLOWS), rel=1e-15)
    assert roi.mirr(values, 0.1, 0.1) == pytest.approx(roi.mirr(FLOWS, 0.1, 0.1), rel=1e-15)
    assert roi.payback(values) == pytest.approx(roi.payback(FLOWS), rel=1e-15)


def test_dates_accept_date_datetime_numpy_pandas_and_iso_text():
    as_dates = [dt.date.fromisoformat(d) for d in MS_XNPV_DATES]
    variants = [
        as_dates,
        [dt.datetime.combine(d, dt.time(15, 30)) for d in as_dates],
        np.array(MS_XNPV_DATES, dtype="datetime64[D]"),
        pd.to_datetime(pd.Series(MS_XNPV_DATES)),
        MS_XNPV_DATES,
    ]
    expected = roi.xirr(MS_XNPV_FLOWS, MS_XNPV_DATES)
    for dates in variants:
        assert roi.xirr(MS_XNPV_FLOWS, dates) == expected


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: roi.npv(0.1, []), InputError, "no values"),
        (lambda: roi.npv(0.1, [None, None]), InputError, "blank"),
        (lambda: roi.npv(0.1, [100, "n/a"]), InputTypeError, "position 2"),
        (lambda: roi.npv("8%", [100]), InputError, "rate"),
        (lambda: roi.npv(0.1, [[1, 2], [3, 4]]), InputError, "single row or column"),
        (lambda: roi.xnpv(0.1, [1, 2, 3], ["2026-01-01", "2026-02-01"]), InputError, "same number"),
        (lambda: roi.xirr([-1, 2], ["2026-02-01", "2026-01-01"]), InputError, "before the first"),
        (lambda: roi.xirr([-1, 2], ["2026-02-01", "someday"]), InputTypeError, "position 2"),
        (lambda: roi.xirr([-1, 2], [45000, 45300]), InputTypeError, "from_excel_serial"),
        (lambda: roi.irr([-1, 2], guess=[0.1, 0.2]), InputError, "guess"),
    ],
)
def test_bad_input_names_the_problem(call, error, words):
    with pytest.raises(error, match=words):
        call()


# --- identities -----------------------------------------------------------------------------------

amounts = st.floats(min_value=1.0, max_value=1e7, allow_nan=False)


@st.composite
def conventional_flows(draw, max_periods=40):
    investment = draw(amounts)
    returns = draw(st.lists(amounts, min_size=1, max_size=max_periods))
    return [-investment, *returns]


@settings(max_examples=200, deadline=None)
@given(conventional_flows())
@example(flows=[-7698.0, 1.0])  # IRR -99.987%: found by hypothesis
def test_npv_at_the_irr_is_zero(flows):
    rate = roi.irr(flows)
    assume(math.isfinite(rate) and rate < 1e3)
    scale = sum(abs(v) for v in flows)
    # In time-0 terms. Excel's NPV divides this by (1 + IRR), which near an IRR of -100%
    # magnifies the last bit of rounding thousands of times without the root being worse.
    present_value = roi.npv(rate, flows) * (1 + rate)
    assert abs(present_value) <= 1e-9 * scale


@settings(max_examples=150, deadline=None)
@given(conventional_flows(max_periods=25), st.lists(st.integers(1, 400), min_size=25, max_size=25),
       st.dates(dt.date(2000, 1, 1), dt.date(2040, 1, 1)))
def test_xnpv_at_the_xirr_is_zero(flows, gaps, start):
    dates = [start + dt.timedelta(days=int(d)) for d in np.cumsum([0, *gaps[: len(flows) - 1]])]
    rate = roi.xirr(flows, dates)
    assume(math.isfinite(rate) and rate < 1e3)
    assert abs(roi.xnpv(rate, flows, dates)) <= 1e-9 * sum(abs(v) for v in flows)


@settings(max_examples=200, deadline=None)
@given(conventional_flows(), st.floats(min_value=-0.5, max_value=1.0))
def test_xnpv_on_yearly_dates_matches_npv_of_the_later_flows(flows, rate):
    # On dates exactly 365 days apart, XNPV = first flow + Excel NPV of the rest.
    dates = [dt.date(2001, 1, 1) + dt.timedelta(days=365 * i) for i in range(len(flows))]
    expected = flows[0] + (roi.npv(rate, flows[1:]))
    assert roi.xnpv(rate, flows, dates) == pytest.approx(expected, rel=1e-9, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(conventional_flows(), st.floats(min_value=0.0, max_value=0.5))
def test_discounted_payback_is_never_sooner_than_payback(flows, rate):
    assert roi.discounted_payback(rate, flows) >= roi.payback(flows) - 1e-9


@settings(max_examples=200, deadline=None)
@given(conventional_flows())
def test_payback_point_recovers_the_investment(flows):
    years = roi.payback(flows)
    assume(math.isfinite(years))
    whole = int(math.floor(years))
    cumulative = np.cumsum(flows)
    if whole + 1 < len(flows):
        # Straight-line within the year: the recovered share of that year's flow.
        recovered = cumulative[whole] + (years - whole) * flows[whole + 1]
        assert recovered == pytest.approx(0.0, abs=1e-6 * sum(abs(v) for v in flows))
    else:
        assert cumulative[-1] >= 0


def test_two_irrs_newton_from_the_guess_decides_which_root():
    # -100 + 230/(1+r) - 132/(1+r)^2 = 0; with x = 1/(1+r): 132x^2 - 230x + 100 = 0,
    # x = (230 ± 10)/264, so x = 10/11 (r = 10%) or 5/6 (r = 20%). Check both by hand:
    # r = 10%: -100 + 209.0909 - 109.0909 = 0; r = 20%: -100 + 191.6667 - 91.6667 = 0.
    # The NPV peaks at 1 + r = 264/230 (r = 14.78%): Newton from a guess left of the peak
    # runs down to 10%, from the right to 20%, as Excel's IRR iteration does. So the root
    # is not always the one nearest the guess: 14.9% is nearer 10% (0.049 vs 0.051), but
    # Newton's first step from there (slope about -0.2 at an NPV of about +0.2) jumps
    # above 20% and comes back down to 20%.
    # From a guess of 200% (nearer 20%) the first step overshoots left of the peak: 10%.
    flows = [-100, 230, -132]
    for guess, root in [(-0.5, 0.10), (0.0, 0.10), (0.1, 0.10), (0.14, 0.10), (0.149, 0.20),
                        (0.16, 0.20), (0.3, 0.20), (2.0, 0.10), (3.0, 0.20)]:
        assert roi.irr(flows, guess) == pytest.approx(root, abs=1e-12), guess
