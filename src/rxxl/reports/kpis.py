"""The executive summary's KPI tiles: this month, budget or target, variance with F/U, prior
year, and the table each figure comes from.

A budget comes from the budget lines (drug spend, and drug cost per adjusted patient day from
the budgeted volume); a target from the published benchmarks in :mod:`rxxl.constants` (GDR
90%, 10-14 turns, denial rate under 5%). The prior year is the same month a year earlier,
from the same tables; a figure the data cannot give (340B exceptions a year ago: the audit
covers the last months only) stays blank, never zero. Drug spend compares the closed drug
lines (those with an actual) with their own budget; when drug lines of the month are not
closed, the two spend tiles say so in their name.
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
    REVENUE,
    TURNS_TARGET_HIGH,
    TURNS_TARGET_LOW,
    UNFAVORABLE,
)
from rxxl.reports import figures
from rxxl.reports.inputs import Inputs

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

    def row(self) -> dict:
        variance_ = self.actual - self.target
        return {"measure": self.measure, "unit": self.unit, "actual": self.actual,
                "budget": self.target, "variance": variance_, "fu": self.flag(),
                "prior_year": self.prior_year, "detail": self.detail}

    def flag(self) -> str | None:
        if not (np.isfinite(self.actual) and np.isfinite(self.target)):
            return None
        if isinstance(self.better, tuple):
            low, high = self.better
            return FAVORABLE if low <= self.actual <= high else UNFAVORABLE
        return variance.favorability(self.actual, self.target, self.better)


def kpi_table(inputs: Inputs, spend: pd.DataFrame, generic: dict[str, pd.DataFrame],
              stock: pd.DataFrame, audit: dict[str, pd.DataFrame]) -> list[Kpi]:
    """The KPI tiles of the report month, in the order the summary shows them."""
    month = inputs.month
    actual, budget, prior = _at(spend, "actual", 0), _at(spend, "budget", 0), \
        _at(spend, "actual", 12)
    days = adjusted_patient_days(inputs)
    gdr = generic["gdr_by_month"]["gdr"]
    turns_now = _total_turns(stock, month)
    turns_then = _total_turns(figures.inventory_figures(inputs, month - 12), month - 12)
    band = (TURNS_TARGET_LOW, TURNS_TARGET_HIGH)
    savings = (inputs.monthly_claims["savings_340b"] if len(inputs.monthly_claims)
               else pd.Series(dtype=float))
    findings = audit.get("exceptions_by_month")
    exceptions = (float(findings["exceptions"].iloc[-1]) if findings is not None
                  and len(findings) else np.nan)
    partial = _partial(inputs)
    return [
        Kpi("Total drug spend" + partial, "$", actual, budget, prior, LOWER, "budget"),
        Kpi("Drug cost per adjusted patient day" + partial, "$",
            _ratio(actual, _at(days, "actual", 0)), _ratio(budget, _at(days, "budget", 0)),
            _ratio(prior, _at(days, "actual", 12)), LOWER, "budget"),
        Kpi("Generic dispensing rate", "%", _last(gdr, 0), GDR_BENCHMARK, _last(gdr, 12),
            HIGHER, "gdr_by_month"),
        Kpi("Inventory turns (annual)", "x", turns_now, (band[0] + band[1]) / 2, turns_then,
            band, "inventory"),
        Kpi("Days on hand", "days", _ratio(DAYS_IN_YEAR, turns_now),
            DAYS_IN_YEAR / ((band[0] + band[1]) / 2), _ratio(DAYS_IN_YEAR, turns_then),
            (DAYS_IN_YEAR / band[1], DAYS_IN_YEAR / band[0]), "inventory"),
        Kpi("Initial denial rate", "%", _denial_rate(inputs.denial_counts, month),
            DENIAL_RATE_TARGET, _denial_rate(inputs.denial_counts, month - 12), LOWER,
            "denial_trend"),
        Kpi("Initial denial rate, dollars", "%",
            _denial_rate(inputs.denial_counts, month, dollars=True), DENIAL_RATE_TARGET,
            _denial_rate(inputs.denial_counts, month - 12, dollars=True), LOWER,
            "denial_trend"),
        Kpi("Initial denial rate, HFMA", "%", _hfma_rate(inputs.denial_counts, month),
            DENIAL_RATE_TARGET, _hfma_rate(inputs.denial_counts, month - 12), LOWER,
            "denial_trend"),
        Kpi("340B savings (WAC less 340B cost)", "$", float(savings.get(str(month), np.nan)),
            np.nan, float(savings.get(str(month - 12), np.nan)), HIGHER, "exceptions_by_month"),
        Kpi("340B exceptions (claims)", "count", exceptions, np.nan, np.nan, LOWER,
            "exceptions_by_reason"),
    ]


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
