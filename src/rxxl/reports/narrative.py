"""The month in words on the package: :class:`~rxxl.reports.commentary.MonthFacts` built from
the package's own filled cells, and the commentary written at the top of the Summary sheet.

Every figure handed to the commentary engine is the value rxxl wrote into a cell of the
package, with that cell (``'Summary'!$C$14``), so the text says exactly what the sheets show:

=====================  ==================================================================
fact                   cell
=====================  ==================================================================
spend, budget,         the Summary's "Total drug spend" tile: This month, Budget /
variance, variance %   target, Variance, Variance (%)
drivers                the Drivers sheet's largest drivers: Amount, Share of variance,
                       Unit cost vs budget (price rows)
timing, 340B capture   the Drivers sheet's bridge: Inventory timing, Account mix
band KPI               the Inventory sheet: the location's Days on hand, the target band
other KPIs             the Summary's tiles flagged U: This month, Budget / target
denial spike           the Denials sheet: the payer's rate and center line this month
                       (its top reason, in words, from the claims' Pareto)
340B exceptions        the Summary's exceptions tile; dollars from the audit by month
lines not closed       the Cover's count of drug lines not closed (a live COUNTIFS)
=====================  ==================================================================

The commentary names a drug by its name without strength and form ("Privigen" for
"Privigen (immune globulin IV 10%) 20 g/200 mL", :func:`short_drug_name`): a director says the
drug, and the Drivers sheet has the full name. The engine decides what is material and what
is said (``docs/commentary.md``); nothing here computes a figure.
"""

from __future__ import annotations

import dataclasses
import math
import re

import pandas as pd

from rxxl import denials
from rxxl.constants import DAYS_IN_YEAR, TURNS_TARGET_HIGH, TURNS_TARGET_LOW, UNFAVORABLE
from rxxl.reports import kpis
from rxxl.reports.commentary import (
    COUNT,
    DAYS,
    DOLLARS,
    PERCENT,
    DenialSpike,
    Exceptions,
    Figure,
    KpiFlag,
    MonthFacts,
    Sentence,
    drivers_from_table,
    month_commentary,
)
from rxxl.reports.figures import DRIVER_LABELS, DriverFigures
from rxxl.reports.workbook import Filled

#: The Inventory sheet's target band rows: (measure, low, high), in the band KPI's unit.
INVENTORY_BAND = (
    ("Turns (annual)", TURNS_TARGET_LOW, TURNS_TARGET_HIGH),
    ("Days on hand", DAYS_IN_YEAR / TURNS_TARGET_HIGH, DAYS_IN_YEAR / TURNS_TARGET_LOW),
)
#: Rate tiles the commentary may flag (the other denial-rate tiles say the same thing).
RATE_TILES = ("Generic dispensing rate", "Initial denial rate")

_STRENGTH = re.compile(r"\s(?=\d)|\s\(")


def _figure(value: float, kind: str, cell: str | None, noun: str | None = None) -> Figure:
    """A figure as its cell shows it: a value that is not a finite number (a sum that
    overflowed) is written blank, so it is missing here too."""
    value = float(value)
    return Figure(value if math.isfinite(value) else float("nan"), kind, cell, noun)


def short_drug_name(name: object) -> str | None:
    """The drug's name as a director says it: the text before its first parenthesis or
    strength.

    >>> short_drug_name("Privigen (immune globulin IV 10%) 20 g/200 mL")
    'Privigen'
    >>> short_drug_name("escitalopram 10 mg tablet"), short_drug_name("Heparin")
    ('escitalopram', 'Heparin')
    """
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return None
    text = str(name).strip()
    short = _STRENGTH.split(text, maxsplit=1)[0].strip()
    return short or text


def _tile(tiles: list[kpis.Kpi], measure: str) -> int | None:
    for index, tile in enumerate(tiles):
        if tile.measure == measure or tile.measure.startswith(measure + " ("):
            return index
    return None


def month_facts(month: pd.Period, cells: dict[str, Filled], tiles: list[kpis.Kpi],
                found: DriverFigures, stock: pd.DataFrame, denial: dict[str, pd.DataFrame],
                audit: dict[str, pd.DataFrame], not_closed: tuple[int, str] | None,
                claims: pd.DataFrame | None = None) -> MonthFacts:
    """The month's facts from the filled tables ``cells`` (name -> :class:`Filled`).

    ``tiles`` are the Summary's KPI tiles in their rows, ``found`` the Drivers sheet's
    figures, ``stock`` the Inventory sheet's, ``denial`` and ``audit`` the Denials and 340B
    sheets' frames, ``not_closed`` the count of drug lines not closed and its cell, ``claims``
    the month's claims (the denial spike's reason in words).
    """
    kpi = cells["kpis"]
    spend_row = _tile(tiles, "Total drug spend")
    nan = float("nan")

    def tile_figure(row: int | None, key: str, kind: str, value: float) -> Figure:
        return _figure(value if row is not None else nan, kind,
                      kpi.cell(key, row) if row is not None else None)

    spend = tiles[spend_row] if spend_row is not None else None
    row = spend.row() if spend is not None else {}
    facts = {
        "spend": tile_figure(spend_row, "actual", DOLLARS, row.get("actual", nan)),
        "budget": tile_figure(spend_row, "budget", DOLLARS, row.get("budget", nan)),
        "variance": tile_figure(spend_row, "variance", DOLLARS, row.get("variance", nan)),
        "variance_pct": tile_figure(spend_row, "variance_pct", PERCENT,
                                    row.get("variance_pct", nan)),
    }
    return MonthFacts(
        month=month, **facts, drivers=_drivers(found, cells["largest_drivers"]),
        timing_next_month=_bridge_figure(found, cells["bridge"], "inventory_timing"),
        capture_340b=_bridge_figure(found, cells["bridge"], "account_mix"),
        kpi_flags=_kpi_flags(tiles, cells, stock),
        denial_spike=_denial_spike(month, denial, cells["denial_trend"], claims),
        exceptions=_exceptions(tiles, cells, audit),
        not_closed=(_figure(not_closed[0], COUNT, not_closed[1], noun="drug line")
                    if not_closed is not None else None))


