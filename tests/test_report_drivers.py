"""The Drivers sheet with net returns: hand-computed figures, the bridge, and the checks that
tie them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from rxxl.data import load_table
from rxxl.data.synthetic import generate
from rxxl.reports import figures
from rxxl.reports.inputs import Inputs
from rxxl.reports.monthly import build_report, package_name

MONTH = "2026-10"

# A month of net returns, worked by hand through the bridge (docs/drug-bridge.md), one
# location, no workload, no inventory change (so no timing).
# Lines (drug x account): A GPO 110 bought at $11 ($1,210) against 100 at $10 ($1,000);
# B GPO 40 at $20 ($800) against 50 at $20 ($1,000); C GPO a net return of 5 packages
# credited $5 (-$25) against 100 at $5 ($500); D (no budget) GPO 10 bought at $5 ($50) and
# D WAC 10 returned at $6 (-$60).
#   returns       C -25 (AQ <= 0, spend != 0: it consumes nothing); D WAC -60
#   discontinued  C: budgeted 100, consumed 0 -> -B = -500
#   new drug      D GPO: nothing budgeted, consumed 10 -> its consumption $50
#   utilization   A (110 - 100) x $10 = 100; B (40 - 50) x $20 = -200
#   price         A 110 x (11 - 10) = 110
#   total         A 210, B -200, C -525, D GPO 50, D WAC -60; sum -525 = 1,975 - 2,500
# Bridge: Budget 2,500, returns -85, new 50, discontinued -500, utilization -100, price 110,
# the rest 0, Actual 1,975 (2,500 - 85 + 50 - 500 - 100 + 110 = 1,975).
_ROW = {"month": MONTH, "account": "GPO", "location": "MAIN-IP"}
PURCHASES = pd.DataFrame([
    {**_ROW, "ndc": "99999000011", "drug_name": "Drug A", "quantity": 110,
     "unit_cost_actual": 11.0, "unit_cost_budget": 10.0, "budget_quantity": 100},
    {**_ROW, "ndc": "99999000022", "drug_name": "Drug B", "quantity": 40,
     "unit_cost_actual": 20.0, "unit_cost_budget": 20.0, "budget_quantity": 50},
    {**_ROW, "ndc": "99999000033", "drug_name": "Drug C", "quantity": -5,
     "unit_cost_actual": 5.0, "unit_cost_budget": 5.0, "budget_quantity": 100},
    {**_ROW, "ndc": "99999000044", "drug_name": "Drug D", "quantity": 10,
     "unit_cost_actual": 5.0, "unit_cost_budget": None, "budget_quantity": None},
    {**_ROW, "ndc": "99999000044", "drug_name": "Drug D", "quantity": -10,
     "unit_cost_actual": 6.0, "unit_cost_budget": None, "budget_quantity": None,
     "account": "WAC"},
])
EXPECTED = pd.DataFrame({
    "drug_name": ["Drug A", "Drug B", "Drug C", "Drug D", "Drug D"],
    "account": ["GPO", "GPO", "GPO", "GPO", "WAC"],
    "line_status": ["continuing", "continuing", "net return", "new", "net return"],
    "actual_spend": [1_210.0, 800, -25, 50, -60], "budget_spend": [1_000.0, 1_000, 500, 0, 0],
    "returns": [0.0, 0, -25, 0, -60], "new_drug": [0.0, 0, 0, 50, 0],
    "discontinued_drug": [0.0, 0, -500, 0, 0], "utilization": [100.0, -200, 0, 0, 0],
    "price": [110.0, 0, 0, 0, 0], "inventory_timing": [0.0] * 5,
    "workload_volume": [0.0] * 5, "account_mix": [0.0] * 5,
    "total_variance": [210.0, -200, -525, 50, -60],
}).set_index(["drug_name", "account"])
BRIDGE = {"Budget": 2_500, "Inventory timing": 0, "Net returns": -85, "New drugs": 50,
          "Discontinued drugs": -500, "Workload volume": 0, "Utilization": -100,
          "Account mix (340B capture)": 0, "Price": 110, "Actual": 1_975}


def _inputs(purchases: pd.DataFrame) -> Inputs:
    return Inputs(folder=Path("."), month=pd.Period(MONTH, freq="M"),
                  tables={"drug_purchases": load_table(purchases, "drug_purchases")},
                  reference=None, claims=None, audit=None, audit_by_month=pd.DataFrame(),
                  denial_counts=pd.DataFrame(), monthly_claims=pd.DataFrame())


def test_drivers_of_a_month_of_net_returns_are_exact():
    found = figures.drivers(_inputs(PURCHASES))
    drivers = found.lines
    shown = drivers.set_index([drivers["drug_name"].astype(str), drivers["account"].astype(str)])
    pd.testing.assert_frame_equal(shown.loc[EXPECTED.index, EXPECTED.columns], EXPECTED,
                                  check_exact=False, atol=1e-9, check_index_type=False,
                                  check_names=False, check_dtype=False)
    assert shown.loc[("Drug C", "GPO"), "actual_quantity"] == -5
    assert shown.loc[("Drug C", "GPO"), "consumed_quantity"] == 0  # a return uses nothing
    assert shown.loc[("Drug A", "GPO"), "consumed_quantity"] == 110
    assert dict(zip(found.bridge["step"], found.bridge["amount"], strict=True)) == \
        pytest.approx(BRIDGE)
    # Largest first: discontinued C, then price A... each at its grain, with its share of
    # the month's -525 (-500 / -525 = 95.2%).
    top = found.largest.iloc[0]
    assert (top["driver"], top["drug"], top["drug_name"]) == (
        "discontinued_drug", "99999000033", "Drug C")
    assert top["share_of_variance"] == pytest.approx(-500 / -525)
    price = found.largest[found.largest["driver"] == "price"].iloc[0]
    # A's price: 110 over its 110 packages used at the $10 budget price = 10%.
    assert price["unit_cost_change"] == pytest.approx(110 / 1_100)
    assert found.largest["unit_cost_change"].notna().sum() == 1  # price rows only
    # Without budget lines nothing is reconciled, and a data note says what is missing.
    assert found.reconciliation.empty
    assert any("no budget_lines table" in note for note in found.notes)


def test_a_budgeted_package_without_a_budget_price_is_refused():
    # Its budget spend would count as $0 while its packages count in the budget mix.
    broken = PURCHASES.copy()
    broken.loc[1, "unit_cost_budget"] = None
    with pytest.raises(ValueError, match=r"unit_cost_budget.*99999000022"):
        figures.drivers(_inputs(broken))


@pytest.fixture(scope="module")
def returns_month(tmp_path_factory) -> Path:
    """The small sample with a net return, a new drug and a return at another price in the
    report month at MAIN-IP, posted to a GL drug line so the purchases still reconcile."""
    folder = tmp_path_factory.mktemp("returns")
    generate(folder, size="small")
    purchases = pd.read_csv(folder / "drug_purchases.csv", dtype={"ndc": str})
    pd.concat([purchases, PURCHASES.iloc[2:]], ignore_index=True).to_csv(
        folder / "drug_purchases.csv", index=False)
    # The report refuses purchases at a location the locations table does not list.
    with (folder / "locations.csv").open("a", encoding="utf-8") as locations:
        locations.write(f"MAIN-IP,{CENTER},Main inpatient pharmacy,true\n")
    drugs = pd.read_csv(folder / "drugs.csv", dtype=str)
    added = pd.DataFrame({"ndc": ["99999000033", "99999000044"],
                          "drug_name": ["Drug C", "Drug D"], "mony_code": ["Y", "N"],
                          "budget_line": [LINE] * 2})
    pd.concat([drugs, added], ignore_index=True).to_csv(folder / "drugs.csv", index=False)
    # The GL line takes the returns' money: C budget $500, actual -$25; D actual $50 - $60.
    gl = pd.read_csv(folder / "budget_lines.csv")
    row = (gl["month"] == MONTH) & (gl["cost_center"] == CENTER) & (gl["line"] == LINE)
    assert row.sum() == 1
    gl.loc[row, "budget"] += 500.0
    gl.loc[row, "actual"] += -25.0 + 50.0 - 60.0
    gl.to_csv(folder / "budget_lines.csv", index=False)
    return folder


CENTER, LINE = "7010 RUMC Inpatient Pharmacy", "Drugs - Supportive care"


def _table(book, name: str) -> pd.DataFrame:
    for sheet in book.worksheets:
        if name in sheet.tables:
            rows = [[c.value for c in row] for row in sheet[sheet.tables[name].ref]]
            return pd.DataFrame(rows[1:], columns=rows[0])
    raise KeyError(name)


def _month_spend(folder: Path) -> float:
    purchases = pd.read_csv(folder / "drug_purchases.csv")
    month = purchases[purchases["month"] == MONTH]
    return float((month["quantity"] * month["unit_cost_actual"]).sum())


def test_report_with_net_returns_ties_bridge_drivers_and_purchases(returns_month, tmp_path):
    build_report(returns_month, MONTH, tmp_path)
    book = load_workbook(tmp_path / package_name(pd.Period(MONTH)), data_only=True)
    drivers = _table(book, "drivers")
    lines, total = drivers.iloc[:-1], drivers.iloc[-1]
    steps = _table(book, "bridge")
    bridge = dict(zip(steps["Step"], steps["Amount ($)"], strict=True))
    # The waterfall's bars: each step spans the running totals before and after it.
    running = steps["Running total ($)"].to_numpy()
    assert running[-2] == pytest.approx(running[-1])  # the last driver lands on Actual
    tops = steps["Bar from ($)"] + steps["Bar size ($)"]
    assert tops.iloc[1:-1].to_numpy() == pytest.approx(
        [max(a, b) for a, b in zip(running[:-2], running[1:-1], strict=True)])
    spend = _month_spend(returns_month)
    assert total["Actual spend ($)"] == pytest.approx(spend)
    assert bridge["Actual"] == pytest.approx(spend)
    assert bridge["Budget"] == pytest.approx(total["Budget spend ($)"])
    steps = list(figures.BRIDGE_STEPS[1:-1])
    assert bridge["Budget"] + sum(bridge[s] for s in steps) == pytest.approx(bridge["Actual"])
    returned = lines[lines["NDC"].isin(["99999000033", "99999000044"])]
    returned = returned.set_index([returned["NDC"], returned["Account"]])
    assert returned.loc[("99999000033", "GPO"), "Status"] == "net return"
    assert returned.loc[("99999000044", "WAC"), "Net returns ($)"] == pytest.approx(-60)
    assert returned.loc[("99999000044", "GPO"), "New drugs ($)"] == pytest.approx(50)
    assert returned.loc[("99999000033", "GPO"), "Discontinued drugs ($)"] == pytest.approx(-500)
    parts = lines[[f"{figures.DRIVER_LABELS[key]} ($)" for key in figures.DRIVER_LABELS]].sum(
        axis=1)
    assert (parts - lines["Total variance ($)"]).abs().max() < 1e-6
    assert (lines["Actual spend ($)"] - lines["Budget spend ($)"]
            - lines["Total variance ($)"]).abs().max() < 1e-6
    recon = _table(book, "reconciliation").set_index(["Cost center", "GL line"])
    assert recon.loc[(CENTER, LINE), "Actual difference ($)"] == pytest.approx(0, abs=0.01)
    checks = _table(book, "checks")
    assert checks["Fails"].tolist() == [0] * len(checks)
    names = " | ".join(checks["Check"])
    assert "bridge's actual" in names and "actual less budget spend" in names
    assert "GL drug lines' budget" in names


def test_report_refuses_purchases_that_do_not_tie_to_the_gl(returns_month, tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(returns_month, broken)
    gl = pd.read_csv(broken / "budget_lines.csv")
    row = (gl["month"] == MONTH) & (gl["cost_center"] == CENTER) & (gl["line"] == LINE)
    gl.loc[row, "actual"] += 100.0
    gl.to_csv(broken / "budget_lines.csv", index=False)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="must agree.*7010 RUMC Inpatient Pharmacy / Drugs -"
                                         " Supportive care"):
        build_report(broken, MONTH, out)
    assert not out.exists() or not any(out.glob("*.xlsx"))  # nothing written


@pytest.mark.parametrize("tamper, failing", [
    # The old clipping: a net return's spend left out of the bridge's Actual.
    (lambda found: found._replace(bridge=found.bridge.assign(amount=found.bridge[
        "amount"].where(found.bridge["step"] != "Actual", found.bridge["amount"] + 25))),
     "bridge's actual"),
    (lambda found: found._replace(bridge=found.bridge.assign(amount=found.bridge[
        "amount"].where(found.bridge["step"] != "Budget", found.bridge["amount"] - 1))),
     "bridge's budget"),
    # Drivers that no longer add up to actual less budget spend.
    (lambda found: found._replace(lines=found.lines.assign(
        total_variance=found.lines["total_variance"] + 1)), "actual less budget spend"),
    # A driver left out of the lines: the eight no longer add up to the variance.
    (lambda found: found._replace(lines=found.lines.assign(price=0.0)), "eight drivers"),
    # Purchases that no longer tie to the GL budget.
    (lambda found: found._replace(lines=found.lines.assign(
        budget_spend=found.lines["budget_spend"] + 1)), "GL drug lines' budget"),
])
def test_checks_fail_when_drivers_and_bridge_do_not_tie(returns_month, tmp_path, monkeypatch,
                                                         tamper, failing):
    computed = figures.drivers
    monkeypatch.setattr(figures, "drivers", lambda inputs: tamper(computed(inputs)))
    build_report(returns_month, MONTH, tmp_path)
    book = load_workbook(tmp_path / package_name(pd.Period(MONTH)), data_only=True)
    checks = _table(book, "checks").set_index("Check")["Fails"]
    failed = [name for name, fails in checks.items() if fails]
    assert any(failing in name for name in failed), failed
    cover = _table(book, "cover").set_index("Item")["Value"]
    assert cover["Checks"].endswith(("checks fail", "1 check fails"))


def test_without_a_locations_table_the_note_says_only_what_the_loader_does_not():
    # The loader's own note says a missing locations table; the Drivers note adds the rest.
    inputs = _inputs(PURCHASES)
    inputs.tables["budget_lines"] = pd.DataFrame(columns=["month", "cost_center", "line"])
    found = figures.drivers(inputs)
    assert found.reconciliation.empty
    assert "no locations table" in found.reconciliation.attrs["not_reconciled"]
    assert len(found.notes) == 1
    assert "no drugs table" in found.notes[0] and "locations" not in found.notes[0]


def test_a_stock_change_where_nothing_was_bought_is_a_data_note():
    # CLINIC's stock fell $500 (2,000 on 30 September, 1,500 on 31 October) and it bought
    # nothing: no purchase line can carry the timing, so the bridge leaves it out and says so.
    inputs = _inputs(PURCHASES)
    inputs.tables["inventory_snapshots"] = pd.DataFrame({
        "snapshot_date": pd.to_datetime(["2026-09-30", "2026-10-31"]),
        "location": ["CLINIC", "CLINIC"], "inventory_value": [2_000.0, 1_500.0]})
    found = figures.drivers(inputs)
    assert [note for note in found.notes if note.startswith("CLINIC")] == [
        "CLINIC's stock changed by -$500.00 in 2026-10 but it bought nothing that month: the"
        " change is not in the bridge's inventory timing (timing is spread over a location's"
        " purchases), so the Drivers sheet does not show it."]
    assert found.lines["inventory_timing"].abs().sum() == 0
