r"""The drug-spend variance bridge: why drug spend moved, in eight additive drivers.

A director explains the month's drug spend variance (actual − budget spend) as steps from
budget to actual: inventory timing, net returns, new and discontinued drugs, workload volume,
utilization, account mix (340B capture) and price. :func:`drug_bridge` splits every purchase
line into those steps, and the steps add up **exactly** (to float rounding) to the line's
variance, hence per location, per cost center and in total. :func:`bridge_totals` gives the
steps of the whole month, :func:`largest_drivers` the few that explain most of it; the report
and the commentary call these and never re-derive a driver.

A *line* is one drug (NDC) × location × purchasing account (340B, GPO, WAC or any other text)
for the month. Quantities are in that drug's own packages and are never added across drugs
(the *per-drug basis*: a vial of pembrolizumab and a bottle of escitalopram are not comparable
units); spends are in dollars. See ``docs/drug-bridge.md`` for a worked example.

Sign convention
    Every driver is actual − budget: positive is more spend than budget. Use
    :func:`rxxl.variance.favorability` for F/U.

Shape policy
    Arguments are one value per line: a list, ndarray, Series, or a single Excel row or column
    (a scalar for one line). The index of the result comes from a Series argument if any
    (several Series must have equal indexes: values are matched by position).

NaN policy
    ``None`` and NaN mean *missing*.

    - A missing quantity is 0 (nothing bought, nothing budgeted).
    - A missing spend is 0 only where its quantity is 0; on a line with a quantity it raises
      :class:`~rxxl.errors.InputError` naming the line (never a silent $0).
    - Missing workload (both budget and actual) at a location means *no workload driver
      there*: the ratio is 1 and its whole quantity change is utilization. One of the two
      missing, or different values on lines of one location, raises.
    - A location absent from ``inventory_change`` held no stock change (0).
    - A range whose every value is blank raises (far likelier a wrong selection).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rxxl._arrays import (
    as_float_array,
    as_label_vector,
    as_vector,
    line_name,
    require_nonempty,
    require_same_length,
    series_index,
)
from rxxl.constants import MAX_AMOUNT, MAX_QUANTITY
from rxxl.errors import InputError

__all__ = ["DRIVERS", "LINE_STATUSES", "drug_bridge", "bridge_totals", "largest_drivers"]

#: The drivers in their order of attribution (each takes what the earlier ones leave).
DRIVERS = ("inventory_timing", "returns", "new_drug", "discontinued_drug",
           "workload_volume", "utilization", "account_mix", "price")

CONTINUING = "continuing"
NEW = "new"
DISCONTINUED = "discontinued"
RETURNED = "net return"
NOT_BOUGHT = "not bought"
#: ``line_status`` values of :func:`drug_bridge`.
LINE_STATUSES = (CONTINUING, NEW, DISCONTINUED, RETURNED, NOT_BOUGHT)

#: Where :func:`drug_bridge` records stock changes it could not spread over purchases.
NOT_ATTRIBUTED = "inventory_change_not_attributed"

#: The natural grain of each driver in :func:`largest_drivers`.
_GRAIN = {
    "inventory_timing": ("location",), "workload_volume": ("location",),
    "price": ("drug",), "utilization": ("drug",), "new_drug": ("drug",),
    "discontinued_drug": ("drug",), "returns": ("drug",),
    "account_mix": ("drug", "location"),
}
#: Amounts under half a cent are float rounding, not a driver anyone could present.
_HALF_CENT = 0.005

_LINE_COLUMNS = ("drug", "location", "account", "budget_quantity", "actual_quantity",
                 "consumed_quantity", "budget_spend", "actual_spend")


# --- Reading the arguments -----------------------------------------------------------------


def _label_key(value: Any) -> str | None:
    """A code as text: trimmed text, or a whole number's digits; None if blank; else raise."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return str(int(value))  # a cost center or NDC typed as a number in Excel
    raise TypeError


def _labels(values: Any, name: str, index: pd.Index | None, what: str,
            unit: str = "line") -> np.ndarray:
    """Codes per line as trimmed text; a blank or a non-code cell raises naming the line."""
    cells = as_label_vector(values, name)
    # Few distinct codes however many lines: read each distinct cell once.
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    keys = np.empty(len(uniques) + 1, dtype=object)
    for j, cell in enumerate(uniques):
        try:
            keys[j] = _label_key(cell)
        except TypeError:
            first = int(np.flatnonzero(codes == j)[0])
            raise InputError(
                f"{name}: {line_name(first, index, unit)} holds {cell!r}, not a code; enter the"
                f" {what} as text"
            ) from None
    keys[-1] = None  # factorize's -1: a missing cell
    out = keys[codes]
    blank = pd.isna(out)
    if blank.any():
        first = int(np.flatnonzero(blank)[0])
        raise InputError(f"{name}: {line_name(first, index, unit)} is blank; every {unit}"
                         f" needs its {what}")
    return out


