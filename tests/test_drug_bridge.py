"""The drug-spend variance bridge (rxxl.drug_bridge).

Known values are small tables worked by hand in the comments; property tests check the
exact identity (the eight drivers sum to actual - budget spend) on random months.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl.drug_bridge import (
    DRIVERS,
    LINE_STATUSES,
    bridge_totals,
    drug_bridge,
    largest_drivers,
    variance_by,
)
from rxxl.errors import InputError, InputTypeError


def bridge(lines, **options):
    """drug_bridge from rows (drug, location, account, AQ, A, BQ, B)."""
    columns = list(zip(*lines, strict=True))
    return drug_bridge(*columns, **options)


def drivers_of(table, row):
    return {name: table.loc[row, name] for name in DRIVERS}


def assert_drivers(table, row, **expected):
    """Every driver of the row is as expected (the ones not named are 0)."""
    got = drivers_of(table, row)
    want = {name: expected.get(name, 0.0) for name in DRIVERS}
    assert got == pytest.approx(want, abs=1e-9), (row, got)


def assert_adds_up(table):
    parts = table[list(DRIVERS)].sum(axis=1).to_numpy()
    assert np.allclose(parts, table["total_variance"].to_numpy(), rtol=1e-12, atol=1e-9)


# --- known values, one driver at a time ---------------------------------------------------------


def test_forward_buy_is_inventory_timing_spread_over_the_locations_purchases():
    # Outpatient pharmacy, stock up $2,000 over the month; purchases P = 3,000 + 1,000 = 4,000.
    #   A (340B): bought 30 for $3,000 ($100 each), budget 20 at $90 = $1,800.
    #     timing = 2,000 x 3,000 / 4,000 = 1,500; consumed $1,500 = 15 packages.
    #     utilization = (15 - 20) x $90 = -450; price = 1,500 - 15 x 90 = 150.
    #     check: 1,500 - 450 + 150 = 1,200 = 3,000 - 1,800.
    #   B (GPO): bought 10 for $1,000, budget 10 at $100.
    #     timing = 2,000 x 1,000 / 4,000 = 500; consumed $500 = 5 packages.
    #     utilization = (5 - 10) x 100 = -500; price = 500 - 5 x 100 = 0. Total 0.
    table = bridge([("A", "OP", "340B", 30, 3_000, 20, 1_800),
                    ("B", "OP", "GPO", 10, 1_000, 10, 1_000)],
                   inventory_change={"OP": 2_000})
    assert_drivers(table, 0, inventory_timing=1_500, utilization=-450, price=150)
    assert_drivers(table, 1, inventory_timing=500, utilization=-500)
    assert table["consumed_quantity"].tolist() == [15.0, 5.0]
    assert table["line_status"].tolist() == ["continuing", "continuing"]
    assert table.attrs["inventory_change_not_attributed"] == {}
    assert_adds_up(table)


def test_a_draw_down_adds_consumption_and_stock_without_purchases_is_recorded_not_spread():
    # OP: stock down $500 (T = -500), one purchase of 10 for $1,000 ($100 each), budget 15
    #   at $100 = $1,500. Consumed 1,000 + 500 = $1,500 = 15 packages: timing -500, on budget
    #   otherwise (utilization (15 - 15) x 100 = 0, price 1,500 - 15 x 100 = 0).
    # Clinic: stock down $300, nothing bought: no purchase to time; the $300 is recorded.
    #   Its budgeted drug (4 at $25 = $100) is discontinued: -100.
    # East: in inventory_change but no line at all: recorded too.
    table = bridge([("A", "OP", "GPO", 10, 1_000, 15, 1_500),
                    ("C", "clinic", "GPO", 0, None, 4, 100)],
                   inventory_change={"OP": -500, "clinic": -300, "east": 40, "west": 0})
    assert_drivers(table, 0, inventory_timing=-500)
    assert_drivers(table, 1, discontinued_drug=-100)
    assert table.attrs["inventory_change_not_attributed"] == {"clinic": -300.0, "east": 40.0}
    assert_adds_up(table)


def test_net_returns_are_their_own_driver_even_credited_at_another_price():
    # R: 10 bought at $5 and returned for a $6 credit each: packages net 0, spend -$10.
    #   Not budgeted: returns -10, nothing else.
    # Q: 4 packages returned for $50 each (-$200), budget 10 at $45 = $450.
    #   The drug consumed nothing at this location: discontinued -450; returns -200.
    #   Check: -200 - 450 = -650 = -200 - 450.
    # S: 340B bought 20 for $2,000 on budget (20 at $100); GPO returned 2 for $150 each.
    #   The GPO line: returns -300; its budget share is 0, so no mix; 340B all zero.
    table = bridge([("R", "main", "GPO", 0, -10, 0, 0),
                    ("Q", "main", "GPO", -4, -200, 10, 450),
                    ("S", "main", "340B", 20, 2_000, 20, 2_000),
                    ("S", "main", "GPO", -2, -300, None, None)])
    assert_drivers(table, 0, returns=-10)
    assert_drivers(table, 1, returns=-200, discontinued_drug=-450)
    assert_drivers(table, 2)
    assert_drivers(table, 3, returns=-300)
    assert table["line_status"].tolist() == ["net return", "net return", "continuing",
                                             "net return"]
    assert table["consumed_quantity"].tolist() == [0.0, 0.0, 20.0, 0.0]
    assert_adds_up(table)


def test_new_drug_including_one_budgeted_only_at_another_location():
    # N: bought 4 on WAC for $2,000 at OP, never budgeted: new_drug 2,000.
    # M: budgeted and bought on budget at main (10 at $10); OP also bought 5 for $50 with
    #    nothing budgeted there: new at OP (+50), not account mix or utilization.
    table = bridge([("N", "OP", "WAC", 4, 2_000, 0, 0),
                    ("M", "main", "GPO", 10, 100, 10, 100),
                    ("M", "OP", "GPO", 5, 50, 0, 0)])
    assert_drivers(table, 0, new_drug=2_000)
    assert_drivers(table, 1)
    assert_drivers(table, 2, new_drug=50)
    assert table["line_status"].tolist() == ["new", "continuing", "new"]
    assert_adds_up(table)


def test_discontinued_drug_gives_back_its_budget():
    # D: budget 8 at $50 = $400, nothing bought (spend blank): discontinued -400.
    table = bridge([("D", "main", "GPO", None, None, 8, 400), ("E", "main", "GPO", 0, 0, 0, 0)])
    assert_drivers(table, 0, discontinued_drug=-400)
    assert table.loc[0, "line_status"] == "discontinued"
    assert table.loc[0, "actual_spend"] == 0.0
    assert table.loc[1, "line_status"] == "not bought"


def test_workload_up_with_utilization_down_and_a_location_without_workload():
    # ICU: 1,000 budgeted adjusted patient days, 1,100 actual: r = 1.1.
    #   H: budget 100 at $10 = $1,000; bought 105 at $10 = $1,050.
    #   workload_volume = 1,000 x (1.1 - 1) = 100 (flexed quantity 100 x 1.1 = 110);
    #   utilization = (105 - 110) x $10 = -50; price = 1,050 - 105 x 10 = 0.
    #   Check: 100 - 50 = 50 = 1,050 - 1,000.
    # Clinic: no workload given: ratio 1. H: budget 10 at $10, bought 12 at $10:
    #   utilization (12 - 10) x 10 = 20, no workload driver.
    table = bridge([("H", "ICU", "GPO", 105, 1_050, 100, 1_000),
                    ("H", "clinic", "GPO", 12, 120, 10, 100)],
                   budget_workload=[1_000, None], actual_workload=[1_100, None])
    assert_drivers(table, 0, workload_volume=100, utilization=-50)
    assert_drivers(table, 1, utilization=20)
    assert_adds_up(table)


def test_wac_instead_of_340b_without_a_wac_budget_anywhere_is_all_account_mix():
    # K at OP: 340B budget 10 at $30 = $300; bought 4 on 340B ($120) and 6 on WAC ($600,
    # $100 each). Consumed 10 as budgeted: utilization (10 - 10) x 30 = 0.
    #   340B: mix = (4 - 10 x 1) x 30 = -180; price = 120 - 4 x 30 = 0.
    #   WAC: no WAC budget price anywhere: valued at its own $100: mix = 6 x 100 - 0 = 600,
    #        price 0. Check: -180 + 600 = 420 = 720 - 300.
    table = bridge([("K", "OP", "340B", 4, 120, 10, 300),
                    ("K", "OP", "WAC", 6, 600, 0, 0)])
    assert_drivers(table, 0, account_mix=-180)
    assert_drivers(table, 1, account_mix=600)
    assert table.loc[1, "price"] == 0.0  # exactly: not a rounding residue
    assert table["line_status"].tolist() == ["continuing", "continuing"]


def test_wac_instead_of_340b_valued_at_the_wac_budget_price_of_the_other_locations():
    # As above, with WAC budgets for K elsewhere: main 5 at $90 ($450), east 15 at $110
    # ($1,650), both bought on budget. WAC budget price = (450 + 1,650) / (5 + 15) = $105
    # (not the mean of the prices, $100).
    #   OP WAC: mix = 6 x 105 = 630; price = 600 - 630 = -30.
    #   OP 340B: mix -180 as before. Check: 630 - 30 - 180 = 420.
    table = bridge([("K", "OP", "340B", 4, 120, 10, 300),
                    ("K", "OP", "WAC", 6, 600, 0, 0),
                    ("K", "main", "WAC", 5, 450, 5, 450),
                    ("K", "east", "WAC", 15, 1_650, 15, 1_650)])
    assert_drivers(table, 0, account_mix=-180)
    assert_drivers(table, 1, account_mix=630, price=-30)
    assert_drivers(table, 2)
    assert_drivers(table, 3)
    assert_adds_up(table)


def test_pure_price_rise():
    # P: 10 budgeted at $100, 10 bought at $136 (a 36% shortage price): price 360.
    table = bridge([("P", "main", "GPO", 10, 1_360, 10, 1_000)])
    assert_drivers(table, 0, price=360)


def test_a_line_exactly_on_budget_with_flat_workload_has_every_driver_zero():
    table = bridge([("E", "main", "340B", 10, 1_000, 10, 1_000)],
                   budget_workload=[500], actual_workload=[500])
    values = table.loc[0, list(DRIVERS)].tolist()
    assert values == [0.0] * 8
    assert all(math.copysign(1, v) == 1 for v in values)  # no "-0" in a report


def test_output_columns_order_and_series_index():
    ids = pd.Index(["g1", "g2"])
    table = drug_bridge(pd.Series(["A", "B"], index=ids), ["OP", "OP"], ["GPO", "GPO"],
                        [1, 2], [10, 20], [1, 2], [10, 20])
    assert list(table.columns) == [
        "drug", "location", "account", "budget_quantity", "actual_quantity",
        "consumed_quantity", "budget_spend", "actual_spend", *DRIVERS, "total_variance",
        "line_status"]
    assert table.index.equals(ids)


def test_codes_are_trimmed_and_whole_numbers_read_as_their_digits():
    # " A " and "A" are one drug; cost center 7010 typed as a number and as text are one.
    table = drug_bridge([" A ", "A"], [7010, "7010"], ["340B", "WAC"], [1, 1], [10, 10],
                        [2, 0], [20, 0])
    assert table["drug"].tolist() == ["A", "A"]
    assert table["location"].tolist() == ["7010", "7010"]
    assert table.loc[0, "utilization"] == 0.0  # consumed 2 as budgeted, across accounts


# --- totals and largest drivers -------------------------------------------------------------------


def test_bridge_totals_walk_from_budget_to_actual():
    table = bridge([("A", "OP", "340B", 30, 3_000, 20, 1_800),
                    ("B", "OP", "GPO", 10, 1_000, 10, 1_000),
                    ("P", "main", "GPO", 10, 1_360, 10, 1_000)],
                   inventory_change={"OP": 2_000})
    totals = bridge_totals(table)
    # From the first test: timing 1,500 + 500; utilization -450 - 500; price 150 + 360.
    assert totals.to_dict() == pytest.approx({
        "budget": 3_800, "inventory_timing": 2_000, "returns": 0, "new_drug": 0,
        "discontinued_drug": 0, "workload_volume": 0, "utilization": -950, "account_mix": 0,
        "price": 510, "actual": 5_360})


def test_largest_drivers_at_their_natural_grain():
    # Timing by location (OP 2,000); utilization by drug (A -450, B -500); price by drug
    # (A 150, P 360); mix by drug x location, naming the accounts (K at east: WAC +600,
    # 340B -180, net 420). Sorted by size: 2,000, 500, 450, 420, 360, 150.
    table = bridge([("A", "OP", "340B", 30, 3_000, 20, 1_800),
                    ("B", "OP", "GPO", 10, 1_000, 10, 1_000),
                    ("P", "main", "GPO", 10, 1_360, 10, 1_000),
                    ("K", "east", "340B", 4, 120, 10, 300),
                    ("K", "east", "WAC", 6, 600, 0, 0)],
                   inventory_change={"OP": 2_000})
    top = largest_drivers(table, n=None)
    # Total variance: 1,200 + 0 + 360 + 420 = 1,980.
    expected = [
        ("inventory_timing", None, "OP", None, 2_000.0),
        ("utilization", "B", None, None, -500.0),
        ("utilization", "A", None, None, -450.0),
        ("account_mix", "K", "east", "WAC, 340B", 420.0),
        ("price", "P", None, None, 360.0),
        ("price", "A", None, None, 150.0),
    ]
    got = list(top[["driver", "drug", "location", "accounts", "amount"]]
               .itertuples(index=False, name=None))
    assert got == expected
    assert top["share_of_variance"].tolist() == pytest.approx([a / 1_980 for *_, a in expected])
    assert len(largest_drivers(table, n=2)) == 2


def test_largest_drivers_of_a_month_on_budget_is_empty():
    table = bridge([("E", "main", "340B", 10, 1_000, 10, 1_000)])
    top = largest_drivers(table)
    assert top.empty and list(top.columns) == ["driver", "drug", "location", "accounts",
                                               "gained", "lost", "amount", "share_of_variance"]


# --- errors -------------------------------------------------------------------------------------

GOOD = [("A", "OP", "340B", 10, 100, 10, 100), ("B", "OP", "GPO", 5, 50, 5, 50)]


def call(rows=GOOD, **options):
    if len(rows) == 1:  # a second, good line: no column is then blank throughout
        rows = [*rows, ("Z", "OP", "GPO", 1, 1, 1, 1)]
    return bridge(rows, **options)


@pytest.mark.parametrize("rows, options, words", [
    ([("A", "OP", "340B", 1, 10, 1, 10), ("A", "OP", "340B", 2, 20, 2, 20)], {},
     ["line 1 and line 2", "sum them first"]),
    ([("A", "OP", "340B", 1, 10, 1, 10), ("B", "OP", "GPO", 1, 10, 1, 10)],
     {"budget_workload": [100, 90], "actual_workload": [100, 100]},
     ["budget_workload", "line 2", "line 1", "'OP'", "same value"]),
    (GOOD, {"budget_workload": [100, 100], "actual_workload": [None, None]},
     ["line 1", "both workloads", "or neither"]),
    (GOOD, {"budget_workload": [0, 0], "actual_workload": [10, 10]},
     ["budget_workload", "line 1", "enter the budgeted workload"]),
    (GOOD, {"budget_workload": [-1, -1], "actual_workload": [10, 10]},
     ["budget_workload", "line 1", "negative"]),
    ([("A", "OP", "340B", 10, -100, 10, 100)], {}, ["actual_spend", "line 1", "sign"]),
    ([("A", "OP", "340B", 10, 100, 0, 100)], {},
     ["budget_spend", "line 1", "enter the budgeted quantity"]),
    ([("A", "OP", "340B", 10, 100, None, 100)], {}, ["budget_spend", "budget_quantity"]),
    ([("A", "OP", "340B", 10, None, 10, 100)], {}, ["actual_spend", "line 1", "enter what"]),
    ([("A", "OP", "340B", -3, None, 10, 100)], {}, ["actual_spend", "line 1"]),
    ([("A", "OP", "340B", 10, 100, 10, None)], {}, ["budget_spend", "line 1", "blank"]),
    ([("A", "OP", "340B", 10, 100, -10, 100)], {}, ["budget_quantity", "negative"]),
    ([("A", "OP", "340B", 10, 100, 10, -100)], {}, ["budget_spend", "negative"]),
    ([("A", " ", "340B", 10, 100, 10, 100)], {}, ["location", "line 1", "blank"]),
    ([("A", "OP", None, 10, 100, 10, 100)], {}, ["account", "line 1", "blank"]),
    ([(12.5, "OP", "GPO", 10, 100, 10, 100)], {}, ["drug", "line 1", "not a code"]),
    ([(True, "OP", "GPO", 10, 100, 10, 100)], {}, ["drug", "line 1", "not a code"]),
    ([("A", "OP", "GPO", 2e9, 100, 10, 100)], {}, ["actual_quantity", "line 1", "beyond"]),
    ([("A", "OP", "GPO", 1, 2e11, 10, 100)], {}, ["actual_spend", "line 1", "beyond"]),
    (GOOD, {"inventory_change": {"OP": None}}, ["inventory_change", "'OP'", "enter 0"]),
    (GOOD, {"inventory_change": [["OP", 1], ["OP", 2]]},
     ["inventory_change", "'OP'", "more than once"]),
    (GOOD, {"inventory_change": [["OP", 1, 2]]}, ["inventory_change", "2-column"]),
    (GOOD, {"inventory_change": [[None, 5]]}, ["inventory_change", "row 1", "blank"]),
    (GOOD, {"budget_workload": [1, 1, 1], "actual_workload": [1, 1, 1]},
     ["same number of values"]),
])
def test_bad_input_raises_naming_the_line_and_the_fix(rows, options, words):
    with pytest.raises(InputError) as caught:
        call(rows, **options)
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


def test_shape_and_type_errors():
    with pytest.raises(InputError, match="same number of values"):
        drug_bridge(["A", "B"], ["OP"], ["GPO"], [1], [1], [1], [1])
    with pytest.raises(InputError, match="every value is blank"):
        drug_bridge(["A"], ["OP"], ["GPO"], [None], [1], [1], [1])
    with pytest.raises(InputTypeError, match="actual_spend"):
        drug_bridge(["A"], ["OP"], ["GPO"], [1], ["ten"], [1], [1])
    with pytest.raises(InputError, match="different indexes"):
        drug_bridge(pd.Series(["A"], index=[1]), pd.Series(["OP"], index=[2]), ["GPO"],
                    [1], [1], [1], [1])
    with pytest.raises(InputError, match="bridge"):
        bridge_totals(pd.DataFrame({"x": [1]}))
    with pytest.raises(InputError, match="n:"):
        largest_drivers(call(), n=-1)


def test_inventory_change_as_dict_series_or_range_agree():
    forms = [{"OP": 30.0}, pd.Series({"OP": 30.0}), [["OP", 30.0], [None, None]],
             pd.DataFrame({"location": ["OP"], "change": [30.0]})]
    tables = [call(inventory_change=form) for form in forms]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])
    # 30 spread over purchases of 100 and 50: 20 and 10.
    assert tables[0]["inventory_timing"].tolist() == [20.0, 10.0]


def test_error_messages_do_not_quote_spend_values():
    # Amounts are the organization's, but a message names lines and arguments, not figures.
    with pytest.raises(InputError) as caught:
        call([("A", "OP", "340B", 10, -123.45, 10, 100)])
    assert "123.45" not in str(caught.value)


# --- the identity on random months (hypothesis) ------------------------------------------------

DRUGS, PLACES, ACCOUNTS = ["A", "B", "C"], ["OP", "ICU", "clinic"], ["340B", "GPO", "WAC"]


@st.composite
def months(draw):
    keys = draw(st.lists(st.tuples(st.sampled_from(DRUGS), st.sampled_from(PLACES),
                                   st.sampled_from(ACCOUNTS)),
                         min_size=1, max_size=14, unique=True))
    lines = []
    for key in keys:
        kind = draw(st.sampled_from(["buy", "return", "credit", "none"]))
        price = draw(st.floats(0, 5_000, allow_nan=False))
        if kind == "buy":
            aq = draw(st.integers(1, 50))
            a = aq * price
        elif kind == "return":
            aq = draw(st.integers(-20, -1))
            a = aq * price
        elif kind == "credit":  # returned at another price: packages net 0, money not
            aq, a = 0, draw(st.floats(-10_000, 10_000, allow_nan=False))
        else:
            aq, a = 0, None
        bq = draw(st.sampled_from([0, 0, 1, 5, 20, 37]))
        b = bq * draw(st.floats(0, 5_000, allow_nan=False)) if bq else None
        lines.append((*key, aq, a, bq, b))
    # A range with every value blank is refused (a wrong selection): keep a 0 in each.
    first = lines[0]
    lines[0] = (*first[:4], 0 if first[4] is None else first[4], first[5],
                0 if first[6] is None else first[6])
    workload = {place: draw(st.one_of(st.none(), st.tuples(st.floats(1, 1e5), st.floats(0, 1e5))))
                for place in PLACES}
    change = draw(st.dictionaries(st.sampled_from(PLACES + ["elsewhere"]),
                                  st.floats(-1e6, 1e6, allow_nan=False), max_size=4))
    return lines, workload, change


@settings(max_examples=300, deadline=None)
@given(months())
def test_drivers_sum_exactly_to_actual_minus_budget(month):
    lines, workload, change = month
    places = [line[1] for line in lines]
    budget_w = [workload[p][0] if workload[p] else None for p in places]
    actual_w = [workload[p][1] if workload[p] else None for p in places]
    table = bridge(lines, budget_workload=budget_w, actual_workload=actual_w,
                   inventory_change=change)
    parts = table[list(DRIVERS)].to_numpy()
    variance = table["total_variance"].to_numpy()
    assert np.isfinite(parts).all() and np.isfinite(table["consumed_quantity"]).all()
    scale = 1.0 + np.abs(parts).max() + np.abs(table[["actual_spend", "budget_spend"]]
                                               .to_numpy()).max()
    assert np.allclose(parts.sum(axis=1), variance, rtol=0, atol=1e-12 * scale * 8)
    assert math.isclose(parts.sum(), variance.sum(), rel_tol=0, abs_tol=1e-12 * scale * 64)
    totals = bridge_totals(table)
    assert math.isclose(totals["budget"] + totals[list(DRIVERS)].sum(), totals["actual"],
                        rel_tol=0, abs_tol=1e-12 * scale * 64)
    assert set(table["line_status"]) <= set(LINE_STATUSES)
    # Timing spread at a location adds up to its stock change, or is recorded as not spread.
    unspread = table.attrs["inventory_change_not_attributed"]
    for place, amount in change.items():
        timed = table.loc[table["location"] == place, "inventory_timing"].sum()
        if place in unspread:
            assert timed == 0 and unspread[place] == amount
        else:
            assert math.isclose(timed, amount, rel_tol=1e-9, abs_tol=1e-6)
    # Every dollar of the variance lands somewhere in the largest-drivers list.
    listed = largest_drivers(table, n=None)
    assert math.isclose(listed["amount"].sum(), variance.sum(), rel_tol=1e-9,
                        abs_tol=0.005 * 8 * len(table) + 1e-9 * scale)


# --- the worked example of docs/drug-bridge.md ------------------------------------------------

DOC_MONTH = [
    ("ABC", "Outpatient", "340B", 30, 3_000, 20, 1_800),
    ("ABC", "Infusion", "340B", 0, 0, 10, 900),
    ("ABC", "Infusion", "WAC", 10, 1_500, 0, 0),
    ("ABC", "Main", "WAC", 5, 700, 5, 700),
    ("Heparin", "Main", "GPO", 105, 1_050, 100, 1_000),
    ("NEW", "Main", "GPO", 2, 800, 0, 0),
    ("OLD", "Main", "GPO", 0, 0, 4, 200),
    ("RET", "Main", "GPO", -3, -150, 0, 0),
]


def test_the_worked_example_in_the_docs():
    places = [line[1] for line in DOC_MONTH]
    workload = [1_000 if p == "Main" else None for p in places]
    actual = [1_100 if p == "Main" else None for p in places]
    table = bridge(DOC_MONTH, budget_workload=workload, actual_workload=actual,
                   inventory_change={"Outpatient": 1_000})
    # The per-line arithmetic is written out in docs/drug-bridge.md, "Worked example".
    assert_drivers(table, 0, inventory_timing=1_000, price=200)
    assert_drivers(table, 1, account_mix=-900)
    assert_drivers(table, 2, account_mix=1_400, price=100)
    assert_drivers(table, 3, workload_volume=70, utilization=-70)
    assert_drivers(table, 4, workload_volume=100, utilization=-50)
    assert_drivers(table, 5, new_drug=800)
    assert_drivers(table, 6, discontinued_drug=-200)
    assert_drivers(table, 7, returns=-150)
    assert bridge_totals(table).to_dict() == pytest.approx({
        "budget": 4_600, "inventory_timing": 1_000, "returns": -150, "new_drug": 800,
        "discontinued_drug": -200, "workload_volume": 170, "utilization": -120,
        "account_mix": 500, "price": 300, "actual": 6_900})
    top = largest_drivers(table)
    assert list(top[["driver", "drug", "location", "accounts"]].itertuples(
        index=False, name=None)) == [
        ("inventory_timing", None, "Outpatient", None), ("new_drug", "NEW", None, None),
        ("account_mix", "ABC", "Infusion", "WAC, 340B"), ("price", "ABC", None, None),
        ("discontinued_drug", "OLD", None, None), ("workload_volume", None, "Main", None),
        ("returns", "RET", None, None), ("utilization", "ABC", None, None)]
    assert top["amount"].tolist() == pytest.approx(
        [1_000, 800, 500, 300, -200, 170, -150, -70])
    assert top.loc[0, "share_of_variance"] == pytest.approx(1_000 / 2_300)


def test_variance_by_location_and_by_drug_with_the_main_driver():
    """By hand: X at main 10 units $100 -> 12 units $132 (utilization +20 at $10, price +12
    at $1 more on 12); Y at main $100 -> $150 on 10 units (price +50); X at clinic $100 ->
    $90 on 10 units (price -10). Total variance +72."""
    table = drug_bridge(["X", "Y", "X"], ["main", "main", "clinic"], ["GPO"] * 3,
                        actual_quantity=[12, 10, 10], actual_spend=[132, 150, 90],
                        budget_quantity=[10, 10, 10], budget_spend=[100, 100, 100])
    locations = variance_by(table, "location")
    assert locations["location"].tolist() == ["main", "clinic"]
    assert locations["amount"].tolist() == [82, -10]
    assert locations["share_of_variance"].tolist() == pytest.approx([82 / 72, -10 / 72])
    assert locations["main_driver"].tolist() == ["price", "price"]
    assert locations["main_amount"].tolist() == [62, -10]
    drugs = variance_by(table, "drug")
    assert drugs["drug"].tolist() == ["Y", "X"]
    assert drugs["amount"].tolist() == [50, 22]
    assert drugs["main_driver"].tolist() == ["price", "utilization"]
    assert drugs["main_amount"].tolist() == [50, 20]
    assert len(variance_by(table, "drug", n=1)) == 1


def test_variance_by_a_place_that_did_not_move_names_no_driver():
    table = drug_bridge(["X", "Y"], ["main", "clinic"], ["GPO", "GPO"], actual_quantity=[10, 10],
                        actual_spend=[100, 120], budget_quantity=[10, 10],
                        budget_spend=[100, 100])
    still = variance_by(table, "location").set_index("location").loc["main"]
    assert still["amount"] == 0 and pd.isna(still["main_driver"])
    assert np.isnan(still["main_amount"])
    with pytest.raises(InputError, match="expected 'location' or 'drug'"):
        variance_by(table, "account")
