"""The Capital sheet with hostile request ids: data text never changes what a formula computes.

Request ids are free text (a ``code`` column). Excel and LibreOffice read a SUMIFS/MATCH
criterion as a pattern (``*``, ``?``, ``~``) or a comparison (a leading ``=``, ``<``, ``>``),
so an id used as a criterion sums other requests' flows or none. The sheet's formulas
reference each request's rows by position instead; LibreOffice recalculating the package
must give every cell the value rxxl cached.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from rxxl.data.synthetic import generate
from rxxl.reports.monthly import build_report, package_name

MONTH = "2026-10"
CAPITAL = "Capital"
#: Hostile ids and the plain twins each wildcard would catch: CR-1* matches CR-1011 and
#: CR?2 matches CRX2 as criteria; >A is "greater than A"; =cmd|... is "equal to cmd|...";
#: ~x is "x" (a tilde escapes the next character).
HOSTILE = {"CR-1011": ["CR-1*", "CR-1011"], "CR-1014": [">A", "x"],
           "CR-1019": ["=cmd|' /C calc'!A0"], "CR-1023": ["CR?2", "CRX2", "~x"]}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("capital")
    generate(folder / "data", size="small")
    path = folder / "data" / "capital_requests.csv"
    flows = pd.read_csv(path, dtype={"request_id": str})
    assert set(flows["request_id"]) == set(HOSTILE)
    # Each copy of a request has the same flows: the twins must show the same figures.
    flows = pd.concat([flows[flows["request_id"] == old].assign(request_id=new)
                       for old, news in HOSTILE.items() for new in news], ignore_index=True)
    flows.to_csv(path, index=False)
    build_report(folder / "data", MONTH, folder / "out")
    return folder / "out" / package_name(pd.Period(MONTH)), flows


def _capital_tables(path: Path) -> dict[str, pd.DataFrame]:
    """The Capital sheet's Excel tables (the summary) as frames of their cached values."""
    sheet = load_workbook(path, data_only=True)[CAPITAL]
    tables = {}
    for name, ref in sheet.tables.items():
        values = [[cell.value for cell in row] for row in sheet[ref]]
        tables[name] = pd.DataFrame(values[1:], columns=values[0])
    return tables


def test_ids_are_text_and_twins_show_the_same_figures(hostile):
    path, flows = hostile
    sheet = load_workbook(path)[CAPITAL]
    ids = set(flows["request_id"])
    shown = [cell for row in sheet.iter_rows() for cell in row if cell.value in ids]
    assert {cell.value for cell in shown} == ids
    assert all(cell.data_type == "s" for cell in shown), "an id was written as a formula"
    results = _capital_tables(path)["capital_summary"].set_index("Request")
    # Hand-checkable: a twin has the very same flows, so the very same NPV and IRR.
    for first, second in (("CR-1*", "CR-1011"), (">A", "x"), ("CR?2", "CRX2"), ("CR?2", "~x")):
        assert results.loc[first, "NPV ($)"] == pytest.approx(results.loc[second, "NPV ($)"])
        assert results.loc[first, "IRR (%)"] == pytest.approx(results.loc[second, "IRR (%)"])
    assert (results["NPV ($)"] != 0).all()


@pytest.mark.libreoffice
def test_libreoffice_gives_every_capital_cell_rxxls_value(hostile, libreoffice_recalculate):
    path, _ = hostile
    recalculated = libreoffice_recalculate(path)
    cached = load_workbook(path, data_only=True)[CAPITAL]
    engine = load_workbook(recalculated, data_only=True)[CAPITAL]
    formulas = load_workbook(path)[CAPITAL]
    compared, differ = 0, []
    for row in formulas.iter_rows():
        for cell in row:
            mine = cached[cell.coordinate].value
            theirs = engine[cell.coordinate].value
            if isinstance(mine, float) or isinstance(theirs, float):
                same = isinstance(mine, (int, float)) and isinstance(theirs, (int, float)) \
                    and theirs == pytest.approx(mine, rel=1e-9, abs=1e-6)
            else:
                same = (mine or None) == (theirs or None)
            if not same:
                differ.append(f"{cell.coordinate}: rxxl {mine!r}, LibreOffice {theirs!r}")
            compared += cell.data_type == "f"
    assert differ == [], f"{len(differ)} Capital cells differ:\n" + "\n".join(differ[:20])
    assert compared > 300


