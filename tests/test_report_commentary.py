"""The month's commentary on the package: the demo month's text (golden), every number from a
cell of the saved workbook, and the proof of issue 14 on the Drivers sheet's cells."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from rxxl.cli import main
from rxxl.constants import MATERIALITY_AMOUNT
from rxxl.reports.commentary import format_figure
from rxxl.reports.monthly import build_report, package_name
from rxxl.reports.templates import COMMENTARY_ROWS

MONTH = "2026-10"
GOLDEN = Path(__file__).parent / "golden" / f"commentary_{MONTH}.txt"
#: A number as the commentary prints it: $671k, $2.50M, 37%, 8.2%, 12 (claims), 6.2 (turns);
#: not the digits of a name ("340B").
NUMBER = re.compile(r"\$\d[\d,]*(?:\.\d+)?[kMB]?|(?<![\w$.,])\d[\d,]*(?:\.\d+)?%?(?![\w])")


@pytest.fixture(scope="module")
def sample(small_sample) -> Path:
    return small_sample[0]


@pytest.fixture(scope="module")
def built(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    summaries = build_report(sample, MONTH, out)
    return out / package_name(pd.Period(MONTH)), summaries[0].commentary


def _cell(book, reference: str):
    sheet, _, coordinate = reference.rpartition("!")
    return book[sheet.strip("'")][coordinate.replace("$", "")].value


def test_demo_month_reads_as_the_golden_text(built):
    _, sentences = built
    text = "\n".join(s.text for s in sentences) + "\n"
    if os.environ.get("RXXL_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert 5 <= len(sentences) <= 8


def test_the_summary_shows_the_sentences_a_row_each(built):
    path, sentences = built
    sheet = load_workbook(path)["Summary"]
    shown = [sheet.cell(4 + i, 1).value for i in range(COMMENTARY_ROWS)]
    assert shown == [s.text for s in sentences] + [None] * (COMMENTARY_ROWS - len(sentences))
    assert sheet["A3"].value == "The month in words"


def _check_numbers(path: Path, sentences) -> int:
    """Every number of each sentence, in order, is one of its figures' cell values in the
    saved workbook (the cached values rxxl writes, formulas included) as printed."""
    book = load_workbook(path, data_only=True)
    cited = 0
    for sentence in sentences:
        expected = []
        for figure in sentence.figures:
            assert figure.cell, f"a figure without its cell in: {sentence.text}"
            value = _cell(book, figure.cell)
            assert isinstance(value, (int, float)), (figure.cell, value)
            expected.append(format_figure(dataclasses.replace(figure, value=float(value)),
                                          sign=False, unit=False))
            cited += 1
        assert NUMBER.findall(sentence.text) == expected, sentence.text
    return cited


def test_every_number_is_the_value_of_its_cell_in_the_saved_workbook(built):
    path, sentences = built
    assert _check_numbers(path, sentences) >= 10


def test_a_month_with_a_drug_line_not_closed_says_so_from_the_cover(tmp_path):
    # Only budget lines: Drugs - A closed at 100 budget / 120 actual, Drugs - B (300) open.
    # The spend compares the closed line: $120 against $100, $20 (20%) over, not material.
    folder = tmp_path / "data"
    folder.mkdir()
    pd.DataFrame({"month": [MONTH] * 2, "cost_center": ["7010 Pharmacy"] * 2,
                  "line": ["Drugs - A", "Drugs - B"], "line_type": ["expense"] * 2,
                  "budget": [100.0, 300.0], "actual": [120.0, None]}).to_csv(
        folder / "budget_lines.csv", index=False)
    summary = build_report(folder, MONTH, tmp_path / "out")[0]
    texts = [s.text for s in summary.commentary]
    assert texts[0].startswith("Drug spend was $120 against a $100 budget, $20 (20%) over")
    assert texts[1] == "These figures cover closed lines only: 1 drug line is not closed yet."
    assert summary.commentary[1].figures[0].cell.startswith("'Cover'!")
    assert _check_numbers(summary.path, summary.commentary) == 5


def test_the_two_largest_drivers_are_the_planted_price_spike_and_forward_buy(sample, built):
    path, _ = built
    manifest = json.loads((sample / "manifest.json").read_text())
    planted = {p["id"]: p for p in manifest["planted"]}
    spike, forward = planted["P19"], planted["P20"]
    book = load_workbook(path, data_only=True)
    sheet = book["Drivers"]
    ref = sheet.tables["largest_drivers"].ref
    rows = [[c.value for c in row] for row in sheet[ref]]
    largest = pd.DataFrame(rows[1:], columns=rows[0])
    first, second = largest.iloc[0], largest.iloc[1]
    timing = first if first["Driver"] == "Inventory timing" else second
    price = second if timing is first else first
    assert (timing["Driver"], timing["Location"]) == ("Inventory timing",
                                                      forward["identifiers"]["location"])
    assert timing["Amount ($)"] == pytest.approx(forward["details"]["forward_buy"], rel=0.02)
    assert (price["Driver"], price["NDC"]) == ("Price", spike["identifiers"]["ndc"])
    assert price["Amount ($)"] == pytest.approx(spike["details"]["cost_of_the_increase"],
                                                rel=0.02)
    assert price["Unit cost vs budget (%)"] == pytest.approx(spike["details"]["factor"] - 1,
                                                             abs=0.01)
    # No planted problem reads as account mix: the bridge's account mix is immaterial, and no
    # account-mix driver names the planted drug or location.
    steps = [[c.value for c in row] for row in sheet[sheet.tables["bridge"].ref]][1:]
    bridge = {row[0]: row[1] for row in steps}
    assert abs(bridge["Account mix (340B capture)"]) < MATERIALITY_AMOUNT
    mix = largest[largest["Driver"] == "Account mix (340B capture)"]
    assert not mix["NDC"].eq(spike["identifiers"]["ndc"]).any()
    assert not mix["Location"].eq(forward["identifiers"]["location"]).any()


def test_rxxl_report_prints_the_commentary_after_the_package_line(sample, tmp_path, capsys):
    assert main(["report", "--data", str(sample), "--month", MONTH,
                 "--out", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    package = next(i for i, line in enumerate(lines) if package_name(pd.Period(MONTH)) in line)
    assert [line.strip() for line in lines[package + 1:package + 6]] == \
        GOLDEN.read_text(encoding="utf-8").splitlines()[:5]
