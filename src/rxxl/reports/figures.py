"""The monthly package's figures, computed from :class:`~rxxl.reports.inputs.Inputs` with the
metric modules. Every frame here is what a sheet shows; nothing here knows of Excel."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from rxxl import audit340b, denials, drug_bridge, generics, inventory, variance
from rxxl._arrays import ratio
from rxxl.constants import (
    FISCAL_YEAR_START,
    RECONCILE_TOLERANCE,
    TURNS_TARGET_HIGH,
    TURNS_TARGET_LOW,
)
from rxxl.errors import InputError
from rxxl.parsing import parse_month_of_year
from rxxl.reports import audit_sheet
from rxxl.reports.inputs import AUDIT_MONTHS, Inputs, generic_labels, listed_codes

#: Status of a line of the fiscal year in the report month (the Budget sheet's Status): its
#: actual is in; its actual is blank (the month is not closed for it, as the budget_lines
#: contract allows); it has rows earlier in the fiscal year but none this month.
CLOSED, NOT_CLOSED, NO_ROW = "Closed", "Not closed", "No row this month"


def _fu(actual: pd.Series, budget: pd.Series, line_type: pd.Series | str) -> np.ndarray:
    known = actual.notna().to_numpy() & budget.notna().to_numpy()
    out = np.full(len(actual), None, dtype=object)
    if known.any():
        kinds = line_type if isinstance(line_type, str) else line_type[known].astype(str)
        out[known] = variance.favorability(actual[known].to_numpy(), budget[known].to_numpy(),
                                           kinds if isinstance(kinds, str) else kinds.to_numpy())
    return out


def parse_fiscal_year_start(value: object, name: str = "fiscal year start") -> int:
    """The first month of the fiscal year as 1-12, from a setting (``10``, ``"10"``,
    ``10.0``, ``"October"``, ``"oct"``: :func:`rxxl.parsing.parse_month_of_year`); None or
    blank gives the default :data:`~rxxl.constants.FISCAL_YEAR_START`. ``name`` is the
    setting's name in the error (``--fiscal-year-start``, ``FISCAL_YEAR_START``)."""
    return parse_month_of_year(value, name, what="the first month of the fiscal year",
                               default=FISCAL_YEAR_START)


def fiscal_year_months(month: pd.Period, start: int = FISCAL_YEAR_START) -> pd.PeriodIndex:
    """The months of the fiscal year to date: from the last ``start`` month (1-12) on or
    before ``month``, through ``month``."""
    start_year = month.year if month.month >= start else month.year - 1
    first = pd.Period(year=start_year, month=start, freq="M")
    return pd.period_range(first, month, freq="M")


