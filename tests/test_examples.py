"""The example workbook: every RX_ function, cached values that are the functions' results."""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from rxxl import udfs
from rxxl.data.synthetic import generate
from rxxl.examples import build_function_examples
from rxxl.reports.lint import format_findings, lint_workbook
from rxxl.reports.style import HEADER_STYLE, INPUT_STYLE

COMMITTED = Path(__file__).resolve().parents[1] / "workbooks" / "rx_functions.xlsx"
REBUILD = "rebuild it with `python -m rxxl.examples workbooks/rx_functions.xlsx`"
# One RX_ call on cell references: nothing else, so no data text became a formula.
CALL = re.compile(r"^=(RX_[A-Z0-9_]+)\(((?:\$?[A-Z]+\$?[0-9]+(?::\$?[A-Z]+\$?[0-9]+)?,?)+)\)$")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_function_examples(tmp_path_factory.mktemp("examples") / "rx_functions.xlsx")


@pytest.fixture(scope="module")
def books(built):
    return load_workbook(built), load_workbook(built, data_only=True)


@pytest.fixture()
def reference(tmp_path_factory, monkeypatch):
    """The folder RX_340B_CHECK's blank reference cell stands for: ``rxxl sample``'s default."""
    folder = tmp_path_factory.getbasetemp() / "examples-reference" / "health-system"
    if not (folder / "manifest.json").exists():
        generate(folder)
    monkeypatch.setenv("RXXL_REFERENCE_DIR", str(folder))
    return folder


def _formulas(book):
    """(sheet, cell, formula text, array ref or None) for every formula in the workbook."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, ArrayFormula):
                    yield sheet, cell, cell.value.text, cell.value.ref
                elif cell.data_type == "f":
                    yield sheet, cell, cell.value, None


def _passed(value):
    """A cell value as xlwings hands it over: numbers as floats, dates as datetimes."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return float(value)


def _argument(sheet, ref):
    first_col, first_row, last_col, last_row = range_boundaries(ref)
    grid = [[_passed(sheet.cell(r, c).value) for c in range(first_col, last_col + 1)]
            for r in range(first_row, last_row + 1)]
    return grid if ":" in ref else grid[0][0]


def _same(cached, computed):
    if computed == "":  # empty text (no reasons on a compliant claim) reads back as blank
        return cached in (None, "")
    if isinstance(computed, float):
        return isinstance(cached, int | float) and math.isclose(cached, computed, rel_tol=1e-12,
                                                                abs_tol=1e-9)
    return cached == computed


def test_every_rx_function_is_used(books):
    formulas, _ = books
    used = {CALL.match(text).group(1) for _, _, text, _ in _formulas(formulas)}
    assert used == {name for name in dir(udfs) if name.startswith("RX_")}


def test_every_formula_is_one_rx_call_on_cell_references(books):
    formulas, _ = books
    texts = [text for _, _, text, _ in _formulas(formulas)]
    assert texts and all(CALL.match(text) for text in texts), texts


def test_cached_values_are_the_functions_results(books, reference):
    formulas, values = books
    for sheet, cell, text, block in _formulas(formulas):
        name, refs = CALL.match(text).groups()
        result = getattr(udfs, name)(*(_argument(sheet, ref) for ref in refs.split(",")))
        shown = values[sheet.title]
        where = f"{sheet.title}!{cell.coordinate} ({text})"
        if block is None:
            assert not isinstance(result, list), where
            assert _same(shown[cell.coordinate].value, result), (where, result)
            continue
        first_col, first_row, last_col, last_row = range_boundaries(block)
        assert (last_row - first_row + 1, last_col - first_col + 1) == (
            len(result), len(result[0])), where
        for i, line in enumerate(result):
            for j, expected in enumerate(line):
                got = shown.cell(first_row + i, first_col + j).value
                assert _same(got, expected), (where, i, j, got, expected)


def test_inputs_are_styled_as_inputs(books):
    formulas, _ = books
    for sheet, _, text, _ in _formulas(formulas):
        for ref in CALL.match(text).group(2).split(","):
            first_col, first_row, last_col, last_row = range_boundaries(ref)
            styles = {sheet.cell(r, c).style for r in range(first_row, last_row + 1)
                      for c in range(first_col, last_col + 1)}
            # The claims range of RX_340B_CHECK starts on its header row.
            assert styles <= {INPUT_STYLE, HEADER_STYLE}, (sheet.title, ref, styles)


def test_the_workbook_lints_clean(built):
    # No Checks sheet: the examples have no totals to tie out.
    findings = lint_workbook(built, values=built, skip={"checks-sheet"})
    assert findings == [], format_findings(findings)


def _content(path):
    """Every cell's formula (or constant) and cached value, and every array formula's block."""
    formulas, values = load_workbook(path), load_workbook(path, data_only=True)
    content = {}
    for sheet in formulas.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                formula = cell.value
                if isinstance(formula, ArrayFormula):
                    formula = (formula.ref, formula.text)
                shown = values[sheet.title][cell.coordinate].value
                if formula is not None or shown is not None:
                    content[(sheet.title, cell.coordinate)] = (formula, shown, cell.style,
                                                               cell.number_format)
    return content


def test_the_committed_workbook_is_a_fresh_build(built):
    assert COMMITTED.exists(), f"workbooks/rx_functions.xlsx is missing; {REBUILD}"
    committed, fresh = _content(COMMITTED), _content(built)
    changed = sorted(key for key in committed.keys() | fresh.keys()
                     if committed.get(key) != fresh.get(key))
    assert not changed, f"the committed workbook differs at {changed[:5]}; {REBUILD}"


def test_a_rebuild_is_byte_identical(built, tmp_path):
    again = build_function_examples(tmp_path / "again.xlsx")
    assert again.read_bytes() == built.read_bytes()



def test_the_workbook_does_not_force_a_recalculation_on_open(built):
    # Opened without the add-in, a forced recalculation turns every RX_ cell into #NAME?.
    with zipfile.ZipFile(built) as archive:
        workbook = archive.read("xl/workbook.xml").decode("utf-8")
    calc = re.search(r"<calcPr\b[^>]*>", workbook).group(0)
    assert 'fullCalcOnLoad="1"' not in calc and 'fullCalcOnLoad="true"' not in calc, calc
    # Excel recalculates a file last calculated by an older engine; 191029 is Excel 365's.
    assert int(re.search(r'calcId="([0-9]+)"', calc).group(1)) >= 191029, calc


def _cells_with_a_value(path):
    """{sheet title: coordinates of cells whose XML holds a <v> value} of a saved workbook."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    book = load_workbook(path, read_only=True)
    with zipfile.ZipFile(path) as archive:
        found = {}
        for number, title in enumerate(book.sheetnames, start=1):
            root = ElementTree.fromstring(archive.read(f"xl/worksheets/sheet{number}.xml"))
            found[title] = {c.get("r") for c in root.iter(f"{main}c")
                            if c.find(f"{main}v") is not None}
    return found


def test_every_rx_cell_has_a_cached_value(built, books):
    formulas, _ = books
    valued = _cells_with_a_value(built)
    missing = []
    for sheet, cell, text, ref in _formulas(formulas):
        assert text.lstrip("=").startswith("RX_"), (sheet.title, cell.coordinate, text)
        block = [cell.coordinate] if ref is None else [
            c.coordinate for row in sheet[ref] for c in row]
        # An empty text result (no reasons on a compliant claim) is the cached value "".
        missing += [(sheet.title, c) for c in block if c not in valued[sheet.title]]
    assert not missing, missing[:5]
