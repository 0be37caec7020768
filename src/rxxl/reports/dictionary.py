"""The package's data dictionary: every column of the template, what its figure is and where
it comes from (``shared/REPORT.md`` item 11).

Entries are keyed by (table name, column key): a key such as ``actual`` or ``claims`` means
a different thing on each table. A definition says what the number is, its unit, its formula
and the ``shared/DOMAIN.md`` section it follows; a source names the input table(s) and
columns (``docs/data-contracts.md``), or "rxxl (computed)". Thresholds, windows and labels
come from the code's own constants, so the text moves with the code.

Text here becomes cell text: never start it with "=", "+", "-" or "@".
"""

from __future__ import annotations

import calendar
import inspect

import pandas as pd

from rxxl import drug_bridge
from rxxl.audit340b import (
    COMPLIANT,
    DEFAULT_LOOKBACK_DAYS,
    REASON_TEXT,
    REASONS,
    REASONS_OFF_340B,
    REVIEW,
    VIOLATION,
    audit_sample,
)
from rxxl.constants import (
    DAYS_IN_YEAR,
    DEFAULT_DISCOUNT_RATE,
    DENIAL_RATE_TARGET,
    FISCAL_YEAR_START,
    GDR_BENCHMARK,
    INVENTORY_LOCATION_SHARE,
    MATERIALITY_AMOUNT,
    MATERIALITY_PERCENT,
    MONY_BRAND,
    MONY_GENERIC,
    MONY_MULTISOURCE_BRAND,
    NORMAL_TURNS_MIN_MONTHS,
    NORMAL_TURNS_MONTHS,
    NORMAL_TURNS_Z,
    RECONCILE_TOLERANCE,
    TURNS_TARGET_HIGH,
    TURNS_TARGET_LOW,
)
from rxxl.denials import SIGMAS, denial_codes
from rxxl.reports.capital import (
    APPROVE,
    BREAK_EVEN,
    DECLINE,
    LABELS,
    NEVER,
    NO_IRR,
    UNNAMED_KIND,
)
from rxxl.reports.figures import (
    ABOVE_UCL,
    BELOW_LCL,
    CLOSED,
    DRIVER_LABELS,
    GRID_MONTHS,
    LARGEST_SHOWN,
    NO_ROW,
    NOT_CLOSED,
    PCHARTS,
    grid_key,
)
from rxxl.reports.inputs import AUDIT_MONTHS
from rxxl.reports.kpis import APD_DRIVER
from rxxl.reports.templates import CANNOT, FAILS, MONTHS_SHOWN, PASSES, SHEETS

COLUMNS = ["sheet", "column", "definition", "source"]

# --- Figures quoted in the text, from the code's constants ----------------------------------
_MATERIAL = f"${MATERIALITY_AMOUNT:,.0f}"
_MATERIAL_PCT = f"{MATERIALITY_PERCENT:.0%}"
_GDR = f"{GDR_BENCHMARK:.0%}"
_DENIAL_TARGET = f"{DENIAL_RATE_TARGET:.0%}"
_MID = (TURNS_TARGET_LOW + TURNS_TARGET_HIGH) / 2
_BAND = f"{TURNS_TARGET_LOW:g} to {TURNS_TARGET_HIGH:g} turns"
_SHARE = f"{INVENTORY_LOCATION_SHARE:.0%}"
_FISCAL_START = (f"the first month of the fiscal year ({calendar.month_name[FISCAL_YEAR_START]}"
                 " unless rxxl report --fiscal-year-start or the ribbon's FISCAL_YEAR_START"
                 " sets another; the Cover and the table's caption name it)")
_CLOSED_ONLY = ("; lines not closed (blank actual) are left out, their budget is in Budget,"
                " not closed")
_SAMPLE = inspect.signature(audit_sample).parameters
_SAMPLE_SIZE, _SAMPLE_SEED = _SAMPLE["claims_per_entity"].default, _SAMPLE["seed"].default
_BRAND = ", ".join(sorted(MONY_BRAND))
_GENERIC = ", ".join(sorted(MONY_GENERIC))
_REVIEW_REASONS = ", ".join(code for code, severity in REASONS.items() if severity == REVIEW)
_REASON_LIST = "; ".join(f"{code}: {text}" for code, text in REASON_TEXT.items())
_CODES = denial_codes()
_CATEGORIES = ", ".join(sorted(set(_CODES.loc[_CODES["is_denial"], "category"])))
_NOT_DENIALS = ", ".join(_CODES.loc[~_CODES["is_denial"], "code"])
_MONTHS = f"the {MONTHS_SHOWN} months ending with the report month"

# --- Sources used more than once ------------------------------------------------------------
_REF_340B = ("340B reference tables: entity, sites, prescribers, encounters, mef,"
             " orphan_drugs")
_AUDIT = (f"claims: service_date, ndc, quantity, patient_id, prescriber_npi, site_id,"
          f" patient_status, payer_type, payer_state, billing_npi, account, modifiers,"
          f" claim_type, status, unit_cost_340b, unit_cost_wac, entity_id; {_REF_340B}")
_DENIAL_SOURCE = "claims: payer, service_date, status, original_claim_id"
_REASON_SOURCE = "claims: status, reject_code, carc_code, original_claim_id, billed_amount"
_PAID = "claims: status, ndc, service_date; drugs: mony_code"

# --- Texts shared by several tables ---------------------------------------------------------
_CENTER = ("The p-chart's center line p-bar for the payer: its denied / submitted over the"
           " months shown, with months above their UCL set aside and p-bar recomputed until"
           " none is (revised limits), percent (DOMAIN.md §4).")
_UCL = (f"Upper control limit of the month: p-bar + {SIGMAS:g} x sqrt(p-bar x (1 - p-bar) /"
        f" submitted), at most 100%, percent (DOMAIN.md §4).")
_LCL = (f"Lower control limit of the month: p-bar less {SIGMAS:g} x sqrt(p-bar x (1 - p-bar)"
        f" / submitted), at least 0%, percent (DOMAIN.md §4).")
_AT_STAKE = ("Dollars at stake: quantity x (WAC less 340B unit cost) of each claim with a"
             " finding, rounded to cents (0 on a compliant claim), summed over the row's"
             " claims; a claim with an unknown cost is left out of the sum; a claim with"
             " several reasons counts under each reason (DOMAIN.md §6).")
_SITE = ("Dispensing or administering location of the claim: its 340B site id (entity site"
         " or contract pharmacy).")
_ENTITY = ("340B ID of the covered entity the claim is attributed to: the claim's entity_id,"
           " else the entity its site is registered to on the service date; blank when that"
           " is unknown (DOMAIN.md §6).")
_BRIDGE_SOURCE = ("drug_purchases: quantity, unit_cost_actual, budget_quantity, unit_cost_budget,"
                  " account, location")
_NDC = "11-digit National Drug Code, 5-4-2 without dashes (DOMAIN.md §8)."
_REQUEST = "Capital request identifier (DOMAIN.md §5)."
#: (table, column key) -> (definition, source), sheet by sheet in the template's order.
#: The rows of a request's block on the Capital sheet (plain cells, not a table), by key of
#: rxxl.reports.capital.LABELS.
_CAPITAL_RATE = ("the request's discount rate (its first given, else"
                 f" {DEFAULT_DISCOUNT_RATE:.0%})")
