"""The template's charts as saved: straight lines, honest axes, the budget line visible."""

from __future__ import annotations

import re
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from rxxl.reports.templates import BUDGET_LINE, MONTHS_SHOWN, build_template, header_row

C = "http://schemas.openxmlformats.org/drawingml/2006/chart"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("charts") / "monthly_package.xlsx")


@pytest.fixture(scope="module")
def charts(template):
    """{chart title: chart} over every sheet, as openpyxl reads them back."""
    book = load_workbook(template)
    found = {}
    for sheet in book.worksheets:
        for chart in sheet._charts:
            text = " ".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))
            found[text] = chart
    return found


def _one(charts, words):
    (title,) = [t for t in charts if words in t]
    return charts[title]


def test_every_line_series_is_written_straight(template):
    with zipfile.ZipFile(template) as archive:
        parts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        xml = {n: archive.read(n).decode("utf-8") for n in parts}
    assert len(xml) == 8  # three p-charts on Denials
    for name, text in xml.items():
        line_series = sum(len(re.findall(r"<ser>", block))
                          for block in re.findall(r"<lineChart>.*?</lineChart>", text, re.S))
        # One <smooth val="0"/> per line series, none saying val="1".
        assert len(re.findall(r'<smooth val="0"\s*/>', text)) == line_series, name
        assert 'smooth val="1"' not in text, name


def test_amount_and_count_axes_start_at_zero(charts):
    for words in ("Drug spend by month", "Drug spend bridge", "Denial reasons",
                  "340B exceptions"):
        assert _one(charts, words).y_axis.scaling.min == 0, words


def test_the_paretos_cumulative_axis_runs_0_to_100_percent(charts):
    pareto = _one(charts, "Denial reasons")
    bars, line = pareto._charts
    assert (line.y_axis.scaling.min, line.y_axis.scaling.max) == (0, 1)
    assert line.y_axis.number_format.formatCode == "0%"
    assert line.y_axis.crosses == "max"  # the secondary axis, on the right


def test_the_budget_line_is_dashed_and_drawn_over_actual(charts):
    spend = _one(charts, "Drug spend by month")
    actual, budget = spend.series  # drawn in order: budget last, on top
    header = header_row("spend_by_month")  # the series' names are the table's headers
    assert actual.tx.strRef.f.endswith(f"C{header}") and budget.tx.strRef.f.endswith(
        f"B{header}")
    assert budget.graphicalProperties.line.prstDash == "dash"
    assert budget.graphicalProperties.line.solidFill.srgbClr == BUDGET_LINE
    assert actual.graphicalProperties.line.solidFill.srgbClr != BUDGET_LINE


def test_titles_say_what_is_shown(charts):
    # The template names the rule that picks each payer; the report names the payer.
    assert [t for t in charts if t.endswith(": initial denial rate, p-chart")] == [
        f"Payer {n} by excess denials: initial denial rate, p-chart" for n in (1, 2, 3)]
    assert all(t.strip() for t in charts)


def test_the_p_charts_draw_limits_a_dashed_center_and_out_of_control_points(charts):
    for number in (1, 2, 3):
        chart = _one(charts, f"Payer {number} by")
        rate, center, upper, lower, flagged = chart.series
        assert center.graphicalProperties.line.prstDash == "dash"
        assert rate.graphicalProperties.line.prstDash in (None, "solid")
        assert flagged.graphicalProperties.line.noFill  # markers only, no line
        assert flagged.marker.symbol not in (None, "none")
        assert (chart.y_axis.scaling.min, chart.y_axis.number_format.formatCode) == (0, "0%")
        # Each series reads its own column of the p-chart's table, 24 months.
        columns = [range_boundaries(s.val.numRef.f.split("!")[1]) for s in chart.series]
        assert len({c[0] for c in columns}) == 5
        assert all(c[3] - c[1] + 1 == MONTHS_SHOWN for c in columns)
