"""The Capital sheet: a summary of every request, then one block per request, all live.

A capital analyst's model: the summary table at the top (ranked by NPV, so the CFO reads the
ranking first) links to one block per request, stacked below it. A block is the request's
heading (name, id, initial capital, horizon and its discount rate, an input), its cash flows
by kind (capital, labor savings, revenue, service cost, ...) with the years across as inputs,
then the savings, net, cumulative and discounted rows, NPV, IRR, payback and discounted
payback, the recommendation, and a savings change x discount rate sensitivity grid of NPVs.
Every figure is a formula on the block's inputs: an analyst who changes a flow or a rate sees
the block, its grid and the summary follow. rxxl computes each value with :mod:`rxxl.roi`
and caches it, and the LibreOffice tests recalculate them all.

Every formula finds its cells by position (the rows rxxl wrote), never by a request id or a
kind: those are data text, and as a SUMIFS/MATCH criterion Excel reads ``CR-1*`` or ``CR?2``
as a pattern and ``>A`` as a comparison. The only criterion used is ``">0"``, rxxl's own.

The blocks are plain cells, not Excel tables: a block's rows are kinds of flow and its columns
years, which a table (one record a row) cannot hold. The summary stays an Excel table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from rxxl import roi
from rxxl.constants import DEFAULT_DISCOUNT_RATE
from rxxl.reports import style
from rxxl.reports.templates import fill_table
from rxxl.reports.workbook import Filler, Formula

SUMMARY = "capital_summary"
#: Savings changes (down the grid) and discount rate changes in points (across it).
SENSITIVITY_SAVINGS = (-0.2, -0.1, 0.0, 0.1, 0.2)
SENSITIVITY_RATE_POINTS = (-2.0, -1.0, 0.0, 1.0, 2.0)
NEVER = "never"
NO_IRR = "no IRR"
APPROVE = "Approve"
DECLINE = "Decline or rework"
BREAK_EVEN = "Break-even"
#: A kind of flow the data does not name.
UNNAMED_KIND = "Other flows"
#: Row labels of a request's block (column A), by key; the Dictionary defines each.
LABELS = {
    "request": "Request",
    "initial_capital": "Initial capital ($)",
    "horizon": "Horizon (years)",
    "discount_rate": "Discount rate (%)",
    "flows": "Cash flow by kind ($)",
    "total": "Total ($)",
    "savings": "Savings and revenue ($)",
    "net": "Net cash flow ($)",
    "cumulative": "Cumulative ($)",
    "discounted": "Discounted ($)",
    "cumulative_discounted": "Cumulative discounted ($)",
    "crossing": "Payback crossing (years)",
    "discounted_crossing": "Discounted crossing (years)",
    "npv": "NPV ($)",
    "irr": "IRR (%)",
    "payback": "Payback (years)",
    "discounted_payback": "Discounted payback (years)",
    "recommendation": "Recommendation",
    "sensitivity": "Sensitivity of NPV ($)",
    "rate_change": "Rate change (pts)",
    "grid_rate": "Rate tested (%)",
    "savings_change": "Savings change (%)",
}
YEAR_FORMAT = '"Year "0'
POINTS_FORMAT = '+0.0" pts";-0.0" pts";0.0" pts"'
SAVINGS_FORMAT = '+0%;-0%;0%'
#: The label column fits its labels and names up to this many characters; a longer name
#: wraps in the summary (and overflows, unwrapped, across the empty cells of its heading).
NAME_WIDTH = 46
#: Width of a year column: the largest amount shown, "(2,180,000)", and a margin.
YEAR_WIDTH = 12
#: Empty rows between the summary and the first block, and between blocks.
GAP = 2
HEADING_HEIGHT = 18.75
BOLD = Font(name=style.FONT_NAME, size=style.FONT_SIZE, bold=True)
#: The sensitivity grid's label column (D): beside the results in A:B.
GRID_COLUMN = 4
#: "never" and "no IRR" stand where numbers stand (right); a recommendation reads apart from
#: the number before it (indented).
ALIGN = {"irr": Alignment(horizontal="right"), "payback": Alignment(horizontal="right"),
         "discounted_payback": Alignment(horizontal="right"),
         "recommendation": Alignment(horizontal="left", indent=1)}


@dataclass(frozen=True)
class Request:
    """One request's inputs: its flows by kind (rows) and year (columns 0..horizon)."""

    request_id: object
    name: str
    rate: float
    kinds: list[str]
    flows: np.ndarray

    @property
    def net(self) -> np.ndarray:
        return self.flows.sum(axis=0)

    @property
    def savings(self) -> np.ndarray:
        return np.where(self.flows > 0, self.flows, 0.0).sum(axis=0)


