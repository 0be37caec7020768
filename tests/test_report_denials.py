"""The Denials sheet of the package on the small sample: the payer x month grid, its shading,
the named p-charts, the denial checks and the print setup."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import range_boundaries

from rxxl.data import load_table
from rxxl.reports import figures, style
from rxxl.reports.lint import effective_scale
from rxxl.reports.templates import pchart_title

MONTH = "2026-10"


@pytest.fixture(scope="module")
def sample(small_sample) -> Path:
    return small_sample[0]


@pytest.fixture(scope="module")
def report(small_package) -> Path:
    return small_package


@pytest.fixture(scope="module")
def book(report):
    return load_workbook(report)


@pytest.fixture(scope="module")
def values(report):
    return load_workbook(report, data_only=True)


def _table(book, name: str) -> pd.DataFrame:
    sheet = book["Denials"]
    rows = [[cell.value for cell in row] for row in sheet[sheet.tables[name].ref]]
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame[frame.iloc[:, 0] != "Total"].reset_index(drop=True)


def _oracle(sample: Path) -> pd.DataFrame:
    """Initial claims submitted and denied per payer and month, by a plain groupby: a claim
    without original_claim_id, denied unless its CARC is patient cost sharing or a
    contractual adjustment (DOMAIN.md §4)."""
    claims = load_table(sample / "claims", "claims")
    initial = claims[claims["original_claim_id"].isna()].copy()
    not_denials = {"CO-45", "PR-1", "PR-2", "PR-3", "45", "1", "2", "3"}
    carc = initial["carc_code"].astype("string").str.strip().str.upper()
    initial["is_denied"] = (initial["status"].astype(str) == "denied") & ~carc.isin(
        not_denials).fillna(False)
    initial["month"] = pd.to_datetime(initial["service_date"]).dt.strftime("%Y-%m")
    initial["denied_amount"] = initial["billed_amount"].where(initial["is_denied"], 0.0)
    return initial.groupby(["payer", "month"]).agg(
        submitted=("claim_id", "size"), denied=("is_denied", "sum"),
        submitted_dollars=("billed_amount", "sum"), denied_dollars=("denied_amount", "sum"))


def test_grid_rates_and_dollars_equal_a_plain_groupby_of_the_claims(sample, values):
    oracle = _oracle(sample)
    grid = _table(values, "denial_grid").set_index("Payer")
    assert len(grid) == oracle.index.get_level_values("payer").nunique()
    for payer in grid.index[:3]:
        for month in (MONTH, "2026-03"):
            row = oracle.loc[(payer, month)]
            assert grid.loc[payer, f"{month} (%)"] == pytest.approx(
                row["denied"] / row["submitted"])
        row = oracle.loc[(payer, MONTH)]
        assert grid.loc[payer, "Submitted (claims)"] == row["submitted"]
        assert grid.loc[payer, "Denied (claims)"] == row["denied"]
        assert grid.loc[payer, "Submitted ($)"] == pytest.approx(row["submitted_dollars"])
        assert grid.loc[payer, "Dollar denial rate (%)"] == pytest.approx(
            row["denied_dollars"] / row["submitted_dollars"])
    # Twelve months across, ending with the report month.
    months = [c[:7] for c in grid.columns if c.endswith(" (%)") and c[:4].isdigit()]
    assert months == [str(m) for m in pd.period_range(end=MONTH, periods=12, freq="M")]


def test_grid_change_is_in_points_and_sorted_by_excess_denials(values):
    grid = _table(values, "denial_grid")
    detail = _table(values, "denial_trend")
    month = detail[detail["Month"] == MONTH].set_index("Payer")
    excess = month["Denied"] - month["Center (%)"] * month["Submitted"]
    assert grid["Payer"].tolist()[:5] == excess.sort_values(
        ascending=False, kind="stable").index.tolist()[:5]
    first = grid.iloc[0]
    previous = grid.columns[grid.columns.get_loc(f"{MONTH} (%)") - 1]
    assert first["Change (pts)"] == pytest.approx(
        round((first[f"{MONTH} (%)"] - first[previous]) * 100, 1))


def _shaded(book, values) -> set[tuple[str, str]]:
    """(payer, month) of the grid cells the sheet's conditional formats shade, each rule's
    formula evaluated here for each cell of its range from the cells' values."""
    sheet, shown = book["Denials"], values["Denials"]
    found = set()
    for formatting in sheet.conditional_formatting:
        ranges = str(formatting.sqref)
        first_col, first_row, last_col, last_row = range_boundaries(ranges)
        if first_col != 2:  # the detail's Out of control column has its own rule
            continue
        for rule in formatting.rules:
            origin = f"B{first_row}"
            for row in range(first_row, last_row + 1):
                for col in range(first_col, last_col + 1):
                    here = shown.cell(row, col).coordinate
                    text = Translator("=" + rule.formula[0], origin).translate_formula(here)
                    if _evaluate(text, shown):
                        found.add((shown.cell(row, 1).value, shown.cell(3 + 1, col).value[:7]))
    return found


_RULE = re.compile(r"=AND\(ISNUMBER\((\w+)\),(\w+)>SUMIFS\(([$\w:]+),([$\w:]+),([$\w]+),"
                   r"([$\w:]+),LEFT\(([$\w]+),7\)\)\)")


