"""The audit pack's workbook: one sheet per piece of evidence, each an Excel table.

Written with XlsxWriter (as the claim detail is). Every table is a real Excel table with a
filter, so an auditor sorts and filters it; totals are live SUBTOTAL formulas, and the Read me
figures are formulas on those totals, so what Excel or LibreOffice recalculates is what the
pack says. The claim universe is a CSV beside the workbook (a period's 340B claims can pass
Excel's million rows); the Universe sheet counts it by month and 340B ID.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_range_abs, xl_rowcol_to_cell

from rxxl import audit340b, exposure
from rxxl.accumulator import FINDING_NAMES
from rxxl.data.contracts import PAYER_TYPE_NAMES, SITE_TYPE_NAMES
from rxxl.exposure import EXPOSURE_KIND_NAMES
from rxxl.outputs import atomic_path, xlsx_text
from rxxl.reports import style

HEADER_ROW = 3
#: The CSV files of the pack, by table (the workbook holds all but the universe whole).
CSV_FILES = {
    "universe": "claim_universe.csv",
    "tracers": "tracers.csv",
    "findings": "findings_by_reason.csv",
    "exposure": "exposure_by_kind.csv",
    "savings": "savings_by_entity.csv",
    "registry": "registry_reconciliation.csv",
    "replenishment": "replenishment.csv",
    "accumulator": "accumulator.csv",
    "parameters": "parameters.csv",
}
TABLE_STYLE = "TableStyleLight1"
_EPOCH = np.datetime64("1899-12-30", "D")


@dataclass(frozen=True)
class Col:
    """A column of a pack table: the frame's key, its header, kind and width."""

    key: str
    header: str
    kind: str = "text"  # text, code, date, month, count, packages, quantity, money
    width: float = 14
    total: bool = False
    #: Words shown for the codes of the column (the CSVs keep the codes).
    names: dict[str, str] | None = None


