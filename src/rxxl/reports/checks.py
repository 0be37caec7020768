"""The Checks sheet: every check ties two figures of the package, each a live formula on
its sheet, and the master check counts the checks that fail (``shared/REPORT.md`` item 10,
DOMAIN.md §7).

A check is a row: what it compares in words, figure A and figure B (formulas with the values
rxxl computed cached), their difference, whether it fails (more than ``CheckTolerance`` apart,
or not a number) and the result in words. The checks: the Budget sheet's totals and
subtotals, the drug-spend bridge and its reconciliation to the GL drug lines, every KPI tile
of the Summary against its detail, the inventory roll-forward per location, the denial grid
and list, and the 340B audit against its trend and the claim detail.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from rxxl.audit340b import COMPLIANT, REVIEW, VIOLATION
from rxxl.constants import DAYS_IN_YEAR
from rxxl.drug_bridge import DRIVERS
from rxxl.reports import figures, kpis, style
from rxxl.reports.inputs import Inputs
from rxxl.reports.templates import CANNOT, FAILS, PASSES, fill_table
from rxxl.reports.workbook import Filled, Filler, Formula

#: Checks pass when the two figures differ by at most this many dollars (an input cell).
CHECK_TOLERANCE = 0.01


def _checks(budget, spend, drivers, generic, denial, audit, cells: dict[str, Filled],
            month: pd.Period, *, bridge: pd.DataFrame | None = None,
            reconciliation: pd.DataFrame | None = None) -> list[dict]:
    """Rows of the Checks sheet: two figures that must agree, as formulas on the sheets."""
    budget_cells, center_cells = cells["budget"], cells["budget_by_cost_center"]
    driver_cells, gdr_cells = cells["drivers"], cells["gdr_by_month"]
    trend_cells, kpi_cells = cells["denial_trend"], cells["kpis"]
    rows: list[dict] = []
    add = _adder(rows)

    # Lines not closed have no actual and no variance: the checks tie the closed lines.
    closed = budget["status"].eq(figures.CLOSED) if len(budget) else pd.Series(dtype=bool)
    if closed.any():
        total = float(budget.loc[closed, "actual"].sum())
        centers_actual = budget.groupby("cost_center", observed=True)["actual"].sum().sum()
        drugs = figures.is_drug_line(budget["line"]) & closed.to_numpy()
        if drugs.any():
            add("Budget sheet: drug lines' actual equals the summary's drug spend",
                f'SUMIFS({budget_cells.column_range("actual")},'
                f'{budget_cells.column_range("line")},"{figures.DRUG_LINE_PREFIX}*")',
                float(budget.loc[drugs, "actual"].sum()),
                kpi_cells.cell("actual", 0), float(spend["actual"].iloc[-1]))
        add("Budget sheet: cost-center subtotals add up to the totals by type",
            f"SUM({center_cells.column_range('actual')})", float(centers_actual),
            f"SUM({cells['budget_totals'].column_range('actual')})", total)
        status = budget_cells.column_range("status")
        add("Budget sheet: variance column equals actual less budget of the closed lines",
            f"SUM({budget_cells.column_range('variance')})",
            float(budget["variance"].sum()),
            f'SUMIFS({budget_cells.column_range("actual")},{status},"{figures.CLOSED}")-'
            f'SUMIFS({budget_cells.column_range("budget")},{status},"{figures.CLOSED}")',
            total - float(budget.loc[closed, "budget"].sum()))
    if len(drivers):
        _driver_checks(add, drivers, bridge, driver_cells, cells["bridge"])
        if reconciliation is not None and len(reconciliation):
            _reconciliation_checks(add, drivers, reconciliation, driver_cells,
                                   cells["reconciliation"])
    gdr = generic["gdr_by_month"]
    if gdr["generic"].iloc[-1] + gdr["brand"].iloc[-1]:
        add("Generics: latest GDR equals generic / (generic + brand)",
            gdr_cells.cell("gdr", -1), float(gdr["gdr"].iloc[-1]),
            f"{gdr_cells.cell('generic', -1)}/({gdr_cells.cell('generic', -1)}+"
            f"{gdr_cells.cell('brand', -1)})",
            float(gdr["generic"].iloc[-1] / (gdr["generic"].iloc[-1] + gdr["brand"].iloc[-1])))
    trend = denial.get("denial_trend")
    if trend is not None and len(trend):
        add("Denials: denied claims never exceed submitted",
            f"SUM({trend_cells.column_range('denied')})", float(trend["denied"].sum()),
            f"MIN(SUM({trend_cells.column_range('denied')}),"
            f"SUM({trend_cells.column_range('submitted')}))",
            float(min(trend["denied"].sum(), trend["submitted"].sum())))
    if "audit" in audit:
        reasons = audit["exceptions_by_reason"]
        texts = audit["audit"]["reasons"].astype(str)
        reason_count = int((texts.str.count(";") + texts.ne("")).sum())
        reason_cells = cells["exceptions_by_reason"]
        add("340B: exceptions by reason add up to the claims' reasons",
            f"SUM({reason_cells.column_range('claims')})", float(reasons["claims"].sum()),
            None, float(reason_count))
        months, sites = audit["exceptions_by_month"], audit["exceptions_by_site"]
        if len(months) and months["month"].iloc[-1] == str(month):
            add("340B: the month's exceptions in the trend equal those by site",
                cells["exceptions_by_month"].cell("exceptions", -1),
                float(months["exceptions"].iloc[-1]),
                f"SUM({cells['exceptions_by_site'].column_range('claims')})",
                float(sites["claims"].sum()))
    return rows


def _adder(rows: list[dict]) -> Callable:
    """A function that appends one check row (two figures that must agree) to ``rows``."""
    def add(label: str, a_text: str, a_value: float, b_text: str | None,
            b_value: float) -> None:
        # Figure B without a formula is a count rxxl took from the claims themselves.
        rows.append({"check": label, "figure_a": Formula(_number(a_text), a_value),
                     "figure_b": Formula(_number(b_text), b_value) if b_text else b_value})
    return add


def _driver_checks(add: Callable, drivers: pd.DataFrame, bridge: pd.DataFrame,
                   driver_cells: Filled, bridge_cells: Filled) -> None:
    """The drivers add up to the variance (totals row), and the bridge shows the drivers'
    spends and adds up: a driver or a net return left out of either fails a check."""
    total = driver_cells.total
    keys = list(DRIVERS)
    sums = drivers[["budget_spend", "actual_spend", *keys, "total_variance"]].sum()
    add("Drivers: the eight drivers add up to the total variance (totals row)",
        "+".join(total(key) for key in keys), float(sums[keys].sum()),
        total("total_variance"), float(sums["total_variance"]))
    add("Drivers: actual less budget spend equals total variance (totals row)",
        f"{total('actual_spend')}-{total('budget_spend')}",
        float(sums["actual_spend"] - sums["budget_spend"]),
        total("total_variance"), float(sums["total_variance"]))
    amounts = dict(zip(bridge["step"], bridge["amount"], strict=True))
    cell = {step: bridge_cells.cell("amount", row) for row, step in enumerate(bridge["step"])}
    steps = list(figures.BRIDGE_STEPS[1:-1])  # the drivers between budget and actual
    add("Drivers: the bridge's budget equals the drivers' budget spend",
        cell["Budget"], float(amounts["Budget"]), total("budget_spend"),
        float(sums["budget_spend"]))
    add("Drivers: the bridge's actual equals the drivers' actual spend",
        cell["Actual"], float(amounts["Actual"]), total("actual_spend"),
        float(sums["actual_spend"]))
    add("Drivers: the bridge's budget and steps add up to its actual",
        "+".join(cell[step] for step in ("Budget", *steps)),
        float(sum(amounts[step] for step in ("Budget", *steps))),
        cell["Actual"], float(amounts["Actual"]))


def _reconciliation_checks(add: Callable, drivers: pd.DataFrame,
                           reconciliation: pd.DataFrame, driver_cells: Filled,
                           recon_cells: Filled) -> None:
    """The drivers explain the GL drug lines' figures: their budget spend is the GL budget,
    their actual spend the purchases posted, which are the GL actual of the closed lines."""
    total = driver_cells.total
    status = recon_cells.column_range("status")
    closed = reconciliation["status"].eq(figures.CLOSED)
    add("Drivers: budget spend equals the GL drug lines' budget (reconciliation)",
        total("budget_spend"), float(drivers["budget_spend"].sum()),
        f"SUM({recon_cells.column_range('gl_budget')})",
        float(reconciliation["gl_budget"].sum()))
    add("Drivers: actual spend equals the purchases posted to the GL drug lines",
        total("actual_spend"), float(drivers["actual_spend"].sum()),
        f"SUM({recon_cells.column_range('purchases_actual')})",
        float(reconciliation["purchases_actual"].sum()))
    add("Drivers: purchases equal the GL actual of the closed drug lines",
        f'SUMIFS({recon_cells.column_range("purchases_actual")},{status},'
        f'"{figures.CLOSED}")', float(reconciliation.loc[closed, "purchases_actual"].sum()),
        f"SUM({recon_cells.column_range('gl_actual')})",
        float(reconciliation["gl_actual"].sum()))


#: The KPI tiles tied to their detail, by the start of the tile's name.
KPI_CHECKED = ("Total drug spend", "Drug cost per adjusted patient day",
               "Generic dispensing rate", "Inventory turns", "Days on hand",
               "Initial denial rate", "Initial denial rate, dollars",
               "Initial denial rate, HFMA", "340B savings", "340B exceptions")


#: The Checks sheet's settings, in order: the tolerance first (the cell named
#: CheckTolerance), then the counts the KPI checks divide by, as input cells rather than
#: numbers inside formulas.
CHECK_SETTINGS = ("Tolerance ($)", "Days in a year", "Days in the month",
                  "Adjusted patient days, actual (budget lines)",
                  "340B: further reasons of claims with findings")


def fill_check_settings(filler: Filler, inputs: Inputs, audit: dict,
                         days: pd.DataFrame) -> dict[str, str]:
    """Fill the Checks sheet's settings; returns each setting's cell by name. The adjusted
    patient days (:func:`rxxl.reports.kpis.adjusted_patient_days`) are blank when the budget
    lines give none."""
    apd = float(days["actual"].iloc[-1]) if len(days) else np.nan
    values = [CHECK_TOLERANCE, DAYS_IN_YEAR, inputs.month.days_in_month,
              apd if np.isfinite(apd) else None,
              further_reasons(audit["audit"]) if "audit" in audit else None]
    settings = fill_table(filler, "check_settings", pd.DataFrame(
        {"name": list(CHECK_SETTINGS), "value": values}))
    sheet = filler.book[settings.sheet]
    for index in range(1, len(CHECK_SETTINGS)):  # counts, not dollars
        sheet.cell(settings.first_row + index, settings.columns["value"]).number_format = \
            style.COUNT
    return {name: settings.cell("value", index) for index, name in enumerate(CHECK_SETTINGS)}


def _kpi_checks(add: Callable, tiles: list[kpis.Kpi], cells: dict[str, Filled],
                inputs: Inputs, spend: pd.DataFrame, audit: dict, settings: dict[str, str], *,
                generic: dict, stock: pd.DataFrame, trend_frame: pd.DataFrame | None) -> None:
    """Each summary KPI tile equals the figure it comes from on its detail sheet, recomputed
    there from the detail's own cells. A tile the data cannot give (blank) has no check: a
    blank is not a figure to tie."""
    kpi_cells, month = cells["kpis"], inputs.month
    # A name may carry a note ("(closed lines; 2 not closed)"); the denial tiles' names start
    # alike, so they match whole.
    kinds = {}
    for index, tile in enumerate(tiles):
        kind = tile.measure if tile.measure in KPI_CHECKED else next(
            (k for k in KPI_CHECKED if not k.startswith("Initial denial")
             and tile.measure.startswith(k)), None)
        if kind is not None:
            kinds[kind] = index

    def tile(kind: str) -> tuple[str, float] | None:
        index = kinds.get(kind)
        if index is None or not np.isfinite(tiles[index].actual):
            return None
        return kpi_cells.cell("actual", index), float(tiles[index].actual)

    budget_cells = cells["budget"]
    drug_actual = (f'SUMIFS({budget_cells.column_range("actual")},'
                   f'{budget_cells.column_range("line")},"{figures.DRUG_LINE_PREFIX}*")')
    if (found := tile("Total drug spend")) and len(spend):
        add("Summary: the drug spend tile equals the 24-month table's latest actual",
            *found, cells["spend_by_month"].cell("actual", -1), float(spend["actual"].iloc[-1]))
    days = kpis.adjusted_patient_days(inputs)
    apd = float(days["actual"].iloc[-1]) if len(days) else np.nan
    if (found := tile("Drug cost per adjusted patient day")) and np.isfinite(apd) and apd > 0:
        # The adjusted patient days are a setting rxxl took from the budget lines (each cost
        # center's volume once; the Budget sheet repeats it on every line).
        add("Summary: drug cost per APD times adjusted patient days (a setting) equals the"
            " Budget sheet's drug actual", f"{found[0]}*{settings[CHECK_SETTINGS[3]]}",
            found[1] * apd, drug_actual, float(tiles[kinds["Total drug spend"]].actual))
    gdr, counts = cells["gdr_by_month"], generic["gdr_by_month"]
    if (found := tile("Generic dispensing rate")) and len(counts):
        # In claims: GDR x (generic + brand) = generic claims (the $0.01 tolerance would let
        # a rate differ by up to a point).
        generic_, brand = float(counts["generic"].iloc[-1]), float(counts["brand"].iloc[-1])
        add("Summary: the GDR tile times the month's claims equals the Generics sheet's"
            " generic claims",
            f"{found[0]}*({gdr.cell('generic', -1)}+{gdr.cell('brand', -1)})",
            found[1] * (generic_ + brand), gdr.cell("generic", -1), generic_)
    _inventory_tiles(add, tile, cells["inventory"], stock, settings, month)
    _denial_tiles(add, tile, cells, trend_frame, month)
    months, trend = cells["exceptions_by_month"], audit.get("exceptions_by_month")
    if trend is not None and len(trend) and trend["month"].iloc[-1] == str(month):
        for kind, key, label in (("340B savings", "savings_340b", "savings"),
                                 ("340B exceptions", "exceptions", "exceptions")):
            if found := tile(kind):
                add(f"Summary: the 340B {label} tile equals the 340B sheet's month",
                    *found, months.cell(key, -1), float(trend[key].iloc[-1]))


def _inventory_tiles(add: Callable, tile: Callable, inventory: Filled, stock: pd.DataFrame,
                     settings: dict[str, str], month: pd.Period) -> None:
    r"""Turns and days on hand of all locations from the Inventory sheet's totals row:

    .. math:: \mathrm{turns} \times \frac{B + E}{2} = \mathrm{COGS} \times \frac{365}{d},
       \qquad \mathrm{days\ on\ hand} \times \mathrm{COGS} = \frac{B + E}{2} \, d

    with :math:`d` the days of the month (DOMAIN.md §3); in dollars, so the $0.01 tolerance
    is a tight one (a rate's difference would be within it up to a whole point)."""
    if inventory.totals_row is None or not inventory.rows or stock.empty:
        return
    total, d, year = inventory.total, settings[CHECK_SETTINGS[2]], settings[CHECK_SETTINGS[1]]
    average = f"AVERAGE({total('beginning')},{total('ending')})"
    cogs = float(stock["cogs"].sum())
    mean = (float(stock["beginning"].sum()) + float(stock["ending"].sum())) / 2
    days = month.days_in_month
    if found := tile("Inventory turns"):
        add("Summary: the turns tile times the average inventory equals the Inventory sheet's"
            " annualized COGS (totals row, $)", f"{found[0]}*{average}", found[1] * mean,
            f"{total('cogs')}*{year}/{d}", cogs * DAYS_IN_YEAR / days)
    if found := tile("Days on hand"):
        add("Summary: the days on hand tile times COGS equals the Inventory sheet's average"
            " inventory times the month's days (totals row, $ x days)",
            f"{found[0]}*{total('cogs')}", found[1] * cogs, f"{average}*{d}", mean * days)


def _month_sum(trend: Filled, key: str, month: pd.Period) -> str:
    """The sum of a Denials column over the payers of ``month`` (a text month: compared as
    text, so no reader turns the criterion into a date)."""
    return (f'SUMPRODUCT(({trend.column_range("month")}="{month}")*'
            f"{trend.column_range(key)})")


def _denial_tiles(add: Callable, tile: Callable, cells: dict[str, Filled],
                  frame: pd.DataFrame | None, month: pd.Period) -> None:
    """The claim denial rate (denied / submitted in the month), HFMA's (the month's denials
    over the average submitted in the three months before) and the rate by dollars from the
    Denials sheet (DOMAIN.md §4), compared in claims or dollars: rate x submitted = denied.
    The claim rates read the payer x month detail, the dollar rate the grid's totals row."""
    trend, grid = cells["denial_trend"], cells.get("denial_grid")
    if not trend.rows or frame is None or not len(frame):
        return

    def summed(key: str, period: pd.Period) -> float:
        return float(frame.loc[frame["month"] == str(period), key].sum())

    denied = summed("denied", month)
    if found := tile("Initial denial rate"):
        add("Summary: the denial rate tile times the month's claims submitted equals the"
            " Denials sheet's claims denied (all payers)",
            f"{found[0]}*{_month_sum(trend, 'submitted', month)}",
            found[1] * summed("submitted", month), _month_sum(trend, "denied", month), denied)
    if found := tile("Initial denial rate, HFMA"):
        before = ",".join(_month_sum(trend, "submitted", month - k) for k in (1, 2, 3))
        average = sum(summed("submitted", month - k) for k in (1, 2, 3)) / 3
        add("Summary: the HFMA denial rate tile times the average claims of the three months"
            " before equals the Denials sheet's claims denied",
            f"{found[0]}*AVERAGE({before})", found[1] * average,
            _month_sum(trend, "denied", month), denied)
    if (found := tile("Initial denial rate, dollars")) and grid is not None and grid.rows:
        add("Summary: the dollar denial rate tile times the month's dollars submitted equals"
            " the Denials grid's dollars denied (totals row, $)",
            f"{found[0]}*{grid.total('submitted_dollars')}",
            found[1] * summed("submitted_dollars", month), grid.total("denied_dollars"),
            summed("denied_dollars", month))


def _inventory_checks(add: Callable, stock: pd.DataFrame, inventory: Filled) -> None:
    """The roll-forward, per location and in total: beginning + purchases - COGS - expired
    = ending, COGS as the package computes it (purchases less the change in stock less
    expired; DOMAIN.md §3). A location without a count the month before has no beginning
    and no roll-forward."""
    if stock.empty or not inventory.rows:
        return
    figures_ = stock[["beginning", "purchases", "cogs", "expired", "ending"]].astype(float)
    known = figures_.notna().all(axis=1).to_numpy()

    def roll(ref: Callable[[str], str]) -> str:
        return f"{ref('beginning')}+{ref('purchases')}-{ref('cogs')}-{ref('expired')}"

    rolled = (figures_["beginning"] + figures_["purchases"] - figures_["cogs"]
              - figures_["expired"]).to_numpy()
    for index in np.flatnonzero(known):
        add(f"Inventory: {stock['location'].iloc[index]} beginning + purchases - COGS -"
            " expired equals ending",
            roll(lambda key, row=int(index): inventory.cell(key, row)),
            float(rolled[index]), inventory.cell("ending", int(index)),
            float(figures_["ending"].iloc[index]))
    if known.all() and inventory.totals_row is not None:
        add("Inventory: all locations' beginning + purchases - COGS - expired equals ending"
            " (totals row)", roll(inventory.total), float(rolled.sum()),
            inventory.total("ending"), float(figures_["ending"].sum()))


def _denial_checks(add: Callable, denial: dict, cells: dict[str, Filled],
                   inputs: Inputs) -> None:
    """The Denials sheet's month, summed over the payers, holds the claims the denial rate
    tile counted (its denominator and numerator, counted by rxxl from the claims), and the
    grid's totals row holds the detail's month (claims and dollars)."""
    trend, trend_cells = denial.get("denial_trend"), cells["denial_trend"]
    counted = kpis._by_month(inputs.denial_counts)
    month = str(inputs.month)
    if trend is None or not len(trend) or month not in counted.index:
        return
    for key, label in (("submitted", "submitted"), ("denied", "denied on first submission")):
        add(f"Denials: the month's claims {label}, summed over payers, equal the claims"
            " counted", _month_sum(trend_cells, key, inputs.month),
            float(trend.loc[trend["month"] == month, key].sum()), None,
            float(counted.loc[month, key]))
    grid = cells.get("denial_grid")
    if grid is None or not grid.rows:
        return
    for key, label in (("submitted", "claims submitted"), ("denied", "claims denied"),
                       ("submitted_dollars", "dollars submitted"),
                       ("denied_dollars", "dollars denied")):
        add(f"Denials: the grid's {label} (totals row) equal the payer x month detail's month",
            grid.total(key), float(denial["denial_grid"][key].sum()),
            _month_sum(trend_cells, key, inputs.month),
            float(trend.loc[trend["month"] == month, key].sum()))


def _audit_checks(add: Callable, audit: dict, cells: dict[str, Filled], month: pd.Period,
                  cover_cell: str, further_cell: str) -> None:
    """The 340B sheet's month against the claim detail's count of exceptions (written on the
    Cover, where the detail workbook is named) and against its exceptions by reason."""
    if "audit" not in audit:
        return
    months = audit["exceptions_by_month"]
    if not len(months) or months["month"].iloc[-1] != str(month):
        return
    exceptions = float(months["exceptions"].iloc[-1])
    month_cell = cells["exceptions_by_month"].cell("exceptions", -1)
    add("340B: the month's exceptions equal those listed in the claim detail (Cover)",
        month_cell, exceptions, cover_cell, float(detail_exceptions(audit["audit"])))
    extra = further_reasons(audit["audit"])
    by_reason = cells["exceptions_by_reason"]
    add("340B: exceptions by reason add up to the month's exceptions and the further reasons"
        " (a setting: a claim counts once per reason)",
        f"SUM({by_reason.column_range('claims')})",
        float(audit["exceptions_by_reason"]["claims"].sum()),
        f"{month_cell}+{further_cell}", exceptions + extra)


def further_reasons(audit: pd.DataFrame) -> int:
    """What the exceptions by reason count beyond the month's exceptions: each exception's
    reasons after its first, and each other claim with a finding (one not checked) once per
    reason, or once without one (the 340B sheet counts a claim once per reason it carries).

    Examples
    --------
    A violation with two reasons, a review with one, a claim not checked without a reason:

    >>> further_reasons(pd.DataFrame({
    ...     "status": ["violation", "review", "not checked", "compliant"],
    ...     "reasons": ["ORPHAN_DRUG;INPATIENT", "GPO_PROHIBITION", "", ""]}))
    2
    """
    findings = audit[audit["status"] != COMPLIANT]
    texts = findings["reasons"].fillna("").astype(str)
    reasons = (texts.str.count(";") + texts.ne("")).to_numpy()
    exception = findings["status"].isin([VIOLATION, REVIEW]).to_numpy()
    return int(np.maximum(reasons[exception] - 1, 0).sum()
               + np.maximum(reasons[~exception], 1).sum())


def detail_exceptions(audit: pd.DataFrame) -> int:
    """Claims the claim detail lists as exceptions (violation or review): it lists every
    claim with a finding, or every claim. A claim not checked (a denied pharmacy claim) is
    listed but is no exception.

    Examples
    --------
    >>> detail_exceptions(pd.DataFrame({"status": ["violation", "compliant", "review",
    ...                                            "not checked"]}))
    2
    """
    return int(audit["status"].isin([VIOLATION, REVIEW]).sum())


_ONE_CELL = re.compile(r"(?:'[^']+'|[A-Za-z0-9_]+)!\$?[A-Z]{1,3}\$?[0-9]+")


def _number(text: str) -> str:
    """A figure's formula. A reference to one cell, which shows a figure rxxl could not
    compute as blank (and a blank reads as 0), becomes #N/A when that cell holds no number;
    sums over ranges give their own error (#NUM! on an overflow)."""
    return f"IF(ISNUMBER({text}),{text},NA())" if _ONE_CELL.fullmatch(text) else text


def _evaluate(rows: list[dict]) -> list[dict]:
    """Each check's difference, Fails (1 or 0) and Result, as the Checks sheet's formulas
    compute them: a check whose difference is not a finite number cannot be computed and
    fails. A figure that is not a number is cached as the Excel error its formula gives
    (#N/A for a guarded one-cell reference, #NUM! for a sum that overflows)."""
    for row in rows:
        values = []
        for key in ("figure_a", "figure_b"):
            figure = row[key]
            value = _float(figure.value if isinstance(figure, Formula) else figure)
            if not np.isfinite(value):
                # What Excel shows: a guarded one-cell reference gives #N/A (``_number``), a
                # sum that overflows #NUM!; a difference takes the error of its first figure.
                error = "#NUM!" if isinstance(figure, Formula) and not figure.text.startswith(
                    "IF(ISNUMBER(") else "#N/A"
                row[key] = Formula(figure.text, error) if isinstance(figure, Formula) else error
            values.append(value)
        with np.errstate(invalid="ignore", over="ignore"):
            difference = values[0] - values[1]
        if np.isfinite(difference):
            fails = bool(abs(difference) > CHECK_TOLERANCE)
            row.update(difference=difference, fails=int(fails), result=FAILS if fails else PASSES)
        else:
            first = row["figure_a"] if not np.isfinite(values[0]) else row["figure_b"]
            row.update(difference=first.value if isinstance(first, Formula) else first,
                       fails=1, result=CANNOT)
    return rows


def _float(value: object) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan




def fill_checks(filler: Filler, inputs: Inputs, cells: dict[str, Filled], *,
                budget: pd.DataFrame, spend: pd.DataFrame, found: figures.DriverFigures,
                generic: dict, denial: dict, audit: dict, tiles: list[kpis.Kpi],
                stock: pd.DataFrame, days: pd.DataFrame, cover_detail: str) -> int:
    """Fill the Checks sheet's settings, checks and master check; returns the number of
    checks that fail. ``cover_detail`` is the Cover cell of the claim detail's count."""
    drivers = found.lines
    settings = fill_check_settings(filler, inputs, audit, days)
    checks = _checks(budget, spend, drivers, generic, denial, audit, cells,
                     inputs.month, bridge=found.bridge, reconciliation=found.reconciliation)
    _kpi_checks(_adder(checks), tiles, cells, inputs, spend, audit, settings,
                generic=generic, stock=stock, trend_frame=denial.get("denial_trend"))
    _inventory_checks(_adder(checks), stock, cells["inventory"])
    _denial_checks(_adder(checks), denial, cells, inputs)
    _audit_checks(_adder(checks), audit, cells, inputs.month, cover_detail,
                  settings[CHECK_SETTINGS[4]])
    checks = _evaluate(checks)
    failed = int(sum(c["fails"] for c in checks))
    check_cells = fill_table(filler, "checks", pd.DataFrame(checks))
    for index, check in enumerate(checks):
        a, b = check_cells.cell("figure_a", index), check_cells.cell("figure_b", index)
        difference = check_cells.cell("difference", index)
        filler.write(check_cells.sheet, difference.split("!")[1],
                     Formula(f"{a}-{b}", check["difference"]))
        # A difference that is not a number (an error, as an overflow gives) fails.
        for key, outcomes in (("fails", "1,0),1"),
                              ("result", f'"{FAILS}","{PASSES}"),"{CANNOT}"')):
            filler.write(check_cells.sheet, check_cells.cell(key, index).split("!")[1],
                         Formula(f"IF(ISNUMBER({difference}),IF(ABS({difference})>"
                                 f"CheckTolerance,{outcomes})", check[key]))
    master = Formula(f"SUM({check_cells.column_range('fails')})", failed) \
        if checks else Formula("0", 0)
    fill_table(filler, "master_check", pd.DataFrame({"name": ["Checks that fail"],
                                                 "value": [master]}))
    return failed
