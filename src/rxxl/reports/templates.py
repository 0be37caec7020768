"""The monthly package template, built by code (``rxxl templates build``).

Each sheet is a title, a subtitle and Excel tables side by side; the tables are the anchors
that :mod:`rxxl.reports.monthly` fills. Tables that feed a chart have a fixed number of rows
(24 months, the top 10 reasons, the audited months), so the chart's ranges stay right; the
others grow with the data. A finance team may restyle the template in Excel, move tables,
add sheets, columns beside the tables, charts and formulas: generation fills the anchors and
keeps the rest.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
)
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import absolute_coordinate, range_boundaries
from openpyxl.workbook.defined_name import DefinedName

from rxxl.data.readers import refuse_unsafe_workbook
from rxxl.drug_bridge import DRIVERS
from rxxl.errors import InputError
from rxxl.outputs import atomic_path
from rxxl.reports import style
from rxxl.reports.figures import BRIDGE_STEPS, DRIVER_LABELS, GRID_MONTHS, PCHARTS, grid_key
from rxxl.reports.inputs import AUDIT_MONTHS
from rxxl.reports.workbook import (
    Column,
    Filled,
    Filler,
    TableSpec,
    finish_printing,
    lay_out_sheet,
    register_styles,
)

TEMPLATE_FILE = "monthly_package.xlsx"
#: The materiality inputs' names (Budget sheet, the materiality table's one row), which the
#: Budget sheet's live formulas use (:mod:`rxxl.reports.budget_model`).
MATERIALITY_NAMES = ("MaterialityAmount", "MaterialityPercent")
MONTHS_SHOWN = 24
PARETO_CHARTED = 10
#: Where the master check and the tolerance of the checks live (fixed cells above the growing
#: tables, named MasterCheck and CheckTolerance).
MASTER_CHECK_CELL = "$B$5"
TOLERANCE_CELL = "$B$10"
#: The check labels' width: the longest label wraps onto a second line.
CHECK_WIDTH = 64
#: The Drivers sheet: the bridge (fixed steps) with its waterfall beside it, then the growing
#: tables under them.
BRIDGE_ROW = 4
#: The waterfall sits under the bridge's steps (on the first page), the tables under it.
BRIDGE_CHART_ROW = BRIDGE_ROW + 1 + len(BRIDGE_STEPS) + 2
DRIVER_TABLES_ROW = BRIDGE_CHART_ROW + 18
#: A drug's full name with strength and form ("Privigen (immune globulin IV 10%) 20 g/200 mL").
DRUG_WIDTH = 46
#: The Denials grid: the payer's name, then a rate per month (narrow, so that the grid
#: prints on one page wide at the target scale).
PAYER_WIDTH, GRID_RATE_WIDTH = 23, 7
#: The Denials sheet's reasons (Pareto, then root causes) start here, under the p-charts.
DENIAL_REASONS_ROW = 30
#: Where the Denials sheet's tables that are not printed start (the p-charts' data, the
#: payer x month detail), right of the grid and one empty column after it.
DENIAL_RIGHT = "V"
POINTS = '+0.0;-0.0;"–"'


def grid_header(back: int) -> str:
    """The template's header of the grid column ``back`` months before the report month;
    the report writes the month itself there (``2026-10 (%)``)."""
    return "Report month (%)" if back == 0 else f"Month -{back} (%)"


def _right_of(column: str, offset: int, row: int) -> str:
    return f"{get_column_letter(column_index_from_string(column) + offset)}{row}"


#: The Summary's commentary: one sentence a row under the subtitle (text overflows to the
#: right across the empty cells: no merged cells), its caption in the row above; the
#: Summary's tables start under it.
COMMENTARY_ROWS = 8
COMMENTARY_CELLS = f"A4:A{3 + COMMENTARY_ROWS}"
COMMENTARY = "Commentary"
SUMMARY_TABLES_ROW = 4 + COMMENTARY_ROWS

#: The 340B sheet's tables, top to bottom: each one's header row, with one data row, 2 blank
#: rows and the next caption under it (Filler inserts rows as a table grows). The audit by
#: month keeps room for its AUDIT_MONTHS rows, which its chart, right under it, charts.
AUDIT_ROWS = {"audit_parameters": 4, "exceptions_by_month": 9, "exceptions_by_reason": 36,
              "exceptions_by_entity": 41, "exceptions_by_site": 46, "tracer_sample": 51}
AUDIT_CHART_ROW = 18
#: The 340B sheet's first column: the parameters' and reason codes' labels (the longest,
#: CONTRACT_PHARMACY_MEDICAID, fits), narrow enough that the tracer prints 2 pages wide.
AUDIT_LABEL = 28

W = style.WIDTHS
D, DC, N, P, R, DAYS = (style.DOLLARS, style.DOLLARS_CENTS, style.COUNT, style.PERCENT,
                        style.RATIO, style.DAYS)


def _c(header: str, key: str, fmt: str = style.TEXT, width: float | None = None, *,
       wrap: bool = False) -> Column:
    default = {style.TEXT: W["text"], P: W["percent"]}.get(fmt, W["number"])
    return Column(header, key, fmt, width or default, wrap)


def _stack(first_row: int, *tables: TableSpec, gap: int = 2) -> tuple[TableSpec, ...]:
    """Tables one under the other from ``first_row`` (the first one's header row), ``gap``
    empty rows and the next caption between them; each keeps its anchor's column. A filled
    table that grows moves the ones under it down (:mod:`rxxl.reports.sheet_rows`)."""
    stacked, row = [], first_row
    for spec in tables:
        column = spec.anchor.rstrip("0123456789")
        stacked.append(replace(spec, anchor=f"{column}{row}"))
        row += 1 + spec.reserved + bool(spec.totals) + gap + 1  # header, data, totals, gap,
        # caption
    return tuple(stacked)


#: The Budget sheet's totals by type and subtotals per cost center: the same columns, so their
#: figures line up one under the other (the totals' cost center reads "All cost centers").
_SUBTOTAL_COLUMNS = (
    _c("Cost center", "cost_center", width=W["label"]), _c("Type", "line_type", width=W["label"]),
    _c("Budget, closed ($)", "budget", D, 18), _c("Actual ($)", "actual", D),
    _c("Variance ($)", "variance", D), _c("Variance (%)", "variance_pct", P),
    _c("F/U", "fu", width=W["flag"]), _c("Budget, not closed ($)", "open_budget", D, 21))


#: Sheet name -> (title, subtitle, tables, presentation sheet).
SHEETS: dict[str, tuple[str, str, tuple[TableSpec, ...], bool]] = {
    "Cover": ("Pharmacy Finance", "Monthly package for the CFO and the pharmacy director",
              _stack(4,
                     TableSpec("cover", "A", (_c("Item", "item", width=W["label"]),
                                              _c("Value", "value", width=60))),
                     TableSpec("contents", "A", (_c("Sheet", "sheet", width=W["label"]),
                                                 _c("What it shows", "about", width=60)),
                               caption="Contents"),
                     TableSpec("data_notes", "A", (
                         _c("Note", "number", N, W["label"]),
                         _c("Data notes", "note", width=60, wrap=True)),
                               caption="What the data did not give"),
                     ), True),
    "Summary": ("Executive summary", "This month against budget and prior year", (
        # Ten columns that fit one screen and print on one page wide: the tables under the
        # KPIs share them (each column's width is its widest table's).
        TableSpec("kpis", f"A{SUMMARY_TABLES_ROW}", (
            _c("Measure", "measure", width=W["label"]), _c("Unit", "unit", width=12),
            _c("This month", "actual", R, 13), _c("Budget / target", "budget", R, 17),
            _c("Variance", "variance", R, 12), _c("Variance (%)", "variance_pct", P),
            _c("F/U", "fu", width=W["flag"]), _c("Prior year", "prior_year", R, 13),
            _c("12-month trend", "trend", width=15), _c("Detail", "detail", width=20))),
        # Side by side, the same size: rows inserted under one never cut the other.
        TableSpec("drivers_by_location", f"A{SUMMARY_TABLES_ROW + 4}", (
            _c("Location", "location", width=W["label"]), _c("Variance ($)", "amount", D, 12),
            _c("Share (%)", "share_of_variance", P, 13),
            _c("Mostly", "main_label", width=17)), caption="Top 5 drivers by location"),
        TableSpec("drivers_by_drug", f"G{SUMMARY_TABLES_ROW + 4}", (
            _c("Drug", "drug_short", width=24), _c("Variance ($)", "amount", D, 13),
            _c("Share (%)", "share_of_variance", P, 15),
            _c("Mostly", "main_label", width=20)), caption="Top 5 drivers by drug"),
        *_stack(SUMMARY_TABLES_ROW + 8,
                TableSpec("findings", "A", (
                    _c("Kind", "kind", width=W["label"]), _c("Exposure ($)", "exposure", D, 12),
                    _c("Finding", "text", width=13)),
                          caption="Top findings, largest exposure first"),
                TableSpec("spend_by_month", "A", (
                    _c("Month", "month", style.MONTH, W["date"]),
                    _c("Budget ($)", "budget", D, 12), _c("Actual ($)", "actual", D, 13)),
                          caption="Drug spend, 24 months", reserved=MONTHS_SHOWN),
                gap=1),
    ), True),
    "Budget": ("Budget variance", "Cost center x line, month and fiscal year to date: variance,"
               " %, F/U, materiality and subtotals are formulas on the lines", _stack(4,
        TableSpec("materiality", "A", (
            _c("Material at ($)", "amount", D, W["label"]),
            _c("and at (% of budget)", "percent", P, W["label"])),
                  caption="Materiality: a line is material when its variance is at least both"),
        # Expense and revenue lines are never added together: subtotals and totals by type.
        # Variance compares the closed lines; the budget of lines not closed stands apart.
        TableSpec("budget_totals", "A", _SUBTOTAL_COLUMNS, caption="Totals by type"),
        TableSpec("budget_by_cost_center", "A", _SUBTOTAL_COLUMNS,
                  caption="Subtotals per cost center"),
        TableSpec("budget", "A", (
            _c("Cost center", "cost_center", width=W["label"]),
            _c("Line", "line", width=W["label"]), _c("Type", "line_type", width=9),
            _c("Status", "status", width=18),
            _c("Budget ($)", "budget", D), _c("Actual ($)", "actual", D),
            _c("Variance ($)", "variance", D), _c("Variance (%)", "variance_pct", P),
            _c("F/U", "fu", width=W["flag"]), _c("Material", "material", width=W["flag"]),
            _c("YTD budget ($)", "ytd_budget", D), _c("YTD actual ($)", "ytd_actual", D),
            _c("YTD variance ($)", "ytd_variance", D),
            _c("YTD variance (%)", "ytd_variance_pct", P), _c("YTD F/U", "ytd_fu", width=8),
            _c("Volume driver", "volume_driver", width=22),
            _c("Budget volume", "budget_volume", N), _c("Actual volume", "actual_volume", N),
            _c("Flexed budget ($)", "flexed_budget", D),
            _c("Volume variance ($)", "volume_variance", D),
            _c("Spending variance ($)", "spending_variance", D)),
                  # Filled with the fiscal year the report used.
                  caption="Budget lines"),
    ), False),
    "Drivers": ("Drug spend drivers", "Why drug spend moved: stock timing, returns, new and"
                " discontinued drugs, workload, utilization, account mix (340B capture) and"
                " price", (
        # Bar from / Bar size draw the waterfall: an invisible bar up to the lower end of a
        # step, then the step's size on it.
        TableSpec("bridge", f"A{BRIDGE_ROW}", (_c("Step", "step", width=W["label"]),
                                   _c("Amount ($)", "amount", D),
                                   _c("Running total ($)", "running_total", D),
                                   _c("Bar from ($)", "bar_from", D),
                                   _c("Bar size ($)", "bar_size", D)),
                  caption="Budget to actual"),
        *_stack(DRIVER_TABLES_ROW,
        TableSpec("largest_drivers", "A", (
            _c("Driver", "label", width=W["label"]), _c("Drug", "drug_name", width=DRUG_WIDTH),
            _c("NDC", "drug", width=W["code"]), _c("Location", "location"),
            _c("Accounts", "accounts", width=W["label"]), _c("Amount ($)", "amount", D),
            _c("Share (%)", "share_of_variance", P),
            _c("Unit cost vs budget (%)", "unit_cost_change", P, 14)),
                  caption="Largest drivers"),
        TableSpec("reconciliation", "A", (
            _c("Cost center", "cost_center", width=W["label"]),
            _c("GL line", "line", width=W["label"]), _c("Status", "status", width=12),
            _c("Purchases, actual ($)", "purchases_actual", DC),
            _c("GL actual ($)", "gl_actual", DC),
            _c("Actual difference ($)", "actual_difference", DC),
            _c("Purchases, budget ($)", "purchases_budget", DC),
            _c("GL budget ($)", "gl_budget", DC),
            _c("Budget difference ($)", "budget_difference", DC)),
                  caption="Purchases vs GL drug lines"),
        TableSpec("drivers", "A", (
            _c("NDC", "ndc", width=W["code"]), _c("Drug", "drug_name", width=DRUG_WIDTH),
            _c("Location", "location"), _c("Cost center", "cost_center", width=W["label"]),
            _c("Account", "account", width=9), _c("Status", "line_status", width=14),
            _c("Budget qty", "budget_quantity", N), _c("Actual qty", "actual_quantity", N),
            _c("Consumed qty", "consumed_quantity", N),
            _c("Budget spend ($)", "budget_spend", D), _c("Actual spend ($)", "actual_spend", D),
            *(_c(f"{DRIVER_LABELS[key]} ($)", key, D) for key in DRIVERS),
            _c("Total variance ($)", "total_variance", D)),
                  caption="Purchase lines: drug x location x account",
                  totals=("budget_spend", "actual_spend", *DRIVERS, "total_variance")),
        ),
    ), False),
    "Generics": ("Generics", "Generic dispensing rate and the generic switch opportunity", (
        *_stack(4,
        TableSpec("generic_measures", "A", (
            _c("Measure", "measure", width=W["label"]), _c("Value (%)", "value", P))),
        TableSpec("gdr_by_month", "A", (
            _c("Month", "month", style.MONTH, W["date"]), _c("Generic", "generic", N),
            _c("Brand", "brand", N), _c("GDR (%)", "gdr", P)), caption="By month",
                  reserved=MONTHS_SHOWN),
        TableSpec("gdr_by_site", "A", (
            _c("Site", "site_id"), _c("Claims", "claims", N), _c("GDR (%)", "gdr", P)),
                  caption="By site"),
        TableSpec("gdr_by_payer", "A", (
            _c("Payer", "payer", width=W["label"]), _c("Claims", "claims", N),
            _c("GDR (%)", "gdr", P)), caption="By payer"),
        TableSpec("opportunity", "A", (
            _c("NDC", "ndc", width=W["code"]), _c("Brand drug", "drug_name", width=W["label"]),
            _c("Generic group", "generic_group"), _c("Claims", "claims", N),
            _c("Quantity", "quantity", N), _c("Brand unit ($)", "brand_unit_cost", DC),
            _c("Generic unit ($)", "generic_unit_cost", DC),
            _c("Saving if switched ($)", "saving", D)),
                  caption="Generic switch opportunity: brand claims with a generic in the group"),
        ),
    ), False),
    "Inventory": ("Inventory", "Turns and days on hand by location", (
        *_stack(4,
        TableSpec("inventory", "A", (
            _c("Location", "location"), _c("Beginning ($)", "beginning", D),
            _c("Ending ($)", "ending", D), _c("Average ($)", "average", D),
            _c("Purchases ($)", "purchases", D), _c("Expired ($)", "expired", D),
            _c("COGS ($)", "cogs", D), _c("Turns (annual)", "turns", R),
            _c("Days on hand", "days_on_hand", DAYS), _c("In target band", "in_band", width=9),
            _c("Expired (% of purchases)", "waste_rate", P)),
                  totals=("beginning", "ending", "average", "purchases", "expired", "cogs")),
        TableSpec("inventory_band", "A", (
            _c("Target band", "measure", width=W["text"]), _c("Low", "low", R, 9),
            _c("High", "high", R, 9)), caption="The published band (docs/kpi-rules.md)"),
        ),
    ), False),
    "Denials": ("Denials", "Initial denial rates by payer and month (shaded above the"
                " payer's upper control limit), p-charts of the top payers, reasons and"
                " dollars", (
        # Stacked: the grid, the p-charts under it, the reasons (chart beside) and the root
        # causes; the report inserts rows as a table grows. Columns are shared down the
        # sheet, so the stacked tables' wide columns fall on the grid's wide ones.
        TableSpec("denial_grid", "A4", (
            _c("Payer", "payer", width=PAYER_WIDTH),
            *(_c(grid_header(back), grid_key(back), P, GRID_RATE_WIDTH)
              for back in range(GRID_MONTHS - 1, -1, -1)),
            _c("Change (pts)", "change_pts", POINTS, 8),
            _c("Submitted (claims)", "submitted", N, 9),
            _c("Denied (claims)", "denied", N, 8),
            _c("Excess denials (claims)", "excess", N, 8),
            _c("Submitted ($)", "submitted_dollars", D, 10),
            _c("Denied ($)", "denied_dollars", D, 9),
            _c("Dollar denial rate (%)", "dollar_rate", P, 9)),
                  caption="Initial denial rate (%) by payer and month, most excess denials"
                          " first; the report month's claims and dollars",
                  totals=("submitted", "denied", "excess", "submitted_dollars",
                          "denied_dollars")),
        TableSpec("pareto", f"A{DENIAL_REASONS_ROW}", (
            _c("Description", "description", width=PAYER_WIDTH),
            _c("Reason", "reason_code", width=GRID_RATE_WIDTH),
            _c("Denials", "count", N, GRID_RATE_WIDTH),
            _c("Share (%)", "share", P, GRID_RATE_WIDTH),
            _c("Cum. share (%)", "cumulative_share", P, GRID_RATE_WIDTH),
            _c("Denied ($)", "denied_dollars", D, GRID_RATE_WIDTH),
            # Last, so a long category runs on over the empty cells to its right.
            _c("Cause", "category", width=GRID_RATE_WIDTH)),
                  caption="Denial reasons of the month (Pareto)"),
        TableSpec("denial_categories", f"A{DENIAL_REASONS_ROW + 5}", (
            _c("Root cause", "category", width=PAYER_WIDTH),
            _c("Denials", "count", N, GRID_RATE_WIDTH),
            _c("Denied ($)", "denied_dollars", D, GRID_RATE_WIDTH)), caption="Root causes"),
        *(TableSpec(f"pchart_{number}", _right_of(DENIAL_RIGHT, 7 * (number - 1), 4), (
            _c("Month", "month", width=9), _c("Rate (%)", "denial_rate", P, 9),
            _c("Center (%)", "center_line", P, 9), _c("UCL (%)", "ucl", P, 9),
            _c("LCL (%)", "lcl", P, 9), _c("Out of control (%)", "flagged", P, 10)),
                    caption=f"p-chart {number}: payer {number} by excess denials (chart data, not"
                            " printed)")
          for number in range(1, PCHARTS + 1)),
        TableSpec("denial_trend", _right_of(DENIAL_RIGHT, 7 * PCHARTS, 4), (
            _c("Payer", "payer", width=W["label"]), _c("Month", "month", width=9),
            _c("Submitted", "submitted", N, 11), _c("Denied", "denied", N, 10),
            _c("Denial rate (%)", "denial_rate", P), _c("Center (%)", "center_line", P),
            _c("UCL (%)", "ucl", P), _c("LCL (%)", "lcl", P),
            _c("Out of control", "control", width=11),
            _c("Change (pts)", "change_pts", POINTS, 9),
            _c("Submitted ($)", "submitted_dollars", D), _c("Denied ($)", "denied_dollars", D)),
                  caption="Payer x month detail with the p-chart limits (the grid's shading"
                          " reads its UCL); not printed"),
    ), False),
    "340B": ("340B compliance", "How the audit was run, the last months, the month's exceptions"
             " by reason, entity and site, and the tracer sample for an HRSA auditor", (
        # Stacked top to bottom, small tables first; the long text of a table is its last
        # column, so it runs on to the right over empty cells instead of widening a column
        # that the tables below share.
        TableSpec("audit_parameters", f"A{AUDIT_ROWS['audit_parameters']}", (
            _c("Parameter", "parameter", width=AUDIT_LABEL),
            _c("Value", "value", width=16)), caption="Audit parameters"),
        TableSpec("exceptions_by_month", f"A{AUDIT_ROWS['exceptions_by_month']}", (
            _c("Month", "month", style.MONTH, 10), _c("Checked", "checked", N, 12),
            _c("On 340B", "checked_340b", N, 12), _c("For review", "review", N, 12),
            _c("Violations", "violations", N, 12), _c("Exceptions", "exceptions", N, 12),
            _c("Exception rate (%)", "exception_rate", P, 12),
            _c("Dollars at stake ($)", "dollars_at_risk", D, 12),
            _c("340B savings ($)", "savings_340b", D)), caption="Audit by month"),
        TableSpec("exceptions_by_reason", f"A{AUDIT_ROWS['exceptions_by_reason']}", (
            _c("Reason", "reason", width=AUDIT_LABEL), _c("Status", "status", width=12),
            _c("Claims", "claims", N, 12), _c("Dollars at stake ($)", "dollars_at_risk", D, 12),
            _c("What the reason means", "description", width=W["code"])),
                  caption="Exceptions by reason"),
        TableSpec("exceptions_by_entity", f"A{AUDIT_ROWS['exceptions_by_entity']}", (
            _c("Entity", "entity_id", width=W["code"]), _c("Claims", "claims", N, 12),
            _c("Dollars at stake ($)", "dollars_at_risk", D, 12)),
                  caption="Exceptions by 340B ID"),
        TableSpec("exceptions_by_site", f"A{AUDIT_ROWS['exceptions_by_site']}", (
            _c("Site", "site_id", width=W["code"]), _c("Claims", "claims", N, 12),
            _c("Dollars at stake ($)", "dollars_at_risk", D, 12)),
                  caption="Exceptions by site"),
        TableSpec("tracer_sample", f"A{AUDIT_ROWS['tracer_sample']}", (
            _c("Entity", "entity_id", width=W["code"]), _c("Claim", "claim_id", width=16),
            _c("Service date", "service_date", style.DATE, W["date"]),
            _c("Patient (masked)", "patient_id", width=W["code"]),
            _c("Prescriber NPI", "prescriber_npi", width=W["code"]),
            _c("Encounter date", "encounter_date", style.DATE, W["date"]),
            _c("Encounter site", "encounter_site_id", width=W["code"] + 2),
            _c("NDC", "ndc", width=W["code"]), _c("Drug", "drug_name", width=34),
            _c("Quantity (billing units)", "quantity", N, 12),
            _c("Site", "site_id", width=W["code"] + 2),
            _c("Billing NPI", "billing_npi", width=W["code"]),
            _c("Modifiers", "modifiers", width=W["flag"] + 2),
            _c("Payer type", "payer_type", width=W["code"] + 2),
            _c("Account", "account", width=W["flag"]),
            _c("Status", "status", width=10),
            _c("Dollars at stake ($)", "dollars_at_risk", DC, 12),
            _c("Reasons", "reasons", width=22),
            _c("Purchase record (NDC × location × account × month)", "purchase_record",
               width=40),
            _c("What the reasons mean", "description", width=26)),
                  caption="Tracer audit sample"),
    ), False),
    # The summary ranks the requests; each request's block (cash flows by kind, years across,
    # its figures and sensitivity grid) is written under it by rxxl.reports.capital.
    "Capital": ("Capital requests", "Each request's block below: change its blue inputs"
                " (cash flows, discount rate, sensitivity steps) and its figures, the"
                " sensitivity grid and this summary recalculate", (
        TableSpec("capital_summary", "A4", (
            _c("Request name", "request_name", width=W["label"]),
            _c("Request", "request_id", width=12),
            _c("Initial capital ($)", "initial_capital", D, 12),
            _c("Horizon (years)", "horizon", N, 12),
            _c("Discount rate (%)", "discount_rate", P, 12), _c("NPV ($)", "npv", D, 12),
            _c("IRR (%)", "irr", P, 12), _c("Payback (years)", "payback", R, 12),
            _c("Discounted payback (years)", "discounted_payback", R, 12),
            _c("Recommendation", "recommendation", width=19)),
                  caption="Requests ranked by NPV: the name links to the request's block",
                  totals=("initial_capital", "npv")),
    ), False),
    "Checks": ("Checks", "Each check compares two figures; the master check is 0 when all pass",
               _stack(4,
        TableSpec("master_check", "A", (
            _c("Master check", "name", width=CHECK_WIDTH),
            _c("Failures", "value", style.TALLY))),
        TableSpec("check_settings", "A", (
            _c("Setting", "name", width=CHECK_WIDTH), _c("Value", "value", DC)),
                  caption="Settings the checks use (the tolerance is an input)"),
        TableSpec("checks", "A", (
            _c("Check", "check", width=CHECK_WIDTH, wrap=True),
            _c("Figure A", "figure_a", DC), _c("Figure B", "figure_b", DC),
            _c("Difference", "difference", DC), _c("Fails", "fails", style.TALLY, 8),
            _c("Result", "result", width=12)),
                  caption="Every check"),
    ), False),
    "Dictionary": ("Data dictionary", "Every column of the package, its definition and source", (
        TableSpec("dictionary", "A4", (
            _c("Sheet", "sheet"), _c("Column", "column", width=26),
            _c("Definition", "definition", width=90), _c("Source", "source", width=40))),
    ), False),
}

#: Columns of input tables a finance team types into (styled as inputs in the template).
INPUT_COLUMNS = {("materiality", "amount"), ("materiality", "percent"),
                 ("check_settings", "value")}


def table_keys(name: str) -> list[str]:
    """The frame columns table ``name`` shows, in its column order."""
    for _, _, specs, _ in SHEETS.values():
        for spec in specs:
            if spec.name == name:
                return [column.key for column in spec.columns]
    raise KeyError(name)


def fill_table(filler: Filler, name: str, frame: pd.DataFrame | None) -> Filled:
    """Fill the template's table ``name`` with ``frame`` (None: an empty table)."""
    return filler.fill(name, frame if frame is not None else pd.DataFrame(), table_keys(name))


def build_template(path: Path) -> Path:
    """Write the monthly package template to ``path`` (atomically)."""
    book = Workbook()
    book.remove(book.active)
    register_styles(book)
    for name, (title, subtitle, tables, presentation) in SHEETS.items():
        sheet = book.create_sheet(name)
        lay_out_sheet(sheet, title, subtitle, tables, presentation=presentation)
        for spec in tables:
            for offset, column in enumerate(spec.columns):
                if (spec.name, column.key) in INPUT_COLUMNS:
                    cell = sheet[spec.anchor].offset(1, offset)
                    cell.style = style.INPUT_STYLE
                    cell.number_format = column.number_format
    _stacked_340b(book["340B"])
    book.defined_names[MASTER_CHECK] = DefinedName(
        MASTER_CHECK, attr_text=f"Checks!{MASTER_CHECK_CELL}")
    book.defined_names["CheckTolerance"] = DefinedName(
        "CheckTolerance", attr_text=f"Checks!{TOLERANCE_CELL}")
    # The materiality inputs: the materiality table's one data row on the Budget sheet.
    row = header_row("materiality") + 1
    for name, column in zip(MATERIALITY_NAMES, "AB", strict=True):
        book.defined_names[name] = DefinedName(name, attr_text=f"Budget!${column}${row}")
    _charts(book)
    _conditional_formats(book)
    # Imported here: rxxl.reports.capital fills the template's tables through this module.
    from rxxl.reports.capital import lay_out_new_request

    lay_out_new_request(Filler(book))
    _denials_widths(book["Denials"])
    book["Denials"].print_area = denials_print_area(book["Denials"])
    finish_printing(book)  # every column has its width now: pages wide from the widths
    # A fixed stamp: two builds of the same code are the same file.
    book.properties.created = book.properties.modified = dt.datetime(2026, 1, 1)
    book.properties.creator = "rxxl"
    with atomic_path(Path(path)) as temporary:
        book.save(temporary)
    return Path(path)


def check_template(path: Path) -> Path:
    """Open the package template and check that every Excel table rxxl fills is in it with
    its columns, so a damaged or stripped template fails before minutes of loading data.

    Raises
    ------
    InputError
        Naming the file and what is wrong with it (the workbook cannot be opened, a table is
        missing or has lost columns) and how to restore it.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.cell import range_boundaries

    rebuild = ("rebuild it with `rxxl templates build`, or drop --templates to use the"
               " built-in one")
    if zipfile.is_zipfile(path):  # not a zip at all: openpyxl's refusal below says so
        refuse_unsafe_workbook(path, rebuild)
    try:
        book = load_workbook(path)
    except OSError as exc:
        raise InputError(f"{path}: the template cannot be opened ({exc.strerror or exc})"
                         ) from None
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise InputError(f"{path}: the template cannot be read as an Excel workbook (damaged,"
                         f" or not an .xlsx file); {rebuild}") from None
    try:
        # As Filler.table finds them (TableList.items() gives refs, not tables).
        tables = {name: (sheet, sheet.tables[name]) for sheet in book.worksheets
                  for name in sheet.tables}
        for _, _, specs, _ in SHEETS.values():
            for spec in specs:
                if spec.name not in tables:
                    raise InputError(f"{path}: the template has no Excel table named"
                                     f" {spec.name}; restore the table, or {rebuild}")
                sheet, table = tables[spec.name]
                first_col, _, last_col, _ = range_boundaries(table.ref)
                if last_col - first_col + 1 != len(spec.columns):
                    raise InputError(
                        f"{path}: table {spec.name} on sheet {sheet.title} has"
                        f" {last_col - first_col + 1} columns, rxxl writes {len(spec.columns)};"
                        " restore its columns (add new columns beside the table, not in it),"
                        f" or {rebuild}")
    finally:
        book.close()
    return Path(path)


MASTER_CHECK = "MasterCheck"
#: A check's Result on the Checks sheet: the two figures agree, differ, or one of them is
#: not a number (a check that cannot be computed fails).
PASSES, FAILS, CANNOT = "passes", "fails", "cannot be computed"


#: Line colours: actual in the header blue (solid), the budget or target in orange (dashed)
#: so that it reads apart from actual in colour, in print and to a colour-blind reader.
ACTUAL_LINE, BUDGET_LINE, LIMIT_LINE = style.HEADER_FILL, "C55A11", "7F7F7F"


def _straight(chart: LineChart) -> None:
    """Every line series drawn point to point: a spline invents values between months."""
    for series in chart.series:
        series.smooth = False


def _line(series, colour: str, dash: str | None = None, width_pt: float = 2.25,
          marker: str | None = None) -> None:
    series.graphicalProperties.line.solidFill = colour
    series.graphicalProperties.line.width = int(width_pt * 12700)  # EMU per point
    if dash:
        series.graphicalProperties.line.dashStyle = dash
    if marker:
        series.marker.symbol = marker
        series.marker.size = 6
        series.marker.graphicalProperties.solidFill = colour
        series.marker.graphicalProperties.line.solidFill = colour
    else:
        series.marker.symbol = "none"


def _from_zero(axis, number_format: str | None = None) -> None:
    """An amount or count axis starts at zero, so bar heights and gaps read true."""
    axis.scaling.min = 0
    if number_format:
        axis.number_format = number_format
        axis.numFmt.sourceLinked = False


def header_row(name: str) -> int:
    """The template's header row of table ``name``."""
    for _, _, specs, _ in SHEETS.values():
        for spec in specs:
            if spec.name == name:
                return int(spec.anchor.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    raise KeyError(name)


def _charts(book: Workbook) -> None:
    summary = book["Summary"]
    spend = LineChart()
    spend.title = "Drug spend by month: actual vs budget ($)"
    spend.y_axis.title = "$"
    spend.height, spend.width = 7.5, 16
    first = header_row("spend_by_month")
    # Actual first and budget last, so the dashed budget line is drawn over the actual one.
    for column in (3, 2):
        spend.add_data(Reference(summary, min_col=column, min_row=first,
                                 max_row=first + MONTHS_SHOWN), titles_from_data=True)
    spend.set_categories(Reference(summary, min_col=1, min_row=first + 1,
                                   max_row=first + MONTHS_SHOWN))
    actual, budget = spend.series
    _line(actual, ACTUAL_LINE, width_pt=2.5)
    _line(budget, BUDGET_LINE, dash="dash", width_pt=1.75, marker="circle")
    _straight(spend)
    _from_zero(spend.y_axis, "#,##0")
    summary.add_chart(spend, f"E{first}")
    _commentary_block(summary)

    drivers = book["Drivers"]
    # A waterfall: stacked columns of an invisible base (Bar from) and the step (Bar size).
    bridge = BarChart()
    bridge.type, bridge.grouping, bridge.overlap, bridge.gapWidth = "col", "stacked", 100, 50
    bridge.title = "Drug spend bridge: budget to actual, by driver ($)"
    bridge.y_axis.title = "$"
    steps = BRIDGE_ROW + len(BRIDGE_STEPS)
    bridge.add_data(Reference(drivers, min_col=4, max_col=5, min_row=BRIDGE_ROW, max_row=steps),
                    titles_from_data=True)
    bridge.set_categories(Reference(drivers, min_col=1, min_row=BRIDGE_ROW + 1, max_row=steps))
    base, size = bridge.series
    base.graphicalProperties.noFill = True
    base.graphicalProperties.line.noFill = True
    size.graphicalProperties.solidFill = style.HEADER_FILL
    bridge.legend = None
    _from_zero(bridge.y_axis, "#,##0")
    bridge.height, bridge.width = 7.5, 18
    drivers.add_chart(bridge, f"A{BRIDGE_CHART_ROW}")

    generics = book["Generics"]
    gdr = LineChart()
    gdr.title = "Generic dispensing rate by month (% of prescriptions)"
    first = header_row("gdr_by_month")
    gdr.add_data(Reference(generics, min_col=4, min_row=first, max_row=first + MONTHS_SHOWN),
                 titles_from_data=True)
    gdr.set_categories(Reference(generics, min_col=1, min_row=first + 1,
                                 max_row=first + MONTHS_SHOWN))
    _line(gdr.series[0], ACTUAL_LINE, width_pt=2.5, marker="circle")
    _straight(gdr)
    # 0% to 100%: an axis fitted to the data (71.5% to 73.5%) makes a flat rate look volatile.
    _from_zero(gdr.y_axis, "0%")
    gdr.y_axis.scaling.max = 1
    gdr.legend = None  # one series, named by the title
    generics.add_chart(gdr, f"F{first}")  # beside the month table, in its reserved rows

    denials = book["Denials"]
    # The charts' caption: a cell under the grid, which a growing grid pushes down (with
    # the charts under it) when it inserts rows.
    caption = denials.cell(PCHART_CAPTION_ROW, 1, f"p-charts of the top {PCHARTS} payers by"
                           " excess denials: monthly rate, center line (dashed), control"
                           " limits; red diamonds mark the months out of control")
    caption.style = style.NOTE_STYLE
    for number in range(1, PCHARTS + 1):
        denials.add_chart(_pchart(denials, number), PCHART_ANCHORS[number - 1])
    # Beside the Pareto, right of its Category column's run-on text.
    denials.add_chart(_pareto(denials), f"J{DENIAL_REASONS_ROW}")

    compliance = book["340B"]
    exceptions = BarChart()
    exceptions.type, exceptions.grouping, exceptions.overlap = "col", "stacked", 100
    exceptions.title = "340B exceptions by month: for review and violations (claims)"
    header = AUDIT_ROWS["exceptions_by_month"]
    exceptions.add_data(Reference(compliance, min_col=4, max_col=5, min_row=header,
                                  max_row=header + AUDIT_MONTHS), titles_from_data=True)
    exceptions.set_categories(Reference(compliance, min_col=1, min_row=header + 1,
                                        max_row=header + AUDIT_MONTHS))
    _from_zero(exceptions.y_axis, "#,##0")
    exceptions.height, exceptions.width = 7.5, 18
    compliance.add_chart(exceptions, f"A{AUDIT_CHART_ROW}")


def _stacked_340b(sheet) -> None:
    """The 340B sheet's tables are stacked and share columns: text cells are indented so a
    code never runs into the number or date to its left (printing repeats the longest
    table's header: :func:`~rxxl.reports.workbook.finish_printing`)."""
    for spec in SHEETS["340B"][2]:
        for offset, column in enumerate(spec.columns):
            if column.number_format == style.TEXT:
                cell = sheet[spec.anchor].offset(1, offset)
                cell.alignment = Alignment(horizontal="left", indent=1)


#: The p-charts sit side by side under the grid (the report moves them below its rows).
PCHART_CAPTION_ROW = 8
PCHART_ANCHORS = ("A9", "G9", "O9")
#: The template's p-chart title; the report writes the payer's name in its place.
PCHART_TITLE = "{payer}: initial denial rate, p-chart"
OUT_OF_CONTROL_MARK = "C00000"


def chart_title(text: str, size_pt: float = 11) -> Title:
    """A chart title in bold ``size_pt`` points (the default 18 pt leaves a small chart
    little room to plot)."""
    font = CharacterProperties(sz=int(size_pt * 100), b=True)
    return Title(tx=Text(rich=RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=font),
                                                    r=[RegularTextRun(t=text, rPr=font)])])),
                 overlay=False)