FINDINGS = (
    Col("reason", "Reason code", "code", 30), Col("severity", "Severity", "code", 10),
    Col("description", "What it means", "text", 50),
    Col("claims", "Claims", "count", 9, total=True),
    Col("dollars_at_risk", "Dollars at stake", "money", 14, total=True),
    Col("exposure_kind", "Exposure kind", "text", 17, names=EXPOSURE_KIND_NAMES),
    Col("exposure_claims", "Claims attributed", "count", 10, total=True),
    Col("exposure_dollars", "Exposure", "money", 14, total=True),
    Col("upper_bound_dollars", "Of which upper bound", "money", 14, total=True),
)
EXPOSURE = (
    Col("kind", "Exposure kind", "text", 18, names=EXPOSURE_KIND_NAMES),
    Col("text", "What the finding costs", "text", 70),
    Col("claims", "Claims", "count", 10, total=True),
    Col("exposure_dollars", "Exposure", "money", 16, total=True),
    Col("upper_bound_dollars", "Of which upper bound", "money", 16, total=True),
    Col("claims_without_dollars", "Claims without costs", "count", 12, total=True),
)
SAVINGS = (
    Col("entity_id", "340B ID", "code", 12), Col("entity_name", "Covered entity", "text", 26),
    Col("claims_340b", "340B claims", "count", 11, total=True),
    Col("gross_savings", "Gross savings", "money", 15, total=True),
    Col("dispensing_fees", "Contract pharmacy dispensing fees", "money", 15, total=True),
    Col("tpa_fees", "TPA fees", "money", 13, total=True),
    Col("savings_reversed", "Savings reversed (violations)", "money", 15, total=True),
    Col("net_savings", "Net savings", "money", 15, total=True),
    Col("savings_under_review", "Under review", "money", 13, total=True),
    Col("upper_bound_savings", "Priced at WAC (upper bound)", "money", 15, total=True),
    Col("claims_without_fees", "Claims without fees", "count", 11, total=True),
)
TRACERS = (
    Col("entity_id", "340B ID", "code", 12), Col("claim_id", "Claim", "code", 14),
    Col("service_date", "Service date", "date", 11), Col("patient_id", "Patient", "code", 11),
    Col("ndc", "NDC", "code", 12), Col("drug_name", "Drug", "text", 26),
    Col("quantity", "Quantity", "quantity", 9), Col("site_id", "Site", "code", 12),
    Col("site_registration", "Site registration on the date", "text", 26),
    Col("encounter_date", "Qualifying encounter", "date", 11),
    Col("encounter_site_id", "Encounter site", "code", 12),
    Col("prescriber_npi", "Prescriber NPI", "code", 12),
    Col("prescriber_eligibility", "Prescriber eligibility on the date", "text", 24),
    Col("account", "Account", "code", 8),
    Col("purchase_record", "Purchase record", "text", 40),
    Col("accumulator", "Accumulator (NDC, location, month)", "text", 40),
    Col("payer_type", "Payer type", "code", 16, names=PAYER_TYPE_NAMES),
    Col("billing_npi", "Billing NPI", "code", 12),
    Col("medicaid_status", "Medicaid status and MEF listing", "text", 40),
    Col("status", "Finding", "code", 10), Col("description", "Reasons", "text", 40),
    Col("dollars_at_risk", "Dollars at stake", "money", 12, total=True),
)
REGISTRY = (
    Col("reason", "Reason code", "code", 24), Col("reason_text", "What it means", "text", 44),
    Col("detail", "Detail", "text", 44), Col("entity_id", "340B ID", "code", 12),
    Col("site_id", "Site", "code", 12),
    Col("site_type", "Site type", "code", 15, names=SITE_TYPE_NAMES),
    Col("registered_entity_id", "Registered to", "code", 12),
    Col("month", "Month", "code", 9), Col("claims", "Claims", "count", 9, total=True),
    Col("dollars_at_risk", "Dollars at stake", "money", 14, total=True),
    Col("start_date", "Registration start", "date", 11),
    Col("end_date", "Registration end", "date", 11),
)
REPLENISHMENT = (
    Col("month", "Month", "code", 9), Col("location", "Location", "code", 12),
    Col("ndc", "NDC", "code", 12),
    Col("finding", "Finding", "code", 17, names=FINDING_NAMES),
    Col("packages_due", "340B packages due", "packages", 10),
    Col("packages_bought", "340B packages bought", "packages", 10),
    Col("difference", "Bought less due", "packages", 10),
    Col("cumulative_difference", "Bought less due, period to date", "packages", 12),
    Col("units_carried", "Units carried", "quantity", 10),
    Col("exposure_dollars", "Diversion exposure", "money", 14, total=True),
    Col("savings_left_behind", "Savings left behind", "money", 14, total=True),
)
UNIVERSE = (
    Col("month", "Month", "month", 10), Col("entity_id", "340B ID", "code", 12),
    Col("claims", "340B claims", "count", 12, total=True),
    Col("violations", "Violations", "count", 11, total=True),
    Col("review", "For review", "count", 11, total=True),
    Col("dollars_at_risk", "Dollars at stake (340B claims)", "money", 16, total=True),
)
PARAMETERS = (Col("parameter", "Parameter", "text", 34), Col("value", "Value", "text", 120))


