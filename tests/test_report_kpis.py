"""The executive summary's KPI flags follow the written rules of docs/kpi-rules.md.

Known values are worked by hand in each test; the sample tests use the planted forward buy
at RUMC-OP (manifest P20) and the months before it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from rxxl.constants import DENIAL_RATE_TARGET, GDR_BENCHMARK
from rxxl.errors import InputError
from rxxl.reports import figures, kpis
from rxxl.reports.inputs import Inputs, load_inputs
from rxxl.reports.monthly import build_report, package_name

MONTH = "2026-10"
TURNS, DAYS = "Inventory turns (annual)", "Days on hand"
REPO = Path(__file__).resolve().parents[1]


# --- the demo month --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(small_sample) -> Path:
    return small_sample[0]


@pytest.fixture(scope="module")
def inputs(sample) -> Inputs:
    return load_inputs(sample, MONTH)


@pytest.fixture(scope="module")
def planted(sample) -> dict:
    return {p["id"]: p for p in json.loads((sample / "manifest.json").read_text())[
        "planted"]}["P20"]


def _tiles(inputs: Inputs) -> dict[str, kpis.Kpi]:
    tiles = kpis.kpi_table(inputs, figures.spend_by_month(inputs),
                           figures.generic_figures(inputs), figures.inventory_figures(inputs),
                           figures.audit_figures(inputs))
    return {tile.measure: tile for tile in tiles}


def _band_tiles(inputs: Inputs) -> tuple[kpis.Kpi, kpis.Kpi]:
    return kpis.inventory_kpis(inputs, figures.inventory_figures(inputs))


def test_the_forward_buy_makes_turns_and_days_on_hand_unfavorable(inputs, planted):
    # All six locations together turn about 10.3 times, inside 10-14: judged on the total
    # alone, both tiles read F. RUMC-OP alone is at about 78 days on hand (manifest).
    where = planted["identifiers"]["location"]
    tiles = _tiles(inputs)
    turns, days = tiles[TURNS], tiles[DAYS]
    assert 10 <= turns.actual <= 14
    assert turns.flag() == days.flag() == "U"
    expected_days = planted["details"]["days_on_hand"]
    # Days on hand are 365 over turns (rxxl.inventory): the manifest's days give the turns.
    expected_turns = 365 / expected_days
    assert turns.outside == (f"{where} {expected_turns:.1f} turns",)
    assert days.outside == (f"{where} {expected_days:.1f} days",)
    # Its share of the month's average inventory, (beginning + ending) / 2, from the snapshots.
    snaps = inputs.tables["inventory_snapshots"]
    ends = snaps[snaps["snapshot_date"].isin([inputs.month.start_time - pd.Timedelta(days=1),
                                              inputs.month.end_time.normalize()])]
    share = ends.loc[ends["location"] == where, "inventory_value"].sum() / ends[
        "inventory_value"].sum()
    assert turns.note.startswith(f"{where} {expected_turns:.1f} turns ({share:.0%} of inventory):"
                                 " outside 10-14 turns and its 12-month normal ")
    assert days.note.startswith(f"{where} {expected_days:.1f} days on hand ({share:.0%} of"
                                " inventory): outside 26.1-36.5 days and its 12-month normal ")


def test_only_the_planted_location_is_outside(inputs):
    # ARMC-RX turns just over 14, outside 10-14, but inside its own year's normal: not
    # flagged. LVCH-RX holds under 2% of the stock and does not count.
    stock = figures.inventory_figures(inputs)
    bands = kpis.location_bands(stock, kpis.normal_turns(kpis.turns_history(inputs, inputs.month)))
    rows = bands.set_index("location")
    assert rows.index[rows["outside"]].tolist() == ["RUMC-OP"]
    arm = rows.loc["ARMC-RX"]
    assert arm["turns"] > 14 and arm["normal_low"] <= arm["turns"] <= arm["normal_high"]
    assert arm["matters"] and not arm["outside"]
    assert rows.loc["LVCH-RX", "share"] < 0.05 and not rows.loc["LVCH-RX", "matters"]


def _without_forward_buy(inputs: Inputs, where: str, amount: float) -> Inputs:
    """The same data less the forward buy: the location's month-end stock and its purchases
    of the month both lower by ``amount``, so its COGS stays what it was."""
    tables = dict(inputs.tables)
    snaps = tables["inventory_snapshots"].copy()
    in_month = (snaps["snapshot_date"].dt.to_period("M") == inputs.month) & (
        snaps["location"] == where)
    last = in_month & (snaps["snapshot_date"] == snaps.loc[in_month, "snapshot_date"].max())
    held = snaps.loc[last, "inventory_value"].sum()
    snaps.loc[last, "inventory_value"] *= (held - amount) / held
    bought = tables["drug_purchases"].copy()
    rows = (bought["month"].dt.to_period("M") == inputs.month) & (bought["location"] == where)
    spent = (bought.loc[rows, "quantity"] * bought.loc[rows, "unit_cost_actual"]).sum()
    bought.loc[rows, "quantity"] *= (spent - amount) / spent
    tables.update(inventory_snapshots=snaps, drug_purchases=bought)
    return dataclasses.replace(inputs, tables=tables)


def test_the_same_month_without_the_forward_buy_is_favorable(inputs, planted):
    where = planted["identifiers"]["location"]
    before = figures.inventory_figures(inputs).set_index("location")
    plain = _without_forward_buy(inputs, where, planted["details"]["forward_buy"])
    after = figures.inventory_figures(plain).set_index("location")
    assert after.loc[where, "cogs"] == pytest.approx(before.loc[where, "cogs"])
    # Days on hand back near the location's normal 30.8 (manifest).
    assert after.loc[where, "days_on_hand"] == pytest.approx(
        planted["details"]["normal_days_on_hand"], rel=0.1)
    turns, days = _band_tiles(plain)
    assert (turns.flag(), days.flag(), turns.outside, days.outside, turns.note) == (
        "F", "F", (), (), "")


@pytest.mark.parametrize("month", pd.period_range("2025-11", "2026-09", freq="M").astype(str))
def test_ordinary_months_are_favorable(inputs, month):
    # The 11 months before the report month whose 12-month history is complete.
    turns, days = _band_tiles(dataclasses.replace(inputs, month=pd.Period(month)))
    assert (turns.flag(), days.flag()) == ("F", "F"), turns.note


def test_other_tiles_keep_their_rules(inputs):
    tiles = _tiles(inputs)
    spend = tiles["Total drug spend"]
    assert spend.flag() == ("U" if spend.actual > spend.target else "F")
    assert tiles["Generic dispensing rate"].target == GDR_BENCHMARK
    assert tiles["Initial denial rate"].target == DENIAL_RATE_TARGET
    # No target, no flag.
    for measure in ("340B savings (WAC less 340B cost)", "340B exceptions (claims)"):
        assert np.isnan(tiles[measure].target) and tiles[measure].flag() is None, measure


# --- hand-made inventories -------------------------------------------------------------------

#: The report month of the hand-made data: October has 31 days.
HAND_MONTH = pd.Period("2026-10")


def _hand_inputs(stock: dict[str, list[tuple[float, float]]],
                 month: pd.Period = HAND_MONTH) -> Inputs:
    """Inputs from per-location month rows (month-end inventory, purchases), the last row
    being ``month``; a month's count before the first row is the first row's inventory."""
    snaps, bought = [], []
    for location, months in stock.items():
        periods = pd.period_range(end=month, periods=len(months) + 1, freq="M")
        values = [months[0][0]] + [value for value, _ in months]
        for period, value in zip(periods, values, strict=True):
            snaps.append({"snapshot_date": period.end_time.normalize(), "location": location,
                          "inventory_value": value, "expired_value": 0.0})
        for period, (_, spent) in zip(periods[1:], months, strict=True):
            bought.append({"month": period.start_time, "location": location,
                           "quantity": 1.0, "unit_cost_actual": spent})
    tables = {"inventory_snapshots": pd.DataFrame(snaps), "drug_purchases": pd.DataFrame(bought),
              "budget_lines": None, "capital_requests": None, "drugs": None}
    return Inputs(folder=Path("."), month=month, tables=tables, reference=None, claims=None,
                  audit=None, audit_by_month=pd.DataFrame(), denial_counts=pd.DataFrame(),
                  monthly_claims=pd.DataFrame())


def _steady(average: float, report: tuple[float, float], months: int = 12
            ) -> list[tuple[float, float]]:
    """``months`` months at a constant ``average`` of stock, bought as used, with 29 and 33
    days on hand by turns (COGS = average x days in month / days on hand), then the report
    month's (ending, purchases)."""
    periods = pd.period_range(end=HAND_MONTH - 1, periods=months, freq="M")
    doh = [29.0 if k % 2 else 33.0 for k in range(months)]
    return [(average, average * p.days_in_month / d) for p, d in zip(periods, doh,
                                                                       strict=True)] + [report]


