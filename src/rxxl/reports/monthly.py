"""``rxxl report``: the monthly pharmacy finance package, filled from data into the template.

Two workbooks per month (``shared/REPORT.md``): ``Pharmacy Finance YYYY-MM.xlsx`` from the
template and ``340B claim detail YYYY-MM.xlsx``. Both are written to a staging folder in the
output folder first and renamed into place as a pair only when both are complete, so a failed,
stopped or killed run leaves earlier output as it was; the template is only read. One run at a
time writes to an output folder (a lock file), and each run removes the staging folders that
killed runs left.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import quote_sheetname
from openpyxl.utils.cell import range_boundaries

from rxxl import __version__
from rxxl.audit340b import REASON_TEXT
from rxxl.constants import (
    MATERIALITY_AMOUNT,
    MATERIALITY_PERCENT,
)
from rxxl.errors import InputError
from rxxl.reports import budget_model, checks, figures, kpis, narrative, style
from rxxl.reports.capital import fill_capital
from rxxl.reports.checks import detail_exceptions
from rxxl.reports.commentary import Sentence
from rxxl.reports.delivery import (
    STAGING_PREFIX,
    check_output_folder,
    locked_output,
    put_in_place,
    remove_stale_staging,
)
from rxxl.reports.denials_sheet import fill_denials
from rxxl.reports.detail import QUANTITY_DECIMALS, write_claim_detail
from rxxl.reports.dictionary import dictionary_table
from rxxl.reports.inputs import Inputs, listed_codes, load_inputs
from rxxl.reports.templates import (
    COMMENTARY,
    COMMENTARY_ROWS,
    SHEETS,
    TEMPLATE_FILE,
    build_template,
    check_template,
    fill_table,
    table_keys,
)
from rxxl.reports.workbook import (
    Filled,
    Filler,
    Formula,
    finish_printing,
    keep_charts_off_tables,
    save,
)


@dataclass(frozen=True)
class ReportSummary:
    """One workbook written: its path, a one-line summary and (the package) the month's
    commentary, each sentence with the figures it prints and their cells."""

    path: Path
    line: str
    commentary: tuple[Sentence, ...] = ()


def package_name(month: pd.Period) -> str:
    return f"Pharmacy Finance {month}.xlsx"


def detail_name(month: pd.Period) -> str:
    return f"340B claim detail {month}.xlsx"


def build_report(data_dir: str | os.PathLike, month: str, out_dir: str | os.PathLike, *,
                 templates: str | os.PathLike | None = None, mask_patients: bool = True,
                 all_claims: bool = False, fiscal_year_start: int | str | None = None,
                 progress: Callable[[str], None] | None = None,
                 deidentify: bool = False) -> list[ReportSummary]:
    """Load ``data_dir``, compute the package of ``month`` and write both workbooks to
    ``out_dir``. Returns a summary per workbook. ``fiscal_year_start`` is the first month of
    the fiscal year (1-12 or a month name; default :data:`~rxxl.constants.FISCAL_YEAR_START`,
    July).

    The output folder is locked while the run writes (a second run into it is refused with
    :class:`~rxxl.locking.FolderBusy`), must not be the data or templates folder nor inside a
    folder of input parts, and receives the two workbooks as a pair
    (:func:`~rxxl.reports.delivery.put_in_place`): a claim detail of the month that this run
    does not produce (a month without claims) is removed, so the folder never pairs a new
    package with an old detail. ``mask_patients``, ``deidentify`` and ``all_claims`` are the
    claim detail's (:func:`rxxl.reports.detail.write_claim_detail`)."""
    step = progress or (lambda _: None)
    first_month = figures.parse_fiscal_year_start(fiscal_year_start)
    if templates is not None:
        # A wrong, damaged or stripped template fails before minutes of loading.
        check_template(template_file(templates))
    out = Path(out_dir)
    check_output_folder(Path(data_dir), out, templates)
    with locked_output(out):
        remove_stale_staging(out)
        started = time.perf_counter()
        inputs = load_inputs(Path(data_dir), month, progress=step)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        try:
            step("computing the package")
            book = load_workbook(template_file(templates, built_in=staging))
            filler = Filler(book)
            facts = _fill_package(filler, inputs, first_month, mask_patients=mask_patients,
                                  deidentify=deidentify)
            package = staging / package_name(inputs.month)
            step("writing the package workbook")
            save(filler, package)
            summaries = [ReportSummary(out / package.name, (
                f"{package.name}: {facts['checks_failed']} checks fail, spend "
                f"{_money(facts['spend'])} vs budget {_money(facts['budget'])}, "
                f"{facts['flagged']} payer-month{'' if facts['flagged'] == 1 else 's'} out of"
                " control"),
                tuple(facts["commentary"]))]
            detail = staging / detail_name(inputs.month)
            if "audit" in facts:
                step("writing the 340B claim detail workbook")
                written = write_claim_detail(inputs.claims, facts["audit"], detail,
                                             str(inputs.month), all_claims=all_claims,
                                             mask_patients=mask_patients,
                                             deidentify=deidentify,
                                             organization=_organization(inputs),
                                             purchases=inputs.tables["drug_purchases"],
                                             parameters=facts["audit_parameters"])
                masking = (" (de-identified)" if written.deidentified else
                           " (patients masked)" if written.masked else "")
                summaries.append(ReportSummary(out / detail.name, (
                    f"{detail.name}: {written.rows:,} of {written.claims:,} claims{masking}")))
            put_in_place([staging / s.path.name for s in summaries], out,
                          [] if "audit" in facts else [out / detail.name], staging / "earlier")
            step(f"done in {time.perf_counter() - started:.1f} s")
            return summaries
        except OSError as exc:
            # To the user a staged file (or a backup) is the workbook of its name in --out.
            names = [name for name in (exc.filename2, exc.filename) if name is not None]
            if any(Path(os.fsdecode(name)).is_relative_to(staging) for name in names):
                raise type(exc)(exc.errno, exc.strerror,
                                os.fspath(out / Path(os.fsdecode(names[0])).name)) from exc
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def template_file(templates: str | os.PathLike | None, *,
                  built_in: str | os.PathLike | None = None) -> Path:
    """The package template: ``TEMPLATE_FILE`` in the folder ``templates``, or, when that is
    None, the built-in template freshly built into the folder ``built_in`` (built each time,
    in a tenth of a second, so an upgraded rxxl never fills an old layout)."""
    if templates is None:
        if built_in is None:
            raise InputError("no templates folder and no folder to build the built-in"
                             " template in")
        return build_template(Path(built_in) / TEMPLATE_FILE)
    path = Path(templates) / TEMPLATE_FILE
    if not path.exists():
        raise InputError(f"{path}: no template there; run `rxxl templates build --out "
                         f"{templates}` or drop --templates to use the built-in one")
    return path