def write_pack_workbook(pack, path: Path) -> Path:
    """Write the pack's workbook to ``path`` (atomically)."""
    with atomic_path(path) as temporary:
        book = xlsxwriter.Workbook(str(temporary), {"strings_to_formulas": False,
                                                     "strings_to_urls": False,
                                                     "nan_inf_to_errors": False})
        formats = _formats(book)
        readme = book.add_worksheet("Read me")
        placed = {}
        sheets = (
            ("Findings", "Findings by reason", "Claims with each finding (340B claims, and GPO"
             " and carve-in claims off 340B), once per reason; dollars at stake = quantity x"
             " (WAC - 340B cost).", FINDINGS, pack.findings, "Findings"),
            ("Exposure", "Exposure by kind", "What the findings cost: manufacturer repayment,"
             " Medicaid rebate, regulatory, missed savings, billing correction; each claim"
             " once, under the reason that costs most (docs/340b-exposure.md).", EXPOSURE,
             pack.exposure, "Exposure"),
            ("Savings", "340B savings, gross and net", "Gross: units x (WAC or GPO price - 340B"
             " cost) on 340B claims; net of contract pharmacy and TPA fees and of the savings"
             " reversed on violating claims (docs/340b-exposure.md).", SAVINGS, pack.savings,
             "Savings"),
            ("Tracers", "Tracer sample", "Each claim traced: site registration, qualifying"
             " encounter, prescriber, purchase and accumulator, Medicaid billing.", TRACERS,
             pack.tracers, "Tracers"),
            ("Registry", "Registry reconciliation (OPAIS against activity)", "Stale"
             " registrations, unregistered activity, wrong entity, registration changes"
             " (docs/340b-registry.md).", REGISTRY, pack.registry, "Registry"),
            ("Replenishment", "Split-billing accumulator against 340B purchases", "340B months"
             " where packages bought and packages eligible use made due part, largest dollars"
             " first; every month of every NDC, location and account is in replenishment.csv,"
             " the running balance in accumulator.csv.", REPLENISHMENT,
             _replenishment_findings(pack.replenishment), "Replenishment"),
            ("Universe", "Claim universe by month and 340B ID", f"Every 340B claim of the"
             f" period, one row each, is in claim_universe.csv ({pack.universe_rows:,} rows).",
             UNIVERSE, pack.universe_counts, "Universe"),
            ("Parameters", "How this pack was made", "Policy, rule version, masking, tracer"
             " draw and each reference table's date and rows.", PARAMETERS, pack.parameters,
             "Parameters"),
        )
        # The pack holds PHI when unmasked and is confidential either way: every page says so.
        footer = f"&L{style.FOOTER_LEFT}: 340B audit pack {pack.first} to {pack.last}, confidential"
        for name, title, subtitle, columns, frame, table in sheets:
            sheet = book.add_worksheet(name)
            placed[name] = _write_table(sheet, formats, title, subtitle, columns, frame, table)
            _print_setup(sheet, columns, f"{footer}&C{name}&R{style.FOOTER_PAGES}")
        # A tracer's row prints across pages: its 340B ID and claim on each.
        book.get_worksheet_by_name("Tracers").repeat_columns(0, 1)
        book.get_worksheet_by_name("Tracers").freeze_panes(HEADER_ROW + 1, 2)
        _write_readme(readme, formats, pack, placed, footer)
        book.close()
    return path


def universe_counts(universe: pd.DataFrame) -> pd.DataFrame:
    """The universe's claims, violations, claims for review and dollars at stake per month
    and 340B ID."""
    if universe.empty:
        return pd.DataFrame(columns=[c.key for c in UNIVERSE])
    status = universe["audit_status"].astype(str)
    dates = pd.to_datetime(universe["service_date"])
    keys = pd.DataFrame({"month": dates.dt.to_period("M").dt.to_timestamp(),
                         "entity_id": universe["entity_id"].astype(object).fillna("(unknown)"),
                         "claims": 1, "violations": (status == audit340b.VIOLATION).astype(int),
                         "review": (status == audit340b.REVIEW).astype(int),
                         "dollars_at_risk": universe["dollars_at_risk"].fillna(0.0)})
    return keys.groupby(["month", "entity_id"], as_index=False).sum()


def _replenishment_findings(replenished: pd.DataFrame) -> pd.DataFrame:
    if replenished.empty or "finding" not in replenished:
        return pd.DataFrame(columns=[c.key for c in REPLENISHMENT])
    found = replenished[replenished["finding"].notna()]
    dollars = found["exposure_dollars"].fillna(0) + found["savings_left_behind"].fillna(0)
    return found.iloc[np.argsort(-dollars.to_numpy(), kind="stable")].reset_index(drop=True)


