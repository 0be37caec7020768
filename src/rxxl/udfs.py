"""The RX_ Excel functions (xlwings user-defined functions), category "Rx Finance".

Each function converts what Excel hands over, calls a metric, and converts the result; the
rules for blanks, sizes, bad input and undefined results are in :mod:`rxxl._excel` and the
README. Excel's function name is the Python name, hence the upper case. On Linux the xlwings
decorators pass the functions through unchanged, so tests call them as plain Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xlwings as xw

from rxxl import audit340b, denials, drug_bridge, generics, inventory, roi, variance
from rxxl._arrays import as_float_array
from rxxl._excel import (
    CATEGORY,
    DIV0,
    NUM,
    aligned,
    as_cell,
    blank_mask,
    cell_values,
    cells,
    claims_frame,
    columns,
    dates_of,
    distinct_months,
    excel_safe,
    filled_numbers,
    no_blanks,
    number,
    reference_tables,
    series,
    shaped,
)
from rxxl.constants import DAYS_IN_YEAR, EXPENSE, IRR_GUESS, MATERIALITY_AMOUNT, MATERIALITY_PERCENT
from rxxl.errors import InputError

_RANGE = {"ndim": 2}
#: For functions that audit or bridge a whole table: Excel's function wizard evaluates the
#: formula on every change in its dialog, which would rerun the audit each keystroke.
_HEAVY = {"call_in_wizard": False}
_NEVER = "never"


def _elementwise(metric, undefined: str, **ranges: Any) -> Any:
    grids, like, blank = aligned(**ranges)
    arrays = [as_float_array(grid, name) for name, grid in grids.items()]
    return shaped(np.asarray(metric(*arrays)), like, blank, undefined)


# --- Budget variance ------------------------------------------------------------------------


@xw.func(category=CATEGORY)
@xw.arg("actual", doc="Actual amount(s): a cell or a range.", **_RANGE)
@xw.arg("budget", doc="Budget amount(s): a cell, or a range the size of actual.", **_RANGE)
@excel_safe
def RX_VARIANCE(actual, budget):
    """Budget variance: actual − budget, per cell. Pair it with RX_FAV for F/U."""
    return _elementwise(variance.variance, NUM, actual=actual, budget=budget)


@xw.func(category=CATEGORY)
@xw.arg("actual", doc="Actual amount(s): a cell or a range.", **_RANGE)
@xw.arg("budget", doc="Budget amount(s); a zero budget gives #DIV/0!.", **_RANGE)
@excel_safe
def RX_VARIANCE_PCT(actual, budget):
    """Variance %: (actual − budget) / |budget|, per cell."""
    return _elementwise(variance.variance_pct, DIV0, actual=actual, budget=budget)


@xw.func(category=CATEGORY)
@xw.arg("actual", doc="Actual amount(s): a cell or a range.", **_RANGE)
@xw.arg("budget", doc="Budget amount(s): a cell, or a range the size of actual.", **_RANGE)
@xw.arg("line_type", doc='"expense" (default) or "revenue": a cell or one per line.', **_RANGE)
@excel_safe
def RX_FAV(actual, budget, line_type=EXPENSE):
    """F (favorable) or U (unfavorable): over budget is U on an expense line, F on revenue."""
    grids, like, blank = aligned(actual=actual, budget=budget)
    kinds = cells(line_type)
    if kinds.size != 1 and kinds.shape != like.shape:
        raise InputError(
            f"line_type: give one cell or one per line ({like.shape[0]} x {like.shape[1]}),"
            f" got {kinds.shape[0]} x {kinds.shape[1]}"
        )
    kinds = np.where(blank_mask(kinds), EXPENSE, kinds)
    flags = variance.favorability(
        as_float_array(grids["actual"], "actual"), as_float_array(grids["budget"], "budget"),
        np.broadcast_to(kinds, like.shape),
    )
    return shaped(np.asarray(flags, dtype=object), like, blank, NUM)


@xw.func(category=CATEGORY)
@xw.arg("actual", doc="Actual amount(s): a cell or a range.", **_RANGE)
@xw.arg("budget", doc="Budget amount(s): a cell, or a range the size of actual.", **_RANGE)
@xw.arg("amount", doc="Least |variance| in dollars that matters; default 10,000.")
@xw.arg("percent", doc="Least |variance %| that matters; default 0.05 (5%).")
@excel_safe
def RX_MATERIAL(actual, budget, amount=MATERIALITY_AMOUNT, percent=MATERIALITY_PERCENT):
    """TRUE where a variance is material: |variance| ≥ amount AND |variance %| ≥ percent."""
    threshold = number("amount", amount, MATERIALITY_AMOUNT)
    share = number("percent", percent, MATERIALITY_PERCENT)
    return _elementwise(
        lambda a, b: variance.is_material(a, b, threshold, share), NUM, actual=actual,
        budget=budget,
    )


@xw.func(category=CATEGORY)
@xw.arg("budget", doc="Original budget amount(s).", **_RANGE)
@xw.arg("budget_volume", doc="Budgeted volume driver, e.g. adjusted patient days.", **_RANGE)
@xw.arg("actual_volume", doc="Actual volume driver for the same period.", **_RANGE)
@excel_safe
def RX_FLEX_BUDGET(budget, budget_volume, actual_volume):
    """Flexed budget: budget × actual volume / budget volume, per cell."""
    return _elementwise(
        variance.flexed_budget, DIV0, budget=budget, budget_volume=budget_volume,
        actual_volume=actual_volume,
    )


@xw.func(category=CATEGORY)
@xw.arg("actual_price", doc="Actual unit price per line (blank if no actual).", **_RANGE)
@xw.arg("budget_price", doc="Budget unit price per line (blank for a new drug).", **_RANGE)
@xw.arg("actual_qty", doc="Actual quantity per line (blank or 0 if discontinued).", **_RANGE)
@xw.arg("budget_qty", doc="Budget quantity per line (blank or 0 for a new drug).", **_RANGE)
@excel_safe
def RX_PVM(actual_price, budget_price, actual_qty, budget_qty):
    """Price, volume and mix variance per line (3 columns); they sum to the spend variance."""
    lines = columns(
        actual_price=actual_price, budget_price=budget_price, actual_qty=actual_qty,
        budget_qty=budget_qty,
    )
    table = variance.price_volume_mix(*(as_float_array(v, n) for n, v in lines.items()))
    returned = (table["line_status"] == variance.RETURNED).to_numpy()
    if returned.any():
        # Three columns cannot hold a returns driver, and without it the row would not add
        # up to the line's spend variance.
        first = int(np.flatnonzero(returned)[0])
        raise InputError(
            f"actual_qty: line {first + 1} is a net return (negative quantity), which is not"
            " price, volume or mix; net it against the line's purchases, or leave the line out"
            " and show its credit beside the three columns")
    return cell_values(table[["price", "volume", "mix"]].to_numpy(dtype=float), NUM).tolist()


_BRIDGE_NUMBERS = ("actual_qty", "actual_spend", "budget_qty", "budget_spend",
                   "budget_workload", "actual_workload")


@xw.func(category=CATEGORY, **_HEAVY)
@xw.arg("drug", doc="Drug per line: NDC or name (text).", **_RANGE)
@xw.arg("location", doc="Inventory location or cost center per line.", **_RANGE)
@xw.arg("account", doc="Purchasing account per line: 340B, GPO, WAC or any text. One line per drug, location and account.", **_RANGE)
@xw.arg("actual_qty", doc="Packages bought per line, net of returns (negative for a net return); blank is 0.", **_RANGE)
@xw.arg("actual_spend", doc="Dollars paid per line, net of credits.", **_RANGE)
@xw.arg("budget_qty", doc="Budgeted packages per line; blank is 0.", **_RANGE)
@xw.arg("budget_spend", doc="Budgeted dollars per line.", **_RANGE)
@xw.arg("budget_workload", doc="Optional budgeted workload of the line's location (patient days, visits), the same on each of its lines; blank: no workload driver.", **_RANGE)
@xw.arg("actual_workload", doc="Optional actual workload of the line's location, the same on each of its lines.", **_RANGE)
@xw.arg("change_in_inventory", doc="Optional 2 columns: location, change in stock value at cost over the month (ending - beginning). Spread over the location's purchases as timing.", **_RANGE)
@excel_safe
def RX_DRUG_BRIDGE(drug, location, account, actual_qty, actual_spend, budget_qty, budget_spend,
                   budget_workload=None, actual_workload=None, change_in_inventory=None):
    """Drug spend variance bridge: a header row, then per line timing, returns, new, discontinued, workload, utilization, account mix, price."""
    given = {"budget_workload": budget_workload, "actual_workload": actual_workload}
    lines = columns(
        drug=drug, location=location, account=account, actual_qty=actual_qty,
        actual_spend=actual_spend, budget_qty=budget_qty, budget_spend=budget_spend,
        **{name: value for name, value in given.items() if value is not None},
    )
    values = {name: as_float_array(lines[name], name) if name in lines else None
              for name in _BRIDGE_NUMBERS}
    stock = None
    # Not "inventory_change": mraptor reads any VBA name ending in _Change as an ActiveX event
    # handler (code that runs by itself) and rates the add-in SUSPICIOUS.
    if change_in_inventory is not None:
        stock = cells(change_in_inventory)
        if stock.size == 0:
            raise InputError("change_in_inventory: the range is empty")
        if stock.size == 1 and blank_mask(stock)[0, 0]:
            stock = None  # a blank cell: the optional argument left out
    table = drug_bridge.drug_bridge(
        lines["drug"], lines["location"], lines["account"], values["actual_qty"],
        values["actual_spend"], values["budget_qty"], values["budget_spend"],
        values["budget_workload"], values["actual_workload"], stock,
    )
    header = list(table.columns)
    body = table.astype(object)
    numeric = [name for name in header if table[name].dtype.kind == "f"]
    for name in numeric:
        body[name] = cell_values(table[name].to_numpy(dtype=float), NUM)
    return [header, *body.to_numpy().tolist()]


# --- Generics -------------------------------------------------------------------------------


def _categories_and_counts(categories, counts):
    if counts is None:
        return series(categories=categories)["categories"], None
    lines = series(categories=categories, counts=counts)
    return lines["categories"], as_float_array(lines["counts"], "counts")


@xw.func(category=CATEGORY)
@xw.arg("categories", doc="MONY codes (M/N/O/Y) or FDA marketing categories, one per claim or row.", **_RANGE)
@xw.arg("counts", doc="Optional claims or 30-day equivalents per row; default 1 each.", **_RANGE)
@excel_safe
def RX_GDR(categories, counts=None):
    """Generic dispensing rate: generic / (generic + brand) claims, 0 to 1."""
    codes, weights = _categories_and_counts(categories, counts)
    return as_cell(generics.generic_dispensing_rate(codes, weights), DIV0)


@xw.func(category=CATEGORY)
@xw.arg("mony_codes", doc="Medi-Span MONY codes (M/N/O/Y), one per claim or row.", **_RANGE)
@xw.arg("counts", doc="Optional claims or 30-day equivalents per row; default 1 each.", **_RANGE)
@excel_safe
def RX_GENERIC_EFFICIENCY(mony_codes, counts=None):
    """Generic efficiency rate: generic (Y) / multi-source (O + Y) claims."""
    codes, weights = _categories_and_counts(mony_codes, counts)
    return as_cell(generics.generic_efficiency_rate(codes, weights), DIV0)


@xw.func(category=CATEGORY)
@xw.arg("categories", doc='FDA marketing categories, biosimilars tagged "BIOSIMILAR".', **_RANGE)
@xw.arg("counts", doc="Optional claims or units per row; default 1 each.", **_RANGE)
@excel_safe
def RX_BIOSIMILAR_RATE(categories, counts=None):
    """Biosimilar rate: biosimilar / (biosimilar + BLA reference product) claims."""
    codes, weights = _categories_and_counts(categories, counts)
    return as_cell(generics.biosimilar_rate(codes, weights), DIV0)


@xw.func(category=CATEGORY)
@xw.arg("mony_codes", doc="MONY code per line; only O (brand with generics) lines count.", **_RANGE)
@xw.arg("quantities", doc="Quantity dispensed per line, in the unit of the costs.", **_RANGE)
@xw.arg("brand_unit_costs", doc="Brand cost per unit per line.", **_RANGE)
@xw.arg("generic_unit_costs", doc="Generic cost per unit per line.", **_RANGE)
@excel_safe
def RX_GENERIC_OPPORTUNITY(mony_codes, quantities, brand_unit_costs, generic_unit_costs):
    """Dollars a generic switch would save: Σ (brand − generic cost) × quantity on O lines."""
    lines = columns(
        mony_codes=mony_codes, quantities=quantities, brand_unit_costs=brand_unit_costs,
        generic_unit_costs=generic_unit_costs,
    )
    # Costs may be blank where no switch is possible; codes and quantities may not.
    no_blanks("mony_codes", lines["mony_codes"])
    no_blanks("quantities", lines["quantities"])
    savings = generics.generic_switch_opportunity(
        lines["mony_codes"],
        *(as_float_array(lines[name], name) for name in list(lines)[1:]),
    )
    return as_cell(np.sum(savings), NUM)


# --- Inventory ------------------------------------------------------------------------------


def _inventory_inputs(cogs, beginning_inventory, ending_inventory):
    cost = filled_numbers("cogs", cogs).ravel()
    begin = filled_numbers("beginning_inventory", beginning_inventory)
    if ending_inventory is None:
        snapshots = begin  # one row of snapshots per location, or one location's column
        if cost.size == 1 and 1 in snapshots.shape:
            snapshots = snapshots.reshape(1, -1)
    else:
        end = filled_numbers("ending_inventory", ending_inventory)
        if begin.size != cost.size or end.size != cost.size:
            raise InputError(
                "cogs, beginning_inventory and ending_inventory need one value per location:"
                f" got {cost.size}, {begin.size} and {end.size}"
            )
        snapshots = np.column_stack([begin.ravel(), end.ravel()])
    if snapshots.shape[0] != cost.size:
        raise InputError(
            f"beginning_inventory: expected one row of snapshots per cogs value"
            f" ({cost.size}), got {snapshots.shape[0]} rows"
        )
    return cost, snapshots


def _per_location(result) -> Any:
    values = np.atleast_1d(np.asarray(result, dtype=float))
    if values.size == 1:
        return as_cell(float(values[0]), DIV0)
    return [[as_cell(float(v), DIV0)] for v in values]


@xw.func(category=CATEGORY)
@xw.arg("cogs", doc="Cost of goods sold for the period, one per location.", **_RANGE)
@xw.arg("beginning_inventory", doc="Inventory at cost at the start (or a row of snapshots per location).", **_RANGE)
@xw.arg("ending_inventory", doc="Inventory at cost at the end; omit when giving snapshots.", **_RANGE)
@xw.arg("days_in_period", doc="Days the COGS covers; default 365 (a month: 30 or 31).")
@excel_safe
def RX_TURNS(cogs, beginning_inventory, ending_inventory=None, days_in_period=DAYS_IN_YEAR):
    """Inventory turns, annualized: COGS × 365 / days in period / average inventory."""
    cost, snapshots = _inventory_inputs(cogs, beginning_inventory, ending_inventory)
    days = number("days_in_period", days_in_period, DAYS_IN_YEAR)
    return _per_location(inventory.inventory_turns(cost, snapshots, days))


@xw.func(category=CATEGORY)
@xw.arg("cogs", doc="Cost of goods sold for the period, one per location.", **_RANGE)
@xw.arg("beginning_inventory", doc="Inventory at cost at the start (or a row of snapshots per location).", **_RANGE)
@xw.arg("ending_inventory", doc="Inventory at cost at the end; omit when giving snapshots.", **_RANGE)
@xw.arg("days_in_period", doc="Days the COGS covers; default 365 (a month: 30 or 31).")
@excel_safe
def RX_DAYS_ON_HAND(cogs, beginning_inventory, ending_inventory=None, days_in_period=DAYS_IN_YEAR):
    """Days on hand: average inventory × days in period / COGS (365 / annual turns)."""
    cost, snapshots = _inventory_inputs(cogs, beginning_inventory, ending_inventory)
    days = number("days_in_period", days_in_period, DAYS_IN_YEAR)
    return _per_location(inventory.days_on_hand(cost, snapshots, days))


# --- Return on investment -------------------------------------------------------------------


def _flows(values) -> np.ndarray:
    return as_float_array(series(values=values)["values"], "values")


def _dated_flows(values, dates) -> tuple[np.ndarray, np.ndarray]:
    lines = series(values=values, dates=dates)
    return as_float_array(lines["values"], "values"), dates_of("dates", lines["dates"])


@xw.func(category=CATEGORY)
@xw.arg("rate", doc="Discount rate per period, e.g. 0.08 for 8%.")
@xw.arg("values", doc="Cash flows at the END of periods 1..n (as Excel's NPV).", **_RANGE)
@excel_safe
def RX_NPV(rate, values):
    """Net present value as Excel's NPV: the first value is discounted one period."""
    return as_cell(roi.npv(number("rate", rate), _flows(values)), DIV0)