def test_hand_made_forward_buy():
    # MAIN: 900,000 at both counts, buys 1,000,000: COGS 1,000,000, turns
    #   1,000,000 x 365 / 31 / 900,000 = 13.08 (inside 10-14).
    # OP: 100,000 -> 300,000, buys 300,000: COGS = 300,000 - (300,000 - 100,000) = 100,000,
    #   average 200,000, turns 100,000 x 365 / 31 / 200,000 = 5.89, days on hand
    #   200,000 x 31 / 100,000 = 62.0.
    # All: COGS 1,100,000 on (1,000,000 + 1,200,000) / 2 = 1,100,000: 365 / 31 = 11.77 turns
    #   and 31.0 days, inside the band: F on the total alone.
    # Past 12 months, each location: 29 or 33 days on hand, turns 365/29 = 12.586 and
    #   365/33 = 11.061, six each: median (12.586 + 11.061) / 2 = 11.824, MAD 0.762, normal
    #   11.824 +/- 3.5 x 0.762 / 0.6745 = 7.87-15.78; OP's 5.89 is below it.
    # OP's share: 200,000 / 1,100,000 = 18%, it matters.
    data = _hand_inputs({"MAIN": _steady(900_000, (900_000, 1_000_000)),
                         "OP": _steady(100_000, (300_000, 300_000))})
    turns, days = _band_tiles(data)
    assert turns.actual == pytest.approx(365 / 31)
    assert days.actual == pytest.approx(31.0)
    # A year before (the first past month) both locations were at 33 days on hand.
    assert (turns.prior_year, days.prior_year) == pytest.approx((365 / 33, 33.0))
    assert (turns.flag(), turns.outside) == ("U", ("OP 5.9 turns",))
    assert (days.flag(), days.outside) == ("U", ("OP 62.0 days",))
    assert turns.note == ("OP 5.9 turns (18% of inventory): outside 10-14 turns and its"
                          " 12-month normal 7.9-15.8")
    assert days.note == ("OP 62.0 days on hand (18% of inventory): outside 26.1-36.5 days and"
                         " its 12-month normal 23.1-46.4")
    normal = kpis.normal_turns(kpis.turns_history(data, HAND_MONTH)).loc["OP"]
    assert normal["median"] == pytest.approx((365 / 29 + 365 / 33) / 2)
    half = 3.5 * (365 / 29 - 365 / 33) / 2 / 0.6745
    assert (normal["normal_low"], normal["normal_high"]) == pytest.approx(
        (normal["median"] - half, normal["median"] + half))

    # Without the buy OP holds 100,000 at both counts and buys its 100,000 of use:
    # 365 / 31 = 11.77 turns. Nothing is outside.
    plain = _hand_inputs({"MAIN": _steady(900_000, (900_000, 1_000_000)),
                          "OP": _steady(100_000, (100_000, 100_000))})
    assert [tile.flag() for tile in _band_tiles(plain)] == ["F", "F"]


