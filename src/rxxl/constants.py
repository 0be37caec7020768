"""Defaults and code lists shared by the metric modules, in one place.

Each value cites the section of ``shared/DOMAIN.md`` (and through it the published source)
that it comes from. Values marked *judgement* are rxxl's documented choices.
"""

# --- Calendar -------------------------------------------------------------------------------
#: Days in a year for annualizing and for XNPV/XIRR's actual/365 day count (Excel convention).
DAYS_IN_YEAR = 365

# --- Plausibility bounds on input data (issue 12; *judgement*) ----------------------------
#: Dates of events rxxl reads (a claim's service date, an encounter, an inventory count) are not
#: before this day. rxxl analyses current pharmacy finance and 340B compliance; no claims or
#: encounter export it reads reaches back before 2000, while the usual mis-reads land well
#: before it: days since 1970 read as an Excel serial put 2026-10-01 on 1956-09-29, and a year
#: typed as a serial (2026) would be 1905.
EARLIEST_EVENT_DATE = "2000-01-01"
#: ... and not more than this many days after today. A claim or count cannot lie in the future;
#: a month's margin covers a server clock or time zone a day off and a count dated at the coming
#: month end, while an Excel serial read as days since 1970 (46326: the year 2096) is far beyond.
EVENT_DATE_DAYS_AHEAD = 31
#: Largest absolute amount in dollars of one money cell (a budget line, a claim, a unit cost, a
#: cash flow). The largest US health systems spend about $7e10 a year in all, so no single line
#: reaches $1e11; an amount beyond it is a mis-typed or mis-read number, and refusing it keeps
#: totals finite (1e308 in two budget lines makes every total inf or NaN).
MAX_AMOUNT = 1e11
#: Largest absolute value of one quantity or volume cell (packages, billing units, patient
#: days, days supply): a billion units of one drug on one row is more than the whole US
#: dispenses of most drugs in a year.
MAX_QUANTITY = 1e9

# --- Bounds on input files (issue 13; *judgement*) -------------------------------------------
#: Rows of one sheet: Excel's own limit (1,048,576 = 2**20), so a sheet with more rows, or one
#: whose dimension claims more, was not written by Excel and is refused before it is read.
EXCEL_MAX_ROWS = 1_048_576
#: Total uncompressed size of the members of an .xlsx workbook. A full sheet of the claims
#: contract (1,048,576 rows of 27 cells, about 35 bytes of XML a cell) is about 1 GB of XML,
#: its shared strings another 0.1 GB: 4 GB leaves room for wider exports and inline strings,
#: while a zip bomb (a few MB inflating to many GB) is refused from the zip's directory before
#: anything is inflated.
MAX_XLSX_UNCOMPRESSED_BYTES = 4_000_000_000
#: Largest compression ratio (uncompressed / compressed size) of one workbook member: real
#: sheet XML deflates about 5-20 times; Apache POI, which reads most of the world's server-side
#: xlsx, refuses entries past 100 by default (``ZipSecureFile.setMinInflateRatio(0.01)``).
MAX_XLSX_COMPRESSION_RATIO = 100
#: Members smaller than this are not held to the ratio: a tiny member inflating 200 times
#: (a styles part of repeated tags) costs nothing.
XLSX_RATIO_CHECKED_FROM = 10_000_000
#: Longest column name read (a header cell). No contract column is longer than 30
#: characters, and database exports stay within their identifiers (SQL Server and Oracle:
#: 128, PostgreSQL: 63); a longer "name" is data in the header line (a 1.5 GB cell was once
#: shown in every missing-column message until memory ran out).
MAX_HEADER_CHARS = 255
#: Characters of one text cell: Excel's own limit (32,767). No field of rxxl's tables comes
#: near it, and no workbook rxxl writes could hold a longer one; such a value is a paste gone
#: wrong, refused when the table is read rather than cut short in a report.
MAX_CELL_CHARS = 32_767

# --- Budget variance (DOMAIN.md §1) ---------------------------------------------------------
#: First month of the fiscal year when none is set (``rxxl report --fiscal-year-start``, the
#: ribbon's FISCAL_YEAR_START): July, the fiscal year of most US health systems (and of
#: state fiscal years in 46 states); federal (October) and calendar-year (January)
#: organizations set theirs.
FISCAL_YEAR_START = 7
#: Line types whose favorable direction differs: on an expense line spending more is bad.
EXPENSE = "expense"
REVENUE = "revenue"
LINE_TYPES = (EXPENSE, REVENUE)
FAVORABLE = "F"
UNFAVORABLE = "U"
#: Materiality thresholds (*judgement*): a line is material when |variance| >= amount AND
#: |variance %| >= percent.
MATERIALITY_AMOUNT = 10_000.0
MATERIALITY_PERCENT = 0.05
#: Largest difference in dollars (*judgement*) between a GL drug line (actual or budget) and the
#: drug purchases that post to it (the cost center's locations, the drugs' budget_line) that
#: still counts as agreeing. The GL rounds each line to the cent while the purchases are a sum
#: of hundreds of invoice lines each rounded to the cent, so a few cents apart is rounding; a
#: dollar is far above any rounding and far below a missed invoice or a mis-mapped drug, which
#: would put the variance bridge off the line it explains.
RECONCILE_TOLERANCE = 1.00