def _drivers(found: DriverFigures, shown: Filled) -> list:
    largest = found.largest
    if largest is None or not len(largest):
        return []
    table = largest.assign(drug=largest["drug_name"].map(short_drug_name))
    rows = range(len(table))
    facts = drivers_from_table(table, [shown.cell("amount", i) for i in rows],
                               [shown.cell("share_of_variance", i) for i in rows])
    return [dataclasses.replace(d, unit_cost_change=dataclasses.replace(
                d.unit_cost_change, cell=shown.cell("unit_cost_change", i)))
            if d.unit_cost_change is not None else d for i, d in enumerate(facts)]


def _bridge_figure(found: DriverFigures, shown: Filled, driver: str) -> Figure | None:
    steps = found.bridge["step"].tolist() if len(found.bridge) else []
    label = DRIVER_LABELS[driver]
    if label not in steps or not shown.rows:
        return None
    at = steps.index(label)
    return _figure(float(found.bridge["amount"].iloc[at]), DOLLARS, shown.cell("amount", at))


def _kpi_flags(tiles: list[kpis.Kpi], cells: dict[str, Filled], stock: pd.DataFrame
               ) -> list[KpiFlag]:
    flags = []
    days = _tile(tiles, "Days on hand")
    # Turns and days on hand flag the same locations (days are 365 / turns): one sentence,
    # in days, the unit a CFO hears.
    if days is not None and tiles[days].where and len(stock):
        band, inventory = cells["inventory_band"], cells["inventory"]
        low = _figure(INVENTORY_BAND[1][1], DAYS, band.cell("low", 1))
        high = _figure(INVENTORY_BAND[1][2], DAYS, band.cell("high", 1))
        locations = stock["location"].astype(str).tolist()
        for where in tiles[days].where:
            if where in locations:
                at = locations.index(where)
                flags.append(KpiFlag("days on hand", _figure(
                    float(stock["days_on_hand"].iloc[at]), DAYS,
                    inventory.cell("days_on_hand", at)), (low, high), UNFAVORABLE, where))
    kpi = cells["kpis"]
    for measure in RATE_TILES:
        row = _tile(tiles, measure)
        if row is None or tiles[row].flag() != UNFAVORABLE:
            continue
        tile = tiles[row]
        flags.append(KpiFlag(measure[:1].lower() + measure[1:],
                             _figure(tile.actual, PERCENT, kpi.cell("actual", row)),
                             _figure(tile.target, PERCENT, kpi.cell("budget", row)),
                             UNFAVORABLE))
    return flags


def _denial_spike(month: pd.Period, denial: dict[str, pd.DataFrame], shown: Filled,
                  claims: pd.DataFrame | None) -> DenialSpike | None:
    """The payer out of control this month with the most excess denials (the p-chart's),
    with its top denial reason when that reason is at least half of its denials."""
    trend = denial.get("denial_trend")
    if trend is None or not len(trend):
        return None
    trend = trend.reset_index(drop=True)
    this = trend[(trend["month"] == str(month)) & trend["out_of_control"].astype(bool)
                 & (trend["denial_rate"] > trend["center_line"])]
    if not len(this):
        return None
    excess = this["denied"] - this["center_line"] * this["submitted"]
    at = int(excess.idxmax())
    payer = str(trend.at[at, "payer"])
    return DenialSpike(payer, _top_reason(claims, payer, month),
                       _figure(float(trend.at[at, "denial_rate"]), PERCENT,
                              shown.cell("denial_rate", at)),
                       _figure(float(trend.at[at, "center_line"]), PERCENT,
                              shown.cell("center_line", at)))


def _top_reason(claims: pd.DataFrame | None, payer: str, month: pd.Period) -> str | None:
    """The payer's most frequent initial denial reason of the month (its Pareto's first
    row, :func:`rxxl.denials.pareto`), in words, when it is at least half of the denials."""
    if claims is None or not len(claims):
        return None
    chosen = (claims["payer"].astype(str).eq(payer).to_numpy()
              & (claims["service_date"].dt.to_period("M") == month).to_numpy())
    if not chosen.any():
        return None
    top = denials.pareto(claims[chosen]).head(1)
    if not len(top) or top["share"].iloc[0] < 0.5 or pd.isna(top["description"].iloc[0]):
        return None
    text = str(top["description"].iloc[0])
    return text[:1].lower() + text[1:]


def _exceptions(tiles: list[kpis.Kpi], cells: dict[str, Filled],
                audit: dict[str, pd.DataFrame]) -> Exceptions | None:
    row = _tile(tiles, "340B exceptions")
    months = audit.get("exceptions_by_month")
    if row is None or months is None or not len(months) or math.isnan(tiles[row].actual):
        return None
    return Exceptions(
        _figure(tiles[row].actual, COUNT, cells["kpis"].cell("actual", row), noun="claim"),
        _figure(float(months["dollars_at_risk"].iloc[-1]), DOLLARS,
               cells["exceptions_by_month"].cell("dollars_at_risk", -1)))


def commentary(facts: MonthFacts, max_sentences: int = 8) -> list[Sentence]:
    """The sentences of the month (:func:`rxxl.reports.commentary.month_commentary`)."""
    return month_commentary(facts, max_sentences)


def paragraph(sentences: list[Sentence]) -> str:
    return " ".join(s.text for s in sentences)