def test_total_outside_the_band_is_unfavorable_with_no_location_named():
    # One location whose year runs at 58 or 66 days on hand (turns 365/58 = 6.293 and
    # 365/66 = 5.530, six each: median 5.912, MAD 0.381, normal 5.912 +/- 1.979 =
    # 3.93-7.89). This month: 100,000 at both counts, buying 50,000: 50,000 x 365 / 31 /
    # 100,000 = 5.89 turns, inside its normal, so no location is named; but the total (the
    # same 5.89) is outside 10-14: U.
    past = pd.period_range(end=HAND_MONTH - 1, periods=12, freq="M")
    slow = [(100_000.0, 100_000 * p.days_in_month / (58.0 if k % 2 else 66.0))
            for k, p in enumerate(past)]
    data = _hand_inputs({"ONLY": slow + [(100_000, 50_000)]})
    turns, days = _band_tiles(data)
    assert turns.actual == pytest.approx(50_000 * 365 / 31 / 100_000)
    assert (turns.flag(), turns.outside, days.flag(), days.outside) == ("U", (), "U", ())


def test_blank_total_is_still_unfavorable_when_a_location_is_outside():
    # NEW has its first count this month (no beginning): no turns, so the total is blank;
    # OP's forward buy (as above) still makes both tiles U. Without it: blank, not F.
    new = {"snapshot_date": HAND_MONTH.end_time.normalize(), "location": "NEW",
           "inventory_value": 10_000.0, "expired_value": 0.0}
    for op, expected in (((300_000, 300_000), "U"), ((100_000, 100_000), None)):
        data = _hand_inputs({"MAIN": _steady(900_000, (900_000, 1_000_000)),
                             "OP": _steady(100_000, op)})
        data.tables["inventory_snapshots"] = pd.concat(
            [data.tables["inventory_snapshots"], pd.DataFrame([new])], ignore_index=True)
        turns, days = _band_tiles(data)
        assert np.isnan(turns.actual) and np.isnan(days.actual)
        assert turns.flag() == days.flag() == expected