@xw.func(category=CATEGORY)
@xw.arg("values", doc="Cash flows per period; the first (the investment) at time 0.", **_RANGE)
@xw.arg("guess", doc="Where the search starts; default 0.1. Picks among several IRRs.")
@excel_safe
def RX_IRR(values, guess=IRR_GUESS):
    """Internal rate of return as Excel's IRR; #NUM! without a sign change."""
    return as_cell(roi.irr(_flows(values), number("guess", guess, IRR_GUESS)), NUM)


@xw.func(category=CATEGORY)
@xw.arg("rate", doc="Annual discount rate, e.g. 0.08.")
@xw.arg("values", doc="Cash flows, the first on the first date (not discounted).", **_RANGE)
@xw.arg("dates", doc="One date per cash flow (dates or Excel serials), none before the first.", **_RANGE)
@excel_safe
def RX_XNPV(rate, values, dates):
    """Net present value of dated cash flows as Excel's XNPV (actual/365 days)."""
    flows, days = _dated_flows(values, dates)
    return as_cell(roi.xnpv(number("rate", rate), flows, days), NUM)


@xw.func(category=CATEGORY)
@xw.arg("values", doc="Cash flows; at least one positive and one negative.", **_RANGE)
@xw.arg("dates", doc="One date per cash flow (dates or Excel serials), none before the first.", **_RANGE)
@xw.arg("guess", doc="Where the search starts; default 0.1.")
@excel_safe
def RX_XIRR(values, dates, guess=IRR_GUESS):
    """Internal rate of return of dated cash flows as Excel's XIRR; #NUM! if none."""
    flows, days = _dated_flows(values, dates)
    return as_cell(roi.xirr(flows, days, number("guess", guess, IRR_GUESS)), NUM)


