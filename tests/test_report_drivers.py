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

# A month of net returns, worked by hand (the same basket as tests/test_variance.py).
# Budget: A 100 packages at $10, B 50 at $20, C 100 at $5: ΣBQ 250, shares 0.4/0.2/0.4,
# budget spend 2,500. Actual: A 110 at $11 ($1,210), B 40 at $20 ($800), C a net return of
# 5 packages credited $5 each (-$25), D (no budget) 10 bought at $5 on GPO and 10 returned
# for $6 each on WAC: 0 packages, -$10, no unit price. Actual spend 1,975.
# Packages bought in the split: 110, 40, 0, 0 (Σ 150).
#   price   A (11 - 10) x 110 = 110                                           total   110
#   volume  (150 - 250) x share x BP: A -400, B -400, C -200                  total -1,000
#   mix     (q - 150 x share) x BP: A 500, B 200, C -300                      total   400
#   returns C -25, D -10                                                      total   -35
#   total   A 210, B -200, C -525, D -10                                      total  -525
# Bridge: Budget 2,500, Price 110, Volume -1,000, Mix 400, Returns -35, Actual 1,975.
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
    "drug_name": ["Drug A", "Drug B", "Drug C", "Drug D"],
    "line_status": ["continuing", "continuing", "net return", "net return"],
    "actual_spend": [1_210.0, 800, -25, -10], "budget_spend": [1_000.0, 1_000, 500, 0],
    "price": [110.0, 0, 0, 0], "volume": [-400.0, -400, -200, 0],
    "mix": [500.0, 200, -300, 0], "returns": [0.0, 0, -25, -10],
    "total_variance": [210.0, -200, -525, -10],
}).set_index("drug_name")
BRIDGE = {"Budget": 2_500, "Price": 110, "Volume": -1_000, "Mix": 400, "Returns": -35,
          "Actual": 1_975}


def _inputs(purchases: pd.DataFrame) -> Inputs:
    return Inputs(folder=Path("."), month=pd.Period(MONTH, freq="M"),
                  tables={"drug_purchases": load_table(purchases, "drug_purchases")},
                  reference=None, claims=None, audit=None, audit_by_month=pd.DataFrame(),
                  denial_counts=pd.DataFrame(), monthly_claims=pd.DataFrame())


def test_drivers_of_a_month_of_net_returns_are_exact():
    drivers, bridge = figures.drivers(_inputs(PURCHASES))
    shown = drivers.set_index(drivers["drug_name"].astype(str))
    pd.testing.assert_frame_equal(shown.loc[EXPECTED.index, EXPECTED.columns], EXPECTED,
                                  check_exact=False, atol=1e-9, check_index_type=False,
                                  check_names=False)
    assert shown.loc["Drug C", "actual_quantity"] == -5
    assert shown.loc["Drug C", "actual_unit_cost"] == pytest.approx(5.0)  # credit a package
    assert pd.isna(shown.loc["Drug D", "actual_unit_cost"])  # 0 packages: no unit price
    assert dict(zip(bridge["step"], bridge["amount"], strict=True)) == pytest.approx(BRIDGE)


def test_a_budgeted_package_without_a_budget_price_is_refused():
    # Its budget spend would count as $0 while its packages count in the budget mix.
    broken = PURCHASES.copy()
    broken.loc[1, "unit_cost_budget"] = None
    with pytest.raises(ValueError, match=r"unit_cost_budget.*99999000022"):
        figures.drivers(_inputs(broken))


@pytest.fixture(scope="module")
def returns_month(tmp_path_factory) -> Path:
    """The small sample with a net return and a return at another price in the report month."""
    folder = tmp_path_factory.mktemp("returns")
    generate(folder, size="small")
    purchases = pd.read_csv(folder / "drug_purchases.csv", dtype={"ndc": str})
    pd.concat([purchases, PURCHASES.iloc[2:]], ignore_index=True).to_csv(
        folder / "drug_purchases.csv", index=False)
    # The report refuses purchases at a location the locations table does not list.
    with (folder / "locations.csv").open("a", encoding="utf-8") as locations:
        locations.write("MAIN-IP,7010 RUMC Inpatient Pharmacy,Main inpatient pharmacy\n")
    return folder


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
    bridge = dict(zip(*_table(book, "bridge").T.values, strict=True))
    spend = _month_spend(returns_month)
    assert total["Actual spend ($)"] == pytest.approx(spend)
    assert bridge["Actual"] == pytest.approx(spend)
    assert bridge["Budget"] == pytest.approx(total["Budget spend ($)"])
    steps = ("Price", "Volume", "Mix", "Returns")
    assert bridge["Budget"] + sum(bridge[s] for s in steps) == pytest.approx(bridge["Actual"])
    returned = lines[lines["NDC"].isin(["99999000033", "99999000044"])].set_index("NDC")
    assert returned["Status"].tolist() == ["net return", "net return"]
    assert returned["Returns ($)"].tolist() == pytest.approx([-25, -10])
    parts = lines[["Price ($)", "Volume ($)", "Mix ($)", "Returns ($)"]].sum(axis=1)
    assert (parts - lines["Total variance ($)"]).abs().max() < 1e-6
    assert (lines["Actual spend ($)"] - lines["Budget spend ($)"]
            - lines["Total variance ($)"]).abs().max() < 1e-6
    checks = _table(book, "checks")
    assert checks["Fails"].tolist() == [0] * len(checks)
    names = " | ".join(checks["Check"])
    assert "bridge's actual" in names and "actual less budget spend" in names


@pytest.mark.parametrize("tamper, failing", [
    # The old clipping: a net return's spend left out of the bridge's Actual.
    (lambda drivers, bridge: (drivers, bridge.assign(amount=bridge["amount"].where(
        bridge["step"] != "Actual", bridge["amount"] + 25))), "bridge's actual"),
    (lambda drivers, bridge: (drivers, bridge.assign(amount=bridge["amount"].where(
        bridge["step"] != "Budget", bridge["amount"] - 1))), "bridge's budget"),
    # Drivers that no longer add up to actual less budget spend.
    (lambda drivers, bridge: (drivers.assign(total_variance=drivers["total_variance"] + 1),
                              bridge), "actual less budget spend"),
])
def test_checks_fail_when_drivers_and_bridge_do_not_tie(returns_month, tmp_path, monkeypatch,
                                                         tamper, failing):
    computed = figures.drivers
    monkeypatch.setattr(figures, "drivers", lambda inputs: tamper(*computed(inputs)))
    build_report(returns_month, MONTH, tmp_path)
    book = load_workbook(tmp_path / package_name(pd.Period(MONTH)), data_only=True)
    checks = _table(book, "checks").set_index("Check")["Fails"]
    failed = [name for name, fails in checks.items() if fails]
    assert any(failing in name for name in failed), failed
    cover = _table(book, "cover").set_index("Item")["Value"]
    assert cover["Checks"].endswith("checks fail")