def _formats(book) -> dict:
    return {
        "title": book.add_format({"bold": True, "font_size": 14,
                                  "font_color": f"#{style.HEADER_FILL}"}),
        "subtitle": book.add_format({"italic": True, "font_color": f"#{style.NOTE_FONT}",
                                     "text_wrap": False}),
        "header": book.add_format({"bold": True, "font_color": f"#{style.HEADER_FONT}",
                                   "bg_color": f"#{style.HEADER_FILL}", "pattern": 1,
                                   "text_wrap": True, "valign": "vcenter", "align": "center",
                                   "bottom": 1, "bottom_color": "#808080"}),
        "text": book.add_format({"indent": 1, "text_wrap": True, "valign": "top"}),
        "code": book.add_format({"indent": 1, "valign": "top"}),
        # Centred: a date right against the next column's code reads as one string.
        "date": book.add_format({"num_format": style.DATE, "valign": "top", "align": "center"}),
        "month": book.add_format({"num_format": style.MONTH, "valign": "top",
                                  "align": "center"}),
        "count": book.add_format({"num_format": style.TALLY, "valign": "top"}),
        # Whole packages; units to the hundredth (0.1 mL doses), never a trailing dot.
        "packages": book.add_format({"num_format": style.TALLY, "valign": "top"}),
        "quantity": book.add_format({"num_format": "#,##0.00", "valign": "top"}),
        "money": book.add_format({"num_format": style.DOLLARS_CENTS, "valign": "top"}),
        "label": book.add_format({"bold": True, "valign": "top"}),
        "total_label": book.add_format({"bold": True, "top": 1}),
        "total_count": book.add_format({"bold": True, "top": 1, "num_format": style.TALLY}),
        "total_money": book.add_format({"bold": True, "top": 1,
                                        "num_format": style.DOLLARS_CENTS}),
        "plain": book.add_format({"indent": 1, "text_wrap": True, "valign": "top"}),
    }


def _cell_values(frame: pd.DataFrame, column: Col) -> list:
    """The column's values as cells: dates as Excel serials, text escaped, missing as
    blank."""
    if column.key not in frame:
        return [None] * len(frame)
    values = frame[column.key]
    if column.kind in ("date", "month"):
        days = pd.to_datetime(values).to_numpy(dtype="datetime64[D]")
        serial = (days - _EPOCH).astype(float)
        return [None if np.isnat(d) else s for d, s in zip(days, serial, strict=True)]
    if column.names is not None:
        values = values.astype(object).map(lambda code: column.names.get(code, code)
                                           if isinstance(code, str) else code)
    if column.kind in ("count", "packages", "quantity", "money"):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return [None if not np.isfinite(v) else float(v) for v in numbers]
    return [None if pd.isna(v) else xlsx_text(str(v))
            for v in values.to_numpy(dtype=object, na_value=None)]


def _write_table(sheet, formats: dict, title: str, subtitle: str, columns: tuple[Col, ...],
                 frame: pd.DataFrame, name: str) -> dict:
    """The title, subtitle and table; returns where the table's totals are."""
    sheet.write_string(0, 0, title, formats["title"])
    sheet.write_string(1, 0, subtitle, formats["subtitle"])
    for number, column in enumerate(columns):
        sheet.set_column(number, number, column.width, formats[column.kind])
    lines = max(style.header_lines(column.header, column.width) for column in columns)
    sheet.set_row(HEADER_ROW, max(30, style.header_height(lines)))
    headers = [column.header for column in columns]
    rows = len(frame)
    has_totals = any(column.total for column in columns) and rows > 0
    if rows == 0:
        sheet.write_row(HEADER_ROW, 0, headers, formats["header"])
        sheet.write_string(HEADER_ROW + 1, 0, "None in the period.", formats["subtitle"])
        return {"rows": 0, "totals": {}}
    data = [_cell_values(frame, column) for column in columns]
    last = HEADER_ROW + rows
    sheet.add_table(HEADER_ROW, 0, last, len(columns) - 1, {
        "name": name, "style": TABLE_STYLE,
        "columns": [{"header": column.header, "format": formats[column.kind],
                     "header_format": formats["header"]} for column in columns],
        "data": [list(cells) for cells in zip(*data, strict=True)]})
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.ignore_errors({"number_stored_as_text": f"A{HEADER_ROW + 2}:"
                         f"{xl_rowcol_to_cell(last, len(columns) - 1)}"})
    totals = {}
    if has_totals:
        # Below the table, not its total row: SUBTOTAL over the column's cells (of the rows a
        # filter shows) reads the same in Excel and LibreOffice, which does not resolve a
        # total row's structured references ([Claims]) in a file it opens.
        total_row = last + 1
        sheet.write_string(total_row, 0, "Total", formats["total_label"])
        for index, column in enumerate(columns):
            if not column.total:
                continue
            cells = f"{xl_rowcol_to_cell(HEADER_ROW + 1, index)}:{xl_rowcol_to_cell(last, index)}"
            # The value Excel computes, cached for readers that do not recalculate.
            value = float(np.nansum(np.array([np.nan if v is None else v
                                              for v in data[index]], dtype=float)))
            sheet.write_formula(total_row, index, f"=SUBTOTAL(109,{cells})",
                                formats[f"total_{column.kind}"], value)
            totals[column.key] = (xl_rowcol_to_cell(total_row, index, row_abs=True,
                                                    col_abs=True), value)
    _fit_rows(sheet, columns, data)
    return {"rows": rows, "totals": totals}


