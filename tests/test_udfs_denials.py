"""The denial RX_ functions, called as plain Python with what classic xlwings hands over."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl import denials, udfs

VALUE_ERROR = "#VALUE! "


def column(*values):
    return [[v] for v in values]


def test_denial_rate_by_count_and_by_dollars():
    assert udfs.RX_DENIAL_RATE(column("denied", "paid", " Paid ", "PAID")) == 0.25
    assert udfs.RX_DENIAL_RATE(column("denied", "paid"), column(100, 300)) == 0.25
    assert udfs.RX_DENIAL_RATE("denied") == 1.0
    # Padding below the data is ignored.
    assert udfs.RX_DENIAL_RATE(column("denied", "paid", None), column(1, 1, None)) == 0.5


def test_denial_rate_undefined_and_bad_input():
    assert udfs.RX_DENIAL_RATE(column("paid", "denied"), column(0, 0)) == "#DIV/0!"
    for args in [
        (column("denied", "maybe"),),
        (column("denied", None, "paid"),),
        (column("denied", "paid"), column(1, -1)),
        (column("denied", "paid"), column(1, "n/a")),
        (column("denied", "paid"), column(1, 2, 3)),
        ([],),
        ([["denied", "paid"], ["paid", "paid"]],),
    ]:
        result = udfs.RX_DENIAL_RATE(*args)
        assert isinstance(result, str) and result.startswith(VALUE_ERROR), (args, result)
    assert "maybe" in udfs.RX_DENIAL_RATE(column("denied", "maybe"))


def test_denial_trend_rows_match_the_p_chart():
    months = column("2026-01", dt.datetime(2026, 2, 1), 46082)  # text, date, serial (2026-03)
    result = udfs.RX_DENIAL_TREND(months, column(100, 100, 100), column(10, 10, 10))
    assert len(result) == 3 and all(len(line) == 5 for line in result)
    rate, center, ucl, lcl, flag = result[0]
    assert (rate, center) == pytest.approx((0.1, 0.1))
    assert (ucl, lcl) == pytest.approx((0.19, 0.01))
    assert flag is False
    chart = denials.p_chart([1000] * 6, [50, 52, 48, 51, 49, 250])
    result = udfs.RX_DENIAL_TREND(column(*[f"2026-0{m}" for m in range(1, 7)]),
                                  column(*[1000] * 6), column(50, 52, 48, 51, 49, 250))
    assert [line[4] for line in result] == chart["out_of_control"].tolist()
    assert [line[2] for line in result] == pytest.approx(chart["ucl"].tolist())


def test_denial_trend_zero_submitted_month_is_div0_not_flagged():
    result = udfs.RX_DENIAL_TREND(column("2026-01", "2026-02"), column(100, 0), column(5, 0))
    assert result[1] == ["#DIV/0!", 0.05, "#DIV/0!", "#DIV/0!", False]


@pytest.mark.parametrize("args", [
    (column("2026-01", "2026-01"), column(1, 1), column(0, 0)),       # duplicate month
    (column("2026-01", "soon"), column(1, 1), column(0, 0)),          # not a month
    (column(True, "2026-02"), column(1, 1), column(0, 0)),            # boolean
    (column("2026-01", "2026"), column(1, 1), column(0, 0)),          # a bare year
    (column("2026-01", "2026Q4"), column(1, 1), column(0, 0)),        # a quarter
    (column("2026-01", "2026-02-01xyz"), column(1, 1), column(0, 0)), # trailing text
    (column("2026-01", "2026-02"), column(1, 1), column(2, 0)),       # denied > submitted
    (column("2026-01", "2026-02"), column(1, -1), column(0, 0)),      # negative
    (column("2026-01", "2026-02"), column(1, None), column(0, 0)),    # blank inside
    (column("2026-01", "2026-02"), column(1, 1, 1), column(0, 0)),    # sizes differ
    (column("2026-01", "2026-02"), column(1, "x"), column(0, 0)),     # text
])
def test_denial_trend_bad_input_is_a_message(args):
    result = udfs.RX_DENIAL_TREND(*args)
    assert isinstance(result, str) and result.startswith(VALUE_ERROR), result
    assert len(result) <= 255


@pytest.mark.parametrize("code, expected", [
    ("75", ["Prior authorization required", "authorization"]),
    (75, ["Prior authorization required", "authorization"]),
    (75.0, ["Prior authorization required", "authorization"]),
    (" mr ", ["Product not on formulary", "coverage"]),
    ("co 197", ["Precertification/authorization/notification absent", "authorization"]),
    ("CO-45", ["Charge exceeds fee schedule or maximum allowable (contractual adjustment)",
               "contractual adjustment"]),
    ("PR-2", ["Coinsurance amount", "patient cost sharing"]),
    ("CO-999", ["(not in rxxl's code table)", "unmapped"]),
    ([["07"]], ["Missing or invalid cardholder ID", "eligibility"]),
])
def test_denial_reason(code, expected):
    assert udfs.RX_DENIAL_REASON(code) == [expected]


@pytest.mark.parametrize("code", [None, "  ", True, 1.5, column("75", "70"), [],
                                  dt.datetime(2026, 1, 1)])
def test_denial_reason_bad_input_is_a_message(code):
    result = udfs.RX_DENIAL_REASON(code)
    assert isinstance(result, str) and result.startswith(VALUE_ERROR), result


excel_cells = st.one_of(
    st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(-10**6, 10**6), st.text(max_size=8), st.booleans(),
    st.sampled_from(["paid", "denied", "2026-01", "2026-02", "CO-197", "75"]),
    st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2100, 1, 1)),
)
excel_arguments = st.one_of(
    excel_cells,
    st.integers(1, 3).flatmap(
        lambda width: st.lists(st.lists(excel_cells, min_size=width, max_size=width),
                               min_size=0, max_size=5)
    ),
)


def _cell_ok(cell):
    return cell is None or isinstance(cell, (str, bool)) or (
        isinstance(cell, float) and math.isfinite(cell))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([("RX_DENIAL_RATE", 2), ("RX_DENIAL_TREND", 3),
                        ("RX_DENIAL_REASON", 1)]), st.data())
def test_nothing_raises_into_excel(function, data):
    name, count = function
    args = data.draw(st.lists(excel_arguments, min_size=count, max_size=count))
    result = getattr(udfs, name)(*args)
    if isinstance(result, list):
        assert all(_cell_ok(c) for line in result for c in line), result
    else:
        assert _cell_ok(result), result


def test_a_number_up_to_99_is_the_two_digit_ncpdp_code():
    # Excel turns a typed 07 into the number 7; NCPDP 07 is "Missing or invalid cardholder
    # ID" (eligibility), so 7, 7.0 and "07" must all find it.
    expected = [["Missing or invalid cardholder ID", "eligibility"]]
    assert udfs.RX_DENIAL_REASON(7) == expected
    assert udfs.RX_DENIAL_REASON(7.0) == expected
    assert udfs.RX_DENIAL_REASON("07") == expected
    assert udfs.RX_DENIAL_REASON(75)[0][1] == "authorization"
    assert udfs.RX_DENIAL_REASON("CO-4")[0][1] == "coding"  # a CARC with its group is CARC
