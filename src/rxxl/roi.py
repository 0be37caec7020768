"""Return on investment for capital requests, with Excel's conventions.

Finance teams check a capital request (carousel, IV robot, dispensing cabinets) against
Excel, so these functions reproduce Excel's NPV, IRR, XNPV, XIRR and MIRR, verified against
LibreOffice Calc as an independent engine (``tests/test_roi_libreoffice.py``).

Conventions
-----------
- ``values[0]`` is the first cash flow. :func:`npv` discounts it by one period, as Excel's
  NPV does; add a time-0 investment outside, ``npv(rate, values[1:]) + values[0]``.
  Every other function treats ``values[0]`` as time 0 (the investment, usually negative).
- Shapes: ``values`` is a scalar, list, ndarray, Series, or a single row or column of a 2-D
  range; ``dates`` are dates, datetimes, numpy/pandas datetimes or ISO/US text, read by
  rxxl's one rule (:func:`rxxl.parsing.parse_dates`): what would have to be guessed
  (``03/04/26``, ``2026``, ``20260101``) is refused, and so is a number (an Excel serial:
  convert it with :func:`rxxl.dates.from_excel_serial`).

NaN policy
----------
- A missing value (NaN or None) among the cash flows makes the result NaN: a gap in a
  cash-flow series is not a zero, and skipping it would shift every later period.
- Undefined results are NaN: IRR/XIRR with no sign change or no root (or flows on one
  date that cancel, a present value of 0 at every rate), MIRR without both a
  positive and a negative flow, any rate of exactly -100%, ROI with no outflow.
- Payback that is never reached within the horizon is ``inf`` ("never").
- Structurally bad input (text, no values, ranges of different lengths, a date before the
  first date) raises :class:`rxxl.errors.InputError` / :class:`rxxl.errors.InputTypeError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy_financial as npf

from rxxl._arrays import as_vector, require_nonempty, require_same_length
from rxxl.constants import (
    DAYS_IN_YEAR,
    IRR_GUESS,
    IRR_MAX_NEWTON_ITERATIONS,
    IRR_TOLERANCE,
)
from rxxl.errors import InputError
from rxxl.parsing import parse_dates

__all__ = [
    "npv",
    "irr",
    "xnpv",
    "xirr",
    "mirr",
    "payback",
    "discounted_payback",
    "simple_roi",
]


def _cash_flows(values: Any) -> np.ndarray:
    flows = as_vector(values, "values")
    require_nonempty(flows, "values")
    return flows


def _rate(rate: Any, name: str = "rate") -> float:
    array = np.asarray(rate, dtype=object)
    if array.size != 1:
        raise InputError(f"{name}: expected a single rate such as 0.08, got {array.size} values")
    value = array.reshape(-1)[0]
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise InputError(f"{name}: expected a number such as 0.08 for 8%, got {value!r}")
    return float(value)


def npv(rate: float, values: Any) -> float:
    """Net present value with Excel's convention: the first value is one period out.

    .. math:: \\mathrm{NPV} = \\sum_{i=1}^{n} \\frac{v_i}{(1 + r)^{i}}

    Parameters
    ----------
    rate : float
        Discount rate per period (0.08 for 8%).
    values : array_like
        Cash flows at the end of periods 1..n, equally spaced.

    Returns
    -------
    float
        The NPV; NaN when a value is missing or ``rate`` is -1.

    Notes
    -----
    numpy-financial's ``npv`` puts ``values[0]`` at time 0; Excel users expect Excel's
    convention, so this is ``npf.npv(rate, values) / (1 + rate)``.

    References
    ----------
    Microsoft, "NPV function" (Excel documentation), example 1; DOMAIN.md §5.

    Examples
    --------
    Microsoft's example: a 10,000 investment one year from today, returns of 3,000, 4,200 and
    6,800 in the following three years, at 10%:

    >>> round(npv(0.10, [-10_000, 3_000, 4_200, 6_800]), 2)
    1188.44

    An investment at the start of the first period stays outside (Microsoft's example 2):

    >>> round(npv(0.08, [8_000, 9_200, 10_000, 12_000, 14_500]) - 40_000, 2)
    1922.06
    """
    r = _rate(rate)
    flows = _cash_flows(values)
    if r == -1.0 or np.isnan(flows).any():
        return math.nan
    return float(npf.npv(r, flows) / (1.0 + r))


def _sign_change(flows: np.ndarray) -> bool:
    return bool((flows > 0).any() and (flows < 0).any())


#: Where rxxl looks for IRRs when Newton's method fails: fine steps on (-100%, 100%], then
#: geometric steps to 10^4 (1,000,000%).
_RATE_GRID = np.concatenate(
    [np.linspace(-0.999_999, 1.0, 2_001), np.geomspace(1.0, 1e4, 400)[1:]]
)


def _solve_rate(flows: np.ndarray, ticks: np.ndarray, ticks_per_period: float,
                guess: float) -> float:
    """Find a rate r > -1 at which the flows' present value is zero, preferring the root
    Excel would find.

    Flow i is at time ``ticks[i] / ticks_per_period`` periods (IRR: tick = period, one a
    period; XIRR: tick = day, 365 a year). Excel iterates Newton's method from the guess;
    where that converges, so does this, to the same root. Where it does not (Excel shows
    #NUM! after 20 steps), :func:`_nearest_root` brackets the roots on a grid of rates and
    returns the one closest to the guess: NaN when no root exists on (-1, 10^4].
    """
    times = ticks / ticks_per_period
    rate = guess
    with np.errstate(all="ignore"):
        for _ in range(IRR_MAX_NEWTON_ITERATIONS):
            value = float(np.sum(flows * (1.0 + rate) ** -times))
            slope = float(np.sum(-times * flows * (1.0 + rate) ** (-times - 1.0)))
            if not (np.isfinite(value) and np.isfinite(slope)) or slope == 0:
                break
            step = value / slope
            rate -= step
            if rate <= -1 or not np.isfinite(rate):
                break
            if abs(step) <= IRR_TOLERANCE * max(1.0, abs(rate)):
                return float(rate)
    return _nearest_root(flows, ticks, ticks_per_period, guess)


def _nearest_root(flows: np.ndarray, ticks: np.ndarray, ticks_per_period: float,
                  guess: float) -> float:
    """The root of the present value closest to ``guess`` among those bracketed on
    ``_RATE_GRID``, polished by Brent's method; NaN when there is none.

    The present value is searched in a scaled form that neither overflows nor underflows
    on long series (100,000 flows: :math:`1.01^{100000} \\approx e^{995}`). With the
    flows combined per tick into :math:`c_k` (k from 0, the first non-zero flow, to D, the
    last), and :math:`z = (1 + r)^{-1/\\text{ticks per period}}`,

    .. math:: f(r) = \\sum_k c_k z^k \\ (r \\ge 0), \\qquad
              f(r) = z^{-D} \\sum_k c_k z^k = \\sum_k c_k w^{D - k},\\ w = 1/z \\ (r < 0),

    the present value times a positive factor (so the same roots and signs), in which every
    power is at most 1 and the first, resp. last, flow is not discounted at all. The whole
    grid is one polynomial evaluation (:func:`_polynomial`), memory proportional to the
    grid times the square root of D; Brent's method runs only on brackets that could hold
    a root nearer the guess than one already found.
    """
    unique, where = np.unique(ticks, return_inverse=True)
    amounts = np.bincount(where, weights=flows)  # flows on one day are one flow
    nonzero = amounts != 0
    if not nonzero.any():
        return math.nan  # a present value of 0 at every rate: no rate in particular
    amounts = amounts[nonzero]
    offsets = unique[nonzero] - unique[nonzero][0]
    last = int(offsets[-1])
    down = -offsets / ticks_per_period
    up = (last - offsets) / ticks_per_period

    def scaled(rate: float) -> float:
        with np.errstate(under="ignore"):
            return float(np.sum(amounts * (1.0 + rate) ** (down if rate >= 0 else up)))

    coefficients = np.zeros(last + 1)
    coefficients[offsets] = amounts
    grid = _RATE_GRID
    on_grid = np.empty(grid.size)
    rising = grid >= 0
    with np.errstate(all="ignore"):
        on_grid[rising] = _polynomial(coefficients, (1.0 + grid[rising]) ** (-1 / ticks_per_period))
        on_grid[~rising] = _polynomial(coefficients[::-1],
                                       (1.0 + grid[~rising]) ** (1 / ticks_per_period))
    finite = np.isfinite(on_grid)
    signs = np.sign(on_grid)
    exact = grid[finite & (signs == 0)]
    best = float(exact[np.argmin(np.abs(exact - guess))]) if exact.size else math.nan
    brackets = np.flatnonzero(finite[:-1] & finite[1:] & (signs[:-1] * signs[1:] < 0))
    # A root in [a, b] is at least this far from the guess.
    reach = np.maximum(0.0, np.maximum(grid[brackets] - guess, guess - grid[brackets + 1]))
    for i, distance in zip(brackets[np.argsort(reach, kind="stable")], np.sort(reach),
                           strict=True):
        if distance > abs(best - guess):  # False while best is NaN
            break
        root = _polish(scaled, grid[i], grid[i + 1])
        if not math.isnan(root) and not abs(root - guess) >= abs(best - guess):
            best = root
    return best


def _polish(function: Callable[[float], float], low: float, high: float) -> float:
    """Brent's method on [low, high]; NaN when the bracket's signs do not differ once the
    scaled value is evaluated there directly (the grid's sign change was rounding)."""
    at_low, at_high = function(low), function(high)
    if at_low == 0:
        return float(low)
    if at_high == 0:
        return float(high)
    if not (np.isfinite(at_low) and np.isfinite(at_high)) or np.sign(at_low) == np.sign(at_high):
        return math.nan
    # Imported here, not at the top: scipy.optimize takes about 0.25 s to import, paid on
    # every start of Excel's UDF server, and only this fallback needs it.
    from scipy.optimize import brentq

    return float(brentq(function, low, high, xtol=1e-15, rtol=4 * np.finfo(float).eps))


def _polynomial(coefficients: np.ndarray, x: np.ndarray) -> np.ndarray:
    """:math:`\\sum_{k=0}^{D} c_k x^k` at every x, in blocks (baby steps, giant steps).

    With blocks of :math:`B \\approx \\sqrt{D + 1}` coefficients,
    :math:`p(x) = \\sum_j x^{jB} P_j(x)`: one matrix product gives every block polynomial
    :math:`P_j` at every x, and Horner's rule in :math:`x^B` adds the blocks up. Memory is
    len(x) times 2B numbers instead of len(x) times D for the powers of every flow, and the
    Python loop runs over the D / B blocks, not over the flows. With :math:`|x| \\le 1` no
    power overflows.
    """
    size = coefficients.size
    width = math.isqrt(size - 1) + 1
    count = -(-size // width)
    blocks = np.zeros(width * count)
    blocks[:size] = coefficients
    partial = (x[:, None] ** np.arange(width)) @ blocks.reshape(count, width).T
    giant = x ** width
    total = partial[:, -1].copy()
    for j in range(count - 2, -1, -1):
        total *= giant
        total += partial[:, j]
    return total


def irr(values: Any, guess: float = IRR_GUESS) -> float:
    """Internal rate of return of periodic cash flows, as Excel's IRR.

    The rate r at which the flows' present value is zero:

    .. math:: \\sum_{i=0}^{n-1} \\frac{v_i}{(1 + r)^{i}} = 0

    Parameters
    ----------
    values : array_like
        Cash flows per period; ``values[0]`` at time 0. At least one positive and one
        negative value.
    guess : float, default 0.1
        Where Newton's iteration starts, as Excel's guess. With several IRRs (flows that
        change sign more than once) the root is the one Newton's method reaches from it,
        as in Excel, which is not always the nearest: for -100, 230, -132 (IRRs 10% and
        20%) a guess of 14.9% gives 20% and one of 200% gives 10%.

    Returns
    -------
    float
        The IRR; NaN when the flows do not change sign, a value is missing, or no rate
        above -100% solves the equation (Excel shows #NUM!).

    Notes
    -----
    Newton's method from ``guess`` as Excel does (up to 50 steps); where it fails to
    converge or steps to a rate of -100% or below (Excel gives up after 20 iterations with
    #NUM!), rxxl brackets the roots on a grid of rates in (-1, 10^4] and returns the one
    closest to the guess, so rxxl may return a true IRR where Excel shows #NUM!. The search
    scales the present value so that long series (100,000 periods) neither overflow near
    -100% nor underflow to 0 after a long run of empty periods, and its memory grows with
    the square root of the number of periods (see ``_nearest_root``).

    References
    ----------
    Microsoft, "IRR function" (Excel documentation); DOMAIN.md §5.

    Examples
    --------
    Microsoft's example: a 70,000 business with five years of net income.

    >>> flows = [-70_000, 12_000, 15_000, 18_000, 21_000, 26_000]
    >>> round(irr(flows), 4)
    0.0866
    >>> round(irr(flows[:5]), 4)
    -0.0212
    >>> round(irr(flows[:3], guess=-0.1), 4)
    -0.4435
    >>> irr([100, 200])  # no investment, no sign change: Excel's #NUM!
    nan
    """
    flows = _cash_flows(values)
    g = _rate(guess, "guess")
    if np.isnan(flows).any() or not _sign_change(flows):
        return math.nan
    return _solve_rate(flows, np.arange(flows.size), 1.0, g)


def _days_from_first(dates: Any, count: int) -> np.ndarray:
    days = parse_dates(dates, "dates").astype(np.int64)  # whole days since 1970-01-01
    require_same_length(values=np.empty(count), dates=days)
    elapsed = days - days[0]
    early = np.flatnonzero(elapsed < 0)
    if early.size:
        position = int(early[0])
        raise InputError(
            f"dates: the date at position {position + 1} is before the first date; XNPV and"
            " XIRR count time from the first date, so put the earliest cash flow first"
        )
    return elapsed


def xnpv(rate: float, values: Any, dates: Any) -> float:
    """Net present value of cash flows on irregular dates, as Excel's XNPV.

    .. math:: \\mathrm{XNPV} = \\sum_{i} \\frac{v_i}{(1 + r)^{(d_i - d_1)/365}}

    Parameters
    ----------
    rate : float
        Annual discount rate.
    values : array_like
        Cash flows; the first is at the first date and is not discounted.
    dates : array_like of dates
        One date per cash flow; none may precede the first (a time of day is ignored).

    Returns
    -------
    float
        The XNPV; NaN when a value is missing or ``rate`` is -1 or less (Excel's #NUM!).

    References
    ----------
    Microsoft, "XNPV function" (Excel documentation); DOMAIN.md §5 (actual/365 days).

    Examples
    --------
    Microsoft's example at 9%:

    >>> flows = [-10_000, 2_750, 4_250, 3_250, 2_750]
    >>> dates = ["2008-01-01", "2008-03-01", "2008-10-30", "2009-02-15", "2009-04-01"]
    >>> round(xnpv(0.09, flows, dates), 2)
    2086.65
    """
    r = _rate(rate)
    flows = _cash_flows(values)
    years = _days_from_first(dates, flows.size) / DAYS_IN_YEAR
    # (1 + r)^t has no real value for a fractional t when 1 + r <= 0: Excel's #NUM!.
    if r <= -1.0 or np.isnan(flows).any():
        return math.nan
    with np.errstate(all="ignore"):
        return float(np.sum(flows / (1.0 + r) ** years))


def xirr(values: Any, dates: Any, guess: float = IRR_GUESS) -> float:
    """Internal rate of return of cash flows on irregular dates, as Excel's XIRR.

    The annual rate r with XNPV(r) = 0 (actual/365 day count from the first date).

    Parameters
    ----------
    values : array_like
        Cash flows; at least one positive and one negative.
    dates : array_like of dates
        One date per cash flow; none may precede the first.
    guess : float, default 0.1
        Starting rate of Newton's iteration, as Excel's guess.

    Returns
    -------
    float
        The XIRR; NaN without a sign change, with a missing value, or with no root above
        -100% (Excel shows #NUM!).

    References
    ----------
    Microsoft, "XIRR function" (Excel documentation); DOMAIN.md §5.

    Examples
    --------
    Microsoft's example:

    >>> flows = [-10_000, 2_750, 4_250, 3_250, 2_750]
    >>> dates = ["2008-01-01", "2008-03-01", "2008-10-30", "2009-02-15", "2009-04-01"]
    >>> round(xirr(flows, dates), 4)  # 37.34%
    0.3734
    """
    flows = _cash_flows(values)
    days = _days_from_first(dates, flows.size)
    g = _rate(guess, "guess")
    if np.isnan(flows).any() or not _sign_change(flows):
        return math.nan
    return _solve_rate(flows, days, DAYS_IN_YEAR, g)


def mirr(values: Any, finance_rate: float, reinvest_rate: float) -> float:
    """Modified internal rate of return, as Excel's MIRR.

    Outflows are financed at ``finance_rate`` (brought to time 0), inflows reinvested at
    ``reinvest_rate`` (carried to the last period n - 1):

    .. math:: \\mathrm{MIRR} = \\left(\\frac{FV_{reinvest}(v^{+})}{-PV_{finance}(v^{-})}
              \\right)^{1/(n-1)} - 1

    Parameters
    ----------
    values : array_like
        Cash flows per period; at least one positive and one negative.
    finance_rate : float
        Rate paid on the money used in the cash flows.
    reinvest_rate : float
        Rate received on the cash flows as they are reinvested.

    Returns
    -------
    float
        The MIRR; NaN without both a positive and a negative flow (Excel's #DIV/0!) or with
        a missing value.

    References
    ----------
    Microsoft, "MIRR function" (Excel documentation); numpy-financial ``mirr``.

    Examples
    --------
    Microsoft's example: a fishing boat bought for 120,000 at 10% with income reinvested
    at 12%:

    >>> flows = [-120_000, 39_000, 30_000, 21_000, 37_000, 46_000]
    >>> round(mirr(flows, 0.10, 0.12), 4)
    0.1261
    >>> round(mirr(flows[:4], 0.10, 0.12), 4)
    -0.048
    >>> round(mirr(flows, 0.10, 0.14), 4)
    0.1348
    """
    flows = _cash_flows(values)
    f, r = _rate(finance_rate, "finance_rate"), _rate(reinvest_rate, "reinvest_rate")
    if np.isnan(flows).any() or not _sign_change(flows) or f == -1.0 or r == -1.0:
        return math.nan
    return float(npf.mirr(flows, f, r))


def _payback_of(flows: np.ndarray) -> float:
    cumulative = np.cumsum(flows)
    still_short = np.flatnonzero(cumulative < 0)
    if still_short.size == 0:
        return 0.0
    last_short = int(still_short[-1])
    if last_short == flows.size - 1:
        return math.inf
    return last_short + float(-cumulative[last_short] / flows[last_short + 1])


def payback(values: Any) -> float:
    """Payback period: years until the cumulative cash flow turns non-negative for good.

    With ``values[0]`` the investment at time 0 and k the last period whose cumulative
    cash flow C_k is still negative, the payback interpolates within the next period:

    .. math:: \\text{payback} = k + \\frac{-C_k}{v_{k+1}}

    Parameters
    ----------
    values : array_like
        Cash flows per period, ``values[0]`` at time 0.

    Returns
    -------
    float
        Periods to payback; 0 when nothing is invested; ``inf`` ("never") when the
        cumulative cash flow is still negative at the end; NaN when a value is missing.

    Notes
    -----
    When later outflows (an overhaul, a service contract) push the cumulative cash flow
    below zero again, the payback is the *last* crossing, after which the investment stays
    recovered (*judgement*: the conservative reading). With one investment followed by
    savings, first and last crossing coincide.

    References
    ----------
    DOMAIN.md §5; e.g. Brealey, Myers & Allen, *Principles of Corporate Finance*, ch. 5.

    Examples
    --------
    An IV robot: 500,000 up front, 180,000 a year of labor and waste savings.

    >>> round(payback([-500_000, 180_000, 180_000, 180_000, 180_000]), 4)
    2.7778
    >>> payback([-500_000, 100_000, 100_000])
    inf
    """
    flows = _cash_flows(values)
    if np.isnan(flows).any():
        return math.nan
    return _payback_of(flows)


def discounted_payback(rate: float, values: Any) -> float:
    """Discounted payback: :func:`payback` of the flows discounted at ``rate``.

    .. math:: \\tilde v_t = \\frac{v_t}{(1 + r)^t}, \\quad t = 0, 1, \\ldots

    Parameters
    ----------
    rate : float
        Discount rate per period.
    values : array_like
        Cash flows per period, ``values[0]`` (the investment) at time 0, not discounted.

    Returns
    -------
    float
        Periods to discounted payback; ``inf`` when not recovered; NaN when a value is
        missing or ``rate`` is -1.

    References
    ----------
    DOMAIN.md §5.

    Examples
    --------
    >>> round(discounted_payback(0.08, [-500_000, 180_000, 180_000, 180_000, 180_000]), 4)
    3.273
    """
    r = _rate(rate)
    flows = _cash_flows(values)
    if r == -1.0 or np.isnan(flows).any():
        return math.nan
    discounted = flows / (1.0 + r) ** np.arange(flows.size, dtype=float)
    return _payback_of(discounted)


def simple_roi(values: Any) -> float:
    """Simple return on investment: net cash flow over the money put in.

    .. math:: \\mathrm{ROI} = \\frac{\\sum_i v_i}{-\\sum_{v_i < 0} v_i}

    Parameters
    ----------
    values : array_like
        Cash flows over the horizon (investment and costs negative, savings positive).

    Returns
    -------
    float
        ROI as a fraction (0.44 is 44%); NaN without any outflow or with a missing value.

    References
    ----------
    DOMAIN.md §5 (business case: savings against capital and service costs).

    Examples
    --------
    >>> round(simple_roi([-500_000, 180_000, 180_000, 180_000, 180_000]), 4)
    0.44
    """
    flows = _cash_flows(values)
    outflow = -flows[flows < 0].sum()
    if np.isnan(flows).any() or outflow == 0:
        return math.nan
    return float(flows.sum() / outflow)