@xw.func(category=CATEGORY)
@xw.arg("values", doc="Cash flows per period; at least one positive and one negative.", **_RANGE)
@xw.arg("finance_rate", doc="Rate paid on the money invested (outflows).")
@xw.arg("reinvest_rate", doc="Rate earned on reinvested inflows.")
@excel_safe
def RX_MIRR(values, finance_rate, reinvest_rate):
    """Modified internal rate of return as Excel's MIRR."""
    rates = number("finance_rate", finance_rate), number("reinvest_rate", reinvest_rate)
    return as_cell(roi.mirr(_flows(values), *rates), DIV0)


def _years_or_never(years: float) -> Any:
    return _NEVER if years == np.inf else as_cell(years, NUM)


@xw.func(category=CATEGORY)
@xw.arg("values", doc="Cash flows per period; the first (the investment) at time 0.", **_RANGE)
@excel_safe
def RX_PAYBACK(values):
    """Payback in periods, interpolated; "never" if not recovered within the flows."""
    return _years_or_never(roi.payback(_flows(values)))


@xw.func(category=CATEGORY)
@xw.arg("rate", doc="Discount rate per period.")
@xw.arg("values", doc="Cash flows per period; the first (the investment) at time 0.", **_RANGE)
@excel_safe
def RX_DPAYBACK(rate, values):
    """Discounted payback in periods; "never" if not recovered within the flows."""
    return _years_or_never(roi.discounted_payback(number("rate", rate), _flows(values)))


