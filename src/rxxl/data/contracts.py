"""The input tables rxxl reads: every column's name, kind, unit, whether it is required, and
what it means. The claims and 340B reference tables are a public contract that other tools
produce; change them only by adding optional columns.

The loader (:mod:`rxxl.data`) enforces these definitions and ``docs/data-contracts.md`` is
generated from them (``python -m rxxl.data.contracts > docs/data-contracts.md``).

Column kinds
------------
``code``      identifier text, kept exactly (leading zeros too), trimmed
``text``      free text, trimmed
``ndc``       National Drug Code: 10 digits as 4-4-2, 5-3-2 or 5-4-1 (dashes optional) or
              11 digits (5-4-2); normalized to 11 digits without dashes (DOMAIN.md §8)
``npi``       National Provider Identifier: 10 digits with a valid Luhn check digit over the
              prefix 80840 (DOMAIN.md §8)
``date``      a calendar date: ISO text (2026-10-31), US text (10/31/2026), an Excel serial
              number or a datetime (in Parquet: a date or timestamp type); a time of day is
              dropped; two-digit years, a bare year and YYYYMMDD are refused; *event* dates
              lie between 2000-01-01 and 31 days after today
``month``     a calendar month: 2026-10, or any date in the month; stored as its first day
``quarter``   the first day of a calendar quarter (2026-10-01)
``money``     US dollars, a number (a dollar sign is read), at most 1e11 either way
``number``    a number in the column's unit, at most 1e9 either way; *%*: a rate, where a
              percent sign is read (6% is 0.06)
``integer``   a whole number, at most 1e9 either way
``choice``    one of the listed values (compared without regard to case and surrounding
              spaces; stored in the listed spelling)
``flag``      true or false (also yes/no, y/n, 1/0)
``state``     a two-letter US state or territory code
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

KINDS = (
    "code", "text", "ndc", "npi", "date", "month", "quarter", "money", "number", "integer",
    "choice", "flag", "state",
)

US_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP",
)

PATIENT_STATUSES = ("outpatient", "inpatient", "observation")
PAYER_TYPES = (
    "medicaid_ffs", "medicaid_mco", "medicare_b", "medicare_d", "commercial", "self_pay",
    "other",
)
#: Each payer type and site type in the finance team's words, as reports show them.
PAYER_TYPE_NAMES = {
    "medicaid_ffs": "Medicaid fee-for-service", "medicaid_mco": "Medicaid managed care",
    "medicare_b": "Medicare Part B", "medicare_d": "Medicare Part D",
    "commercial": "Commercial", "self_pay": "Self pay", "other": "Other",
}
ACCOUNTS = ("340B", "GPO", "WAC")
CLAIM_TYPES = ("pharmacy", "medical")
CLAIM_STATUSES = ("paid", "denied")
ENTITY_TYPES = ("DSH", "PED", "CAN", "CAH", "SCH", "RRC", "FQHC", "other")
SITE_TYPES = ("parent", "child", "contract_pharmacy")
SITE_TYPE_NAMES = {"parent": "Parent site", "child": "Child site",
                   "contract_pharmacy": "Contract pharmacy"}
LINE_TYPES = ("expense", "revenue")
MONY_CODES = ("M", "N", "O", "Y")


@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    kind: str
    meaning: str
    required: bool = True
    #: Values may be blank (always true for optional columns).
    blank_ok: bool = False
    unit: str = ""
    choices: tuple[str, ...] = ()
    #: Smallest allowed value of a number, money or integer column.
    minimum: float | None = None
    #: Protected health information: never shown in messages or logs.
    phi: bool = False
    #: A number column holding a rate or share: a percent sign is read (6% is 0.06). Nowhere
    #: else: 12% in a quantity would silently become 0.12 units.
    percent: bool = False
    #: A date column of events that have happened (a service, an encounter, a count): not
    #: before EARLIEST_EVENT_DATE nor more than EVENT_DATE_DAYS_AHEAD after today
    #: (rxxl.constants), so a mis-read date is refused instead of counted.
    event: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}")
        if self.percent and self.kind != "number":
            raise ValueError(f"column {self.name}: percent goes with kind 'number' only")
        if self.event and self.kind != "date":
            raise ValueError(f"column {self.name}: event goes with kind 'date' only")
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"column {self.name}: choices go with kind 'choice' only")
        if not self.required:
            object.__setattr__(self, "blank_ok", True)


@dataclass(frozen=True)
class Table:
    """An input table: its columns and the rules that span columns or rows."""

    name: str
    meaning: str
    columns: tuple[Column, ...]
    #: Columns whose values together must be unique (one row per key).
    key: tuple[str, ...] = ()
    #: (start, end) date columns: end, where given, is on or after start.
    date_ranges: tuple[tuple[str, str], ...] = ()
    #: Groups of columns of which each row must fill at least one.
    one_of: tuple[tuple[str, ...], ...] = ()
    notes: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def subset(self, names: Iterable[str]) -> Table:
        """The same contract restricted to ``names`` (in contract order), for loading only
        the columns an analysis needs; row rules stay where all their columns remain."""
        wanted = set(names)
        unknown = wanted - {c.name for c in self.columns}
        if unknown:
            raise ValueError(f"table {self.name} has no column {', '.join(sorted(unknown))}")
        return replace(
            self,
            columns=tuple(c for c in self.columns if c.name in wanted),
            key=self.key if wanted >= set(self.key) else (),
            date_ranges=tuple(r for r in self.date_ranges if wanted >= set(r)),
            one_of=tuple(g for g in self.one_of if wanted >= set(g)),
        )


def _money(name: str, meaning: str, **options) -> Column:
    return Column(name, "money", meaning, unit="$", **options)


# --- Finance tables -------------------------------------------------------------------------

BUDGET_LINES = Table(
    "budget_lines",
    "Operating budget and actuals per month, cost center and line (general ledger export).",
    (
        Column("month", "month", "Fiscal month the amounts belong to."),
        Column("cost_center", "code", "Cost center, e.g. 7010 Inpatient Pharmacy."),
        Column("line", "text", "Budget line, e.g. 'Drugs - inpatient'."),
        Column("line_type", "choice", "expense: over budget is unfavorable; revenue: under "
               "budget is unfavorable.", choices=LINE_TYPES),
        _money("budget", "Budgeted amount for the month."),
        _money("actual", "Actual amount for the month; blank for months not yet closed.",
               blank_ok=True),
        Column("volume_driver", "text", "What the volume columns count, e.g. 'adjusted "
               "patient days'.", required=False),
        Column("budget_volume", "number", "Budgeted volume of the driver.", required=False,
               minimum=0),
        Column("actual_volume", "number", "Actual volume of the driver.", required=False,
               minimum=0),
    ),
    key=("month", "cost_center", "line"),
)

DRUG_PURCHASES = Table(
    "drug_purchases",
    "Drug purchases per month and NDC (wholesaler invoices), with the drug budget.",
    (
        Column("month", "month", "Month of the invoices."),
        Column("ndc", "ndc", "11-digit NDC of the package bought."),
        Column("drug_name", "text", "Drug name, strength and form."),
        Column("quantity", "number", "Packages bought, net of returns and credits (may be "
               "negative in a month of returns).", unit="packages"),
        _money("unit_cost_actual", "Price paid per package.", minimum=0),
        _money("unit_cost_budget", "Budgeted price per package.", required=False, minimum=0),
        Column("budget_quantity", "number", "Budgeted packages for the month.",
               required=False, minimum=0, unit="packages"),
        Column("account", "choice", "Purchasing account the order was placed on.",
               choices=ACCOUNTS),
        Column("location", "code", "Inventory location that received the order.",
               required=False),
    ),
    key=("month", "ndc", "account", "location"),
)

INVENTORY_SNAPSHOTS = Table(
    "inventory_snapshots",
    "Inventory on hand at cost, per location and date (perpetual inventory or a count).",
    (
        Column("snapshot_date", "date", "Date of the count or snapshot (usually month end).",
               event=True),
        Column("location", "code", "Inventory location, e.g. MAIN-IP, INFUSION."),
        _money("inventory_value", "Value on hand at cost.", minimum=0),
        Column("ndc", "ndc", "NDC, when the snapshot is per drug.", required=False),
        Column("quantity", "number", "Packages on hand.", required=False, minimum=0,
               unit="packages"),
        _money("expired_value", "Value at cost of expired stock removed since the previous "
               "snapshot.", required=False, minimum=0),
        Column("last_movement_date", "date", "Last receipt or dispense of the drug at the "
               "location (for dead stock).", required=False),
    ),
    key=("snapshot_date", "location", "ndc"),
)

CAPITAL_REQUESTS = Table(
    "capital_requests",
    "Cash flows of capital requests (automation, equipment), one row per request, period "
    "and kind of flow.",
    (
        Column("request_id", "code", "Capital request identifier."),
        Column("request_name", "text", "What is requested, e.g. 'IV compounding robot'."),
        Column("period", "integer", "Year of the flow; 0 is the investment at the start.",
               minimum=0, unit="years"),
        _money("cash_flow", "Net cash flow: negative for capital and costs, positive for "
               "savings and revenue."),
        Column("flow_type", "text", "Kind of flow: capital, labor_savings, avoided_errors, "
               "revenue, service_cost, ...", required=False),
        Column("discount_rate", "number", "The request's discount rate (0.06 for 6%).",
               required=False, minimum=-0.99, unit="per year", percent=True),
    ),
    key=("request_id", "period", "flow_type"),
)

DRUGS = Table(
    "drugs",
    "Drug reference (formulary): one row per NDC, for generic and therapeutic analysis.",
    (
        Column("ndc", "ndc", "11-digit NDC."),
        Column("drug_name", "text", "Drug name, strength and form."),
        Column("mony_code", "choice", "Medi-Span multi-source code: M/N/O brand, Y generic.",
               choices=MONY_CODES),
        Column("marketing_category", "text", "FDA marketing category (ANDA, NDA, BLA, NDA "
               "AUTHORIZED GENERIC, BIOSIMILAR, ...).", required=False),
        Column("generic_group", "code", "Group of therapeutically equivalent products (a "
               "GPI-14 or similar), linking a brand to its generics.", required=False),
        Column("therapeutic_class", "text", "Therapeutic class for reporting.",
               required=False),
        Column("package_size", "number", "Billing units per package.", required=False,
               minimum=0, unit="billing units"),
        Column("budget_line", "text", "The budget_lines line this drug's purchases post to, "
               "e.g. 'Drugs - Immune globulin & blood products' (for reconciling purchases "
               "to the GL drug lines).", required=False),
    ),
    key=("ndc",),
)

LOCATIONS = Table(
    "locations",
    "Inventory locations and the cost center each posts its drug purchases to.",
    (
        Column("location", "code", "Inventory location, as in drug_purchases.location and "
               "inventory_snapshots.location."),
        Column("cost_center", "code", "Cost center the location's purchases post to, "
               "exactly as in budget_lines.cost_center."),
        Column("location_name", "text", "Readable name, e.g. 'Outpatient pharmacy'.",
               required=False),
        Column("replenishment", "flag", "true: the location's 340B stock is replenished from "
               "accumulated eligible use (the replenishment model of a mixed-use area); false: "
               "it keeps a physical 340B inventory, bought ahead of use, so its 340B purchases "
               "are not compared with the accumulator. Blank or absent: true.",
               required=False),
    ),
    key=("location",),
    notes=("Optional in a data folder. When present, `rxxl report` refuses a location of the "
           "report month's purchases or snapshots that is not listed, and a cost center that "
           "budget_lines does not have.",),
)

# --- Claims (public contract) ----------------------------------------------------------------

CLAIMS = Table(
    "claims",
    "Dispensations and administrations billed to payers (pharmacy and medical claims), one "
    "row per claim line.",
    (
        Column("claim_id", "code", "Unique claim (line) identifier."),
        Column("service_date", "date", "Date dispensed or administered.", event=True),
        Column("ndc", "ndc", "11-digit NDC dispensed."),
        Column("drug_name", "text", "Drug name, strength and form."),
        Column("quantity", "number", "Billing units dispensed.", minimum=0,
               unit="billing units"),
        Column("patient_id", "code", "Patient identifier (medical record number).", phi=True),
        Column("prescriber_npi", "npi", "NPI of the prescriber."),
        Column("site_id", "code", "Dispensing or administering location (a 340B site id "
               "for the entity's sites and contract pharmacies)."),
        Column("location", "code", "Inventory the dose was dispensed from, as in "
               "drug_purchases.location (e.g. a mixed-use infusion center's stock): where the "
               "split-billing accumulator counts the use. Blank or absent: the site_id.",
               required=False),
        Column("patient_status", "choice", "Patient status at the time of administration.",
               choices=PATIENT_STATUSES),
        Column("payer", "text", "Payer (plan) name."),
        Column("payer_type", "choice", "Kind of payer.", choices=PAYER_TYPES),
        Column("payer_state", "state", "State of the payer (for Medicaid: the paying state).",
               blank_ok=True),
        Column("billing_npi", "npi", "NPI the claim was billed under."),
        Column("account", "choice", "Purchasing account that replenishes the drug.",
               choices=ACCOUNTS),
        Column("modifiers", "text", "HCPCS modifiers, separated by ';' (e.g. JG).",
               required=False),
        Column("claim_type", "choice", "pharmacy (NCPDP) or medical (837, buy and bill).",
               choices=CLAIM_TYPES),
        Column("status", "choice", "Adjudication status.", choices=CLAIM_STATUSES),
        Column("reject_code", "code", "NCPDP reject code (511-FB) of a denied pharmacy "
               "claim, e.g. 75.", required=False),
        Column("carc_code", "code", "Claim adjustment reason code with group, e.g. CO-197, "
               "of a denied medical claim.", required=False),
        _money("billed_amount", "Amount billed.", minimum=0),
        _money("paid_amount", "Amount paid (0 when denied).", minimum=0),
        _money("unit_cost_340b", "340B ceiling or purchase price per billing unit.",
               blank_ok=True, minimum=0),
        _money("unit_cost_wac", "Wholesale acquisition cost per billing unit.",
               blank_ok=True, minimum=0),
        Column("days_supply", "integer", "Days supply of a pharmacy claim.", required=False,
               minimum=0, unit="days"),
        Column("submission_clarification_code", "code", "NCPDP submission clarification "
               "code (420-DK); 20 marks a 340B claim to a Medicaid MCO in many states.",
               required=False),
        Column("original_claim_id", "code", "For a resubmission: the claim it replaces (for "
               "initial versus final denial rates).", required=False),
        Column("entity_id", "code", "340B ID of the covered entity the claim is attributed "
               "to; when blank, the entity of the registered site.", required=False),
        _money("dispensing_fee", "Fee the entity pays the contract pharmacy for dispensing "
               "the claim on 340B stock, as the pharmacy services agreement's invoice lists "
               "it per claim; blank: no fee.", required=False, minimum=0),
        _money("tpa_fee", "Fee the entity pays its 340B third-party administrator for the "
               "claim, as the TPA invoice lists it per claim; blank: no fee.",
               required=False, minimum=0),
    ),
    key=("claim_id",),
)

# --- 340B reference (public contract) -------------------------------------------------------

ENTITY = Table(
    "entity",
    "340B covered entities (OPAIS registration), one row per registration period.",
    (
        Column("entity_id", "code", "340B ID, e.g. DSH390001."),
        Column("entity_type", "choice", "Covered entity type.", choices=ENTITY_TYPES),
        Column("start_date", "date", "Participation start."),
        Column("end_date", "date", "Participation end; blank while active.", blank_ok=True),
        Column("entity_name", "text", "Name of the covered entity.", required=False),
    ),
    key=("entity_id", "start_date"),
    date_ranges=(("start_date", "end_date"),),
)

SITES = Table(
    "sites",
    "Registered sites of each entity: the parent, child sites (clinics, outpatient "
    "departments) and contract pharmacies.",
    (
        Column("site_id", "code", "Site identifier, as on claims."),
        Column("entity_id", "code", "Entity the site is registered to."),
        Column("site_type", "choice", "parent, child or contract_pharmacy.",
               choices=SITE_TYPES),
        Column("start_date", "date", "Registration start."),
        Column("end_date", "date", "Registration end; blank while registered.",
               blank_ok=True),
        Column("medicaid_arrangement", "flag", "Contract pharmacy: an arrangement with the "
               "state to bill Medicaid on 340B stock is reported to HRSA.", blank_ok=True),
        Column("site_name", "text", "Name of the site.", required=False),
    ),
    key=("site_id", "entity_id", "start_date"),
    date_ranges=(("start_date", "end_date"),),
)

PRESCRIBERS = Table(
    "prescribers",
    "The entity's eligible prescribers (employed or under contract), per period.",
    (
        Column("npi", "npi", "Prescriber NPI."),
        Column("entity_id", "code", "Entity the prescriber is eligible for."),
        Column("start_date", "date", "Eligibility start."),
        Column("end_date", "date", "Eligibility end; blank while eligible.", blank_ok=True),
    ),
    key=("npi", "entity_id", "start_date"),
    date_ranges=(("start_date", "end_date"),),
)

ENCOUNTERS = Table(
    "encounters",
    "Patient encounters at the entity's sites: the records of care that make a patient the "
    "entity's patient.",
    (
        Column("patient_id", "code", "Patient identifier, as on claims.", phi=True),
        Column("site_id", "code", "Site of the encounter."),
        Column("encounter_date", "date", "Date of the encounter.", event=True),
    ),
)

MEF = Table(
    "mef",
    "HRSA Medicaid Exclusion File: per entity, state and quarter, whether Medicaid fee-for-"
    "service drugs billed under the listed numbers are 340B (carve-in).",
    (
        Column("entity_id", "code", "340B ID."),
        Column("state", "state", "Medicaid state."),
        Column("billing_npi", "npi", "Billing NPI listed.", blank_ok=True),
        Column("medicaid_number", "code", "Medicaid provider number listed.", blank_ok=True),
        Column("quarter_start", "quarter", "First day of the quarter the row applies to."),
        Column("carve_in", "flag", "true: carve-in (Medicaid FFS drugs are 340B); false: "
               "carve-out."),
    ),
    key=("entity_id", "state", "billing_npi", "medicaid_number", "quarter_start"),
    one_of=(("billing_npi", "medicaid_number"),),
)

ORPHAN_DRUGS = Table(
    "orphan_drugs",
    "Drugs with an orphan designation (for the orphan drug exclusion).",
    (Column("ndc", "ndc", "11-digit NDC."),),
    key=("ndc",),
)

# --- Example figures (`rxxl example --data`) ---------------------------------------------------
# One month of summary figures in the layout of the bundled example files; read through the
# same loader as every other table, so a wrong cell is named by file, line and column.

EXAMPLE_BUDGET_LINES = Table(
    "budget_lines.csv",
    "`rxxl example --data`: one month's budget lines.",
    (
        Column("cost_center", "text", "Cost center name."),
        Column("line", "text", "Budget line, e.g. 'Drugs - inpatient'."),
        Column("line_type", "choice", "expense or revenue (sets which direction is "
               "favorable).", choices=LINE_TYPES),
        _money("budget", "Budgeted amount for the month."),
        _money("actual", "Actual amount for the month."),
        Column("budget_volume", "number", "Budgeted volume of the line's driver.", minimum=0),
        Column("actual_volume", "number", "Actual volume of the line's driver.", minimum=0),
    ),
)

EXAMPLE_DRUG_SPEND = Table(
    "drug_spend.csv",
    "`rxxl example --data`: one month's spend per drug, budget against actual.",
    (
        Column("drug", "text", "Drug name, strength and form."),
        Column("mony_code", "choice", "Medi-Span multi-source code: M/N/O brand, Y generic.",
               choices=MONY_CODES),
        Column("claims", "integer", "Claims dispensed this month.", minimum=0),
        Column("budget_qty", "number", "Budgeted units.", minimum=0),
        _money("budget_price", "Budgeted price per unit; blank for a drug not budgeted.",
               blank_ok=True, minimum=0),
        Column("actual_qty", "number", "Units dispensed.", minimum=0),
        _money("actual_price", "Price paid per unit; blank for a drug no longer dispensed.",
               blank_ok=True, minimum=0),
        _money("generic_unit_cost", "Unit cost of the generic equivalent of a multi-source "
               "brand (O).", required=False, minimum=0),
    ),
)

EXAMPLE_INVENTORY = Table(
    "inventory.csv",
    "`rxxl example --data`: inventory at cost per location over one period.",
    (
        Column("location", "text", "Inventory location."),
        _money("beginning_inventory", "Inventory at cost at the start of the period.",
               minimum=0),
        _money("ending_inventory", "Inventory at cost at the end of the period.", minimum=0),
        _money("cogs", "Cost of goods sold in the period.", minimum=0),
        Column("days_in_period", "integer", "Days in the period.", minimum=1, unit="days"),
    ),
)

EXAMPLE_CAPITAL_REQUEST = Table(
    "capital_request.csv",
    "`rxxl example --data`: one capital request's yearly cash flows, year 0 first.",
    (
        Column("year", "integer", "Year of the flow, 0 for the investment.", minimum=0),
        Column("description", "text", "What the flow is; the first row's names the request."),
        _money("cash_flow", "Net cash flow of the year (the investment negative)."),
    ),
    key=("year",),
)

# --- 340B program data (optional) ----------------------------------------------------------

ACCUMULATOR_BALANCES = Table(
    "accumulator_balances",
    "The split-billing system's accumulator at each month end (its accumulator report): "
    "billing units used and not yet replenished as a whole package, per NDC, location and "
    "account. It gives the balance a period opens with, so a check that starts mid-stream "
    "does not misread the carried units as over- or under-replenishment.",
    (
        Column("month", "month", "Month the balance closes."),
        Column("ndc", "ndc", "11-digit NDC accumulated."),
        Column("location", "code", "Inventory location, as in drug_purchases.location."),
        Column("account", "choice", "Account the units accumulate to.", choices=ACCOUNTS),
        Column("units_carried", "number", "Units accumulated and not yet reordered (negative "
               "after a reversal took back units already reordered).", unit="billing units"),
    ),
    key=("month", "ndc", "location", "account"),
    notes=("Optional. `rxxl audit-pack` opens its accumulator with the balances of the month "
           "before the period; without them it starts at zero and says so.",),
)
PROGRAM_340B = (ACCUMULATOR_BALANCES,)

#: The example tables by file name.
EXAMPLE_TABLES = {table.name: table for table in (
    EXAMPLE_BUDGET_LINES, EXAMPLE_DRUG_SPEND, EXAMPLE_INVENTORY, EXAMPLE_CAPITAL_REQUEST)}

FINANCE_TABLES = (BUDGET_LINES, DRUG_PURCHASES, INVENTORY_SNAPSHOTS, CAPITAL_REQUESTS, DRUGS,
                  LOCATIONS)
REFERENCE_340B = (ENTITY, SITES, PRESCRIBERS, ENCOUNTERS, MEF, ORPHAN_DRUGS)
TABLES = {table.name: table for table in (*FINANCE_TABLES, CLAIMS, *REFERENCE_340B,
                                          *PROGRAM_340B)}


def contracts_markdown() -> str:
    """The data contracts as a Markdown page (``docs/data-contracts.md``)."""
    lines = [
        "# rxxl input tables",
        "",
        "Generated from `src/rxxl/data/contracts.py` by"
        " `python -m rxxl.data.contracts > docs/data-contracts.md`; do not edit by hand.",
        "",
        "Files may be CSV, Parquet or .xlsx (a sheet or an Excel table); column names are"
        " matched without regard to case and surrounding spaces. *Required* columns must be"
        " present; *blank ok* says whether their cells may be empty.",
        "",
        "## Column kinds",
        "",
        *_kinds_table(),
    ]
    for group, tables in (
        ("Finance tables", FINANCE_TABLES),
        ("Claims (public contract)", (CLAIMS,)),
        ("340B reference tables (public contract, one file each)", REFERENCE_340B),
        ("340B program data (optional, one file each)", PROGRAM_340B),
        ("Example figures (`rxxl example --data`, one CSV file each)",
         tuple(EXAMPLE_TABLES.values())),
    ):
        lines += ["", f"## {group}"]
        for table in tables:
            lines += ["", f"### `{table.name}`", "", table.meaning, ""]
            lines += ["| column | kind | unit | required | blank ok | meaning |",
                      "|---|---|---|---|---|---|"]
            for c in table.columns:
                kind = c.kind + (f": {' / '.join(c.choices)}" if c.choices else "")
                if c.percent:
                    kind += ", %"
                if c.event:
                    kind += ", event"
                if c.minimum is not None:
                    kind += f", ≥ {c.minimum:g}"
                meaning = c.meaning + (" *PHI: never shown in messages.*" if c.phi else "")
                lines.append(
                    f"| `{c.name}` | {kind} | {c.unit} | {'yes' if c.required else 'no'} |"
                    f" {'yes' if c.blank_ok else 'no'} | {meaning} |"
                )
            rules = []
            if table.key:
                rules.append(f"One row per {', '.join(f'`{k}`' for k in table.key)}.")
            rules += [f"`{end}`, where given, is on or after `{start}`."
                      for start, end in table.date_ranges]
            rules += [f"Each row fills at least one of {' or '.join(f'`{c}`' for c in group)}."
                      for group in table.one_of]
            rules += list(table.notes)
            if rules:
                lines += ["", *(f"- {rule}" for rule in rules)]
    return "\n".join(lines) + "\n"


def _kinds_table() -> list[str]:
    doc = sys.modules[__name__].__doc__ or ""
    body = doc.split("Column kinds\n------------\n", 1)[1]
    rows, current = [], None
    for raw in body.splitlines():
        if raw.startswith("``"):
            name, _, text = raw.partition("``")[2].partition("``")
            current = [name, text.strip()]
            rows.append(current)
        elif raw.strip() and current is not None:
            current[1] += " " + raw.strip()
    return ["| kind | values |", "|---|---|", *(f"| `{n}` | {t} |" for n, t in rows)]


if __name__ == "__main__":
    sys.stdout.write(contracts_markdown())
