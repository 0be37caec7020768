"""Budget variance: actual against budget, favorability, materiality, flexed budgets and
the price / volume / mix split of drug spend (``shared/DOMAIN.md`` §1).

Sign convention
    Every variance is *actual − budget*: a positive number means more than budget, whatever
    the line type. Whether that is good or bad is a separate flag (:func:`favorability`),
    because organizations print the sign differently but all read the F/U flag the same way.

Shape policy
    The element-wise functions (:func:`variance`, :func:`variance_pct`, :func:`favorability`,
    :func:`is_material`, :func:`flexed_budget`) accept a scalar, a list, an ndarray, a pandas
    Series or an Excel-style 2-D list of lists, and combine their arguments cell by cell:

    - all scalars give a Python scalar (``float``, ``str``, ``bool``);
    - otherwise the result is an ndarray of the common shape; a single value (scalar, ``[x]``
      or ``[[x]]``) is used for every cell;
    - a 1-D list, a single row and a single column of the same length are matched position by
      position (the result is 1-D), never cross-multiplied into a table;
    - if any argument is a Series, the result is a Series with its index; two Series must have
      equal indexes, since values are matched by position, not aligned by label;
    - any other shape mismatch, and an empty range, raise :class:`~rxxl.errors.InputError`.

    :func:`flex_variance`, :func:`price_volume_mix` and :func:`purchase_drivers` return one
    DataFrame row per line; their
    arguments are single rows or columns (or scalars for one line), and the index comes from a
    Series argument if there is one.

NaN policy
    ``None`` and NaN mean *missing*. Text where a number belongs raises
    :class:`~rxxl.errors.InputTypeError`.

    - :func:`variance`, :func:`variance_pct`, :func:`flexed_budget`, :func:`flex_variance`:
      a missing input gives NaN for that line only. A zero budget (or budget volume) also gives
      NaN where a ratio is undefined; Excel shows it as #DIV/0!.
    - :func:`favorability`: a missing input gives ``None`` (no flag) for that line.
    - :func:`is_material`: a missing input gives ``False``; nothing is flagged on no evidence.
    - :func:`price_volume_mix`, :func:`purchase_drivers`: a missing quantity means 0
      (nothing bought or budgeted); a missing price (or spend) is substituted only as
      documented there, otherwise it raises :class:`~rxxl.errors.InputError`, because a
      price variance on an unknown price would be a silently wrong number. A range whose
      every value is blank raises too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rxxl._arrays import (
    as_float_array,
    as_vector,
    line_name,
    ratio,
    require_nonempty,
    require_same_length,
    series_index,
)
from rxxl.constants import (
    EXPENSE,
    FAVORABLE,
    LINE_TYPES,
    MATERIALITY_AMOUNT,
    MATERIALITY_PERCENT,
    REVENUE,
    UNFAVORABLE,
)
from rxxl.errors import InputError

__all__ = [
    "variance",
    "variance_pct",
    "favorability",
    "is_material",
    "flexed_budget",
    "flex_variance",
    "price_volume_mix",
    "purchase_drivers",
]

#: ``line_status`` values of :func:`price_volume_mix`.
CONTINUING = "continuing"
NEW = "new"
DISCONTINUED = "discontinued"
INACTIVE = "inactive"
RETURNED = "net return"


# --- Lining up arguments -------------------------------------------------------------------


def _is_vector(array: np.ndarray) -> bool:
    return array.ndim <= 1 or (array.ndim == 2 and 1 in array.shape)


def _shape_text(array: np.ndarray) -> str:
    if array.ndim == 1:
        return f"{array.size} values"
    return " x ".join(str(n) for n in array.shape)


def _line_up(
    arrays: dict[str, np.ndarray],
    index: pd.Index | None = None,
    owner: str | None = None,
    *,
    vectors: bool = False,
) -> tuple[list[np.ndarray], bool]:
    """Broadcast converted arguments to one shape by the module's shape policy.

    Returns the arrays and whether the caller should hand back a Python scalar.
    """
    for name, array in arrays.items():
        if array.size == 0:
            raise InputError(f"{name}: no values given")
    # A Series result, like a table of lines, needs every argument to be a row or a column.
    lines = vectors or index is not None
    scalar = not lines and all(a.ndim == 0 for a in arrays.values())
    ranged = {name: a for name, a in arrays.items() if a.size > 1}
    one_shape = len({a.shape for a in ranged.values()}) <= 1
    if lines or not one_shape:
        flat = {}
        for name, array in arrays.items():
            if not _is_vector(array):
                if lines:
                    as_vector(array, name)  # raises the shared "single row or column" error
                shapes = ", ".join(f"{n} is {_shape_text(a)}" for n, a in ranged.items())
                raise InputError(
                    "ranges must have the same shape (or be a single value): " + shapes
                )
            flat[name] = array.reshape(-1)
        lengths = {name: a for name, a in flat.items() if a.size > 1 or name == owner}
        if lengths:
            require_same_length(**lengths)
        arrays = flat
    if ranged or lines:
        # A single cell stands for every line; keeping its (1, 1) shape would turn a
        # 1-D result into a row.
        arrays = {n: (a.reshape(()) if a.size == 1 else a) for n, a in arrays.items()}
        if lines and not ranged:
            arrays = {n: a.reshape(1) for n, a in arrays.items()}
    return list(np.broadcast_arrays(*arrays.values())), scalar


def _numbers(**raw: Any) -> tuple[list[np.ndarray], pd.Index | None, bool]:
    index, owner = series_index(**raw)
    arrays = {name: as_float_array(value, name) for name, value in raw.items()}
    lined_up, scalar = _line_up(arrays, index, owner)
    return lined_up, index, scalar


def _result(values: np.ndarray, index: pd.Index | None, scalar: bool, name: str) -> Any:
    if index is not None:
        return pd.Series(values, index=index, name=name, dtype=values.dtype)
    if scalar:
        return values.item()
    return values


# --- Element-wise metrics ------------------------------------------------------------------


def variance(actual: Any, budget: Any) -> Any:
    r"""Budget variance, actual minus budget.

    .. math:: \text{variance} = \text{actual} - \text{budget}

    A positive variance is *more than budget*: unfavorable on an expense line, favorable on a
    revenue line (see :func:`favorability`).

    Parameters
    ----------
    actual, budget : number, sequence, ndarray, Series or 2-D list of lists
        Actual and budgeted amounts, combined cell by cell (module shape policy).

    Returns
    -------
    float, ndarray or Series
        The variance; NaN where either input is missing.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §1, Budget variance.
    .. [2] AccountingCoach, "What do negative variances indicate?",
       https://www.accountingcoach.com/blog/what-do-negative-variances-indicate

    Examples
    --------
    AccountingCoach's example week: revenues $750 against $900 budgeted, expenses $525
    against $700.

    >>> variance([750, 525], [900, 700])
    array([-150., -175.])
    >>> variance(1250, 1000)
    250.0
    >>> variance([[110, None]], [[100, 100]])
    array([[10., nan]])
    >>> variance(pd.Series([5.0, 7.0], index=["saline", "heparin"]), 6)
    saline    -1.0
    heparin    1.0
    Name: variance, dtype: float64
    """
    (actual_, budget_), index, scalar = _numbers(actual=actual, budget=budget)
    return _result(actual_ - budget_, index, scalar, "variance")


def variance_pct(actual: Any, budget: Any) -> Any:
    r"""Budget variance as a fraction of the budget's size.

    .. math:: \text{variance\%} = \frac{\text{actual} - \text{budget}}{|\text{budget}|}

    Dividing by :math:`|\text{budget}|` keeps the sign of the variance (actual above budget
    is positive) when a budget is negative, e.g. a budgeted credit.

    Parameters
    ----------
    actual, budget : number, sequence, ndarray, Series or 2-D list of lists
        Actual and budgeted amounts, combined cell by cell (module shape policy).

    Returns
    -------
    float, ndarray or Series
        The variance as a fraction (0.05 is 5%); NaN where the budget is 0 (undefined; Excel
        shows #DIV/0!) or an input is missing.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §1, Budget variance.

    Examples
    --------
    >>> variance_pct(105_000, 100_000)
    0.05
    >>> variance_pct([90, 5, 3], [100, 0, None])
    array([-0.1,  nan,  nan])
    >>> variance_pct(-80, -100)
    0.2
    """
    (actual_, budget_), index, scalar = _numbers(actual=actual, budget=budget)
    return _result(ratio(actual_ - budget_, np.abs(budget_)), index, scalar, "variance_pct")


def _revenue_lines(line_type: Any) -> np.ndarray:
    """Return 1.0 where ``line_type`` is revenue and 0.0 where expense, in its own shape."""
    if isinstance(line_type, pd.Series):
        cells = line_type.to_numpy(dtype=object)
    else:
        cells = np.asarray(line_type, dtype=object)
    if cells.size == 0:
        raise InputError("line_type: no values given")
    # Few distinct labels however many lines: classify each distinct label once.
    codes, labels = pd.factorize(cells.reshape(-1))
    normalized = [label.strip().lower() if isinstance(label, str) else None for label in labels]
    known = np.array([n in LINE_TYPES for n in normalized] + [False], dtype=bool)
    revenue = np.array([n == REVENUE for n in normalized] + [False], dtype=bool)
    # factorize codes a missing label as -1, which picks the appended False.
    bad = ~known[codes]
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        where = ""
        if cells.ndim:
            position = np.unravel_index(first, cells.shape)
            where = " at position " + ",".join(str(i + 1) for i in position)
        value = cells.reshape(-1)[first]
        if isinstance(value, np.generic):
            value = value.item()
        shown = "the blank cell" if codes[first] == -1 else repr(value)
        valid = " or ".join(repr(t) for t in LINE_TYPES)
        raise InputError(
            f"line_type: {shown}{where} is not a line type;"
            f" use {valid} (case and surrounding spaces do not matter)"
        )
    return revenue[codes].reshape(cells.shape).astype(float)


def favorability(actual: Any, budget: Any, line_type: Any = EXPENSE) -> Any:
    r"""Favorable ("F") or unfavorable ("U") flag of each variance.

    .. math::

        \text{flag} = \begin{cases}
            U & \text{expense line and actual} > \text{budget} \\
            U & \text{revenue line and actual} < \text{budget} \\
            F & \text{otherwise}
        \end{cases}

    A line exactly on budget is "F": being on budget is not unfavorable, and a report that
    prints a flag beside every number should not leave a hole there.

    Parameters
    ----------
    actual, budget : number, sequence, ndarray, Series or 2-D list of lists
        Actual and budgeted amounts, combined cell by cell (module shape policy).
    line_type : str or sequence of str, default "expense"
        "expense" or "revenue", one for all lines or one per line (combined cell by cell like
        the amounts). Case and surrounding spaces are ignored.

    Returns
    -------
    str, None, object ndarray or object Series
        "F" or "U" per line; ``None`` where an input is missing.

    Raises
    ------
    InputError
        A line type other than expense or revenue (the message names the value and position).

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §1, Budget variance.
    .. [2] AccountingCoach, "What do negative variances indicate?",
       https://www.accountingcoach.com/blog/what-do-negative-variances-indicate

    Examples
    --------
    AccountingCoach's week: revenues $750 against $900 budgeted are unfavorable, expenses $525
    against $700 favorable.

    >>> favorability([750, 525], [900, 700], ["Revenue", "expense "])
    array(['U', 'F'], dtype=object)
    >>> favorability(120, 100)
    'U'
    >>> favorability(120, 100, "revenue")
    'F'
    >>> favorability([100, None], 100) # on budget is favorable; missing gives no flag
    array(['F', None], dtype=object)
    """
    index, owner = series_index(actual=actual, budget=budget, line_type=line_type)
    arrays = {
        "actual": as_float_array(actual, "actual"),
        "budget": as_float_array(budget, "budget"),
        "line_type": _revenue_lines(line_type),
    }
    (actual_, budget_, revenue), scalar = _line_up(arrays, index, owner)
    difference = actual_ - budget_
    unfavorable = np.where(revenue == 1.0, difference < 0, difference > 0)
    flags = np.where(unfavorable, UNFAVORABLE, FAVORABLE).astype(object)
    flags[np.isnan(difference)] = None
    return _result(flags, index, scalar, "favorability")


def _threshold(value: Any, name: str) -> float:
    array = as_float_array(value, name)
    if array.size != 1:
        raise InputError(f"{name}: expected a single number, got {array.size} values")
    number = float(array.reshape(()))
    if not number >= 0:  # also catches NaN
        raise InputError(f"{name}: expected a number >= 0, got {number!r}")
    return number


def is_material(
    actual: Any,
    budget: Any,
    amount: float = MATERIALITY_AMOUNT,
    percent: float = MATERIALITY_PERCENT,
) -> Any:
    r"""Whether a variance is large enough to explain: both in dollars and in percent.

    .. math::

        |\text{actual} - \text{budget}| \ge \text{amount}
        \;\wedge\;
        \frac{|\text{actual} - \text{budget}|}{|\text{budget}|} \ge \text{percent}

    Requiring both keeps a large line's routine 1% swing and a small line's 50% swing of a few
    dollars off the list. A zero budget with a non-zero variance counts as an infinite
    percent (any spend against no budget is worth a look); a zero budget with a zero variance
    as 0%.

    Parameters
    ----------
    actual, budget : number, sequence, ndarray, Series or 2-D list of lists
        Actual and budgeted amounts, combined cell by cell (module shape policy).
    amount : float, default 10,000
        Dollar threshold, >= 0 (:data:`rxxl.constants.MATERIALITY_AMOUNT`).
    percent : float, default 0.05
        Threshold as a fraction, >= 0: 0.05 is 5% (:data:`rxxl.constants.MATERIALITY_PERCENT`).

    Returns
    -------
    bool, bool ndarray or bool Series
        ``True`` where the line is material; ``False`` where an input is missing.

    Raises
    ------
    InputError
        A negative (or missing) ``amount`` or ``percent``.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §1, Budget variance (materiality is rxxl's documented
       judgement, both thresholds parameters).

    Examples
    --------
    >>> is_material(1_120_000, 1_000_000)
    True
    >>> is_material([1_012_000, 52_000, 15_000, None], [1_000_000, 40_000, 0, 10])
    array([False,  True,  True, False])
    >>> is_material(52_000, 40_000, amount=20_000)
    False
    """
    minimum_amount = _threshold(amount, "amount")
    minimum_percent = _threshold(percent, "percent")
    (actual_, budget_), index, scalar = _numbers(actual=actual, budget=budget)
    size = np.abs(actual_ - budget_)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        share = np.where(budget_ == 0, np.where(size == 0, 0.0, np.inf), size / np.abs(budget_))
    # NaN compares False, so a missing input is never material.
    material = (size >= minimum_amount) & (share >= minimum_percent)
    return _result(material, index, scalar, "material")


def flexed_budget(budget: Any, budget_volume: Any, actual_volume: Any) -> Any:
    r"""Budget restated for the actual volume (flexible budget).

    .. math::

        \text{flexed budget} = \text{budget} \times
        \frac{\text{actual volume}}{\text{budget volume}}

    The volume driver in pharmacy is usually adjusted patient days (APD). For a fixed cost,
    pass the same number as both volumes (it does not flex).

    Parameters
    ----------
    budget : number, sequence, ndarray, Series or 2-D list of lists
        Original (static) budget amounts.
    budget_volume, actual_volume : number, sequence, ndarray, Series or 2-D list of lists
        The volume the budget was built on and the volume achieved; one for all lines or one
        per line.

    Returns
    -------
    float, ndarray or Series
        The flexed budget; NaN where the budget volume is 0 or an input is missing.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §1, Budget variance.
    .. [2] C. T. Horngren, S. M. Datar, M. V. Rajan, *Cost Accounting: A Managerial
       Emphasis*, Pearson, ch. 7 "Flexible Budgets, Direct-Cost Variances, and Management
       Control".

    Examples
    --------
    Direct materials budgeted at $49,500 for 7,500 units, flexed to the 7,275 units made
    (Horngren ch. 7, problem 7-32):

    >>> flexed_budget(49_500, 7_500, 7_275)
    48015.0
    >>> flexed_budget([1_000, 500], [100, 0], 110)
    array([1100.,   nan])
    """
    (budget_, budget_volume_, actual_volume_), index, scalar = _numbers(
        budget=budget, budget_volume=budget_volume, actual_volume=actual_volume
    )
    flexed = budget_ * ratio(actual_volume_, budget_volume_)
    return _result(flexed, index, scalar, "flexed_budget")


def flex_variance(actual: Any, budget: Any, budget_volume: Any, actual_volume: Any) -> pd.DataFrame:
    r"""Split the budget variance into a volume and a spending variance.

    .. math::

        \text{flexed} &= \text{budget} \times \text{actual volume} / \text{budget volume} \\
        \text{volume variance} &= \text{flexed} - \text{budget} \\
        \text{spending variance} &= \text{actual} - \text{flexed} \\
        \text{total variance} &= \text{actual} - \text{budget}
            = \text{volume variance} + \text{spending variance}

    The volume variance is what the change in activity alone explains (Horngren's
    sales-volume variance); the spending variance is what remains at the actual activity
    (Horngren's flexible-budget variance). Use :func:`favorability` on each column with the
    line's type for the F/U flag.

    Parameters
    ----------
    actual, budget : number or single row/column (sequence, ndarray, Series)
        Actual and original budget amount per line.
    budget_volume, actual_volume : number or single row/column
        Volumes, one for all lines (e.g. the department's adjusted patient days) or one per
        line (pass equal volumes for a fixed cost).

    Returns
    -------
    pandas.DataFrame
        One row per line (scalars give one row), columns ``flexed_budget``,
        ``volume_variance``, ``spending_variance``, ``total_variance``; the index of a Series
        argument if any. ``total_variance`` is NaN only where an amount is missing; the other
        columns are NaN also where the budget volume is 0.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §1, Budget variance.
    .. [2] C. T. Horngren, S. M. Datar, M. V. Rajan, *Cost Accounting: A Managerial
       Emphasis*, Pearson, ch. 7 (static-budget, flexible-budget and sales-volume variances).

    Examples
    --------
    Horngren problem 7-32: 7,275 units made against 7,500 budgeted; revenue, two materials,
    labor, and a fixed cost that does not flex.

    >>> lines = ["revenue", "frames", "lenses", "labor", "fixed overhead"]
    >>> actual = pd.Series([596_550, 55_872, 150_738, 145_355, 108_398], index=lines)
    >>> budget = [600_000, 49_500, 139_500, 135_000, 112_500]
    >>> table = flex_variance(actual, budget, [7_500] * 4 + [1], [7_275] * 4 + [1])
    >>> print(table.to_string())
                    flexed_budget  volume_variance  spending_variance  total_variance
    revenue              582000.0         -18000.0            14550.0         -3450.0
    frames                48015.0          -1485.0             7857.0          6372.0
    lenses               135315.0          -4185.0            15423.0         11238.0
    labor                130950.0          -4050.0            14405.0         10355.0
    fixed overhead       112500.0              0.0            -4102.0         -4102.0
    """
    index, owner = series_index(
        actual=actual, budget=budget, budget_volume=budget_volume, actual_volume=actual_volume
    )
    arrays = {
        "actual": as_float_array(actual, "actual"),
        "budget": as_float_array(budget, "budget"),
        "budget_volume": as_float_array(budget_volume, "budget_volume"),
        "actual_volume": as_float_array(actual_volume, "actual_volume"),
    }
    (actual_, budget_, budget_volume_, actual_volume_), _ = _line_up(
        arrays, index, owner, vectors=True
    )
    flexed = budget_ * ratio(actual_volume_, budget_volume_)
    return pd.DataFrame(
        {
            "flexed_budget": flexed,
            "volume_variance": flexed - budget_,
            "spending_variance": actual_ - flexed,
            "total_variance": actual_ - budget_,
        },
        index=index,
    )


# --- Price / volume / mix ------------------------------------------------------------------


def _require_price(
    price: np.ndarray,
    needed: np.ndarray,
    name: str,
    quantity_name: str,
    index: pd.Index | None,
    *,
    more: str = "more than 0",
) -> None:
    missing = np.isnan(price) & needed
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"{name}: missing on {line_name(first, index)} where {quantity_name} is {more};"
            f" enter the {name.replace('_', ' ')} of that line"
        )


def _split(
    actual_spend: np.ndarray,
    actual_price: np.ndarray,
    budget_price: np.ndarray,
    bought: np.ndarray,
    budget_quantity: np.ndarray,
    budget_spend: np.ndarray,
    returned: np.ndarray,
    index: pd.Index | None,
) -> pd.DataFrame:
    """The one rule of the split, for both entry points.

    ``bought`` is the packages bought per line (the actual quantity where it is > 0, else 0);
    the prices are those after the documented substitutions. ``returned`` marks the
    net-return lines, whose whole actual spend is the returns driver.
    """
    total_bought = bought.sum()
    total_budget_quantity = budget_quantity.sum()
    if total_budget_quantity > 0:
        budget_share = budget_quantity / total_budget_quantity
    else:
        budget_share = np.zeros_like(budget_quantity)
    buying = bought > 0
    price = (actual_price - budget_price) * bought
    volume = (total_bought - total_budget_quantity) * budget_share * budget_price
    mix = (bought - total_bought * budget_share) * budget_price
    returns = np.where(buying, 0.0, actual_spend)
    budgeted = budget_quantity > 0
    status = np.select(
        [returned, buying & budgeted, buying, budgeted],
        [RETURNED, CONTINUING, NEW, DISCONTINUED],
        INACTIVE,
    )
    return pd.DataFrame(
        {
            "actual_spend": actual_spend,
            "budget_spend": budget_spend,
            # "+ 0.0" turns the -0.0 of a zero quantity times a negative difference into 0.0,
            # which a report would otherwise print as "-0".
            "price": price + 0.0,
            "volume": volume + 0.0,
            "mix": mix + 0.0,
            "returns": returns + 0.0,
            "total_variance": actual_spend - budget_spend,
            "line_status": status,
        },
        index=index,
    )


def _vectors(index: pd.Index | None, **raw: Any) -> list[np.ndarray]:
    """The four per-line arguments as equally long vectors, none empty or all blank."""
    vectors = {name: as_vector(value, name) for name, value in raw.items()}
    require_same_length(**vectors)
    for name, vector in vectors.items():
        # An all-blank range is far likelier a wrong selection than a month of nothing.
        require_nonempty(vector, name)
    return list(vectors.values())


def _require_budget_quantity(quantity: np.ndarray, index: pd.Index | None) -> None:
    negative = quantity < 0
    if negative.any():
        first = int(np.flatnonzero(negative)[0])
        raise InputError(
            f"budget_quantity: {float(quantity[first])!r} on {line_name(first, index)} is"
            " negative; a budget plans packages to buy: enter 0 or more"
        )


_SPLIT_CHOICES = r"""
    With :math:`AP_i, BP_i` the actual and budget unit price of line :math:`i`,
    :math:`AQ_i, BQ_i` its actual (net) and budget quantity, :math:`q_i = \max(AQ_i, 0)` the
    packages bought, and the budget mix share :math:`s_i = BQ_i / \sum_j BQ_j` (0 for every
    line when :math:`\sum_j BQ_j = 0`):

    .. math::

        \text{price}_i   &= (AP_i - BP_i)\, q_i \\
        \text{volume}_i  &= \Big(\sum_j q_j - \sum_j BQ_j\Big)\, s_i\, BP_i \\
        \text{mix}_i     &= \Big(q_i - s_i \sum_j q_j\Big)\, BP_i \\
        \text{returns}_i &= \text{actual spend}_i \text{ if } AQ_i \le 0 \text{, else } 0 \\
        \text{price}_i + \text{volume}_i + \text{mix}_i + \text{returns}_i
            &= \text{actual spend}_i - BP_i BQ_i

    Volume is what buying more or fewer units in total, at the budgeted mix and prices, would
    have cost (the textbooks' sales-quantity variance); mix is what buying a different mix of
    lines than budgeted cost at budget prices (sales-mix variance); price is paying a
    different unit price for what was bought. The four sum to the line's spend variance
    exactly (to floating-point rounding of the largest term), per line and in total: **the
    column sums are the totals** of the whole basket. Signs are actual − budget: on spend,
    positive is more spend. Use :func:`favorability` for F/U.

    **Net returns** (documented choice). A line whose purchases net to a return
    (:math:`AQ_i < 0`), or to no packages at all while money moved (a return credited at
    another price than was paid: its unit price is undefined), bought nothing this month:
    it takes no part in price, volume and mix (:math:`q_i = 0`, so a budgeted one loses its
    budget to volume and mix as a discontinued line does), and its actual spend, usually a
    credit, is the separate **returns** driver. A return gives back stock bought in an earlier
    month; counting it as negative packages in this month's volume and mix would present
    the timing of a credit as a change in buying, and a price variance on it would compare
    a credit with this month's budget price. The split stays exact:
    returns + the rest = actual spend − budget spend. Returns within a month of net purchases
    (:math:`AQ_i > 0`) are netted into that line's quantity and spend.

    Each line gets a ``line_status``:

    - "continuing": a budget quantity, and packages bought (:math:`AQ > 0`);
    - "new": no budget quantity, packages bought (a drug added after budgeting);
    - "discontinued": a budget quantity, nothing bought or returned;
    - "net return": :math:`AQ < 0`, or :math:`AQ = 0` with a non-zero actual spend;
    - "inactive": none of these.

    Documented choices so that new and discontinued lines reconcile:

    - a new line has no budget share, so no volume variance; with no budget price it is
      valued at its actual price as budget price: price variance 0 and its whole actual
      spend is mix (the basket shifted to it). Given a budget price (say, a formulary
      estimate), the difference to it is price variance and the rest mix;
    - a discontinued line with no actual price uses its budget price: price variance 0;
    - an inactive line needs no price; all its variances are 0;
    - a missing quantity is 0 (the drug was not bought or not budgeted)."""


def price_volume_mix(
    actual_price: Any, budget_price: Any, actual_quantity: Any, budget_quantity: Any
) -> pd.DataFrame:
    r"""Split drug spend variance per line into price, volume, mix and returns, from unit
    prices and quantities (actual spend :math:`AP_i \cdot AQ_i`).
    """  # the rest of the docstring is assembled below, shared with purchase_drivers
    index, _ = series_index(
        actual_price=actual_price,
        budget_price=budget_price,
        actual_quantity=actual_quantity,
        budget_quantity=budget_quantity,
    )
    actual_price_, budget_price_, actual_quantity_, budget_quantity_ = _vectors(
        index,
        actual_price=actual_price,
        budget_price=budget_price,
        actual_quantity=actual_quantity,
        budget_quantity=budget_quantity,
    )
    actual_quantity_ = np.nan_to_num(actual_quantity_, nan=0.0)
    budget_quantity_ = np.nan_to_num(budget_quantity_, nan=0.0)
    _require_budget_quantity(budget_quantity_, index)

    moved = actual_quantity_ != 0
    budgeted = budget_quantity_ > 0
    # A net return needs its credit per package as much as a purchase needs its price.
    _require_price(actual_price_, moved, "actual_price", "actual_quantity", index)
    # A new line may lack a budget price (substituted below); a budgeted one may not.
    _require_price(budget_price_, budgeted, "budget_price", "budget_quantity", index)

    budget_price_ = np.where(np.isnan(budget_price_), actual_price_, budget_price_)
    actual_price_ = np.where(np.isnan(actual_price_), budget_price_, actual_price_)
    # Only lines without quantities can still lack a price; any price works there.
    budget_price_ = np.nan_to_num(budget_price_, nan=0.0)
    actual_price_ = np.nan_to_num(actual_price_, nan=0.0)

    return _split(
        actual_spend=np.where(moved, actual_price_ * actual_quantity_, 0.0),
        actual_price=actual_price_,
        budget_price=budget_price_,
        bought=np.where(actual_quantity_ > 0, actual_quantity_, 0.0),
        budget_quantity=budget_quantity_,
        budget_spend=budget_price_ * budget_quantity_,
        returned=actual_quantity_ < 0,
        index=index,
    )


price_volume_mix.__doc__ += _SPLIT_CHOICES + r"""
    - any other missing price, i.e. on a line whose own quantity is not 0 (a net return
      needs its credit per package), raises :class:`InputError` naming the line and argument.

    Parameters
    ----------
    actual_price, budget_price : number or single row/column (list, ndarray, Series)
        Unit prices, one per line; on a net-return line the actual price is the credit per
        package returned.
    actual_quantity : number or single row/column
        Units bought per line, net of returns and credits: negative in a month of net
        returns.
    budget_quantity : number or single row/column
        Budgeted units per line, >= 0.

    Returns
    -------
    pandas.DataFrame
        One row per line (the index of a Series argument if any), columns
        ``actual_spend`` (AP·AQ), ``budget_spend`` (BP·BQ), ``price``, ``volume``, ``mix``,
        ``returns``, ``total_variance`` (actual_spend − budget_spend) and ``line_status``.

    Raises
    ------
    InputError
        Arguments of different lengths, an empty or all-blank argument, a negative budget
        quantity, or a missing price that the rules above do not substitute.

    See Also
    --------
    purchase_drivers : the same split from spends, when a line's purchases are not one
        price times one quantity (several invoices, a return at another price).

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §1, Budget variance (price / volume / mix).
    .. [2] C. T. Horngren, S. M. Datar, M. V. Rajan, *Cost Accounting: A Managerial
       Emphasis*, Pearson, ch. 14 "sales-mix and sales-quantity variances" (13th ed.
       pp. 517-519); the same split as here, with contribution margin in place of price.
    .. [3] C. Drury, *Management and Cost Accounting*, Cengage, "sales margin mix and sales
       quantity variances".

    Examples
    --------
    Three drugs: one bought at a higher price, one budgeted but withdrawn from the market,
    and its replacement, which had no budget.

    >>> drugs = ["ondansetron", "ranitidine", "famotidine"]
    >>> table = price_volume_mix(
    ...     actual_price=pd.Series([2.25, None, 40.0], index=drugs),
    ...     budget_price=[2.00, 15.0, None],
    ...     actual_quantity=[1_150, 0, 50],
    ...     budget_quantity=[800, 200, None],
    ... )
    >>> print(table.drop(columns="returns").to_string())
                 actual_spend  budget_spend  price  volume     mix  total_variance   line_status
    ondansetron        2587.5        1600.0  287.5   320.0   380.0           987.5    continuing
    ranitidine            0.0        3000.0    0.0   600.0 -3600.0         -3000.0  discontinued
    famotidine         2000.0           0.0    0.0     0.0  2000.0          2000.0           new
    >>> table[["price", "volume", "mix", "returns", "total_variance"]].sum()
    price              287.5
    volume             920.0
    mix              -1220.0
    returns              0.0
    total_variance     -12.5
    dtype: float64

    A month in which ranitidine's last 20 packages went back to the wholesaler for a $14
    credit each: it bought nothing, and the credit is the returns driver.

    >>> returned = price_volume_mix([2.25, 14.0, 40.0], [2.00, 15.0, None],
    ...                             [1_150, -20, 50], [800, 200, None])
    >>> returned.loc[1, ["actual_spend", "price", "volume", "mix", "returns", "line_status"]]
    actual_spend        -280.0
    price                  0.0
    volume               600.0
    mix                -3600.0
    returns             -280.0
    line_status     net return
    Name: 1, dtype: object
    """


def purchase_drivers(
    actual_spend: Any, budget_spend: Any, actual_quantity: Any, budget_quantity: Any
) -> pd.DataFrame:
    r"""Split drug spend variance per line into price, volume, mix and returns, from spends
    and net quantities: a month's invoices and credits summed per drug.

    The unit prices are the averages :math:`AP_i = \text{actual spend}_i / AQ_i` where
    :math:`AQ_i > 0` and :math:`BP_i = \text{budget spend}_i / BQ_i` where :math:`BQ_i > 0`;
    the split is then that of :func:`price_volume_mix`, and is exact also where no unit price
    exists (a return credited at another price than was paid nets the packages to 0 but not
    the money).
    """  # the rest of the docstring is assembled below, shared with price_volume_mix
    index, _ = series_index(
        actual_spend=actual_spend,
        budget_spend=budget_spend,
        actual_quantity=actual_quantity,
        budget_quantity=budget_quantity,
    )
    actual_spend_, budget_spend_, actual_quantity_, budget_quantity_ = _vectors(
        index,
        actual_spend=actual_spend,
        budget_spend=budget_spend,
        actual_quantity=actual_quantity,
        budget_quantity=budget_quantity,
    )
    actual_quantity_ = np.nan_to_num(actual_quantity_, nan=0.0)
    budget_quantity_ = np.nan_to_num(budget_quantity_, nan=0.0)
    _require_budget_quantity(budget_quantity_, index)
    budgeted = budget_quantity_ > 0
    _require_price(actual_spend_, actual_quantity_ != 0, "actual_spend", "actual_quantity",
                   index, more="not 0")
    _require_price(budget_spend_, budgeted, "budget_spend", "budget_quantity", index)
    actual_spend_ = np.nan_to_num(actual_spend_, nan=0.0)
    budget_spend_ = np.nan_to_num(budget_spend_, nan=0.0)
    unplanned = ~budgeted & (budget_spend_ != 0)
    if unplanned.any():
        first = int(np.flatnonzero(unplanned)[0])
        raise InputError(
            f"budget_spend: {float(budget_spend_[first])!r} on {line_name(first, index)} has"
            " no budget_quantity; a budget is split by its packages: enter the budgeted"
            " quantity of that line"
        )

    with np.errstate(divide="ignore", invalid="ignore"):
        actual_price = np.where(actual_quantity_ != 0, actual_spend_ / actual_quantity_, np.nan)
        budget_price = np.where(budgeted, budget_spend_ / budget_quantity_, np.nan)
    buying = actual_quantity_ > 0
    # A new line is valued at its own price (price variance 0); prices of lines that buy
    # nothing do not enter the split.
    split_actual = np.where(buying, actual_price, 0.0)
    split_budget = np.where(budgeted, budget_price, split_actual)
    table = _split(
        actual_spend=actual_spend_,
        actual_price=split_actual,
        budget_price=split_budget,
        bought=np.where(buying, actual_quantity_, 0.0),
        budget_quantity=budget_quantity_,
        budget_spend=budget_spend_,
        returned=(actual_quantity_ < 0) | ((actual_quantity_ == 0) & (actual_spend_ != 0)),
        index=index,
    )
    table.insert(2, "actual_price", actual_price)
    table.insert(3, "budget_price", budget_price)
    return table


purchase_drivers.__doc__ += _SPLIT_CHOICES + r"""
    - a missing spend on a line whose quantity is not 0 (or missing budget spend on a
      budgeted line) raises :class:`InputError`, as does a budget spend without a budget
      quantity (there are no packages to split it by).

    Parameters
    ----------
    actual_spend, budget_spend : number or single row/column (list, ndarray, Series)
        Dollars per line: what was paid net of credits, and what was budgeted.
    actual_quantity : number or single row/column
        Packages bought per line, net of returns and credits (negative in a month of net
        returns).
    budget_quantity : number or single row/column
        Budgeted packages per line, >= 0.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`price_volume_mix`, with ``actual_price`` (actual spend / AQ,
        the credit per package on a net return; NaN where AQ = 0) and ``budget_price``
        (budget spend / BQ; NaN where BQ = 0) after the spends.

    Raises
    ------
    InputError
        Arguments of different lengths, an empty or all-blank argument, a negative budget
        quantity, a missing spend, or a budget spend without a budget quantity.

    References
    ----------
    .. [1] rxxl ``shared/DOMAIN.md`` §1, Budget variance (price / volume / mix).

    Examples
    --------
    Famotidine's month: 10 packages bought at $5 and returned for a $6 credit each. Its
    packages net to 0, its spend to a $10 credit: the returns driver.

    >>> table = purchase_drivers([1_210, -10], [1_000, 0], [110, 0], [100, 0])
    >>> print(table[["actual_price", "price", "volume", "mix", "returns",
    ...              "line_status"]].to_string())
       actual_price  price  volume  mix  returns line_status
    0          11.0  110.0   100.0  0.0      0.0  continuing
    1           NaN    0.0     0.0  0.0    -10.0  net return
    """