@xw.func(category=CATEGORY)
@xw.arg("values", doc="Cash flows over the horizon: investment and costs negative.", **_RANGE)
@excel_safe
def RX_ROI(values):
    """Simple ROI: net cash flow / money put in (0.44 is 44%)."""
    return as_cell(roi.simple_roi(_flows(values)), DIV0)


# --- 340B -----------------------------------------------------------------------------------


@xw.func(category=CATEGORY, **_HEAVY)
@xw.arg("claims", doc="Claims table with its header row (the claims contract's columns).", **_RANGE)
@xw.arg("reference_folder", doc="Folder of the 340B reference files; default: RXXL_REFERENCE_DIR.")
@xw.arg("lookback_days", doc="Qualifying-encounter look-back window in days; default 365.")
@excel_safe
def RX_340B_CHECK(claims, reference_folder=None, lookback_days=audit340b.DEFAULT_LOOKBACK_DAYS):
    """340B check per claim: a header row, then claim_id, status, reasons, dollars at risk."""
    policy = audit340b.AuditPolicy(
        lookback_days=int(number("lookback_days", lookback_days,
                                  audit340b.DEFAULT_LOOKBACK_DAYS))
    )
    frame, padding = claims_frame(claims)
    result = audit340b.audit_claims(frame, reference_tables(reference_folder), policy)
    columns = ["claim_id", "status", "reasons", "dollars_at_risk"]
    rows = result[columns].astype(object).where(result[columns].notna(), None)
    dollars = result["dollars_at_risk"].to_numpy(dtype=float)
    rows["dollars_at_risk"] = np.where(np.isnan(dollars), None, cell_values(dollars, NUM))
    # Blank results for the padding rows: the spill then has one row per input row.
    return [columns, *rows.to_numpy().tolist(), *([[None] * len(columns)] * padding)]


