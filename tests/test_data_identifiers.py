"""NDC normalization and NPI check digits against published examples and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxxl.data import ndc_problem, normalize_ndc, npi_check_digit, npi_is_valid
from rxxl.errors import InputError

# Published 10-to-11-digit conversions, one row per layout:
# [daisybill] kb.daisybill.com/articles/how-do-i-convert-a-10-digit-ndc-number-to-11-digits
# [coderx] coderx.io/what-is-ndc11-format
# [mcc] mccanalytics.com/wiki (NDC Converter), which also notes that an undashed 10-digit
#       NDC is ambiguous
KNOWN_CONVERSIONS = [
    # 4-4-2: zero before the labeler
    ("0002-7597-01", "00002759701"),  # the FDA-listed form of a 4-digit labeler (Lilly)
    ("0574-4072-05", "00574407205"),  # [daisybill]
    ("1234-5678-90", "01234567890"),  # [coderx]
    ("0071-0155-23", "00071015523"),  # [mcc]
    # 5-3-2: zero before the product
    ("51655-089-52", "51655008952"),  # [daisybill]
    ("12345-678-90", "12345067890"),  # [coderx]
    # 5-4-1: zero before the package
    ("58118-1397-3", "58118139703"),  # [daisybill]
    ("12345-6789-0", "12345678900"),  # [coderx]
    # 5-4-2 with dashes, and the 11-digit billing form itself
    ("00002-7597-01", "00002759701"),
    ("00002759701", "00002759701"),
    ("58118139703", "58118139703"),
    # surrounding spaces are trimmed
    ("  51655-089-52 ", "51655008952"),
]


@pytest.mark.parametrize(("given_ndc", "eleven"), KNOWN_CONVERSIONS)
def test_known_conversions(given_ndc, eleven):
    assert normalize_ndc(given_ndc) == eleven
    assert ndc_problem(given_ndc) is None


def test_numbers_that_lost_leading_zeros_are_padded():
    # Excel turns 00002759701 typed into a General cell into the number 2759701.
    assert normalize_ndc(2759701) == "00002759701"
    assert normalize_ndc(2759701.0) == "00002759701"
    assert normalize_ndc(np.int64(51655008952)) == "51655008952"
    assert normalize_ndc(574407205) == "00574407205"


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("0002759701", "10 digits without dashes"),  # 4-4-2? 5-3-2? 5-4-1? [mcc]
        ("5165508952", "10 digits without dashes"),
        ("2759701", "00002759701"),  # text: suggests the padded code, does not guess
        (1234567890, "10-digit number"),  # 01234567890 or 12345-678-90?
        (12.5, "not an NDC"),
        (-2759701, "not an NDC"),
        (123456789012, "not an NDC"),
        ("0002-75970-1", "dashes in the wrong places"),
        ("002-7597-01", "dashes in the wrong places"),
        ("00002-07597-01", "dashes in the wrong places"),
        ("0002-7597", "is not an NDC"),
        ("abc", "is not an NDC"),
        ("0002 7597 01", "is not an NDC"),
        ("000027597010", "is not an NDC"),
        ("00000-1234-01", "labeler code 00000"),
        (0, "labeler code 00000"),
    ],
)
def test_invalid_ndcs_are_refused_with_a_reason(value, phrase):
    problem = ndc_problem(value)
    assert problem is not None and phrase in problem
    with pytest.raises(InputError, match="not an NDC"):
        normalize_ndc(value)


def test_blank_ndcs_are_missing_not_problems():
    assert ndc_problem("  ") is None and ndc_problem(None) is None
    assert normalize_ndc(None) is None
    assert list(normalize_ndc(["", None, np.nan])) == [None, None, None]


def test_normalize_ndc_shapes_and_coerce():
    series = pd.Series(["0002-7597-01", "bad", None], index=[10, 20, 30], name="ndc")
    out = normalize_ndc(series, errors="coerce")
    assert out.dtype == "string" and list(out.index) == [10, 20, 30] and out.name == "ndc"
    assert out.iloc[0] == "00002759701" and out.isna().tolist() == [False, True, True]
    with pytest.raises(InputError, match=r"2 values are not an NDC, the first at position 2"):
        normalize_ndc(["0002-7597-01", "bad", "worse"])
    with pytest.raises(InputError, match="errors"):
        normalize_ndc("0002-7597-01", errors="ignore")


_LAYOUTS = [(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)]


@st.composite
def dashed_ndcs(draw):
    sizes = draw(st.sampled_from(_LAYOUTS))
    parts = [draw(st.text("0123456789", min_size=n, max_size=n)) for n in sizes]
    if set(parts[0]) == {"0"}:
        parts[0] = "1" + parts[0][1:]  # labeler 00000 is refused by design
    return "-".join(parts), sizes, parts


@given(dashed_ndcs())
def test_dashed_ndcs_pad_their_short_segment(case):
    text, _, (labeler, product, package) = case
    eleven = normalize_ndc(text)
    assert eleven == labeler.zfill(5) + product.zfill(4) + package.zfill(2)
    assert len(eleven) == 11 and eleven.isdigit()


@given(dashed_ndcs())
def test_normalize_ndc_is_idempotent(case):
    eleven = normalize_ndc(case[0])
    assert normalize_ndc(eleven) == eleven
    assert normalize_ndc(f"{eleven[:5]}-{eleven[5:9]}-{eleven[9:]}") == eleven


# --- NPI ---------------------------------------------------------------------------------------

# [CMS] "Requirements for NPI Check Digit": 123456789 gets check digit 3.
# [makdns] makdns.blogspot.com/2012/07 works 1558598797 through step by step.
# [cook] johndcook.com/blog/2024/06/26/npi-number: 1993999998 has a valid check digit.
VALID_NPIS = ["1234567893", "1558598797", "1993999998"]
INVALID_NPIS = ["1234567890", "1234567894", "1558598798", "1993999999", "2234567893"]


@pytest.mark.parametrize("npi", VALID_NPIS)
def test_published_valid_npis(npi):
    assert npi_is_valid(npi)
    assert npi_check_digit(npi[:9]) == npi[9]


@pytest.mark.parametrize("npi", INVALID_NPIS)
def test_published_npis_with_a_changed_digit_fail(npi):
    assert not npi_is_valid(npi)


def test_npi_is_valid_is_vectorized_and_takes_numbers():
    got = npi_is_valid(["1234567893", 1234567893, 1234567893.0, " 1558598797 ", "123456789",
                        "12345678931", "12345x7893", None, ""])
    assert got.tolist() == [True, True, True, True, False, False, False, False, False]
    assert npi_is_valid(pd.Series(["1993999998"])).tolist() == [True]


def test_npi_check_digit_wants_nine_digits():
    with pytest.raises(InputError, match="nine digits"):
        npi_check_digit("12345678")
    with pytest.raises(InputError, match="nine digits"):
        npi_check_digit("12345678x")


nine_digits = st.tuples(st.sampled_from("12"), st.text("0123456789", min_size=8, max_size=8))


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_generated_npis_pass_and_any_single_digit_change_fails(first9, position, shift):
    body = "".join(first9)
    npi = body + npi_check_digit(body)
    assert npi_is_valid(npi)
    changed = npi[:position] + str((int(npi[position]) + shift) % 10) + npi[position + 1:]
    assert not npi_is_valid(changed)