_FLOWS = "capital_requests: period, cash_flow, flow_type"
CAPITAL_BLOCK: dict[str, tuple[str, str]] = {
    "request": (_REQUEST, "capital_requests: request_id"),
    "request_id": (_REQUEST, "capital_requests: request_id"),
    "initial_capital": (
        "Money put in at the start: the year-0 net cash flow with its sign turned, in"
        " dollars; live formula on the block (DOMAIN.md §5).", _FLOWS),
    "horizon": ("Last year of the request's cash flows, year 0 being the investment: live"
                " formula MAX of the block's years (DOMAIN.md §5).", "capital_requests: period"),
    "discount_rate": (
        f"Discount rate a year: {_CAPITAL_RATE}; an input in the block that its discounted"
        " rows, NPV, discounted payback and sensitivity grid read, percent (DOMAIN.md §5).",
        "capital_requests: discount_rate"),
    "flows": (
        "The block's input rows: one row per kind of flow (capital, labor savings, avoided"
        " errors, revenue, service cost, ...), the years across, in dollars: negative for"
        " capital and costs, positive for savings and revenue; a year without a flow of the"
        f" kind is 0; a flow without a kind is under {UNNAMED_KIND} (DOMAIN.md §5).", _FLOWS),
    "total": ("The row's years added up, in dollars: live formula SUM (DOMAIN.md §5).",
              _FLOWS),
    "savings": (
        "The positive flows of the year (savings and revenue) added up, in dollars: live"
        " formula SUMIF over the kinds, the amount the sensitivity grid scales (DOMAIN.md"
        " §5).", _FLOWS),
    "net": ("The year's flows of every kind added up, in dollars: live formula SUM over the"
            " kinds (DOMAIN.md §5).", _FLOWS),
    "cumulative": ("Net cash flow of years 0 to this year, in dollars: live formula SUM"
                   " (DOMAIN.md §5).", _FLOWS),
    "discounted": ("Net cash flow / (1 + discount rate) ^ year, in dollars: live formula"
                   " (DOMAIN.md §5).", f"{_FLOWS}, discount_rate"),
    "cumulative_discounted": (
        "Discounted net cash flow of years 0 to this year, in dollars: live formula SUM"
        " (DOMAIN.md §5).", f"{_FLOWS}, discount_rate"),
    "crossing": (
        "Where the cumulative flow turns from negative to not negative in this year: the"
        " year before plus the share of this year's flow needed, in years; blank in other"
        " years; payback is the last crossing (DOMAIN.md §5).", "rxxl (computed)"),
    "discounted_crossing": (
        "The same crossing for the cumulative discounted flow, in years; discounted payback"
        " is the last one (DOMAIN.md §5).", "rxxl (computed)"),
    "npv": (
        "Net present value, in dollars: live formula NPV(discount rate, net cash flow of years"
        " 1 to n) plus the year-0 net flow, Excel's convention, over the block's net row"
        " (DOMAIN.md §5).", f"{_FLOWS}, discount_rate"),
    "irr": (
        "Internal rate of return: live formula IRR over the block's net cash flows, the"
        f" rate at which their NPV is 0, percent; \"{NO_IRR}\" when there is no such rate"
        " (DOMAIN.md §5).", _FLOWS),
    "payback": (
        "Years until the cumulative cash flow turns non-negative for good: k + |cumulative"
        " flow at k| / net flow of year k + 1, k the last year still negative; live formula"
        f" over the block's crossings; 0 when nothing is invested, \"{NEVER}\" when the"
        " cumulative flow is still negative at the end (DOMAIN.md §5).", _FLOWS),
    "discounted_payback": (
        "Payback of the net flows discounted at the request's rate, flow / (1 + rate) ^ year;"
        f" live formula over the block's discounted crossings; \"{NEVER}\" when never"
        " recovered (DOMAIN.md §5).", f"{_FLOWS}, discount_rate"),
    "recommendation": (
        f"Live formula on the NPV: {APPROVE} when it is above 0, {DECLINE} when below,"
        f" {BREAK_EVEN} at 0, at the request's discount rate (DOMAIN.md §5).",
        "rxxl (computed)"),
    "sensitivity": (
        "The sensitivity grid beside the figures: NPV with the savings changed by the row's"
        " change and the discount rate moved by the column's points, in dollars: live formula"
        " SUMPRODUCT((net + savings x savings change) / (1 + rate) ^ year) over the block's"
        " rows, year 0 undiscounted (DOMAIN.md §5).", f"{_FLOWS}, discount_rate"),
    "rate_change": (
        "Points added to the request's discount rate in the grid's column (+1.0 pts moves"
        " 6.0% to 7.0%); an input (DOMAIN.md §5).", "rxxl (computed)"),
    "grid_rate": (
        "Discount rate of the grid's column: the request's rate plus the rate change, live"
        " formula, percent (DOMAIN.md §5).", "capital_requests: discount_rate"),
    "savings_change": (
        "Change applied to the savings and revenue (the positive flows) in the grid's row,"
        " percent; costs and capital stay as they are; an input (DOMAIN.md §5).",
        "rxxl (computed)"),
}
#: Rows of the Dictionary beyond the template's tables: (sheet, label, entry).
BLOCK_ROWS = [("Capital", LABELS[key], CAPITAL_BLOCK[key]) for key in LABELS]

