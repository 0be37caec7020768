"""Inventory metrics: known values (published examples cited), properties, shapes, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rxxl import udfs
from rxxl.constants import DAYS_IN_YEAR, TURNS_TARGET_HIGH, TURNS_TARGET_LOW
from rxxl.errors import InputError, InputTypeError
from rxxl.inventory import average_inventory, days_on_hand, expired_waste_rate, inventory_turns

# --- Known values -----------------------------------------------------------------------------


def test_ten_turns_is_36_5_days_on_hand():
    # shared/DOMAIN.md §3 and PharmCompliance, "Free Inventory Turnover Ratio Calculator"
    # (https://pharmcompliance.com/post/free-inventory-turnover-ratio-calculator): "You turned
    # over stock 10 times in the last 365 days. Your days on hand is 365/10, or 36.5 days."
    cogs, inventory = 2_500_000, [240_000, 260_000]  # average 250,000 -> 10 turns
    assert inventory_turns(cogs, inventory) == pytest.approx(10.0)
    assert days_on_hand(cogs, inventory) == pytest.approx(36.5)


def test_ptce_prep_published_turnover_example():
    # PTCE Prep (https://ptceprep.com/question/what-will-the-inventory-turnover-rate-be-for-a-
    # pharmacy-if-the-6405332829995008/): $3,000,000 over an inventory of $255,000 is 11.76
    # turns. A single count is its own average.
    assert round(inventory_turns(3_000_000, 255_000), 2) == 11.76
    assert round(inventory_turns(3_000_000, [255_000]), 2) == 11.76


def test_ncpa_digest_median_turns_and_days():
    # Northeast Pharmacy Service Corp., "Inventory Turnover"
    # (https://northeastpharmacy.com/resources/financial-tools/it/), quoting the 2013 NCPA
    # Digest: median 11.1 turns a year, or 33 days of inventory on hand (365 / 11.1 = 32.9).
    cogs, inventory = 11.1 * 100_000, [100_000, 100_000]
    assert inventory_turns(cogs, inventory) == pytest.approx(11.1)
    assert round(days_on_hand(cogs, inventory)) == 33


def test_hospital_benchmark_band():
    # DOMAIN.md §3: hospital pharmacy 10-14 turns is 26-36 days on hand (365/14 = 26.1,
    # 365/10 = 36.5); the hospital average of 10.2 turns is 35.8 days.
    assert DAYS_IN_YEAR / TURNS_TARGET_HIGH == pytest.approx(26.07, abs=0.01)
    assert DAYS_IN_YEAR / TURNS_TARGET_LOW == pytest.approx(36.5)
    assert days_on_hand(10.2 * 1_000, [1_000, 1_000]) == pytest.approx(35.78, abs=0.01)


@pytest.mark.parametrize(
    ("snapshots", "expected", "why"),
    [
        ([240_000, 260_000], 250_000.0, "(beginning + ending) / 2"),
        ([100, 200, 300], 200.0, "three counts"),
        ([120] * 12 + [250], (120 * 12 + 250) / 13, "13 month-ends: a year-end spike weighs 1/13"),
        ([0, 0], 0.0, "empty shelves"),
        (5_000, 5_000.0, "a single count"),
    ],
)
def test_average_inventory_known_values(snapshots, expected, why):
    assert average_inventory(snapshots) == pytest.approx(expected), why


def test_turns_and_days_on_hand_average_every_snapshot():
    # Counts of 100, 400 and 100 average 200, not (first + last) / 2 = 100: a COGS of 2,000 a
    # year over 200 is 10 turns and 36.5 days on hand (20 turns and 18.25 days if the middle
    # count were dropped).
    counts = [100, 400, 100]
    assert average_inventory(counts) == pytest.approx(200.0)
    assert inventory_turns(2_000, counts) == pytest.approx(10.0)
    assert days_on_hand(2_000, counts) == pytest.approx(36.5)
    # Per location (rows), and as Excel hands a range to RX_TURNS / RX_DAYS_ON_HAND.
    np.testing.assert_allclose(inventory_turns([2_000, 900], [[100, 400, 100], [90, 90, 90]]),
                               [10.0, 10.0])
    assert udfs.RX_TURNS(2_000, [[100], [400], [100]]) == pytest.approx(10.0)
    assert udfs.RX_DAYS_ON_HAND(2_000, [[100, 400, 100]]) == pytest.approx(36.5)


def test_quarter_is_annualized():
    # Quarter COGS 600,000 over 91 days is 600,000 x 365/91 = 2,406,593 a year; on an average
    # of 250,000 that is 9.626 turns, and 250,000 x 91 / 600,000 = 37.9 days on hand.
    assert inventory_turns(600_000, [240_000, 260_000], 91) == pytest.approx(
        600_000 * 365 / 91 / 250_000
    )
    assert days_on_hand(600_000, [240_000, 260_000], 91) == pytest.approx(250_000 * 91 / 600_000)
    # A month's COGS x 12-ish equals the year's turns when usage is steady.
    assert inventory_turns(2_500_000 * 30 / 365, [250_000], 30) == pytest.approx(10.0)


def test_zero_divisions_are_nan():
    assert math.isnan(inventory_turns(1_000, [0, 0]))  # no inventory: #DIV/0!
    assert days_on_hand(1_000, [0, 0]) == 0.0  # nothing on hand lasts 0 days
    assert inventory_turns(0, [100, 100]) == 0.0  # no usage: 0 turns
    assert math.isnan(days_on_hand(0, [100, 100]))  # ... and days on hand undefined


@pytest.mark.parametrize(
    ("expired", "purchases", "expected"),
    [
        (12_000, 2_400_000, 0.005),  # 0.5% of purchases
        (0, 100_000, 0.0),
        (500, 0, math.nan),  # no purchases: #DIV/0!
        (None, 100_000, math.nan),
    ],
)
def test_expired_waste_rate_known_values(expired, purchases, expected):
    assert expired_waste_rate(expired, purchases) == pytest.approx(expected, nan_ok=True)


# --- Shape and NaN policy ---------------------------------------------------------------------

ONE_LOCATION = {
    "list": [240_000, 260_000],
    "ndarray": np.array([240_000.0, 260_000.0]),
    "series": pd.Series([240_000, 260_000], index=["2025-12-31", "2026-12-31"]),
    "row": [[240_000, 260_000]],
    "column": [[240_000], [260_000]],
}


@pytest.mark.parametrize("shape", ONE_LOCATION)
def test_a_row_or_column_of_counts_is_one_location(shape):
    snapshots = ONE_LOCATION[shape]
    assert average_inventory(snapshots) == 250_000.0
    got = inventory_turns(2_500_000, snapshots)
    assert isinstance(got, float)
    assert got == pytest.approx(10.0)
    assert days_on_hand(2_500_000, snapshots) == pytest.approx(36.5)


def test_matrix_is_one_row_per_location():
    snapshots = [[240_000, 260_000], [80_000, 100_000], [50_000, 50_000]]
    np.testing.assert_allclose(average_inventory(snapshots), [250_000, 90_000, 50_000])
    cogs = [2_500_000, 900_000, 0]
    np.testing.assert_allclose(inventory_turns(cogs, snapshots), [10.0, 10.0, 0.0])
    np.testing.assert_allclose(days_on_hand(cogs, snapshots), [36.5, 36.5, np.nan])
    # The same with COGS as an Excel column or row.
    np.testing.assert_allclose(inventory_turns([[c] for c in cogs], snapshots), [10, 10, 0])
    np.testing.assert_allclose(inventory_turns([cogs], np.array(snapshots)), [10, 10, 0])


def test_cogs_per_location_with_one_count_each():
    # m COGS beside m counts (a list, a row or a column): one count per location.
    for counts in ([250_000, 90_000], [[250_000], [90_000]], [[250_000, 90_000]]):
        np.testing.assert_allclose(inventory_turns([2_500_000, 900_000], counts), [10, 10])


def test_dataframe_and_series_keep_location_labels():
    frame = pd.DataFrame(
        {"begin": [240_000, 80_000], "end": [260_000, 100_000]}, index=["Main", "Clinic B"]
    )
    averages = average_inventory(frame)
    assert isinstance(averages, pd.Series)
    assert averages.to_dict() == {"Main": 250_000.0, "Clinic B": 90_000.0}
    cogs = pd.Series([2_500_000, 900_000], index=["Main", "Clinic B"])
    turns = inventory_turns(cogs, frame)
    assert isinstance(turns, pd.Series)
    assert turns.index.tolist() == ["Main", "Clinic B"]
    np.testing.assert_allclose(turns, [10, 10])
    # A COGS Series with a plain matrix: the Series' index labels the result.
    doh = days_on_hand(cogs, frame.to_numpy())
    assert doh.index.tolist() == ["Main", "Clinic B"]
    np.testing.assert_allclose(doh, [36.5, 36.5])
    # A plain COGS list with a DataFrame: the DataFrame's index.
    assert inventory_turns([2_500_000, 900_000], frame).index.tolist() == ["Main", "Clinic B"]


def test_misaligned_location_labels_raise():
    frame = pd.DataFrame({"begin": [1, 2], "end": [1, 2]}, index=["Main", "Clinic B"])
    cogs = pd.Series([10, 20], index=["Clinic B", "Main"])
    with pytest.raises(InputError, match="indexes differ"):
        inventory_turns(cogs, frame)


def test_blank_snapshot_makes_that_location_nan():
    snapshots = [[240_000, None], [80_000, 100_000]]
    got = average_inventory(snapshots)
    assert math.isnan(got[0]) and got[1] == 90_000
    turns = inventory_turns([1_000_000, 900_000], snapshots)
    assert math.isnan(turns[0]) and turns[1] == pytest.approx(10)
    assert math.isnan(average_inventory([240_000, np.nan]))


def test_blank_cogs_makes_that_location_nan():
    turns = inventory_turns([None, 900_000], [[1, 1], [80_000, 100_000]])
    assert math.isnan(turns[0]) and turns[1] == pytest.approx(10)


def test_expired_waste_rate_is_element_wise_and_keeps_shape():
    got = expired_waste_rate([12_000, 500, 0], [2_400_000, 0, 50_000])
    np.testing.assert_allclose(got, [0.005, np.nan, 0.0])
    column = expired_waste_rate([[1], [2]], [[4], [8]])
    assert column.shape == (2, 1)
    np.testing.assert_allclose(column, [[0.25], [0.25]])
    series = expired_waste_rate(pd.Series([1, 2], index=["a", "b"]), [4, 8])
    assert isinstance(series, pd.Series) and series.index.tolist() == ["a", "b"]
    assert expired_waste_rate(pd.Series([1.0]), pd.Series([4.0])).tolist() == [0.25]
    assert isinstance(expired_waste_rate(1, 4), float)


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [average_inventory])
def test_empty_and_all_blank_inventory_raise(function):
    with pytest.raises(InputError, match="no values"):
        function([])
    with pytest.raises(InputError, match="every value is blank"):
        function([None, None])


def test_negative_amounts_raise_naming_position():
    with pytest.raises(InputError, match=r"inventory_values: -5.0 at position 2 is negative"):
        average_inventory([10, -5])
    with pytest.raises(InputError, match=r"inventory_values: -5.0 at position 2,1"):
        average_inventory([[10, 20], [-5, 20]])
    with pytest.raises(InputError, match="cogs: -1.0"):
        inventory_turns(-1, [10, 10])
    with pytest.raises(InputError, match="expired_cost"):
        expired_waste_rate(-1, 10)
    with pytest.raises(InputError, match="purchases"):
        expired_waste_rate(1, -10)


def test_text_in_numeric_ranges_raises():
    with pytest.raises(InputTypeError, match="inventory_values: expected a number at position 2"):
        average_inventory([10, "n/a"])
    with pytest.raises(InputTypeError, match="cogs"):
        inventory_turns("1,000", [10, 10])
    with pytest.raises(InputTypeError, match="days_in_period"):
        inventory_turns(1_000, [10, 10], "365")
    with pytest.raises(InputTypeError, match="purchases"):
        expired_waste_rate([1], ["x"])


@pytest.mark.parametrize("days", [0, -30, None, float("nan")])
def test_days_in_period_must_be_positive(days):
    with pytest.raises(InputError, match="days_in_period"):
        inventory_turns(1_000, [10, 10], days)


def test_days_in_period_must_be_one_number():
    with pytest.raises(InputError, match="one number"):
        days_on_hand(1_000, [10, 10], [30, 31])


def test_cogs_and_locations_must_match():
    with pytest.raises(InputError, match="2 row.*cogs has 3"):
        inventory_turns([1, 2, 3], [[10, 10], [20, 20]])
    with pytest.raises(InputError, match="2 row.*cogs has 1"):
        inventory_turns(1, [[10, 10], [20, 20]])
    with pytest.raises(InputError, match="1 row.*cogs has 2"):
        inventory_turns([1, 2], [10, 20, 30])
    with pytest.raises(InputError, match="one value per location"):
        inventory_turns([[1, 2], [3, 4]], [[10, 10], [20, 20]])


def test_expired_and_purchases_shapes_must_match():
    with pytest.raises(InputError, match="same shape"):
        expired_waste_rate([1, 2], [3])
    with pytest.raises(InputError, match="no values"):
        expired_waste_rate([], [])


def test_all_blank_cogs_raise():
    with pytest.raises(InputError, match="cogs: every value is blank"):
        inventory_turns(None, [10, 10])


def test_three_dimensional_inventory_raises():
    with pytest.raises(InputError, match="1-D or 2-D"):
        average_inventory(np.ones((2, 2, 2)))


# --- Properties -------------------------------------------------------------------------------

amounts = st.floats(min_value=0, max_value=1e10, allow_nan=False)
positive = st.floats(min_value=1e-3, max_value=1e10, allow_nan=False)


@given(positive, st.lists(positive, min_size=1, max_size=13), st.integers(1, 366))
def test_turns_times_days_on_hand_is_365(cogs, snapshots, days):
    turns = inventory_turns(cogs, snapshots, days)
    doh = days_on_hand(cogs, snapshots, days)
    assume(math.isfinite(turns) and math.isfinite(doh) and turns > 0)
    assert turns * doh == pytest.approx(DAYS_IN_YEAR, rel=1e-9)


@given(
    st.lists(st.tuples(amounts, amounts, amounts), min_size=2, max_size=8),
    st.integers(1, 366),
)
def test_per_location_equals_one_location_at_a_time(rows, days):
    cogs = [r[0] for r in rows]
    snapshots = [[r[1], r[2]] for r in rows]
    turns = inventory_turns(cogs, snapshots, days)
    doh = days_on_hand(cogs, snapshots, days)
    for i, (c, b, e) in enumerate(rows):
        assert turns[i] == pytest.approx(inventory_turns(c, [b, e], days), nan_ok=True)
        assert doh[i] == pytest.approx(days_on_hand(c, [b, e], days), nan_ok=True)


@given(amounts, amounts)
def test_two_snapshots_average_is_midpoint(beginning, ending):
    assert average_inventory([beginning, ending]) == pytest.approx((beginning + ending) / 2)


@given(st.lists(amounts, min_size=1, max_size=13))
def test_average_lies_between_min_and_max(snapshots):
    average = average_inventory(snapshots)
    assert min(snapshots) * (1 - 1e-12) <= average <= max(snapshots) * (1 + 1e-12)


@given(st.lists(st.tuples(amounts, amounts), min_size=1, max_size=20))
def test_waste_rate_is_a_ratio_of_its_inputs(pairs):
    expired = [p[0] for p in pairs]
    purchases = [p[1] for p in pairs]
    got = expired_waste_rate(expired, purchases)
    for rate, x, y in zip(got, expired, purchases, strict=True):
        if y == 0:
            assert math.isnan(rate)
        else:
            assert rate == pytest.approx(x / y)
