"""The executive summary's KPI tiles: this month, budget or target, variance with F/U, prior
year, and the table each figure comes from.

A budget comes from the budget lines (drug spend, and drug cost per adjusted patient day from
the budgeted volume); a target from the published benchmarks in :mod:`rxxl.constants` (GDR
90%, 10-14 turns, denial rate under 5%). The prior year is the same month a year earlier,
from the same tables; a figure the data cannot give (340B exceptions a year ago: the audit
covers the last months only) stays blank, never zero. Drug spend compares the closed drug
lines (those with an actual) with their own budget; when drug lines of the month are not
closed, the two spend tiles say so in their name.

Each tile's F/U follows the written rule of ``docs/kpi-rules.md`` (one row per KPI). The band
KPIs, turns and days on hand, are U when all locations together are outside the published
band *or* when a location that matters is outside it and outside its own normal
(:func:`location_bands`): a forward buy at one pharmacy is hidden in the total of six.

NaN policy
    A figure the data cannot give is blank (NaN) and so is its flag, with one exception: a
    band KPI whose total is blank (a location lacks a count) is still U when a location that
    matters is known to be outside its band. A KPI without a budget or target (340B savings
    and exceptions) has no flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rxxl import denials, inventory, variance
from rxxl.constants import (
    DAYS_IN_YEAR,
    DENIAL_RATE_TARGET,
    EXPENSE,
    FAVORABLE,
    GDR_BENCHMARK,
    INVENTORY_LOCATION_SHARE,
    NORMAL_TURNS_MIN_MONTHS,
    NORMAL_TURNS_MONTHS,
    NORMAL_TURNS_Z,
    REVENUE,
    TURNS_TARGET_HIGH,
    TURNS_TARGET_LOW,
    UNFAVORABLE,
)
from rxxl.errors import InputError
from rxxl.reports import figures, style
from rxxl.reports.inputs import Inputs

#: Months of a tile's trend, the report month included.
TREND_MONTHS = 12
#: Which way is good: like an expense line (lower), a revenue line (higher), or a band.
LOWER, HIGHER, BAND = EXPENSE, REVENUE, "band"
APD_DRIVER = "adjusted patient days"


@dataclass(frozen=True)
class Kpi:
    measure: str
    unit: str
    actual: float
    target: float
    prior_year: float
    better: str | tuple[float, float]
    #: The table (its name in the template) that holds the figure's detail.
    detail: str
    #: A band KPI's locations that matter and are outside their band, one short text each
    #: ("RUMC-OP 4.7 turns"), most stock first: any of them makes the tile U.
    outside: tuple[str, ...] = ()
    #: The rule's reading in words (each location, its figure and the bands it is outside);
    #: "" when there is nothing to say.
    note: str = ""
    #: The codes of the locations in ``outside``, in the same order.
    where: tuple[str, ...] = ()
    #: The figure in each of the last :data:`TREND_MONTHS` months, the report month last
    #: (NaN where the data give none): the tile's trend.
    trend: tuple[float, ...] = ()

    def row(self) -> dict:
        variance_ = self.actual - self.target
        # Variance % of a dollar tile only: a rate's or a band's variance is in its own unit.
        pct = (float(variance.variance_pct(self.actual, self.target)) if self.unit == "$"
               else np.nan)
        return {"measure": self.measure, "unit": self.unit, "actual": self.actual,
                "budget": self.target, "variance": variance_, "variance_pct": pct,
                "fu": self.flag(),
                "prior_year": self.prior_year, "trend": style.sparkline(self.trend),
                "detail": self.detail, "note": self.note}

    def flag(self) -> str | None:
        """F or U by the KPI's rule (docs/kpi-rules.md); None (blank) without a figure or a
        target."""
        if self.outside:
            return UNFAVORABLE
        if not (np.isfinite(self.actual) and np.isfinite(self.target)):
            return None
        if isinstance(self.better, tuple):
            low, high = self.better
            return FAVORABLE if low <= self.actual <= high else UNFAVORABLE
        return variance.favorability(self.actual, self.target, self.better)


def kpi_table(inputs: Inputs, spend: pd.DataFrame, generic: dict[str, pd.DataFrame],
              stock: pd.DataFrame, audit: dict[str, pd.DataFrame], *,
              days: pd.DataFrame | None = None) -> list[Kpi]:
    """The KPI tiles of the report month, in the order the summary shows them. ``days`` is
    :func:`adjusted_patient_days` when the caller has it already."""
    month = inputs.month
    actual, budget, prior = _at(spend, "actual", 0), _at(spend, "budget", 0), \
        _at(spend, "actual", 12)
    days = adjusted_patient_days(inputs) if days is None else days
    gdr = generic["gdr_by_month"]["gdr"]
    savings = (inputs.monthly_claims["savings_340b"] if len(inputs.monthly_claims)
               else pd.Series(dtype=float))
    findings = audit.get("exceptions_by_month")
    exceptions = (float(findings["exceptions"].iloc[-1]) if findings is not None
                  and len(findings) else np.nan)
    partial = _partial(inputs)
    months = pd.period_range(end=month, periods=TREND_MONTHS, freq="M")
    spend_trend = _trend(spend["actual"], TREND_MONTHS)
    per_day = np.asarray(spend_trend) / np.asarray(_trend(days["actual"], TREND_MONTHS))
    counts = inputs.denial_counts
    rates = {key: tuple(_denial_rate(counts, m, dollars=key == "dollars") for m in months)
             for key in ("claims", "dollars")}
    hfma = tuple(_hfma_rate(counts, m) for m in months)
    audited = (_trend(findings["exceptions"].astype(float), TREND_MONTHS)
               if findings is not None and len(findings) else ())
    return [
        Kpi("Total drug spend" + partial, "$", actual, budget, prior, LOWER, "budget",
            trend=spend_trend),
        Kpi("Drug cost per adjusted patient day" + partial, "$",
            _ratio(actual, _at(days, "actual", 0)), _ratio(budget, _at(days, "budget", 0)),
            _ratio(prior, _at(days, "actual", 12)), LOWER, "budget",
            trend=tuple(np.where(np.isfinite(per_day), per_day, np.nan))),
        Kpi("Generic dispensing rate", "%", _last(gdr, 0), GDR_BENCHMARK, _last(gdr, 12),
            HIGHER, "gdr_by_month", trend=_trend(gdr, TREND_MONTHS)),
        *inventory_kpis(inputs, stock),
        Kpi("Initial denial rate", "%", rates["claims"][-1], DENIAL_RATE_TARGET,
            _denial_rate(counts, month - 12), LOWER, "denial_trend", trend=rates["claims"]),
        Kpi("Initial denial rate, dollars", "%", rates["dollars"][-1], DENIAL_RATE_TARGET,
            _denial_rate(counts, month - 12, dollars=True), LOWER, "denial_trend",
            trend=rates["dollars"]),
        Kpi("Initial denial rate, HFMA", "%", hfma[-1], DENIAL_RATE_TARGET,
            _hfma_rate(counts, month - 12), LOWER, "denial_trend", trend=hfma),
        Kpi("340B savings (WAC less 340B cost)", "$", float(savings.get(str(month), np.nan)),
            np.nan, float(savings.get(str(month - 12), np.nan)), HIGHER, "exceptions_by_month",
            trend=tuple(float(savings.get(str(m), np.nan)) for m in months)),
        Kpi("340B exceptions (claims)", "count", exceptions, np.nan, np.nan, LOWER,
            "exceptions_by_reason", trend=audited),
    ]


def _trend(values: pd.Series, months: int) -> tuple[float, ...]:
    """The last ``months`` values (the report month last), NaN-padded in front."""
    tail = [float(v) for v in values.iloc[-months:]] if len(values) else []
    return tuple([np.nan] * (months - len(tail)) + tail)


#: Phi^-1(0.75): MAD / 0.6745 estimates the standard deviation of normally spread figures, the
#: scale of Iglewicz and Hoaglin's modified z-score (NIST/SEMATECH e-Handbook, 1.3.5.17).
MAD_TO_SIGMA = 0.6745
#: Columns of the per-location inventory figures the band rule reads.
STOCK_COLUMNS = ("location", "average", "turns", "days_on_hand")


def inventory_kpis(inputs: Inputs, stock: pd.DataFrame) -> tuple[Kpi, Kpi]:
    """The turns and days-on-hand tiles of the report month: all locations together against
    the published band, and each location that matters against the band and its own normal
    (:func:`location_bands`, with the 12 months before from :func:`turns_history`).

    ``stock`` is :func:`rxxl.reports.figures.inventory_figures` of the report month."""
    month = inputs.month
    past = _past_stock(inputs, month, NORMAL_TURNS_MONTHS)
    history = _turns_by_month(past)
    band = (TURNS_TARGET_LOW, TURNS_TARGET_HIGH)
    middle = (band[0] + band[1]) / 2
    turns_now = _total_turns(stock, month)
    then = month - 12  # the prior year's month, one of the past months
    prior = past[then] if then in past else figures.inventory_figures(inputs, then)
    turns_then = _total_turns(prior, then)
    locations = (location_bands(stock, normal_turns(history), band=band) if len(stock)
                 else pd.DataFrame(columns=["location", "outside"]))
    out = locations[locations["outside"].astype(bool)]
    where = tuple(out["location"].astype(str))
    turns = (*(_total_turns(frame, period) for period, frame in past.items()), turns_now)
    turns = turns[-TREND_MONTHS:]
    days = tuple(_ratio(DAYS_IN_YEAR, value) for value in turns)
    return (
        Kpi("Inventory turns (annual)", "x", turns_now, middle, turns_then, band, "inventory",
            outside=tuple(f"{row.location} {row.turns:.1f} turns" for row in out.itertuples()),
            note=_band_note(out, band, days=False), where=where, trend=turns),
        Kpi("Days on hand", "days", _ratio(DAYS_IN_YEAR, turns_now), DAYS_IN_YEAR / middle,
            _ratio(DAYS_IN_YEAR, turns_then),
            (DAYS_IN_YEAR / band[1], DAYS_IN_YEAR / band[0]), "inventory",
            outside=tuple(f"{row.location} {_days(row.turns):.1f} days"
                          for row in out.itertuples()),
            note=_band_note(out, band, days=True), where=where, trend=days),
    )


def turns_history(inputs: Inputs, month: pd.Period,
                  months: int = NORMAL_TURNS_MONTHS) -> pd.DataFrame:
    """Each location's turns in the ``months`` months before ``month``: one row per month
    (oldest first), one column per location, NaN where a month has no figure (no count,
    a count missing the month before, or negative COGS)."""
    return _turns_by_month(_past_stock(inputs, month, months))


def _past_stock(inputs: Inputs, month: pd.Period, months: int) -> dict[pd.Period, pd.DataFrame]:
    """:func:`~rxxl.reports.figures.inventory_figures` of each of the ``months`` months
    before ``month`` (one month at a time: the figures are defined per month)."""
    periods = pd.period_range(end=month - 1, periods=months, freq="M")
    return {period: figures.inventory_figures(inputs, period) for period in periods}


def _turns_by_month(stocks: dict[pd.Period, pd.DataFrame]) -> pd.DataFrame:
    columns = {period: frame.set_index("location")["turns"]
               for period, frame in stocks.items() if len(frame)}
    history = pd.DataFrame(columns).T if columns else pd.DataFrame()
    return history.reindex(list(stocks)).astype(float)


def normal_turns(history: pd.DataFrame, *, z: float = NORMAL_TURNS_Z,
                 min_months: int = NORMAL_TURNS_MIN_MONTHS) -> pd.DataFrame:
    r"""Each location's normal range of turns from its own past months: the median plus or
    minus ``z`` robust standard deviations.

    .. math::

        \mathrm{normal} = \tilde{t} \pm z \, \frac{\mathrm{MAD}}{0.6745},
        \qquad \mathrm{MAD} = \mathrm{median}_k \, |t_k - \tilde{t}|

    where :math:`t_k` are the location's turns in the past months and :math:`\tilde{t}`
    their median. A month is outside exactly when its modified z-score
    :math:`0.6745 (t - \tilde{t}) / \mathrm{MAD}` is beyond :math:`\pm z` (Iglewicz and
    Hoaglin's 3.5). Median and MAD rather than mean and standard deviation: one past
    forward buy in the year would widen a standard deviation until it hid the next one.

    Parameters
    ----------
    history : pandas.DataFrame
        One row per past month, one column per location, turns (:func:`turns_history`).
        NaN months are left out.
    z : float, default :data:`~rxxl.constants.NORMAL_TURNS_Z`
        Half-width of the range in robust standard deviations, above 0.
    min_months : int, default :data:`~rxxl.constants.NORMAL_TURNS_MIN_MONTHS`
        Fewest months with a figure for a normal; with fewer, the location's row is NaN
        (no normal of its own).

    Returns
    -------
    pandas.DataFrame
        Index: the locations. Columns ``months`` (months with a figure), ``median``,
        ``normal_low`` (never below 0) and ``normal_high``.

    Raises
    ------
    InputError
        ``z`` not above 0, ``min_months`` below 1, or turns below 0 in ``history``.

    References
    ----------
    .. [1] B. Iglewicz and D. Hoaglin, *How to Detect and Handle Outliers*, ASQC Quality
       Press, 1993; as summarized in the NIST/SEMATECH e-Handbook of Statistical Methods,
       1.3.5.17, https://www.itl.nist.gov/div898/handbook/eda/section3/eda35h.htm

    Examples
    --------
    Six months at 11, 12, 12, 12, 13 and 30 turns: median 12, deviations 1, 0, 0, 0, 1,
    18, so MAD 0.5 and the range 12 +/- 3.5 x 0.5 / 0.6745 = 12 +/- 2.59:

    >>> past = pd.DataFrame({"MAIN": [11.0, 12, 12, 12, 13, 30]})
    >>> normal_turns(past).round(2)
          months  median  normal_low  normal_high
    MAIN       6    12.0        9.41        14.59
    """
    if not z > 0:
        raise InputError(f"z: expected a number of standard deviations above 0, got {z!r}")
    if min_months < 1:
        raise InputError(f"min_months: expected 1 or more months, got {min_months!r}")
    values = history.astype(float)
    if (values < 0).any(axis=None):
        where = values.columns[(values < 0).any()][0]
        raise InputError(f"history: turns below 0 for location {where}; turns are 0 or more"
                         " (check that location's COGS)")
    months = values.notna().sum()
    median = values.median()
    half = z * values.sub(median, axis=1).abs().median() / MAD_TO_SIGMA
    enough = months >= min_months
    return pd.DataFrame({"months": months.astype(int), "median": median.where(enough),
                         "normal_low": (median - half).clip(lower=0.0).where(enough),
                         "normal_high": (median + half).where(enough)})


def location_bands(stock: pd.DataFrame, normal: pd.DataFrame, *,
                   band: tuple[float, float] = (TURNS_TARGET_LOW, TURNS_TARGET_HIGH),
                   share: float = INVENTORY_LOCATION_SHARE) -> pd.DataFrame:
    r"""Which locations put the turns and days-on-hand tiles at U.

    A location **matters** when its average inventory is at least ``share`` of all
    locations' average inventory this month. It is **outside** when it matters and its
    turns :math:`t` are outside the published band *and* outside its own normal range
    (:func:`normal_turns`); without a normal of its own, outside the band alone:

    .. math::

        \mathrm{outside} = \frac{\bar{I}_\ell}{\sum \bar{I}} \ge s
        \;\wedge\; t \notin [b_{lo}, b_{hi}]
        \;\wedge\; t \notin [n_{lo}, n_{hi}]

    Inside the published band is never U (a location better than its own habit is not a
    problem); a location whose normal sits outside the band (an infusion center's stock
    differs from a main pharmacy's) is U only when it leaves its normal too. Days on hand
    are 365 / turns, so the same locations are outside on both tiles.

    Parameters
    ----------
    stock : pandas.DataFrame
        One row per location of the month: ``location``, ``average`` (average inventory,
        $), ``turns`` and ``days_on_hand``
        (:func:`rxxl.reports.figures.inventory_figures`). A location without turns (no
        count the month before, negative COGS) is not judged.
    normal : pandas.DataFrame
        :func:`normal_turns`, indexed by location; a location missing from it has no normal.
    band : (low, high), default (10, 14)
        The published turns band (DOMAIN.md §3).
    share : float, default :data:`~rxxl.constants.INVENTORY_LOCATION_SHARE`
        Smallest share of the month's average inventory for a location to matter, in
        [0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per location, most stock first: ``location``, ``share``, ``turns``,
        ``days_on_hand``, ``normal_low``, ``normal_high``, ``matters`` and ``outside``
        (booleans).

    Raises
    ------
    InputError
        A missing column of ``stock``, a band whose low end is not below its high end or
        is below 0, or ``share`` outside [0, 1].

    Examples
    --------
    The main pharmacy at 12 turns; the outpatient pharmacy at 4.7 (normal 10.6-13.7) with a
    quarter of the stock; a clinic at 8 turns holding 2% of it:

    >>> stock = pd.DataFrame({"location": ["MAIN", "OP", "CLINIC"],
    ...                       "average": [730_000, 250_000, 20_000],
    ...                       "turns": [12.0, 4.7, 8.0], "days_on_hand": [30.4, 77.7, 45.6]})
    >>> normal = pd.DataFrame({"normal_low": [10.5, 10.6], "normal_high": [13.5, 13.7]},
    ...                       index=["MAIN", "OP"])
    >>> location_bands(stock, normal)[["location", "share", "matters", "outside"]]
      location  share  matters  outside
    0     MAIN   0.73     True    False
    1       OP   0.25     True     True
    2   CLINIC   0.02    False    False
    """
    missing = [c for c in STOCK_COLUMNS if c not in stock.columns]
    if missing:
        raise InputError(f"stock: missing column(s) {', '.join(missing)}; give the inventory"
                         " figures per location (rxxl.reports.figures.inventory_figures)")
    low, high = (float(v) for v in band)
    if not 0 <= low < high:
        raise InputError(f"band: expected (low, high) turns with 0 <= low < high, got {band!r}")
    if not 0 <= share <= 1:
        raise InputError(f"share: expected a share of inventory in [0, 1], got {share!r}")
    table = stock[list(STOCK_COLUMNS)].reset_index(drop=True)
    average = table["average"].astype(float)
    table["share"] = average / average.sum() if average.sum() > 0 else np.nan
    own = normal.reindex(table["location"]) if len(normal) else pd.DataFrame(
        index=table["location"], columns=["normal_low", "normal_high"], dtype=float)
    table["normal_low"] = own["normal_low"].to_numpy(dtype=float)
    table["normal_high"] = own["normal_high"].to_numpy(dtype=float)
    turns = table["turns"].astype(float)
    table["matters"] = table["share"].ge(share).to_numpy(dtype=bool)
    outside_band = (turns < low) | (turns > high)
    has_normal = table["normal_low"].notna() & table["normal_high"].notna()
    outside_normal = ~has_normal | (turns < table["normal_low"]) | (turns > table["normal_high"])
    table["outside"] = (table["matters"] & turns.notna() & outside_band
                        & outside_normal).to_numpy(dtype=bool)
    return table.sort_values("share", ascending=False, kind="stable").reset_index(drop=True)


def _days(turns: float) -> float:
    return DAYS_IN_YEAR / turns if turns > 0 else np.inf


def _band_note(out: pd.DataFrame, band: tuple[float, float], *, days: bool) -> str:
    """The rule's reading for each location outside, in the tile's unit."""
    low, high = band
    parts = []
    for row in out.itertuples():  # the few locations outside, not rows of data
        if days:
            figure, published = (f"{_days(row.turns):.1f} days on hand",
                                 f"{DAYS_IN_YEAR / high:.1f}-{DAYS_IN_YEAR / low:.1f} days")
        else:
            figure, published = f"{row.turns:.1f} turns", f"{low:g}-{high:g} turns"
        if pd.isna(row.normal_low):
            own = (f"no normal of its own (fewer than {NORMAL_TURNS_MIN_MONTHS} of the"
                   f" {NORMAL_TURNS_MONTHS} months before have a figure)")
        elif days:
            top = (f"-{DAYS_IN_YEAR / row.normal_low:.1f}" if row.normal_low > 0
                   else " or more")
            own = f"its {NORMAL_TURNS_MONTHS}-month normal {_days(row.normal_high):.1f}{top}"
        else:
            own = (f"its {NORMAL_TURNS_MONTHS}-month normal {row.normal_low:.1f}-"
                   f"{row.normal_high:.1f}")
        parts.append(f"{row.location} {figure} ({row.share:.0%} of inventory): outside"
                     f" {published} and {own}")
    return "; ".join(parts)


def _partial(inputs: Inputs) -> str:
    """What the drug spend tiles add to their name when drug lines of the month are not
    closed: their spend compares the closed lines' actual with the same lines' budget."""
    open_lines = figures.not_closed(inputs)
    count = int(figures.is_drug_line(open_lines["line"]).sum()) if len(open_lines) else 0
    return f" (closed lines; {count} not closed)" if count else ""


def adjusted_patient_days(inputs: Inputs) -> pd.DataFrame:
    """Budgeted and actual adjusted patient days per month of the 24, from the budget lines
    whose volume driver is APD (each cost center's volume once: its lines repeat it)."""
    frame = pd.DataFrame(index=inputs.months, columns=["budget", "actual"], dtype=float)
    lines = inputs.tables["budget_lines"]
    if lines is None or lines.empty:
        return frame
    apd = lines[lines["volume_driver"].astype(str).str.strip().str.lower() == APD_DRIVER]
    per_center = apd.groupby([apd["month"].dt.to_period("M"), "cost_center"], observed=True)[
        ["budget_volume", "actual_volume"]].first()
    per_month = per_center.groupby(level=0).sum(min_count=1)
    frame["budget"] = per_month["budget_volume"].reindex(inputs.months).to_numpy()
    frame["actual"] = per_month["actual_volume"].reindex(inputs.months).to_numpy()
    return frame


def _at(frame: pd.DataFrame, column: str, months_back: int) -> float:
    """The value ``months_back`` months before the last row (the report month)."""
    return _last(frame[column], months_back) if len(frame) else np.nan


def _last(values: pd.Series, months_back: int) -> float:
    return float(values.iloc[-1 - months_back]) if len(values) > months_back else np.nan


def _ratio(numerator: float, denominator: float) -> float:
    if not (np.isfinite(numerator) and np.isfinite(denominator)) or denominator <= 0:
        return np.nan
    return numerator / denominator


def _total_turns(stock: pd.DataFrame, month: pd.Period) -> float:
    """Turns of all locations together: total COGS over total average inventory."""
    if stock.empty or stock[["cogs", "beginning", "ending"]].isna().any(axis=None):
        return np.nan
    cogs = float(stock["cogs"].sum())
    if cogs < 0:
        return np.nan
    values = [float(stock["beginning"].sum()), float(stock["ending"].sum())]
    return float(inventory.inventory_turns(cogs, values, days_in_period=month.days_in_month))


def _by_month(counts: pd.DataFrame) -> pd.DataFrame:
    """Claims submitted and denied on first submission, all payers, per month."""
    rows = counts[counts["payer"] != denials.ALL]
    return rows.groupby("month")[["submitted", "denied", "submitted_dollars",
                                  "denied_dollars"]].sum()


def _denial_rate(counts: pd.DataFrame, month: pd.Period, *, dollars: bool = False) -> float:
    """Denied / submitted in ``month``, by claims or by billed dollars (DOMAIN.md §4)."""
    totals = _by_month(counts)
    if str(month) not in totals.index:
        return np.nan
    row = totals.loc[str(month)]
    suffix = "_dollars" if dollars else ""
    return _ratio(float(row["denied" + suffix]), float(row["submitted" + suffix]))


def _hfma_rate(counts: pd.DataFrame, month: pd.Period) -> float:
    """HFMA's initial denial rate: the month's denials over the average claims submitted in
    the three months before it (a month without claims counts 0; NaN when the data do not
    reach three months back), as :func:`rxxl.denials.denial_rates` with ``hfma=True``."""
    totals = _by_month(counts)
    if str(month) not in totals.index or not len(totals) or totals.index.min() > str(month - 3):
        return np.nan
    before = totals["submitted"].reindex([str(month - k) for k in (1, 2, 3)]).fillna(0)
    return _ratio(float(totals.loc[str(month), "denied"]), float(before.mean()))