def test_control_characters_in_data_text_give_a_readable_package(tmp_path):
    """openpyxl refuses control characters in a cell; the package holds them as Excel's
    _xHHHH_ escape, and the claim detail's document properties as well. (NUL is left out:
    the reader refuses a file holding NUL bytes as not text, tested in test_data_hostile.)"""
    import zipfile

    from defusedxml import ElementTree

    from rxxl.reports.monthly import detail_name

    generate(tmp_path / "data", size="small")
    path = tmp_path / "data" / "capital_requests.csv"
    flows = pd.read_csv(path, dtype={"request_id": str})
    flows["request_name"] = flows["request_name"] + " \x1b[31m bell\x07 cr\r end"
    flows.to_csv(path, index=False, lineterminator="\r\n")  # quotes the CR (RFC 4180)
    entity = pd.read_csv(tmp_path / "data" / "entity.csv", dtype=str)
    if "entity_name" in entity:
        entity["entity_name"] = "Three\x0bRivers\x1b Health"
        entity.to_csv(tmp_path / "data" / "entity.csv", index=False)
    build_report(tmp_path / "data", MONTH, tmp_path / "out")
    summary = _capital_tables(tmp_path / "out" / package_name(pd.Period(MONTH)))[
        "capital_summary"]
    names = set(summary["Request name"].iloc[:-1])  # the last row is the totals row
    assert all("_x001B_[31m bell_x0007_ cr_x000D_ end" in name for name in names)
    for book in (package_name(pd.Period(MONTH)), detail_name(pd.Period(MONTH))):
        with zipfile.ZipFile(tmp_path / "out" / book) as archive:
            for name in archive.namelist():
                if name.endswith(".xml"):
                    ElementTree.fromstring(archive.read(name))  # well-formed XML


# --- The blocks, read back as an analyst reads them -----------------------------------------

def read_blocks(sheet) -> dict[object, dict]:
    """Each request's block on a Capital worksheet (cached values or formulas), by request id:
    ``rows`` (label in column A -> row), ``kinds`` (kind -> row), ``years`` (year -> column),
    ``total`` (the Total column), ``grid`` ((savings change, rate points) -> cell)."""
    labels = {row: sheet.cell(row, 1).value for row in range(1, sheet.max_row + 1)}
    starts = [row for row, text in labels.items() if text == "Request"
              and sheet.cell(row - 1, 1).value and row > 5]
    blocks = {}
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else sheet.max_row + 1
        rows = {labels[row]: row for row in range(start, end) if labels[row]}
        header = rows["Cash flow by kind ($)"]
        years, col = {}, 2
        while isinstance(sheet.cell(header, col).value, int | float) or str(
                sheet.cell(header, col).value).startswith("="):
            years[len(years)] = col
            col += 1
        kinds = {labels[row]: row for row in range(header + 1, rows["Savings and revenue ($)"])}
        points_row = next(row for row in range(header, end)
                          if sheet.cell(row, 4).value == "Rate change (pts)")
        grid = {(sheet.cell(row, 4).value, sheet.cell(points_row, col).value): (row, col)
                for row in range(points_row + 3, points_row + 8) for col in range(5, 10)}
        blocks[sheet.cell(start, 2).value] = {
            "heading": start - 1, "rows": rows, "kinds": kinds, "years": years, "total": col,
            "grid": grid, "points_row": points_row}
    return blocks


def value(sheet, block: dict, label: str, year: int | None = None):
    """The cell of a block's row ``label``: in column B, or in year ``year``'s column."""
    return sheet.cell(block["rows"][label], 2 if year is None else block["years"][year]).value


#: Two requests, small enough to compute by hand. T-1 at 10%: net -1,000, 600, 500 (the
#: service cost of 100 in year 2). T-2 names no kind and no rate (the default 8%).
HAND = pd.DataFrame([
    ("T-1", "Test carousel", 0, -1000.0, "capital", 0.10),
    ("T-1", "Test carousel", 1, 600.0, "labor_savings", 0.10),
    ("T-1", "Test carousel", 2, 600.0, "labor_savings", 0.10),
    ("T-1", "Test carousel", 2, -100.0, "service_cost", 0.10),
    ("T-2", "Test robot", 0, -500.0, None, None),
    ("T-2", "Test robot", 1, 300.0, None, None),
    ("T-2", "Test robot", 2, 300.0, None, None),
], columns=["request_id", "request_name", "period", "cash_flow", "flow_type", "discount_rate"])