# --- Denials --------------------------------------------------------------------------------


@xw.func(category=CATEGORY)
@xw.arg("statuses", doc='Claim status per claim: "paid" or "denied" (initial claims only).', **_RANGE)
@xw.arg("amounts", doc="Optional billed amount per claim: the rate by dollars instead of count.", **_RANGE)
@excel_safe
def RX_DENIAL_RATE(statuses, amounts=None):
    """Denial rate: denied / all claims, by count or by billed dollars, 0 to 1."""
    if amounts is None:
        codes = series(statuses=statuses)["statuses"]
        return as_cell(denials.denial_rate(codes), DIV0)
    lines = series(statuses=statuses, amounts=amounts)
    return as_cell(
        denials.denial_rate(lines["statuses"], as_float_array(lines["amounts"], "amounts")), DIV0
    )


@xw.func(category=CATEGORY)
@xw.arg("months", doc="One month per row (a date in the month, or text such as 2026-10).", **_RANGE)
@xw.arg("submitted", doc="Claims submitted per month (initial claims).", **_RANGE)
@xw.arg("denied", doc="Claims denied per month, at most submitted.", **_RANGE)
@excel_safe
def RX_DENIAL_TREND(months, submitted, denied):
    """p-chart per month (5 columns): rate, center line, UCL, LCL, out of control."""
    lines = series(months=months, submitted=submitted, denied=denied)
    distinct_months("months", lines["months"])
    chart = denials.p_chart(as_float_array(lines["submitted"], "submitted"),
                            as_float_array(lines["denied"], "denied"))
    out = cell_values(chart[["rate", "center_line", "ucl", "lcl"]].to_numpy(dtype=float), DIV0)
    flags = chart["out_of_control"].to_numpy(dtype=bool).tolist()
    return [[*line, flag] for line, flag in zip(out.tolist(), flags, strict=True)]


