"""Tests of rxxl.variance: published worked examples, hand-computed cases, the shape and NaN
policy on every input shape, bad input, and properties (the splits always reconcile)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxxl.constants import FAVORABLE, MATERIALITY_AMOUNT, MATERIALITY_PERCENT, UNFAVORABLE
from rxxl.errors import InputError, InputTypeError
from rxxl.variance import (
    favorability,
    flex_variance,
    flexed_budget,
    is_material,
    price_volume_mix,
    purchase_drivers,
    variance,
    variance_pct,
)

F, U = FAVORABLE, UNFAVORABLE

# --- Known values: variance, variance %, favorability --------------------------------------

# (actual, budget, line_type, variance, variance %, flag)
VARIANCE_TABLE = [
    # AccountingCoach, "What do negative variances indicate?": revenues $750 vs $900 budget
    # are $150 unfavorable; expenses $525 vs $700 are $175 favorable.
    pytest.param(750, 900, "revenue", -150, -150 / 900, U, id="accountingcoach-revenue"),
    pytest.param(525, 700, "expense", -175, -175 / 700, F, id="accountingcoach-expense"),
    # AccountingTools, "What is a flexible budget variance?": 800 units sold at $102 against
    # $100 budgeted is $1,600 favorable revenue; cost $50 a unit against $45 is $4,000
    # unfavorable.
    pytest.param(81_600, 80_000, "revenue", 1_600, 0.02, F, id="accountingtools-revenue"),
    pytest.param(40_000, 36_000, "expense", 4_000, 4_000 / 36_000, U, id="accountingtools-cogs"),
    # Hand-computed: on budget is favorable for both line types (documented choice).
    pytest.param(1_000, 1_000, "expense", 0, 0, F, id="on-budget-expense"),
    pytest.param(1_000, 1_000, "revenue", 0, 0, F, id="on-budget-revenue"),
    # Hand-computed: a budgeted credit (negative budget) keeps the variance's sign in the %.
    pytest.param(-80, -100, "expense", 20, 0.2, U, id="negative-budget"),
    # Hand-computed: zero budget, variance % undefined (#DIV/0!), flag still defined.
    pytest.param(5_000, 0, "expense", 5_000, math.nan, U, id="zero-budget"),
]


@pytest.mark.parametrize(
    "actual, budget, line_type, expected_variance, expected_pct, expected_flag", VARIANCE_TABLE
)
def test_variance_known_values(
    actual, budget, line_type, expected_variance, expected_pct, expected_flag
):
    assert variance(actual, budget) == pytest.approx(expected_variance)
    assert variance_pct(actual, budget) == pytest.approx(expected_pct, nan_ok=True)
    assert favorability(actual, budget, line_type) == expected_flag


def test_accountingtools_net_income_variance_is_2400_unfavorable():
    # The same source nets the two lines to a $2,400 unfavorable variance.
    revenue = variance(81_600, 80_000)
    cost = variance(40_000, 36_000)
    assert revenue - cost == -2_400


# (actual, budget, amount, percent, material)
MATERIALITY_TABLE = [
    # Hand-computed against the defaults ($10,000 AND 5%).
    pytest.param(1_120_000, 1_000_000, None, None, True, id="both-exceeded"),
    pytest.param(1_012_000, 1_000_000, None, None, False, id="dollars-only"),
    pytest.param(11_000, 10_000, None, None, False, id="percent-only"),
    pytest.param(1_050_000, 1_000_000, None, None, True, id="percent-at-threshold"),
    pytest.param(110_000, 100_000, None, None, True, id="amount-at-threshold"),
    pytest.param(890_000, 1_000_000, None, None, True, id="under-budget-counts-too"),
    pytest.param(15_000, 0, None, None, True, id="zero-budget-infinite-percent"),
    pytest.param(0, 0, 0, 0, True, id="zero-thresholds-flag-everything"),
    pytest.param(52_000, 40_000, 20_000, None, False, id="custom-amount"),
    pytest.param(52_000, 40_000, None, 0.5, False, id="custom-percent"),
]


@pytest.mark.parametrize("actual, budget, amount, percent, expected", MATERIALITY_TABLE)
def test_is_material_known_values(actual, budget, amount, percent, expected):
    amount = MATERIALITY_AMOUNT if amount is None else amount
    percent = MATERIALITY_PERCENT if percent is None else percent
    result = is_material(actual, budget, amount=amount, percent=percent)
    assert result is expected


# --- Known values: flexible budget ---------------------------------------------------------

# Horngren, Datar & Rajan, Cost Accounting, ch. 7, problem 7-32 (solution published on
# coursehero.com "Acct306 Homework Ch07"): 7,275 units made against 7,500 budgeted.
# (line, actual, static budget, flexed, flexible-budget variance, sales-volume variance),
# variances signed actual − budget, as rxxl reports them (the source prints F/U labels).
HORNGREN_7_32 = [
    ("revenues", 596_550, 600_000, 582_000, 14_550, -18_000),
    ("frames", 55_872, 49_500, 48_015, 7_857, -1_485),
    ("lenses", 150_738, 139_500, 135_315, 15_423, -4_185),
    ("labor", 145_355, 135_000, 130_950, 14_405, -4_050),
]


def test_flex_variance_horngren_7_32():
    lines = [row[0] for row in HORNGREN_7_32]
    actual = pd.Series([row[1] for row in HORNGREN_7_32], index=lines)
    budget = [row[2] for row in HORNGREN_7_32]
    table = flex_variance(actual, budget, 7_500, 7_275)
    assert list(table.index) == lines
    np.testing.assert_allclose(table["flexed_budget"], [row[3] for row in HORNGREN_7_32])
    np.testing.assert_allclose(table["spending_variance"], [row[4] for row in HORNGREN_7_32])
    np.testing.assert_allclose(table["volume_variance"], [row[5] for row in HORNGREN_7_32])
    # Source totals for variable costs: flexible-budget 37,685 U, sales-volume 9,720 F.
    costs = table.loc[["frames", "lenses", "labor"]]
    assert costs["spending_variance"].sum() == pytest.approx(37_685)
    assert costs["volume_variance"].sum() == pytest.approx(-9_720)
    # Source labels: revenue 14,550 F / 18,000 U; costs flexible-budget U, sales-volume F.
    line_types = ["revenue", "expense", "expense", "expense"]
    flexed = table["flexed_budget"]
    assert list(favorability(actual, flexed, line_types)) == [F, U, U, U]
    assert list(favorability(flexed, budget, line_types)) == [U, F, F, F]


def test_flex_variance_fixed_cost_does_not_flex():
    # Horngren 7-32: fixed manufacturing costs 108,398 actual against 112,500 budgeted,
    # flexible-budget variance 4,102 F, sales-volume variance 0. Equal volumes = no flexing.
    row = flex_variance(108_398, 112_500, 1, 1).iloc[0]
    assert row["flexed_budget"] == 112_500
    assert row["volume_variance"] == 0
    assert row["spending_variance"] == -4_102


def test_flex_variance_coursehero_variable_cost():
    # coursehero.com "Flexible budget variance = 1,850,000 - 1,800,000": variable cost budget
    # 1,188,000 for 12,000 units; 10,000 units made at an actual 1,120,000. Flexed 990,000,
    # flexible-budget variance 130,000 U; static-budget variance 68,000 F.
    row = flex_variance(1_120_000, 1_188_000, 12_000, 10_000).iloc[0]
    assert row["flexed_budget"] == pytest.approx(990_000)
    assert row["spending_variance"] == pytest.approx(130_000)
    assert row["volume_variance"] == pytest.approx(-198_000)
    assert row["total_variance"] == pytest.approx(-68_000)


@pytest.mark.parametrize(
    "budget, budget_volume, actual_volume, expected",
    [
        pytest.param(49_500, 7_500, 7_275, 48_015, id="horngren-7-32-frames"),
        pytest.param(139_500, 7_500, 7_275, 135_315, id="horngren-7-32-lenses"),
        # Hand-computed: drug budget $1.2M on 24,000 adjusted patient days, 25,000 achieved.
        pytest.param(1_200_000, 24_000, 25_000, 1_250_000, id="apd-driver"),
        pytest.param(1_000, 0, 50, math.nan, id="zero-budget-volume"),
        pytest.param(1_000, 100, 0, 0, id="no-activity"),
    ],
)
def test_flexed_budget_known_values(budget, budget_volume, actual_volume, expected):
    assert flexed_budget(budget, budget_volume, actual_volume) == pytest.approx(
        expected, nan_ok=True
    )


# --- Known values: price / volume / mix -----------------------------------------------------


def _pvm_case(bp, aq, bq, ap=None):
    """Prices and quantities of a published case; actual price = budget price unless given."""
    return {"ap": bp if ap is None else ap, "bp": bp, "aq": aq, "bq": bq}


PVM_TABLE = [
    # Horngren, Datar, Foster, Rajan & Ittner, Cost Accounting 13th ed. pp. 517-519 (worked
    # solution on studentsmerit.com): Kola, Limor, Orlem; budget contribution margin per unit
    # 2.00/1.20/2.50 as the "price", sold at budget margins (price variance 0).
    # Source: sales-quantity 160,000 / 144,000 / 750,000 F (total 1,054,000 F); sales-mix
    # 0 / 216,000 F / 450,000 U (total 234,000 U); sales-volume 160,000/360,000/300,000 F.
    pytest.param(
        _pvm_case([2.00, 1.20, 2.50], [480_000, 900_000, 1_620_000], [400_000, 600_000, 1_500_000]),
        [0, 0, 0],
        [160_000, 144_000, 750_000],
        [0, 216_000, -450_000],
        id="horngren-kola-limor-orlem",
    ),
    # Drury, Management and Cost Accounting, Example 3 (Milano Company): budget X 8,000 /
    # Y 7,000 / Z 5,000 units at margins 20/12/9; actual 6,000 / 7,000 / 9,000 at the same
    # margins. Source: total variance 4,000 adverse, price variance 0. The per-line split is
    # hand-computed with Drury's definitions, which match rxxl's: quantity = (22,000 −
    # 20,000) × share × margin, mix = (actual − 22,000 × share) × margin; quantity 28,900 F,
    # mix 32,900 A.
    pytest.param(
        _pvm_case([20, 12, 9], [6_000, 7_000, 9_000], [8_000, 7_000, 5_000]),
        [0, 0, 0],
        [16_000, 8_400, 4_500],
        [-56_000, -8_400, 31_500],
        id="drury-milano",
    ),
    # CMA exam question (gaodun.com): products E and F budgeted 5,500 and 4,500 units at
    # margins 4.50 and 10.00, 6,000 of each sold. Source: sales-mix variance 3,300 F, sales
    # volume variance 17,250 F. Per line hand-computed.
    pytest.param(
        _pvm_case([4.50, 10.00], [6_000, 6_000], [5_500, 4_500]),
        [0, 0],
        [4_950, 9_000],
        [-2_700, 6_000],
        id="cma-e-f",
    ),
    # ACCA PM Integrated Workbook 2018-19, ch. 10 p. 282: 46,000 units sold against 40,000
    # budgeted (tables/chairs/sideboards 8,000/26,000/6,000 at margins 760/94/940). Taking
    # the actual sales at the budget mix (9,200/29,900/6,900) leaves no mix variance; source
    # quantity variance 6,000 × 354.10 = 2,124,600 F.
    pytest.param(
        _pvm_case([760, 94, 940], [9_200, 29_900, 6_900], [8_000, 26_000, 6_000]),
        [0, 0, 0],
        [912_000, 366_600, 846_000],
        [0, 0, 0],
        id="acca-pm-quantity",
    ),
    # Horngren ch. 7 problem 7-32: selling price 82 against 80 budgeted, 7,275 units sold
    # against 7,500. Source: selling-price variance 14,550 F, sales-volume variance 18,000 U.
    pytest.param(
        _pvm_case([80], [7_275], [7_500], ap=[82]),
        [14_550],
        [-18_000],
        [0],
        id="horngren-7-32-selling-price",
    ),
    # Hand-computed pharmacy basket: ondansetron dearer, ranitidine withdrawn (no actual
    # price), famotidine new (no budget price). Shares 0.8/0.2/0; ΣAQ 1,200, ΣBQ 1,000.
    pytest.param(
        {
            "ap": [2.25, None, 40.0],
            "bp": [2.00, 15.0, None],
            "aq": [1_150, 0, 50],
            "bq": [800, 200, 0],
        },
        [287.5, 0, 0],
        [320, 600, 0],
        [380, -3_600, 2_000],
        id="hand-new-and-discontinued",
    ),
    # Hand-computed: nothing budgeted in units (ΣBQ = 0): all shares 0, every line's actual
    # spend is mix, except the price difference against a given budget price.
    pytest.param(
        {"ap": [3.0, 5.0], "bp": [2.0, None], "aq": [10, 4], "bq": [0, None]},
        [10, 0],
        [0, 0],
        [20, 20],
        id="hand-no-budget-quantity",
    ),
]


@pytest.mark.parametrize("case, price, volume, mix", PVM_TABLE)
def test_price_volume_mix_known_values(case, price, volume, mix):
    table = price_volume_mix(case["ap"], case["bp"], case["aq"], case["bq"])
    np.testing.assert_allclose(table["price"], price, atol=1e-9)
    np.testing.assert_allclose(table["volume"], volume, atol=1e-9)
    np.testing.assert_allclose(table["mix"], mix, atol=1e-9)
    parts = table[["price", "volume", "mix"]].sum(axis=1)
    np.testing.assert_allclose(parts, table["total_variance"], atol=1e-6)


def test_price_volume_mix_published_totals():
    # The totals each source states, as column sums.
    horngren = price_volume_mix(
        [2.00, 1.20, 2.50],
        [2.00, 1.20, 2.50],
        [480_000, 900_000, 1_620_000],
        [400_000, 600_000, 1_500_000],
    )
    assert horngren["volume"].sum() == pytest.approx(1_054_000)
    assert horngren["mix"].sum() == pytest.approx(-234_000)
    assert horngren["total_variance"].sum() == pytest.approx(820_000)
    drury = price_volume_mix([20, 12, 9], [20, 12, 9], [6_000, 7_000, 9_000], [8_000, 7_000, 5_000])
    assert drury["total_variance"].sum() == pytest.approx(-4_000)
    assert drury["actual_spend"].sum() == 285_000  # source: actual contribution 285,000
    assert drury["budget_spend"].sum() == 289_000  # source: budgeted contribution 289,000
    cma = price_volume_mix([4.5, 10], [4.5, 10], [6_000, 6_000], [5_500, 4_500])
    assert cma["mix"].sum() == pytest.approx(3_300)
    assert (cma["volume"] + cma["mix"]).sum() == pytest.approx(17_250)
    acca = price_volume_mix([760, 94, 940], [760, 94, 940], [9_200, 29_900, 6_900],
                            [8_000, 26_000, 6_000])  # fmt: skip
    assert acca["volume"].sum() == pytest.approx(6_000 * 354.10)


def test_price_volume_mix_line_status_and_spends():
    table = price_volume_mix(
        [2.0, None, 4.0, None, 1.0],
        [1.5, 3.0, None, None, 1.0],
        [10, None, 5, 0, 0],
        [8, 6, 0, None, 0],
    )
    assert list(table["line_status"]) == ["continuing", "discontinued", "new", "inactive",
                                          "inactive"]  # fmt: skip
    np.testing.assert_allclose(table["actual_spend"], [20, 0, 20, 0, 0])
    np.testing.assert_allclose(table["budget_spend"], [12, 18, 0, 0, 0])
    # Documented substitutions: new line valued at its actual price (price 0, volume 0, the
    # whole spend is mix); discontinued line at its budget price (price 0).
    new, discontinued = table.iloc[2], table.iloc[1]
    assert (new["price"], new["volume"], new["mix"]) == (0, 0, 20)
    assert discontinued["price"] == 0
    assert (table.iloc[3][["price", "volume", "mix"]] == 0).all()
    # No "-0.0" in a report.
    assert not np.signbit(table[["price", "volume", "mix"]].to_numpy()[2:]).any()


def test_price_volume_mix_keeps_series_index_and_accepts_ranges():
    ndcs = pd.Index(["00409-4888-02", "00338-0049-04"], name="ndc")
    table = price_volume_mix(
        [[2.0], [3.0]],  # Excel column
        pd.Series([1.5, 3.0], index=ndcs),
        np.array([[10, 4]]),  # Excel row
        (8, 6),
    )
    assert table.index.equals(ndcs)
    assert list(table.columns) == [
        "actual_spend",
        "budget_spend",
        "price",
        "volume",
        "mix",
        "returns",
        "total_variance",
        "line_status",
    ]
    single = price_volume_mix(82, 80, 7_275, 7_500)
    assert len(single) == 1 and single["price"].iloc[0] == 14_550


# A month of net returns, worked by hand. Budget: A 100 packages at $10, B 50 at $20,
# C 100 at $5 (ΣBQ 250, shares 0.4 / 0.2 / 0.4; budget spend 1,000 + 1,000 + 500 = 2,500).
# Actual: A 110 bought for $1,210 ($11), B 40 for $800 ($20), C a net return of 5 packages
# credited $25 ($5 each), D (no budget) 10 bought at $5 and 10 returned for a $6 credit: net
# 0 packages, spend -$10, no unit price. Actual spend 1,210 + 800 - 25 - 10 = 1,975.
# Lines with a net return or no net packages are bought 0 packages in the split (q = 110, 40,
# 0, 0; Σq 150) and their spend is the returns driver:
#   price   A 1,210 - 10 x 110 = 110; B 800 - 20 x 40 = 0; C, D 0              total   110
#   volume  (150 - 250) x share x BP: A -400, B -400, C -200, D 0              total -1,000
#   mix     (q - 150 x share) x BP: A (110-60)x10 = 500, B (40-30)x20 = 200,
#           C (0-60)x5 = -300, D 0                                            total   400
#   returns C -25, D -10                                                       total   -35
#   total   A 210, B -200, C -525, D -10                                       total  -525
#           = 1,975 - 2,500.
RETURNS_MONTH = {
    "price": [110, 0, 0, 0], "volume": [-400, -400, -200, 0], "mix": [500, 200, -300, 0],
    "returns": [0, 0, -25, -10], "total_variance": [210, -200, -525, -10],
    "line_status": ["continuing", "continuing", "net return", "net return"],
}


def test_purchase_drivers_month_of_net_returns():
    table = purchase_drivers(
        actual_spend=[1_210, 800, -25, -10], budget_spend=[1_000, 1_000, 500, None],
        actual_quantity=[110, 40, -5, 0], budget_quantity=[100, 50, 100, None])
    for column in ("price", "volume", "mix", "returns", "total_variance"):
        np.testing.assert_allclose(table[column], RETURNS_MONTH[column], atol=1e-9,
                                   err_msg=column)
    assert list(table["line_status"]) == RETURNS_MONTH["line_status"]
    np.testing.assert_allclose(table["actual_spend"], [1_210, 800, -25, -10])
    np.testing.assert_allclose(table["budget_spend"], [1_000, 1_000, 500, 0])
    # The credit per package returned is shown; D's net zero packages have no unit price.
    np.testing.assert_allclose(table["actual_price"], [11, 20, 5, np.nan])
    np.testing.assert_allclose(table["budget_price"], [10, 20, 5, np.nan])
    drivers = table[["price", "volume", "mix", "returns"]].sum().sum()
    assert drivers == pytest.approx(1_975 - 2_500)
    assert table["total_variance"].sum() == pytest.approx(-525)


def test_price_volume_mix_net_return_line():
    # Lines A, B, C of the month above, from unit prices (C's $5 is its credit per package).
    table = price_volume_mix([11, 20, 5], [10, 20, 5], [110, 40, -5], [100, 50, 100])
    for column in ("price", "volume", "mix", "returns", "total_variance"):
        np.testing.assert_allclose(table[column], RETURNS_MONTH[column][:3], atol=1e-9,
                                   err_msg=column)
    assert list(table["line_status"]) == RETURNS_MONTH["line_status"][:3]
    np.testing.assert_allclose(table["actual_spend"], [1_210, 800, -25])


def test_price_volume_mix_100k_lines_vectorized():
    rng = np.random.default_rng(2026)
    n = 100_000
    ap, bp = rng.uniform(0.5, 500, n), rng.uniform(0.5, 500, n)
    aq = rng.integers(0, 1_000, n).astype(float)
    bq = rng.integers(0, 1_000, n).astype(float)
    table = price_volume_mix(ap, bp, aq, bq)
    parts = table[["price", "volume", "mix"]].to_numpy().sum(axis=1)
    scale = 1e-9 * (np.abs(table["actual_spend"]).sum() + np.abs(table["budget_spend"]).sum() + 1)
    assert np.abs(parts - table["total_variance"].to_numpy()).max() <= scale


# --- Shape and NaN policy --------------------------------------------------------------------

# Four lines, the second actual and the third budget missing (None in lists, NaN in arrays).
ACTUAL = [120.0, None, 90.0, 100.0]
BUDGET = [100.0, 100.0, None, 0.0]
LINE_TYPE = ["expense", "revenue", "expense", " Revenue "]
LABELS = pd.Index(["cefazolin", "heparin", "insulin", "saline"], name="drug")


def _as(kind, values, dtype=float):
    """``values`` (4 cells) in the input shape ``kind``."""
    if kind == "list":
        return list(values)
    if kind == "ndarray":
        if dtype is float:
            return np.array([np.nan if v is None else v for v in values], dtype=float)
        return np.array(values, dtype=object)
    if kind == "series":
        return pd.Series(values, index=LABELS, dtype=float if dtype is float else object)
    if kind == "column":
        return [[v] for v in values]
    if kind == "table":
        return [list(values[:2]), list(values[2:])]
    raise AssertionError(kind)


SHAPES = {"list": (4,), "ndarray": (4,), "series": (4,), "column": (4, 1), "table": (2, 2)}

# (function, expected per line, fill of a missing line) for ACTUAL / BUDGET / LINE_TYPE.
ELEMENTWISE = {
    "variance": (lambda a, b, t: variance(a, b), [20.0, np.nan, np.nan, 100.0]),
    "variance_pct": (lambda a, b, t: variance_pct(a, b), [0.2, np.nan, np.nan, np.nan]),
    "favorability": (lambda a, b, t: favorability(a, b, t), [U, None, None, F]),
    "is_material": (
        lambda a, b, t: is_material(a, b, amount=10, percent=0.1),
        [True, False, False, True],
    ),
    "flexed_budget": (lambda a, b, t: flexed_budget(b, 10.0, a), [1_200.0, np.nan, np.nan, 0.0]),
}


def _check(result, expected, shape, kind):
    if kind == "series":
        assert isinstance(result, pd.Series)
        assert result.index.equals(LABELS)
        values = result.to_numpy()
    else:
        assert isinstance(result, np.ndarray)
        assert result.shape == shape
        values = result.ravel()
    for got, want in zip(values, expected, strict=True):
        if want is None:
            assert got is None
        elif isinstance(want, float) and math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(want)


@pytest.mark.parametrize("function", list(ELEMENTWISE))
@pytest.mark.parametrize("kind", list(SHAPES))
def test_elementwise_shape_and_nan_policy(function, kind):
    call, expected = ELEMENTWISE[function]
    result = call(_as(kind, ACTUAL), _as(kind, BUDGET), _as(kind, LINE_TYPE, dtype=object))
    _check(result, expected, SHAPES[kind], kind)


@pytest.mark.parametrize("function", list(ELEMENTWISE))
def test_elementwise_scalars_give_python_scalars(function):
    call, expected = ELEMENTWISE[function]
    for a, b, t, want in zip(ACTUAL, BUDGET, LINE_TYPE, expected, strict=True):
        got = call(a, b, t)
        if want is None:
            assert got is None
        elif isinstance(want, bool):
            assert got is want
        elif isinstance(want, str):
            assert got == want and type(got) is str
        else:
            assert type(got) is float
            assert got == pytest.approx(want, nan_ok=True)


def test_nan_in_ndarray_and_series_same_as_none():
    assert math.isnan(variance(np.nan, 1))
    assert math.isnan(variance(pd.Series([np.nan]), 1).iloc[0])
    assert favorability(float("nan"), 1) is None
    assert is_material(None, 1) is False


def test_single_value_is_used_for_every_line():
    np.testing.assert_array_equal(variance([[1, 2], [3, 4]], [[1]]), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(variance([1, 2, 3], [1]), [0, 1, 2])
    np.testing.assert_array_equal(variance([[5]], [1, 2, 3]), [4, 3, 2])  # not a 1 x 3 row
    assert variance([5], [3]).shape == (1,)
    assert list(favorability([1, 2], [2, 1], "REVENUE")) == [U, F]


def test_row_column_and_list_of_same_length_match_by_position():
    row, column = [[1.0, 2.0, 3.0]], [[1.0], [1.0], [1.0]]
    result = variance(row, column)
    np.testing.assert_array_equal(result, [0.0, 1.0, 2.0])  # 3 values, not a 3 x 3 table
    np.testing.assert_array_equal(variance([3, 4], [[1], [1]]), [2, 3])


def test_series_with_scalar_and_list():
    actual = pd.Series([110.0, 90.0], index=["a", "b"])
    result = variance_pct(actual, [100, 100])
    assert result.index.equals(actual.index)
    assert result.tolist() == pytest.approx([0.1, -0.1])
    flags = favorability([1, 2], [2, 1], pd.Series(["revenue", "expense"], index=["x", "y"]))
    assert flags.index.tolist() == ["x", "y"] and flags.tolist() == [U, U]
    assert flags.dtype == object
    assert is_material(actual, 100, amount=0, percent=0).dtype == bool


def test_series_with_different_indexes_raise():
    with pytest.raises(InputError, match="different indexes"):
        variance(pd.Series([1.0, 2.0], index=["a", "b"]), pd.Series([1.0, 2.0], index=["b", "a"]))


def test_flex_variance_shapes():
    one = flex_variance(110, 100, 10, 11)
    assert len(one) == 1 and list(one.index) == [0]
    assert one.iloc[0].tolist() == pytest.approx([110, 10, 0, 10])
    column = flex_variance([[110], [None]], [[100], [100]], 10, [[11], [11]])
    assert column["total_variance"].iloc[0] == 10 and math.isnan(column["total_variance"].iloc[1])
    assert column["volume_variance"].tolist() == pytest.approx([10, 10])
    zero = flex_variance([5, 5], [4, 4], [0, 2], 2)
    assert math.isnan(zero["flexed_budget"].iloc[0]) and zero["total_variance"].iloc[0] == 1
    series = flex_variance(pd.Series([1.0, 2.0], index=["x", "y"]), 1, 1, 1)
    assert series.index.tolist() == ["x", "y"]
    with pytest.raises(InputError, match="single row or column"):
        flex_variance([[1, 2], [3, 4]], 1, 1, 1)


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: variance([1, 2], [1, 2, 3]),
        lambda: variance_pct([1, 2], [[1], [2], [3]]),
        lambda: favorability([1, 2], [1, 2], ["expense"] * 3),
        lambda: is_material([1, 2, 3], [1, 2]),
        lambda: flexed_budget([1, 2], [1, 2, 3], 1),
        lambda: flex_variance([1, 2], [1, 2, 3], 1, 1),
        lambda: price_volume_mix([1, 2], [1, 2], [1, 2], [1, 2, 3]),
        lambda: price_volume_mix(1, [1, 2], [1, 2], [1, 2]),
        lambda: variance(pd.Series([1.0]), [1, 2]),
    ],
)
def test_different_lengths_raise(call):
    with pytest.raises(InputError, match="same number of values"):
        call()


def test_incompatible_2d_shapes_raise():
    with pytest.raises(InputError, match=r"same shape.*actual is 2 x 2, budget is 3 values"):
        variance([[1, 2], [3, 4]], [1, 2, 3])
    with pytest.raises(InputError, match="single row or column"):
        variance(pd.Series([1.0, 2.0, 3.0, 4.0]), [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: variance([1, "ten"], [1, 2]), "actual"),
        (lambda: variance_pct(1, "n/a"), "budget"),
        (lambda: favorability([1, 2], [[1], ["x"]]), "budget"),
        (lambda: is_material(["1,000"], [1]), "actual"),
        (lambda: flexed_budget(1, 1, ["APD"]), "actual_volume"),
        (lambda: flex_variance(1, 1, "ten", 1), "budget_volume"),
        (lambda: price_volume_mix([1, "2.0"], [1, 2], [1, 2], [1, 2]), "actual_price"),
        (lambda: price_volume_mix([1], [1], [True], [1]), "actual_quantity"),
    ],
)
def test_text_in_a_number_range_raises(call, argument):
    with pytest.raises(InputTypeError, match=argument):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: variance([], []),
        lambda: variance_pct([], 1),
        lambda: favorability([], []),
        lambda: favorability(1, 1, []),
        lambda: is_material([], []),
        lambda: flexed_budget(np.array([]), 1, 1),
        lambda: flex_variance([], [], 1, 1),
        lambda: price_volume_mix([], [], [], []),
    ],
)
def test_empty_range_raises(call):
    with pytest.raises(InputError, match="no values given"):
        call()


@pytest.mark.parametrize("blank", ["actual_price", "budget_price", "actual_quantity",
                                   "budget_quantity"])  # fmt: skip
def test_price_volume_mix_all_blank_range_raises(blank):
    arguments = {
        "actual_price": [1.0, 2.0],
        "budget_price": [1.0, 2.0],
        "actual_quantity": [1.0, 2.0],
        "budget_quantity": [1.0, 2.0],
    }
    arguments[blank] = [None, None]
    with pytest.raises(InputError, match=f"{blank}: every value is blank"):
        price_volume_mix(**arguments)


def test_elementwise_all_blank_gives_nan_not_error():
    assert np.isnan(variance([None, None], [1, 2])).all()


@pytest.mark.parametrize(
    "line_type, shown, where",
    [
        ("cost", "'cost'", ""),
        (["expense", "Expenses"], "'Expenses'", " at position 2"),
        (["revenue", None], "the blank cell", " at position 2"),
        ([["expense"], [3]], "3", " at position 2,1"),
        (pd.Series(["expense", "rev"]), "'rev'", " at position 2"),
    ],
)
def test_unknown_line_type_raises(line_type, shown, where):
    with pytest.raises(InputError) as raised:
        favorability([1, 2], [2, 1], line_type)
    message = str(raised.value)
    assert f"line_type: {shown}{where} is not a line type" in message
    assert "'expense'" in message and "'revenue'" in message


def test_negative_budget_quantity_raises():
    # A net return is an actual event; a budget of minus five packages is a typing error.
    arguments = {
        "actual_price": [1.0, 2.0, 3.0],
        "budget_price": [1.0, 2.0, 3.0],
        "actual_quantity": [1.0, 2.0, 3.0],
        "budget_quantity": [1.0, 2.0, -5.0],
    }
    with pytest.raises(InputError, match=r"budget_quantity: -5.0 on line 3 is negative") as e:
        price_volume_mix(**arguments)
    assert "budget" in str(e.value).split("negative")[1]


def test_negative_quantity_names_series_label():
    quantity = pd.Series([1.0, -1.0], index=["00409-4888-02", "00338-0049-04"])
    with pytest.raises(InputError, match=r"line 2 \('00338-0049-04'\)"):
        price_volume_mix([1, 1], [1, 1], [1, 1], quantity)


def test_net_return_needs_its_credit_price():
    with pytest.raises(InputError, match="actual_price: missing on line 2 where actual_quantity"):
        price_volume_mix([1, None], [1, 1], [1, -3], [1, 1])


@pytest.mark.parametrize(
    "arguments, message",
    [
        # (actual_spend, budget_spend, actual_quantity, budget_quantity)
        (([10, 5], [0, 5], [10, 1], [0, 0]), "budget_spend: 5.0 on line 2 has no budget_q"),
        (([10, None], [10, 1], [10, 1], [10, 1]), "actual_spend: missing on line 2 where act"),
        (([10, 1], [10, None], [10, 1], [10, 1]), "budget_spend: missing on line 2 where bud"),
        (([10, 1], [10, 1], [10, 1], [10, -1]), "budget_quantity: -1.0 on line 2 is negative"),
        (([10, 1], [10, 1], [10, 1], [10, 1, 3]), "same number of values"),
    ],
)
def test_purchase_drivers_bad_input_raises(arguments, message):
    with pytest.raises(InputError, match=message):
        purchase_drivers(*arguments)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (([1, None], [1, 1], [1, 1], [1, 1]), "actual_price: missing on line 2 where actual_q"),
        (([1, 1], [None, 1], [1, 1], [1, 1]), "budget_price: missing on line 1 where budget_q"),
        # A discontinued line needs its budget price; a new line its actual price.
        (([1, None], [1, None], [1, 0], [1, 5]), "budget_price: missing on line 2"),
        (([1, None], [1, None], [1, 5], [1, 0]), "actual_price: missing on line 2"),
    ],
)
def test_missing_price_without_substitute_raises(arguments, message):
    with pytest.raises(InputError, match=message):
        price_volume_mix(*arguments)


@pytest.mark.parametrize(
    "amount, percent, argument",
    [(-1, 0.05, "amount"), (10_000, -0.01, "percent"), (None, 0.05, "amount"),
     ([1, 2], 0.05, "amount")],
)  # fmt: skip
def test_bad_materiality_thresholds_raise(amount, percent, argument):
    with pytest.raises(InputError, match=argument):
        is_material(100, 50, amount=amount, percent=percent)


# --- Properties ------------------------------------------------------------------------------

# Bounded like real drug lines: units 0.5 to 10,000, unit prices $0.05 to $5,000. The split
# reconciles to rounding relative to its largest term, and the test's tolerance is relative
# to the spends; the two stay within 1e-9 while the terms stay within about 1e5 times the
# spends, i.e. while BP / AP and ΣAQ / ΣBQ stay below that. (A new line budgeted at $1,639 a
# unit but bought at $0.000000000001 has price and mix terms of ±8 million on a spend of
# $0.000000005; their float sum cannot be checked against a 1e-9 tolerance.)
quantities = st.one_of(st.just(0.0), st.none(), st.floats(min_value=0.5, max_value=1e4))
# Actual quantities may net to a return (the drug_purchases contract allows it).
actual_quantities = st.one_of(quantities, st.floats(min_value=-1e4, max_value=-0.5))
prices = st.floats(min_value=0.05, max_value=5e3)


@st.composite
def basket(draw):
    """Lines of every status, net returns included; prices left blank wherever the documented
    rules allow."""
    n = draw(st.integers(min_value=1, max_value=12))
    no_budget = draw(st.booleans())  # ΣBQ == 0 in about half the baskets
    ap, bp, aq, bq = [], [], [], []
    for _ in range(n):
        actual_quantity = draw(actual_quantities)
        budget_quantity = 0.0 if no_budget else draw(quantities)
        bought = bool(actual_quantity)
        budgeted = bool(budget_quantity)
        actual_price = draw(prices if bought else st.one_of(st.none(), prices))
        budget_price = draw(prices if budgeted else st.one_of(st.none(), prices))
        ap.append(actual_price)
        bp.append(budget_price)
        aq.append(actual_quantity)
        bq.append(budget_quantity)
    # An all-blank range is an error (tested elsewhere); keep one cell filled.
    for column in (ap, bp):
        if all(price is None for price in column):
            column[0] = draw(prices)
    for column in (aq, bq):
        if all(quantity is None for quantity in column):
            column[0] = 0.0
    return ap, bp, aq, bq


@given(basket())
def test_price_volume_mix_reconciles_per_line_and_in_total(lines):
    table = price_volume_mix(*lines)
    spends = table["actual_spend"].abs().sum() + table["budget_spend"].abs().sum()
    tolerance = 1e-9 * (spends + 1)
    parts = table["price"] + table["volume"] + table["mix"] + table["returns"]
    expected = table["actual_spend"] - table["budget_spend"]
    assert (parts - expected).abs().max() <= tolerance
    assert (table["total_variance"] - expected).abs().max() <= tolerance
    total = (table["price"].sum() + table["volume"].sum() + table["mix"].sum()
             + table["returns"].sum())
    assert abs(total - (table["actual_spend"].sum() - table["budget_spend"].sum())) <= tolerance
    assert table[["price", "volume", "mix", "returns"]].notna().all().all()
    aq = np.nan_to_num(np.array(lines[2], dtype=float))
    ap = np.array(lines[0], dtype=float)
    np.testing.assert_allclose(table["actual_spend"], np.where(aq == 0, 0.0, ap * aq))


@given(basket())
def test_price_volume_mix_statuses(lines):
    table = price_volume_mix(*lines)
    aq = np.nan_to_num(np.array(lines[2], dtype=float))
    bq = np.nan_to_num(np.array(lines[3], dtype=float))
    status = table["line_status"].to_numpy()
    assert ((status == "continuing") == ((aq > 0) & (bq > 0))).all()
    assert ((status == "new") == ((aq > 0) & (bq == 0))).all()
    assert ((status == "discontinued") == ((aq == 0) & (bq > 0))).all()
    assert ((status == "inactive") == ((aq == 0) & (bq == 0))).all()
    assert ((status == "net return") == (aq < 0)).all()
    # Only a net return has a returns driver, and it is the line's whole (negative) spend.
    np.testing.assert_array_equal(table["returns"] != 0, aq < 0)
    assert (table.loc[aq < 0, "returns"] == table.loc[aq < 0, "actual_spend"]).all()
    # A line bought without a budget carries no volume variance (its budget share is 0).
    assert (table.loc[status == "new", "volume"] == 0).all()
    if bq.sum() == 0:
        assert (table["volume"] == 0).all()


# Purchase lines as the monthly package sums them: any net quantity, any net spend (a return
# credited at another price than paid leaves spend without packages), budgets >= 0.
spends = st.one_of(st.just(0.0), st.floats(min_value=-5e7, max_value=5e7))


@st.composite
def purchases(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    lines = []
    for _ in range(n):
        aq = draw(st.one_of(st.just(0.0), st.floats(min_value=-1e4, max_value=1e4)))
        bq = draw(st.one_of(st.just(0.0), st.floats(min_value=0.5, max_value=1e4)))
        if aq > 0:
            spend = aq * draw(prices)
        else:
            spend = draw(spends)
        budget = bq * draw(prices) if bq else 0.0
        lines.append((spend, budget, aq, bq))
    return [list(column) for column in zip(*lines, strict=True)]


@given(purchases())
def test_purchase_drivers_reconcile_with_returns(lines):
    table = purchase_drivers(*lines)
    spend, budget, aq, _ = (np.array(column, dtype=float) for column in lines)
    tolerance = 1e-9 * (np.abs(spend).sum() + np.abs(budget).sum() + 1)
    parts = table[["price", "volume", "mix", "returns"]].sum(axis=1)
    assert (parts - (spend - budget)).abs().max() <= tolerance
    assert abs(parts.sum() - (spend.sum() - budget.sum())) <= tolerance
    np.testing.assert_array_equal(table["actual_spend"], spend)
    returned = (aq < 0) | ((aq == 0) & (spend != 0))
    np.testing.assert_array_equal(table["line_status"] == "net return", returned)
    np.testing.assert_array_equal(table["returns"], np.where(aq > 0, 0.0, spend))


amounts = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)
volumes = st.one_of(st.just(0.0), st.floats(min_value=1.0, max_value=1e7))


@given(
    st.lists(st.tuples(amounts, amounts, volumes, volumes), min_size=1, max_size=20),
)
def test_volume_plus_spending_is_total(lines):
    actual, budget, budget_volume, actual_volume = map(list, zip(*lines, strict=True))
    table = flex_variance(actual, budget, budget_volume, actual_volume)
    defined = table["flexed_budget"].notna()
    assert (defined == (np.array(budget_volume) != 0)).all()
    split = (table["volume_variance"] + table["spending_variance"])[defined]
    scale = 1e-9 * (np.abs(actual) + np.abs(budget) + table["flexed_budget"].abs() + 1)
    assert ((split - table["total_variance"][defined]).abs() <= scale[defined]).all()


@given(amounts, amounts)
def test_favorability_flips_between_expense_and_revenue(actual, budget):
    expense = favorability(actual, budget, "expense")
    revenue = favorability(actual, budget, "revenue")
    if actual != budget:
        assert {expense, revenue} == {F, U}
        assert (expense == U) == (actual > budget)
    else:
        assert expense == revenue == F


@given(st.lists(st.tuples(amounts, amounts), min_size=1, max_size=20))
def test_variance_pct_and_materiality_agree_with_variance(lines):
    actual, budget = map(np.array, zip(*lines, strict=True))
    diff = variance(actual, budget)
    np.testing.assert_array_equal(diff, actual - budget)
    pct = variance_pct(actual, budget)
    nonzero = budget != 0
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(pct[nonzero], diff[nonzero] / np.abs(budget[nonzero]))
    assert np.isnan(pct[~nonzero]).all()
    material = is_material(actual, budget)
    assert not (material & (np.abs(diff) < MATERIALITY_AMOUNT)).any()