@pytest.fixture(scope="module")
def hand(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hand")
    generate(folder / "data", size="small")
    HAND.to_csv(folder / "data" / "capital_requests.csv", index=False)
    build_report(folder / "data", MONTH, folder / "out")
    return folder / "out" / package_name(pd.Period(MONTH))


def test_a_block_shows_kinds_by_year_and_the_figures_by_hand(hand):
    sheet = load_workbook(hand, data_only=True)[CAPITAL]
    blocks = read_blocks(sheet)
    assert list(blocks) == ["T-2", "T-1"]  # ranked by NPV: 34.98 before -41.32
    one, two = blocks["T-1"], blocks["T-2"]
    assert list(one["kinds"]) == ["Capital", "Labor savings", "Service cost"]
    assert list(two["kinds"]) == ["Other flows"]
    assert list(one["years"]) == [0, 1, 2]
    kinds = [[sheet.cell(row, col).value for col in one["years"].values()]
             for row in one["kinds"].values()]
    assert kinds == [[-1000, 0, 0], [0, 600, 600], [0, 0, -100]]
    assert [value(sheet, one, "Net cash flow ($)", y) for y in range(3)] == [-1000, 600, 500]
    assert [value(sheet, one, "Cumulative ($)", y) for y in range(3)] == [-1000, -400, 100]
    assert [value(sheet, one, "Savings and revenue ($)", y) for y in range(3)] == [0, 600, 600]
    assert sheet.cell(one["rows"]["Net cash flow ($)"], one["total"]).value == 100
    assert value(sheet, one, "Initial capital ($)") == 1000
    assert value(sheet, one, "Horizon (years)") == 2
    assert value(sheet, one, "Discount rate (%)") == 0.10
    assert value(sheet, two, "Discount rate (%)") == 0.08
    # -1000 + 600/1.1 + 500/1.21; IRR from 500x^2 + 600x - 1000 = 0 with x = 1/(1+r).
    assert value(sheet, one, "NPV ($)") == pytest.approx(-41.322314)
    x = (-600 + (600 ** 2 + 4 * 500 * 1000) ** 0.5) / (2 * 500)
    assert value(sheet, one, "IRR (%)") == pytest.approx(1 / x - 1)
    assert value(sheet, one, "Payback (years)") == pytest.approx(1.8)  # 1 + 400/500
    assert value(sheet, one, "Discounted payback (years)") == "never"  # -41.32 at the end
    assert value(sheet, one, "Recommendation") == "Decline or rework"
    assert value(sheet, two, "NPV ($)") == pytest.approx(-500 + 300 / 1.08 + 300 / 1.08 ** 2)
    assert value(sheet, two, "Recommendation") == "Approve"
    grid = {key: sheet.cell(*cell).value for key, cell in one["grid"].items()}
    assert grid[(0.0, 0.0)] == pytest.approx(-41.322314)
    assert grid[(0.1, 0.0)] == pytest.approx(-1000 + 660 / 1.1 + 560 / 1.21)  # savings +10%
    assert grid[(0.0, -2.0)] == pytest.approx(-1000 + 600 / 1.08 + 500 / 1.08 ** 2)
    assert grid[(-0.2, 2.0)] == pytest.approx(-1000 + 480 / 1.12 + 380 / 1.12 ** 2)
    summary = _capital_tables(hand)["capital_summary"].set_index("Request")
    assert summary.loc["T-1", "Request name"] == "Test carousel"
    assert summary.loc["T-1", "Initial capital ($)"] == 1000
    assert summary.loc["T-1", "Horizon (years)"] == 2
    assert summary.loc["T-1", "NPV ($)"] == pytest.approx(-41.322314)
    assert summary.loc["T-1", "Discounted payback (years)"] == "never"
    assert summary.loc["T-2", "Recommendation"] == "Approve"


def test_inputs_are_styled_as_inputs_and_figures_are_formulas(hand):
    from rxxl.reports import style
    from rxxl.reports.lint import format_findings, lint_workbook

    sheet = load_workbook(hand)[CAPITAL]
    one = read_blocks(sheet)["T-1"]
    for row in one["kinds"].values():
        for col in one["years"].values():
            assert sheet.cell(row, col).style == style.INPUT_STYLE
            assert sheet.cell(row, col).data_type == "n"
    rate = sheet.cell(one["rows"]["Discount rate (%)"], 2)
    assert rate.style == style.INPUT_STYLE and rate.data_type == "n"
    assert value(sheet, one, "NPV ($)").startswith("=NPV(")
    assert "IRR(" in value(sheet, one, "IRR (%)")
    for label in ("Net cash flow ($)", "Cumulative ($)", "Discounted ($)"):
        assert all(str(value(sheet, one, label, y)).startswith("=") for y in range(3))
    summary = sheet.tables["capital_summary"]
    assert summary.ref.startswith("A4:")
    links = {cell.value: cell.hyperlink.location for (cell,) in sheet["A5:A6"]}
    assert links["Test carousel"].endswith(f"!A{one['heading']}")
    findings = [f for f in lint_workbook(hand) if f.sheet == CAPITAL]  # this sheet's
    assert findings == [], format_findings(findings)


@pytest.mark.libreoffice
def test_changing_inputs_recalculates_npv_irr_and_the_grid_in_libreoffice(
        hand, tmp_path, libreoffice_recalculate):
    book = load_workbook(hand)
    sheet = book[CAPITAL]
    one = read_blocks(sheet)["T-1"]
    # T-1 becomes -1,000 now and 1,210 net in year 2 (1,310 savings less the 100 service
    # cost), at 5%: IRR 10% (1,210 / 1.1^2 = 1,000), NPV -1,000 + 1,210 / 1.05^2.
    sheet.cell(one["kinds"]["Labor savings"], one["years"][1]).value = 0
    sheet.cell(one["kinds"]["Labor savings"], one["years"][2]).value = 1310
    sheet.cell(one["rows"]["Discount rate (%)"], 2).value = 0.05
    changed = tmp_path / "changed.xlsx"
    book.save(changed)
    after = load_workbook(libreoffice_recalculate(changed), data_only=True)[CAPITAL]
    assert value(after, one, "NPV ($)") == pytest.approx(97.505669, abs=1e-6)
    assert value(after, one, "IRR (%)") == pytest.approx(0.10, abs=1e-9)
    assert value(after, one, "Payback (years)") == pytest.approx(1 + 1000 / 1210)
    assert value(after, one, "Discounted payback (years)") == pytest.approx(
        1 + 1000 / 1097.505669)  # the discounted year 2: 1,210 / 1.1025
    assert value(after, one, "Recommendation") == "Approve"
    grid = {key: after.cell(*cell).value for key, cell in one["grid"].items()}
    assert grid[(0.1, 0.0)] == pytest.approx(-1000 + 1341 / 1.05 ** 2)  # savings 1,441
    assert grid[(0.0, 2.0)] == pytest.approx(-1000 + 1210 / 1.07 ** 2)
    summary = {after.cell(row, 2).value: after.cell(row, 6).value for row in (5, 6)}
    assert summary["T-1"] == pytest.approx(97.505669, abs=1e-6)


def test_every_block_label_has_a_dictionary_entry():
    from rxxl.reports.capital import LABELS
    from rxxl.reports.dictionary import dictionary_table

    table = dictionary_table()
    capital = table[table["sheet"] == "Capital"]
    assert set(LABELS.values()) <= set(capital["column"])
    assert capital["definition"].str.strip().str.len().gt(0).all()


def test_the_template_block_of_a_new_request_gives_way_to_the_requests(hand, tmp_path):
    from rxxl.reports.capital import NEW_REQUEST
    from rxxl.reports.lint import format_findings, lint_workbook

    sheet = load_workbook(hand)[CAPITAL]
    assert NEW_REQUEST.name not in {cell.value for (cell,) in sheet.iter_rows(max_col=1)}
    # Without capital requests: the empty summary and the new request's block, computed.
    data = tmp_path / "data"
    shutil.copytree(hand.parents[1] / "data", data)
    (data / "capital_requests.csv").unlink()
    build_report(data, MONTH, tmp_path / "out")
    path = tmp_path / "out" / package_name(pd.Period(MONTH))
    values = load_workbook(path, data_only=True)[CAPITAL]
    block = read_blocks(values)[None]
    assert values.cell(block["heading"], 1).value == NEW_REQUEST.name
    assert value(values, block, "NPV ($)") == 0
    assert value(values, block, "IRR (%)") == "no IRR"
    # The Cover's data notes name no template formula left without a computed value.
    cover = load_workbook(path, data_only=True)["Cover"]
    texts = [str(cell.value) for row in cover.iter_rows() for cell in row if cell.value]
    assert not any("not computed by rxxl" in text for text in texts)
    findings = [f for f in lint_workbook(path) if f.sheet == CAPITAL]
    assert findings == [], format_findings(findings)