def _require_bounded(values: np.ndarray, name: str, limit: float, index) -> None:
    beyond = np.abs(values) > limit
    if beyond.any():
        first = int(np.flatnonzero(beyond)[0])
        raise InputError(
            f"{name}: the value on {line_name(first, index)} is beyond {limit:,.0f} either way;"
            " check the cell (a mis-typed or mis-read number)"
        )


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _workload_ratio(budget_workload, actual_workload, location_codes, locations, index):
    """Actual / budget workload per line's location; 1 where the location has none."""
    n = len(location_codes)
    budget = np.full(n, np.nan) if budget_workload is None else as_vector(budget_workload,
                                                                          "budget_workload")
    actual = np.full(n, np.nan) if actual_workload is None else as_vector(actual_workload,
                                                                          "actual_workload")
    require_same_length(drug=np.empty(n), budget_workload=budget, actual_workload=actual)
    first_line = np.full(len(locations), n)
    np.minimum.at(first_line, location_codes, np.arange(n))
    for name, values in (("budget_workload", budget), ("actual_workload", actual)):
        reference = values[first_line[location_codes]]
        same = (values == reference) | (np.isnan(values) & np.isnan(reference))
        if not same.all():
            bad = _first(~same)
            raise InputError(
                f"{name}: {line_name(bad, index)} differs from"
                f" {line_name(int(first_line[location_codes[bad]]), index)} at location"
                f" {locations[location_codes[bad]]!r}; a location has one workload: enter the"
                " same value on each of its lines (or leave all of them blank)"
            )
        _require_bounded(np.nan_to_num(values), name, MAX_QUANTITY, index)
        negative = values < 0
        if negative.any():
            raise InputError(f"{name}: {line_name(_first(negative), index)} is negative;"
                             " a workload (patient days, visits, ...) is 0 or more")
    one_missing = np.isnan(budget) != np.isnan(actual)
    if one_missing.any():
        bad = _first(one_missing)
        raise InputError(
            f"budget_workload, actual_workload: {line_name(bad, index)} has only one of the"
            " two; give both workloads of the location, or neither (then no workload driver)"
        )
    unbudgeted = (budget == 0) & (actual > 0)
    if unbudgeted.any():
        raise InputError(
            f"budget_workload: 0 on {line_name(_first(unbudgeted), index)} while the actual"
            " workload is above 0; no budget per unit of workload exists: enter the budgeted"
            " workload, or leave both blank"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isnan(budget) | (budget == 0), 1.0, actual / budget)
    return ratio