def _money(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"${value:,.0f}"


def _organization(inputs: Inputs) -> str:
    entity = (inputs.reference or {}).get("entity")
    if entity is not None and "entity_name" in entity and entity["entity_name"].notna().any():
        return str(entity.loc[entity["entity_name"].notna(), "entity_name"].iloc[0])
    return inputs.folder.resolve().name


# --- Filling the package --------------------------------------------------------------------


def _fill_package(filler: Filler, inputs: Inputs, fiscal_year_start: int, *,
                  mask_patients: bool = True, deidentify: bool = False) -> dict:
    # The tracer sample masks patients as the claim detail does.
    masking = {"mask_patients": mask_patients, "deidentify": deidentify}
    facts: dict = {}
    notes = list(inputs.notes)
    cells: dict[str, Filled] = {}

    def fill(table: str, frame: pd.DataFrame | None) -> Filled:
        cells[table] = fill_table(filler, table, frame)
        return cells[table]

    budget, centers = figures.budget(inputs, fiscal_year_start)
    if inputs.tables["budget_lines"] is not None:
        notes.extend(_budget_notes(inputs, budget, fiscal_year_start))
    fill("materiality", pd.DataFrame({"amount": [MATERIALITY_AMOUNT],
                                      "percent": [MATERIALITY_PERCENT]}))
    fill("budget", budget)
    budget_model.line_formulas(filler, cells["budget"], budget)
    fiscal_year = _fiscal_year_text(inputs.month, fiscal_year_start)
    _caption(filler, "budget", "Budget lines", f"Budget lines: {inputs.month} and {fiscal_year}")
    budget_model.cost_center_formulas(filler, fill("budget_by_cost_center", centers),
                                      cells["budget"], centers)
    cells["budget_totals"] = budget_model.type_totals(filler, cells["budget"], budget)
    spend = figures.spend_by_month(inputs)
    fill("spend_by_month", spend)
    found = figures.drivers(inputs)
    drivers = found.lines
    notes.extend(found.notes)
    if drivers.empty and inputs.tables["drug_purchases"] is not None:
        notes.append(f"No drug purchases in {inputs.month}: the Drivers sheet is empty.")
    fill("drivers", drivers)
    fill("bridge", found.bridge if len(drivers) else None)
    fill("largest_drivers", found.largest if len(found.largest) else None)
    fill("reconciliation", found.reconciliation if len(found.reconciliation) else None)
    for name, frame in (("drivers_by_location", found.by_location),
                        ("drivers_by_drug", found.by_drug)):
        fill(name, frame if len(frame) else None)
        # Each links to the purchase lines it adds up (largest variance first there too).
        filler.link(cells[name], table_keys(name)[0], [filler.location("drivers")] * len(frame))
    generic = figures.generic_figures(inputs)
    for name in ("gdr_by_month", "generic_measures", "gdr_by_site", "gdr_by_payer",
                 "opportunity"):
        fill(name, generic.get(name))
    stock = figures.inventory_figures(inputs)
    fill("inventory", stock)
    fill("inventory_band", pd.DataFrame(narrative.INVENTORY_BAND,
                                        columns=["measure", "low", "high"]))
    if stock.empty:
        notes.append(f"No inventory snapshots for {inputs.month}: turns and days on hand are"
                     " not shown.")
    denial = figures.denial_figures(inputs)
    fill_denials(filler, denial, fill)
    audit = figures.audit_figures(inputs, **masking)
    for name in ("audit_parameters", "exceptions_by_month", "exceptions_by_reason",
                 "exceptions_by_site", "exceptions_by_entity", "tracer_sample"):
        fill(name, _months_as_dates(audit.get(name)) if name == "exceptions_by_month"
             else audit.get(name))
    _format_tracer(filler, cells["tracer_sample"], audit.get("tracer_sample"), **masking)
    fill_capital(filler, inputs.tables["capital_requests"])

    # Row labels are then positions on the sheet, which the findings' links point to.
    month_trend = denial.get("denial_trend", pd.DataFrame()).reset_index(drop=True)
    this_month = month_trend[month_trend["month"] == str(inputs.month)] if len(
        month_trend) else month_trend
    facts["flagged"] = int(this_month["out_of_control"].sum()) if len(this_month) else 0
    days = kpis.adjusted_patient_days(inputs)
    tiles = kpis.kpi_table(inputs, spend, generic, stock, audit, days=days)
    # The Detail cell names the sheet and, for a band KPI, where it is outside its band.
    fill("kpis", pd.DataFrame(
        [{**row, "detail": ": ".join([filler.table(tile.detail)[0].title,
                                      *(["; ".join(tile.outside)] if tile.outside else [])])}
         for row, tile in zip(_kpi_rows(tiles), tiles, strict=True)]))
    filler.link(cells["kpis"], "detail", [filler.location(tile.detail) for tile in tiles])
    _format_kpis(filler, cells["kpis"], tiles)
    findings = _findings(audit, cells, this_month, denial.get("denial_grid"))
    filler.link(fill("findings", findings), "text", findings["where"].tolist())

    facts["spend"] = float(spend["actual"].iloc[-1]) if len(spend) else np.nan
    facts["budget"] = float(spend["budget"].iloc[-1]) if len(spend) else np.nan
    # The checks refer to Cover cells before the Cover is filled (it shows their count).
    filler.reserve("cover", len(COVER_ITEMS))
    facts["checks_failed"] = checks.fill_checks(
        filler, inputs, cells, budget=budget, spend=spend, found=found, generic=generic,
        denial=denial, audit=audit, tiles=tiles, stock=stock, days=days,
        cover_detail=_cover_cell(filler, COVER_DETAIL))
    if "audit" in audit:
        facts["audit"] = audit["audit"]
        facts["audit_parameters"] = audit["audit_parameters"]
    notes.extend(_template_formula_note(filler))
    # One stamp for the Cover's "Generated" and every page's footer.
    generated = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    cells["cover"] = _fill_cover(filler, inputs, notes, facts["checks_failed"], fiscal_year,
                                 cells["budget"], generated, audit.get("audit"))
    keep_charts_off_tables(filler.book)
    finish_printing(filler.book, stamp=generated, footer_left=(
        f"{_organization(inputs)} · {inputs.month.strftime('%B %Y')}"))
    month_facts = narrative.month_facts(
        inputs.month, cells, tiles, found, stock, denial, audit,
        (_drug_lines_not_closed(inputs), cells["cover"].cell("value", COVER_NOT_CLOSED)),
        inputs.claims)
    facts["commentary"] = narrative.commentary(month_facts, max_sentences=COMMENTARY_ROWS)
    _write_commentary(filler, facts["commentary"])
    fill_table(filler, "dictionary", dictionary_table())
    return facts


#: Findings the Summary shows, of the three 340B reasons and three denial movers.
TOP_FINDINGS = 5
def _months_as_dates(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """A table's ``month`` (YYYY-MM) as the month's first day, shown "Oct 2026" like every
    month column of the package (style.MONTH)."""
    if frame is None or "month" not in frame:
        return frame
    return frame.assign(month=pd.PeriodIndex(frame["month"], freq="M").to_timestamp())


def _budget_notes(inputs: Inputs, budget: pd.DataFrame, fiscal_year_start: int) -> list[str]:
    """Data notes on the budget lines: a month without lines, lines not closed, lines of the
    fiscal year without a row this month, earlier months of the fiscal year not closed."""
    month = inputs.month
    if budget.empty:
        return [f"No budget lines for {month} or its fiscal year to date: the Budget sheet is"
                " empty."]
    notes = []
    if (budget["status"] == figures.NO_ROW).all():
        notes.append(f"No budget lines for {month}: the Budget sheet shows the fiscal year to"
                     " date only.")
    open_lines = figures.not_closed(inputs)
    if len(open_lines):
        drugs = figures.is_drug_line(open_lines["line"]).any()
        notes.append(
            f"{_count(len(open_lines), 'budget line')} not closed for {month}:"
            f" {_names(open_lines)}; their budget ({_money(open_lines['budget'].sum())}) is"
            f" left out of the variances{' and the drug spend' if drugs else ''}")
    missing = budget[budget["status"] == figures.NO_ROW]
    if len(missing) and len(missing) < len(budget):
        one = len(missing) == 1
        notes.append(
            f"{_count(len(missing), 'budget line')} {'has' if one else 'have'} no row for"
            f" {month} but {'has' if one else 'have'} one earlier in the fiscal year:"
            f" {_names(missing)}; {'it shows' if one else 'they show'} the fiscal year to date"
            " only")
    earlier = [(m, figures.not_closed(inputs, m))
               for m in figures.fiscal_year_months(month, fiscal_year_start)[:-1]]
    earlier = [(m, rows) for m, rows in earlier if len(rows)]
    if earlier:
        count = sum(len(rows) for _, rows in earlier)
        notes.append(
            f"{_count(count, 'budget line')} of earlier months of the fiscal year"
            f" {'is' if count == 1 else 'are'} not closed ("
            + "; ".join(f"{m}: {_names(rows)}" for m, rows in earlier)
            + "): the fiscal year to date leaves those months out")
    return notes


def _names(lines: pd.DataFrame) -> str:
    return listed_codes((lines["cost_center"].astype(str) + " / " + lines["line"].astype(str))
                        .tolist(), sort=False, where=" (the Status column of the Budget sheet)")


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _fiscal_year_text(month: pd.Period, fiscal_year_start: int) -> str:
    first = figures.fiscal_year_months(month, fiscal_year_start)[0]
    return (f"FYTD from {first} (fiscal year starts in"
            f" {calendar.month_name[fiscal_year_start]})")


def _caption(filler: Filler, table: str, template_text: str, text: str) -> None:
    """Write ``text`` into the caption cell above table ``table``, where the template has
    its caption ``template_text`` (a caption a finance team rewrote stays theirs)."""
    sheet, found = filler.table(table)
    first_col, header_row, _, _ = range_boundaries(found.ref)
    if header_row > 1:
        cell = sheet.cell(header_row - 1, first_col)
        if cell.value in (None, template_text):
            cell.value = text


#: A KPI's figures are shown in its unit's format: rows of one column hold $, %, x and days.
_KPI_FORMATS = {"$": style.DOLLARS, "%": style.PERCENT, "x": style.RATIO, "days": style.DAYS,
                "count": style.COUNT}
_KPI_FIGURES = ("actual", "budget", "variance", "prior_year")


def _format_kpis(filler: Filler, cells: Filled, tiles: list[kpis.Kpi]) -> None:
    """Each tile's figures in its unit; a rate's variance in percentage points ("-17.7 pts",
    :func:`_kpi_rows`), not as a percent."""
    sheet = filler.book[cells.sheet]
    for index, tile in enumerate(tiles):
        for key in _KPI_FIGURES:
            cell = sheet.cell(cells.first_row + index, cells.columns[key])
            cell.number_format = (style.POINTS if key == "variance" and tile.unit == "%"
                                  else _KPI_FORMATS.get(tile.unit, style.RATIO))


def _kpi_rows(tiles: list[kpis.Kpi]) -> list[dict]:
    """The tiles as the KPI table's rows, a rate's variance in points (x 100: 0.9 - 0.723 is
    -17.7 pts)."""
    rows = [tile.row() for tile in tiles]
    for row, tile in zip(rows, tiles, strict=True):
        if tile.unit == "%":
            row["variance"] *= 100
    return rows


def _findings(audit: dict, cells: dict[str, Filled], this_month: pd.DataFrame,
              grid: pd.DataFrame | None = None) -> pd.DataFrame:
    """The summary's top compliance findings and denial movers in words, largest exposure
    first (a 340B reason's dollars at stake, a payer's denied dollars of the month), each
    with the location of its row on the detail sheet (a mover's row of the Denials grid)."""
    rows = []
    reasons = audit.get("exceptions_by_reason")
    if reasons is not None and len(reasons):
        top = reasons.sort_values("dollars_at_risk", ascending=False).head(3)
        for position, row in zip(reasons.index.get_indexer(top.index), top.itertuples(),
                                 strict=True):
            # The dollars are in the Exposure column; the code is on the 340B sheet.
            rows.append(("340B", f"{REASON_TEXT.get(row.reason, row.reason)}:"
                                 f" {row.claims:,} claims",
                         cells["exceptions_by_reason"].cell("reason", int(position),
                                                            absolute=False),
                         float(row.dollars_at_risk)))
    if len(this_month):
        movers = this_month.dropna(subset=["mom_change"]).sort_values(
            "mom_change", ascending=False).head(3)
        # A mover links to its payer's row of the Denials grid (its months and shading).
        grid = grid if grid is not None else pd.DataFrame({"payer": []})
        at = dict(zip(grid["payer"], range(len(grid)), strict=True))
        for label, row in zip(movers.index, movers.itertuples(), strict=True):
            rows.append(("Denials", f"{row.payer}: {row.denial_rate:.1%} denied,"
                                    f" {row.mom_change * 100:+.1f} pts on the prior month"
                                    f"{' (out of control)' if row.out_of_control else ''}",
                         cells["denial_grid"].cell("payer", at[row.payer], absolute=False)
                         if row.payer in at else
                         cells["denial_trend"].cell("payer", int(label), absolute=False),
                         float(row.denied_dollars)))
    # Ranked by what is at stake: 340B dollars at stake, a payer's denied dollars.
    frame = pd.DataFrame(rows, columns=["kind", "text", "where", "exposure"])
    frame = frame.sort_values("exposure", ascending=False, kind="stable")
    return frame.head(TOP_FINDINGS).reset_index(drop=True)


#: The tracer sample's patient header when ``--unmask-patients`` shows the ids themselves.
UNMASKED_PATIENT = "Patient ID (not masked)"


def _format_tracer(filler: Filler, cells: Filled, tracer: pd.DataFrame | None, *,
                   mask_patients: bool, deidentify: bool) -> None:
    """Quantities with decimals (2.5 mL) shown with them; de-identified dates as months; the
    patient column's header says when the patients are not masked."""
    if tracer is None or not len(tracer):
        return
    sheet = filler.book[cells.sheet]
    if not mask_patients:
        _, table = filler.table("tracer_sample")
        offset = list(cells.columns).index("patient_id")
        table.tableColumns[offset].name = UNMASKED_PATIENT
        sheet.cell(cells.first_row - 1, cells.columns["patient_id"]).value = UNMASKED_PATIENT
    formats = {}
    if (tracer["quantity"].fillna(0) % 1 != 0).any():
        formats["quantity"] = QUANTITY_DECIMALS
    if deidentify:
        formats.update(service_date=style.MONTH, encounter_date=style.MONTH)
    for key, number_format in formats.items():
        for index in range(len(tracer)):
            sheet.cell(cells.first_row + index, cells.columns[key]).number_format = number_format


def _cover_cell(filler: Filler, index: int) -> str:
    """The Cover's value cell of item ``index`` (0-based), before the Cover is filled."""
    sheet, table = filler.table("cover")
    first_col, header_row, _, _ = range_boundaries(table.ref)
    return Filled(sheet.title, header_row + 1, index + 1,
                  {"item": first_col, "value": first_col + 1}).cell("value", index)


def _template_formula_note(filler: Filler) -> list[str]:
    """A data note naming the template's own formulas, which rxxl keeps but does not compute,
    so they have no cached value for a reader that does not calculate."""
    formulas = filler.uncached_formulas()
    if not formulas:
        return []
    return [f"{_count(len(formulas), 'formula')} of your template"
            f" {'are' if len(formulas) > 1 else 'is'} not computed by rxxl:"
            f" {listed_codes(formulas, sort=False)}."
            " Excel and LibreOffice compute them on open; a reader that does not calculate"
            " (pandas, a mail preview) shows them blank."]


#: The Cover's row (0-based) of the count of drug lines not closed, which the commentary cites.
COVER_NOT_CLOSED = 4
#: The Cover's row of the count of exceptions the claim detail lists, which a check ties.
COVER_DETAIL = 5
#: The Cover's items, in order.
COVER_ITEMS = ("Organization", "Report month", "Fiscal year to date", "Claims data through",
               "Drug lines not closed", "340B exceptions in the claim detail", "Generated",
               "rxxl version", "Checks")
assert COVER_ITEMS[COVER_NOT_CLOSED] == "Drug lines not closed"
assert COVER_ITEMS[COVER_DETAIL].startswith("340B exceptions")


def _drug_lines_not_closed(inputs: Inputs) -> int:
    open_lines = figures.not_closed(inputs)
    return int(figures.is_drug_line(open_lines["line"]).sum()) if len(open_lines) else 0


def _fill_cover(filler: Filler, inputs: Inputs, notes: list[str], failed: int,
                fiscal_year: str, budget_cells: Filled, generated: str,
                audit: pd.DataFrame | None = None) -> Filled:
    status = Formula('IF(MasterCheck=0,"All checks pass",IF(MasterCheck=1,"1 check fails",'
                     'MasterCheck&" checks fail"))',
                     "All checks pass" if failed == 0 else
                     "1 check fails" if failed == 1 else f"{failed} checks fail")
    # Live, so a line closed in the Budget sheet updates it.
    open_drug_lines = Formula(
        f'COUNTIFS({budget_cells.column_range("line")},"{figures.DRUG_LINE_PREFIX}*",'
        f'{budget_cells.column_range("status")},"{figures.NOT_CLOSED}")',
        _drug_lines_not_closed(inputs))
    cut_off = inputs.last_claim_date.date() if inputs.last_claim_date is not None else None
    cover = fill_table(filler, "cover", pd.DataFrame({"item": list(COVER_ITEMS), "value": [
        _organization(inputs), inputs.month.strftime("%B %Y"), fiscal_year,
        cut_off.isoformat() if cut_off else "no claims", open_drug_lines,
        detail_exceptions(audit) if audit is not None else "no claim detail",
        generated, __version__, status]}))
    contents = fill_table(filler, "contents", pd.DataFrame(
        [(name, title) for name, (title, _, _, _) in SHEETS.items() if name != "Cover"],
        columns=["sheet", "about"]))
    filler.link(contents, "sheet", [f"{quote_sheetname(name)}!A1" for name in SHEETS
                                    if name != "Cover"])
    notes = notes or ["All tables present."]
    fill_table(filler, "data_notes", pd.DataFrame({"number": range(1, len(notes) + 1),
                                                   "note": notes}))
    return cover


def _write_commentary(filler: Filler, sentences: list[Sentence]) -> None:
    """Write the sentences, one a row, into the template's ``Commentary`` cells (a column
    of rows under the Summary's subtitle); rows left over are cleared."""
    name = filler.book.defined_names.get(COMMENTARY)
    if name is None:
        return  # a template without the block: the commentary is on the console only
    for sheet_name, ref in name.destinations:
        sheet = filler.book[sheet_name]
        cells = [cell for row in sheet[ref.replace("$", "")] for cell in
                 (row if isinstance(row, tuple) else (row,))]
        for index, cell in enumerate(cells):
            filler.write(sheet, cell.coordinate,
                         sentences[index].text if index < len(sentences) else None)