def test_a_location_without_a_year_of_history_is_judged_on_the_band():
    # OP has 5 past months (fewer than 6): no normal of its own, so its 9.5-turn month is
    # judged on 10-14 alone. OP: 100,000 at both counts, buying 100,000 x 9.5 x 31 / 365 =
    # 8,068.49: 9.5 turns.
    op = _steady(100_000, (100_000, 100_000 * 9.5 * 31 / 365), months=5)
    data = _hand_inputs({"MAIN": _steady(900_000, (900_000, 900_000 * 12 * 31 / 365)),
                         "OP": op})
    turns, _ = _band_tiles(data)
    assert turns.outside == ("OP 9.5 turns",)
    assert turns.note.endswith("outside 10-14 turns and no normal of its own (fewer than 6 of"
                               " the 12 months before have a figure)")
    # With 6 past months OP has a normal of its own: 29 and 33 days on hand, three each,
    # give 7.9-15.8 turns (as in the forward-buy case), which holds 9.5: F.
    six = _hand_inputs({"MAIN": _steady(900_000, (900_000, 900_000 * 12 * 31 / 365)),
                        "OP": _steady(100_000, (100_000, 100_000 * 9.5 * 31 / 365), months=6)})
    assert _band_tiles(six)[0].flag() == "F"


def test_normal_turns_known_values():
    # MAIN: 10, 11, 12, 13, 14 and a blank: median 12, deviations 2, 1, 0, 1, 2, MAD 1;
    #   12 +/- 3.5 x 1 / 0.6745 = 12 +/- 5.18903.
    # FLAT: five months at 2 and one at 20: MAD 0, the normal is the point 2.
    # LEAN: 1, 1, 3, 3 and two blanks, min 4 months: median 2, MAD 1, 2 - 5.19 below 0 is 0.
    # FEW: three months, fewer than the 4 asked: no normal.
    history = pd.DataFrame({
        "MAIN": [10.0, 11, 12, 13, 14, np.nan], "FLAT": [2.0, 2, 2, 2, 2, 20],
        "LEAN": [1.0, 1, 3, 3, np.nan, np.nan], "FEW": [1.0, 2, 30, np.nan, np.nan, np.nan]})
    normal = kpis.normal_turns(history, min_months=4)
    half = 3.5 / 0.6745
    assert normal.loc["MAIN"].tolist() == pytest.approx([5, 12, 12 - half, 12 + half])
    assert normal.loc["FLAT"].tolist() == pytest.approx([6, 2, 2, 2])
    assert normal.loc["LEAN"].tolist() == pytest.approx([4, 2, 0, 2 + half])
    assert normal.loc["FEW", "months"] == 3
    assert normal.loc["FEW", ["median", "normal_low", "normal_high"]].isna().all()


