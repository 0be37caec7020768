"""The Capital sheet: each request's flows as inputs, and every figure a live formula.

A request's rows are flows by year and kind (capital, labor savings, service cost, ...), so a
year may have several rows. The "Cash flow by year" table adds them up per year with SUMIFS;
NPV, IRR, payback and discounted payback are formulas on those yearly totals, so an analyst
who changes a flow or a discount rate sees every figure follow. rxxl computes each value with
:mod:`rxxl.roi` and caches it, and the LibreOffice test recalculates them all.

Every formula finds a request's cells by position (the rows rxxl wrote it to), never by its
id: a request id is data text, and as a SUMIFS/MATCH criterion Excel reads ``CR-1*`` or
``CR?2`` as a pattern matching other ids, ``>A`` or ``=cmd|...`` as a comparison, and ``~x``
as ``x``, so the figures would silently add up other requests' flows or none. The only
criterion left is a year, a number rxxl wrote. A consequence: editing a flow row's request id
does not move the flow to another request (move the row instead).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rxxl import roi
from rxxl.constants import DEFAULT_DISCOUNT_RATE
from rxxl.reports.templates import fill_table
from rxxl.reports.workbook import Filled, Filler, Formula

#: Savings changes and the discount-rate step of the sensitivity table.
SENSITIVITY_SAVINGS = (-0.2, -0.1, 0.0, 0.1, 0.2)
SENSITIVITY_RATE_STEP = 0.02
NEVER = "never"
NO_IRR = "no IRR"
APPROVE = "Approve: the NPV is positive at the request's discount rate"
DECLINE = "Decline or rework: the NPV is negative at the request's discount rate"
BREAK_EVEN = "Break-even: the NPV is zero at the request's discount rate"


def fill_capital(filler: Filler, requests: pd.DataFrame | None) -> None:
    """Fill the Capital sheet's tables from ``capital_requests`` (None: leave them empty)."""
    if requests is None or requests.empty:
        for name in ("capital_flows", "capital_results", "capital_sensitivity",
                     "capital_assumptions", "capital_years"):
            fill_table(filler, name, None)
        return
    flows = requests.sort_values(["request_id", "period"], kind="stable").reset_index(drop=True)
    flow_cells = fill_table(filler, "capital_flows", flows)
    rates = _rates(flows)
    years = _years(flows, rates)
    results = fill_table(filler, "capital_results", pd.DataFrame({
        "request_id": list(rates.index), "discount_rate": rates.to_numpy()}))
    year_cells = fill_table(filler, "capital_years", years[["request_id", "year"]])
    year_rows = _row_spans(years["request_id"])
    _write_years(filler, years, year_cells, flow_cells, results, year_rows,
                 _row_spans(flows["request_id"]))
    for index, (request, rate) in enumerate(rates.items()):
        first, last = year_rows[request]
        _write_results(filler, years.iloc[first:last + 1], results, index, year_cells,
                       first, last, rate)
    assumptions = fill_table(filler, "capital_assumptions", pd.DataFrame({
        "name": ["Discount rate step (pts)"], "value": [SENSITIVITY_RATE_STEP]}))
    _write_sensitivity(filler, flows, rates, flow_cells, results,
                       assumptions.cell("value", 0))


def _rates(flows: pd.DataFrame) -> pd.Series:
    """Each request's discount rate: its first one given, else the default."""
    given = flows.dropna(subset=["discount_rate"]).groupby(
        "request_id", sort=False, observed=True)["discount_rate"].first()
    order = flows["request_id"].drop_duplicates()
    return given.reindex(order).fillna(DEFAULT_DISCOUNT_RATE).astype(float)