def _inventory_changes(value: Any) -> dict[str, float]:
    """``inventory_change`` as {location: change}, in every form the function accepts."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        places, amounts = list(value.keys()), list(value.values())
    elif isinstance(value, pd.Series):
        places, amounts = list(value.index), value.tolist()
    else:
        table = value.to_numpy(dtype=object) if isinstance(value, pd.DataFrame) else None
        if table is None:
            try:
                table = np.array(value, dtype=object)
            except ValueError:
                table = np.empty(0, dtype=object)
        if table.ndim != 2 or table.shape[1] != 2:
            raise InputError(
                "inventory_change: give {location: change}, a Series indexed by location, or"
                " a 2-column range of location and change per row"
            )
        spaces = [[isinstance(c, str) and not c.strip() for c in row] for row in table.tolist()]
        blank = np.asarray(pd.isna(table), dtype=bool) | np.array(spaces, dtype=bool).reshape(
            table.shape)
        keep = ~blank.all(axis=1)  # rows blank in both columns are padding
        places, amounts = table[keep, 0].tolist(), table[keep, 1].tolist()
    if not places:
        return {}
    keys = _labels(np.array(places, dtype=object), "inventory_change", None, "location", "row")
    change = as_float_array(np.array(amounts, dtype=object), "inventory_change")
    missing = np.isnan(change)
    if missing.any():
        raise InputError(
            f"inventory_change: the change at location {keys[_first(missing)]!r} is blank;"
            " enter 0 or leave the location out"
        )
    _require_bounded(change, "inventory_change", MAX_AMOUNT, None)
    repeated = pd.Series(keys).duplicated().to_numpy()
    if repeated.any():
        raise InputError(
            f"inventory_change: location {keys[_first(repeated)]!r} appears more than once;"
            " give one change per location"
        )
    return dict(zip(keys.tolist(), change.tolist(), strict=True))


# --- The bridge ----------------------------------------------------------------------------


def drug_bridge(
    drug: Any,
    location: Any,
    account: Any,
    actual_quantity: Any,
    actual_spend: Any,
    budget_quantity: Any,
    budget_spend: Any,
    budget_workload: Any = None,
    actual_workload: Any = None,
    inventory_change: Any = None,
) -> pd.DataFrame:
    r"""Split each drug purchase line's spend variance into eight additive drivers.

    Notation for line :math:`i` of drug :math:`d` at location :math:`l`: :math:`A_i, B_i`
    actual and budget spend, :math:`AQ_i, BQ_i` actual (net) and budget packages,
    :math:`T_l` the location's change in stock value at cost (ending − beginning).
    The drivers are attributed in this order:

    1. **Inventory timing.** Budgets assume purchases equal consumption; consumption
       (cost of goods used) = beginning inventory + purchases − ending inventory, so
       purchases − consumption = :math:`T_l`. It is spread over the location's purchase
       lines (:math:`AQ_i > 0`) in proportion to their spend, with :math:`P_l` the
       location's purchase spend:

       .. math::

           \text{timing}_i = T_l \frac{A_i}{P_l}, \qquad
           C_i = A_i - \text{timing}_i, \qquad CQ_i = AQ_i \frac{C_i}{A_i}

       (consumption spend :math:`C_i` and consumed packages :math:`CQ_i`, at the line's
       purchase price). A location with :math:`T_l \ne 0` but no purchase spend bought
       nothing that could be early or late (purchase spend under half a cent counts as
       none): its timing is 0 and the amount is recorded in
       ``result.attrs["inventory_change_not_attributed"]`` (``{location: amount}``).
    2. **Returns.** A line with :math:`AQ_i \le 0` and :math:`A_i \ne 0` is a net return
       (a credit, perhaps at another price than was paid): :math:`\text{returns}_i = A_i`,
       and it consumes nothing (:math:`C_i = CQ_i = 0`).
    3. **New and discontinued drugs**, per drug × location with
       :math:`BQ_{dl} = \sum BQ_i`, :math:`CQ_{dl} = \sum CQ_i`:

       .. math::

           \text{new\_drug}_i &= C_i & \text{if } BQ_{dl} = 0,\ CQ_{dl} \ne 0
               \text{ (nothing budgeted at this location)} \\
           \text{discontinued\_drug}_i &= -B_i & \text{if } BQ_{dl} > 0,\ CQ_{dl} = 0

    4. **Continuing drugs** (:math:`BQ_{dl} > 0,\ CQ_{dl} \ne 0`). With the workload ratio
       :math:`r_l = AW_l / BW_l` (1 without workload), the flexed quantity
       :math:`FQ_{dl} = BQ_{dl}\, r_l`, the budget mix share :math:`s_i = BQ_i / BQ_{dl}`,
       the budget price :math:`BP_i = B_i / BQ_i`, and the actual price
       :math:`AP_i = A_i / AQ_i`:

       .. math::

           \text{workload\_volume}_i &= B_i (r_l - 1) \\
           \text{utilization}_i &= (CQ_{dl} - FQ_{dl})\, s_i\, BP_i \\
           \text{account\_mix}_i &= (CQ_i - CQ_{dl}\, s_i)\, BP_i \\
           \text{price}_i &= CQ_i (AP_i - BP_i) = C_i - CQ_i\, BP_i

       An account bought but not budgeted at this location (:math:`BQ_i = 0`) is valued at
       the same drug and account's budget price at the other locations
       (:math:`\sum B / \sum BQ`), or, if it has none anywhere, at its actual price, so that
       its whole shift is account mix and its price variance is 0.

    The eight drivers sum to :math:`A_i - B_i` on every line: timing + returns + C_i is
    :math:`A_i`, and the other drivers of a line sum to :math:`C_i - B_i` (on a continuing
    line :math:`B_i(r_l - 1) + (CQ_{dl} - BQ_{dl} r_l) B_i / BQ_{dl} + C_i - CQ_{dl}
    B_i / BQ_{dl} = C_i - B_i`).

    Parameters
    ----------
    drug, location, account : single row/column of codes (text; whole numbers are read as
        their digits)
        The line's drug (NDC or name), inventory location (or cost center), and purchasing
        account. Surrounding spaces are dropped; none may be blank. Each
        (drug, location, account) appears once.
    actual_quantity : single row/column of numbers
        Packages bought, net of returns (negative in a month of net returns); blank is 0.
    actual_spend : single row/column of numbers
        Dollars paid net of credits; blank only where the actual quantity is 0 or blank.
    budget_quantity : single row/column of numbers
        Budgeted packages, 0 or more; blank is 0.
    budget_spend : single row/column of numbers
        Budgeted dollars, 0 or more; blank only where the budget quantity is 0 or blank,
        and 0 there (a budget is split by its packages).
    budget_workload, actual_workload : single row/column of numbers, optional
        The month's workload of the line's location (adjusted patient days, infusion
        visits, prescriptions, ...), the same on every line of a location; blank at a
        location: no workload driver there.
    inventory_change : dict, Series or 2-column range, optional
        Change in stock value at cost per location over the month (ending − beginning
        snapshot): ``{location: change}``, a Series indexed by location, or rows of
        ``[location, change]``. Locations absent from it: 0.

    Returns
    -------
    pandas.DataFrame
        One row per line, in input order (the index of a Series argument if any), columns
        ``drug``, ``location``, ``account``, ``budget_quantity``, ``actual_quantity``,
        ``consumed_quantity``, ``budget_spend``, ``actual_spend``, the eight
        :data:`DRIVERS`, ``total_variance`` (actual − budget spend) and ``line_status``
        ("continuing": packages bought of a drug budgeted at the location; "new": bought,
        not budgeted there; "discontinued": budgeted, the drug not consumed at the
        location; "net return"; "not bought": the rest, e.g. a budgeted account whose
        packages were bought on another). ``attrs`` holds
        ``inventory_change_not_attributed``.

    Raises
    ------
    InputError
        Arguments of different lengths, an empty or all-blank range, a blank code, a
        repeated (drug, location, account) (sum such lines first), a negative budget
        quantity or spend, packages bought with a negative spend, a missing spend on a line
        with a quantity, a budget spend without a budget quantity, workloads that differ
        within a location or that give only one of the two, a zero budget workload with a
        positive actual, a negative workload, or a value beyond rxxl's bounds.

    See Also
    --------
    bridge_totals : the steps of the whole month.
    largest_drivers : each driver at its natural grain, largest first.
    rxxl.variance.purchase_drivers : the older price / volume / mix split per NDC.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §1, "Explaining drug spend"; ``docs/drug-bridge.md``.
    .. [2] C. T. Horngren, S. M. Datar, M. V. Rajan, *Cost Accounting: A Managerial
       Emphasis*, Pearson: ch. 7-8 (flexible budgets; sales-volume, efficiency (usage) and
       price variances), ch. 14 (sales-mix and sales-quantity variances).
    .. [3] E. M. Tichy et al., "National trends in prescription drug expenditures and
       projections for 2024", *Am J Health-Syst Pharm* 81(14):583-598 (2024), which splits
       expenditure growth into utilization, new drugs and price,
       https://doi.org/10.1093/ajhp/zxae105
    .. [4] Vizient, Spend Management Outlook (formerly the Pharmacy Market Outlook),
       https://vizientinc.com/insights/articles/2025/highlights-from-the-spend-management-outlook

    Examples
    --------
    One drug at three locations. The outpatient pharmacy bought 30 packages at $100 on its
    340B account against 20 budgeted at $90, and its stock rose $1,000 (a forward buy); the
    infusion center was budgeted 10 packages on 340B at $90 but bought 10 on WAC at $150;
    the main hospital bought its 5 budgeted WAC packages at the budgeted $140.

    >>> table = drug_bridge(
    ...     drug=["ABC"] * 4, location=["outpatient", "infusion", "infusion", "main"],
    ...     account=["340B", "340B", "WAC", "WAC"],
    ...     actual_quantity=[30, 0, 10, 5], actual_spend=[3_000, 0, 1_500, 700],
    ...     budget_quantity=[20, 10, 0, 5], budget_spend=[1_800, 900, 0, 700],
    ...     inventory_change={"outpatient": 1_000},
    ... )
    >>> print(table[["location", "account", "inventory_timing", "account_mix", "price",
    ...              "line_status"]].to_string())
         location account  inventory_timing  account_mix  price line_status
    0  outpatient    340B            1000.0          0.0  200.0  continuing
    1    infusion    340B               0.0       -900.0    0.0  not bought
    2    infusion     WAC               0.0       1400.0  100.0  continuing
    3        main     WAC               0.0          0.0    0.0  continuing

    The outpatient pharmacy's 30 packages were 10 for stock ($1,000 of timing) and 20 used
    at $10 above budget ($200 of price). The infusion center used its 10 budgeted packages
    on WAC: valued at the WAC budget price of the main hospital ($140), the shift from
    340B costs $1,400 − $900 = $500 of account mix, and paying $150 instead of $140 on 10
    packages is $100 of price.

    >>> bridge_totals(table)
    budget               3400.0
    inventory_timing     1000.0
    returns                 0.0
    new_drug                0.0
    discontinued_drug       0.0
    workload_volume         0.0
    utilization             0.0
    account_mix           500.0
    price                 300.0
    actual               5200.0
    Name: bridge, dtype: float64
    """
    raw = dict(drug=drug, location=location, account=account,
               actual_quantity=actual_quantity, actual_spend=actual_spend,
               budget_quantity=budget_quantity, budget_spend=budget_spend,
               budget_workload=budget_workload, actual_workload=actual_workload)
    index, _ = series_index(**raw)
    numbers_ = {name: as_vector(raw[name], name) for name in
                ("actual_quantity", "actual_spend", "budget_quantity", "budget_spend")}
    labels = {name: as_label_vector(raw[name], name) for name in ("drug", "location", "account")}
    require_same_length(**labels, **numbers_)
    if index is not None and len(index) != len(labels["drug"]):
        raise InputError("the Series arguments must have one value per line")
    for name, vector in numbers_.items():
        require_nonempty(vector, name)
    drug_ = _labels(labels["drug"], "drug", index, "drug (its NDC or name)")
    location_ = _labels(labels["location"], "location", index, "location (or cost center)")
    account_ = _labels(labels["account"], "account", index, "account (340B, GPO, WAC, ...)")

    aq = np.nan_to_num(numbers_["actual_quantity"], nan=0.0)
    bq = np.nan_to_num(numbers_["budget_quantity"], nan=0.0)
    a, b = numbers_["actual_spend"], numbers_["budget_spend"]
    for name, values, limit in (("actual_quantity", aq, MAX_QUANTITY),
                                ("budget_quantity", bq, MAX_QUANTITY),
                                ("actual_spend", np.nan_to_num(a), MAX_AMOUNT),
                                ("budget_spend", np.nan_to_num(b), MAX_AMOUNT)):
        _require_bounded(values, name, limit, index)
    _refuse(bq < 0, "budget_quantity", index,
            "is negative; a budget plans packages to buy: enter 0 or more")
    _refuse(np.isnan(a) & (aq != 0), "actual_spend", index,
            "is blank but the line has an actual quantity; enter what was paid (or credited)")
    _refuse(np.isnan(b) & (bq > 0), "budget_spend", index,
            "is blank but the line has a budget quantity; enter the budgeted dollars")
    a, b = np.nan_to_num(a, nan=0.0), np.nan_to_num(b, nan=0.0)
    _refuse(b < 0, "budget_spend", index, "is negative; a drug budget is 0 or more")
    _refuse((bq == 0) & (b != 0), "budget_spend", index,
            "has no budget_quantity; a budget is split by its packages: enter the budgeted"
            " quantity of that line")
    _refuse((aq > 0) & (a < 0), "actual_spend", index,
            "is negative while packages were bought; a credit nets packages returned: check"
            " the sign of the quantity or the spend")

    location_codes, locations = pd.factorize(location_, sort=False)
    drug_codes, _ = pd.factorize(drug_, sort=False)
    account_codes, _ = pd.factorize(account_, sort=False)
    keys = pd.DataFrame({"d": drug_codes, "l": location_codes, "a": account_codes})
    repeated = keys.duplicated().to_numpy()
    if repeated.any():
        later = _first(repeated)
        earlier = _first((keys == keys.iloc[later]).all(axis=1).to_numpy())
        raise InputError(
            f"{line_name(earlier, index)} and {line_name(later, index)} are the same drug,"
            " location and account; sum them first (one line per drug, location and account)"
        )
    ratio = _workload_ratio(budget_workload, actual_workload, location_codes, locations, index)
    changes = _inventory_changes(inventory_change)

    # 1. Inventory timing: the location's stock change, spread over its purchases by spend.
    buying = aq > 0
    n_loc = len(locations)
    purchases = np.bincount(location_codes, weights=np.where(buying, a, 0.0), minlength=n_loc)
    change = np.array([changes.get(place, 0.0) for place in locations], dtype=float)
    # Under half a cent of purchases is no purchase to time: spreading a stock change over
    # it would make millions of packages of a drug at a price of nothing.
    spread = purchases >= _HALF_CENT
    spread_at = dict(zip(locations.tolist(), spread.tolist(), strict=True))
    not_attributed = {place: amount for place, amount in changes.items()
                      if amount != 0 and not spread_at.get(place, False)}
    # The share of purchases consumed, (P_l - T_l) / P_l, on spend and packages alike keeps
    # each line's unit price; multiplying before dividing keeps round figures round.
    used = np.where(spread, purchases - change, 1.0)[location_codes]
    bought = np.where(spread, purchases, 1.0)[location_codes]
    consumption = np.where(buying, a * used / bought, 0.0)
    consumed_quantity = np.where(buying, aq * used / bought, 0.0)
    timing = np.where(buying, a - consumption, 0.0)
    # 2. Returns: a net return consumes nothing; its credit is the driver.
    returned = ~buying & (a != 0)
    returned_status = (aq < 0) | returned
    returns = np.where(returned, a, 0.0)

    # 3./4. Per drug x location.
    pair_codes, _ = pd.factorize(drug_codes.astype(np.int64) * (n_loc + 1) + location_codes)
    n_pairs = pair_codes.max() + 1
    bq_dl = np.bincount(pair_codes, weights=bq, minlength=n_pairs)[pair_codes]
    cq_dl = np.bincount(pair_codes, weights=consumed_quantity, minlength=n_pairs)[pair_codes]
    budgeted_pair = bq_dl > 0
    new_pair = ~budgeted_pair & (cq_dl != 0)
    discontinued_pair = budgeted_pair & (cq_dl == 0)
    continuing_pair = budgeted_pair & (cq_dl != 0)

    # Budget-price value of what each line consumed (CQ_i x BP_i); see the docstring.
    with np.errstate(divide="ignore", invalid="ignore"):
        own_price = np.where(bq > 0, b / np.where(bq > 0, bq, 1.0), np.nan)
        drug_account, _ = pd.factorize(drug_codes.astype(np.int64) * (account_codes.max() + 1)
                                       + account_codes)
        budget_there = np.bincount(drug_account, weights=np.where(bq > 0, b, 0.0))
        packages_there = np.bincount(drug_account, weights=bq)
        elsewhere = np.where(packages_there > 0,
                             budget_there / np.where(packages_there > 0, packages_there, 1.0),
                             np.nan)[drug_account]
        # s_i BP_i = B_i / BQ_dl: defined also where BQ_i = 0 (then B_i = 0)
        budget_per_package_of_pair = np.where(budgeted_pair, b / np.where(budgeted_pair, bq_dl,
                                                                           1.0), 0.0)
    price_known = np.where(bq > 0, own_price, elsewhere)
    # Valued at its actual price, a line's consumption at "budget price" is its consumption
    # spend itself: price exactly 0, the whole shift account mix.
    at_budget_price = np.where(np.isnan(price_known), consumption,
                               consumed_quantity * np.nan_to_num(price_known))
    at_budget_price = np.where(consumed_quantity != 0, at_budget_price, 0.0)

    flexed = bq_dl * ratio
    workload_volume = np.where(continuing_pair, b * (ratio - 1.0), 0.0)
    utilization = np.where(continuing_pair, (cq_dl - flexed) * budget_per_package_of_pair, 0.0)
    account_mix = np.where(continuing_pair,
                           at_budget_price - cq_dl * budget_per_package_of_pair, 0.0)
    price = np.where(budgeted_pair, consumption - at_budget_price, 0.0)
    new_drug = np.where(new_pair, consumption, 0.0)
    discontinued_drug = np.where(discontinued_pair, -b, 0.0)

    # The status says what was bought: a purchase of a drug budgeted at the location
    # continues it even when all of it went to stock.
    status = np.select(
        [returned_status, buying & ~budgeted_pair, buying, discontinued_pair & (bq > 0)],
        [RETURNED, NEW, CONTINUING, DISCONTINUED], NOT_BOUGHT).astype(object)

    drivers = dict(inventory_timing=timing, returns=returns, new_drug=new_drug,
                   discontinued_drug=discontinued_drug, workload_volume=workload_volume,
                   utilization=utilization, account_mix=account_mix, price=price)
    table = pd.DataFrame(
        {
            "drug": drug_, "location": location_, "account": account_,
            "budget_quantity": bq, "actual_quantity": aq,
            "consumed_quantity": consumed_quantity + 0.0,
            "budget_spend": b, "actual_spend": a,
            # "+ 0.0" turns -0.0 into 0.0, which a report would print as "-0".
            **{name: values + 0.0 for name, values in drivers.items()},
            "total_variance": a - b,
            "line_status": status,
        },
        index=index,
    )
    table.attrs[NOT_ATTRIBUTED] = not_attributed
    return table


def _refuse(bad: np.ndarray, name: str, index: pd.Index | None, rule: str) -> None:
    if bad.any():
        raise InputError(f"{name}: the value on {line_name(_first(bad), index)} {rule}")


# --- Summaries -----------------------------------------------------------------------------


def _require_bridge(bridge: Any) -> None:
    needed = {"drug", "location", "account", "budget_spend", "actual_spend", *DRIVERS}
    if not isinstance(bridge, pd.DataFrame) or not needed <= set(bridge.columns):
        missing = sorted(needed - set(getattr(bridge, "columns", [])))
        raise InputError(f"bridge: expected the table drug_bridge returns; missing {missing}")


def bridge_totals(bridge: pd.DataFrame) -> pd.Series:
    r"""The month's bridge from budget to actual: budget, the eight drivers, actual.

    .. math:: \text{budget} + \sum_k \text{driver}_k = \text{actual}

    Parameters
    ----------
    bridge : pandas.DataFrame
        A table from :func:`drug_bridge` (or any subset of its rows: a location, a cost
        center).

    Returns
    -------
    pandas.Series
        Named ``bridge``, indexed ``budget``, the :data:`DRIVERS` in order, ``actual``.

    Examples
    --------
    >>> table = drug_bridge(["X"], ["main"], ["GPO"], [12], [132], [10], [100])
    >>> bridge_totals(table)[["budget", "utilization", "price", "actual"]]
    budget         100.0
    utilization     20.0
    price           12.0
    actual         132.0
    Name: bridge, dtype: float64
    """
    _require_bridge(bridge)
    values = [bridge["budget_spend"].sum(), *(bridge[name].sum() for name in DRIVERS),
              bridge["actual_spend"].sum()]
    return pd.Series(np.asarray(values, dtype=float) + 0.0,
                     index=["budget", *DRIVERS, "actual"], name="bridge")


def largest_drivers(bridge: pd.DataFrame, n: int | None = 8) -> pd.DataFrame:
    r"""Each driver summed at its natural grain, largest first: what explains the month.

    - ``inventory_timing`` and ``workload_volume`` by location (a stock build and a workload
      change belong to a location, not to a drug);
    - ``price``, ``utilization``, ``new_drug``, ``discontinued_drug`` and ``returns`` by drug
      (across locations: a price rise is the drug's);
    - ``account_mix`` by drug × location, naming the accounts involved (a 340B capture
      change happens where the drug was bought).

    .. math:: \text{share\_of\_variance} = \frac{\text{amount}}{\sum_i (A_i - B_i)}

    Amounts under half a cent (float rounding) are dropped; ties keep the order of
    :data:`DRIVERS`, then of first appearance.

    Parameters
    ----------
    bridge : pandas.DataFrame
        A table from :func:`drug_bridge`.
    n : int or None, default 8
        How many to return; None for all.

    Returns
    -------
    pandas.DataFrame
        Columns ``driver``, ``drug`` (None for a by-location driver), ``location`` (None for
        a by-drug driver), ``accounts`` (account_mix only: the accounts whose mix moved,
        most gained first, e.g. "WAC, 340B"), ``gained`` and ``lost`` (account_mix only:
        the accounts whose mix rose, most first, and those whose mix fell, most first; None
        when none), ``amount``, ``share_of_variance`` (NaN when the total variance is 0),
        sorted by ``|amount|`` descending, index 0..k-1.

    Examples
    --------
    >>> table = drug_bridge(
    ...     drug=["ABC", "ABC", "XYZ"], location=["outpatient", "outpatient", "main"],
    ...     account=["340B", "WAC", "GPO"], actual_quantity=[5, 5, 10],
    ...     actual_spend=[500, 1_000, 1_100], budget_quantity=[10, 0, 10],
    ...     budget_spend=[1_000, 0, 1_000])
    >>> print(largest_drivers(table).to_string())
            driver drug    location   accounts gained  lost  amount  share_of_variance
    0  account_mix  ABC  outpatient  WAC, 340B    WAC  340B   500.0           0.833333
    1        price  XYZ        None       None   None  None   100.0           0.166667
    """
    _require_bridge(bridge)
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0):
        raise InputError(f"n: expected a whole number 0 or more (or None), got {n!r}")
    frame = bridge.reset_index(drop=True)
    total = float(frame["actual_spend"].sum() - frame["budget_spend"].sum())
    pieces = []
    for driver in DRIVERS:
        grain = list(_GRAIN[driver])
        summed = frame.groupby(grain, sort=False)[driver].sum().reset_index()
        summed = summed.rename(columns={driver: "amount"})
        summed.insert(0, "driver", driver)
        for key in ("drug", "location"):
            if key not in summed:
                summed[key] = None
        if driver == "account_mix":
            moved = frame.loc[frame["account_mix"].abs() >= _HALF_CENT]
            moved = moved.sort_values("account_mix", ascending=False, kind="stable")
            named = {
                "accounts": moved.groupby(grain, sort=False)["account"].agg(", ".join),
                "gained": moved[moved["account_mix"] > 0].groupby(grain, sort=False)[
                    "account"].agg(", ".join),
                # Most lost first.
                "lost": moved[moved["account_mix"] < 0].iloc[::-1].groupby(grain, sort=False)[
                    "account"].agg(", ".join)}
            for column, accounts in named.items():
                summed = summed.merge(accounts.rename(column).reset_index(), on=grain,
                                      how="left", sort=False)
                summed[column] = summed[column].astype(object).where(summed[column].notna(),
                                                                     None)
        else:
            summed["accounts"] = summed["gained"] = summed["lost"] = None
        pieces.append(summed[["driver", "drug", "location", "accounts", "gained", "lost",
                              "amount"]])
    out = pd.concat(pieces, ignore_index=True)
    out = out.loc[out["amount"].abs() >= _HALF_CENT]
    out = out.iloc[np.argsort(-out["amount"].abs().to_numpy(), kind="stable")]
    if n is not None:
        out = out.head(n)
    out = out.reset_index(drop=True)
    out["amount"] = out["amount"].astype(float) + 0.0
    out["share_of_variance"] = out["amount"] / total if total != 0 else np.nan
    return out


def variance_by(bridge: pd.DataFrame, by: str, n: int | None = 5) -> pd.DataFrame:
    r"""The drug-spend variance of each location (or drug), with the driver that moved it most.

    .. math::

        \text{amount}_g = \sum_{i \in g} (A_i - B_i) = \sum_{i \in g} \sum_k \text{driver}_{k,i}
        \qquad
        \text{main driver}_g = \arg\max_k \Big| \sum_{i \in g} \text{driver}_{k,i} \Big|

    Parameters
    ----------
    bridge : pandas.DataFrame
        A table from :func:`drug_bridge`.
    by : {"location", "drug"}
        The grain: a location or a drug (across its locations and accounts).
    n : int or None, default 5
        How many to return, largest ``|amount|`` first; None for all.

    Returns
    -------
    pandas.DataFrame
        Columns ``by`` (the location or drug), ``amount``, ``share_of_variance`` (of the total
        variance; NaN when it is 0), ``main_driver`` (a :data:`DRIVERS` name; missing when
        every driver is 0) and ``main_amount`` (that driver's amount), index 0..k-1. Ties keep the
        order of :data:`DRIVERS`, then of first appearance.

    Examples
    --------
    >>> table = drug_bridge(
    ...     drug=["ABC", "ABC", "XYZ"], location=["outpatient", "outpatient", "main"],
    ...     account=["340B", "WAC", "GPO"], actual_quantity=[5, 5, 10],
    ...     actual_spend=[500, 1_000, 1_100], budget_quantity=[10, 0, 10],
    ...     budget_spend=[1_000, 0, 1_000])
    >>> print(variance_by(table, "location").to_string())
         location  amount  share_of_variance  main_driver  main_amount
    0  outpatient   500.0           0.833333  account_mix        500.0
    1        main   100.0           0.166667        price        100.0
    """
    _require_bridge(bridge)
    if by not in ("location", "drug"):
        raise InputError(f"by: expected 'location' or 'drug', got {by!r}")
    frame = bridge.reset_index(drop=True)
    drivers = frame.groupby(by, sort=False, observed=True)[list(DRIVERS)].sum()
    amount = frame["actual_spend"].groupby(frame[by], sort=False, observed=True).sum() - \
        frame["budget_spend"].groupby(frame[by], sort=False, observed=True).sum()
    total = float(frame["actual_spend"].sum() - frame["budget_spend"].sum())
    size = drivers.abs().to_numpy()
    main = size.argmax(axis=1) if len(size) else np.array([], dtype=int)
    moved = size.max(axis=1) >= _HALF_CENT if len(size) else np.array([], dtype=bool)
    out = pd.DataFrame({
        by: amount.index.to_numpy(),
        "amount": amount.to_numpy(dtype=float) + 0.0,
        "share_of_variance": amount.to_numpy(dtype=float) / total if total else np.nan,
        "main_driver": np.where(moved, np.asarray(DRIVERS, dtype=object)[main], None),
        "main_amount": np.where(moved, drivers.to_numpy()[np.arange(len(main)), main], np.nan),
    })
    order = np.argsort(-out["amount"].abs().to_numpy(), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    return out if n is None else out.head(n)
