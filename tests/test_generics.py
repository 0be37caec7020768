"""Generic dispensing metrics: known values, properties, shapes and bad input.

Known values are hand-computed from the definitions in shared/DOMAIN.md §2 (the arithmetic
is in the comments) plus one published figure set (JMCP 2010).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxxl.constants import GDR_BENCHMARK
from rxxl.errors import InputError, InputTypeError
from rxxl.generics import (
    biosimilar_rate,
    classify,
    generic_dispensing_rate,
    generic_efficiency_rate,
    generic_switch_opportunity,
    thirty_day_equivalents,
)

FDA_ALL = [
    "ANDA",
    "NDA AUTHORIZED GENERIC",
    "NDA",
    "BLA",
    "BIOSIMILAR",
    "OTC MONOGRAPH FINAL",
    "UNAPPROVED DRUG OTHER",
]


# --- Known values -----------------------------------------------------------------------------

# MONY codes [resdac.org]: M, N, O brand; Y generic.
MONY_TABLE = [
    # codes, weights, expected GDR, arithmetic
    (["Y"] * 9 + ["N"], None, 0.9, "9 / 10: the AAM/IQVIA ~90% benchmark"),
    (["Y", "Y", "N", "M", "O"], None, 0.4, "2 generic / 5"),
    (["Y", "N", "O"], [3, 1, 2], 0.5, "3 / (3 + 1 + 2) in 30-day equivalents"),
    (["N", "M", "O"], None, 0.0, "no generic at all"),
    (["Y", "Y"], None, 1.0, "all generic"),
    (["Y", "N"], [0, 0], math.nan, "no weight at all: #DIV/0!"),
]


@pytest.mark.parametrize(("codes", "weights", "expected", "why"), MONY_TABLE)
def test_gdr_mony_known_values(codes, weights, expected, why):
    assert generic_dispensing_rate(codes, weights) == pytest.approx(expected, nan_ok=True), why


# FDA marketing categories, one claim of each (see FDA_ALL): generics ANDA + NDA AG = 2,
# brands NDA + BLA = 2, biosimilar 1, other (OTC monograph, unapproved) 2.
FDA_TABLE = [
    ({}, 2 / 5, "biosimilar counts as brand: 2 / (2 + 2 + 1)"),
    ({"biosimilar_as": "exclude"}, 2 / 4, "2 / (2 + 2)"),
    ({"biosimilar_as": "generic"}, 3 / 5, "(2 + 1) / 5"),
    ({"other_as": "brand"}, 2 / 7, "2 / (2 + 2 + 1 + 2)"),
    ({"other_as": "generic"}, 4 / 7, "(2 + 2) / 7"),
    ({"other_as": "generic", "biosimilar_as": "exclude"}, 4 / 6, "(2 + 2) / (4 + 2)"),
]


@pytest.mark.parametrize(("options", "expected", "why"), FDA_TABLE)
def test_gdr_fda_known_values(options, expected, why):
    assert generic_dispensing_rate(FDA_ALL, **options) == pytest.approx(expected), why


def test_gdr_fda_weighted_by_days_supply():
    # ANDA 90 days = 3 equivalents, NDA 30 days = 1, BLA 60 days = 2: 3 / 6.
    weights = thirty_day_equivalents([90, 30, 60])
    assert generic_dispensing_rate(["ANDA", "NDA", "BLA"], weights) == pytest.approx(0.5)


def test_gdr_jmcp_2010_pooled_claims():
    # Liberman & Roebuck, J Manag Care Pharm 2010;16(7):502 (PMC10437543): in 2007 Q1 the mean
    # plan had 2.01 generic and 1.76 brand claims per member per quarter (30-day equivalents).
    # Pooled, that is 2.01 / 3.77 = 53.3%; the paper's "mean GDR per plan" of 53.9% is an
    # average of per-plan ratios, which a pooled rate is not expected to reproduce.
    q1_2007 = generic_dispensing_rate(["Y", "N"], [2.01, 1.76])
    assert q1_2007 == pytest.approx(2.01 / 3.77)
    assert round(q1_2007, 3) == 0.533
    # 2009 Q4: 2.38 generic, 1.39 brand -> 63.1% pooled (paper: 63.7% mean per plan).
    assert round(generic_dispensing_rate(["Y", "N"], [2.38, 1.39]), 3) == 0.631


def test_gdr_benchmark_constant_matches_nine_in_ten():
    assert generic_dispensing_rate(["Y"] * 9 + ["O"]) == pytest.approx(GDR_BENCHMARK)


@pytest.mark.parametrize(
    ("codes", "weights", "expected"),
    [
        (["Y", "Y", "Y", "O", "N", "N"], None, 0.75),  # 3 Y / (3 Y + 1 O); N has no generic
        (["Y", "O", "M"], [1, 3, 10], 0.25),  # 1 / (1 + 3); M ignored
        (["N", "M"], None, math.nan),  # no multi-source claims
        (["O", "O"], None, 0.0),
    ],
)
def test_generic_efficiency_known_values(codes, weights, expected):
    assert generic_efficiency_rate(codes, weights) == pytest.approx(expected, nan_ok=True)


def test_generic_efficiency_is_at_least_gdr():
    # Dropping single-source brands from the denominator can only raise the rate.
    codes = ["Y", "Y", "O", "N", "N", "M"]
    assert generic_efficiency_rate(codes) >= generic_dispensing_rate(codes)


@pytest.mark.parametrize(
    ("categories", "weights", "expected"),
    [
        (["BLA", "BIOSIMILAR", "BIOSIMILAR", "BLA"], None, 0.5),
        (["BLA", "BIOSIMILAR"], [300, 100], 0.25),  # units: 100 / 400
        (["ANDA", "NDA", "BLA"], None, 0.0),  # NDA and ANDA are not biologics
        (["ANDA", "NDA"], None, math.nan),
    ],
)
def test_biosimilar_rate_known_values(categories, weights, expected):
    assert biosimilar_rate(categories, weights) == pytest.approx(expected, nan_ok=True)


def test_thirty_day_equivalents_known_values():
    np.testing.assert_allclose(thirty_day_equivalents([30, 90, 15, 0]), [1, 3, 0.5, 0])
    assert thirty_day_equivalents(84) == pytest.approx(2.8)
    assert isinstance(thirty_day_equivalents(84), float)


def test_generic_switch_opportunity_known_values():
    savings = generic_switch_opportunity(
        ["O", "O", "Y", "N", "O", "M"],
        [30, 100, 60, 30, 0, 10],
        [5.00, 1.00, None, 12.00, 9.00, 4.00],
        [0.50, 1.25, 0.10, None, 1.00, None],
    )
    # O: (5.00 - 0.50) x 30 = 135; O with generic dearer than brand: 0; Y, N, M: 0; O with no
    # quantity: 0.
    np.testing.assert_allclose(savings, [135.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert savings.sum() == pytest.approx(135.0)


# --- classify ---------------------------------------------------------------------------------


def test_classify_is_case_and_whitespace_insensitive():
    got = classify([" y", "N ", "o", "m", None])
    assert got.tolist() == ["generic", "brand", "brand", "brand", None]
    got = classify(["anda", "  nda   authorized\tgeneric ", "Nda", "bla", "Biosimilar"])
    assert got.tolist() == ["generic", "generic", "brand", "brand", "biosimilar"]


def test_classify_other_as_relabels_only_other():
    assert classify(FDA_ALL, other_as="brand").tolist()[-2:] == ["brand", "brand"]
    assert classify(FDA_ALL, other_as="generic").tolist()[-2:] == ["generic", "generic"]
    assert classify(FDA_ALL).tolist()[-2:] == ["other", "other"]


def test_classify_auto_picks_the_scheme():
    # "N" is no FDA category; a single-letter range is read as MONY codes.
    assert classify(["N", "Y"]).tolist() == ["brand", "generic"]
    with pytest.raises(InputError, match="unknown category 'N' at position 1"):
        classify(["N", "Y"], scheme="fda")
    # Text in no list is refused rather than left out as "other" (issue 12).
    with pytest.raises(InputError, match="unknown category 'X' at position 2"):
        classify(["ANDA", "X"])
    assert classify(["ANDA", "Export only"]).tolist() == ["generic", "other"]


def test_classify_auto_refuses_mixed_schemes():
    with pytest.raises(InputError, match="cannot tell the coding scheme.*'Y'.*position 1"):
        classify(["Y", "ANDA"])
    with pytest.raises(InputError, match="unknown category 'Y' at position 1"):
        classify(["Y", "ANDA"], scheme="fda")


def test_classify_blank_cells_are_none():
    got = classify(["Y", None, np.nan, "", "   ", pd.NA])
    assert got.tolist() == ["generic", None, None, None, None, None]
    assert classify([None, None]).tolist() == [None, None]


def test_classify_returns_1d_object_array():
    got = classify(np.array(["Y", "N"]))
    assert got.dtype == object
    assert got.shape == (2,)


# --- Shape policy -----------------------------------------------------------------------------

SHAPES = {
    "list": lambda v: list(v),
    "ndarray": lambda v: np.array(v, dtype=object),
    "series": lambda v: pd.Series(v, index=[f"rx{i}" for i in range(len(v))]),
    "row": lambda v: [list(v)],
    "column": lambda v: [[x] for x in v],
}


@pytest.mark.parametrize("categories_shape", SHAPES)
@pytest.mark.parametrize("weights_shape", SHAPES)
def test_every_shape_gives_the_same_rate(categories_shape, weights_shape):
    codes = ["Y", "N", "O", "Y", None]
    weights = [3.0, 1.0, 2.0, 0.0, 5.0]
    got = generic_dispensing_rate(
        SHAPES[categories_shape](codes),
        SHAPES[weights_shape](weights),
        unclassified="exclude",
    )
    assert got == pytest.approx(3 / 6)


@pytest.mark.parametrize("shape", SHAPES)
def test_classify_accepts_every_shape(shape):
    got = classify(SHAPES[shape](["Y", None, "O"]))
    assert got.tolist() == ["generic", None, "brand"]


def test_single_cell_is_one_claim():
    assert generic_dispensing_rate("Y") == 1.0
    assert generic_dispensing_rate("N", 2) == 0.0


def test_thirty_day_equivalents_keeps_shape():
    series = pd.Series([30, 60], index=["a", "b"], name="days")
    got = thirty_day_equivalents(series)
    assert isinstance(got, pd.Series)
    assert got.index.tolist() == ["a", "b"]
    assert got.tolist() == [1.0, 2.0]
    assert thirty_day_equivalents([[30], [None]]).shape == (2, 1)
    assert np.isnan(thirty_day_equivalents([[30], [None]])[1, 0])
    assert thirty_day_equivalents([[30, 90]]).tolist() == [[1.0, 3.0]]


def test_generic_switch_opportunity_accepts_excel_columns_and_series():
    got = generic_switch_opportunity(
        [["O"], ["Y"]], pd.Series([10, 20]), np.array([3.0, 1.0]), [[1.0], [0.5]]
    )
    np.testing.assert_allclose(got, [20.0, 0.0])
    assert got.shape == (2,)


# --- Bad input --------------------------------------------------------------------------------


def test_unknown_mony_code_names_value_position_and_valid_codes():
    with pytest.raises(InputError) as raised:
        generic_dispensing_rate(["Y", "N", "Z"], scheme="mony")
    message = str(raised.value)
    assert "'Z'" in message and "position 3" in message and "M, N, O, Y" in message
    with pytest.raises(InputError, match="'Z' at position 2"):
        classify(["Y", "Z"])  # auto: all single letters, so read as MONY
    with pytest.raises(InputError, match="'ANDA' at position 1"):
        generic_efficiency_rate(["ANDA", "Y"])
    with pytest.raises(InputError, match="'X'"):
        generic_switch_opportunity(["X"], [1], [1], [1])


def test_blank_category_raises_with_count_positions_and_fix():
    with pytest.raises(InputError) as raised:
        generic_dispensing_rate(["Y", None, "N", "", np.nan])
    message = str(raised.value)
    assert "3 blank" in message
    assert "positions 2, 4, 5" in message
    assert "classify or filter" in message
    # Excluding them leaves Y and N.
    assert generic_dispensing_rate(["Y", None, "N", "", np.nan], unclassified="exclude") == 0.5


def test_blank_positions_are_truncated_in_the_message():
    with pytest.raises(InputError, match=r"8 blank value\(s\) at positions 2, 3, 4, 5, 6, \.\.\."):
        generic_dispensing_rate(["Y"] + [None] * 8)


@pytest.mark.parametrize(
    "function", [generic_dispensing_rate, generic_efficiency_rate, biosimilar_rate]
)
def test_rates_reject_blank_codes_by_default_and_all_blank_always(function):
    with pytest.raises(InputError, match="blank"):
        function(["Y", None] if function is not biosimilar_rate else ["BLA", None])
    with pytest.raises(InputError, match="every value is blank"):
        function([None, "", np.nan], unclassified="exclude")


@pytest.mark.parametrize(
    "function", [classify, generic_dispensing_rate, generic_efficiency_rate, biosimilar_rate]
)
def test_empty_raises(function):
    with pytest.raises(InputError, match="no values"):
        function([])


def test_different_lengths_raise():
    with pytest.raises(InputError, match="categories has 3, weights has 2"):
        generic_dispensing_rate(["Y", "N", "Y"], [1, 2])
    with pytest.raises(InputError, match="same number of values"):
        generic_switch_opportunity(["O", "Y"], [1, 2], [1, 2], [1])


def test_text_in_numeric_ranges_raises():
    with pytest.raises(InputTypeError, match="weights: expected a number at position 2"):
        generic_dispensing_rate(["Y", "N"], [1, "two"])
    with pytest.raises(InputTypeError, match="quantity"):
        generic_switch_opportunity(["O"], ["ten"], [1], [1])
    with pytest.raises(InputTypeError, match="days_supply"):
        thirty_day_equivalents(["30 days"])
    with pytest.raises(InputTypeError, match="TRUE/FALSE"):
        generic_dispensing_rate(["Y", "N"], [True, False])


def test_number_in_categories_raises_type_error():
    with pytest.raises(InputTypeError, match="position 2"):
        classify(["Y", 5])


def test_two_dimensional_categories_raise():
    with pytest.raises(InputError, match="single row or column"):
        classify([["Y", "N"], ["N", "Y"]])


def test_negative_and_blank_weights_raise():
    with pytest.raises(InputError, match="-1.0 at position 2 is not a claim weight"):
        generic_dispensing_rate(["Y", "N"], [1, -1])
    with pytest.raises(InputError, match="blank weight at position 2"):
        generic_dispensing_rate(["Y", "N"], [1, None])
    with pytest.raises(InputError, match="inf at position 1"):
        generic_dispensing_rate(["Y", "N"], [float("inf"), 1])


def test_negative_days_supply_raises():
    with pytest.raises(InputError, match="negative"):
        thirty_day_equivalents([30, -30])
    with pytest.raises(InputError, match="no values"):
        thirty_day_equivalents([])


def test_switch_opportunity_blank_on_o_line_names_line_and_argument():
    with pytest.raises(InputError, match="generic_unit_cost: blank at position 2"):
        generic_switch_opportunity(["Y", "O"], [10, 10], [5, 5], [1, None])
    with pytest.raises(InputError, match="quantity: blank at position 1"):
        generic_switch_opportunity(["O"], [None], [5], [1])
    with pytest.raises(InputError, match="brand_unit_cost: -5.0 at position 1 is negative"):
        generic_switch_opportunity(["O"], [1], [-5], [1])


@pytest.mark.parametrize(
    ("option", "value"),
    [("scheme", "ndc"), ("other_as", "drop"), ("biosimilar_as", "other"), ("unclassified", 0)],
)
def test_unknown_options_raise(option, value):
    with pytest.raises(InputError, match=option):
        generic_dispensing_rate(["Y"], **{option: value})


# --- Properties -------------------------------------------------------------------------------

mony_cells = st.sampled_from(["M", "N", "O", "Y", "y", " o ", None])
fda_cells = st.sampled_from(FDA_ALL + ["anda", " bla ", None, ""])
claim_weights = st.floats(min_value=0, max_value=1e9, allow_nan=False)


@st.composite
def claims(draw, cells):
    codes = draw(st.lists(cells, min_size=1, max_size=40))
    weights = draw(st.lists(claim_weights, min_size=len(codes), max_size=len(codes)))
    return codes, weights


def _all_blank(codes):
    return all(c is None or not c.strip() for c in codes)


@given(claims(mony_cells))
def test_gdr_mony_is_a_share(data):
    codes, weights = data
    if _all_blank(codes):
        return
    for w in (None, weights):
        rate = generic_dispensing_rate(codes, w, unclassified="exclude")
        assert math.isnan(rate) or 0.0 <= rate <= 1.0


@given(
    claims(fda_cells),
    st.sampled_from(["exclude", "brand", "generic"]),
    st.sampled_from(["brand", "generic", "exclude"]),
)
def test_gdr_fda_is_a_share(data, other_as, biosimilar_as):
    codes, weights = data
    if _all_blank(codes):
        return
    rate = generic_dispensing_rate(
        codes,
        weights,
        scheme="fda",
        other_as=other_as,
        biosimilar_as=biosimilar_as,
        unclassified="exclude",
    )
    assert math.isnan(rate) or 0.0 <= rate <= 1.0


@given(claims(mony_cells))
def test_generic_efficiency_is_a_share(data):
    codes, weights = data
    if _all_blank(codes):
        return
    rate = generic_efficiency_rate(codes, weights, unclassified="exclude")
    assert math.isnan(rate) or 0.0 <= rate <= 1.0


@given(st.lists(mony_cells.filter(lambda c: c is not None), min_size=1, max_size=60))
def test_weighting_by_ones_equals_unweighted(codes):
    ones = [1] * len(codes)
    unweighted = generic_dispensing_rate(codes)
    assert generic_dispensing_rate(codes, ones) == pytest.approx(unweighted, nan_ok=True)
    assert generic_efficiency_rate(codes, ones) == pytest.approx(
        generic_efficiency_rate(codes), nan_ok=True
    )


@given(claims(mony_cells))
def test_gdr_matches_a_loop_over_claims(data):
    codes, weights = data
    if _all_blank(codes):
        return
    generic = sum(w for c, w in zip(codes, weights, strict=True) if c and c.strip().upper() == "Y")
    brand = sum(
        w for c, w in zip(codes, weights, strict=True) if c and c.strip().upper() in {"M", "N", "O"}
    )
    expected = generic / (generic + brand) if generic + brand > 0 else math.nan
    got = generic_dispensing_rate(codes, weights, unclassified="exclude")
    assert got == pytest.approx(expected, nan_ok=True, rel=1e-12)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["M", "N", "O", "Y"]),
            st.floats(0, 1e4),
            st.floats(0, 1e4),
            st.floats(0, 1e4),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_switch_opportunity_is_never_negative_and_zero_off_o(lines):
    codes, quantity, brand, generic = (list(column) for column in zip(*lines, strict=True))
    savings = generic_switch_opportunity(codes, quantity, brand, generic)
    assert (savings >= 0).all()
    assert all(s == 0 for c, s in zip(codes, savings, strict=True) if c != "O")