def pchart_title(payer: str) -> str:
    """The title of a payer's p-chart.

    >>> pchart_title("Humana Medicare Part D")
    'Humana Medicare Part D: initial denial rate, p-chart'
    """
    return PCHART_TITLE.format(payer=payer)


def _pchart(sheet, number: int) -> LineChart:
    """The p-chart of the grid's payer ``number``: the rate, the center line (dashed), the
    UCL and LCL, and the months out of control as markers without a line."""
    first_col, header, _, _ = range_boundaries(_anchor(f"pchart_{number}"))
    chart = LineChart()
    # The template is built before the data: the report names the payer.
    chart.title = chart_title(pchart_title(f"Payer {number} by excess denials"))
    chart.add_data(Reference(sheet, min_col=first_col + 1, max_col=first_col + 5,
                             min_row=header, max_row=header + MONTHS_SHOWN),
                   titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=first_col, min_row=header + 1,
                                   max_row=header + MONTHS_SHOWN))
    rate, center, upper, lower, flagged = chart.series
    _line(rate, ACTUAL_LINE, width_pt=2.25, marker="circle")
    rate.marker.size = 4
    _line(center, LIMIT_LINE, dash="dash", width_pt=1.25)
    for limit in (upper, lower):
        _line(limit, BUDGET_LINE, width_pt=1.25)
    _line(flagged, OUT_OF_CONTROL_MARK, marker="diamond")
    flagged.marker.size = 9
    flagged.graphicalProperties.line.noFill = True  # the points only
    _straight(chart)
    _from_zero(chart.y_axis, "0%")
    chart.y_axis.title = "Denied (% of claims)"
    chart.legend.position = "b"
    chart.height, chart.width = 9, 10.4
    return chart