def budget(inputs: Inputs, fiscal_year_start: int = FISCAL_YEAR_START
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every budget line of the fiscal year to date, with the report month, YTD and flexed
    budget; subtotals per cost center and line type (an expense and a revenue line never add
    up to anything).

    A line with rows earlier in the fiscal year but none in the report month is shown with
    its YTD and a blank month (status ``NO_ROW``). A line whose actual is blank is not closed
    (``NOT_CLOSED``): it has no variance, F/U or flexed figures, and variance compares like
    with like, so the subtotals add up the budget and actual of the closed lines only and
    show the open lines' budget apart (``open_budget``); a line's YTD adds up its closed
    months only (a month not closed adds neither budget nor actual).
    """
    lines = inputs.tables["budget_lines"]
    if lines is None or lines.empty:
        return pd.DataFrame(), pd.DataFrame()
    period = lines["month"].dt.to_period("M")
    keys = ["cost_center", "line", "line_type"]
    fiscal = lines[period.isin(fiscal_year_months(inputs.month, fiscal_year_start))]
    if fiscal.empty:
        return pd.DataFrame(), pd.DataFrame()
    ytd = fiscal[fiscal["actual"].notna()].groupby(keys, observed=True)[
        ["budget", "actual"]].sum(min_count=1).add_prefix("ytd_")
    month = fiscal[keys].drop_duplicates().merge(
        lines[period == inputs.month], on=keys, how="left", indicator="_row")
    month = month.merge(ytd.reset_index(), on=keys, how="left")
    month["line_type"] = month["line_type"].astype(str)
    month["status"] = np.select(
        [month.pop("_row").eq("left_only").to_numpy(), month["actual"].isna().to_numpy()],
        [NO_ROW, NOT_CLOSED], CLOSED)
    month["variance"] = variance.variance(month["actual"], month["budget"])
    month["variance_pct"] = variance.variance_pct(month["actual"], month["budget"])
    month["fu"] = _fu(month["actual"], month["budget"], month["line_type"])
    material = variance.is_material(month["actual"].to_numpy(), month["budget"].to_numpy())
    month["material"] = np.where(np.asarray(material, dtype=bool), "Yes", "")
    month["ytd_variance"] = month["ytd_actual"] - month["ytd_budget"]
    month["ytd_variance_pct"] = ratio(month["ytd_variance"], month["ytd_budget"].abs())
    month["ytd_fu"] = _fu(month["ytd_actual"], month["ytd_budget"], month["line_type"])
    has_volume = (month["budget_volume"].notna() & month["actual_volume"].notna()
                  & month["status"].eq(CLOSED))
    flexed = pd.DataFrame(index=month.index,
                          columns=["flexed_budget", "volume_variance", "spending_variance"],
                          dtype=float)
    if has_volume.any():
        part = month[has_volume]
        flexed.loc[has_volume] = variance.flex_variance(
            part["actual"].to_numpy(), part["budget"].to_numpy(),
            part["budget_volume"].to_numpy(), part["actual_volume"].to_numpy(),
        )[["flexed_budget", "volume_variance", "spending_variance"]].to_numpy()
    month = pd.concat([month, flexed], axis=1).sort_values(keys[:2], kind="stable")
    return month.reset_index(drop=True), _subtotals(month)


def _subtotals(month: pd.DataFrame) -> pd.DataFrame:
    """Per cost center and line type: budget and actual of the closed lines (blank when none
    is closed), their variance and F/U, and the budget of the lines not closed."""
    rows = month[month["status"] != NO_ROW]
    closed = rows["status"].eq(CLOSED)
    parts = pd.DataFrame({"cost_center": rows["cost_center"], "line_type": rows["line_type"],
                          "budget": rows["budget"].where(closed), "actual": rows["actual"],
                          "open_budget": rows["budget"].where(rows["status"].eq(NOT_CLOSED))})
    centers = parts.groupby(["cost_center", "line_type"], observed=True, sort=True).sum(
        min_count=1).reset_index()
    centers["variance"] = centers["actual"] - centers["budget"]
    centers["variance_pct"] = ratio(centers["variance"], centers["budget"].abs())
    centers["fu"] = _fu(centers["actual"], centers["budget"], centers["line_type"])
    return centers


def not_closed(inputs: Inputs, month: pd.Period | None = None) -> pd.DataFrame:
    """The budget lines of ``month`` (default the report month) whose actual is blank."""
    lines = inputs.tables["budget_lines"]
    if lines is None or lines.empty:
        return pd.DataFrame(columns=["cost_center", "line", "budget"])
    month = inputs.month if month is None else month
    chosen = (lines["month"].dt.to_period("M") == month) & lines["actual"].isna()
    return lines[chosen.to_numpy()].sort_values(["cost_center", "line"], kind="stable")


#: Budget lines whose name starts with this (any case, as Excel's SUMIFS "Drugs*" matches)
#: are drug spend.
DRUG_LINE_PREFIX = "Drugs"


def is_drug_line(lines: pd.Series) -> np.ndarray:
    return lines.astype(str).str.lower().str.startswith(DRUG_LINE_PREFIX.lower()).to_numpy(
        dtype=bool)


def spend_by_month(inputs: Inputs) -> pd.DataFrame:
    """Drug spend (the budget lines that are drug lines) by month, 24 months: budget and
    actual of the closed drug lines (a line not closed has no actual, so its budget is left
    out too, and the month's spend compares like with like)."""
    months = inputs.months
    frame = pd.DataFrame({"month": months.to_timestamp()})
    lines = inputs.tables["budget_lines"]
    if lines is None or lines.empty:
        return frame.assign(budget=np.nan, actual=np.nan)
    drugs = lines[is_drug_line(lines["line"]) & lines["actual"].notna().to_numpy()]
    sums = drugs.groupby(drugs["month"].dt.to_period("M"))[["budget", "actual"]].sum(
        min_count=1)
    return frame.assign(budget=sums["budget"].reindex(months).to_numpy(),
                        actual=sums["actual"].reindex(months).to_numpy())


#: The bridge's drivers in a finance team's words, in their order of attribution
#: (:data:`rxxl.drug_bridge.DRIVERS`): the one place the report and the template label them.
DRIVER_LABELS = {
    "inventory_timing": "Inventory timing", "returns": "Net returns",
    "new_drug": "New drugs", "discontinued_drug": "Discontinued drugs",
    "workload_volume": "Workload volume", "utilization": "Utilization",
    "account_mix": "Account mix (340B capture)", "price": "Price",
}
#: The steps of the budget-to-actual bridge, in order (the Drivers sheet's chart).
BRIDGE_STEPS = ("Budget", *(DRIVER_LABELS[name] for name in drug_bridge.DRIVERS), "Actual")
#: How many of the largest drivers the Drivers sheet lists (the Summary shows the top 5).
LARGEST_SHOWN = 10
#: Rows of the Summary's top drivers by location and by drug.
TOP_DRIVERS = 5
#: Columns of the Drivers sheet's line table (one row per drug x location x account).
DRIVER_LINE_COLUMNS = [
    "ndc", "drug_name", "location", "cost_center", "account", "line_status",
    "budget_quantity", "actual_quantity", "consumed_quantity", "budget_spend", "actual_spend",
    *drug_bridge.DRIVERS, "total_variance"]


class DriverFigures(NamedTuple):
    """The Drivers sheet's figures (:func:`drivers`)."""

    #: One row per drug x location x account: :data:`DRIVER_LINE_COLUMNS`, largest
    #: |total variance| first.
    lines: pd.DataFrame
    #: ``step`` (:data:`BRIDGE_STEPS`) and ``amount``: budget, the eight drivers, actual.
    bridge: pd.DataFrame
    #: :func:`rxxl.drug_bridge.largest_drivers` (``drug`` is the NDC) with ``label``,
    #: ``drug_name``, ``where`` (in words), ``accounts`` ("WAC instead of 340B") and
    #: ``unit_cost_change`` (price rows).
    largest: pd.DataFrame
    #: :func:`reconcile_purchases`.
    reconciliation: pd.DataFrame
    #: :func:`rxxl.drug_bridge.variance_by` location and by drug (``drug`` the NDC with
    #: ``drug_name``), each with ``main_label``, the main driver in words: the Summary's top
    #: drivers.
    by_location: pd.DataFrame
    by_drug: pd.DataFrame
    #: Data notes for the cover (what was not reconciled or not attributed).
    notes: list[str]


def drivers(inputs: Inputs) -> DriverFigures:
    """Why drug spend moved: the month's purchases through the drug-spend bridge.

    :func:`reconcile_purchases` first (a purchase that does not tie to its GL drug line stops
    the report), then :func:`bridge_lines` into :func:`rxxl.drug_bridge.drug_bridge` with
    each location's workload and inventory change; :func:`rxxl.drug_bridge.bridge_totals`
    gives the bridge's steps and :func:`rxxl.drug_bridge.largest_drivers` the ranked
    drivers. No driver is computed here.

    A cost center whose workload is known on one side only (its actual volume is blank on a
    line not yet closed) has no workload driver: its whole quantity change is utilization,
    and a data note says so.

    ``unit_cost_change`` of a price driver (drug :math:`d`) is the price driver over the
    consumed packages at budget price, on the lines where the drug was budgeted and bought
    (``continuing``):

    .. math::

        \\frac{\\sum_i \\text{price}_i}{\\sum_i (C_i - \\text{price}_i)}, \\qquad
        C_i = A_i - \\text{timing}_i - \\text{returns}_i

    (:math:`C_i - \\text{price}_i = CQ_i \\cdot BP_i`), so "cost 36% more per unit" times
    what was used at budget price is the price driver's dollars.

    Raises
    ------
    rxxl.errors.InputError
        From :func:`reconcile_purchases`, :func:`bridge_lines` or
        :func:`rxxl.drug_bridge.drug_bridge`.
    """
    purchases = _purchase_lines(inputs)  # once, for the reconciliation and the bridge
    reconciliation = reconcile_purchases(inputs, purchases)
    notes = _reconciliation_notes(inputs, reconciliation)
    lines, change = bridge_lines(inputs, purchases)
    if lines.empty:
        empty = pd.DataFrame(columns=DRIVER_LINE_COLUMNS)
        return DriverFigures(empty, pd.DataFrame(columns=["step", "amount"]),
                             pd.DataFrame(), reconciliation, pd.DataFrame(), pd.DataFrame(),
                             notes)
    budget_w, actual_w = lines["budget_workload"], lines["actual_workload"]
    one_side = budget_w.isna() != actual_w.isna()
    if one_side.any():
        centers = listed_codes(lines.loc[one_side, "cost_center"].unique())
        notes.append(f"Workload of {inputs.month} is known on one side only (budget or actual"
                     f" volume blank) for cost center(s) {centers}: the bridge shows no"
                     " workload volume there, their whole quantity change is utilization.")
        budget_w, actual_w = budget_w.where(~one_side), actual_w.where(~one_side)
    bridge = drug_bridge.drug_bridge(
        lines["ndc"], lines["location"], lines["account"], lines["actual_quantity"],
        lines["actual_spend"], lines["budget_quantity"], lines["budget_spend"],
        budget_workload=budget_w, actual_workload=actual_w, inventory_change=change)
    for location, amount in bridge.attrs.get(drug_bridge.NOT_ATTRIBUTED, {}).items():
        notes.append(
            f"{location}'s stock changed by {_money_text(amount)} in {inputs.month} but it bought"
            " nothing that month: the change is not in the bridge's inventory timing (timing"
            " is spread over a location's purchases), so the Drivers sheet does not show it.")
    table = pd.concat([lines[["ndc", "drug_name", "cost_center"]],
                       bridge.drop(columns=["drug"])], axis=1)[DRIVER_LINE_COLUMNS]
    table = table.iloc[np.argsort(-table["total_variance"].abs().to_numpy(), kind="stable")]
    steps = bridge_steps(drug_bridge.bridge_totals(bridge))
    largest = _largest(bridge, lines)
    by_location, by_drug = (drug_bridge.variance_by(bridge, by, n=TOP_DRIVERS)
                            for by in ("location", "drug"))
    names = lines.drop_duplicates("ndc").set_index("ndc")["drug_name"].astype(object)
    by_drug["drug_name"] = by_drug["drug"].map(names)
    # The name before its description: "Privigen (immune globulin IV 10%) 20 g/200 mL" is
    # "Privigen" on the Summary, whose link leads to the full line.
    by_drug["drug_short"] = by_drug["drug_name"].astype(str).str.split(" (", n=1,
                                                                       regex=False).str[0]
    for frame in (by_location, by_drug):
        frame["main_label"] = frame["main_driver"].map(DRIVER_LABELS)
    return DriverFigures(table.reset_index(drop=True), steps, largest, reconciliation,
                         by_location, by_drug, notes)


def bridge_steps(totals: pd.Series) -> pd.DataFrame:
    """The bridge's steps (:func:`rxxl.drug_bridge.bridge_totals`) with what its waterfall
    chart draws: the running total after each step, and each bar's lower end and size.

    Budget and Actual stand on 0 (``bar_from`` 0, ``bar_size`` the amount); a driver's bar
    spans the running totals before and after it:
    :math:`\\text{from} = \\min(R_{k-1}, R_k)`, :math:`\\text{size} = |d_k|`.

    >>> totals = pd.Series([100.0, 30, -20, 110], index=["budget", "a", "b", "actual"])
    >>> bridge_steps(totals)[["amount", "running_total", "bar_from", "bar_size"]].values.tolist()
    [[100.0, 100.0, 0.0, 100.0], [30.0, 130.0, 100.0, 30.0], [-20.0, 110.0, 110.0, 20.0], \
[110.0, 110.0, 0.0, 110.0]]
    """
    amounts = totals.to_numpy(dtype=float)
    running = np.cumsum(amounts)
    running[-1] = amounts[-1]  # Actual is the end, not one more step
    before = np.concatenate([[0.0], running[:-1]])
    ends = np.zeros(len(amounts), dtype=bool)
    ends[[0, -1]] = True
    labels = list(BRIDGE_STEPS) if len(amounts) == len(BRIDGE_STEPS) else list(totals.index)
    return pd.DataFrame({
        "step": labels, "amount": amounts, "running_total": running + 0.0,
        "bar_from": np.where(ends, 0.0, np.minimum(before, running)) + 0.0,
        "bar_size": np.where(ends, amounts, np.abs(amounts)) + 0.0})


def _largest(bridge: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """The ranked drivers with the words and the unit-cost change the sheet shows."""
    largest = drug_bridge.largest_drivers(bridge, n=LARGEST_SHOWN)
    names = lines.drop_duplicates("ndc").set_index("ndc")["drug_name"].astype(object)
    largest["drug_name"] = largest["drug"].map(names).astype(object).where(
        largest["drug"].notna(), None)
    largest["label"] = largest["driver"].map(DRIVER_LABELS)
    largest["where"] = np.where(
        largest["drug_name"].notna() & largest["location"].notna(),
        largest["drug_name"].astype(str) + " at " + largest["location"].astype(str),
        largest["drug_name"].fillna(largest["location"]).astype(object))
    continuing = (bridge["line_status"] == drug_bridge.CONTINUING).to_numpy()
    used = bridge["actual_spend"] - bridge["inventory_timing"] - bridge["returns"]
    per_drug = pd.DataFrame({"drug": bridge["drug"], "price": bridge["price"].where(continuing, 0),
                             "at_budget": (used - bridge["price"]).where(continuing, 0)}
                            ).groupby("drug", sort=False).sum()
    change = ratio(per_drug["price"], per_drug["at_budget"])
    is_price = (largest["driver"] == "price").to_numpy()
    largest["unit_cost_change"] = np.where(
        is_price, largest["drug"].map(pd.Series(change, index=per_drug.index)), np.nan)
    largest["accounts"] = _account_shift(largest)
    return largest


def _account_shift(largest: pd.DataFrame) -> pd.Series:
    """For each account-mix row, which way the buying moved ("WAC instead of 340B"): the
    accounts whose mix rose, instead of those whose mix fell
    (:func:`rxxl.drug_bridge.largest_drivers`' ``gained`` and ``lost``)."""
    gained = largest["gained"].str.replace(", ", " and ", regex=False)
    lost = largest["lost"].str.replace(", ", " and ", regex=False)
    both = gained.notna() & lost.notna()
    shift = (gained + " instead of " + lost).where(both, largest["gained"].fillna(largest["lost"]))
    return shift.astype(object).where(shift.notna(), None)


def _reconciliation_notes(inputs: Inputs, reconciliation: pd.DataFrame) -> list[str]:
    """The not-reconciled sentence as a data note, without what the loader's note on a missing
    locations table already says."""
    sentence = reconciliation.attrs.get("not_reconciled", "")
    purchases = inputs.tables.get("drug_purchases")
    if not sentence or purchases is None or purchases.empty:
        return []
    if inputs.tables.get("locations") is None:
        rest = _not_reconciled(inputs, skip_locations=True)
        return [rest] if rest else []
    return [sentence]


def _require_budget_prices(month: pd.DataFrame, period: pd.Period) -> None:
    """Refuse budgeted packages without a budgeted price: their budget spend would count as
    $0 while the packages count in the budget mix, a silently wrong volume and mix."""
    unpriced = (month["budget_quantity"].fillna(0) != 0) & month["unit_cost_budget"].isna()
    if unpriced.any():
        first = month[unpriced.to_numpy()].iloc[0]
        raise InputError(
            f"drug_purchases: {int(unpriced.sum())} row(s) of {period} have a budget_quantity"
            f" but no unit_cost_budget (first: NDC {first['ndc']}, account {first['account']},"
            f" location {first['location']}); enter the budgeted price per package, or clear"
            " the budget quantity")


# --- The bridge's inputs: purchase lines, workload, inventory change, reconciliation ---------

#: The grain of the drug-spend bridge: one drug bought on one account at one location.
BRIDGE_GRAIN = ["ndc", "drug_name", "location", "account"]
BRIDGE_LINE_COLUMNS = [
    *BRIDGE_GRAIN, "actual_quantity", "actual_spend", "budget_quantity", "budget_spend",
    "cost_center", "budget_line", "workload_driver", "budget_workload", "actual_workload",
]


def _purchase_lines(inputs: Inputs) -> pd.DataFrame:
    """The report month's purchases per (ndc, drug_name, location, account) with their
    cost center and budget line (NaN where the table or the value is missing)."""
    purchases = inputs.tables.get("drug_purchases")
    if purchases is None or purchases.empty:
        return pd.DataFrame(columns=BRIDGE_LINE_COLUMNS[:-3])
    month = purchases[(purchases["month"].dt.to_period("M") == inputs.month).to_numpy()]
    if month.empty:
        return pd.DataFrame(columns=BRIDGE_LINE_COLUMNS[:-3])
    _require_budget_prices(month, inputs.month)
    budgeted = month["budget_quantity"].fillna(0.0)
    # A row without budget packages has no budget spend, whatever its (blank) budget price.
    budget_spend = np.where(budgeted.to_numpy() != 0,
                            budgeted.to_numpy() * month["unit_cost_budget"].to_numpy(), 0.0)
    frame = pd.DataFrame({
        "ndc": month["ndc"].astype(object), "drug_name": month["drug_name"].astype(object),
        "location": month["location"].astype(object), "account": month["account"].astype(str),
        "actual_quantity": month["quantity"],
        "actual_spend": month["quantity"] * month["unit_cost_actual"],
        "budget_quantity": budgeted, "budget_spend": budget_spend,
    })
    # dropna=False: purchases with a blank location are still the month's spend.
    lines = frame.groupby(BRIDGE_GRAIN, dropna=False, sort=True)[
        ["actual_quantity", "actual_spend", "budget_quantity", "budget_spend"]].sum(
    ).reset_index()
    locations = inputs.tables.get("locations")
    lines["cost_center"] = (
        lines["location"].map(locations.drop_duplicates("location").set_index("location")[
            "cost_center"].astype(object)) if locations is not None else np.nan)
    drugs = inputs.tables.get("drugs")
    lines["budget_line"] = (
        lines["ndc"].map(drugs.drop_duplicates("ndc").set_index("ndc")["budget_line"].astype(
            object)) if drugs is not None else np.nan)
    return lines


def _month_drug_lines(inputs: Inputs) -> pd.DataFrame:
    """The GL drug lines (:func:`is_drug_line`) of the report month."""
    gl = inputs.tables.get("budget_lines")
    if gl is None or gl.empty:
        return pd.DataFrame(columns=["cost_center", "line", "budget", "actual", "volume_driver",
                                     "budget_volume", "actual_volume"])
    chosen = (gl["month"].dt.to_period("M") == inputs.month).to_numpy() & is_drug_line(
        gl["line"])
    return gl[chosen]


def workload(inputs: Inputs) -> pd.DataFrame:
    """Each cost center's workload of the report month, from its GL drug lines.

    The volume driver (adjusted patient days, infusion visits, prescriptions, ...) belongs to
    the cost center, so every drug line of one cost center-month carries the same budget and
    actual volume; a blank cell says nothing and is skipped, and a cost center whose lines
    are all blank has NaN.

    Parameters
    ----------
    inputs : Inputs

    Returns
    -------
    pandas.DataFrame
        Indexed by ``cost_center``: ``workload_driver`` (text), ``budget_workload`` and
        ``actual_workload``.

    Raises
    ------
    rxxl.errors.InputError
        Two drug lines of one cost center-month with different budget (or actual) volumes:
        the message names the cost center, the month and the two values.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §1: drug expense is reported against workload (adjusted
       patient days, visits, doses), the flexed budget's volume driver.
    """
    lines = _month_drug_lines(inputs)
    out = pd.DataFrame(index=pd.Index([], name="cost_center"),
                       columns=["workload_driver", "budget_workload", "actual_workload"])
    if lines.empty:
        return out
    centers = lines["cost_center"].astype(object)
    for column in ("budget_volume", "actual_volume"):
        values = lines[column]
        distinct = values.groupby(centers).nunique(dropna=True)
        if (distinct > 1).any():
            center = sorted(distinct.index[distinct > 1])[0]
            two = np.sort(values[(centers == center).to_numpy()].dropna().unique())[:2]
            raise InputError(
                f"budget_lines: the drug lines of cost center {center} in {inputs.month} have"
                f" different {column} ({two[0]:,.10g} and {two[1]:,.10g}); the volume driver"
                " is the cost center's workload, the same on each of its drug lines: give every"
                " drug line of the cost center-month the same value")
    first = lines.assign(cost_center=centers).groupby("cost_center", sort=True).first()
    return pd.DataFrame({
        "workload_driver": first["volume_driver"].astype(object),
        "budget_workload": first["budget_volume"].astype(float),
        "actual_workload": first["actual_volume"].astype(float),
    })


def inventory_change(inputs: Inputs) -> dict[str, float]:
    """Per location with inventory snapshots: ending minus beginning inventory at cost of the
    report month.

    .. math:: \\Delta I_l = V_l(d_1) - V_l(d_0)

    with :math:`d_1` the report month's last day, :math:`d_0` the previous month's last day
    and :math:`V_l(d)` the sum of location :math:`l`'s inventory values on day :math:`d`
    (per-NDC snapshots add up to the location's stock). Positive: stock was built
    (purchases above consumption, a timing item that reverses as the stock is used).

    Parameters
    ----------
    inputs : Inputs

    Returns
    -------
    dict of str to float
        Location code to inventory change in dollars, for every location that has
        snapshots anywhere in the data.

    Raises
    ------
    rxxl.errors.InputError
        A location with snapshots but none on one of the two dates: the message names the
        location, the missing date and the fix.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §1, Explaining drug spend: consumption = beginning inventory
       + purchases - ending inventory, so purchases above consumption are the change in
       stock.
    .. [2] Northeast Pharmacy Service Corporation, "Inventory Turnover" (beginning and
       ending inventory of the period), https://northeastpharmacy.com/resources/financial-tools/it/

    Examples
    --------
    >>> snapshots = pd.DataFrame({
    ...     "snapshot_date": pd.to_datetime(["2026-09-30", "2026-10-31", "2026-10-31"]),
    ...     "location": ["RX", "RX", "RX"], "inventory_value": [5000.0, 3000.0, 2500.0]})
    >>> inventory_change(_example_inputs(inventory_snapshots=snapshots))
    {'RX': 500.0}
    """
    snapshots = inputs.tables.get("inventory_snapshots")
    if snapshots is None or snapshots.empty:
        return {}
    ending = inputs.month.end_time.normalize()
    beginning = (inputs.month - 1).end_time.normalize()
    dates = snapshots["snapshot_date"]
    both = snapshots[(dates.eq(ending) | dates.eq(beginning)).to_numpy()]
    values = both.groupby([both["location"].astype(object), both["snapshot_date"]])[
        "inventory_value"].sum().unstack("snapshot_date")
    values = values.reindex(index=sorted(snapshots["location"].dropna().unique()),
                            columns=[beginning, ending])
    gaps = [f"{location} has no snapshot on {date:%Y-%m-%d}"
            for date in (beginning, ending) for location in values.index[values[date].isna()]]
    if gaps:
        more = f" and {len(gaps) - 10:,} more" if len(gaps) > 10 else ""
        raise InputError(
            f"inventory_snapshots: the inventory change of {inputs.month} needs each location's"
            f" stock on {beginning:%Y-%m-%d} and {ending:%Y-%m-%d}, the two month ends:"
            f" {'; '.join(gaps[:10])}{more}; add the month-end count (or the perpetual"
            " inventory's value that day) for each")
    change = values[ending] - values[beginning]
    return {str(location): float(amount) for location, amount in change.items()}


def bridge_lines(inputs: Inputs, purchases: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, dict[str, float]]:
    """The report month's drug purchases at the bridge's grain, and each location's
    inventory change.

    Per (ndc, drug_name, location, account) of the month's purchases:

    - ``actual_quantity`` = :math:`\\sum q` (packages, net of returns), ``actual_spend`` =
      :math:`\\sum q \\cdot c_{actual}`;
    - ``budget_quantity`` = :math:`\\sum q_b` (blank counts 0), ``budget_spend`` =
      :math:`\\sum q_b \\cdot c_{budget}` (budget packages without a budget price are refused);
    - ``cost_center`` from the ``locations`` table, ``budget_line`` from ``drugs``
      (NaN without the table or the value);
    - ``workload_driver``, ``budget_workload``, ``actual_workload``: the cost center's
      workload of the month (:func:`workload`; NaN when not known).

    Parameters
    ----------
    inputs : Inputs
    purchases : pandas.DataFrame, optional
        The month's purchase lines as the reconciliation read them (computed when not
        given).

    Returns
    -------
    lines : pandas.DataFrame
        One row per bridge line, sorted by the grain; empty (with the columns) when there are
        no purchases in the month.
    inventory_change : dict of str to float
        :func:`inventory_change`.

    Raises
    ------
    rxxl.errors.InputError
        Budget packages without a budget price; drug lines of one cost center-month with
        different volumes; a location with snapshots missing a month-end count.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §1, Explaining drug spend: price is compared on the same
       product and purchasing account, and expense against the cost center's workload.

    Examples
    --------
    Two GPO rows of one drug and location (a purchase and a return) make one line; a blank
    budget quantity is no budget:

    >>> purchases = pd.DataFrame({
    ...     "month": pd.to_datetime(["2026-10-01"] * 3), "ndc": ["00001000101"] * 3,
    ...     "drug_name": ["Drug A"] * 3, "quantity": [10.0, -2.0, 5.0],
    ...     "unit_cost_actual": [100.0, 100.0, 40.0], "unit_cost_budget": [90.0, 90.0, 40.0],
    ...     "budget_quantity": [8.0, None, 5.0], "account": ["GPO", "GPO", "340B"],
    ...     "location": ["RX", "RX", "RX"]})
    >>> lines, change = bridge_lines(_example_inputs(drug_purchases=purchases))
    >>> lines[["account", "actual_quantity", "actual_spend", "budget_spend"]]
      account  actual_quantity  actual_spend  budget_spend
    0    340B              5.0         200.0         200.0
    1     GPO              8.0         800.0         720.0
    >>> change
    {}
    """
    lines = (_purchase_lines(inputs) if purchases is None else purchases).copy()
    centers = workload(inputs)
    for column in ("workload_driver", "budget_workload", "actual_workload"):
        lines[column] = lines["cost_center"].map(centers[column]) if len(lines) else []
    return lines[BRIDGE_LINE_COLUMNS].reset_index(drop=True), inventory_change(inputs)


def _example_inputs(**tables: pd.DataFrame) -> Inputs:
    """Inputs holding only ``tables`` (the docstrings' examples)."""
    return Inputs(folder=None, month=pd.Period("2026-10"), tables=tables, reference=None,
                  claims=None, audit=None, audit_by_month=pd.DataFrame(),
                  denial_counts=pd.DataFrame(), monthly_claims=pd.DataFrame())


RECONCILIATION_COLUMNS = [
    "cost_center", "line", "status", "purchases_actual", "gl_actual", "actual_difference",
    "purchases_budget", "gl_budget", "budget_difference",
]


def reconcile_purchases(inputs: Inputs, purchases: pd.DataFrame | None = None
                        ) -> pd.DataFrame:
    """The report month's drug purchases against the GL drug lines they post to.

    Purchases post to the line (``cost_center``, ``budget_line``): the cost center of their
    location (``locations``) and their drug's budget line (``drugs.budget_line``). Per line:

    - ``actual_difference`` = purchases at actual cost − the GL line's actual;
    - ``budget_difference`` = purchases at budget (budget packages × budget price) − the GL
      line's budget.

    A GL line not yet closed (actual blank) is compared on budget only (its actual
    difference is NaN). Differences up to :data:`~rxxl.constants.RECONCILE_TOLERANCE`
    dollars are rounding; anything more stops the run, since a bridge of purchases would
    then explain a different number than the GL line the director presents.

    Parameters
    ----------
    inputs : Inputs
    purchases : pandas.DataFrame, optional
        The month's purchase lines, as :func:`bridge_lines` reads them (computed when not
        given).

    Returns
    -------
    pandas.DataFrame
        One row per GL drug line or purchase line of the month, sorted by cost center and
        line, with the columns of :data:`RECONCILIATION_COLUMNS`. Empty, with
        ``attrs["not_reconciled"]`` a sentence saying what is missing, when there is no
        ``locations`` table, no ``budget_line`` in ``drugs``, or no purchases or budget
        lines table.

    Raises
    ------
    rxxl.errors.InputError
        A difference above the tolerance, a GL drug line with no purchases, purchases that
        post to a line the GL lacks, or purchases that cannot be put to a line (no location,
        or a drug without a budget line): each named with month, cost center, line and the
        amounts, and the fix.

    References
    ----------
    .. [1] "General ledger & control account": at the end of a period each general ledger
       control account must equal the total of its subsidiary ledger,
       https://the-definition.com/term/general-ledger-and-control-account
    .. [2] ``shared/DOMAIN.md`` §1, Explaining drug spend.

    Examples
    --------
    >>> purchases = pd.DataFrame({
    ...     "month": pd.to_datetime(["2026-10-01"] * 2), "ndc": ["00001000101"] * 2,
    ...     "drug_name": ["Drug A"] * 2, "quantity": [10.0, 4.0],
    ...     "unit_cost_actual": [100.0, 40.0], "unit_cost_budget": [95.0, 40.0],
    ...     "budget_quantity": [8.0, 6.0], "account": ["GPO", "340B"], "location": ["RX"] * 2})
    >>> gl = pd.DataFrame({
    ...     "month": pd.to_datetime(["2026-10-01"]), "cost_center": ["7010 Pharmacy"],
    ...     "line": ["Drugs - Oncology"], "budget": [1000.0], "actual": [1160.0],
    ...     "volume_driver": [None], "budget_volume": [None], "actual_volume": [None]})
    >>> table = reconcile_purchases(_example_inputs(
    ...     drug_purchases=purchases, budget_lines=gl,
    ...     locations=pd.DataFrame({"location": ["RX"], "cost_center": ["7010 Pharmacy"]}),
    ...     drugs=pd.DataFrame({"ndc": ["00001000101"], "budget_line": ["Drugs - Oncology"]})))
    >>> table.loc[0, ["purchases_actual", "gl_actual", "purchases_budget", "gl_budget",
    ...               "budget_difference"]].tolist()
    [1160.0, 1160.0, 1000.0, 1000.0, 0.0]
    """
    missing = _not_reconciled(inputs)
    if missing:
        empty = pd.DataFrame(columns=RECONCILIATION_COLUMNS)
        empty.attrs["not_reconciled"] = missing
        return empty
    if purchases is None:
        purchases = _purchase_lines(inputs)
    _refuse_unposted(purchases, inputs.month)
    posted = purchases.groupby(["cost_center", "budget_line"], sort=True)[
        ["actual_spend", "budget_spend"]].sum().reset_index().rename(columns={
            "budget_line": "line", "actual_spend": "purchases_actual",
            "budget_spend": "purchases_budget"})
    gl = _month_drug_lines(inputs)
    gl = pd.DataFrame({"cost_center": gl["cost_center"].astype(object),
                       "line": gl["line"].astype(object), "gl_actual": gl["actual"],
                       "gl_budget": gl["budget"]})
    table = gl.merge(posted, on=["cost_center", "line"], how="outer", indicator="_side")
    side = table.pop("_side").astype(str).to_numpy()
    no_purchases, no_gl = side == "left_only", side == "right_only"
    table.loc[no_purchases, ["purchases_actual", "purchases_budget"]] = 0.0
    closed = table["gl_actual"].notna().to_numpy()
    table["actual_difference"] = np.where(closed, table["purchases_actual"] - table["gl_actual"],
                                          np.nan)
    table["budget_difference"] = table["purchases_budget"] - table["gl_budget"]
    # A GL line whose actual is blank is not closed: compared on budget only.
    table["status"] = np.where(closed, CLOSED, NOT_CLOSED)
    table = table[RECONCILIATION_COLUMNS].sort_values(["cost_center", "line"], kind="stable")
    _refuse_differences(table, no_purchases[table.index], no_gl[table.index], inputs.month)
    return table.reset_index(drop=True)


def _not_reconciled(inputs: Inputs, *, skip_locations: bool = False) -> str:
    """What is missing to reconcile (a sentence), or "" when nothing is; ``skip_locations``
    leaves out a missing locations table (the loader's own data note says it)."""
    tables = inputs.tables
    drugs = tables.get("drugs")
    missing = [
        text for absent, text in (
            (tables.get("drug_purchases") is None, "no drug_purchases table"),
            (tables.get("budget_lines") is None, "no budget_lines table"),
            (tables.get("locations") is None and not skip_locations,
             "no locations table (the cost center each location's purchases post to)"),
            (drugs is None, "no drugs table (with the budget_line each drug posts to)"),
            (drugs is not None and drugs["budget_line"].isna().all(),
             "no budget_line in the drugs table (the GL drug line each drug posts to)"),
        ) if absent]
    if not missing:
        return ""
    return (f"Drug purchases of {inputs.month} were not reconciled to the GL drug lines:"
            f" {'; '.join(missing)}.")


def _money_text(amount: float) -> str:
    if pd.isna(amount):
        return "blank"
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def _refuse_unposted(purchases: pd.DataFrame, month: pd.Period) -> None:
    """Refuse purchases that cannot be put to a GL line: they would be left out of the
    reconciliation and of every cost center's bridge."""
    no_center = purchases["cost_center"].isna().to_numpy()
    no_line = purchases["budget_line"].isna().to_numpy()
    if not (no_center | no_line).any():
        return
    parts = []
    if no_center.any():
        parts.append(f"{int(no_center.sum()):,} with no location or one the locations table"
                     " does not list: give each purchase the location that received it")
    if no_line.any():
        ndcs = listed_codes(purchases.loc[no_line, "ndc"].unique())
        parts.append(f"{int(no_line.sum()):,} of NDC(s) {ndcs} with no budget_line in the drugs"
                     " table: add the NDC to drugs with the GL drug line its purchases post to")
    raise InputError(
        f"drug_purchases: purchase lines of {month} cannot be put to a GL drug line:"
        f" {'; '.join(parts)}")


def _refuse_differences(table: pd.DataFrame, no_purchases: np.ndarray, no_gl: np.ndarray,
                        month: pd.Period) -> None:
    tolerance = RECONCILE_TOLERANCE
    actual_off = (table["actual_difference"].abs() > tolerance).to_numpy()
    budget_off = (table["budget_difference"].abs() > tolerance).to_numpy()
    gl_only = no_purchases & (actual_off | budget_off)
    purchases_only = no_gl & ((table["purchases_actual"].abs() > tolerance)
                              | (table["purchases_budget"].abs() > tolerance)).to_numpy()
    matched = ~no_purchases & ~no_gl & (actual_off | budget_off)
    problems = []
    for row in table[gl_only].itertuples(index=False):
        problems.append(
            f"{row.cost_center} / {row.line}: the GL line has actual {_money_text(row.gl_actual)},"
            f" budget {_money_text(row.gl_budget)} but no purchases post to it")
    for row in table[purchases_only].itertuples(index=False):
        problems.append(
            f"{row.cost_center} / {row.line}: purchases of {_money_text(row.purchases_actual)}"
            f" (budget {_money_text(row.purchases_budget)}) post to a line the GL does not have")
    for row, a_off, b_off in zip(table[matched].itertuples(index=False), actual_off[matched],
                                 budget_off[matched], strict=True):
        sides = []
        if a_off:
            sides.append(f"purchases actual {_money_text(row.purchases_actual)}, GL actual"
                         f" {_money_text(row.gl_actual)}, difference"
                         f" {_money_text(row.actual_difference)}")
        if b_off:
            sides.append(f"purchases budget {_money_text(row.purchases_budget)}, GL budget"
                         f" {_money_text(row.gl_budget)}, difference"
                         f" {_money_text(row.budget_difference)}")
        problems.append(f"{row.cost_center} / {row.line}: {'; '.join(sides)}")
    if not problems:
        return
    more = f" and {len(problems) - 10:,} more" if len(problems) > 10 else ""
    raise InputError(
        f"the drug purchases and the GL drug lines must agree (within"
        f" ${tolerance:,.2f} a line) for {month}; {len(problems):,} line(s) do not:"
        f" {' | '.join(problems[:10])}{more}. Each GL drug line is the month's purchases of"
        " its cost center's locations (the locations table) of the drugs that post to it"
        " (drugs.budget_line), at actual cost and at budget: correct the purchases, the"
        " locations' cost centers, the drugs' budget_line or the GL export, then run again")


def generic_figures(inputs: Inputs) -> dict[str, pd.DataFrame]:
    months = inputs.months
    monthly = inputs.monthly_claims.reindex(months.astype(str))
    by_month = pd.DataFrame({
        "month": months.to_timestamp(),
        "generic": monthly["generic"].fillna(0).astype("int64").to_numpy()
        if "generic" in monthly else 0,
        "brand": monthly["brand"].fillna(0).astype("int64").to_numpy()
        if "brand" in monthly else 0,
    })
    by_month["gdr"] = ratio(by_month["generic"], by_month["generic"] + by_month["brand"])
    out = {"gdr_by_month": by_month}
    claims, drugs = inputs.claims, inputs.tables["drugs"]
    if claims is None or drugs is None:
        return out
    # Only the columns the figures read: a copy of a million whole claims costs 0.5 GB.
    paid = claims.loc[claims["status"].eq("paid").to_numpy(dtype=bool, na_value=False),
                      ["ndc", "drug_name", "site_id", "payer", "quantity", "unit_cost_wac"]]
    labels = generic_labels(paid, drugs)
    known = pd.notna(labels)
    paid = paid[known].assign(generic=labels[known] == "generic")
    for key, name in (("site_id", "gdr_by_site"), ("payer", "gdr_by_payer")):
        group = paid.groupby(key, observed=True)["generic"]
        table = pd.DataFrame({"claims": group.size(), "generic": group.sum()})
        table["gdr"] = ratio(table["generic"], table["claims"])
        out[name] = table.reset_index().sort_values("claims", ascending=False)
    table = drugs.drop_duplicates("ndc").set_index("ndc")
    mony = paid["ndc"].map(table["mony_code"]).astype(str)
    out["generic_measures"] = pd.DataFrame({
        "measure": ["Generic dispensing rate", "Generic efficiency rate",
                    "Generic dispensing rate, 24 months"],
        "value": [
            generics.generic_dispensing_rate(mony.to_numpy(), scheme="mony"),
            generics.generic_efficiency_rate(mony.to_numpy()),
            ratio(by_month["generic"].sum(), (by_month["generic"] + by_month["brand"]).sum()),
        ],
    })
    out["opportunity"] = _opportunity(paid.assign(mony=mony), table)
    return out


def _opportunity(paid: pd.DataFrame, drugs: pd.DataFrame) -> pd.DataFrame:
    """Brand claims of drugs with a generic in the same group: the saving if switched.
    ``paid`` carries each claim's MONY code."""
    paid = paid.assign(group=paid["ndc"].map(drugs["generic_group"]),
                       unit=paid["unit_cost_wac"])
    generic_cost = paid[paid["mony"] == "Y"].groupby("group")["unit"].median()
    brands = paid[(paid["mony"] == "O") & paid["group"].isin(generic_cost.index)]
    if brands.empty:
        return pd.DataFrame()
    per = brands.groupby(["ndc", "drug_name", "group"], observed=True).agg(
        claims=("ndc", "size"), quantity=("quantity", "sum"), brand_unit_cost=("unit", "median"),
    ).reset_index().rename(columns={"group": "generic_group"})
    per["generic_unit_cost"] = per["generic_group"].map(generic_cost).to_numpy()
    per["saving"] = generics.generic_switch_opportunity(
        np.full(len(per), "O"), per["quantity"].to_numpy(), per["brand_unit_cost"].to_numpy(),
        per["generic_unit_cost"].to_numpy())
    return per.sort_values("saving", ascending=False).reset_index(drop=True)


def inventory_figures(inputs: Inputs, month: pd.Period | None = None) -> pd.DataFrame:
    """Per location: beginning and ending inventory, COGS = purchases - change - expired,
    turns (annualized) and days on hand for ``month`` (default the report month)."""
    month = inputs.month if month is None else month
    snapshots = inputs.tables["inventory_snapshots"]
    if snapshots is None or snapshots.empty:
        return pd.DataFrame()
    snaps = snapshots.assign(period=snapshots["snapshot_date"].dt.to_period("M"))
    # Per-drug rows of one count add up; of several counts in a month the last is the
    # month's ending inventory, while expired stock (removed since the count before) adds up.
    counts = snaps.groupby(["location", "period", "snapshot_date"], observed=True)[
        ["inventory_value", "expired_value"]].sum(min_count=1)
    by = pd.DataFrame({
        "inventory_value": counts["inventory_value"].groupby(level=[0, 1]).last(),
        "expired_value": counts["expired_value"].groupby(level=[0, 1]).sum(min_count=1)})
    ending = by.xs(month, level="period") if month in by.index.get_level_values(
        "period") else None
    if ending is None:
        return pd.DataFrame()
    previous = month - 1
    beginning = by.xs(previous, level="period")["inventory_value"] if previous in \
        by.index.get_level_values("period") else pd.Series(dtype=float)
    table = pd.DataFrame({"ending": ending["inventory_value"],
                          "expired": ending["expired_value"].fillna(0.0)})
    table["beginning"] = beginning.reindex(table.index)
    purchases = inputs.tables["drug_purchases"]
    if purchases is not None:
        bought = purchases[purchases["month"].dt.to_period("M") == month]
        spent = (bought["quantity"] * bought["unit_cost_actual"]).groupby(
            bought["location"]).sum()
        table["purchases"] = spent.reindex(table.index).fillna(0.0)
    else:
        table["purchases"] = np.nan
    table["cogs"] = table["purchases"] - (table["ending"] - table["beginning"]) - table["expired"]
    days = month.days_in_month
    values = table[["beginning", "ending"]]
    cogs = table["cogs"].where(table["cogs"] >= 0)
    table["average"] = inventory.average_inventory(values)
    table["turns"] = _per_location(inventory.inventory_turns, cogs, values, days)
    table["days_on_hand"] = _per_location(inventory.days_on_hand, cogs, values, days)
    inside = (table["turns"] >= TURNS_TARGET_LOW) & (table["turns"] <= TURNS_TARGET_HIGH)
    table["in_band"] = np.where(table["turns"].isna(), "", np.where(inside, "Yes", "No"))
    table["waste_rate"] = ratio(table["expired"], table["purchases"])
    return table.reset_index()


def _per_location(function, cogs: pd.Series, values: pd.DataFrame, days: int) -> np.ndarray:
    known = cogs.notna() & values.notna().all(axis=1)
    out = np.full(len(cogs), np.nan)
    if known.any():
        out[known.to_numpy()] = np.asarray(
            function(cogs[known].to_numpy(), values[known].to_numpy(), days_in_period=days),
            dtype=float)
    return out


#: Months across the Denials grid (the p-charts show all the months of the trend).
GRID_MONTHS = 12
#: Payers charted on the Denials sheet, those with the most excess denials this month.
PCHARTS = 3
#: What the Denials detail's Out of control column says of a month above its UCL or below
#: its LCL (text, so every reader shows words, not TRUE/FALSE or 0/1).
ABOVE_UCL, BELOW_LCL = "Above UCL", "Below LCL"


def denial_figures(inputs: Inputs) -> dict[str, pd.DataFrame]:
    """The Denials sheet's frames: the payer x month detail (``denial_trend``), the grid of
    payers by month (``denial_grid``, its months in ``grid_months``), the p-charts of the
    top payers (``pchart_1``... with ``pchart_payers``), the Pareto and the root causes."""
    counts = inputs.denial_counts
    if counts.empty:
        return {}
    trend = denials.trend_from_counts(counts, "payer")
    trend = trend[trend["month"].isin(inputs.months.astype(str))].reset_index(drop=True)
    above = trend["out_of_control"] & (trend["denial_rate"] > trend["center_line"])
    trend["control"] = np.where(trend["out_of_control"],
                                np.where(above, ABOVE_UCL, BELOW_LCL), "")
    # Points, to the tenth shown (0.012 is 1.2 pts; no "-0.0" for a change of -0.04).
    trend["change_pts"] = (trend["mom_change"] * 100).round(1)
    out = {"denial_trend": trend}
    months = [str(m) for m in inputs.months[-GRID_MONTHS:]]
    out["grid_months"] = pd.DataFrame({"month": months})
    grid = denial_grid(trend, months)
    out["denial_grid"] = grid
    charted = grid["payer"].head(PCHARTS).tolist() if len(grid) else []
    out["pchart_payers"] = pd.DataFrame({"payer": charted})
    for number, payer in enumerate(charted, start=1):
        chart = trend[trend["payer"] == payer]
        out[f"pchart_{number}"] = chart[["month", "denial_rate", "center_line", "ucl", "lcl"]
                                        ].assign(flagged=chart["denial_rate"].where(
                                            chart["out_of_control"]))
    if inputs.claims is not None and len(inputs.claims):
        out["pareto"] = denials.pareto(inputs.claims)
        categories = denials.pareto(inputs.claims, by="category")
        out["denial_categories"] = categories[["category", "count", "denied_dollars"]]
    return out


def grid_key(back: int) -> str:
    """The Denials grid's key of the rate ``back`` months before the report month."""
    return f"rate_m{back}"


def denial_grid(trend: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """One row per payer: its initial denial rate in each of ``months`` (the last is the
    report month), and the report month's change in points, claims submitted and denied,
    excess denials (denied less center line x submitted: the denials the payer's own
    normal rate does not explain), dollars submitted and denied and the rate by dollars;
    payers with the most excess denials first.

    Examples
    --------
    >>> trend = pd.DataFrame({"payer": ["A", "A", "B", "B"],
    ...     "month": ["2026-09", "2026-10"] * 2, "submitted": [100, 100, 50, 50],
    ...     "denied": [5, 20, 5, 5], "denial_rate": [0.05, 0.2, 0.1, 0.1],
    ...     "center_line": [0.05, 0.05, 0.1, 0.1], "mom_change": [None, 0.15, None, 0.0],
    ...     "submitted_dollars": [1e4, 1e4, 5e3, 5e3], "denied_dollars": [500, 2e3, 500, 500]})
    >>> denial_grid(trend, ["2026-09", "2026-10"])[["payer", "rate_m1", "rate_m0", "change_pts",
    ...                                             "excess"]]
      payer  rate_m1  rate_m0  change_pts  excess
    0     A     0.05      0.2        15.0    15.0
    1     B     0.10      0.1         0.0     0.0
    """
    shown = trend[trend["month"].isin(months)]
    rates = shown.pivot(index="payer", columns="month", values="denial_rate").reindex(
        columns=months)
    rates.columns = [grid_key(len(months) - 1 - i) for i in range(len(months))]
    this = trend[trend["month"] == months[-1]].set_index("payer")
    grid = rates.join(this[["mom_change", "submitted", "denied", "center_line",
                            "submitted_dollars", "denied_dollars"]], how="left")
    # Points, not a percent: 0.012 is 1.2 pts.
    grid["change_pts"] = (grid.pop("mom_change") * 100).round(1)
    grid["excess"] = grid["denied"] - grid.pop("center_line").fillna(0) * grid["submitted"]
    grid["dollar_rate"] = ratio(grid["denied_dollars"], grid["submitted_dollars"])
    grid = grid.rename_axis("payer").reset_index()
    for key in ("submitted", "denied"):
        grid[key] = grid[key].fillna(0).astype("int64")
    for key in ("submitted_dollars", "denied_dollars", "excess"):
        grid[key] = grid[key].fillna(0.0)
    return grid.sort_values(["excess", "denied", "payer"], ascending=[False, False, True],
                            kind="stable").reset_index(drop=True)


def audit_figures(inputs: Inputs, *, mask_patients: bool = True,
                  deidentify: bool = False) -> dict[str, pd.DataFrame]:
    """The 340B sheet's frames: the audit by month, the month's exceptions by reason (code,
    status and plain words), site and entity, the audit parameters and the tracer sample
    (patients masked as in the claim detail: ``mask_patients``, ``deidentify``)."""
    if inputs.audit is None:
        return {}
    audit = inputs.audit
    out = {"audit": audit, "exceptions_by_month": audit_trend(inputs)}
    for by in ("reason", "site", "entity"):
        out[f"exceptions_by_{by}"] = audit340b.summarize_findings(audit, by=by)
    reasons = out["exceptions_by_reason"]
    out["exceptions_by_reason"] = reasons.assign(
        status=reasons["reason"].map(audit340b.REASONS),
        description=audit_sheet.describe_reasons(reasons["reason"]))
    masking = {"mask_patients": mask_patients, "deidentify": deidentify}
    out["audit_parameters"] = audit_sheet.audit_parameters(inputs, **masking)
    # Auditors trace a sample whether or not the checks found anything (DOMAIN.md §6).
    out["tracer_sample"] = audit_sheet.tracer_sample(inputs, **masking)
    return out


def audit_trend(inputs: Inputs) -> pd.DataFrame:
    """The audited months (every one, so the chart's range holds) with their 340B savings
    (paid 340B claims at WAC less 340B cost)."""
    months = pd.period_range(end=inputs.month, periods=AUDIT_MONTHS, freq="M").astype(str)
    trend = inputs.audit_by_month.set_index("month").reindex(months)
    counts = ["checked", "checked_340b", "review", "violations", "exceptions_340b", "exceptions",
              "dollars_at_risk"]
    trend[counts] = trend[counts].fillna(0)  # a month without claims: nothing to find
    savings = (inputs.monthly_claims["savings_340b"] if len(inputs.monthly_claims)
               else pd.Series(dtype=float))
    trend["savings_340b"] = savings.reindex(months).fillna(0.0).to_numpy()
    return trend.rename_axis("month").reset_index()