ENTRIES: dict[tuple[str, str], tuple[str, str]] = {
    # Cover
    ("cover", "item"): (
        "Name of a fact about this package: Organization, Report month, Fiscal year to date,"
        " Claims data through, Generated, rxxl version, Checks (REPORT.md item 1).",
        "rxxl (computed)"),
    ("cover", "value"): (
        "The fact. Organization: the first entity_name of the 340B entity table, else the"
        " data folder's name; Report month; Fiscal year to date: its first month and the"
        " month the fiscal year starts in, e.g. FYTD from 2026-07 (fiscal year starts in"
        " July); Claims data through: the latest service_date in"
        " the claims files, which can be after the report month; Generated: local date and"
        " time the package was built; rxxl version: the software that built it; Checks: live"
        " formula on MasterCheck, \"All checks pass\", \"1 check fails\" or \"n checks fail\""
        " (DOMAIN.md §7).",
        "340B reference tables: entity (entity_name); claims: service_date; rxxl (computed)"),
    ("contents", "sheet"): (
        "Name of a sheet of the package, linked to the sheet (REPORT.md item 1).",
        "rxxl (computed)"),
    ("contents", "about"): ("Title of the sheet: what it shows.", "rxxl (computed)"),
    ("data_notes", "number"): ("The note's number, in the order the report met them.",
                               "rxxl (computed)"),
    ("data_notes", "note"): (
        "A note on this month's data: an input table missing from the data folder, or a month"
        " without budget lines, purchases, inventory snapshots or claims, and which figures"
        " that leaves empty; budget lines not closed this month (named, with their budget) or"
        " earlier in the fiscal year, and lines of the fiscal year without a row this month;"
        " \"All tables present.\" when there is nothing to note.",
        "rxxl, from the data folder's tables"),
    # Summary: KPI tiles
    ("kpis", "measure"): (
        "The KPI tile: Total drug spend; Drug cost per adjusted patient day (both with"
        " \"(closed lines; n not closed)\" when drug lines of the month are not closed); Generic"
        " dispensing rate; Inventory turns (annual); Days on hand; Initial denial rate, by"
        " claims, by dollars and HFMA's; 340B savings (WAC less 340B cost); 340B exceptions"
        " (claims) (DOMAIN.md §1 to §4, §6).",
        "rxxl (computed)"),
    ("kpis", "unit"): (
        "Unit of the tile's figures: $ dollars; % a rate held as a fraction (0.885 is 88.5%);"
        " x turns a year; days; count of claims.", "rxxl (computed)"),
    ("kpis", "actual"): (
        "This month's value of the measure. Total drug spend: actual of the budget lines whose"
        " name starts with Drugs, all cost centers (the closed ones); Drug cost per adjusted"
        " patient day: that spend / the actual_volume of the lines whose volume driver is"
        f" {APD_DRIVER} (once"
        " per cost center, summed); Generic dispensing rate: paid generic claims / paid"
        " generic and brand claims; Inventory turns: all locations' COGS x"
        f" {DAYS_IN_YEAR} / days in the month / their average inventory, blank when a location"
        f" lacks a figure or COGS is negative; Days on hand: {DAYS_IN_YEAR} / turns; Initial"
        " denial rate: initially denied / initial claims submitted, all payers; by dollars:"
        " denied / submitted billed dollars; HFMA: the month's initial denials / the average"
        " claims submitted in the three months before; 340B savings:"
        " (WAC less 340B unit cost) x quantity over the month's paid claims on the 340B"
        f" account; 340B exceptions: the month's claims for {REVIEW} or in {VIOLATION}"
        " (DOMAIN.md §1 to §4, §6).",
        "budget_lines: line, actual, volume_driver, actual_volume; claims; drugs: mony_code;"
        f" inventory_snapshots; drug_purchases; {_REF_340B}"),
    ("kpis", "budget"): (
        "The budget or target the month is measured against. Total drug spend: budget of the"
        " closed Drugs lines (a line not closed is left out of actual and budget); Drug cost"
        " per adjusted patient day: that budget / the budget_volume of"
        f" the {APD_DRIVER} lines; Generic dispensing rate: the {_GDR} benchmark; Inventory"
        f" turns: {_MID:g}, the middle of the {_BAND} band; Days on hand: {DAYS_IN_YEAR} /"
        f" {_MID:g} = {DAYS_IN_YEAR / _MID:.1f} days; Initial denial rates: the {_DENIAL_TARGET}"
        " target; 340B savings and exceptions: blank, no budget or target (DOMAIN.md §1 to"
        " §4).",
        "budget_lines: line, budget, volume_driver, budget_volume; rxxl.constants (targets)"),
    ("kpis", "variance"): (
        "This month less Budget / target, in the measure's unit; a rate's variance is in"
        " percentage points (-17.7 pts: 72.3% against 90%)"
        " (DOMAIN.md §1).", "rxxl (computed)"),
    ("kpis", "variance_pct"): (
        "Variance / |Budget / target|, percent, on the dollar tiles (drug spend, cost per"
        " adjusted patient day); blank on rates, bands and counts, whose variance is in their"
        " own unit, and when the budget is 0 (DOMAIN.md §1).", "rxxl (computed)"),
    ("kpis", "fu"): (
        "F favorable or U unfavorable. Drug spend, cost per adjusted patient day and denial"
        " rate: U above budget or target; generic dispensing rate: U below the benchmark;"
        f" turns and days on hand: U when all locations together are outside {_BAND}"
        f" (days on hand: {DAYS_IN_YEAR} / turns, the same band in days) or when a location"
        f" holding at least {_SHARE} of the month's inventory is outside that band and"
        " outside its own normal (the median of its"
        f" turns in the {NORMAL_TURNS_MONTHS} months before +/- {NORMAL_TURNS_Z:g} robust"
        " standard deviations, MAD / 0.6745, Iglewicz and Hoaglin's modified z-score;"
        f" without {NORMAL_TURNS_MIN_MONTHS} of those months, the band alone), else F; on"
        " target is F; blank without a budget or target (docs/kpi-rules.md; DOMAIN.md §1,"
        " §3).", "rxxl (computed); inventory_snapshots; drug_purchases"),
    ("kpis", "prior_year"): (
        "The same measure for the same month a year earlier, from the same tables (turns"
        " from that month's and the month before's inventory snapshots); blank when the data"
        f" do not reach back, as for 340B exceptions: the audit covers the last {AUDIT_MONTHS}"
        " months only (DOMAIN.md §1 to §4, §6).",
        "budget_lines; claims; drugs; inventory_snapshots; drug_purchases"),
    ("kpis", "trend"): (
        "The figure in each of the last 12 months, the report month last, as bars from the"
        " lowest of the 12 (shortest) to the highest (tallest); a gap is a month without a"
        " figure. Its shape, not its height, is the point: the figures are on the detail"
        " sheet.", "rxxl (computed)"),
    ("kpis", "detail"): (
        "The sheet that holds the figure's detail, linked to its table; on turns and days on"
        " hand, after a colon, each location outside its band (as in F/U) with its figure,"
        " most stock first (Inventory: RUMC-OP 4.7 turns).", "rxxl (computed)"),
    # Summary: spend chart, drivers, findings
    ("spend_by_month", "month"): (
        f"Calendar month, {_MONTHS} (the chart's categories).", "budget_lines: month"),
    ("spend_by_month", "budget"): (
        "Drug spend budget of the month: sum of budget over the closed budget lines (with an"
        " actual) whose name starts with Drugs, all cost centers, in dollars: like with like"
        " with the actual (DOMAIN.md §1).",
        "budget_lines: month, line, budget"),
    ("spend_by_month", "actual"): (
        "Drug spend of the month: sum of actual over the budget lines whose name starts with"
        " Drugs, all cost centers, in dollars; blank for a month with no actual yet (DOMAIN.md"
        " §1).", "budget_lines: month, line, actual"),
    **{(table, key): text for grain, table, name in (
        ("location", "drivers_by_location", "location"),
        ("drug", "drivers_by_drug", "drug_short"))
       for key, text in (
           (name, (f"One of the five {grain}s whose drug spend moved most this month (largest"
                   f" |variance| first), linked to the purchase lines on the Drivers sheet"
                   + (": the drug's name without its description." if grain == "drug"
                      else "."), "drug_purchases: " + ("drug_name" if grain == "drug"
                                                       else "location"))),
           ("amount", (f"The {grain}'s drug spend variance: actual less budget spend of its"
                       " purchase lines, in dollars; the sum of its eight drivers"
                       " (docs/drug-bridge.md).", "drug_purchases; rxxl (computed)")),
           ("share_of_variance", (f"The {grain}'s variance as a share of the month's total"
                                  " drug spend variance.", "rxxl (computed)")),
           ("main_label", (f"The driver that moved the {grain}'s spend most (the largest"
                           " |amount| of the eight drivers there).", "rxxl (computed)")))},
    ("findings", "kind"): (
        "340B for a compliance finding, Denials for a denial mover (DOMAIN.md §4, §6).",
        "rxxl (computed)"),
    ("findings", "exposure"): (
        "What the finding puts at stake this month, in dollars: a 340B reason's dollars at"
        " stake (WAC less 340B cost of its claims), a payer's denied dollars (billed amount of"
        " the claims denied on first submission). The findings are ranked by it.",
        f"{_AUDIT}; {_DENIAL_SOURCE}"),
    ("findings", "text"): (
        "One finding in plain words, linked to its row on the detail sheet. 340B: the three"
        " reasons with the most dollars at stake this month, with their claims; Denials:"
        " the three payers whose denial rate rose most on the prior month, with the rate, the"
        " change in points and (out of control) when outside the p-chart limits (DOMAIN.md"
        " §4, §6).", f"{_AUDIT}; {_DENIAL_SOURCE}"),
    # Budget
    ("budget", "cost_center"): (
        "Cost center of the general ledger, e.g. 7010 Inpatient Pharmacy (DOMAIN.md §1).",
        "budget_lines: cost_center"),
    ("budget", "line"): ("Budget line of the cost center, e.g. Drugs - inpatient.",
                         "budget_lines: line"),
    ("budget", "line_type"): (
        "Line type, expense or revenue: which way a variance is favorable (DOMAIN.md §1).",
        "budget_lines: line_type"),
    ("budget", "status"): (
        f"{CLOSED}: the line's actual for the report month is in; {NOT_CLOSED}: its actual"
        " is blank (the month is not closed for it), so it has no variance, F/U or flexed"
        f" figures and subtotals and totals leave it out; {NO_ROW}: a line of the fiscal"
        " year with no row this month, shown for its year to date (DOMAIN.md §1).",
        "budget_lines: month, actual"),
    ("budget", "budget"): ("The line's budget for the report month, in dollars (DOMAIN.md §1).",
                           "budget_lines: budget"),
    ("budget", "actual"): (
        "The line's actual for the report month, in dollars; blank when the month is not"
        " closed (DOMAIN.md §1).", "budget_lines: actual"),
    ("budget", "variance"): (
        "Actual less budget, in dollars: positive is more than budget on any line; the F/U"
        " flag says whether that is good (DOMAIN.md §1).", "budget_lines: budget, actual"),
    ("budget", "variance_pct"): (
        "(Actual less budget) / |budget|, percent; blank when the budget is 0 (DOMAIN.md §1).",
        "budget_lines: budget, actual"),
    ("budget", "fu"): (
        "F favorable, U unfavorable: U when actual is above budget on an expense line or below"
        " budget on a revenue line; on budget is F; blank without an actual (DOMAIN.md §1).",
        "budget_lines: budget, actual, line_type"),
    ("materiality", "amount"): (
        "An input: a line's variance is material when it is at least this many dollars"
        f" (and at least the percent beside it). Default ${MATERIALITY_AMOUNT:,.0f}"
        " (DOMAIN.md §1); the Material column recalculates when it changes.", "input"),
    ("materiality", "percent"): (
        "An input: ... and at least this share of the line's budget (a zero budget with a"
        f" variance counts as any share). Default {MATERIALITY_PERCENT:.0%} (DOMAIN.md §1).",
        "input"),
    ("budget", "material"): (
        f"Yes when |variance| is at least {_MATERIAL} and |variance| / |budget| is at least"
        f" {_MATERIAL_PCT}, both (a zero budget with a variance passes the percent test);"
        " blank otherwise (DOMAIN.md §1, a judgement).", "budget_lines: budget, actual"),
    ("budget", "ytd_budget"): (
        f"Sum of the line's budgets over the fiscal year to date, from {_FISCAL_START}"
        " through the report month, in dollars, over the months the line is closed (has an"
        " actual): a month not closed adds neither budget nor actual (DOMAIN.md §1).",
        "budget_lines: month, budget, actual"),
    ("budget", "ytd_actual"): (
        "Sum of the line's actuals over the same months, in dollars (DOMAIN.md §1).",
        "budget_lines: month, actual"),
    ("budget", "ytd_variance"): ("YTD actual less YTD budget, in dollars (DOMAIN.md §1).",
                                 "budget_lines: month, budget, actual"),
    ("budget", "ytd_variance_pct"): (
        "YTD variance / |YTD budget|, percent; blank when the YTD budget is 0 (DOMAIN.md §1).",
        "budget_lines: month, budget, actual"),
    ("budget", "ytd_fu"): (
        "F/U of the YTD variance, by the line's type as for the month (DOMAIN.md §1).",
        "budget_lines: month, budget, actual, line_type"),
    ("budget", "volume_driver"): (
        f"What the line's volumes count, e.g. {APD_DRIVER}, infusion visits, prescriptions"
        " (DOMAIN.md §1).", "budget_lines: volume_driver"),
    ("budget", "budget_volume"): ("Budgeted volume of the driver for the month (DOMAIN.md §1).",
                                  "budget_lines: budget_volume"),
    ("budget", "actual_volume"): ("Actual volume of the driver for the month (DOMAIN.md §1).",
                                  "budget_lines: actual_volume"),
    ("budget", "flexed_budget"): (
        "Budget x actual volume / budget volume: the budget restated for the volume achieved,"
        " in dollars; blank without both volumes or when the budget volume is 0 (DOMAIN.md"
        " §1).", "budget_lines: budget, budget_volume, actual_volume"),
    ("budget", "volume_variance"): (
        "Flexed budget less budget: the part of the variance that the change in volume"
        " explains, in dollars (DOMAIN.md §1).",
        "budget_lines: budget, budget_volume, actual_volume"),
    ("budget", "spending_variance"): (
        "Actual less flexed budget: the variance left at the actual volume, in dollars; volume"
        " and spending variance add up to the variance (DOMAIN.md §1).",
        "budget_lines: budget, actual, budget_volume, actual_volume"),
    ("budget_by_cost_center", "cost_center"): (
        "Cost center of the general ledger, e.g. 7010 Inpatient Pharmacy (DOMAIN.md §1).",
        "budget_lines: cost_center"),
    ("budget_by_cost_center", "line_type"): (
        "Expense or revenue: the cost center's lines of that type are added up, never"
        " expense and revenue together (DOMAIN.md §1).", "budget_lines: line_type"),
    ("budget_by_cost_center", "budget"): (
        "Sum of the budgets of the cost center's closed lines of that type for the month"
        " (lines with an actual), in dollars; blank when none is closed (DOMAIN.md §1).",
        "budget_lines: cost_center, line_type, budget, actual"),
    ("budget_by_cost_center", "actual"): (
        "Sum of the actuals of the same lines, in dollars (DOMAIN.md §1).",
        "budget_lines: cost_center, line_type, actual"),
    ("budget_by_cost_center", "open_budget"): (
        "Sum of the budgets of the cost center's lines of that type not closed this month"
        " (blank actual), in dollars; blank when all are closed (DOMAIN.md §1).",
        "budget_lines: cost_center, line_type, budget, actual"),
    ("budget_by_cost_center", "variance"): (
        "Subtotal actual less subtotal budget, in dollars (DOMAIN.md §1).",
        "budget_lines: cost_center, line_type, budget, actual"),
    ("budget_by_cost_center", "variance_pct"): (
        "Subtotal variance / |subtotal budget|, percent; blank when that budget is 0"
        " (DOMAIN.md §1).", "budget_lines: cost_center, line_type, budget, actual"),
    ("budget_by_cost_center", "fu"): (
        "F/U of the subtotal by its type: on expense U when actual is above budget, on"
        " revenue U when actual is below (DOMAIN.md §1).",
        "budget_lines: cost_center, line_type, budget, actual"),
    ("budget_totals", "cost_center"): (
        "All cost centers: the row adds up every cost center's lines of its type.",
        "rxxl (computed)"),
    ("budget_totals", "line_type"): (
        "Expense or revenue: the month's lines of that type, every cost center"
        " (DOMAIN.md §1).", "budget_lines: line_type"),
    ("budget_totals", "budget"): (
        f"Total budget of the closed lines of that type: live formula SUMIFS over the budget"
        f" lines whose Status is {CLOSED}, in dollars (DOMAIN.md §1).",
        "budget_lines: line_type, budget, actual"),
    ("budget_totals", "actual"): (
        "Total actual of the same lines: live formula SUMIFS, in dollars (DOMAIN.md §1).",
        "budget_lines: line_type, actual"),
    ("budget_totals", "open_budget"): (
        f"Total budget of the lines of that type whose Status is {NOT_CLOSED}: live formula"
        " SUMIFS, in dollars (DOMAIN.md §1).", "budget_lines: line_type, budget, actual"),
    ("budget_totals", "variance"): (
        "Total actual less total budget, in dollars: live formula (DOMAIN.md §1).",
        "budget_lines: line_type, budget, actual"),
    ("budget_totals", "variance_pct"): (
        "Total variance / |total budget|, percent; blank when that budget is 0: live formula"
        " (DOMAIN.md §1).", "budget_lines: line_type, budget, actual"),
    ("budget_totals", "fu"): (
        "F/U by type, live formula: on expense U when actual is above budget, on revenue U"
        " when actual is below; blank when no line of the type is closed (DOMAIN.md §1).",
        "budget_lines: line_type, budget, actual"),
    # Drivers: the drug-spend bridge (docs/drug-bridge.md)
    ("bridge", "step"): (
        "Step of the bridge from budget to actual drug spend: Budget, then the eight drivers in"
        f" their order of attribution ({', '.join(DRIVER_LABELS.values())}), then Actual"
        " (DOMAIN.md §1; docs/drug-bridge.md).", "rxxl (computed)"),
    ("bridge", "amount"): (
        "Budget and Actual: the month's budget and actual spend of all purchase lines (the"
        " line table's totals row); each driver: its dollars summed over all lines, actual"
        " less budget (positive adds to spend); Budget + the eight drivers = Actual exactly"
        " (DOMAIN.md §1).", _BRIDGE_SOURCE),
    ("bridge", "running_total"): (
        "Budget plus the steps so far, in dollars; on Actual the actual spend (DOMAIN.md §1).",
        "rxxl (computed)"),
    ("bridge", "bar_from"): (
        "Where the step's bar starts in the waterfall chart: the lower of the running totals"
        " before and after it; 0 for Budget and Actual.", "rxxl (computed)"),
    ("bridge", "bar_size"): (
        "The bar's height in the waterfall chart: the step's amount without its sign (the"
        " Amount column gives the direction); Budget and Actual their spend.",
        "rxxl (computed)"),
    ("largest_drivers", "label"): (
        "The driver: inventory timing and workload volume are a location's; price,"
        " utilization, new and discontinued drugs and net returns a drug's (all locations);"
        " account mix (340B capture) a drug's at one location (docs/drug-bridge.md).",
        "rxxl (computed)"),
    ("largest_drivers", "drug_name"): (
        "The drug of a by-drug driver (and of an account-mix item); blank for a location's"
        " driver.", "drug_purchases: drug_name"),
    ("largest_drivers", "drug"): (_NDC, "drug_purchases: ndc"),
    ("largest_drivers", "location"): (
        "The inventory location of a location's driver (and of an account-mix item); blank"
        " for a by-drug driver.", "drug_purchases: location"),
    ("largest_drivers", "accounts"): (
        "Account mix only: which way the buying moved, the accounts whose share rose instead"
        " of those whose share fell (WAC instead of 340B).", "drug_purchases: account"),
    ("largest_drivers", "amount"): (
        "The driver's dollars summed at its grain, actual less budget (positive adds to"
        f" spend); the {LARGEST_SHOWN} largest by absolute size, largest first (DOMAIN.md §1).",
        _BRIDGE_SOURCE),
    ("largest_drivers", "share_of_variance"): (
        "Amount / the month's total variance (actual less budget spend of all lines), percent;"
        " above 100% or negative when other drivers offset; blank when the variance is 0.",
        "rxxl (computed)"),
    ("largest_drivers", "unit_cost_change"): (
        "Price only: the drug's price driver / its consumed packages at budget price, on the"
        " lines where it was budgeted and bought: how much more (or less) per package than"
        " budgeted, percent (docs/drug-bridge.md).", _BRIDGE_SOURCE),
    ("drivers", "ndc"): (_NDC, "drug_purchases: ndc"),
    ("drivers", "drug_name"): ("Drug name, strength and form as purchased.",
                               "drug_purchases: drug_name"),
    ("drivers", "location"): ("Inventory location that received the purchases.",
                              "drug_purchases: location"),
    ("drivers", "cost_center"): (
        "Cost center the location's purchases post to; blank without a locations table.",
        "locations: location, cost_center"),
    ("drivers", "account"): ("Purchasing account of the line (340B, GPO, WAC, ...).",
                             "drug_purchases: account"),
    ("drivers", "line_status"): (
        f"{drug_bridge.CONTINUING.capitalize()}: packages bought of a drug budgeted at the"
        f" location; {drug_bridge.NEW}: bought, not budgeted there; {drug_bridge.DISCONTINUED}:"
        f" budgeted, not used at the location; {drug_bridge.RETURNED}: more returned than"
        f" bought, or money moved with no packages; {drug_bridge.NOT_BOUGHT}: the rest, e.g. a"
        " budgeted account whose packages were bought on another (docs/drug-bridge.md).",
        "drug_purchases: quantity, unit_cost_actual, budget_quantity"),
    ("drivers", "budget_quantity"): (
        "Budgeted packages of the line for the month, in the drug's own packages (never added"
        " across drugs) (DOMAIN.md §1).", "drug_purchases: month, budget_quantity"),
    ("drivers", "actual_quantity"): (
        "Packages bought in the month net of returns and credits (DOMAIN.md §1).",
        "drug_purchases: month, quantity"),
    ("drivers", "consumed_quantity"): (
        "Packages used: bought less those that went to stock (the line's share of its"
        " location's inventory change, at its purchase price); 0 on a net return (DOMAIN.md"
        " §1, consumption = beginning + purchases less ending inventory).",
        "drug_purchases: quantity, unit_cost_actual; inventory_snapshots: inventory_value"),
    ("drivers", "budget_spend"): (
        "Sum of budget_quantity x unit_cost_budget over the line's purchase rows, in dollars"
        " (DOMAIN.md §1).", "drug_purchases: budget_quantity, unit_cost_budget"),
    ("drivers", "actual_spend"): (
        "Sum of quantity x unit_cost_actual over the line's purchase rows, in dollars"
        " (DOMAIN.md §1).", "drug_purchases: quantity, unit_cost_actual"),
    ("drivers", "inventory_timing"): (
        "The location's inventory change (ending less beginning stock at cost) spread over its"
        " purchase lines by spend: purchases above consumption, a timing item that reverses as"
        " the stock is used (docs/drug-bridge.md).",
        "inventory_snapshots: inventory_value; drug_purchases"),
    ("drivers", "returns"): (
        f"On a {drug_bridge.RETURNED}: its actual spend (usually a credit), which consumes"
        " nothing; 0 on every other line (docs/drug-bridge.md).",
        "drug_purchases: quantity, unit_cost_actual"),
    ("drivers", "new_drug"): (
        "A drug bought but not budgeted at the location: its consumption spend"
        " (docs/drug-bridge.md).", _BRIDGE_SOURCE),
    ("drivers", "discontinued_drug"): (
        "A drug budgeted at the location but not used there: less its budget spend"
        " (docs/drug-bridge.md).", _BRIDGE_SOURCE),
    ("drivers", "workload_volume"): (
        "Budget spend x (actual / budget workload less 1): the flexed budget's volume variance"
        " of the cost center's workload (adjusted patient days, visits, ...); 0 without a"
        " workload (docs/drug-bridge.md).", "budget_lines: budget_volume, actual_volume; "
        + _BRIDGE_SOURCE),
    ("drivers", "utilization"): (
        "(Packages used of the drug at the location less the flexed budget packages) x the"
        " line's budget mix share x its budget price: more or fewer packages per unit of"
        " workload (docs/drug-bridge.md).", _BRIDGE_SOURCE),
    ("drivers", "account_mix"): (
        "(Packages used on the account less the drug's packages used at the location x the"
        " account's budget share) x budget price: the same drug bought on another account, as"
        " WAC instead of 340B (340B capture) (docs/drug-bridge.md).", _BRIDGE_SOURCE),
    ("drivers", "price"): (
        "Packages used x (actual less budget price per package) on the same drug, account and"
        " location (docs/drug-bridge.md).", _BRIDGE_SOURCE),
    ("drivers", "total_variance"): (
        "Actual spend less budget spend, in dollars: the eight drivers add up to it exactly;"
        " rows sorted by its absolute size (DOMAIN.md §1).", _BRIDGE_SOURCE),
    # The reconciliation of purchases to the GL drug lines
    ("reconciliation", "cost_center"): (
        "Cost center of the GL drug line (the locations table puts purchases to it).",
        "budget_lines: cost_center; locations: cost_center"),
    ("reconciliation", "line"): (
        "GL drug line (a budget line whose name starts with Drugs) that the drugs post to.",
        "budget_lines: line; drugs: budget_line"),
    ("reconciliation", "status"): (
        f"{CLOSED}: the GL line has its actual; {NOT_CLOSED}: compared on budget only.",
        "budget_lines: actual"),
    ("reconciliation", "purchases_actual"): (
        "The month's purchases posting to the line, at actual cost, in dollars and cents.",
        "drug_purchases: quantity, unit_cost_actual"),
    ("reconciliation", "gl_actual"): ("The GL line's actual, in dollars and cents.",
                                      "budget_lines: actual"),
    ("reconciliation", "actual_difference"): (
        f"Purchases less GL actual; the report refuses more than ${RECONCILE_TOLERANCE:,.2f}"
        " (rounding) (DOMAIN.md §1).", "rxxl (computed)"),
    ("reconciliation", "purchases_budget"): (
        "The month's budget packages x budget price posting to the line, in dollars and cents.",
        "drug_purchases: budget_quantity, unit_cost_budget"),
    ("reconciliation", "gl_budget"): ("The GL line's budget, in dollars and cents.",
                                      "budget_lines: budget"),
    ("reconciliation", "budget_difference"): (
        f"Purchases at budget less GL budget; the report refuses more than"
        f" ${RECONCILE_TOLERANCE:,.2f} (DOMAIN.md §1).", "rxxl (computed)"),
    # Generics
    ("gdr_by_month", "month"): (f"Calendar month, {_MONTHS} (DOMAIN.md §2).",
                                "claims: service_date"),
    ("gdr_by_month", "generic"): (
        f"Paid claims of the month whose drug has MONY code {_GENERIC} (generic), count;"
        " drugs missing from the drugs table are left out (DOMAIN.md §2).", _PAID),
    ("gdr_by_month", "brand"): (
        f"Paid claims of the month whose drug has MONY code {_BRAND} (brand), count"
        " (DOMAIN.md §2).", _PAID),
    ("gdr_by_month", "gdr"): (
        "Generic dispensing rate of the month: generic / (generic + brand) paid claims,"
        " percent (DOMAIN.md §2).", _PAID),
    ("generic_measures", "measure"): (
        "Generic dispensing rate: the report month's paid claims, generic / (generic +"
        f" brand); Generic efficiency rate: MONY {_GENERIC} / ({_GENERIC} +"
        f" {MONY_MULTISOURCE_BRAND}), the share dispensed generic where a generic exists;"
        f" Generic dispensing rate, 24 months: the GDR over {_MONTHS} (DOMAIN.md §2).",
        "rxxl (computed)"),
    ("generic_measures", "value"): (
        f"The measure's value, percent; the GDR benchmark is about {_GDR} (DOMAIN.md §2).",
        _PAID),
    ("gdr_by_site", "site_id"): (_SITE, "claims: site_id"),
    ("gdr_by_site", "claims"): (
        "Paid claims of the report month at the site whose drug is in the drugs table, count"
        " (DOMAIN.md §2).", "claims: status, site_id, ndc; drugs: ndc"),
    ("gdr_by_site", "gdr"): (
        "Generic / (generic + brand) of those paid claims, percent (DOMAIN.md §2).",
        f"{_PAID}; claims: site_id"),
    ("gdr_by_payer", "payer"): ("Payer (plan) name on the claims.", "claims: payer"),
    ("gdr_by_payer", "claims"): (
        "Paid claims of the report month for the payer whose drug is in the drugs table, count"
        " (DOMAIN.md §2).", "claims: status, payer, ndc; drugs: ndc"),
    ("gdr_by_payer", "gdr"): (
        "Generic / (generic + brand) of those paid claims, percent (DOMAIN.md §2).",
        f"{_PAID}; claims: payer"),
    ("opportunity", "ndc"): (
        f"NDC of a brand with generics available (MONY {MONY_MULTISOURCE_BRAND}) dispensed this"
        " month. " + _NDC, "claims: ndc; drugs: mony_code"),
    ("opportunity", "drug_name"): ("Brand drug name, strength and form as on the claims.",
                                   "claims: drug_name"),
    ("opportunity", "generic_group"): (
        "Group of therapeutically equivalent products (GPI-14 or similar) that links the"
        " brand to its generics (DOMAIN.md §2).", "drugs: generic_group"),
    ("opportunity", "claims"): (
        "Paid claims of the brand NDC in the report month, count (DOMAIN.md §2).",
        "claims: status, ndc, service_date"),
    ("opportunity", "quantity"): ("Billing units dispensed on those claims (DOMAIN.md §2).",
                                  "claims: quantity"),
    ("opportunity", "brand_unit_cost"): (
        "Median WAC per billing unit on those claims, in dollars and cents (DOMAIN.md §2).",
        "claims: unit_cost_wac"),
    ("opportunity", "generic_unit_cost"): (
        f"Median WAC per billing unit of the month's paid generic (MONY {_GENERIC}) claims in"
        " the same generic group, in dollars and cents (DOMAIN.md §2).",
        "claims: unit_cost_wac, status, ndc; drugs: mony_code, generic_group"),
    ("opportunity", "saving"): (
        "(Brand unit cost less generic unit cost, at least 0) x quantity: what dispensing the"
        " generic would have saved this month at WAC, in dollars; only brands whose group had"
        " generic claims this month are listed (DOMAIN.md §2).",
        "claims: quantity, unit_cost_wac; drugs: mony_code, generic_group"),
    # Inventory
    ("inventory", "location"): (
        "Inventory location with a snapshot in the report month, e.g. MAIN-IP (DOMAIN.md §3).",
        "inventory_snapshots: location"),
    ("inventory", "beginning"): (
        "Inventory at cost at the start of the month: the location's last count in the"
        " previous month (its per-drug rows added up), in dollars; blank when there is"
        " none (DOMAIN.md §3).", "inventory_snapshots: snapshot_date, inventory_value"),
    ("inventory", "ending"): (
        "Inventory at cost at the end of the month: the location's last count in the report"
        " month (its per-drug rows added up), in dollars (DOMAIN.md §3).",
        "inventory_snapshots: snapshot_date, inventory_value"),
    ("inventory", "average"): ("(Beginning + ending) / 2, in dollars (DOMAIN.md §3).",
                               "inventory_snapshots: inventory_value"),
    ("inventory", "purchases"): (
        "Sum of quantity x unit_cost_actual of the month's purchases received at the location,"
        " all accounts, in dollars (DOMAIN.md §3).",
        "drug_purchases: month, location, quantity, unit_cost_actual"),
    ("inventory", "expired"): (
        "Expired stock removed at cost: the sum of expired_value of the location's counts"
        " in the report month (each since the count before), blank counted as 0, in dollars"
        " (DOMAIN.md §3).",
        "inventory_snapshots: expired_value"),
    ("inventory", "cogs"): (
        "Cost of goods sold: purchases less (ending less beginning) less expired, in dollars"
        " (DOMAIN.md §3).",
        "drug_purchases: quantity, unit_cost_actual; inventory_snapshots: inventory_value,"
        " expired_value"),
    ("inventory", "turns"): (
        f"COGS x {DAYS_IN_YEAR} / days in the month / average inventory: annualized turns;"
        " blank when COGS is negative, a snapshot is missing or the average is 0 (DOMAIN.md"
        " §3).", "drug_purchases; inventory_snapshots"),
    ("inventory", "days_on_hand"): (
        f"Average inventory x days in the month / COGS = {DAYS_IN_YEAR} / turns, in days;"
        " blank when COGS is 0 or negative (DOMAIN.md §3).",
        "drug_purchases; inventory_snapshots"),
    ("inventory", "in_band"): (
        f"Yes when turns are within {_BAND} (both ends included), No outside, blank without"
        " turns (DOMAIN.md §3).", "rxxl (computed)"),
    ("inventory", "waste_rate"): (
        "Expired / purchases, percent; blank when purchases are 0 (DOMAIN.md §3).",
        "inventory_snapshots: expired_value; drug_purchases: quantity, unit_cost_actual"),
    ("inventory_band", "measure"): (
        "The band KPI: turns (annual) or days on hand (docs/kpi-rules.md).", "rxxl.constants"),
    ("inventory_band", "low"): (
        f"Low end of the published band: {TURNS_TARGET_LOW:g} turns, {DAYS_IN_YEAR:g} /"
        f" {TURNS_TARGET_HIGH:g} days on hand (docs/kpi-rules.md).", "rxxl.constants"),
    ("inventory_band", "high"): (
        f"High end of the published band: {TURNS_TARGET_HIGH:g} turns, {DAYS_IN_YEAR:g} /"
        f" {TURNS_TARGET_LOW:g} days on hand (docs/kpi-rules.md).", "rxxl.constants"),
    # Denials
    ("denial_trend", "payer"): ("Payer (plan) name on the claims (DOMAIN.md §4).",
                                "claims: payer"),
    ("denial_trend", "month"): (
        f"Service month, YYYY-MM, of {_MONTHS} (DOMAIN.md §4).", "claims: service_date"),
    ("denial_trend", "submitted"): (
        "Initial claims submitted to the payer in the month (no original_claim_id:"
        " resubmissions are left out), any status, count (DOMAIN.md §4).", _DENIAL_SOURCE),
    ("denial_trend", "denied"): (
        "Initial claims denied: status denied, except reasons that are not denials (CARC"
        f" {_NOT_DENIALS}: contractual adjustment and patient cost sharing); a denial with an"
        " unknown or no code counts, count (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_trend", "denial_rate"): (
        "Initial denial rate by count: denied / submitted, percent; blank when nothing was"
        " submitted (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_trend", "center_line"): (_CENTER, _REASON_SOURCE),
    ("denial_trend", "ucl"): (_UCL, _REASON_SOURCE),
    ("denial_trend", "lcl"): (_LCL, _REASON_SOURCE),
    ("denial_trend", "control"): (
        f"{ABOVE_UCL} when the month's rate is above its UCL, {BELOW_LCL} when below its LCL,"
        " blank otherwise; a month with nothing submitted is never flagged (DOMAIN.md §4).",
        _REASON_SOURCE),
    ("denial_trend", "change_pts"): (
        "The month's denial rate less the payer's previous month's, in percentage points"
        " (1.2 is 1.2 pts); blank in the first month (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_trend", "submitted_dollars"): (
        "Billed amount of the payer's initial claims submitted in the month, any status, in"
        " dollars (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_trend", "denied_dollars"): (
        "Billed amount of the payer's initial denials in the month, in dollars (DOMAIN.md"
        " §4).", _REASON_SOURCE),
    ("denial_grid", "payer"): ("Payer (plan) name on the claims (DOMAIN.md §4).",
                               "claims: payer"),
    **{("denial_grid", grid_key(back)): (
        f"Initial denial rate by count of the payer in the month {back} months before the"
        " report month (the header names the month; Report month (%) in the template): denied"
        " / submitted, percent; shaded when above the payer's UCL of that month in the"
        " payer x month detail; blank when nothing was submitted (DOMAIN.md §4)."
        if back else
        "Initial denial rate by count of the payer in the report month (the header names the"
        " month): denied / submitted, percent; shaded when above the payer's UCL of the month"
        " in the payer x month detail; blank when nothing was submitted (DOMAIN.md §4).",
        _REASON_SOURCE) for back in range(GRID_MONTHS)},
    ("denial_grid", "change_pts"): (
        "The report month's denial rate less the previous month's, in percentage points"
        " (1.2 is 1.2 pts) (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_grid", "submitted"): (
        "Initial claims submitted to the payer in the report month (no original_claim_id),"
        " any status, count; the totals row is all payers (DOMAIN.md §4).", _DENIAL_SOURCE),
    ("denial_grid", "denied"): (
        "Initial claims of the report month denied (CARC"
        f" {_NOT_DENIALS} are not denials), count; the totals row is all payers"
        " (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_grid", "excess"): (
        "Denials of the report month beyond the payer's normal rate: denied less center line"
        " x submitted, claims; the grid is sorted by it, most first, and its first"
        f" {PCHARTS} payers are charted (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_grid", "submitted_dollars"): (
        "Billed amount of the payer's initial claims of the report month, any status, in"
        " dollars; the totals row is the denominator of the Initial denial rate, dollars"
        " (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_grid", "denied_dollars"): (
        "Billed amount of the payer's initial denials of the report month, in dollars"
        " (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_grid", "dollar_rate"): (
        "Initial denial rate by dollars: Denied ($) / Submitted ($) of the row, a live"
        " formula, percent; blank when nothing was submitted (DOMAIN.md §4).",
        _REASON_SOURCE),
    ("pareto", "reason_code"): (
        "The denial reason: the NCPDP reject code (511-FB) of a pharmacy claim, else the CARC"
        " with its group (e.g. CO-197) of a medical claim; (no code) for a denial without"
        " one (DOMAIN.md §4).", "claims: reject_code, carc_code"),
    ("pareto", "description"): (
        "The reason code's description from rxxl's denial code table (DOMAIN.md §4).",
        "rxxl reference_data/denial_codes.csv"),
    ("pareto", "category"): (
        f"Root-cause category of the reason: {_CATEGORIES}; unmapped for an unknown or"
        " missing code (DOMAIN.md §4).", "claims: reject_code, carc_code; denial_codes.csv"),
    ("pareto", "count"): (
        "Initial denials of the report month with this reason, count (DOMAIN.md §4).",
        _REASON_SOURCE),
    ("pareto", "share"): (
        "Denials / all initial denials of the report month, percent (DOMAIN.md §4).",
        _REASON_SOURCE),
    ("pareto", "cumulative_share"): (
        "Running sum of Share down the table (reasons by count, then dollars, descending):"
        " the Pareto line, percent (DOMAIN.md §4).", _REASON_SOURCE),
    ("pareto", "denied_dollars"): (
        "Billed amount of the report month's initial denials with this reason, in dollars"
        " (DOMAIN.md §4).", _REASON_SOURCE),
    ("denial_categories", "category"): (
        f"Root-cause category: {_CATEGORIES}, or unmapped (DOMAIN.md §4).",
        "claims: reject_code, carc_code; denial_codes.csv"),
    ("denial_categories", "count"): (
        "Initial denials of the report month in the category, count (DOMAIN.md §4).",
        _REASON_SOURCE),
    ("denial_categories", "denied_dollars"): (
        "Billed amount of the report month's initial denials in the category, in dollars"
        " (DOMAIN.md §4).", _REASON_SOURCE),
    **{entry: text for number in range(1, PCHARTS + 1) for entry, text in {
        (f"pchart_{number}", "month"): (
            f"Service month, YYYY-MM, of {_MONTHS} (DOMAIN.md §4).", "claims: service_date"),
        (f"pchart_{number}", "denial_rate"): (
            f"Initial denial rate of the charted payer (the grid's first {PCHARTS} by excess"
            " denials, named in the chart's title), percent (DOMAIN.md §4).", _REASON_SOURCE),
        (f"pchart_{number}", "center_line"): (_CENTER, _REASON_SOURCE),
        (f"pchart_{number}", "ucl"): (_UCL, _REASON_SOURCE),
        (f"pchart_{number}", "lcl"): (_LCL, _REASON_SOURCE),
        (f"pchart_{number}", "flagged"): (
            "The rate again in the months out of control (above the UCL or below the LCL),"
            " blank in the others: the chart's markers (DOMAIN.md §4).", _REASON_SOURCE),
    }.items()},
    # 340B
    ("exceptions_by_month", "month"): (
        f"Service month (shown Oct 2026) of the {AUDIT_MONTHS} audited months ending with the"
        " report month (DOMAIN.md §6).",
        "claims: service_date"),
    ("exceptions_by_month", "checked"): (
        "Claims of the month the audit checked: all but denied pharmacy claims, which were"
        " not dispensed under that claim, count (DOMAIN.md §6).",
        "claims: service_date, claim_type, status"),
    ("exceptions_by_month", "checked_340b"): (
        "Checked claims on the 340B account, count (DOMAIN.md §6).",
        "claims: service_date, claim_type, status, account"),
    ("exceptions_by_month", "review"): (
        f"Claims whose findings are all for review ({_REVIEW_REASONS}), count (DOMAIN.md §6).",
        _AUDIT),
    ("exceptions_by_month", "violations"): (
        "Claims with at least one violation reason, count (DOMAIN.md §6).", _AUDIT),
    ("exceptions_by_month", "exceptions"): (
        "For review + violations: claims with any finding, count (DOMAIN.md §6).", _AUDIT),
    ("exceptions_by_month", "exception_rate"): (
        "Checked claims on the 340B account with any finding / checked claims on the 340B"
        " account (On 340B), percent; blank when no 340B claim was checked. Findings on claims"
        f" not on 340B ({', '.join(REASONS_OFF_340B)}) count in Exceptions but not in the"
        " rate: the 340B rules were not applied to those claims as 340B use (DOMAIN.md §6).",
        _AUDIT),
    ("exceptions_by_month", "dollars_at_risk"): (_AT_STAKE, _AUDIT),
    ("exceptions_by_month", "savings_340b"): (
        "340B savings: sum of (WAC less 340B unit cost) x quantity over the month's paid"
        " claims on the 340B account, a blank cost or quantity counting 0, in dollars"
        " (DOMAIN.md §6).",
        "claims: service_date, status, account, quantity, unit_cost_wac, unit_cost_340b"),
    ("exceptions_by_reason", "reason"): (
        f"Reason code of a 340B finding: {_REASON_LIST}. The look-back window for an"
        f" encounter is {DEFAULT_LOOKBACK_DAYS} days before the service date (DOMAIN.md §6).",
        _AUDIT),
    ("exceptions_by_reason", "status"): (
        f"The reason's severity: {VIOLATION} (breaks a 340B rule) or {REVIEW} (to look into)"
        " (DOMAIN.md §6).", "rxxl (computed)"),
    ("exceptions_by_reason", "claims"): (
        "Claims of the report month carrying the reason, count; a claim with several reasons"
        " counts under each, so the column adds up to reasons, not claims (DOMAIN.md §6).",
        _AUDIT),
    ("exceptions_by_reason", "dollars_at_risk"): (_AT_STAKE, _AUDIT),
    ("exceptions_by_reason", "description"): (
        "The reason code in plain words, as the claim detail gives it (rxxl.audit340b"
        " REASON_TEXT; docs/340b-audit.md).", "rxxl (computed)"),
    ("audit_parameters", "parameter"): (
        "What the 340B audit was run with: look-back window, months audited, observation"
        " policy, orphan drug exclusion, Part B 340B modifier policy, rule set version, rule"
        " versions in force (rxxl.rules), patient masking, tracer sample,"
        " and each reference table (docs/340b-audit.md).", "rxxl (computed)"),
    ("audit_parameters", "value"): (
        "The parameter's value. A reference table's row gives its file, the file's date (its"
        " modification date: the contracts have no as-of column), the rows used (encounters"
        " older than the look-back of the first audited month are dropped) and the latest"
        " date in its date columns (DOMAIN.md §6).",
        "entity; sites; prescribers; encounters; mef; orphan_drugs (files and dates)"),
    ("exceptions_by_site", "site_id"): (_SITE, "claims: site_id"),
    ("exceptions_by_site", "claims"): (
        "Claims of the report month with a finding (review or violation) at the site, count"
        " (DOMAIN.md §6).", _AUDIT),
    ("exceptions_by_site", "dollars_at_risk"): (_AT_STAKE, _AUDIT),
    ("exceptions_by_entity", "entity_id"): (_ENTITY, "claims: entity_id, site_id; sites"),
    ("exceptions_by_entity", "claims"): (
        "Claims of the report month with a finding (review or violation) attributed to the"
        " entity, count (DOMAIN.md §6).", _AUDIT),
    ("exceptions_by_entity", "dollars_at_risk"): (_AT_STAKE, _AUDIT),
    ("tracer_sample", "entity_id"): (_ENTITY, "claims: entity_id, site_id; sites"),
    ("tracer_sample", "claim_id"): (
        f"Claim line of the tracer sample: up to {_SAMPLE_SIZE} of the report month's claims"
        f" on the 340B account per entity, drawn at random (seed {_SAMPLE_SEED}) whether"
        " compliant or not, whether or not the month has findings; sorted by entity, date and claim"
        " (DOMAIN.md §6).", "claims: claim_id, account"),
    ("tracer_sample", "service_date"): ("Date dispensed or administered (DOMAIN.md §6).",
                                        "claims: service_date"),
    ("tracer_sample", "site_id"): (_SITE, "claims: site_id"),
    ("tracer_sample", "payer_type"): (
        "Kind of payer: medicaid_ffs, medicaid_mco, medicare_b, medicare_d, commercial,"
        " self_pay or other (DOMAIN.md §6).", "claims: payer_type"),
    ("tracer_sample", "account"): (
        "Purchasing account that replenishes the drug: 340B, GPO or WAC (DOMAIN.md §6).",
        "claims: account"),
    ("tracer_sample", "status"): (
        f"The claim's audit outcome: {COMPLIANT}, {REVIEW} (review findings only) or"
        f" {VIOLATION} (any violation) (DOMAIN.md §6).", _AUDIT),
    ("tracer_sample", "reasons"): (
        "The claim's reason codes joined by ; (see Reason), empty when compliant (DOMAIN.md"
        " §6).", _AUDIT),
    ("tracer_sample", "dollars_at_risk"): (_AT_STAKE, _AUDIT),
    ("tracer_sample", "patient_id"): (
        "The patient as the claim detail shows it: PT- pseudonyms numbered in order of first"
        " appearance in the month's claims, the same in both workbooks of the month; the"
        " patient id itself only with rxxl report --unmask-patients (DOMAIN.md §6).",
        "claims: patient_id (masked)"),
    ("tracer_sample", "prescriber_npi"): (
        "NPI of the prescriber (PR- pseudonym with --deidentify); the audit checks it against"
        " the entity's eligible prescribers on the service date (DOMAIN.md §6).",
        "claims: prescriber_npi; prescribers"),
    ("tracer_sample", "encounter_date"): (
        "Date of the qualifying encounter: the patient's latest encounter at a site"
        " registered to the claim's entity (on the encounter date), on the service date or"
        " within the look-back window before it; blank when none qualified"
        " (NO_QUALIFYING_ENCOUNTER). The encounters table has no encounter id: patient, site"
        " and date name the visit (DOMAIN.md §6).", "encounters: patient_id, site_id,"
        " encounter_date; sites"),
    ("tracer_sample", "encounter_site_id"): (
        "Site of the qualifying encounter (see Encounter date).",
        "encounters: site_id; sites"),
    ("tracer_sample", "ndc"): ("11-digit NDC dispensed or administered.", "claims: ndc"),
    ("tracer_sample", "drug_name"): ("Drug name, strength and form.", "claims: drug_name"),
    ("tracer_sample", "quantity"): ("Billing units dispensed or administered.",
                                    "claims: quantity"),
    ("tracer_sample", "billing_npi"): (
        "NPI the claim was billed under: the number the Medicaid Exclusion File is read by"
        " (DOMAIN.md §6).", "claims: billing_npi"),
    ("tracer_sample", "modifiers"): (
        "HCPCS modifiers of the claim; a 340B Medicare Part B claim carries JG or TB"
        " (DOMAIN.md §6).", "claims: modifiers"),
    ("tracer_sample", "purchase_record"): (
        "The purchase that replenished the claim: the drug_purchases lines of its NDC on its"
        " account in its service month, as location: packages (dollars). At a site that"
        " buys for itself (a contract pharmacy) its own line; at other sites every"
        " location's lines (the two largest, and how many more), as the data has no"
        " site-to-location map; 'none on the 340B"
        " account in <month>' when there is none (DOMAIN.md §6).",
        "drug_purchases: month, ndc, account, location, quantity, unit_cost_actual"),
    ("tracer_sample", "description"): (
        "The claim's reason codes in plain words (see What the reason means).",
        "rxxl (computed)"),
    # Capital: the summary shows each request's block's figures (the same definitions).
    **{("capital_summary", key): CAPITAL_BLOCK[key] for key in (
        "request_id", "initial_capital", "horizon", "discount_rate", "npv", "irr", "payback",
        "discounted_payback", "recommendation")},
    ("capital_summary", "request_name"): (
        "What is requested, e.g. IV compounding robot; the requests are ranked by NPV, best"
        " first, and the name links to the request's block below; the totals row adds up"
        " the initial capital and the NPVs of all the requests (DOMAIN.md §5).",
        "capital_requests: request_name"),
    # Checks
    ("checks", "check"): (
        "What the check compares, in words: two figures that must agree (DOMAIN.md §7).",
        "rxxl (computed)"),
    ("checks", "figure_a"): (
        "The first figure: a live formula on the sheets the check names (DOMAIN.md §7).",
        "rxxl (computed)"),
    ("checks", "figure_b"): (
        "The figure it must equal: a live formula, or a count rxxl took from the claims"
        " themselves (the 340B reasons check) (DOMAIN.md §7).", "rxxl (computed)"),
    ("checks", "difference"): (
        "Figure A less figure B: a live formula; an Excel error when a figure is not a number"
        " (#NUM! when a sum overflows, #N/A when a figure's cell is blank) (DOMAIN.md §7).",
        "rxxl (computed)"),
    ("checks", "fails"): (
        "1 when |difference| is above the tolerance (the Setting Tolerance ($), named"
        " CheckTolerance) or the difference is not a number (the check cannot be computed),"
        " else 0: a live formula (DOMAIN.md §7).", "rxxl (computed)"),
    ("checks", "result"): (
        f"{PASSES}, {FAILS}, or {CANNOT} when the difference is not a number (a check that"
        " cannot be computed fails): a live formula (DOMAIN.md §7).", "rxxl (computed)"),
    ("master_check", "name"): ("Label of the master check (DOMAIN.md §7).", "rxxl (computed)"),
    ("master_check", "value"): (
        "Checks that fail: SUM of the Fails column, 0 when all pass; named MasterCheck, the"
        " status the Cover shows (DOMAIN.md §7).", "rxxl (computed)"),
    ("check_settings", "name"): ("Name of a setting of the checks (DOMAIN.md §7).",
                                 "rxxl (computed)"),
    ("check_settings", "value"): (
        "Tolerance in dollars: two figures that differ by at most this agree; an input"
        " (named CheckTolerance); then the days of a year and of the month and the month's"
        " actual adjusted patient days (from the budget lines), which the KPI checks divide"
        " by (DOMAIN.md §7).", "rxxl (computed)"),
    # Dictionary
    ("dictionary", "sheet"): ("Sheet of the package the column appears on.", "rxxl (computed)"),
    ("dictionary", "column"): ("Column header as on the sheet, with its unit.",
                               "rxxl (computed)"),
    ("dictionary", "definition"): (
        "What the column's figure is: its formula, unit and the DOMAIN.md section it follows.",
        "rxxl (computed)"),
    ("dictionary", "source"): (
        "Input table(s) and columns it comes from (docs/data-contracts.md), or rxxl"
        " (computed) for a figure rxxl derives.", "rxxl (computed)"),
}