def _pareto(sheet) -> BarChart:
    first_col, header, _, _ = range_boundaries(_anchor("pareto"))
    keys = table_keys("pareto")
    count, cumulative_share, reason = (first_col + keys.index(key) for key in (
        "count", "cumulative_share", "reason_code"))
    pareto = BarChart()
    pareto.title = chart_title(
        f"Denial reasons, top {PARETO_CHARTED}: count and cumulative share")
    pareto.add_data(Reference(sheet, min_col=count, min_row=header,
                              max_row=header + PARETO_CHARTED), titles_from_data=True)
    pareto.set_categories(Reference(sheet, min_col=reason, min_row=header + 1,
                                    max_row=header + PARETO_CHARTED))
    _from_zero(pareto.y_axis, "#,##0")
    cumulative = LineChart()
    cumulative.add_data(Reference(sheet, min_col=cumulative_share, min_row=header,
                                  max_row=header + PARETO_CHARTED), titles_from_data=True)
    _line(cumulative.series[0], BUDGET_LINE, width_pt=2, marker="circle")
    _straight(cumulative)
    cumulative.y_axis.axId = 200
    cumulative.y_axis.crosses = "max"
    # The cumulative share is a fraction: 0 to 1 shows as 0% to 100%.
    _from_zero(cumulative.y_axis, "0%")
    cumulative.y_axis.scaling.max = 1
    pareto += cumulative
    pareto.height, pareto.width = 9, 17.5
    return pareto