def requests_of(frame: pd.DataFrame) -> list[Request]:
    """The requests of a ``capital_requests`` table in order of appearance: each request's
    first name and first discount rate given (else the default), its kinds in order of
    appearance, and a year of a kind without a row as 0."""
    frame = frame.sort_values("period", kind="stable")
    kind = frame["flow_type"] if "flow_type" in frame else pd.Series(np.nan, frame.index)
    frame = frame.assign(kind=kind.map(_kind_label, na_action="ignore").fillna(UNNAMED_KIND))
    ids = frame["request_id"].astype(object)
    order = list(dict.fromkeys(frame.sort_index()["request_id"].astype(object)))
    rates = frame.dropna(subset=["discount_rate"]).groupby(ids, sort=False)[
        "discount_rate"].first() if "discount_rate" in frame else pd.Series(dtype=float)
    out = []
    for request_id, mine in frame.groupby(ids, sort=False):
        table = mine.pivot_table(index="kind", columns="period", values="cash_flow",
                                 aggfunc="sum", sort=False, fill_value=0.0)
        table = table.reindex(columns=range(int(mine["period"].max()) + 1), fill_value=0.0)
        rate = rates.get(request_id, np.nan)
        out.append(Request(request_id, str(mine["request_name"].iloc[0]),
                           float(DEFAULT_DISCOUNT_RATE if pd.isna(rate) else rate),
                           [str(k) for k in table.index], table.to_numpy(dtype=float)))
    return sorted(out, key=lambda request: order.index(request.request_id))


def _kind_label(flow_type: object) -> str:
    """labor_savings -> Labor savings: the finance team's words for a kind of flow."""
    text = str(flow_type).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else UNNAMED_KIND


@dataclass(frozen=True)
class Figures:
    """What rxxl computes for a request with :mod:`rxxl.roi` (cached in the formulas)."""

    npv: float
    irr: float
    payback: float
    discounted_payback: float

    @property
    def recommendation(self) -> str:
        return APPROVE if self.npv > 0 else DECLINE if self.npv < 0 else BREAK_EVEN


def _npv(rate: float, net: np.ndarray) -> float:
    """NPV with the year-0 flow undiscounted (Excel: NPV of years 1..n plus year 0)."""
    return float(net[0] + (roi.npv(rate, net[1:]) if len(net) > 1 else 0.0))


def figures_of(request: Request) -> Figures:
    net = request.net
    return Figures(_npv(request.rate, net), roi.irr(net), roi.payback(net),
                   roi.discounted_payback(request.rate, net))


#: The template's block under its empty summary: a request with every flow 0, the model an
#: analyst who inserts the template's Capital sheet (the ribbon) fills in for a new request.
NEW_REQUEST = Request("", "New request: type its flows and discount rate in the blue cells",
                      DEFAULT_DISCOUNT_RATE, ["Capital", "Labor savings", "Service cost"],
                      np.zeros((3, 6)))