#: location, average inventory ($), turns, its normal (low, high) or None, then the expected
#: share, matters and outside, and why (band 10-14, 5% share; total inventory $1,000,000).
EDGES = [
    ("A", 429_010, 12.0, (11, 13), 0.42901, True, False, "inside the band"),
    ("B", 200_000, 9.0, (8, 11), 0.2, True, False, "outside the band, inside its normal"),
    ("C", 150_000, 15.0, (10, 12), 0.15, True, True, "outside the band and its normal"),
    ("D", 60_000, 14.0, (16, 18), 0.06, True, False, "at the band's top (inside) though"
                                                      " outside its normal"),
    ("E", 60_000, 10.0, (11, 12), 0.06, True, False, "at the band's bottom (inside)"),
    ("F", 50_000, 4.0, None, 0.05, True, True, "exactly 5% matters; no normal: band alone"),
    ("G", 49_990, 3.0, (10, 12), 0.04999, False, False, "just under 5%: does not matter"),
    ("H", 1_000, np.nan, (10, 12), 0.001, False, False, "no turns this month"),
]


def test_location_bands_edges():
    stock = pd.DataFrame({"location": [e[0] for e in EDGES], "average": [e[1] for e in EDGES],
                          "turns": [e[2] for e in EDGES]})
    stock["days_on_hand"] = 365 / stock["turns"]
    normal = pd.DataFrame([{"location": e[0], "normal_low": e[3][0], "normal_high": e[3][1]}
                           for e in EDGES if e[3]]).set_index("location")
    table = kpis.location_bands(stock, normal)
    assert table["location"].tolist() == list("ABCDEFGH")  # most stock first, ties stable
    for edge, row in zip(EDGES, table.itertuples(), strict=True):
        assert (row.share, row.matters, row.outside) == (pytest.approx(edge[4]), edge[5],
                                                         edge[6]), edge[7]


def test_location_bands_refuses_bad_arguments():
    stock = pd.DataFrame({"location": ["A"], "average": [1.0], "turns": [12.0],
                          "days_on_hand": [30.4]})
    with pytest.raises(InputError, match="stock: missing column.*average"):
        kpis.location_bands(stock.drop(columns="average"), pd.DataFrame())
    with pytest.raises(InputError, match="band: expected .*low < high"):
        kpis.location_bands(stock, pd.DataFrame(), band=(14, 10))
    with pytest.raises(InputError, match=r"share: expected a share of inventory in \[0, 1\]"):
        kpis.location_bands(stock, pd.DataFrame(), share=5)
    with pytest.raises(InputError, match="turns below 0 for location A"):
        kpis.normal_turns(pd.DataFrame({"A": [1.0, -2.0]}))
    with pytest.raises(InputError, match="z: expected"):
        kpis.normal_turns(pd.DataFrame({"A": [1.0]}), z=0)


# --- properties ------------------------------------------------------------------------------

_turns = st.one_of(st.just(np.nan), st.floats(0, 40, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**7).map(float), _turns, st.floats(0, 30),
                          st.floats(0, 30), st.booleans()), min_size=1, max_size=8),
       st.integers(-4, 4))
