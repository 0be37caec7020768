"""Inventory: average inventory, turns, days on hand and expired-drug waste.

Definitions follow ``shared/DOMAIN.md`` §3: turns are the period's cost of goods sold (COGS),
annualized, over the average inventory at cost; days on hand are 365 over turns. Hospital
pharmacies aim for about 10-14 turns (26-36 days on hand), see
:data:`rxxl.constants.TURNS_TARGET_LOW` and :data:`~rxxl.constants.TURNS_TARGET_HIGH`.

Shape policy
    Inventory snapshots are laid out as a finance sheet does: **one row per location, one
    column per count** (beginning, ..., ending).

    * A scalar, a list, a 1-D ndarray or Series, or an Excel range of a single row *or* a
      single column is **one location's** snapshots (13 month-end counts in a column are one
      year). :func:`average_inventory` returns a float for it.
    * A range with several rows and several columns (a list of lists, a 2-D ndarray) is one
      row per location and gives an ndarray, one value per row; a DataFrame is always one
      row per location and gives a Series with the DataFrame's index.
    * :func:`inventory_turns` and :func:`days_on_hand` take one COGS per location: a scalar
      COGS goes with one location's snapshots and gives a float; a vector of *m* COGS needs
      *m* rows of snapshots (a 1-D range of *m* values is then one count per location) and
      gives an ndarray, or a Series with the COGS' index when COGS is a Series. Locations
      are matched by position; a COGS Series and a snapshot DataFrame must carry the same
      index.
    * :func:`expired_waste_rate` is element-wise and keeps its input's shape.

NaN policy
    A blank (``None``/NaN) snapshot makes that location's average inventory, turns and days
    on hand NaN: an average over the counts that happen to be present would be silently
    wrong. A blank COGS, expired cost or purchase gives NaN for its location or cell. A
    division by zero gives NaN (Excel shows #DIV/0!): turns when the average inventory is 0,
    days on hand when COGS is 0, the waste rate when purchases are 0. Negative amounts and no
    values at all raise :class:`~rxxl.errors.InputError`, and so do snapshots or COGS that
    are *all* blank (there is nothing to measure); the element-wise waste rate gives NaN for
    blank cells instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rxxl._arrays import as_float_array, ratio, require_non_negative, require_nonempty
from rxxl.constants import DAYS_IN_YEAR
from rxxl.errors import InputError

__all__ = [
    "average_inventory",
    "inventory_turns",
    "days_on_hand",
    "expired_waste_rate",
]


# --- Reading inputs ---------------------------------------------------------------------------


def _amounts(values: Any, name: str, *, element_wise: bool = False) -> np.ndarray:
    """Dollar amounts as a float array: not empty, none negative, and (unless the metric is
    element-wise, where a blank cell just gives a blank result) not all blank."""
    array = as_float_array(values, name)
    if array.size == 0:
        raise InputError(f"{name}: no values given")
    if not element_wise:
        require_nonempty(array, name)
    require_non_negative(array, name, "amounts at cost are 0 or more")
    return array


def _snapshots(inventory_values: Any, locations: int | None) -> np.ndarray:
    """Inventory counts as a (locations x snapshots) matrix.

    ``locations`` is how many locations the caller's COGS describe (None: not known).
    """
    name = "inventory_values"
    counts = _amounts(inventory_values, name)
    if isinstance(inventory_values, pd.DataFrame):
        matrix = counts
    elif counts.ndim > 2:
        raise InputError(f"{name}: expected a 1-D or 2-D range, got {counts.ndim} dimensions")
    elif counts.ndim == 2 and min(counts.shape) > 1:
        matrix = counts
    elif locations is not None and locations > 1 and counts.size == locations:
        # m COGS beside a single row or column of m counts: one count per location.
        matrix = counts.reshape(locations, 1)
    else:
        matrix = counts.reshape(1, -1)
    if locations is not None and matrix.shape[0] != locations:
        raise InputError(
            f"inventory_values has {matrix.shape[0]} row(s) of snapshots but cogs has"
            f" {locations} value(s); give one cost of goods sold per location (row)"
        )
    return matrix


def _days(days_in_period: Any) -> float:
    days = as_float_array(days_in_period, "days_in_period")
    if days.size != 1:
        raise InputError(f"days_in_period: expected one number, got {days.size} values")
    value = float(days.ravel()[0])
    if not value > 0:  # also catches NaN
        raise InputError(f"days_in_period: expected a number of days above 0, got {value!r}")
    return value


def _by_location(result: np.ndarray, like: Any, name: str) -> Any:
    """Shape a per-location result like the input that named the locations."""
    if isinstance(like, (pd.Series, pd.DataFrame)):
        return pd.Series(result, index=like.index, name=name)
    if np.ndim(like) == 0:
        return float(result[0])
    return result


def _turns_inputs(
    cogs: Any, inventory_values: Any, days_in_period: Any
) -> tuple[np.ndarray, np.ndarray, float, Any]:
    """COGS and average inventory per location, the period length, and the result template."""
    cost_of_goods = _amounts(cogs, "cogs")
    if cost_of_goods.ndim == 2 and min(cost_of_goods.shape) > 1:
        shape = " x ".join(str(n) for n in cost_of_goods.shape)
        raise InputError(f"cogs: expected one value per location (a row or column), got {shape}")
    cost_of_goods = cost_of_goods.ravel()
    if (
        isinstance(cogs, pd.Series)
        and isinstance(inventory_values, pd.DataFrame)
        and not cogs.index.equals(inventory_values.index)
    ):
        raise InputError(
            "cogs and inventory_values name different locations (their indexes differ);"
            " reindex one to the other"
        )
    matrix = _snapshots(inventory_values, cost_of_goods.size)
    days = _days(days_in_period)
    if isinstance(cogs, pd.Series):
        like = cogs
    elif isinstance(inventory_values, pd.DataFrame):
        like = inventory_values
    elif cost_of_goods.size == 1 and matrix.shape[0] == 1:
        like = 0.0
    else:
        like = cost_of_goods
    return cost_of_goods, _average(matrix), days, like


def _average(matrix: np.ndarray) -> np.ndarray:
    """Each location's (row's) mean of all its snapshots: the one rule of average inventory
    that :func:`average_inventory`, turns and days on hand share."""
    return matrix.mean(axis=1)


# --- Public functions -------------------------------------------------------------------------


def average_inventory(inventory_values: Any) -> Any:
    r"""Average inventory at cost: the mean of the period's snapshots.

    .. math:: \bar{I} = \frac{1}{n} \sum_{k=1}^{n} I_k

    With two snapshots this is the textbook (beginning + ending) / 2; with 13 month-end
    counts it is the year's average and smooths out a year-end stock-up or run-down.

    Parameters
    ----------
    inventory_values : number, sequence, ndarray, Series, DataFrame or 2-D range
        Inventory at cost, 0 or more. One row or one column: one location's snapshots.
        Several rows and columns (or a DataFrame): one row per location, one column per
        snapshot. See the module's shape policy.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        A float for one location; an ndarray per row for a 2-D range; a Series (the
        DataFrame's index) for a DataFrame. NaN for a location with a blank snapshot.

    Raises
    ------
    InputError
        A negative value, no values, or every value blank.
    InputTypeError
        Text or TRUE/FALSE among the values.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §3, Inventory.
    .. [2] Northeast Pharmacy Service Corporation, "Inventory Turnover": average inventory
       is the sum of beginning and ending inventory divided by 2,
       https://northeastpharmacy.com/resources/financial-tools/it/

    Examples
    --------
    >>> average_inventory([240_000, 260_000])
    250000.0
    >>> average_inventory([[240_000, 260_000], [80_000, 100_000]])
    array([250000.,  90000.])
    >>> average_inventory([[240_000, None], [80_000, 100_000]])
    array([   nan, 90000.])
    """
    matrix = _snapshots(inventory_values, None)
    averages = _average(matrix)
    if isinstance(inventory_values, pd.DataFrame):
        return pd.Series(averages, index=inventory_values.index, name="average_inventory")
    if matrix.shape[0] == 1:
        return float(averages[0])
    return averages


def inventory_turns(cogs: Any, inventory_values: Any, days_in_period: Any = DAYS_IN_YEAR) -> Any:
    r"""Annualized inventory turns: COGS per year over average inventory at cost.

    .. math:: \mathrm{turns} = \frac{\mathrm{COGS} \times 365 / d}{\bar{I}}

    where :math:`d` is the number of days the COGS covers and :math:`\bar{I}` is
    :func:`average_inventory`. A quarter's COGS (``days_in_period=91``) is scaled to a year
    so months, quarters and years compare against the same 10-14 turn target.

    Parameters
    ----------
    cogs : number, sequence, ndarray or Series
        Cost of goods sold over the period, 0 or more; one value per location.
    inventory_values : number, sequence, ndarray, DataFrame or 2-D range
        Inventory snapshots at cost over the same period; one row per location (see the
        module's shape policy).
    days_in_period : number, default 365
        Days covered by ``cogs``; above 0.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        A float for one location; an ndarray per location; a Series when ``cogs`` is a Series
        (its index) or ``inventory_values`` a DataFrame. NaN when the average inventory is 0
        or a snapshot or COGS is blank.

    Raises
    ------
    InputError
        Negative COGS or inventory, ``days_in_period`` not above 0, a COGS count that does
        not match the rows of snapshots, no values.
    InputTypeError
        Text in a numeric argument.

    See Also
    --------
    days_on_hand : 365 / turns.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §3, Inventory (benchmarks: hospital pharmacy 10-14 turns,
       average 10.2 [mm-consultants.com; Managed Healthcare Executive]).
    .. [2] PTCE Prep, inventory turnover question: $3,000,000 / $255,000 = 11.76 turns,
       https://ptceprep.com/question/what-will-the-inventory-turnover-rate-be-for-a-pharmacy-if-the-6405332829995008/

    Examples
    --------
    A year's COGS of $3,000,000 on $250,000 average inventory:

    >>> inventory_turns(3_000_000, [240_000, 260_000])
    12.0

    A quarter's COGS, annualized, for two locations (one row of counts each):

    >>> inventory_turns([600_000, 200_000], [[240_000, 260_000], [80_000, 100_000]], 91)
    array([9.62637363, 8.91330891])
    >>> inventory_turns(1_000, [0, 0])
    nan
    """
    cost_of_goods, average, days, like = _turns_inputs(cogs, inventory_values, days_in_period)
    annual_cogs = cost_of_goods * (DAYS_IN_YEAR / days)
    return _by_location(ratio(annual_cogs, average), like, "inventory_turns")


def days_on_hand(cogs: Any, inventory_values: Any, days_in_period: Any = DAYS_IN_YEAR) -> Any:
    r"""Days of usage on hand: 365 / annualized turns.

    .. math:: \mathrm{DOH} = \frac{365}{\mathrm{turns}} = \frac{\bar{I} \times d}{\mathrm{COGS}}

    Computed from COGS directly, so it is defined (0) when the average inventory is 0 and
    NaN when COGS is 0 (no usage: stock would last forever).

    Parameters
    ----------
    cogs, inventory_values, days_in_period
        As for :func:`inventory_turns`.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Shaped as for :func:`inventory_turns`; NaN when COGS is 0 or an input is blank.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §3, Inventory (365 / 10 turns = 36.5 days; hospital target
       26-36 days [mm-consultants.com; Managed Healthcare Executive]).
    .. [2] PharmCompliance, "Free Inventory Turnover Ratio Calculator": 10 turns in 365 days
       is 36.5 days on hand,
       https://pharmcompliance.com/post/free-inventory-turnover-ratio-calculator

    Examples
    --------
    >>> days_on_hand(2_500_000, [240_000, 260_000])
    36.5
    >>> days_on_hand(0, [240_000, 260_000])
    nan
    """
    cost_of_goods, average, days, like = _turns_inputs(cogs, inventory_values, days_in_period)
    return _by_location(ratio(average * days, cost_of_goods), like, "days_on_hand")


def expired_waste_rate(expired_cost: Any, purchases: Any) -> Any:
    r"""Expired-drug waste as a share of purchases, element-wise.

    .. math:: \mathrm{waste\ rate} = \frac{\mathrm{expired\ cost}}{\mathrm{purchases}}

    Parameters
    ----------
    expired_cost : number, sequence, ndarray, Series or 2-D range
        Cost of drugs expired (and written off) in the period, 0 or more.
    purchases : same shape as ``expired_cost``
        Drug purchases at cost in the same period, 0 or more.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Same shape as the inputs: a float for scalars, a Series (same index) when
        ``expired_cost`` (or else ``purchases``) is a Series. NaN where purchases are 0 or
        either input is blank.

    Raises
    ------
    InputError
        Negative amounts, shapes that differ, no values.
    InputTypeError
        Text in either argument.

    References
    ----------
    .. [1] ``shared/DOMAIN.md`` §3, Inventory ("expired-drug waste $ and % of purchases").

    Examples
    --------
    >>> expired_waste_rate(12_000, 2_400_000)
    0.005
    >>> expired_waste_rate([12_000, 500, 0], [2_400_000, 0, 50_000])
    array([0.005,   nan, 0.   ])
    """
    expired = _amounts(expired_cost, "expired_cost", element_wise=True)
    bought = _amounts(purchases, "purchases", element_wise=True)
    if expired.shape != bought.shape:
        raise InputError(
            "expired_cost and purchases must have the same shape: expired_cost is"
            f" {_describe(expired.shape)}, purchases {_describe(bought.shape)}"
        )
    rate = ratio(expired, bought)
    for source in (expired_cost, purchases):
        if isinstance(source, pd.Series):
            return pd.Series(rate, index=source.index, name="expired_waste_rate")
    if rate.ndim == 0:
        return float(rate)
    return rate


def _describe(shape: tuple[int, ...]) -> str:
    if not shape:
        return "one value"
    return " x ".join(str(n) for n in shape) if len(shape) > 1 else f"{shape[0]} value(s)"