def lay_out_new_request(filler: Filler) -> None:
    """Write :data:`NEW_REQUEST`'s block under the template's empty summary."""
    sheet, table = filler.table(SUMMARY)
    last = int(table.ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    _Block(filler, sheet, last + GAP + 1, NEW_REQUEST, figures_of(NEW_REQUEST))


def _clear_new_request(sheet) -> None:
    """Remove the template's new-request block (found by its heading in column A) before
    the requests' blocks are written where it stood."""
    top = next((row for row in range(1, sheet.max_row + 1)
                if sheet.cell(row, 1).value == NEW_REQUEST.name), None)
    if top is None:
        return  # a customized template without it
    # Its columns exactly (the years and the total, the grid): a cell touched beyond them
    # would count in the sheet's printed width.
    width = max(len(NEW_REQUEST.net) + 2, GRID_COLUMN + len(SENSITIVITY_RATE_POINTS))
    for row in range(top, top + _Block.height(NEW_REQUEST)):
        for col in range(1, width + 1):
            cell = sheet.cell(row, col)
            cell.value, cell.style, cell.hyperlink = None, "Normal", None
        sheet.row_dimensions[row].height = None


def fill_capital(filler: Filler, requests: pd.DataFrame | None) -> None:
    """Fill the Capital sheet from ``capital_requests`` (None or empty: an empty summary
    and the template's new-request block)."""
    sheet = filler.table(SUMMARY)[0]
    _clear_new_request(sheet)
    if requests is None or requests.empty:
        fill_table(filler, SUMMARY, None)
        lay_out_new_request(filler)  # again, with its values cached
        return
    found = requests_of(requests)
    computed = [figures_of(request) for request in found]
    # Ranked by NPV, best first: the order the CFO reads them in (the blocks follow it).
    rank = sorted(range(len(found)), key=lambda i: -computed[i].npv)
    found, computed = [found[i] for i in rank], [computed[i] for i in rank]
    # The figures as values first (the totals row sums them), then each as a formula on its
    # block.
    summary = fill_table(filler, SUMMARY, pd.DataFrame([
        {"request_name": r.name, "request_id": r.request_id, **_summary_values(r, f)}
        for r, f in zip(found, computed, strict=True)]))
    _set_widths(sheet, found, summary)
    row = (summary.totals_row or summary.first_row + summary.rows - 1) + GAP + 1
    headings, results = [], []
    for request, figures in zip(found, computed, strict=True):
        sheet.row_breaks.append(Break(id=row - 1))  # each block starts a printed page
        block = _Block(filler, sheet, row, request, figures)
        headings.append(block.ref(1, row, absolute=False))
        results.append(block.results)
        row = block.last_row + GAP + 1
    for index, (cells, figures) in enumerate(zip(results, computed, strict=True)):
        values = _summary_values(found[index], figures)
        for key, where in cells.items():
            filler.write(summary.sheet, summary.cell(key, index, absolute=False).split("!")[1],
                         Formula(where, values[key]))
    filler.link(summary, "request_name", [f"'{summary.sheet}'!{h}" for h in headings])
    _wrap_names(sheet, summary)
    # Rows 1-2 (title, subtitle) stay on screen and on every printed page: the summary's
    # header would mislabel a block's page.
    sheet.freeze_panes = "B3"
    sheet.print_title_rows = "1:2"


def _summary_values(request: Request, figures: Figures) -> dict[str, object]:
    return {"initial_capital": -request.net[0], "horizon": len(request.net) - 1,
            "discount_rate": request.rate, **_shown(figures)}


def _shown(figures: Figures) -> dict[str, object]:
    return {"npv": figures.npv,
            "irr": figures.irr if np.isfinite(figures.irr) else NO_IRR,
            "payback": NEVER if np.isinf(figures.payback) else figures.payback,
            "discounted_payback": (NEVER if np.isinf(figures.discounted_payback)
                                   else figures.discounted_payback),
            "recommendation": figures.recommendation}


class _Block:
    """One request's block, written from ``top`` down; ``results`` maps the summary's keys
    to the formulas (references to this block's cells) the summary shows."""

    def __init__(self, filler: Filler, sheet, top: int, request: Request,
                 figures: Figures) -> None:
        self.filler, self.sheet, self.request = filler, sheet, request
        years = len(request.net)
        self.first, self.last = 2, 1 + years  # year columns (B = year 0)
        self.total_col = self.last + 1
        self.top = top
        self._heading(figures)
        self.last_row = self._grid()
        assert self.last_row == top + self.height(request) - 1

    @staticmethod
    def height(request: Request) -> int:
        """Rows of a block: heading and inputs (7), the kinds, the year rows (7), a blank
        row, the grid's caption and header rows (4) and its savings rows."""
        return 7 + len(request.kinds) + 7 + 1 + 4 + len(SENSITIVITY_SAVINGS)

    # -- references -----------------------------------------------------------------------
    @staticmethod
    def ref(col: int, row: int, *, absolute: bool = True, lock_row: bool = False,
            lock_col: bool = False) -> str:
        letter = get_column_letter(col)
        if absolute:
            return f"${letter}${row}"
        return f"{'$' if lock_col else ''}{letter}{'$' if lock_row else ''}{row}"

    def span(self, row: int) -> str:
        """The year cells of a row, absolute."""
        return f"{self.ref(self.first, row)}:{self.ref(self.last, row)}"

    def put(self, col: int, row: int, value, fmt: str | None = None,
            cell_style: str = style.CALC_STYLE) -> None:
        self.filler.write(self.sheet, self.ref(col, row, absolute=False), value, fmt,
                          cell_style)

    def label(self, row: int, key: str, cell_style: str = style.CALC_STYLE) -> None:
        self.put(1, row, LABELS[key], style.TEXT, cell_style)

    # -- the block ------------------------------------------------------------------------
    def _heading(self, figures: Figures) -> None:
        request, top = self.request, self.top
        self.put(1, top, request.name, style.TEXT, style.TITLE_STYLE)
        self.sheet.row_dimensions[top].height = HEADING_HEIGHT
        self.rate_row, self.header_row = top + 4, top + 6
        kinds = len(request.kinds)
        self.kind_rows = range(top + 7, top + 7 + kinds)
        below = top + 7 + kinds
        self.rows = {key: below + i for i, key in enumerate(
            ("savings", "net", "cumulative", "discounted", "cumulative_discounted",
             "crossing", "discounted_crossing"))}
        net = self.rows["net"]
        rate = self.ref(2, self.rate_row)
        for offset, key in enumerate(("request", "initial_capital", "horizon",
                                      "discount_rate")):
            self.label(top + 1 + offset, key)
        id_cell = self.sheet.cell(top + 1, 2)
        self.put(2, top + 1, request.request_id, style.TEXT)
        id_cell.alignment = Alignment(horizontal="left")
        self.put(2, top + 2, Formula(f"-{self.ref(self.first, net)}", -request.net[0]),
                 style.DOLLARS)
        self.put(2, top + 3, Formula(f"MAX({self.span(self.header_row)})",
                                     len(request.net) - 1), style.COUNT)
        self.put(2, self.rate_row, request.rate, style.PERCENT, style.INPUT_STYLE)
        self.results = {"initial_capital": self.ref(2, top + 2),
                        "horizon": self.ref(2, top + 3), "discount_rate": rate}
        self._figures_rows = figures

    def _grid(self) -> int:
        request, header = self.request, self.header_row
        self.label(header, "flows", style.HEADER_STYLE)
        for year in range(len(request.net)):
            self.put(self.first + year, header, year, YEAR_FORMAT, style.HEADER_STYLE)
        self.put(self.total_col, header, LABELS["total"], style.TEXT, style.HEADER_STYLE)
        for kind, row, values in zip(request.kinds, self.kind_rows, request.flows,
                                     strict=True):
            self.put(1, row, kind, style.TEXT)
            for year, value in enumerate(values):
                self.put(self.first + year, row, float(value), style.DOLLARS,
                         style.INPUT_STYLE)
        self._year_rows()
        return self._results()

    def _year_rows(self) -> None:
        request, rows, header = self.request, self.rows, self.header_row
        first_kind, last_kind = self.kind_rows[0], self.kind_rows[-1]
        rate = self.ref(2, self.rate_row)
        net = request.net
        discounted = net / (1.0 + request.rate) ** np.arange(len(net))
        cumulative, cumulative_discounted = np.cumsum(net), np.cumsum(discounted)
        values = {"savings": request.savings, "net": net, "cumulative": cumulative,
                  "discounted": discounted, "cumulative_discounted": cumulative_discounted,
                  "crossing": _crossing(net, cumulative),
                  "discounted_crossing": _crossing(discounted, cumulative_discounted)}
        formats = {"crossing": style.RATIO, "discounted_crossing": style.RATIO}
        totals = ("savings", "net", "discounted")
        for key, row in rows.items():
            self.label(row, key, style.TOTAL_STYLE if key == "net" else style.CALC_STYLE)
        for year in range(len(net)):
            col = self.first + year

            def here(key: str, col: int = col) -> str:
                return self.ref(col, rows[key], absolute=False)

            year_ref = self.ref(col, header, absolute=False, lock_row=True)
            start = self.ref(self.first, rows["net"])
            start_discounted = self.ref(self.first, rows["discounted"])
            kinds = (f"{self.ref(col, first_kind, absolute=False)}:"
                     f"{self.ref(col, last_kind, absolute=False)}")
            formulas = {
                "savings": f'SUMIF({kinds},">0")',
                "net": f"SUM({kinds})",
                "cumulative": f"SUM({start}:{here('net')})",
                "discounted": f"{here('net')}/(1+{rate})^{year_ref}",
                "cumulative_discounted": f"SUM({start_discounted}:{here('discounted')})",
                "crossing": _crossing_formula(year_ref, here("net"), here("cumulative")),
                "discounted_crossing": _crossing_formula(year_ref, here("discounted"),
                                                         here("cumulative_discounted")),
            }
            for key, text in formulas.items():
                self.put(col, rows[key], Formula(text, values[key][year]),
                         formats.get(key, style.DOLLARS),
                         style.TOTAL_STYLE if key == "net" else style.CALC_STYLE)
        for row, values_ in [*zip(self.kind_rows, request.flows, strict=True),
                             *((rows[key], values[key]) for key in totals)]:
            self.put(self.total_col, row, Formula(f"SUM({self._row_span(row)})",
                                                  float(np.sum(values_))), style.DOLLARS,
                     style.TOTAL_STYLE if row == rows["net"] else style.CALC_STYLE)

    def _row_span(self, row: int) -> str:
        return (f"{self.ref(self.first, row, absolute=False)}:"
                f"{self.ref(self.last, row, absolute=False)}")

    def _results(self) -> int:
        """NPV, IRR, paybacks and the recommendation under the years (A:B), and the
        sensitivity grid beside them; the block's last row."""
        rows, rate = self.rows, self.ref(2, self.rate_row)
        figures = self._figures_rows
        top = rows["discounted_crossing"] + 2
        net = self.rows["net"]
        year0 = self.ref(self.first, net)
        npv_text = (f"NPV({rate},{self.ref(self.first + 1, net)}:{self.ref(self.last, net)})"
                    f"+{year0}" if self.last > self.first else year0)
        # Beside the grid's savings rows: the grid's caption and header rows come first.
        first = top + 4
        npv_ref = self.ref(2, first)
        formulas = {
            "npv": npv_text,
            "irr": f'IFERROR(IRR({self.span(net)}),"{NO_IRR}")',
            "payback": _payback_formula(self, "cumulative", "crossing"),
            "discounted_payback": _payback_formula(self, "cumulative_discounted",
                                                   "discounted_crossing"),
            "recommendation": (f'IF({npv_ref}>0,"{APPROVE}",IF({npv_ref}<0,"{DECLINE}",'
                               f'"{BREAK_EVEN}"))'),
        }
        formats = {"npv": style.DOLLARS, "irr": style.PERCENT, "payback": style.RATIO,
                   "discounted_payback": style.RATIO, "recommendation": style.TEXT}
        shown = _shown(figures)
        for offset, (key, text) in enumerate(formulas.items()):
            row = first + offset
            self.label(row, key, style.TOTAL_STYLE if key == "npv" else style.CALC_STYLE)
            self.put(2, row, Formula(text, shown[key]), formats[key],
                     style.TOTAL_STYLE if key == "npv" else style.CALC_STYLE)
            self.sheet.cell(row, 2).alignment = ALIGN.get(key, Alignment())
            self.results[key] = self.ref(2, row)
        return self._sensitivity(top)

    def _sensitivity(self, top: int) -> int:
        """NPV with the savings (the positive flows of each year) changed by each step down
        the grid and the discount rate moved by each step across: one SUMPRODUCT over the
        block's net and savings rows, each year discounted by its own year."""
        request, rows = self.request, self.rows
        left = GRID_COLUMN  # beside the results, under the years
        caption = self.sheet.cell(top, left)
        self.put(left, top, LABELS["sensitivity"], style.TEXT, style.NOTE_STYLE)
        caption.alignment = Alignment(horizontal="left")
        points_row, rate_row = top + 1, top + 2
        self.put(left, points_row, LABELS["rate_change"], style.TEXT, style.HEADER_STYLE)
        self.put(left, rate_row, LABELS["grid_rate"], style.TEXT, style.HEADER_STYLE)
        height = style.header_height(max(
            style.header_lines(LABELS[key], YEAR_WIDTH) for key in (
                "rate_change", "grid_rate", "savings_change")))
        for row in (points_row, rate_row):
            self.sheet.row_dimensions[row].height = height
        # The body's header: the savings changes down column D, the NPVs across.
        self.put(left, rate_row + 1, LABELS["savings_change"], style.TEXT, style.HEADER_STYLE)
        for j in range(len(SENSITIVITY_RATE_POINTS)):
            self.put(left + 1 + j, rate_row + 1, LABELS["npv"], style.TEXT, style.HEADER_STYLE)
        self.sheet.row_dimensions[rate_row + 1].height = height
        net, savings = request.net, request.savings
        years = np.arange(len(net))
        base = self.ref(2, self.rate_row)
        for j, points in enumerate(SENSITIVITY_RATE_POINTS):
            col = left + 1 + j
            self.put(col, points_row, points, POINTS_FORMAT, style.INPUT_STYLE)
            # A point is a hundredth: Excel's % operator divides the points by 100.
            self.put(col, rate_row, Formula(
                f"{base}+{self.ref(col, points_row, absolute=False)}%",
                request.rate + points / 100), style.PERCENT)
        for i, change in enumerate(SENSITIVITY_SAVINGS):
            row = rate_row + 2 + i
            self.put(left, row, change, SAVINGS_FORMAT, style.INPUT_STYLE)
            scaled = net + savings * change
            change_ref = self.ref(left, row, absolute=False, lock_col=True)
            for j, points in enumerate(SENSITIVITY_RATE_POINTS):
                col = left + 1 + j
                rate_ref = self.ref(col, rate_row, absolute=False, lock_row=True)
                shifted = request.rate + points / 100
                value = float(np.sum(scaled / (1.0 + shifted) ** years))
                self.put(col, row, Formula(
                    f"SUMPRODUCT(({self.span(rows['net'])}+{self.span(rows['savings'])}"
                    f"*{change_ref})/(1+{rate_ref})^{self.span(self.header_row)})",
                    value), style.DOLLARS)
                if change == 0 and points == 0:  # the request as it stands: its NPV
                    self.sheet.cell(row, col).font = BOLD
        return rate_row + 1 + len(SENSITIVITY_SAVINGS)


def _crossing(flow: np.ndarray, cumulative: np.ndarray) -> list:
    """Where the cumulative flow turns from negative to not negative within a year: the year
    before plus the share of the year's flow needed. Blank ("") in the other years."""
    year = np.arange(len(flow))
    before = cumulative - flow
    crosses = (year > 0) & (cumulative >= 0) & (before < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = year - 1 + (flow - cumulative) / np.where(crosses, flow, np.nan)
    return [float(v) if hit else "" for v, hit in zip(value, crosses, strict=True)]


def _crossing_formula(year: str, flow: str, cumulative: str) -> str:
    return (f'IF(AND({year}>0,{cumulative}>=0,{cumulative}-{flow}<0),'
            f'{year}-1+({flow}-{cumulative})/{flow},"")')


def _payback_formula(block: _Block, cumulative: str, crossing: str) -> str:
    """roi.payback as a formula: never when still short at the end, 0 when never short, else
    the last crossing (the one after which the investment stays recovered)."""
    row = block.rows[cumulative]
    return (f'IF({block.ref(block.last, row)}<0,"{NEVER}",'
            f"IF(MIN({block.span(row)})>=0,0,MAX({block.span(block.rows[crossing])})))")


def _set_widths(sheet, found: Sequence[Request], summary) -> None:
    """Widths from the content: the label column fits the labels and names (up to
    NAME_WIDTH), each year column the amounts, the summary's header row its wrapped
    headers."""
    names = max(len(request.name) for request in found)
    kinds = max(len(kind) for request in found for kind in request.kinds)
    labels = max(len(text) for key, text in LABELS.items() if key != "sensitivity")
    widths = {1: min(max(names, kinds, labels) + 2, max(NAME_WIDTH, kinds + 2, labels + 2))}
    columns = max(len(request.net) for request in found) + 1  # years and the total
    last = max(columns + 1, max(summary.columns.values()),
               GRID_COLUMN + len(SENSITIVITY_RATE_POINTS))
    for col in range(2, last + 1):
        widths[col] = YEAR_WIDTH
    recommendation = summary.columns["recommendation"]
    widths[recommendation] = max(YEAR_WIDTH, max(map(len, (APPROVE, DECLINE,
                                                           BREAK_EVEN))) + 2)
    for col, width in widths.items():
        sheet.column_dimensions[get_column_letter(col)].width = width
    header = summary.first_row - 1
    lines = max(style.header_lines(str(sheet.cell(header, col).value or ""),
                                   widths.get(col, YEAR_WIDTH))
                for col in summary.columns.values())
    sheet.row_dimensions[header].height = style.header_height(lines) if lines > 1 else None


def _wrap_names(sheet, summary) -> None:
    """A name wider than its column wraps in the summary, in a row tall enough; the row's
    other cells centred on it."""
    col = summary.columns["request_name"]
    width = sheet.column_dimensions[get_column_letter(col)].width
    for index in range(summary.rows):
        row = summary.first_row + index
        for key, column in summary.columns.items():
            cell = sheet.cell(row, column)
            cell.alignment = Alignment(
                horizontal=ALIGN[key].horizontal if key in ALIGN else None,
                indent=ALIGN[key].indent if key in ALIGN else 0,
                vertical="center", wrap_text=key == "request_name")
        lines = style.header_lines(str(sheet.cell(row, col).value or ""), width)
        if lines > 1:
            sheet.row_dimensions[row].height = style.header_height(lines)