def _years(flows: pd.DataFrame, rates: pd.Series) -> pd.DataFrame:
    """Every year 0..last of each request (a year without flows is 0) and what the formulas
    of the year table give for it."""
    parts = []
    for request, rate in rates.items():
        mine = flows[flows["request_id"] == request]
        last = int(mine["period"].max())
        net = np.bincount(mine["period"].to_numpy(dtype=np.int64),
                          weights=mine["cash_flow"].to_numpy(dtype=float), minlength=last + 1)
        year = np.arange(last + 1)
        discounted = net / (1.0 + rate) ** year
        parts.append(pd.DataFrame({
            "request_id": request, "year": year, "net": net, "cumulative": np.cumsum(net),
            "discounted": discounted, "cumulative_discounted": np.cumsum(discounted)}))
    years = pd.concat(parts, ignore_index=True)
    years["crossing"] = _crossing(years, "net", "cumulative")
    years["discounted_crossing"] = _crossing(years, "discounted", "cumulative_discounted")
    return years


def _crossing(years: pd.DataFrame, flow: str, cumulative: str) -> list:
    """Where the cumulative flow turns from negative to not negative within a year: the year
    before plus the share of the year's flow needed. Blank ("") in the other years."""
    before = years[cumulative] - years[flow]
    crosses = (years["year"] > 0) & (years[cumulative] >= 0) & (before < 0)
    value = years["year"] - 1 + (years[flow] - years[cumulative]) / years[flow].where(crosses)
    return [float(v) if hit else "" for v, hit in zip(value, crosses, strict=True)]


def _row_spans(ids: pd.Series) -> dict[object, tuple[int, int]]:
    """First and last row (0-based) of each request in a frame whose rows are grouped by
    request, in order of appearance."""
    rows = pd.Series(np.arange(len(ids))).groupby(ids.to_numpy(dtype=object), sort=False)
    return {request: (int(first), int(last)) for request, first, last in zip(
        rows.first().index, rows.first(), rows.last(), strict=True)}


def _write_years(filler: Filler, years: pd.DataFrame, cells: Filled, flows: Filled,
                 results: Filled, year_rows: dict[object, tuple[int, int]],
                 flow_rows: dict[object, tuple[int, int]]) -> None:
    """The year table's formulas. Each row's request is known by position, never by its id
    (module docstring): its flow rows, its discount rate cell (``results`` row i is request
    i) and its first year row."""
    sheet = cells.sheet
    index = {request: i for i, request in enumerate(year_rows)}
    for row, values in enumerate(years.itertuples(index=False)):
        mine = {key: cells.cell(key, row, absolute=False).split("!")[1] for key in cells.columns}
        request = values.request_id
        year, net, cumulative = mine["year"], mine["net"], mine["cumulative"]
        first_flow, last_flow = flow_rows[request]
        first_year = year_rows[request][0]
        rate = results.cell("discount_rate", index[request])
        formulas = {
            "net": (f"SUMIFS({_span(flows, 'cash_flow', first_flow, last_flow)},"
                    f"{_span(flows, 'period', first_flow, last_flow)},{year})"),
            "cumulative": _running_total(cells, "net", first_year, row),
            "discounted": f"{net}/(1+{rate})^{year}",
            "cumulative_discounted": _running_total(cells, "discounted", first_year, row),
            "crossing": _crossing_formula(year, net, cumulative),
            "discounted_crossing": _crossing_formula(year, mine["discounted"],
                                                     mine["cumulative_discounted"]),
        }
        for key, text in formulas.items():
            filler.write(sheet, mine[key], Formula(text, getattr(values, key)))


def _span(cells: Filled, key: str, first: int, last: int) -> str:
    """Absolute range, with the sheet, of data rows ``first`` to ``last`` of a column."""
    return f"{cells.cell(key, first)}:{cells.cell(key, last).split('!')[1]}"


def _running_total(cells: Filled, key: str, first: int, row: int) -> str:
    # From the request's first year row (absolute) to this row (relative): one formula down
    # each request's rows.
    start = cells.cell(key, first)
    return f"SUM({start}:{cells.cell(key, row, absolute=False).split('!')[1]})"


def _crossing_formula(year: str, flow: str, cumulative: str) -> str:
    return (f'IF(AND({year}>0,{cumulative}>=0,{cumulative}-{flow}<0),'
            f'{year}-1+({flow}-{cumulative})/{flow},"")')