# --- Generic dispensing (DOMAIN.md §2) ------------------------------------------------------
#: Medi-Span multi-source codes [resdac.org]: M/N/O count as brand, Y as generic.
MONY_BRAND = frozenset({"M", "N", "O"})
MONY_GENERIC = frozenset({"Y"})
#: Original brand with generics available: the generic switch opportunity.
MONY_MULTISOURCE_BRAND = "O"
MONY_CODES = MONY_BRAND | MONY_GENERIC
#: FDA marketing categories (NDC Directory spelling, compared case-insensitively).
#: An authorized generic is an NDA product sold as a generic (42 CFR 447.502).
FDA_GENERIC = frozenset({"ANDA", "NDA AUTHORIZED GENERIC"})
FDA_BRAND = frozenset({"NDA", "BLA"})
#: rxxl's own category for a 351(k) biosimilar: the NDC Directory files it under BLA, so the
#: caller marks it. Counted as brand in the GDR (CMS treats biosimilars mostly like brands,
#: *judgement*) and reported as its own rate.
FDA_BIOSIMILAR = "BIOSIMILAR"
#: The NDC Directory's other marketing categories (FDA Data Standards Manual, "Marketing
#: Category", and the NDC Directory's current names): "other", excluded from the GDR by
#: default, configurable. Text in none of the FDA lists is refused, not counted as other.
FDA_OTHER = frozenset({
    "OTC MONOGRAPH DRUG", "OTC MONOGRAPH FINAL", "OTC MONOGRAPH NOT FINAL",
    "UNAPPROVED DRUG OTHER", "UNAPPROVED DRUG FOR USE IN DRUG SHORTAGE",
    "UNAPPROVED HOMEOPATHIC", "UNAPPROVED MEDICAL GAS", "UNAPPROVED OTHER MARKETING CATEGORY",
    "EMERGENCY USE AUTHORIZATION", "EXPORT ONLY", "BULK INGREDIENT",
    "BULK INGREDIENT FOR HUMAN PRESCRIPTION COMPOUNDING", "DRUG FOR FURTHER PROCESSING", "IND",
})
GDR_BENCHMARK = 0.90  # about 90% of US prescriptions are generic (AAM/IQVIA 2017-2019)
#: A 30-day equivalent prescription: days supply / 30 (*judgement*, common practice).
DAYS_PER_30_DAY_EQUIVALENT = 30.0

# --- Inventory (DOMAIN.md §3) ---------------------------------------------------------------
TURNS_TARGET_LOW = 10.0
TURNS_TARGET_HIGH = 14.0
#: A location matters to the turns and days-on-hand KPIs when its average inventory of the
#: month is at least this share of all locations' (*judgement*, docs/kpi-rules.md): below it
#: even a doubling of the location's stock moves the system's inventory by less than the 5%
#: materiality percent of a budget line (DOMAIN.md §1), so it is not a summary-level item.
INVENTORY_LOCATION_SHARE = 0.05
#: A location's normal turns are taken from this many months before the report month
#: (*judgement*: a year, so every season counts once).
NORMAL_TURNS_MONTHS = 12
#: ... of which at least this many must have a figure; with fewer the location has no normal
#: of its own yet and is judged on the published band alone (*judgement*: half the year).
NORMAL_TURNS_MIN_MONTHS = 6
#: A location's turns are outside its normal when their modified z-score against those
#: months, 0.6745 x (turns - median) / MAD, is beyond this: Iglewicz and Hoaglin's outlier
#: cut-off (NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.5.17,
#: https://www.itl.nist.gov/div898/handbook/eda/section3/eda35h.htm).
NORMAL_TURNS_Z = 3.5

# --- Claim denials (DOMAIN.md §4) ----------------------------------------------------------
#: Initial denial rate a revenue cycle aims to stay under (benchmark "target < 5%").
DENIAL_RATE_TARGET = 0.05

# --- 340B registry reconciliation (DOMAIN.md §6; docs/340b-registry.md) ---------------------
#: A registration (entity, site or contract pharmacy) ending within this many days after the
#: reconciled period is on the recertification and termination watch (*judgement*). HRSA takes
#: new registrations and added sites only in four windows a year, each for the quarter after
#: next (January 1-15 for April 1, ...; hrsa.gov/opa/registration): a replacement
#: registration effective the day after an end date must be filed about 76-90 days before it.
#: 90 days therefore reaches one whole registration cycle ahead, the last moment to act.
REGISTRATION_WATCH_DAYS = 90

#: Tracer claims per 340B ID in an audit pack, and the seed of their draw (HRSA auditors
#: trace about ten).
TRACERS_PER_ENTITY = 10
TRACER_SEED = 340

# --- Return on investment (DOMAIN.md §5) ----------------------------------------------------
#: Discount rate for a capital request that names none (*judgement*: a typical hospital
#: hurdle rate; the report shows it as an input to change).
DEFAULT_DISCOUNT_RATE = 0.08
#: Excel's IRR/XIRR default guess.
IRR_GUESS = 0.1
#: Newton iterations before rxxl falls back to a bracketed search. Excel stops after 20 and
#: shows #NUM!; rxxl keeps looking for the root closest to the guess instead.
IRR_MAX_NEWTON_ITERATIONS = 50
#: Relative tolerance of the IRR/XIRR root: far below a basis point, as Excel's 0.00001%.
IRR_TOLERANCE = 1e-12