def test_location_bands_properties(rows, power):
    stock = pd.DataFrame({"location": [f"L{i}" for i in range(len(rows))],
                          "average": [r[0] for r in rows], "turns": [r[1] for r in rows]})
    stock["days_on_hand"] = 365 / stock["turns"]
    normal = pd.DataFrame({"normal_low": [min(r[2], r[3]) for r in rows],
                           "normal_high": [max(r[2], r[3]) for r in rows]},
                          index=stock["location"])[[r[4] for r in rows]]
    table = kpis.location_bands(stock, normal)
    inside_band = table["turns"].between(10, 14)
    assert not table.loc[inside_band, "outside"].any()  # inside 10-14 is never U
    assert table.loc[table["outside"], "matters"].all()
    # Shares do not depend on the unit of money: scaling by a power of two is exact.
    scaled = kpis.location_bands(stock.assign(average=stock["average"] * 2.0 ** power), normal)
    assert scaled["outside"].tolist() == table["outside"].tolist()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(0, 40), min_size=6, max_size=12), st.floats(0, 40),
       st.floats(0, 10))
def test_normal_turns_is_the_modified_z_score(past, now, shift):
    normal = kpis.normal_turns(pd.DataFrame({"L": past})).loc["L"]
    median = float(np.median(past))
    mad = float(np.median(np.abs(np.array(past) - median)))
    if mad > 1e-6 and abs(now - median) / mad < 1e6:
        z = 0.6745 * (now - median) / mad
        inside = normal["normal_low"] <= now <= normal["normal_high"]
        if abs(abs(z) - 3.5) > 1e-6:  # away from the cut-off itself
            assert inside == (abs(z) <= 3.5 or (now < median and normal["normal_low"] == 0))
    # Moving every month by the same number of turns moves the normal with it.
    moved = kpis.normal_turns(pd.DataFrame({"L": [p + shift for p in past]})).loc["L"]
    assert moved["median"] == pytest.approx(normal["median"] + shift, abs=1e-9)
    assert moved["normal_high"] == pytest.approx(normal["normal_high"] + shift, abs=1e-9)


# --- the built package ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def package(sample, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kpi-report")
    build_report(sample, MONTH, out)
    return out / package_name(pd.Period(MONTH))


def _kpi_rows(path: Path) -> dict[str, dict]:
    sheet = load_workbook(path)["Summary"]
    ref = sheet.tables["kpis"].ref
    rows = [[cell.value for cell in row] for row in sheet[ref]]
    return {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


def test_summary_tile_shows_the_flag_and_the_location(package, planted):
    rows = _kpi_rows(package)
    assert rows[TURNS]["F/U"] == rows[DAYS]["F/U"] == "U"
    days = planted["details"]["days_on_hand"]
    assert rows[TURNS]["Detail"] == f"Inventory: RUMC-OP {365 / days:.1f} turns"
    assert rows[DAYS]["Detail"] == f"Inventory: RUMC-OP {days:.1f} days"
    assert rows["Generic dispensing rate"]["Detail"] == "Generics"  # no note: the sheet


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                    reason="LibreOffice and pdftotext render the sheet")
def test_summary_sheet_renders_the_location(package, planted, tmp_path):
    # What a reader sees: the Summary sheet printed by LibreOffice holds the tile's text.
    book = load_workbook(package)
    for sheet in book.worksheets:
        if sheet.title != "Summary":
            sheet.sheet_state = "hidden"
    book.active = book.sheetnames.index("Summary")
    book.save(tmp_path / "summary.xlsx")
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
                    "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "summary.xlsx")], capture_output=True, timeout=300,
                   check=True)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "summary.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    line = next(line for line in text.splitlines() if "Inventory turns (annual)" in line)
    turns = 365 / planted["details"]["days_on_hand"]
    assert f"Inventory: RUMC-OP {turns:.1f} turns" in line and " U " in f"{line} "


def test_rules_document_names_every_tile(inputs):
    rules = (REPO / "docs" / "kpi-rules.md").read_text()
    table = [line for line in rules.splitlines() if line.startswith("| ")]
    named = {line.split("|")[1].strip() for line in table[1:]}
    for measure in _tiles(inputs):
        base = measure.split(" (closed lines")[0]
        assert any(base == name or base.startswith(name.split(" (")[0]) for name in named), \
            measure