def _evaluate(text: str, sheet) -> bool:
    match = _RULE.fullmatch(text)
    assert match, text
    cell, _, ucl, payers, payer, months, header = (g.replace("$", "") for g in match.groups())
    rate = sheet[cell].value
    if not isinstance(rate, int | float):
        return False

    def column(ref: str) -> list:
        return [c.value for (c,) in sheet[ref]]

    want = (sheet[payer].value, sheet[header].value[:7])
    limit = sum(u for u, p, m in zip(column(ucl), column(payers), column(months), strict=True)
                if (p, m) == want and isinstance(u, int | float))
    return rate > limit


def test_the_grid_shades_the_planted_spike_above_its_ucl_and_nothing_else(sample, book, values):
    planted = {p["kind"]: p for p in json.loads((sample / "manifest.json").read_text())[
        "planted"]}
    spike = planted["denial spike"]["identifiers"]
    assert _shaded(book, values) == {(spike["payer"], spike["month"])}
    detail = _table(values, "denial_trend")
    flagged = detail[detail["Out of control"] == figures.ABOVE_UCL]
    assert list(zip(flagged["Payer"], flagged["Month"], strict=True)) == [
        (spike["payer"], spike["month"])]
    # Words, never TRUE/FALSE or 0/1.
    assert set(detail["Out of control"].fillna("")) <= {"", figures.ABOVE_UCL,
                                                         figures.BELOW_LCL}


def test_the_p_charts_name_the_top_payers_and_mark_only_flagged_months(book, values):
    grid = _table(values, "denial_grid")
    detail = _table(values, "denial_trend")
    titles = {}
    for chart in book["Denials"]._charts:
        text = "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))
        titles[chart.series[0].val.numRef.f] = text
    for number, payer in enumerate(grid["Payer"].head(3), start=1):
        table = _table(values, f"pchart_{number}")
        ref = book["Denials"].tables[f"pchart_{number}"].ref
        first_col, header, _, _ = range_boundaries(ref)
        (title,) = [t for f, t in titles.items()
                    if range_boundaries(f.split("!")[1])[:2] == (first_col + 1, header + 1)]
        assert title == pchart_title(payer)
        mine = detail[detail["Payer"] == payer].set_index("Month")
        assert table["Month"].tolist() == mine.index.tolist()
        marked = table.set_index("Month")["Out of control (%)"]
        assert set(marked.dropna().index) == set(mine.index[mine["Out of control"].fillna(
            "") != ""])
        assert marked.dropna().tolist() == pytest.approx(
            mine.loc[marked.dropna().index, "Denial rate (%)"].tolist())


def test_denial_checks_are_on_the_checks_sheet_and_pass(values):
    sheet = values["Checks"]
    rows = [(row[0], row[4]) for row in sheet.iter_rows(min_row=5, max_col=6, values_only=True)
            if row[0] and ("Denial" in row[0] or "denial" in row[0])]
    names = [name for name, _ in rows]
    assert any("dollar denial rate tile" in name for name in names)
    assert sum("the grid's" in name for name in names) == 4
    assert all(fails == 0 for _, fails in rows), rows


def test_the_sheet_prints_on_a_few_pages_at_a_legible_scale(book):
    sheet = book["Denials"]
    assert effective_scale(sheet) >= style.TARGET_PRINT_SCALE
    assert sheet.page_setup.fitToWidth == 1  # the grid on one page wide
    # The detail (hundreds of rows) is off the print area, the grid on it.
    area = sheet.print_area.split("!")[1].replace("$", "")
    _, _, last_col, _ = range_boundaries(area)
    first_detail, _, _, _ = range_boundaries(sheet.tables["denial_trend"].ref)
    assert last_col < first_detail
    assert range_boundaries(sheet.tables["denial_grid"].ref)[2] <= last_col


def test_the_charts_read_their_own_tables_rows_after_rows_were_inserted(book):
    # The grid and the Pareto grow and insert rows inside the charts' ranges; the charts still
    # read 24 months of their p-chart table and the Pareto's first 10 reasons.
    sheet = book["Denials"]
    expected = {}
    for number in (1, 2, 3):
        _, header, _, _ = range_boundaries(sheet.tables[f"pchart_{number}"].ref)
        expected[f"pchart_{number}"] = (header + 1, header + 24)
    _, header, _, _ = range_boundaries(sheet.tables["pareto"].ref)
    expected["pareto"] = (header + 1, header + 10)
    seen = set()
    for chart in sheet._charts:
        for series in chart.series:
            left, top, _, bottom = range_boundaries(series.val.numRef.f.split("!")[1])
            (name,) = [n for n in expected
                       if range_boundaries(sheet.tables[n].ref)[0] <= left
                       <= range_boundaries(sheet.tables[n].ref)[2]]
            assert (top, bottom) == expected[name], (name, series.val.numRef.f)
            seen.add(name)
    assert seen == set(expected)


def test_the_stacked_tables_keep_their_order_and_gaps(book):
    # Grid, then the p-charts' caption and charts, then the Pareto, then the root causes,
    # each growing table having pushed the ones below it down.
    sheet = book["Denials"]
    grid, pareto, causes = (range_boundaries(sheet.tables[name].ref)
                            for name in ("denial_grid", "pareto", "denial_categories"))
    pcharts = [style.chart_cells(sheet, chart) for chart in sheet._charts
               if chart.anchor._from.col == 0]
    assert grid[3] < min(c[1] for c in pcharts)
    assert max(c[3] for c in pcharts) < pareto[1] - 1
    assert pareto[3] + 2 < causes[1] - 1