def _anchor(name: str) -> str:
    """The template's anchor cell of table ``name``."""
    for _, _, specs, _ in SHEETS.values():
        for spec in specs:
            if spec.name == name:
                return f"{spec.anchor}:{spec.anchor}"
    raise KeyError(name)


def _commentary_block(sheet) -> None:
    """The cells the month's commentary is written into, a sentence a row (named
    ``Commentary``), with its caption above."""
    first = sheet[COMMENTARY_CELLS.split(":")[0]]
    caption = sheet.cell(first.row - 1, first.column, "The month in words")
    caption.style = style.NOTE_STYLE
    for (cell,) in sheet[COMMENTARY_CELLS]:
        cell.style = style.COMMENTARY_STYLE
    sheet.parent.defined_names[COMMENTARY] = DefinedName(
        COMMENTARY, attr_text=f"Summary!{absolute_coordinate(COMMENTARY_CELLS)}")


def _denials_widths(sheet) -> None:
    """Each Denials column as wide as the widest of its tables' columns says. The layout
    keeps the larger of a column's width and the one it finds, and openpyxl finds 13 for a
    column never set, so the grid's narrow month columns (7) would print at 13 and the grid
    on two pages."""
    widths: dict[int, float] = {}
    for spec in SHEETS["Denials"][2]:
        first_col, _, _, _ = range_boundaries(f"{spec.anchor}:{spec.anchor}")
        for offset, column in enumerate(spec.columns):
            widths[first_col + offset] = max(widths.get(first_col + offset, 0), column.width)
    for col, width in widths.items():
        sheet.column_dimensions[get_column_letter(col)].width = width
    lines: dict[int, int] = {}  # the header rows for those widths
    for spec in SHEETS["Denials"][2]:
        first_col, top, _, _ = range_boundaries(f"{spec.anchor}:{spec.anchor}")
        lines[top] = max([lines.get(top, 1)] + [
            style.header_lines(column.header, widths[first_col + offset])
            for offset, column in enumerate(spec.columns)])
    for top, count in lines.items():
        sheet.row_dimensions[top].height = style.header_height(count) if count > 1 else None
    # The grid's header on every printed page (a long grid spans pages; the tables under
    # it are short).
    sheet.print_title_rows = f"{header_row('denial_grid')}:{header_row('denial_grid')}"


