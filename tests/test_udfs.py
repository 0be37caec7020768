"""The RX_ Excel functions, called as plain Python with what classic xlwings hands over.

Ranges arrive as lists of lists (``ndim=2``), blanks as None, dates as datetimes or serials.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl import drug_bridge, generics, inventory, roi, udfs, variance
from rxxl.udf_metadata import udf_metadata

VALUE_ERROR = "#VALUE! "


def column(*values):
    return [[v] for v in values]


def row(*values):
    return [list(values)]


# --- metadata for Excel's function wizard -----------------------------------------------------

REQUIRED = {
    "RX_VARIANCE", "RX_VARIANCE_PCT", "RX_FAV", "RX_FLEX_BUDGET", "RX_PVM", "RX_GDR",
    "RX_GENERIC_OPPORTUNITY", "RX_TURNS", "RX_DAYS_ON_HAND", "RX_NPV", "RX_IRR", "RX_XNPV",
    "RX_XIRR", "RX_MIRR", "RX_PAYBACK", "RX_DPAYBACK", "RX_DRUG_BRIDGE",
}
METADATA = udf_metadata()


def test_every_required_function_is_an_excel_function():
    assert REQUIRED <= set(METADATA)
    assert all(name.startswith("RX_") for name in METADATA)


@pytest.mark.parametrize("name", sorted(METADATA))
def test_function_wizard_shows_category_help_and_every_argument(name):
    info = METADATA[name]
    assert info["category"] == "Rx Finance"
    assert info["ret"]["doc"] and "defined in" not in info["ret"]["doc"]
    for argument in info["args"]:
        assert not argument["doc"].startswith("Positional argument"), argument["name"]
        assert len(argument["doc"]) <= 255  # Excel's limit for argument help


@pytest.mark.parametrize("name", sorted(METADATA))
def test_range_arguments_arrive_two_dimensional(name):
    # ndim=2 keeps a column a column, so element-wise results spill the same way.
    for argument in METADATA[name]["args"]:
        scalar = argument["name"] in {
            "rate", "guess", "finance_rate", "reinvest_rate", "days_in_period", "amount",
            "percent", "reference_folder", "lookback_days",
        }
        assert (argument["options"].get("ndim") == 2) != scalar, argument["name"]


@pytest.mark.parametrize("name", sorted(METADATA))
def test_array_results_spill_instead_of_resizing_the_formula(name):
    # xlwings' expand rewrites the formula as a legacy array over the cells it needs and
    # overwrites whatever was there; a plain 2-D result lets Excel 365 spill (#SPILL! when
    # the cells are taken) and Excel 2016/2019 fill a range entered with Ctrl+Shift+Enter.
    assert "expand" not in METADATA[name]["ret"]["options"], name
    for argument in METADATA[name]["args"]:
        assert "expand" not in argument["options"], (name, argument["name"])


#: Functions that audit a whole table: Excel's function wizard would rerun them on every
#: keystroke in the dialog, so they run only when the formula is entered.
HEAVY = {"RX_340B_CHECK", "RX_DRUG_BRIDGE"}


@pytest.mark.parametrize("name", sorted(METADATA))
def test_heavy_functions_do_not_run_in_the_function_wizard(name):
    assert METADATA[name]["call_in_wizard"] is (name not in HEAVY), name


# --- results equal the metrics ------------------------------------------------------------------


def test_variance_functions_per_cell_keep_the_shape():
    actual, budget = column(110.0, 90.0, 100.0), column(100.0, 100.0, 0.0)
    assert udfs.RX_VARIANCE(actual, budget) == [[10.0], [-10.0], [100.0]]
    assert udfs.RX_VARIANCE_PCT(actual, budget) == [[0.1], [-0.1], ["#DIV/0!"]]
    assert udfs.RX_FAV(actual, budget) == [["U"], ["F"], ["U"]]
    assert udfs.RX_FAV(actual, budget, "revenue") == [["F"], ["U"], ["F"]]
    assert udfs.RX_FAV(row(110, 90), row(100, 100), row("expense", "revenue")) == [["U", "U"]]
    assert udfs.RX_VARIANCE(row(5, 6), row(1, 1)) == [[4.0, 5.0]]
    assert udfs.RX_VARIANCE(110, 100) == 10.0


def test_blank_line_type_means_expense():
    assert udfs.RX_FAV(column(110, 110), column(100, 100), column(None, "Revenue ")) == [
        ["U"], ["F"]
    ]


def test_single_budget_cell_applies_to_every_actual():
    assert udfs.RX_VARIANCE(column(1, 2, 3), 2) == [[-1.0], [0.0], [1.0]]


def test_blank_cells_give_blank_results_element_wise():
    assert udfs.RX_VARIANCE(column(1, None, 3), column(1, 1, None)) == [[0.0], [None], [None]]
    assert udfs.RX_FAV(column(None), column(1)) is None


def test_materiality_and_flexed_budget():
    assert udfs.RX_MATERIAL(column(120_000, 100_400), column(100_000, 100_000)) == [
        [True], [False]
    ]
    assert udfs.RX_MATERIAL(120_000, 100_000, 50_000) is False
    assert udfs.RX_FLEX_BUDGET(1_000_000, 10_000, 10_500) == pytest.approx(1_050_000)
    assert udfs.RX_FLEX_BUDGET(1_000_000, 0, 10_500) == "#DIV/0!"


def test_pvm_returns_price_volume_mix_rows_that_reconcile():
    ap, bp = column(11.0, 5.0, None, 8.0), column(10.0, 5.0, 3.0, None)
    aq, bq = column(100, 50, 0, 20), column(90, 60, 30, None)
    rows = udfs.RX_PVM(ap, bp, aq, bq)
    assert len(rows) == 4 and all(len(r) == 3 for r in rows)
    spend_variance = [11 * 100 - 10 * 90, 5 * 50 - 5 * 60, 0 - 3 * 30, 8 * 20 - 0]
    for parts, expected in zip(rows, spend_variance, strict=True):
        assert sum(parts) == pytest.approx(expected, abs=1e-9)
    table = variance.price_volume_mix(
        [11.0, 5.0, np.nan, 8.0], [10.0, 5.0, 3.0, np.nan], [100, 50, 0, 20], [90, 60, 30, 0]
    )
    assert rows == table[["price", "volume", "mix"]].to_numpy().tolist()


def test_pvm_refuses_a_net_return_it_cannot_show():
    # RX_PVM's three columns have no place for a returns driver; leaving it out would make
    # the row not add up to the line's spend variance. (rxxl.variance.price_volume_mix has it.)
    shown = udfs.RX_PVM(column(11.0, 5.0), column(10.0, 5.0), column(110, -5), column(100, 100))
    assert isinstance(shown, str) and shown.startswith("#VALUE!")
    assert "actual_qty" in shown and "line 2" in shown and "net return" in shown


def test_drug_bridge_spills_a_header_and_the_metric_table():
    # OP: A on 340B bought 30 for $3,000 against 20 at $90; stock up $1,000, so 10
    # packages were for stock: timing 1,000, price 2,000 - 20 x 90 = 200.
    # ICU: B on WAC, never budgeted: a new drug, $500. A trailing blank row is padding.
    rows = udfs.RX_DRUG_BRIDGE(
        column("A", "B", None), column("OP", "ICU", None), column("340B", "WAC", None),
        column(30, 5, None), column(3_000, 500, None), column(20, None, None),
        column(1_800, None, None), None, None, [["OP", 1_000], [None, None]],
    )
    header, *lines = rows
    assert header == ["drug", "location", "account", "budget_quantity", "actual_quantity",
                      "consumed_quantity", "budget_spend", "actual_spend",
                      *drug_bridge.DRIVERS, "total_variance", "line_status"]
    assert len(lines) == 2
    line = dict(zip(header, lines[0], strict=True))
    assert (line["inventory_timing"], line["price"], line["total_variance"]) == (
        1_000.0, 200.0, 1_200.0)
    assert dict(zip(header, lines[1], strict=True))["new_drug"] == 500.0
    expected = drug_bridge.drug_bridge(["A", "B"], ["OP", "ICU"], ["340B", "WAC"], [30, 5],
                                       [3_000, 500], [20, 0], [1_800, 0],
                                       inventory_change={"OP": 1_000})
    assert lines == expected.astype(object).to_numpy().tolist()


def test_drug_bridge_cells_follow_the_rules_of_the_other_functions():
    good = (column("A"), column(7010), column("GPO"), column(10), column(100), column(10),
            column(100))
    # A cost center typed as a number is its digits.
    assert udfs.RX_DRUG_BRIDGE(*good)[1][:3] == ["A", "7010", "GPO"]
    shown = udfs.RX_DRUG_BRIDGE(*good[:4], column("ten"), *good[5:])
    assert shown.startswith(VALUE_ERROR) and "actual_spend" in shown
    shown = udfs.RX_DRUG_BRIDGE(*good[:4], column(None), *good[5:])
    assert shown.startswith(VALUE_ERROR) and "actual_spend" in shown
    shown = udfs.RX_DRUG_BRIDGE(column("A", "A"), column("OP", "OP"), column("GPO", "GPO"),
                                column(1, 2), column(1, 2), column(1, 2), column(1, 2))
    assert "line 1 and line 2" in shown and "sum them first" in shown
    # A blank cell for the optional stock change means none.
    assert udfs.RX_DRUG_BRIDGE(*good, None, None, None) == udfs.RX_DRUG_BRIDGE(*good)
    assert udfs.RX_DRUG_BRIDGE(*good, None, None, [[None]]) == udfs.RX_DRUG_BRIDGE(*good)


def test_generics_functions():
    codes = column("Y", "Y", "O", "N", "y ")
    assert udfs.RX_GDR(codes) == pytest.approx(3 / 5)
    assert udfs.RX_GDR(codes, column(10, 20, 5, 5, 10)) == pytest.approx(40 / 50)
    assert udfs.RX_GDR(column("ANDA", "NDA", "NDA AUTHORIZED GENERIC", "BLA")) == 0.5
    assert udfs.RX_GENERIC_EFFICIENCY(codes) == pytest.approx(3 / 4)
    assert udfs.RX_BIOSIMILAR_RATE(column("BIOSIMILAR", "BLA", "BLA")) == pytest.approx(1 / 3)
    assert udfs.RX_GDR(column("N", "M")) == 0.0
    opportunity = udfs.RX_GENERIC_OPPORTUNITY(
        column("O", "Y", "O"), column(100, 50, 10), column(5.0, 1.0, 2.0),
        column(1.0, None, 3.0),
    )
    assert opportunity == pytest.approx(400.0)  # line 3: generic dearer, no saving
    assert opportunity == pytest.approx(
        generics.generic_switch_opportunity(["O", "Y", "O"], [100, 50, 10], [5, 1, 2],
                                            [1, np.nan, 3]).sum()
    )


def test_inventory_functions_for_one_location_and_several():
    assert udfs.RX_TURNS(1_200_000, 100_000, 140_000) == pytest.approx(10.0)
    assert udfs.RX_DAYS_ON_HAND(1_200_000, 100_000, 140_000) == pytest.approx(36.5)
    monthly = udfs.RX_TURNS(100_000, 100_000, 140_000, 31)
    assert monthly == pytest.approx(inventory.inventory_turns(100_000, [100_000, 140_000], 31))
    by_location = udfs.RX_TURNS(column(1_200_000, 600_000), column(100_000, 50_000),
                                column(140_000, 70_000))
    assert by_location == [[pytest.approx(10.0)], [pytest.approx(10.0)]]
    # One location's 13 month-end snapshots, as a row or a column.
    snapshots = [100_000 + 1_000 * i for i in range(13)]
    expected = inventory.inventory_turns(1_200_000, snapshots)
    assert udfs.RX_TURNS(1_200_000, row(*snapshots)) == pytest.approx(expected)
    assert udfs.RX_TURNS(1_200_000, column(*snapshots)) == pytest.approx(expected)
    assert udfs.RX_TURNS(1_200_000, 0, 0) == "#DIV/0!"
    assert udfs.RX_DAYS_ON_HAND(0, 10, 10) == "#DIV/0!"


FLOWS = [-1_450_000, 386_000, 412_000, 425_000, 431_000, 298_000]
DATES = [dt.datetime(2026, 1, 1) + dt.timedelta(days=365 * i + 3 * i) for i in range(6)]


def test_roi_functions_equal_the_metrics():
    flows = column(*FLOWS)
    assert udfs.RX_NPV(0.06, flows) == roi.npv(0.06, FLOWS)
    assert udfs.RX_IRR(flows) == roi.irr(FLOWS)
    assert udfs.RX_IRR(flows, 0.5) == roi.irr(FLOWS, 0.5)
    assert udfs.RX_MIRR(flows, 0.06, 0.04) == roi.mirr(FLOWS, 0.06, 0.04)
    assert udfs.RX_PAYBACK(flows) == roi.payback(FLOWS)
    assert udfs.RX_DPAYBACK(0.06, flows) == roi.discounted_payback(0.06, FLOWS)
    assert udfs.RX_ROI(flows) == roi.simple_roi(FLOWS)
    assert udfs.RX_XNPV(0.06, flows, column(*DATES)) == roi.xnpv(0.06, FLOWS, DATES)
    assert udfs.RX_XIRR(flows, column(*DATES)) == roi.xirr(FLOWS, DATES)


def test_dates_as_serials_dates_datetimes_or_iso_text_agree():
    serials = [(d - dt.datetime(1899, 12, 30)).days for d in DATES]
    flows = column(*FLOWS)
    expected = udfs.RX_XIRR(flows, column(*DATES))
    assert udfs.RX_XIRR(flows, column(*serials)) == expected
    assert udfs.RX_XIRR(flows, column(*(d.date() for d in DATES))) == expected
    assert udfs.RX_XIRR(flows, column(*(d.date().isoformat() for d in DATES))) == expected


def test_undefined_results_are_excel_errors_and_never_is_text():
    assert udfs.RX_IRR(column(100, 200)) == "#NUM!"
    assert udfs.RX_XIRR(column(100, 200), column(45000, 45100)) == "#NUM!"
    assert udfs.RX_MIRR(column(-100, -200), 0.1, 0.1) == "#DIV/0!"
    assert udfs.RX_NPV(-1, column(100)) == "#DIV/0!"
    assert udfs.RX_ROI(column(100, 200)) == "#DIV/0!"
    assert udfs.RX_PAYBACK(column(-100, 10, 10)) == "never"
    assert udfs.RX_DPAYBACK(0.1, column(-100, 50, 50)) == "never"
    assert udfs.RX_GDR(column("OTC MONOGRAPH FINAL")) == "#DIV/0!"


def test_trailing_blank_rows_are_padding_but_a_blank_inside_is_refused():
    padded = column(*FLOWS, None, None, None)
    assert udfs.RX_IRR(padded) == roi.irr(FLOWS)
    assert udfs.RX_XIRR(padded, column(*DATES, None, None, None)) == roi.xirr(FLOWS, DATES)
    gap = udfs.RX_NPV(0.1, column(-100, None, 60, 60))
    assert gap.startswith(VALUE_ERROR) and "cell 2 is blank" in gap
    assert udfs.RX_GDR(column("Y", None, "N", None)).startswith(VALUE_ERROR)
    assert udfs.RX_GDR(column("Y", "N", None, None)) == 0.5


# --- bad input: every function, every range -------------------------------------------------------

# Each function with a good call; every list-of-lists argument is a range to spoil.
GOOD_CALLS = {
    "RX_VARIANCE": (column(110, 90), column(100, 100)),
    "RX_VARIANCE_PCT": (column(110, 90), column(100, 100)),
    "RX_FAV": (column(110, 90), column(100, 100), column("expense", "revenue")),
    "RX_MATERIAL": (column(110, 90), column(100, 100)),
    "RX_FLEX_BUDGET": (column(100, 200), column(10, 20), column(11, 19)),
    "RX_PVM": (column(11, 5), column(10, 5), column(100, 50), column(90, 60)),
    "RX_DRUG_BRIDGE": (column("A", "B"), column("OP", "ICU"), column("340B", "GPO"),
                       column(10, 5), column(100, 50), column(10, 5), column(100, 45),
                       column(100, 900), column(110, 1000), [["OP", 30], ["ICU", -5]]),
    "RX_GDR": (column("Y", "N"), column(3, 1)),
    "RX_GENERIC_EFFICIENCY": (column("Y", "O"), column(3, 1)),
    "RX_BIOSIMILAR_RATE": (column("BIOSIMILAR", "BLA"), column(3, 1)),
    "RX_GENERIC_OPPORTUNITY": (column("O", "Y"), column(10, 5), column(5.0, 1.0),
                               column(1.0, 1.0)),
    "RX_TURNS": (column(1200, 600), column(100, 50), column(140, 70)),
    "RX_DAYS_ON_HAND": (column(1200, 600), column(100, 50), column(140, 70)),
    "RX_NPV": (0.1, column(-100, 60, 60)),
    "RX_IRR": (column(-100, 60, 60),),
    "RX_XNPV": (0.1, column(-100, 60, 60), column(*DATES[:3])),
    "RX_XIRR": (column(-100, 60, 60), column(*DATES[:3])),
    "RX_MIRR": (column(-100, 60, 60), 0.1, 0.1),
    "RX_PAYBACK": (column(-100, 60, 60),),
    "RX_DPAYBACK": (0.1, column(-100, 60, 60)),
    "RX_ROI": (column(-100, 60, 60),),
    "RX_DENIAL_RATE": (column("denied", "paid", "paid"), column(100, 50, 50)),
    "RX_DENIAL_TREND": (column("2026-01", "2026-02", "2026-03"), column(100, 100, 100),
                        column(5, 6, 30)),
    "RX_DENIAL_REASON": ("CO-197",),
}
TEXT_RANGES = {("RX_DRUG_BRIDGE", 0), ("RX_DRUG_BRIDGE", 1), ("RX_DRUG_BRIDGE", 2),
               ("RX_GDR", 0), ("RX_GENERIC_EFFICIENCY", 0), ("RX_BIOSIMILAR_RATE", 0),
               ("RX_GENERIC_OPPORTUNITY", 0), ("RX_DENIAL_RATE", 0)}
# Date ranges take numbers (Excel serials) and text (ISO dates), but not TRUE/FALSE.
DATE_RANGES = {("RX_XNPV", 2), ("RX_XIRR", 1), ("RX_DENIAL_TREND", 0)}
# A blank line type means the default, "expense": an all-blank range is fine there.
DEFAULTED_RANGES = {("RX_FAV", 2)}
# Functions whose paired ranges must match in length (single-cell broadcasting aside).
PAIRED = {name for name, args in GOOD_CALLS.items()
          if sum(isinstance(a, list) for a in args) > 1}


def test_every_excel_function_has_a_good_call_in_this_table():
    assert set(GOOD_CALLS) | {"RX_340B_CHECK"} == set(METADATA)  # 340B: tests/test_udfs_340b.py


@pytest.mark.parametrize("name", sorted(GOOD_CALLS))
def test_good_calls_give_results(name):
    result = getattr(udfs, name)(*GOOD_CALLS[name])
    assert not (isinstance(result, str) and result.startswith("#")), result


def _spoiled_calls():
    for name, args in sorted(GOOD_CALLS.items()):
        for i, arg in enumerate(args):
            if not isinstance(arg, list):
                continue
            def spoil(replacement, i=i, args=args):
                return tuple(replacement if j == i else a for j, a in enumerate(args))
            yield pytest.param(name, spoil([]), id=f"{name}-arg{i}-empty")
            if (name, i) not in DEFAULTED_RANGES:
                yield pytest.param(name, spoil([[None]] * len(arg)), id=f"{name}-arg{i}-all-blank")
            if (name, i) in DATE_RANGES:
                yield pytest.param(name, spoil([[True]] + arg[1:]), id=f"{name}-arg{i}-boolean")
            elif (name, i) not in TEXT_RANGES:
                yield pytest.param(name, spoil([["n/a"]] + arg[1:]), id=f"{name}-arg{i}-text")
            else:
                yield pytest.param(name, spoil([[12.5]] + arg[1:]), id=f"{name}-arg{i}-number")
            if name in PAIRED:
                yield pytest.param(name, spoil(arg + arg[:1] + arg[:1]), id=f"{name}-arg{i}-longer")


@pytest.mark.parametrize("name, args", list(_spoiled_calls()))
def test_bad_input_is_a_value_message_never_an_exception(name, args):
    result = getattr(udfs, name)(*args)
    if name in {"RX_VARIANCE", "RX_VARIANCE_PCT", "RX_FAV", "RX_MATERIAL", "RX_FLEX_BUDGET"} \
            and isinstance(result, list):
        # Element-wise: an all-blank input range gives all-blank results, by the rule.
        assert all(cell is None for line in result for cell in line), result
        return
    assert isinstance(result, str) and result.startswith(VALUE_ERROR), result
    assert len(result) <= 255


def test_single_number_arguments_are_checked():
    assert udfs.RX_NPV("8%", column(1, 2)).startswith(VALUE_ERROR)
    assert udfs.RX_NPV(None, column(1, 2)).startswith(VALUE_ERROR)
    assert udfs.RX_NPV(column(0.1, 0.2), column(1, 2)).startswith(VALUE_ERROR)
    assert udfs.RX_IRR(column(-1, 2), None) == udfs.RX_IRR(column(-1, 2))  # blank: default
    assert udfs.RX_TURNS(1200, 100, 140, "a month").startswith(VALUE_ERROR)


def test_messages_name_the_argument_and_the_fix():
    message = udfs.RX_XNPV(0.1, column(-100, 60), column(*DATES[:3]))
    assert "values has 2 cells" in message and "dates has 3 cells" in message
    message = udfs.RX_FAV(110, 100, "cost")
    assert "cost" in message and "expense" in message
    message = udfs.RX_XIRR(column(-100, 60), column("2026-01-01", "soon"))
    assert "dates" in message and "soon" in message


def test_unexpected_failures_become_messages(monkeypatch):
    def broken(*_args):
        raise ZeroDivisionError("something deep")

    monkeypatch.setattr(roi, "npv", broken)
    result = udfs.RX_NPV(0.1, column(1, 2))
    assert result.startswith(VALUE_ERROR) and "ZeroDivisionError" in result


excel_cells = st.one_of(
    st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(-10**6, 10**6), st.text(max_size=6), st.booleans(),
    st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2100, 1, 1)),
)
excel_arguments = st.one_of(
    excel_cells,
    st.integers(1, 4).flatmap(
        lambda width: st.lists(st.lists(excel_cells, min_size=width, max_size=width),
                               min_size=0, max_size=5)
    ),
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(GOOD_CALLS)), st.data())
def test_nothing_raises_into_excel(name, data):
    count = len(GOOD_CALLS[name])
    args = data.draw(st.lists(excel_arguments, min_size=count, max_size=count))
    result = getattr(udfs, name)(*args)

    def cell_ok(cell):
        return cell is None or isinstance(cell, (str, bool)) or (
            isinstance(cell, float) and math.isfinite(cell)
        )

    if isinstance(result, list):
        assert all(cell_ok(c) for line in result for c in line), result
    else:
        assert cell_ok(result), result


# --- category text the GDR does not know (issue 12, item 7) ------------------------------------


def test_gdr_refuses_unknown_category_text_naming_it_and_what_is_accepted():
    # {ANDA, Brand, Brand, Brand}: "Brand" is no FDA category; counting it as excluded
    # "other" gave 1 generic / 1 = 1.0.
    result = udfs.RX_GDR(column("ANDA", "Brand", "Brand", "Brand"))
    assert isinstance(result, str) and result.startswith(VALUE_ERROR), result
    assert "'BRAND' at position 2" in result
    assert "M, N, O, Y" in result and "ANDA" in result and "NDA AUTHORIZED GENERIC" in result
    assert len(result) <= 255
    # A known "other" category is still left out: 1 ANDA / (1 ANDA + 1 NDA) = 0.5.
    assert udfs.RX_GDR(column("ANDA", "NDA", "OTC MONOGRAPH DRUG", "unapproved drug other")) \
        == 0.5


def test_gdr_numbers_are_a_clear_message():
    for categories in (column(1, 2), column("Y", 2), column(1.5)):
        result = udfs.RX_GDR(categories)
        assert result.startswith(VALUE_ERROR) and "expected a category as text" in result, result
        assert "AttributeError" not in result