def _fit_rows(sheet, columns: tuple[Col, ...], data: list[list]) -> None:
    """Rows tall enough for their wrapped text (Excel does not grow a row written with its
    height unset when the file is opened, nor does LibreOffice's print)."""
    lines = np.ones(len(data[0]), dtype=int)
    for column, values in zip(columns, data, strict=True):
        if column.kind != "text":
            continue
        texts = pd.Series(values, dtype=object).fillna("")
        counted = {text: style.text_lines(text, column.width) for text in texts.unique()}
        lines = np.maximum(lines, texts.map(counted).to_numpy(dtype=int))
    for offset in np.flatnonzero(lines > 1):
        sheet.set_row(HEADER_ROW + 1 + int(offset), style.text_height(int(lines[offset])))


def _print_setup(sheet, columns: tuple[Col, ...], footer: str) -> None:
    sheet.set_landscape()
    sheet.set_paper(style.PAPER_SIZE)
    points = sum(style.column_points(column.width) for column in columns)
    sheet.fit_to_pages(style.pages_wide(points), 0)
    sheet.set_margins(**{side: style.MARGINS[side] for side in ("left", "right", "top",
                                                                "bottom")})
    sheet.repeat_rows(HEADER_ROW)
    sheet.set_footer(footer, {"margin": style.MARGINS["footer"]})


