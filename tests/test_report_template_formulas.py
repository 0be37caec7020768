"""Formulas a finance team adds to its template: kept, recalculated on open, and named on the
cover, since rxxl does not compute them (no cached value for a non-calculating reader)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from rxxl.reports.monthly import build_report, package_name
from rxxl.reports.templates import SUMMARY_TABLES_ROW, TEMPLATE_FILE, build_template

MONTH = "2026-10"
_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>(.*?)</c>)', re.S)


@pytest.fixture(scope="module")
def sample(small_sample) -> Path:
    return small_sample[0]

#: The first KPI tile's figure (This month) and the next one, under the commentary.
TILE, NEXT_TILE = f"C{SUMMARY_TABLES_ROW + 1}", f"C{SUMMARY_TABLES_ROW + 2}"


def _customized(folder: Path) -> Path:
    """The built-in template with three formulas of the team's own, saved as Excel saves a
    workbook (no full calculation on load)."""
    build_template(folder / TEMPLATE_FILE)
    book = load_workbook(folder / TEMPLATE_FILE)
    notes = book.create_sheet("CFO notes")
    notes["A1"] = "Reviewed with the CFO"
    notes["B2"] = f"=Summary!{TILE}*2"
    notes["B3"] = "=B2+1"
    book["Summary"]["Q2"] = f"=SUM(Summary!{TILE}:{NEXT_TILE})"
    book.calculation.fullCalcOnLoad = False
    book.save(folder / TEMPLATE_FILE)
    return folder


def _uncached(path: Path) -> list[str]:
    """'Sheet'!A1 of every formula cell of the saved file without a cached value."""
    found = []
    with zipfile.ZipFile(path) as archive:
        book = load_workbook(path, read_only=True)
        for index, name in enumerate(book.sheetnames, start=1):
            xml = archive.read(f"xl/worksheets/sheet{index}.xml").decode()
            for ref, content in _CELL.findall(xml):
                if content and "<f" in content and "<v>" not in content:
                    found.append(f"{name}!{ref}")
    return found


def test_every_formula_of_the_built_in_package_has_its_cached_value(sample, tmp_path):
    build_report(sample, MONTH, tmp_path)
    package = tmp_path / package_name(pd.Period(MONTH))
    assert _uncached(package) == []
    notes = " ".join(str(n) for n in _notes(package))
    assert "not computed by rxxl" not in notes


def _notes(package: Path) -> list[str]:
    book = load_workbook(package)
    for sheet in book.worksheets:
        if "data_notes" in sheet.tables:
            cells = sheet[sheet.tables["data_notes"].ref]
            return [row[1].value for row in cells][1:]
    raise KeyError("data_notes")


def test_template_formulas_are_named_on_the_cover_and_recalculated_on_open(sample, tmp_path):
    templates = _customized(tmp_path / "templates")
    out = tmp_path / "out"
    build_report(sample, MONTH, out, templates=templates)
    package = out / package_name(pd.Period(MONTH))
    # Kept as formulas, without a value: rxxl does not evaluate them ...
    assert load_workbook(package)["CFO notes"]["B2"].value == f"=Summary!{TILE}*2"
    assert sorted(_uncached(package)) == ["CFO notes!B2", "CFO notes!B3", "Summary!Q2"]
    # ... so Excel is told to calculate the whole workbook when it opens it ...
    with zipfile.ZipFile(package) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    assert re.search(r'<calcPr[^>]*fullCalcOnLoad="1"', workbook), workbook[-400:]
    # ... and the cover says which formulas a non-calculating reader shows blank.
    note = next(n for n in _notes(package) if "not computed by rxxl" in n)
    assert note.startswith("3 formulas of your template are not computed by rxxl:")
    for ref in ("'CFO notes'!B2", "'CFO notes'!B3", "'Summary'!Q2"):
        assert ref in note
    assert "blank" in note and "on open" in note


@pytest.mark.libreoffice
def test_libreoffice_computes_the_template_formulas(sample, tmp_path, libreoffice_recalculate):
    templates = _customized(tmp_path / "templates")
    out = tmp_path / "out"
    build_report(sample, MONTH, out, templates=templates)
    package = out / package_name(pd.Period(MONTH))
    cached = load_workbook(package, data_only=True)
    computed = load_workbook(libreoffice_recalculate(package), data_only=True)
    c5 = cached["Summary"][TILE].value
    assert computed["CFO notes"]["B2"].value == pytest.approx(c5 * 2)
    assert computed["CFO notes"]["B3"].value == pytest.approx(c5 * 2 + 1)
