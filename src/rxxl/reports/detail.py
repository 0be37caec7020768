"""Workbook 2 of the monthly package: ``340B claim detail — <Month YYYY>``.

Every claim with a finding (or, on request, every claim) with the fields an auditor asks for,
patient identifiers masked (on request claim ids and prescribers too, and dates coarsened to
the month), the finding, its reason codes in words and the dollars at stake;
an Excel table with filters, a frozen header, print-ready, in the house style of
:mod:`rxxl.reports.style`.

The workbook is new (no template), and with a million claims it is the package's largest, so
it is written with XlsxWriter in ``constant_memory`` mode: rows stream to disk one at a time,
cells hold plain values (no formulas, so every reader sees the same numbers without
calculating), and the time is within a few percent of XlsxWriter writing the bare cells
(``bench/bench_report_writer.py``). The data are prepared column by column in blocks of
rows, so memory stays bounded whatever the month's size.

Safety, as for every rxxl output: the file is written beside the target and renamed into
place (a failed run leaves an earlier file untouched and no temporary files); XlsxWriter's row
files are kept in a private scratch folder outside the reports folder
(:func:`rxxl.outputs.scratch_folder`); text from the data is always written as text, never as
a formula, number or link.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_range

from rxxl.audit340b import COMPLIANT, REASON_TEXT, purchase_records
from rxxl.errors import InputError
from rxxl.outputs import EXCEL_MAX_DATA_ROWS, atomic_path, scratch_folder, xlsx_text
from rxxl.reports import style

__all__ = ["DetailSummary", "masked_identifiers", "masking_note", "shown", "write_claim_detail"]

#: An unchecked claim (a denied pharmacy claim) is not "compliant": it was never looked at.
NOT_CHECKED = "not checked"

#: Rows above the header: title, subtitle, note.
HEADER_ROW = 3
#: Data rows on one sheet; more go on continuation sheets with the same header.
ROWS_PER_SHEET = EXCEL_MAX_DATA_ROWS - HEADER_ROW
#: Rows prepared at a time: large enough that the per-column NumPy work is cheap, small
#: enough that the Python values of one block (about 1 KB a row) stay a few tens of MB.
BLOCK_ROWS = 50_000

SHEET_NAME = "Claim detail"
#: The sheet of the audit's parameters: look-back, months, rule version, reference data dates.
PARAMETERS_SHEET = "Audit parameters"
TABLE_NAME = "ClaimDetail"
TABLE_STYLE = "TableStyleLight1"
#: Excel's date serial 0; serials count days from here (1900 leap-year bug included).
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
#: Row height in pixels for the house font size (Excel's own for Calibri 10).
_ROW_HEIGHT_PX = 17
#: A quantity with decimals (e.g. 2.5 mL) must not be shown rounded to a whole unit.
QUANTITY_DECIMALS = '#,##0.000;(#,##0.000);"–"'

_CLAIM_COLUMNS = ("claim_id", "service_date", "ndc", "drug_name", "quantity", "patient_id",
                  "prescriber_npi", "billing_npi", "site_id", "patient_status", "payer",
                  "payer_type", "account")
_AUDIT_COLUMNS = ("claim_id", "entity_id", "checked", "status", "reasons", "dollars_at_risk",
                  "encounter_date", "encounter_site_id")


@dataclass(frozen=True)
class _Column:
    header: str
    kind: str  # text, date, month, quantity or money: how values are converted and formatted
    width: float


def _columns(mask_patients: bool, deidentify: bool) -> list[_Column]:
    widths = style.WIDTHS
    return [
        _Column("Claim (masked)" if deidentify else "Claim ID", "text", 16),
        _Column("Service month", "month", widths["date"]) if deidentify else
        _Column("Service date", "date", widths["date"]),
        _Column("340B ID", "text", widths["code"]),
        _Column("Site", "text", widths["code"] + 2),
        _Column("Patient (masked)" if mask_patients else "Patient ID", "text",
                widths["code"] + 2),
        _Column("Prescriber (masked)" if deidentify else "Prescriber NPI", "text",
                widths["code"] + 2),
        _Column("Billing NPI", "text", widths["code"]),
        _Column("NDC", "text", widths["code"]),
        _Column("Drug", "text", widths["label"]),
        _Column("Quantity (billing units)", "quantity", widths["number"]),
        _Column("Payer", "text", 28),
        _Column("Payer type", "text", widths["code"] + 2),
        _Column("Account", "text", widths["flag"] + 2),
        _Column("Patient status", "text", widths["code"]),
        _Column("Modifiers", "text", widths["flag"] + 2),
        _Column("Encounter month" if deidentify else "Qualifying encounter date",
                "month" if deidentify else "date", widths["date"] + 2),
        _Column("Qualifying encounter site", "text", widths["code"] + 2),
        _Column("Purchase record (NDC × location × account × month)", "text", 70),
        _Column("Finding", "text", widths["code"]),
        _Column("Reasons", "text", widths["label"]),
        _Column("What the reasons mean", "text", 70),
        _Column("Dollars at risk ($)", "money", widths["number"]),
    ]


@dataclass(frozen=True)
class DetailSummary:
    """What :func:`write_claim_detail` wrote.

    Attributes
    ----------
    path : Path
        The workbook.
    rows : int
        Claims written (data rows over all sheets).
    claims : int
        Claims considered (the length of the input).
    sheets : tuple of str
        Sheet names, in order; more than one only past Excel's row limit.
    masked : bool
        Whether patient identifiers were replaced by pseudonyms.
    deidentified : bool
        Whether claim ids and prescribers were replaced by pseudonyms and service dates
        coarsened to the month as well.
    seconds : float
        Wall-clock time of the call.
    """

    path: Path
    rows: int
    claims: int
    sheets: tuple[str, ...]
    masked: bool
    seconds: float
    deidentified: bool = False


def write_claim_detail(
    claims: pd.DataFrame,
    audit: pd.DataFrame,
    path: str | Path,
    month: str,
    *,
    all_claims: bool = False,
    mask_patients: bool = True,
    deidentify: bool = False,
    organization: str | None = None,
    purchases: pd.DataFrame | None = None,
    parameters: pd.DataFrame | None = None,
) -> DetailSummary:
    """Write the ``340B claim detail`` workbook of a month.

    Parameters
    ----------
    claims : DataFrame
        The month's claims, as ``rxxl.data.load_table(..., "claims")`` loads them.
    audit : DataFrame
        ``rxxl.audit340b.audit_claims(claims, reference)``: one row per claim, same order.
    path : str or Path
        The ``.xlsx`` file to write; an earlier file there is replaced only on success.
    month : str
        The month reported, ``YYYY-MM``; it names the workbook's title (claims are not
        filtered by it).
    all_claims : bool
        Write every claim, not only those with a finding (status other than compliant).
    mask_patients : bool
        Replace each patient identifier by a pseudonym (``PT-000001``, numbered in order of
        first appearance in the month's claims: :func:`masked_identifiers`), so the same
        patient reads the same within the file and in the package's tracer sample, and the
        MRN is not in it. This protects the MRN only: the claim id, service date,
        prescriber and site are kept (a 340B coordinator traces a claim back to the source
        system by them), and anyone holding the claims extract finds each row, and so its
        patient, by them. False writes the identifiers as they are.
    deidentify : bool
        For sharing outside the covered entity: also replace claim ids (``CL-000001``) and
        prescriber NPIs (``PR-000001``) by pseudonyms of the month's reports (the same
        prescriber reads the same) and show each service date as its month. Drug, quantity,
        payer, site and billing NPI stay, so a holder of the extract may still match a row
        whose combination of them is unique in a month: this is not HIPAA Safe Harbor
        de-identification (which also removes months); share the file under a data use
        agreement. Requires ``mask_patients``.
    organization : str, optional
        Shown in the subtitle and the document properties.
    purchases : DataFrame, optional
        ``drug_purchases`` as loaded: each claim's purchase record
        (:func:`rxxl.audit340b.purchase_records`); without it the column says so.
    parameters : DataFrame, optional
        ``parameter`` and ``value`` rows (``rxxl.reports.figures.audit_parameters``): the
        look-back window, months audited, rule version, masking and reference data dates,
        written on the sheet ``Audit parameters``.

    Returns
    -------
    DetailSummary
        The path, rows and sheets written, and the time taken.

    Raises
    ------
    InputError
        A bad month or path, columns missing, or an audit that is not the claims'.

    Notes
    -----
    One sheet holds up to ``ROWS_PER_SHEET`` claims (Excel's 1,048,576 rows less the title
    and header rows); past that the claims continue on ``Claim detail 2``, ... with the same
    header. Columns: claim ID, service date (an Excel date), the claim's 340B ID (as the audit
    resolved it), site, patient, prescriber and billing NPI, NDC, drug, quantity, payer, payer
    type, account, patient status, modifiers, the qualifying encounter (date and site of the
    patient's latest encounter that made the claim the entity's, as the audit found it), the
    purchase record (the ``drug_purchases`` lines that replenished it), finding
    (``violation``, ``review``, ``compliant``, or ``not checked`` for a denied pharmacy
    claim), reason codes, what they mean, and dollars at risk (blank where a cost is
    unknown). Claims keep the input's order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rxxl.data import load_reference, load_table
    >>> from rxxl.data.synthetic import generate
    >>> from rxxl.audit340b import audit_claims
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = generate(folder / "sample")
    >>> claims = load_table(folder / "sample" / "claims" / "2026-10.parquet", "claims")
    >>> audit = audit_claims(claims, load_reference(folder / "sample"))
    >>> summary = write_claim_detail(claims, audit, folder / "detail.xlsx", "2026-10")
    >>> summary.sheets, summary.rows == int((audit["status"] != "compliant").sum())
    (('Claim detail',), True)
    """
    start = time.perf_counter()
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"{path}: the claim detail is an .xlsx workbook; name it *.xlsx")
    month_name = _month_name(month)
    title = f"340B claim detail — {month_name}"
    if deidentify and not mask_patients:
        raise InputError("deidentify masks the patients too; drop --unmask-patients (or"
                         " mask_patients=False) to write a de-identified detail")
    _check_inputs(claims, audit)

    chosen = None if all_claims else np.flatnonzero(
        (audit["status"] != COMPLIANT).to_numpy(dtype=bool, na_value=True))
    rows = len(claims) if chosen is None else len(chosen)
    prepared = _Prepared(claims, audit, chosen, mask_patients, deidentify, purchases)
    columns = _columns(mask_patients, deidentify)
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    which = f"every claim: {rows:,}" if all_claims else (
        f"claims with findings: {rows:,} of {len(claims):,}")
    masking = masking_note(mask_patients, deidentify)
    subtitle = " · ".join(part for part in (organization, which, f"generated {stamp}", masking)
                          if part)

    footer = style.packed_footer(" · ".join(part for part in (organization, month_name)
                                            if part), stamp)
    blocks = range(0, max(rows, 1), ROWS_PER_SHEET)
    sheets = tuple(SHEET_NAME if i == 0 else f"{SHEET_NAME} {i + 1}" for i in range(len(blocks)))
    with atomic_path(path) as temporary, scratch_folder() as scratch:
        book = xlsxwriter.Workbook(str(temporary), {
            "constant_memory": True,
            # Data text stays text: never a formula, a number or a link.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            # XlsxWriter's row files (every cell, patient ids too) go to a private folder
            # outside the reports folder, removed after the run (a killed run's by the next).
            "tmpdir": scratch,
            "default_format_properties": {"font_name": style.FONT_NAME,
                                          "font_size": style.FONT_SIZE},
            "default_row_height": _ROW_HEIGHT_PX,
        })
        book.set_properties({
            "title": title, "subject": "340B compliance", "author": "rxxl",
            # XlsxWriter escapes control characters in cells, not in document properties.
            "company": xlsx_text(organization or ""), "comments": f"{which}; {masking}",
        })
        formats = _formats(book, prepared.whole_quantities)
        for number, (name, first) in enumerate(zip(sheets, blocks, strict=True)):
            last = min(first + ROWS_PER_SHEET, rows)
            heading = title if number == 0 else f"{title} (continued)"
            note = ("Dollars at risk = quantity × (WAC − 340B unit cost) on claims with a "
                    "finding; blank where a cost is unknown. Look-back, rule version and "
                    f"reference data dates: sheet '{PARAMETERS_SHEET}'.")
            if len(sheets) > 1:
                note = f"Claims {first + 1:,} to {last:,} of {rows:,}. {note}"
            sheet = book.add_worksheet(name)
            _lay_out(sheet, formats, columns, heading, subtitle, note, footer)
            table = TABLE_NAME if number == 0 else f"{TABLE_NAME}{number + 1}"
            _write_rows(sheet, formats, columns, prepared, first, last, table,
                        f"No claims with findings in {month_name}.")
        _write_parameters(book.add_worksheet(PARAMETERS_SHEET), formats, parameters,
                          f"{title}: audit parameters", " · ".join(
                              part for part in (organization, f"generated {stamp}") if part),
                          footer)
        book.close()
    return DetailSummary(path=path, rows=rows, claims=len(claims), sheets=sheets,
                         masked=mask_patients, seconds=time.perf_counter() - start,
                         deidentified=deidentify)


def masking_note(mask_patients: bool, deidentify: bool, *, brief: bool = False) -> str:
    """What the subtitle says the masking protects, and what it does not (``brief``: in a
    line of the audit parameters)."""
    if brief:
        return ("de-identified: patient, claim and prescriber IDs masked, dates as months;"
                " share under a data use agreement" if deidentify else
                "patient IDs masked (PT- numbers of this month's reports); claim ID, date,"
                " prescriber and site remain: still PHI" if mask_patients else
                "patient IDs NOT masked: protected health information")
    if deidentify:
        return ("de-identified for sharing: patient, claim and prescriber IDs masked"
                " (numbers for this month's reports only), service dates shown as the month;"
                " drug, quantity, payer and site remain, so share under a data use agreement")
    if mask_patients:
        return ("patient IDs masked (PT- numbers for this month's reports only); the claim ID,"
                " service date, prescriber and site still identify each claim, and its patient, to"
                " anyone holding the claims data: still protected health information")
    return "patient identifiers NOT masked: protected health information"


def _month_name(month: str) -> str:
    found = re.fullmatch(r"(\d{4})-(\d{2})", str(month).strip())
    if not found or not 1 <= int(found[2]) <= 12:
        raise InputError(f"month: expected YYYY-MM, e.g. 2026-10 (got {month!r})")
    return dt.date(int(found[1]), int(found[2]), 1).strftime("%B %Y")


def _check_inputs(claims: pd.DataFrame, audit: pd.DataFrame) -> None:
    for frame, needed, what in ((claims, _CLAIM_COLUMNS, "claims"),
                                (audit, _AUDIT_COLUMNS, "audit")):
        missing = [name for name in needed if name not in frame.columns]
        if missing:
            raise InputError(f"{what}: columns missing: {', '.join(missing)}; load claims with"
                             " rxxl.data.load_table and audit them with"
                             " rxxl.audit340b.audit_claims")
    if len(claims) != len(audit):
        raise InputError(f"audit: {len(audit):,} rows for {len(claims):,} claims; pass the"
                         " result of audit_claims on these claims")
    same = (claims["claim_id"].to_numpy(dtype=object, na_value=None)
            == audit["claim_id"].to_numpy(dtype=object, na_value=None))
    if not np.all(same):
        raise InputError(f"audit: row {int(np.argmin(same)) + 1:,} is not the same claim as the"
                         " claims' row; pass the result of audit_claims on these claims, in"
                         " their order")


class _Prepared:
    """The report's columns for the chosen claims, as Python values block by block.

    Whole-file work is done once (the patient pseudonyms must be consistent across blocks;
    findings and reason texts are labelled once per distinct value); everything else is
    converted a block at a time, so that at most one block's Python objects exist at once.
    """

    def __init__(self, claims: pd.DataFrame, audit: pd.DataFrame, chosen: np.ndarray | None,
                 mask_patients: bool, deidentify: bool = False,
                 purchases: pd.DataFrame | None = None) -> None:
        def pick(series):
            if isinstance(series, tuple):  # (codes, labels): pick the codes
                codes, labels = series
                return series if chosen is None else (codes[chosen], labels)
            return series if chosen is None else series.iloc[chosen]

        modifiers = claims["modifiers"] if "modifiers" in claims.columns else pd.Series(
            pd.NA, index=claims.index, dtype="string")
        masked = masked_identifiers(claims, mask_patients, deidentify, audit)
        claim, service, patient, prescriber, encounter = (pick(masked[key]) for key in (
            "claim_id", "service_date", "patient_id", "prescriber_npi", "encounter_date"))
        # Labelled per distinct NDC, account, month and site of the rows written only.
        records = purchase_records(claims if chosen is None else claims.iloc[chosen], purchases)
        quantity = pick(claims["quantity"])
        whole = quantity.to_numpy(dtype=float, na_value=0.0) % 1 == 0
        self.whole_quantities = bool(whole.all())
        reason_codes, reasons = pd.factorize(pick(audit["reasons"]).fillna(""))
        listed = [str(text).split(";") if text else [] for text in reasons]
        # In the order of the report's columns: a Series converted block by block, or
        # (codes, labels) for values labelled once.
        self.columns = [
            claim, service, pick(audit["entity_id"]), pick(claims["site_id"]), patient,
            prescriber,
            pick(claims["billing_npi"]), pick(claims["ndc"]), pick(claims["drug_name"]),
            quantity, pick(claims["payer"]), pick(claims["payer_type"]),
            pick(claims["account"]), pick(claims["patient_status"]), pick(modifiers),
            encounter, pick(audit["encounter_site_id"]), records,
            _finding(pick(audit["status"]), pick(audit["checked"])),
            (reason_codes, _labels([";".join(codes) or None for codes in listed])),
            (reason_codes, _labels(["; ".join(REASON_TEXT.get(code, code) for code in codes)
                                    or None for codes in listed])),
            pick(audit["dollars_at_risk"]),
        ]

    def block(self, kinds: list[str], first: int, last: int) -> list[list]:
        """Rows ``first`` to ``last - 1``: one list per column, of the given kinds."""
        values = []
        for kind, column in zip(kinds, self.columns, strict=True):
            if isinstance(column, tuple):
                codes, labels = column
                values.append(labels[codes[first:last]].tolist())
            elif kind in ("date", "month"):
                values.append(_excel_dates(column.iloc[first:last]))
            elif kind == "text":
                values.append(_texts(column.iloc[first:last]))
            else:
                values.append(_numbers(column.iloc[first:last].to_numpy(dtype=float,
                                                                         na_value=np.nan)))
        return values


def masked_identifiers(claims: pd.DataFrame, mask_patients: bool = True,
                       deidentify: bool = False, audit: pd.DataFrame | None = None) -> dict:
    """The claims' identifying columns as the month's 340B reports show them.

    One masking for the claim detail and the package's tracer sample: pseudonyms are
    numbered in order of first appearance in the month's claims (all of them, whichever
    rows a report shows), so a patient reads the same in both workbooks of the month.

    Parameters
    ----------
    claims : DataFrame
        The month's claims (``claim_id``, ``service_date``, ``patient_id``,
        ``prescriber_npi``).
    mask_patients, deidentify : bool
        As :func:`write_claim_detail` takes them.
    audit : DataFrame, optional
        The claims' audit: its ``encounter_date`` is coarsened to the month as the service
        date is when de-identifying.

    Returns
    -------
    dict
        ``claim_id``, ``service_date``, ``patient_id``, ``prescriber_npi`` (and
        ``encounter_date`` with ``audit``), row for row with ``claims``: each a Series, or a
        pseudonymized column as ``(codes, labels)`` (:func:`shown` reads either).
    """
    masked: dict = {key: claims[key] for key in ("claim_id", "service_date", "patient_id",
                                                 "prescriber_npi")}
    if audit is not None:
        masked["encounter_date"] = audit["encounter_date"]
    if mask_patients:
        masked["patient_id"] = _pseudonyms(claims["patient_id"], "PT")
    if deidentify:
        masked["claim_id"] = _pseudonyms(claims["claim_id"], "CL")
        masked["prescriber_npi"] = _pseudonyms(claims["prescriber_npi"], "PR")
        for key in ("service_date", "encounter_date"):
            if key in masked:
                masked[key] = masked[key].dt.to_period("M").dt.to_timestamp()
    return masked


def shown(column, rows: np.ndarray) -> np.ndarray:
    """The values of ``rows`` (positions) of a :func:`masked_identifiers` column."""
    if isinstance(column, tuple):
        codes, labels = column
        return labels[codes[rows]]
    return column.iloc[rows].to_numpy(dtype=object, na_value=None)


def _pseudonyms(values: pd.Series, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """``PREFIX-000001``, ... numbered in order of first appearance: the same value, the same
    pseudonym; a missing value stays blank. All the values at once, so pseudonyms run on
    across blocks and sheets."""
    codes, uniques = pd.factorize(values)
    return codes, _labels([f"{prefix}-{i:06d}" for i in range(1, len(uniques) + 1)])


class Pseudonyms:
    """Pseudonyms numbered in order of first appearance over several blocks of values (the
    audit pack's months): ``PREFIX-000001``, ..., as :func:`_pseudonyms` numbers one block.

    >>> names = Pseudonyms("PT")
    >>> names.of(pd.Series(["b", "a", "b"])).tolist(), names.of(pd.Series(["c", "a"])).tolist()
    (['PT-000001', 'PT-000002', 'PT-000001'], ['PT-000003', 'PT-000002'])
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.seen = pd.Index([], dtype=object)

    def of(self, values: pd.Series) -> np.ndarray:
        # The block's distinct values in order of first appearance, looked up once each.
        local, distinct = pd.factorize(values)
        distinct = pd.Index(np.asarray(distinct, dtype=object))
        numbers = self.seen.get_indexer(distinct)
        new = numbers < 0
        if new.any():
            numbers[new] = len(self.seen) + np.arange(int(new.sum()))
            self.seen = self.seen.append(distinct[new])
        labels = np.array([f"{self.prefix}-{number + 1:06d}" for number in numbers] + [None],
                          dtype=object)
        return labels[local]


def _labels(texts: list[str | None]) -> np.ndarray:
    # One slot more for code -1 (a missing value), which then indexes None.
    return np.array([*texts, None], dtype=object)


def _finding(status: pd.Series, checked: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, names = pd.factorize(status.astype("string"))
    unchecked = ~checked.to_numpy(dtype=bool, na_value=False)
    return np.where(unchecked, len(names), codes), _labels([*map(str, names), NOT_CHECKED])


def _texts(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Index the categories by code instead of making a string object per cell.
        labels = _labels(list(series.cat.categories.astype(str)))
        return labels[series.cat.codes.to_numpy()].tolist()
    return series.to_numpy(dtype=object, na_value=None).tolist()


def _numbers(values: np.ndarray) -> list:
    blank = np.isnan(values)
    if not blank.any():
        return values.tolist()
    cells = values.astype(object)
    cells[blank] = None
    return cells.tolist()


def _excel_dates(series: pd.Series) -> list:
    # A serial number with a date format is what Excel stores for a date; converting here
    # in NumPy is much cheaper than handing XlsxWriter a datetime per cell.
    days = series.to_numpy(dtype="datetime64[D]")
    serial = (days - _EXCEL_EPOCH).astype(float)
    serial[np.isnat(days)] = np.nan
    return _numbers(serial)


def _formats(book: xlsxwriter.Workbook, whole_quantities: bool) -> dict:
    return {
        "title": book.add_format({"bold": True, "font_size": 14,
                                  "font_color": f"#{style.HEADER_FILL}"}),
        "subtitle": book.add_format({"italic": True, "font_color": f"#{style.NOTE_FONT}"}),
        "header": book.add_format({
            "bold": True, "font_color": f"#{style.HEADER_FONT}",
            "bg_color": f"#{style.HEADER_FILL}", "pattern": 1, "text_wrap": True,
            "valign": "vcenter", "align": "center", "bottom": 1,
            "bottom_color": "#808080"}),  # the thin grey rule of style.named_styles
        # Indented, so a code never runs into the right-aligned date or number before it.
        "text": book.add_format({"indent": 1}),
        "date": book.add_format({"num_format": style.DATE}),
        "month": book.add_format({"num_format": style.MONTH}),
        "quantity": book.add_format(
            {"num_format": style.COUNT if whole_quantities else QUANTITY_DECIMALS}),
        "money": book.add_format({"num_format": style.DOLLARS_CENTS}),
    }


def _lay_out(sheet, formats: dict, columns: list[_Column], heading: str, subtitle: str,
             note: str, footer: str) -> None:
    """Everything but the data: titles, widths and cell formats, panes, print setup."""
    sheet.write_string(0, 0, heading, formats["title"])
    sheet.write_string(1, 0, subtitle, formats["subtitle"])
    sheet.write_string(2, 0, note, formats["subtitle"])
    for number, column in enumerate(columns):
        # A column's format is written into every cell of it that has none of its own, so
        # the data rows need no per-cell formats (XlsxWriter's write_row takes only one).
        sheet.set_column(number, number, column.width, formats[column.kind])
    # Tall enough for the longest wrapped header (the header-height lint); at least 30 pt.
    lines = max(style.header_lines(column.header, column.width) for column in columns)
    sheet.set_row(HEADER_ROW, max(30, style.header_height(lines)))
    sheet.freeze_panes(HEADER_ROW + 1, 1)
    sheet.set_landscape()
    sheet.set_paper(style.PAPER_SIZE)
    # As many pages wide as keep the print legible (style.TARGET_PRINT_SCALE), the header
    # row on every page.
    points = sum(style.column_points(column.width) for column in columns)
    sheet.fit_to_pages(style.pages_wide(points), 0)
    sheet.set_margins(**{side: style.MARGINS[side] for side in ("left", "right", "top",
                                                                "bottom")})
    sheet.repeat_rows(HEADER_ROW)
    sheet.set_footer(footer, {"margin": style.MARGINS["footer"]})


def _write_rows(sheet, formats: dict, columns: list[_Column], prepared: _Prepared, first: int,
                last: int, table: str, empty: str) -> None:
    headers = [column.header for column in columns]
    if last > first:
        _add_table(sheet, HEADER_ROW + last - first, headers, table)
    sheet.write_row(HEADER_ROW, 0, headers, formats["header"])
    if last == first:
        sheet.write_string(HEADER_ROW + 1, 0, empty, formats["subtitle"])
        return
    # Identifiers (NPIs, NDCs) are text made of digits; without this Excel flags each cell
    # "number stored as text".
    sheet.ignore_errors({"number_stored_as_text": xl_range(
        HEADER_ROW + 1, 0, HEADER_ROW + last - first, len(columns) - 1)})
    kinds = [column.kind for column in columns]
    write_row = sheet.write_row
    row = HEADER_ROW + 1
    for start in range(first, last, BLOCK_ROWS):
        block = prepared.block(kinds, start, min(start + BLOCK_ROWS, last))
        for cells in zip(*block, strict=True):
            # Non-zero when a cell could not be written (text past Excel's 32,767
            # characters): the rest of the row would be missing, so stop rather than
            # leave a silently incomplete row.
            if write_row(row, 0, cells):
                raise InputError(f"claim detail row {row + 1:,}: a cell could not be written"
                                 " (text longer than Excel's 32,767 characters?)")
            row += 1


def _write_parameters(sheet, formats: dict, parameters: pd.DataFrame | None, heading: str,
                      subtitle: str, footer: str) -> None:
    """The audit's parameters, as the package's 340B sheet lists them: what an auditor asks
    first (look-back, months, rule version, masking, reference data dates)."""
    sheet.write_string(0, 0, heading, formats["title"])
    sheet.write_string(1, 0, subtitle, formats["subtitle"])
    sheet.set_column(0, 0, style.WIDTHS["label"])
    sheet.set_column(1, 1, 110)
    sheet.write_row(HEADER_ROW, 0, ["Parameter", "Value"], formats["header"])
    sheet.set_row(HEADER_ROW, 30)
    rows = [] if parameters is None else list(zip(
        parameters["parameter"].astype(str), parameters["value"].astype(str), strict=True))
    if not rows:
        sheet.write_string(HEADER_ROW + 1, 0, "No audit parameters were given.",
                           formats["subtitle"])
    for offset, cells in enumerate(rows, start=1):
        sheet.write_row(HEADER_ROW + offset, 0, cells)
    sheet.set_landscape()
    sheet.set_paper(style.PAPER_SIZE)
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(**{side: style.MARGINS[side] for side in ("left", "right", "top",
                                                                "bottom")})
    sheet.set_footer(footer, {"margin": style.MARGINS["footer"]})


def _add_table(sheet, last_row: int, headers: list[str], name: str) -> None:
    """An Excel table over the header and data rows, declared before the rows stream out.

    XlsxWriter refuses ``add_table`` in constant_memory mode (and would visit every cell of
    the range to check overlaps). The table part is only written at close, from the ranges
    recorded here, so it is declared over the header and one row with streaming briefly
    off, then widened to the data. The header cells it stores are written again, streamed,
    by the caller; ``tests/test_report_detail.py`` checks the table's range on read-back.
    """
    sheet.constant_memory = False
    try:
        failed = sheet.add_table(HEADER_ROW, 0, HEADER_ROW + 1, len(headers) - 1, {
            "name": name, "style": TABLE_STYLE, "autofilter": True,
            "columns": [{"header": header} for header in headers],
        })
    finally:
        sheet.constant_memory = True
    if failed:
        raise RuntimeError(f"XlsxWriter refused the table {name} (code {failed})")
    full = xl_range(HEADER_ROW, 0, last_row, len(headers) - 1)
    sheet.tables[-1].update({"range": full, "a_range": full, "autofilter": full})
