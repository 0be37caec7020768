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
    results = _capital_tables(path)["capital_results"].set_index("Request")
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
    flows_shown = _capital_tables(tmp_path / "out" / package_name(pd.Period(MONTH)))[
        "capital_flows"]
    names = set(flows_shown.iloc[:, 1])
    assert all("_x001B_[31m bell_x0007_ cr_x000D_ end" in name for name in names)
    for book in (package_name(pd.Period(MONTH)), detail_name(pd.Period(MONTH))):
        with zipfile.ZipFile(tmp_path / "out" / book) as archive:
            for name in archive.namelist():
                if name.endswith(".xml"):
                    ElementTree.fromstring(archive.read(name))  # well-formed XML