def denials_print_area(sheet) -> str:
    """The Denials sheet's print area: its grid, charts, reasons and root causes (columns A
    to the grid's last, rows to the lowest of them); the p-charts' data and the payer x month
    detail right of them (hundreds of rows) stay on the sheet for the analyst. The report
    sets it again once its tables are filled."""
    first_col, _, last_col, _ = range_boundaries(sheet.tables["denial_grid"].ref)
    last_row = max(range_boundaries(table.ref)[3] for table in sheet.tables.values()
                   if range_boundaries(table.ref)[2] <= last_col)
    for chart in sheet._charts:
        left, _, _, bottom = style.chart_cells(sheet, chart)
        if left <= last_col:
            last_row = max(last_row, bottom)
    return f"{get_column_letter(first_col)}1:{get_column_letter(last_col)}{last_row}"


def _conditional_formats(book: Workbook) -> None:
    fail = PatternFill("solid", fgColor=style.FAIL_FILL)
    checks, inventory = header_row("checks") + 1, header_row("inventory") + 1
    book["Checks"].conditional_formatting.add(
        f"E{checks}:E{checks + 400}", CellIsRule(operator="greaterThan", formula=["0"],
                                                 fill=fail))
    book["Inventory"].conditional_formatting.add(
        f"J{inventory}:J{inventory + 200}", CellIsRule(operator="equal", formula=['"No"'],
                                                      fill=fail))
    # The detail's Out of control column (its 9th); the grid's shading is written by the
    # report, which knows the grid's and the detail's rows.
    first_col, header, _, _ = range_boundaries(_anchor("denial_trend"))
    control = get_column_letter(first_col + 8)
    book["Denials"].conditional_formatting.add(
        f"{control}{header + 1}:{control}5000",
        CellIsRule(operator="notEqual", formula=['""'], fill=fail))