def _write_readme(sheet, formats: dict, pack, placed: dict, footer: str) -> None:
    """The cover: what the pack is, the figures at a glance (formulas on the sheets'
    totals), the files, and the notes."""
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, 2, 80)
    sheet.write_string(0, 0, f"340B audit pack: {pack.first} to {pack.last}", formats["title"])
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    sheet.write_string(1, 0, f"{style.STAMP_WORD} {stamp} by rxxl from the data folder's"
                       " claims and 340B reference tables. Patient identifiers are masked"
                       " unless the Parameters sheet says otherwise.", formats["subtitle"])
    row = HEADER_ROW
    sheet.write_row(row, 0, ["At a glance", "Figure", "Where"], formats["header"])

    def total(sheet_name: str, key: str) -> tuple[str, float] | None:
        if key not in placed[sheet_name]["totals"]:
            return None
        cell, value = placed[sheet_name]["totals"][key]
        return f"='{sheet_name}'!{cell}", value

    def count(sheet_name: str, column: str) -> tuple[str, float] | None:
        rows = placed[sheet_name]["rows"]
        if not rows:
            return None
        return (f"=COUNTA('{sheet_name}'!{column}{HEADER_ROW + 2}:{column}"
                f"{HEADER_ROW + 1 + rows})", rows)

    def owed() -> tuple[str, float] | None:
        """Repayment and rebate exposure: money owed back, apart from risk and savings."""
        rows = placed["Exposure"]["rows"]
        if not rows:
            return None
        keys = [column.key for column in EXPOSURE]
        kinds, dollars = ("'Exposure'!" + xl_range_abs(HEADER_ROW + 1, keys.index(key),
                                                       HEADER_ROW + rows, keys.index(key))
                          for key in ("kind", "exposure_dollars"))
        names = [EXPOSURE_KIND_NAMES[exposure.REPAYMENT], EXPOSURE_KIND_NAMES[exposure.REBATE]]
        value = float(pack.exposure.loc[pack.exposure["kind"].isin(
            [exposure.REPAYMENT, exposure.REBATE]), "exposure_dollars"].sum())
        return "=" + "+".join(f'SUMIF({kinds},"{name}",{dollars})' for name in names), value

    glance = [
        ("340B claims in the universe", total("Universe", "claims"), "count",
         "claim_universe.csv, one row per claim; counted by month on Universe"),
        ("340B claims with a violation", total("Universe", "violations"), "count",
         "Universe (a claim once, whatever its number of reasons)"),
        ("340B claims for review", total("Universe", "review"), "count",
         "Universe; Findings also lists the claims off 340B flagged for review"),
        ("Dollars at stake (audit findings)", total("Findings", "dollars_at_risk"), "money",
         "Findings, by reason: a claim with two reasons counts under both, and GPO and"
         " carve-in claims off 340B are in"),
        ("Exposure (what the findings cost)", total("Exposure", "exposure_dollars"), "money",
         "Exposure, by kind, each claim once: money owed, regulatory risk and missed savings"
         " together"),
        ("  of which owed back", owed(), "money",
         "Exposure: manufacturer repayment and Medicaid rebate, the kinds paid back"),
        ("Gross 340B savings", total("Savings", "gross_savings"), "money", "Savings"),
        ("Net 340B savings", total("Savings", "net_savings"), "money",
         "Savings: gross less fees and the savings reversed on violating claims"),
        ("Tracer claims", count("Tracers", "B"), "count", "Tracers, each traced end to end"),
        ("Registry findings", count("Registry", "A"), "count", "Registry"),
        ("Diversion exposure (over-replenished 340B)", total("Replenishment",
                                                             "exposure_dollars"), "money",
         "Replenishment"),
        ("340B savings left behind (under-replenished)", total("Replenishment",
                                                               "savings_left_behind"),
         "money", "Replenishment"),
    ]
    for label, formula, kind, where in glance:
        row += 1
        sheet.write_string(row, 0, label, formats["label"])
        if formula is None:
            sheet.write_number(row, 1, 0, formats[kind])
        else:
            sheet.write_formula(row, 1, formula[0], formats[kind], formula[1])
        sheet.write_string(row, 2, where, formats["plain"])
        if style.text_lines(where, 80) > 1:
            sheet.set_row(row, style.text_height(style.text_lines(where, 80)))
    row += 2
    sheet.write_row(row, 0, ["File in this folder", "Rows", "What it holds"], formats["header"])
    about = {
        "universe": "every 340B claim of the period with HRSA's universe fields and the"
                    " audit's finding",
        "tracers": "the tracer sample (as the Tracers sheet)",
        "findings": "findings by reason (as the Findings sheet)",
        "exposure": "exposure by kind (as the Exposure sheet)",
        "savings": "340B savings gross and net by 340B ID (as the Savings sheet)",
        "registry": "registry reconciliation (as the Registry sheet)",
        "replenishment": "packages due against bought, every NDC, location, account and month",
        "accumulator": "the accumulator's running balance per NDC, location, account and month",
        "parameters": "how the pack was made (as the Parameters sheet)",
    }
    for table, name in CSV_FILES.items():
        row += 1
        sheet.write_string(row, 0, name)
        rows = pack.universe_rows if table == "universe" else len(getattr(pack, table))
        sheet.write_number(row, 1, rows, formats["count"])
        sheet.write_string(row, 2, about[table], formats["plain"])
    if pack.notes:
        row += 2
        sheet.write_string(row, 0, "Data notes", formats["label"])
        for note in pack.notes:
            row += 1
            # Across the three columns: a note is a sentence, not a cell of the table.
            sheet.merge_range(row, 0, row, 2, xlsx_text(note), formats["plain"])
            sheet.set_row(row, style.text_height(style.text_lines(note, 40 + 18 + 80)))
    sheet.set_portrait()
    sheet.set_paper(style.PAPER_SIZE)
    sheet.fit_to_pages(1, 0)
    sheet.set_footer(f"{footer}&CRead me&R{style.FOOTER_PAGES}",
                     {"margin": style.MARGINS["footer"]})
