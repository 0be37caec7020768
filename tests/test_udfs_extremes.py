"""Extreme finite inputs: no RX_ function shows an infinite number or an internal failure.

Every numeric cell of a good call is replaced by one of 1e308, -1e308, 1e-300 and 0 (and
the same in every cell). A result cell must then be finite, blank, a bool or text: Excel's
error literals, a #VALUE! message that says what to fix, or a function's own words ("never",
"F", a code description). ±inf is never a result: an overflow is #NUM!.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl import udfs
from rxxl.udf_metadata import udf_metadata

EXTREMES = (1e308, -1e308, 1e-300, 0.0)


def column(*values):
    return [[v] for v in values]


DATES = column(dt.datetime(2026, 1, 1), dt.datetime(2026, 7, 1), dt.datetime(2027, 3, 1))
# A good call per function; numbers in these calls are the cells to replace (dates and
# text stay as they are).
CALLS = {
    "RX_VARIANCE": (column(110.0, 90.0), column(100.0, 100.0)),
    "RX_VARIANCE_PCT": (column(110.0, 90.0), column(100.0, 100.0)),
    "RX_FAV": (column(110.0, 90.0), column(100.0, 100.0), column("expense", "revenue")),
    "RX_MATERIAL": (column(110.0, 90.0), column(100.0, 100.0), 10.0, 0.05),
    "RX_FLEX_BUDGET": (column(100.0, 200.0), column(10.0, 20.0), column(11.0, 19.0)),
    "RX_PVM": (column(11.0, 5.0), column(10.0, 5.0), column(100.0, 50.0), column(90.0, 60.0)),
    "RX_DRUG_BRIDGE": (column("A", "B"), column("OP", "ICU"), column("340B", "GPO"),
                       column(10.0, 5.0), column(100.0, 50.0), column(10.0, 5.0),
                       column(100.0, 45.0), column(100.0, 900.0), column(110.0, 1000.0),
                       [["OP", 30.0], ["ICU", -5.0]]),
    "RX_GDR": (column("Y", "N"), column(3.0, 1.0)),
    "RX_GENERIC_EFFICIENCY": (column("Y", "O"), column(3.0, 1.0)),
    "RX_BIOSIMILAR_RATE": (column("BIOSIMILAR", "BLA"), column(3.0, 1.0)),
    "RX_GENERIC_OPPORTUNITY": (column("O", "O"), column(10.0, 5.0), column(5.0, 1.0),
                               column(1.0, 1.0)),
    "RX_TURNS": (column(1200.0, 600.0), column(100.0, 50.0), column(140.0, 70.0), 365.0),
    "RX_DAYS_ON_HAND": (column(1200.0, 600.0), column(100.0, 50.0), column(140.0, 70.0),
                        365.0),
    "RX_NPV": (0.1, column(-100.0, 60.0, 60.0)),
    "RX_IRR": (column(-100.0, 60.0, 60.0), 0.1),
    "RX_XNPV": (0.1, column(-100.0, 60.0, 60.0), DATES),
    "RX_XIRR": (column(-100.0, 60.0, 60.0), DATES, 0.1),
    "RX_MIRR": (column(-100.0, 60.0, 60.0), 0.1, 0.1),
    "RX_PAYBACK": (column(-100.0, 60.0, 60.0),),
    "RX_DPAYBACK": (0.1, column(-100.0, 60.0, 60.0)),
    "RX_ROI": (column(-100.0, 60.0, 60.0),),
    "RX_DENIAL_RATE": (column("denied", "paid", "paid"), column(100.0, 50.0, 50.0)),
    "RX_DENIAL_TREND": (column("2026-01", "2026-02", "2026-03"), column(100.0, 100.0, 100.0),
                        column(5.0, 6.0, 30.0)),
    "RX_DENIAL_REASON": (75.0,),
}


def test_every_function_but_the_340b_check_is_in_the_table():
    # RX_340B_CHECK's numbers are claims columns under the loader's contract
    # (tests/test_udfs_340b.py); its dollars go through the same cell maker.
    assert set(CALLS) | {"RX_340B_CHECK"} == set(udf_metadata())


def _replaced(args, pick):
    """The call with every float cell replaced by pick()."""
    def one(value):
        if isinstance(value, list):
            return [[one(cell) for cell in line] for line in value]
        return pick() if isinstance(value, float) else value
    return tuple(one(a) for a in args)


def _assert_cells_ok(name, args, result):
    lines = result if isinstance(result, list) else [[result]]
    for line in lines:
        for cell in line:
            if isinstance(cell, float):
                assert math.isfinite(cell), (name, args, result)
            else:
                assert cell is None or isinstance(cell, (bool, str)), (name, args, result)
            if isinstance(cell, str):
                assert "could not compute" not in cell, (name, args, result)


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_same_extreme_in_every_cell(name, value):
    args = _replaced(CALLS[name], lambda: value)
    _assert_cells_ok(name, args, getattr(udfs, name)(*args))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(CALLS)), st.data())
def test_extremes_mixed_in_any_cell(name, data):
    args = _replaced(CALLS[name], lambda: data.draw(st.sampled_from(EXTREMES)))
    _assert_cells_ok(name, args, getattr(udfs, name)(*args))


# --- known values (issue 12, items 7 and 14) --------------------------------------------------


def test_xnpv_at_a_rate_of_minus_100_percent_or_below_is_num_as_in_excel():
    # Excel's XNPV shows #NUM! for rate <= -1: (1 + rate)^((d - d1)/365) has no real value
    # for a fractional power of 0 or a negative base. NPV's integer powers stay: Excel's
    # NPV(-1, ...) is #DIV/0! and NPV(-2, 100) = 100 / (1 - 2) = -100.
    flows, dates = column(-100.0, 110.0), column(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    assert udfs.RX_XNPV(-1, flows, dates) == "#NUM!"
    assert udfs.RX_XNPV(-1.5, flows, dates) == "#NUM!"
    # 365 days at 10%: -100 + 110 / 1.1 = 0 (floating point leaves 1.4e-14).
    assert udfs.RX_XNPV(0.1, flows, dates) == pytest.approx(0.0, abs=1e-9)
    assert udfs.RX_NPV(-1, column(100.0)) == "#DIV/0!"
    assert udfs.RX_NPV(-2, column(100.0)) == -100.0


def test_overflow_is_num_never_infinity():
    # 1e308 - (-1e308) = 2e308 > the largest double (1.8e308): Excel shows #NUM!.
    assert udfs.RX_VARIANCE(1e308, -1e308) == "#NUM!"
    # 1e308 * 365 / 365 / 1e-300: far beyond a double.
    assert udfs.RX_TURNS(1e308, 1e-300, 1e-300) == "#NUM!"
    assert udfs.RX_ROI(column(-1e-300, 1e308, 1e308)) == "#NUM!"


def test_denial_rate_of_two_claims_of_1e308_is_half():
    # One denied, one paid, each billed 1e308: the dollar rate is 1e308 / 2e308 = 50%;
    # summing first overflowed to inf and gave 1e308 / inf = 0.
    assert udfs.RX_DENIAL_RATE(column("denied", "paid"), column(1e308, 1e308)) == 0.5
    # Three claims, 1e308, 1e308 and 2e307 denied: 1e308 / 2.2e308 = 5/11.
    assert udfs.RX_DENIAL_RATE(column("denied", "paid", "paid"),
                               column(1e308, 1e308, 2e307)) == pytest.approx(5 / 11)


def test_generic_rate_of_weights_of_1e308_is_half():
    # One generic, one brand claim, each weighing 1e308: GDR 1e308 / 2e308 = 50%.
    assert udfs.RX_GDR(column("Y", "N"), column(1e308, 1e308)) == 0.5
    assert udfs.RX_GENERIC_EFFICIENCY(column("Y", "O"), column(1e308, 1e308)) == 0.5
    assert udfs.RX_BIOSIMILAR_RATE(column("BIOSIMILAR", "BLA"), column(1e308, 1e308)) == 0.5