def _write_results(filler: Filler, years: pd.DataFrame, results: Filled, index: int,
                   cells: Filled, first: int, last: int, rate: float) -> None:
    def span(key: str, start: int = first) -> str:
        return _span(cells, key, start, last)

    net = years["net"].to_numpy(dtype=float)
    rate_ref = results.cell("discount_rate", index)
    npv = float(net[0] + (roi.npv(rate, net[1:]) if len(net) > 1 else 0.0))
    irr = roi.irr(net)
    npv_text = (f"NPV({rate_ref},{span('net', first + 1)})+{cells.cell('net', first)}"
                if last > first else cells.cell("net", first))
    npv_ref = results.cell("npv", index)
    figures = {
        "npv": Formula(npv_text, npv),
        "irr": Formula(f'IFERROR(IRR({span("net")}),"{NO_IRR}")',
                       irr if np.isfinite(irr) else NO_IRR),
        "payback": Formula(_payback_formula(cells, span, "cumulative", "crossing", last),
                           _shown(roi.payback(net))),
        "discounted_payback": Formula(
            _payback_formula(cells, span, "cumulative_discounted", "discounted_crossing",
                             last), _shown(roi.discounted_payback(rate, net))),
        "recommendation": Formula(
            f'IF({npv_ref}>0,"{APPROVE}",IF({npv_ref}<0,"{DECLINE}","{BREAK_EVEN}"))',
            APPROVE if npv > 0 else DECLINE if npv < 0 else BREAK_EVEN),
    }
    for key, formula in figures.items():
        filler.write(results.sheet, results.cell(key, index, absolute=False).split("!")[1],
                     formula)


def _payback_formula(cells: Filled, span, cumulative: str, crossing: str, last: int) -> str:
    """roi.payback as a formula: never when still short at the end, 0 when never short, else
    the last crossing (the one after which the investment stays recovered)."""
    return (f'IF({cells.cell(cumulative, last)}<0,"{NEVER}",'
            f"IF(MIN({span(cumulative)})>=0,0,MAX({span(crossing)})))")


def _shown(years: float) -> float | str:
    return NEVER if np.isinf(years) else years


def _write_sensitivity(filler: Filler, flows: pd.DataFrame, rates: pd.Series,
                       flow_cells: Filled, results: Filled, step_ref: str) -> None:
    """NPV with the savings (positive flows) changed by each step and the rate moved by the
    step either way: one SUMPRODUCT over the flow rows, each discounted by its own year."""
    rows = [(request, change) for request in rates.index for change in SENSITIVITY_SAVINGS]
    table = fill_table(filler, "capital_sensitivity", pd.DataFrame(
        rows, columns=["request_id", "savings_change"]))
    for row, (request, change) in enumerate(rows):
        index = list(rates.index).index(request)
        mine = flows.index[flows["request_id"] == request]
        first, last = int(mine[0]), int(mine[-1])
        span = _span(flow_cells, "cash_flow", first, last)
        periods = _span(flow_cells, "period", first, last)
        values = flows.loc[mine, "cash_flow"].to_numpy(dtype=float)
        years = flows.loc[mine, "period"].to_numpy(dtype=float)
        rate, rate_ref = float(rates[request]), results.cell("discount_rate", index)
        change_ref = table.cell("savings_change", row)
        for key, sign in (("npv_low", -1), ("npv_mid", 0), ("npv_high", 1)):
            shifted = rate + sign * SENSITIVITY_RATE_STEP
            scaled = values + np.where(values > 0, values * change, 0.0)
            rate_text = {-1: f"{rate_ref}-{step_ref}", 0: rate_ref,
                         1: f"{rate_ref}+{step_ref}"}[sign]
            filler.write(table.sheet, table.cell(key, row, absolute=False).split("!")[1],
                         Formula(f"SUMPRODUCT(({span}+({span}>0)*{span}*{change_ref})"
                                 f"/(1+{rate_text})^{periods})",
                                 float(np.sum(scaled / (1 + shifted) ** years))))