#: By column key, for tables without their own entry: what the Summary's top drivers share
#: with the Drivers sheet's largest drivers.
BY_KEY: dict[str, tuple[str, str]] = {
    key: ENTRIES[("largest_drivers", key)] for key in ("amount", "share_of_variance")
}

#: How a table is named when a header it shares with another table on its sheet means
#: something else there (tables with a caption use the caption).
_TABLE_LABELS = {
    "budget": "Budget lines", "gdr_by_month": "By month", "gdr_by_site": "By site",
    "gdr_by_payer": "By payer", "opportunity": "Switch opportunity",
    "denial_trend": "Payer trend", "pareto": "Pareto", "denial_categories": "Root causes",
    "exceptions_by_reason": "By reason", "exceptions_by_site": "By site",
    "exceptions_by_entity": "By entity",
}


def _label(spec) -> str:
    return spec.caption or _TABLE_LABELS.get(spec.name, spec.name.replace("_", " ").capitalize())


def _entry(table: str, key: str) -> tuple[str, str]:
    return ENTRIES.get((table, key)) or BY_KEY.get(key) or ("", "")


def dictionary_table() -> pd.DataFrame:
    """The Dictionary sheet: one row per (sheet, column header) of the template, in the
    template's order, with its definition and source. A header that two tables of a sheet
    share is one row; where it means different things there, each table's definition is
    given, labelled by table, and the sources are combined."""
    rows: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for sheet, (_, _, specs, _) in SHEETS.items():
        for spec in specs:
            for column in spec.columns:
                definition, source = _entry(spec.name, column.key)
                rows.setdefault((sheet, column.header), []).append(
                    (_label(spec), definition, source))
        for _, header, (definition, source) in (r for r in BLOCK_ROWS if r[0] == sheet):
            rows.setdefault((sheet, header), []).append(("Request blocks", definition, source))
    out = []
    for (sheet, header), parts in rows.items():
        labels: dict[str, list[str]] = {}
        for label, text, _ in parts:
            labels.setdefault(text, []).append(label)
        definition = next(iter(labels)) if len(labels) == 1 else " ".join(
            f"{', '.join(names)}: {text}" for text, names in labels.items())
        sources = dict.fromkeys(piece.strip() for _, _, source in parts
                                for piece in source.split(";") if piece.strip())
        out.append((sheet, header, definition, "; ".join(sources)))
    return pd.DataFrame(out, columns=COLUMNS)
