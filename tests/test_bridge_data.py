"""What the drug-spend bridge reads: the locations table (location -> cost center), the
drugs' budget_line, the month's bridge lines with each cost center's workload, each
location's inventory change, and the purchases reconciled to the GL drug lines.

The known values are small hand-made data folders whose arithmetic is written out in the
tables below; the synthetic sample must reconcile in every month, and its planted forward
buy must show as the outpatient pharmacy's inventory change.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl import cli
from rxxl.constants import RECONCILE_TOLERANCE
from rxxl.data.synthetic import generate
from rxxl.errors import InputError
from rxxl.reports.figures import (
    BRIDGE_LINE_COLUMNS,
    RECONCILIATION_COLUMNS,
    bridge_lines,
    reconcile_purchases,
)
from rxxl.reports.inputs import Inputs, check_locations, load_inputs

MONTH = "2026-10"

# --- the synthetic sample ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("bridge") / "sample"
    return folder, generate(folder, size="small")


@pytest.fixture(scope="module")
def sample_inputs(sample) -> Inputs:
    folder, manifest = sample
    return load_inputs(folder, manifest["months"][-1])


def test_the_sample_writes_locations_and_budget_lines(sample):
    folder, manifest = sample
    assert "locations.csv" in manifest["written"]
    assert manifest["files"]["locations"] == "locations.csv"
    locations = pd.read_csv(folder / "locations.csv", dtype=str)
    assert list(locations.columns) == ["location", "cost_center", "location_name",
                                       "replenishment"]
    assert locations["location"].is_unique and locations["location_name"].notna().all()
    op = locations.set_index("location").loc["RUMC-OP"]
    assert op["cost_center"] == "7030 RUMC Outpatient Pharmacy"
    drugs = pd.read_csv(folder / "drugs.csv", dtype=str)
    gl_lines = set(pd.read_csv(folder / "budget_lines.csv", dtype=str)["line"])
    assert drugs["budget_line"].str.startswith("Drugs - ").all()
    assert set(drugs["budget_line"]) >= {line for line in gl_lines if line.startswith("Drugs")}
    spike = next(p for p in manifest["planted"] if p["id"] == "P19")
    assert drugs.set_index("ndc").loc[spike["identifiers"]["ndc"], "budget_line"] == \
        spike["identifiers"]["line"]


def test_the_sample_reconciles_in_every_month(sample, sample_inputs):
    _, manifest = sample
    gl = sample_inputs.tables["budget_lines"]
    for month in manifest["months"]:
        inputs = dataclasses.replace(sample_inputs, month=pd.Period(month))
        check_locations(inputs.tables, inputs.month)
        table = reconcile_purchases(inputs)
        assert "not_reconciled" not in table.attrs
        assert list(table.columns) == RECONCILIATION_COLUMNS
        assert (table["actual_difference"].abs() <= RECONCILE_TOLERANCE).all(), month
        assert (table["budget_difference"].abs() <= RECONCILE_TOLERANCE).all(), month
        assert (table["status"] == "Closed").all()
        in_month = gl[(gl["month"].dt.to_period("M") == inputs.month).to_numpy()
                      & gl["line"].str.startswith("Drugs").to_numpy()]
        assert len(table) == len(in_month), month  # every GL drug line, and no other


def test_bridge_lines_add_up_to_the_gl_drug_lines(sample_inputs):
    lines, _ = bridge_lines(sample_inputs)
    assert list(lines.columns) == BRIDGE_LINE_COLUMNS
    assert not lines.duplicated(["ndc", "drug_name", "location", "account"]).any()
    assert lines["cost_center"].notna().all() and lines["budget_line"].notna().all()
    gl = sample_inputs.tables["budget_lines"]
    gl = gl[(gl["month"].dt.to_period("M") == pd.Period(MONTH)).to_numpy()
            & gl["line"].str.startswith("Drugs").to_numpy()]
    sums = lines.groupby(["cost_center", "budget_line"])[["actual_spend", "budget_spend"]].sum()
    gl = gl.set_index(["cost_center", "line"])[["actual", "budget"]]
    sums.index.names = gl.index.names
    joined = gl.join(sums, how="outer")
    assert joined.notna().all().all()
    assert np.allclose(joined["actual_spend"], joined["actual"], atol=RECONCILE_TOLERANCE)
    assert np.allclose(joined["budget_spend"], joined["budget"], atol=RECONCILE_TOLERANCE)
    assert math.isclose(lines["actual_spend"].sum(), gl["actual"].sum(), abs_tol=1.0)
    # Each line carries its cost center's workload, the same on every line of it.
    assert lines.groupby("cost_center")["budget_workload"].nunique().max() == 1
    assert lines["budget_workload"].notna().all() and lines["actual_workload"].notna().all()


def test_inventory_change_is_the_snapshot_difference_and_holds_the_forward_buy(sample,
                                                                               sample_inputs):
    folder, manifest = sample
    _, change = bridge_lines(sample_inputs)
    snaps = pd.read_csv(folder / "inventory_snapshots.csv")
    at = snaps.set_index(["location", "snapshot_date"])["inventory_value"]
    assert set(change) == set(snaps["location"])
    for location in change:
        expected = at[(location, "2026-10-31")] - at[(location, "2026-09-30")]
        assert change[location] == pytest.approx(expected, abs=0.005), location
    forward_buy = next(p for p in manifest["planted"] if p["id"] == "P20")["details"][
        "forward_buy"]
    # Measured: RUMC-OP's stock rose $550,310.16 in 2026-10 against a planted forward buy of
    # $559,841.48 (1.7% less: the rest of its stock ran down a little that month).
    assert change["RUMC-OP"] == pytest.approx(forward_buy, rel=0.02)


def test_bridge_lines_run_fast_on_the_sample(sample_inputs):
    import time

    started = time.perf_counter()
    bridge_lines(sample_inputs)
    reconcile_purchases(sample_inputs)
    assert time.perf_counter() - started < 1.0


# --- hand-made data folders ----------------------------------------------------------------------
#
# Two cost centers, two drugs, two locations:
#   IP  -> "7010 Inpatient"     INF -> "7020 Infusion"
#   A (00001000101) -> "Drugs - Oncology"      B (00001000202) -> "Drugs - Anti-infectives"
#
# Purchases of 2026-10 (packages x $ per package):
#   A  GPO  IP    10 x 100 = 1,000 actual;   8 x 95 = 760 budget
#   A  340B IP     4 x  40 =   160 actual;   6 x 40 = 240 budget
#   A  GPO  INF   -2 x 100 =  -200 actual (a return); no budget packages: 0 budget
#   B  WAC  IP     3 x  20 =    60 actual;   5 x 18 =  90 budget
# and of 2026-09 (left out of October): A GPO IP 7 x 100 = 700 actual, 7 x 100 = 700 budget.
#
# The GL drug lines of 2026-10 are those sums:
#   7010 Inpatient / Drugs - Oncology:        actual 1,000 + 160 = 1,160; budget 760 + 240 = 1,000
#   7010 Inpatient / Drugs - Anti-infectives: actual 60; budget 90
#   7020 Infusion  / Drugs - Oncology:        actual -200; budget 0
# with the workload 500 budget / 520 actual adjusted patient days at 7010, 80 budget / blank
# actual infusion visits at 7020 (and a salaries line, no volume, that is not a drug line).
#
# Snapshots: IP 5,000 on 2026-09-30; on 2026-10-31 per NDC A 3,000 + B 2,500 = 5,500, so IP's
# change is 5,500 - 5,000 = +500 (a count of 9,999 on 2026-10-15 is not a month end);
# INF 800 -> 600: -200.

A, B = "00001000101", "00001000202"
IP_CC, INF_CC = "7010 Inpatient", "7020 Infusion"
ONC, ANTI = "Drugs - Oncology", "Drugs - Anti-infectives"

PURCHASES = [
    # month, ndc, drug_name, quantity, unit_cost_actual, unit_cost_budget, budget_quantity,
    # account, location
    ("2026-10", A, "Drug A 100 mg vial", 10, 100, 95, 8, "GPO", "IP"),
    ("2026-10", A, "Drug A 100 mg vial", 4, 40, 40, 6, "340B", "IP"),
    ("2026-10", A, "Drug A 100 mg vial", -2, 100, "", "", "GPO", "INF"),
    ("2026-10", B, "Drug B 1 g vial", 3, 20, 18, 5, "WAC", "IP"),
    ("2026-09", A, "Drug A 100 mg vial", 7, 100, 100, 7, "GPO", "IP"),
]
GL = [
    # month, cost_center, line, line_type, budget, actual, volume_driver, budget_volume,
    # actual_volume
    ("2026-10", IP_CC, ONC, "expense", 1000, 1160, "adjusted patient days", 500, 520),
    ("2026-10", IP_CC, ANTI, "expense", 90, 60, "adjusted patient days", 500, 520),
    ("2026-10", IP_CC, "Salaries and wages", "expense", 5000, 5100, "", "", ""),
    ("2026-10", INF_CC, ONC, "expense", 0, -200, "infusion visits", 80, ""),
    ("2026-09", IP_CC, ONC, "expense", 700, 700, "adjusted patient days", 480, 470),
]
SNAPSHOTS = [
    # snapshot_date, location, inventory_value, ndc
    ("2026-09-30", "IP", 5000, ""),
    ("2026-10-15", "IP", 9999, ""),
    ("2026-10-31", "IP", 3000, A),
    ("2026-10-31", "IP", 2500, B),
    ("2026-09-30", "INF", 800, ""),
    ("2026-10-31", "INF", 600, ""),
]
LOCATIONS = [("IP", IP_CC, "Inpatient pharmacy"), ("INF", INF_CC, "")]
DRUGS = [(A, "Drug A 100 mg vial", "N", ONC), (B, "Drug B 1 g vial", "Y", ANTI)]


def write_folder(folder: Path, *, purchases=PURCHASES, gl=GL, snapshots=SNAPSHOTS,
                 locations=LOCATIONS, drugs=DRUGS, drug_columns=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "drug_purchases": (purchases, ["month", "ndc", "drug_name", "quantity",
                                       "unit_cost_actual", "unit_cost_budget",
                                       "budget_quantity", "account", "location"]),
        "budget_lines": (gl, ["month", "cost_center", "line", "line_type", "budget", "actual",
                              "volume_driver", "budget_volume", "actual_volume"]),
        "inventory_snapshots": (snapshots, ["snapshot_date", "location", "inventory_value",
                                            "ndc"]),
        "locations": (locations, ["location", "cost_center", "location_name"]),
        "drugs": (drugs, drug_columns or ["ndc", "drug_name", "mony_code", "budget_line"]),
    }
    for name, (rows, columns) in tables.items():
        if rows is not None:
            pd.DataFrame(rows, columns=columns).to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_bridge_lines_known_values(tmp_path):
    inputs = load_inputs(write_folder(tmp_path / "data"), MONTH)
    lines, change = bridge_lines(inputs)
    nan = np.nan
    expected = pd.DataFrame([
        # ndc, drug, location, account, actual qty, actual $, budget qty, budget $,
        # cost center, budget line, driver, budget workload, actual workload
        (A, "Drug A 100 mg vial", "INF", "GPO", -2.0, -200.0, 0.0, 0.0, INF_CC, ONC,
         "infusion visits", 80.0, nan),
        (A, "Drug A 100 mg vial", "IP", "340B", 4.0, 160.0, 6.0, 240.0, IP_CC, ONC,
         "adjusted patient days", 500.0, 520.0),
        (A, "Drug A 100 mg vial", "IP", "GPO", 10.0, 1000.0, 8.0, 760.0, IP_CC, ONC,
         "adjusted patient days", 500.0, 520.0),
        (B, "Drug B 1 g vial", "IP", "WAC", 3.0, 60.0, 5.0, 90.0, IP_CC, ANTI,
         "adjusted patient days", 500.0, 520.0),
    ], columns=BRIDGE_LINE_COLUMNS)
    got = lines.astype({c: object for c in ("ndc", "drug_name", "location", "account",
                                            "cost_center", "budget_line", "workload_driver")})
    pd.testing.assert_frame_equal(got, expected.astype(got.dtypes.to_dict()))
    assert change == {"INF": pytest.approx(-200.0), "IP": pytest.approx(500.0)}


def test_reconciliation_known_values(tmp_path):
    table = reconcile_purchases(load_inputs(write_folder(tmp_path / "data"), MONTH))
    expected = pd.DataFrame([
        (IP_CC, ANTI, "Closed", 60.0, 60.0, 0.0, 90.0, 90.0, 0.0),
        (IP_CC, ONC, "Closed", 1160.0, 1160.0, 0.0, 1000.0, 1000.0, 0.0),
        (INF_CC, ONC, "Closed", -200.0, -200.0, 0.0, 0.0, 0.0, 0.0),
    ], columns=RECONCILIATION_COLUMNS)
    pd.testing.assert_frame_equal(table.astype({"cost_center": object, "line": object}),
                                  expected, check_dtype=False)


def _gl_with(actual_onc: float | str, budget_onc: float = 1000) -> list[tuple]:
    return [(*row[:4], budget_onc, actual_onc, *row[6:])
            if row[0] == MONTH and row[1] == IP_CC and row[2] == ONC else row for row in GL]


def test_a_purchase_line_five_dollars_off_its_gl_line_stops_the_run(tmp_path):
    inputs = load_inputs(write_folder(tmp_path / "data", gl=_gl_with(1165)), MONTH)
    with pytest.raises(InputError) as caught:
        reconcile_purchases(inputs)
    text = str(caught.value)
    assert "the drug purchases and the GL drug lines must agree" in text
    for part in ("2026-10", f"{IP_CC} / {ONC}", "purchases actual $1,160.00",
                 "GL actual $1,165.00", "difference -$5.00", "1 line(s)"):
        assert part in text, part
    assert ANTI not in text  # the lines that agree are not named


def test_the_tolerance_is_a_dollar_a_line(tmp_path):
    # 1,160.90 is 0.90 from the purchases' 1,160: rounding. 1,161.01 is 1.01: a difference.
    ok = reconcile_purchases(load_inputs(write_folder(tmp_path / "a", gl=_gl_with(1160.90)),
                                         MONTH))
    assert ok.loc[ok["line"].eq(ONC) & ok["cost_center"].eq(IP_CC),
                  "actual_difference"].item() == pytest.approx(-0.90)
    with pytest.raises(InputError, match=r"difference -\$1\.01"):
        reconcile_purchases(load_inputs(write_folder(tmp_path / "b", gl=_gl_with(1161.01)),
                                        MONTH))


def test_a_line_not_closed_is_compared_on_budget_only(tmp_path):
    table = reconcile_purchases(load_inputs(write_folder(tmp_path / "a", gl=_gl_with("")),
                                            MONTH))
    row = table[table["line"].eq(ONC) & table["cost_center"].eq(IP_CC)].iloc[0]
    assert row["status"] == "Not closed" and math.isnan(row["actual_difference"])
    assert row["budget_difference"] == 0.0
    with pytest.raises(InputError, match=r"purchases budget \$1,000\.00, GL budget \$1,010\.00"):
        reconcile_purchases(load_inputs(
            write_folder(tmp_path / "b", gl=_gl_with("", budget_onc=1010)), MONTH))


def test_a_gl_drug_line_without_purchases_and_purchases_to_a_line_the_gl_lacks(tmp_path):
    extra_line = [*GL, (MONTH, INF_CC, ANTI, "expense", 50, 45, "infusion visits", 80, "")]
    with pytest.raises(InputError, match=r"7020 Infusion / Drugs - Anti-infectives: the GL line"
                                         r" has actual \$45\.00, budget \$50\.00 but no"
                                         r" purchases post to it"):
        reconcile_purchases(load_inputs(write_folder(tmp_path / "a", gl=extra_line), MONTH))
    missing_line = [row for row in GL if not (row[0] == MONTH and row[2] == ANTI)]
    with pytest.raises(InputError, match=r"7010 Inpatient / Drugs - Anti-infectives: purchases"
                                         r" of \$60\.00 \(budget \$90\.00\) post to a line the"
                                         r" GL does not have"):
        reconcile_purchases(load_inputs(write_folder(tmp_path / "b", gl=missing_line), MONTH))


def test_purchases_that_cannot_be_put_to_a_line(tmp_path):
    blank_line = [(A, "Drug A 100 mg vial", "N", ONC), (B, "Drug B 1 g vial", "Y", "")]
    with pytest.raises(InputError, match=f"1 of NDC\\(s\\) {B} with no budget_line"):
        reconcile_purchases(load_inputs(write_folder(tmp_path / "a", drugs=blank_line), MONTH))
    no_location = [(*row[:8], "") if row[3] == -2 else row for row in PURCHASES]
    with pytest.raises(InputError, match="1 with no location"):
        reconcile_purchases(load_inputs(write_folder(tmp_path / "b", purchases=no_location),
                                        MONTH))


def test_a_location_missing_from_the_locations_table(tmp_path):
    with pytest.raises(InputError) as caught:
        load_inputs(write_folder(tmp_path / "a", locations=LOCATIONS[:1]), MONTH)
    text = str(caught.value)
    assert "not in the locations table: INF;" in text and "1 location(s)" in text
    assert "cost center its purchases post to" in text
    # A location of another month only is not this month's concern.
    september_only = [*PURCHASES, ("2026-09", B, "Drug B 1 g vial", 1, 20, 18, 1, "WAC", "OLD")]
    load_inputs(write_folder(tmp_path / "b", purchases=september_only), MONTH)


def test_a_cost_center_the_gl_does_not_have(tmp_path):
    wrong = [("IP", "7010 INPATIENT", ""), ("INF", INF_CC, "")]
    with pytest.raises(InputError, match=r"1 cost center\(s\) are not in budget_lines: 7010"
                                         r" INPATIENT; write each exactly as"):
        load_inputs(write_folder(tmp_path / "a", locations=wrong), MONTH)


def test_a_missing_month_end_snapshot(tmp_path):
    no_september = [row for row in SNAPSHOTS if not (row[1] == "INF" and row[0] == "2026-09-30")]
    inputs = load_inputs(write_folder(tmp_path / "a", snapshots=no_september), MONTH)
    with pytest.raises(InputError) as caught:
        bridge_lines(inputs)
    text = str(caught.value)
    assert "INF has no snapshot on 2026-09-30" in text and "IP has no snapshot" not in text
    assert "add the month-end count" in text
    reconcile_purchases(inputs)  # the reconciliation does not read the snapshots


def test_workload_that_disagrees_within_a_cost_center(tmp_path):
    disagree = [(*row[:7], 510, row[8]) if row[0] == MONTH and row[2] == ANTI else row
                for row in GL]
    inputs = load_inputs(write_folder(tmp_path / "a", gl=disagree), MONTH)
    with pytest.raises(InputError, match=r"drug lines of cost center 7010 Inpatient in 2026-10"
                                         r" have different budget_volume \(500 and 510\)"):
        bridge_lines(inputs)


def test_a_blank_workload_on_one_line_is_skipped(tmp_path):
    one_blank = [(*row[:7], "", "") if row[0] == MONTH and row[2] == ANTI else row
                 for row in GL]
    lines, _ = bridge_lines(load_inputs(write_folder(tmp_path / "a", gl=one_blank), MONTH))
    inpatient = lines[lines["cost_center"].eq(IP_CC)]
    assert (inpatient["budget_workload"] == 500).all()
    assert (inpatient["actual_workload"] == 520).all()


def test_without_locations_or_budget_line_nothing_is_reconciled(tmp_path):
    inputs = load_inputs(write_folder(tmp_path / "a", locations=None), MONTH)
    assert any("No locations table" in note for note in inputs.notes)
    table = reconcile_purchases(inputs)
    assert table.empty and list(table.columns) == RECONCILIATION_COLUMNS
    assert table.attrs["not_reconciled"] == (
        "Drug purchases of 2026-10 were not reconciled to the GL drug lines: no locations"
        " table (the cost center each location's purchases post to).")
    lines, _ = bridge_lines(inputs)
    assert lines["cost_center"].isna().all() and lines["budget_workload"].isna().all()
    assert lines["actual_spend"].sum() == 1020.0  # 1,000 + 160 - 200 + 60

    no_column = [row[:3] for row in DRUGS]
    inputs = load_inputs(write_folder(tmp_path / "b", drugs=no_column,
                                      drug_columns=["ndc", "drug_name", "mony_code"]), MONTH)
    table = reconcile_purchases(inputs)
    assert table.empty and "no budget_line in the drugs table" in table.attrs["not_reconciled"]
    assert bridge_lines(inputs)[0]["budget_line"].isna().all()


def test_a_month_without_purchases_gives_empty_lines(tmp_path):
    inputs = load_inputs(write_folder(tmp_path / "a"), MONTH)
    inputs = dataclasses.replace(inputs, month=pd.Period("2026-08"))
    inputs.tables["inventory_snapshots"] = None
    lines, change = bridge_lines(inputs)
    assert lines.empty and list(lines.columns) == BRIDGE_LINE_COLUMNS and change == {}
    assert reconcile_purchases(inputs).empty


# --- the identity: bridge lines keep every dollar of the month's purchases -------------------

_row = st.tuples(
    st.sampled_from([A, B]), st.sampled_from(["GPO", "340B", "WAC"]),
    st.sampled_from(["IP", "INF", None]),
    st.integers(-20, 50), st.integers(0, 5_000),  # packages (returns too), $ per package
    st.one_of(st.none(), st.integers(0, 50)), st.integers(0, 5_000),  # budget packages, $
    st.sampled_from(["2026-09", "2026-10"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_row, max_size=40))
def test_bridge_lines_keep_every_dollar(rows):
    frame = pd.DataFrame(rows, columns=["ndc", "account", "location", "quantity",
                                        "unit_cost_actual", "budget_quantity",
                                        "unit_cost_budget", "month"])
    frame = frame.astype({"quantity": float, "unit_cost_actual": float,
                          "budget_quantity": float, "unit_cost_budget": float})
    frame["drug_name"] = frame["ndc"]
    frame["month"] = pd.to_datetime(frame["month"])
    frame["location"] = frame["location"].astype("string")
    inputs = Inputs(folder=Path("."), month=pd.Period(MONTH), reference=None, claims=None,
                    tables={"drug_purchases": frame}, audit=None,
                    audit_by_month=pd.DataFrame(), denial_counts=pd.DataFrame(),
                    monthly_claims=pd.DataFrame())
    lines, _ = bridge_lines(inputs)
    october = frame[frame["month"] == pd.Timestamp("2026-10-01")]
    actual = (october["quantity"] * october["unit_cost_actual"]).sum()
    budget = (october["budget_quantity"].fillna(0) * october["unit_cost_budget"]).sum()
    assert lines["actual_spend"].sum() == pytest.approx(actual, abs=1e-6)
    assert lines["budget_spend"].sum() == pytest.approx(budget, abs=1e-6)
    assert lines["actual_quantity"].sum() == pytest.approx(october["quantity"].sum())
    assert len(lines) == len(october.drop_duplicates(["ndc", "location", "account"]))


# --- rxxl validate locations -------------------------------------------------------------------


def test_validate_the_locations_table(tmp_path, capsys):
    good = tmp_path / "locations.csv"
    pd.DataFrame(LOCATIONS, columns=["location", "cost_center", "location_name"]).to_csv(
        good, index=False)
    assert cli.main(["validate", "locations", str(good)]) == 0
    assert "valid locations table, 2 rows" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    pd.DataFrame([("IP", IP_CC), ("IP", INF_CC), ("INF", "")],
                 columns=["location", "cost_center"]).to_csv(bad, index=False)
    assert cli.main(["validate", "locations", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "cost_center" in err and "line 4" in err  # the blank cost center
    assert "IP" in err and "location" in err  # the location listed twice


def test_the_manifest_lists_the_files_it_wrote(sample):
    folder, manifest = sample
    written = set(manifest["written"])
    assert {"locations.csv", "drugs.csv"} <= written
    assert json.loads((folder / "manifest.json").read_text())["written"] == manifest["written"]
