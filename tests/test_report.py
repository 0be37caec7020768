"""The monthly package: golden workbooks checked by LibreOffice, the lint, and safety."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import range_boundaries

from rxxl import denials, generics, roi
from rxxl.audit340b import audit_by_month, audit_claims
from rxxl.cli import main
from rxxl.constants import GDR_BENCHMARK, TURNS_TARGET_HIGH, TURNS_TARGET_LOW
from rxxl.data import DataValidationError, load_reference, load_table
from rxxl.errors import InputError
from rxxl.reports import figures, style
from rxxl.reports.inputs import AUDIT_MONTHS, load_inputs
from rxxl.reports.lint import format_findings, lint_workbook
from rxxl.reports.monthly import build_report, package_name
from rxxl.reports.templates import SHEETS, SUMMARY_TABLES_ROW, TEMPLATE_FILE, build_template

MONTH = "2026-10"
PRIOR_YEAR = "2025-10"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample(small_sample) -> Path:
    return small_sample[0]


@pytest.fixture(scope="module")
def report(small_package) -> Path:
    return small_package


def _table(path: Path, name: str, data_only: bool = True) -> pd.DataFrame:
    book = load_workbook(path, data_only=data_only)
    for sheet in book.worksheets:
        if name in sheet.tables:
            rows = list(sheet[sheet.tables[name].ref].__iter__())
            values = [[cell.value for cell in row] for row in rows]
            return pd.DataFrame(values[1:], columns=values[0])
    raise KeyError(name)


def test_template_has_every_anchor_and_lints_clean(tmp_path):
    path = build_template(tmp_path / TEMPLATE_FILE)
    assert lint_workbook(path) == []
    book = load_workbook(path)
    names = {name for sheet in book.worksheets for name in sheet.tables}
    assert names == {spec.name for _, _, specs, _ in SHEETS.values() for spec in specs}
    assert "MasterCheck" in book.defined_names


def test_committed_template_is_current(tmp_path):
    fresh = load_workbook(build_template(tmp_path / TEMPLATE_FILE))
    committed = load_workbook(REPO / "templates" / TEMPLATE_FILE)
    assert committed.sheetnames == fresh.sheetnames
    for sheet in fresh.worksheets:
        other = committed[sheet.title]
        assert dict(sheet.tables.items()) == dict(other.tables.items())
        assert [[c.value for c in row] for row in sheet.iter_rows()] == \
            [[c.value for c in row] for row in other.iter_rows()], sheet.title


def test_package_lints_clean(report):
    assert lint_workbook(report) == [], format_findings(lint_workbook(report))


@pytest.mark.libreoffice
def test_libreoffice_recalculation_agrees_with_cached_values(report, libreoffice_recalculate):
    recalculated = libreoffice_recalculate(report)
    # No error value anywhere, master check 0, every rule of DOMAIN.md §7.
    findings = lint_workbook(report, values=recalculated)
    assert findings == [], format_findings(findings)
    cached = load_workbook(report, data_only=True)
    engine = load_workbook(recalculated, data_only=True)
    formulas = load_workbook(report)
    compared = 0
    for sheet in formulas.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    mine = cached[sheet.title][cell.coordinate].value
                    theirs = engine[sheet.title][cell.coordinate].value
                    if theirs in (None, ""):  # a formula that gives "" (a blank crossing)
                        assert mine in (None, ""), f"{sheet.title}!{cell.coordinate}"
                    elif isinstance(mine, float):
                        assert theirs == pytest.approx(mine, rel=1e-9, abs=1e-6), \
                            f"{sheet.title}!{cell.coordinate}: {cell.value}"
                    else:
                        assert theirs == mine, f"{sheet.title}!{cell.coordinate}"
                    compared += 1
    assert compared > 80  # capital NPV/IRR/sensitivity, checks, cover


def test_key_figures_equal_the_metric_functions(sample, report):
    claims = load_table(sample / "claims", "claims")
    trend = denials.denial_trend(claims, by="payer")
    shown = _table(report, "denial_trend")
    assert len(shown) == len(trend)
    assert shown["Denied"].tolist() == trend["denied"].tolist()
    assert shown["Denial rate (%)"].astype(float).fillna(-1).tolist() == pytest.approx(
        trend["denial_rate"].fillna(-1).tolist())
    manifest = json.loads((sample / "manifest.json").read_text())
    planted = {p["kind"]: p for p in manifest["planted"]}
    spike = planted["denial spike"]["identifiers"]
    flagged = shown[shown["Out of control"] == "Above UCL"]
    assert list(zip(flagged["Payer"], flagged["Month"], strict=True)) == \
        [(spike["payer"], spike["month"])]
    stock = _table(report, "inventory").set_index("Location")
    overstock = planted["overstock"]
    assert stock.loc[overstock["identifiers"]["location"], "Days on hand"] == pytest.approx(
        overstock["details"]["days_on_hand"], abs=0.05)
    largest = _table(report, "largest_drivers")
    price = largest[largest["Driver"] == "Price"].iloc[0]
    assert price["NDC"] == planted["price spike"]["identifiers"]["ndc"]
    lines = load_table(sample / "budget_lines.csv", "budget_lines")
    month = lines[lines["month"].dt.strftime("%Y-%m") == MONTH]
    kpis = _table(report, "kpis").set_index("Measure")
    drug_spend = month.loc[month["line"].str.startswith("Drugs"), "actual"].sum()
    assert kpis.loc["Total drug spend", "This month"] == pytest.approx(drug_spend)
    checks = _table(report, "master_check")
    assert checks["Failures"].tolist() == [0]


def test_340b_trend_is_the_audit_of_each_of_the_last_months(sample, report):
    claims = load_table(sample / "claims", "claims")
    months = pd.period_range(end=MONTH, periods=AUDIT_MONTHS, freq="M")
    recent = claims[claims["service_date"].dt.to_period("M").isin(months)]
    expected = audit_by_month(audit_claims(recent, load_reference(sample)))
    shown = _table(report, "exceptions_by_month")
    # Real months (the first day, shown "Oct 2026"), as every month column of the package.
    assert [pd.Timestamp(m).strftime("%Y-%m") for m in shown["Month"]] == [
        str(m) for m in months] == expected["month"].tolist()
    for header, key in (("Checked", "checked"), ("On 340B", "checked_340b"),
                        ("For review", "review"), ("Violations", "violations"),
                        ("Exceptions", "exceptions")):
        assert shown[header].tolist() == expected[key].tolist(), header
    assert shown["Dollars at stake ($)"].tolist() == pytest.approx(
        expected["dollars_at_risk"].tolist())
    assert shown["Exception rate (%)"].tolist() == pytest.approx(
        expected["exception_rate"].tolist())
    this_month = _table(report, "exceptions_by_site")["Claims"].sum()
    assert shown["Exceptions"].iloc[-1] == this_month > 0
    assert (shown["340B savings ($)"] > 0).all()


def test_kpis_against_budget_targets_and_prior_year(sample, report):
    kpis = _table(report, "kpis").set_index("Measure")
    claims = load_table(sample / "claims", "claims")
    drugs = load_table(sample / "drugs.csv", "drugs").set_index("ndc")["mony_code"]
    lines = load_table(sample / "budget_lines.csv", "budget_lines")
    for month, column in ((MONTH, "This month"), (PRIOR_YEAR, "Prior year")):
        in_month = claims[claims["service_date"].dt.strftime("%Y-%m") == month]
        paid = in_month[in_month["status"] == "paid"]
        mony = paid["ndc"].map(drugs).dropna().astype(str).to_numpy()
        assert kpis.loc["Generic dispensing rate", column] == pytest.approx(
            generics.generic_dispensing_rate(mony, scheme="mony"))
        rates = denials.denial_rates(claims, by="month", hfma=True).set_index("month")
        for measure, key in (("Initial denial rate", "denial_rate"),
                             ("Initial denial rate, dollars", "dollar_denial_rate"),
                             ("Initial denial rate, HFMA", "hfma_denial_rate")):
            assert kpis.loc[measure, column] == pytest.approx(rates.loc[month, key]), measure
        rows = lines[lines["month"].dt.strftime("%Y-%m") == month]
        spend = rows.loc[rows["line"].str.startswith("Drugs"), "actual"].sum()
        apd = rows[rows["volume_driver"] == "adjusted patient days"].groupby(
            "cost_center", observed=True)["actual_volume"].first().sum()
        assert kpis.loc["Drug cost per adjusted patient day", column] == pytest.approx(
            spend / apd)
    gdr = kpis.loc["Generic dispensing rate"]
    assert gdr["Budget / target"] == GDR_BENCHMARK
    assert gdr["F/U"] == ("F" if gdr["This month"] >= GDR_BENCHMARK else "U")
    turns = kpis.loc["Inventory turns (annual)"]
    # All locations together sit inside the band; the forward buy at RUMC-OP (manifest P20)
    # puts the tile at U, and its Detail names the location (docs/kpi-rules.md).
    assert TURNS_TARGET_LOW <= turns["This month"] <= TURNS_TARGET_HIGH
    assert turns["F/U"] == kpis.loc["Days on hand", "F/U"] == "U"
    assert turns["Detail"].startswith("Inventory: RUMC-OP ")
    assert kpis.loc["Days on hand", "This month"] == pytest.approx(365 / turns["This month"])
    assert pd.isna(kpis.loc["340B exceptions (claims)", "Prior year"])  # not audited: blank
    sheet = load_workbook(report)["Summary"]
    first = SUMMARY_TABLES_ROW + 1
    shown = {sheet.cell(row, 1).value: sheet.cell(row, 3).number_format
             for row in range(first, first + 10)}
    assert shown["Generic dispensing rate"] == shown["Initial denial rate"] == style.PERCENT
    assert shown["Total drug spend"] == style.DOLLARS and shown["Days on hand"] == style.DAYS
    # A rate's variance is in percentage points: 72.3% against a 90% target is -17.7 pts.
    assert gdr["Variance"] == pytest.approx((gdr["This month"] - GDR_BENCHMARK) * 100)
    rows = {sheet.cell(row, 1).value: row for row in range(first, first + 10)}
    assert sheet.cell(rows["Generic dispensing rate"], 5).number_format == style.POINTS
    spend = kpis.loc["Total drug spend"]
    assert spend["Variance"] == pytest.approx(spend["This month"] - spend["Budget / target"])


def test_summary_figures_link_to_their_detail_rows(report):
    book = load_workbook(report)
    links = [(sheet.title, cell) for sheet in book.worksheets for row in sheet.iter_rows()
             for cell in row if cell.hyperlink is not None]
    assert len(links) >= 25
    for _, cell in links:
        assert cell.hyperlink.target is None  # within the workbook: no external relationship
        where, _, coordinate = cell.hyperlink.location.rpartition("!")
        target = book[where.strip("'")]
        assert target[coordinate.replace("$", "")].value not in (None, "")
    summary = book["Summary"]
    # Top drivers by location and by drug: the purchase lines they add up.
    lines = book["Drivers"].tables["drivers"].ref.split(":")[0]
    for name in ("drivers_by_location", "drivers_by_drug"):
        first_col, top, _, bottom = range_boundaries(summary.tables[name].ref)
        for row in range(top + 1, bottom + 1):
            assert summary.cell(row, first_col).hyperlink.location == f"'Drivers'!{lines}"
    _, top, _, bottom = range_boundaries(summary.tables["findings"].ref)
    movers = [summary.cell(row, 3) for row in range(top + 1, bottom + 1)
              if summary.cell(row, 1).value == "Denials"]
    assert movers
    for cell in movers:
        # The payer's row of the Denials grid, whose last month is the report month.
        row = book["Denials"][cell.hyperlink.location.split("!")[1]].row
        assert book["Denials"].cell(row, 1).value == cell.value.split(":")[0]
        assert book["Denials"]["M4"].value == f"{MONTH} (%)"


def test_pandas_reads_the_same_numbers_without_calculating(report):
    _, top, _, _ = range_boundaries(load_workbook(report)["Checks"].tables["checks"].ref)
    frame = pd.read_excel(report, sheet_name="Checks", header=top - 1, usecols="A:E")
    assert frame["Fails"].dropna().eq(0).all() and len(frame.dropna(subset=["Check"])) >= 5


def test_customized_template_survives_regeneration(sample, tmp_path):
    templates = tmp_path / "templates"
    build_template(templates / TEMPLATE_FILE)
    book = load_workbook(templates / TEMPLATE_FILE)
    book["Budget"].column_dimensions["A"].width = 51
    book["Budget"]["A4"].fill = PatternFill("solid", fgColor="00B050")
    notes = book.create_sheet("CFO notes")
    notes["A1"] = "Reviewed with the CFO"
    notes["B2"] = "=Summary!C5*2"
    book.save(templates / TEMPLATE_FILE)
    before = (templates / TEMPLATE_FILE).read_bytes()
    out = tmp_path / "out"
    build_report(sample, MONTH, out, templates=templates)
    result = load_workbook(out / package_name(pd.Period(MONTH)))
    assert result["Budget"].column_dimensions["A"].width == 51
    assert result["Budget"]["A4"].fill.fgColor.rgb.endswith("00B050")
    assert result["CFO notes"]["A1"].value == "Reviewed with the CFO"
    assert result["CFO notes"]["B2"].value == "=Summary!C5*2"
    assert (templates / TEMPLATE_FILE).read_bytes() == before  # never modified


def test_failed_run_leaves_earlier_output_untouched(sample, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    out = tmp_path / "out"
    build_report(data, MONTH, out)
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    budget = data / "budget_lines.csv"
    budget.write_text(budget.read_text().replace("expense", "expens", 1))
    with pytest.raises(DataValidationError) as error:
        build_report(data, MONTH, out)
    assert "budget_lines.csv" in str(error.value) and "line_type" in str(error.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier


def test_missing_table_still_gives_a_report_that_says_so(sample, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    (data / "inventory_snapshots.csv").unlink()
    out = tmp_path / "out"
    build_report(data, MONTH, out)
    notes = _table(out / package_name(pd.Period(MONTH)), "data_notes")["Data notes"]
    assert notes.str.contains("inventory_snapshots").any()
    assert lint_workbook(out / package_name(pd.Period(MONTH))) == []


def test_month_without_claims_is_reported_not_failed(sample, tmp_path):
    # The finance tables hold the month; its claims are not there yet.
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    (data / "claims" / f"{MONTH}.parquet").unlink()
    out = tmp_path / "out"
    build_report(data, MONTH, out)
    notes = _table(out / package_name(pd.Period(MONTH)), "data_notes")["Data notes"]
    assert notes.str.contains("No claims").any()


def test_month_no_table_holds_is_refused(sample, tmp_path):
    with pytest.raises(InputError, match=r"no data for 2027-03: .*budget_lines 2024-11 to"
                                         r" 2026-10.*give a month the data covers"):
        build_report(sample, "2027-03", tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_parts_that_split_months_differently_give_the_same_figures(sample, tmp_path):
    # Two parts cut in the middle of an audited month: the second holds earlier audited
    # claims and the whole report month.
    data = tmp_path / "data"
    shutil.copytree(sample, data, ignore=shutil.ignore_patterns("claims"))
    claims = pd.concat([pd.read_parquet(p) for p in sorted((sample / "claims").iterdir())],
                       ignore_index=True)
    cut = pd.to_datetime(claims["service_date"]) < pd.Timestamp("2026-08-16")
    (data / "claims").mkdir()
    claims[cut].to_parquet(data / "claims" / "a.parquet")
    claims[~cut].to_parquet(data / "claims" / "b.parquet")
    by_part, by_month = load_inputs(data, MONTH), load_inputs(sample, MONTH)
    pd.testing.assert_frame_equal(by_part.audit_by_month, by_month.audit_by_month)
    pd.testing.assert_frame_equal(by_part.monthly_claims, by_month.monthly_claims)
    assert len(by_part.claims) == len(by_month.claims)
    assert by_part.audit["status"].value_counts().to_dict() == \
        by_month.audit["status"].value_counts().to_dict()
    trend = denials.trend_from_counts
    pd.testing.assert_frame_equal(trend(by_part.denial_counts), trend(by_month.denial_counts))


def test_a_mid_month_count_does_not_add_to_the_month_end_inventory(sample, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample, data)
    snapshots = pd.read_csv(data / "inventory_snapshots.csv")
    month_end = snapshots[snapshots["snapshot_date"] == "2026-10-31"]
    mid_month = month_end.assign(snapshot_date="2026-10-15",
                                 inventory_value=month_end["inventory_value"] * 3,
                                 expired_value=100.0)
    pd.concat([snapshots, mid_month]).to_csv(data / "inventory_snapshots.csv", index=False)
    before = figures.inventory_figures(load_inputs(sample, MONTH)).set_index("location")
    after = figures.inventory_figures(load_inputs(data, MONTH)).set_index("location")
    pd.testing.assert_series_equal(after["ending"], before["ending"])
    assert (after["expired"] == before["expired"] + 100.0).all()  # removed stock adds up


def test_cli_report_and_exit_codes(sample, tmp_path, capsys):
    assert main(["report", "--data", str(sample), "--month", MONTH, "--out",
                 str(tmp_path)]) == 0
    assert "0 checks fail" in capsys.readouterr().out
    assert main(["report", "--data", str(tmp_path / "none"), "--month", MONTH, "--out",
                 str(tmp_path)]) == 2
    assert "no such data folder" in capsys.readouterr().err
    assert main(["report", "--data", str(sample), "--month", "Oct", "--out",
                 str(tmp_path)]) == 2


def test_capital_figures_add_up_each_years_flows_and_are_live(sample, report):
    from tests.test_report_capital import read_blocks

    requests = load_table(sample / "capital_requests.csv", "capital_requests")
    # Several kinds of flow share a year: each kind is a row of its block, the years across.
    assert requests.groupby(["request_id", "period"]).size().max() > 1
    formulas = _table(report, "capital_summary", data_only=False)
    assert formulas.iloc[:-1].drop(columns=["Request name", "Request"]).map(
        lambda text: str(text).startswith("=$B$")).all().all()  # each a cell of its block
    assert formulas.iloc[-1]["NPV ($)"].startswith("=SUBTOTAL(109,")
    table = _table(report, "capital_summary")
    shown, total = table.iloc[:-1].set_index("Request"), table.iloc[-1]
    assert shown["NPV ($)"].is_monotonic_decreasing  # ranked, best first
    assert total["Request name"] == "Total"
    for column in ("Initial capital ($)", "NPV ($)"):
        assert total[column] == pytest.approx(shown[column].sum())
    values = load_workbook(report, data_only=True)["Capital"]
    live = load_workbook(report)["Capital"]
    # Eight years and a total fit one page wide at a legible scale: a block is not too wide.
    assert live.page_setup.fitToWidth == 1
    assert live.row_breaks.count == requests["request_id"].nunique()  # a page per block
    blocks = read_blocks(values)
    for request, rows in requests.groupby("request_id"):
        net = rows.groupby("period")["cash_flow"].sum().reindex(
            range(int(rows["period"].max()) + 1), fill_value=0.0).to_numpy()
        rate = float(rows["discount_rate"].dropna().iloc[0])
        block = blocks[request]
        net_row = block["rows"]["Net cash flow ($)"]
        assert [values.cell(net_row, col).value for col in block["years"].values()] == \
            pytest.approx(list(net))
        assert all(live.cell(net_row, col).value.startswith("=SUM(")
                   for col in block["years"].values())
        by_kind = rows.pivot_table(index="flow_type", columns="period", values="cash_flow",
                                   aggfunc="sum", fill_value=0.0)
        assert len(block["kinds"]) == len(by_kind)
        for kind, row in block["kinds"].items():
            flows = by_kind.loc[kind.lower().replace(" ", "_")]
            assert [values.cell(row, block["years"][year]).value for year in flows.index] == \
                pytest.approx(flows.tolist())
        npv_cell = live.cell(block["rows"]["NPV ($)"], 2)
        assert npv_cell.value.startswith("=NPV(")
        assert shown.loc[request, "NPV ($)"] == pytest.approx(net[0] + roi.npv(rate, net[1:]))
        assert shown.loc[request, "IRR (%)"] == pytest.approx(roi.irr(net))
        assert shown.loc[request, "Initial capital ($)"] == pytest.approx(-net[0])
        assert shown.loc[request, "Horizon (years)"] == len(net) - 1
        for column, years_ in (("Payback (years)", roi.payback(net)),
                               ("Discounted payback (years)",
                                roi.discounted_payback(rate, net))):
            assert shown.loc[request, column] == (
                "never" if math.isinf(years_) else pytest.approx(years_))


def test_the_executive_summary_fits_one_laptop_screen(report):
    """From the title to the last finding, the Summary fits a 1366 x 768 px grid area (a
    1920 x 1080 laptop at 100% zoom, less Excel's ribbon, formula bar and status bar): at
    most 1,366 px wide and 780 px tall, column widths and row heights as Excel draws them."""
    sheet = load_workbook(report)["Summary"]
    _, _, last_col, bottom = range_boundaries(sheet.tables["findings"].ref)
    widths = style.column_widths(sheet)
    kpi_right = range_boundaries(sheet.tables["kpis"].ref)[2]
    wide = sum(round(widths.get(col, style.DEFAULT_WIDTH) * 7 + 5)
               for col in range(1, max(last_col, kpi_right) + 1))
    tall = sum((sheet.row_dimensions[row].height or style.DEFAULT_HEIGHT)
               for row in range(1, bottom + 1)) * 96 / 72
    assert wide <= 1366 and tall <= 780, (wide, tall)