@xw.func(category=CATEGORY)
@xw.arg("code", doc='NCPDP reject code (e.g. 75, "MR"; 7 is read as 07) or CARC (e.g. "CO-197").', **_RANGE)
@excel_safe
def RX_DENIAL_REASON(code):
    """Description and root-cause category of a denial reason code (2 cells in a row)."""
    grid = cells(code)
    if grid.size != 1:
        raise InputError(f"code: expected a single cell, got {grid.size} cells")
    cell = grid[0, 0]
    if blank_mask(grid)[0, 0]:
        raise InputError("code: required, but the cell is blank")
    if isinstance(cell, bool) or not isinstance(cell, (str, int, float)):
        raise InputError(f"code: {cell!r} is not a reason code")
    if isinstance(cell, float) and not cell.is_integer():
        raise InputError(f"code: {cell!r} is not a reason code (codes are whole numbers or text)")
    reason = denials.describe_reason(cell)
    description = reason["description"] or "(not in rxxl's code table)"
    return [[description, reason["category"]]]


# --- An add-in older than this rxxl --------------------------------------------------------


def __getattr__(name: str) -> Any:
    """An RX_ function the add-in has but this rxxl does not: a cell message with the fix.

    xlwings looks each cell's function up by name in this module; after an upgrade that
    dropped or renamed one, the cell would show a Python traceback. It shows instead what
    happened and the command that rebuilds the add-in for the installed rxxl.
    """
    if not name.startswith("RX_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rxxl import __version__
    from rxxl.addin.install import FIX, drift

    message = (f"#VALUE! {name} is not a function of rxxl {__version__}. "
               + (drift() or f"Close Excel and run `{FIX}`."))

    def missing(*args):
        return message

    missing.__name__ = missing.__qualname__ = name
    missing.__doc__ = message
    return xw.func(category=CATEGORY)(missing)
