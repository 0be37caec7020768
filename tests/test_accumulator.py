"""The 340B split-billing accumulator: hand-built cases with the arithmetic written out, the
GPO prohibition's routing to WAC, the replenishment findings and their dollars, bad input,
and a run over the small synthetic sample's latest month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rxxl.accumulator import (
    FINDINGS,
    OVER_REPLENISHED,
    UNDER_REPLENISHED,
    accumulate,
    physical_locations,
    replenishment,
)
from rxxl.audit340b import audit_claims
from rxxl.data import load_reference, load_table
from rxxl.data.synthetic import generate
from rxxl.errors import InputError

NDC = "00006148230"  # package of 10 billing units in these cases
OTHER_NDC = "00003232810"
ENTITY = pd.DataFrame({"entity_id": ["DSH1", "CAH1"], "entity_type": ["DSH", "CAH"]})
DRUGS = pd.DataFrame({"ndc": [NDC, OTHER_NDC], "package_size": [10.0, 24.0]})


def _claims(rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Claims and their audit from short rows: date, quantity and what differs from a paid,
    compliant medical 340B claim of NDC at site S1 of DSH1."""
    filled = []
    for i, row in enumerate(rows):
        filled.append({
            "claim_id": row.get("claim_id", f"C{i}"), "service_date": pd.Timestamp(row["date"]),
            "ndc": row.get("ndc", NDC), "quantity": float(row["quantity"]),
            "site_id": row.get("site_id", "S1"), "account": row.get("account", "340B"),
            "claim_type": row.get("claim_type", "medical"), "status": row.get("status", "paid"),
            "unit_cost_340b": 50.0, "unit_cost_wac": 120.0,
            "original_claim_id": row.get("replaces"),
            # the audit's verdict on the claim
            "entity_id": row.get("entity", "DSH1"), "audit_status": row.get("audit", "compliant"),
            "reasons": row.get("reasons", ""),
        })
    frame = pd.DataFrame(filled)
    audit = pd.DataFrame({"entity_id": frame.pop("entity_id"),
                          "status": frame.pop("audit_status"), "reasons": frame.pop("reasons")})
    return frame, audit


def _month(result: pd.DataFrame, month: str, account: str = "340B") -> pd.Series:
    rows = result[(result["month"] == month) & (result["account"] == account)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# --- the accumulator ---------------------------------------------------------------------------


def test_whole_packages_are_due_and_the_remainder_carries_forward():
    claims, audit = _claims([
        {"date": "2026-08-03", "quantity": 7},
        {"date": "2026-08-21", "quantity": 6},
        {"date": "2026-09-09", "quantity": 9},
        {"date": "2026-11-02", "quantity": 1},
    ])
    result = accumulate(claims, DRUGS, audit, ENTITY)
    # August: 7 + 6 = 13 units -> 1 package of 10, 3 carried.
    august = _month(result, "2026-08")
    assert (august["units"], august["packages_due"], august["units_carried"]) == (13, 1, 3)
    # September: 3 carried + 9 = 12 -> 1 package, 2 carried.
    september = _month(result, "2026-09")
    assert (september["units"], september["packages_due"], september["units_carried"]) == (
        9, 1, 2)
    # October, no use: nothing due, the 2 units still carried.
    october = _month(result, "2026-10")
    assert (october["units"], october["packages_due"], october["units_carried"]) == (0, 0, 2)
    # November: 2 + 1 = 3, below a package.
    assert _month(result, "2026-11")["units_carried"] == 3
    assert set(result["account"]) == {"340B"}


def test_a_reversal_takes_its_units_back_in_the_month_it_arrives():
    claims, audit = _claims([
        {"claim_id": "A", "date": "2026-08-03", "quantity": 7},
        {"claim_id": "B", "date": "2026-08-21", "quantity": 6},
        {"claim_id": "C", "date": "2026-09-09", "quantity": 9},
        # B is rebilled in September: the 6 units come off, the rebill's 4 count.
        {"claim_id": "D", "date": "2026-09-15", "quantity": 4, "replaces": "B"},
    ])
    result = accumulate(claims, DRUGS, audit, ENTITY)
    # August: 13 units -> 1 package, 3 carried (the reversal is not back-dated).
    assert _month(result, "2026-08")["packages_due"] == 1
    # September: 9 - 6 + 4 = 7 units; 3 + 7 = 10 -> 1 package, 0 carried.
    september = _month(result, "2026-09")
    assert (september["units"], september["packages_due"], september["units_carried"]) == (
        7, 1, 0)


def test_a_reversal_of_reordered_units_leaves_a_negative_balance_not_a_returned_package():
    claims, audit = _claims([
        {"claim_id": "A", "date": "2026-08-03", "quantity": 12},
        # A denied pharmacy rebill of A in September: A's 12 units come off, nothing counts.
        {"claim_id": "R", "date": "2026-09-02", "quantity": 12, "replaces": "A",
         "claim_type": "pharmacy", "status": "denied"},
        {"claim_id": "B", "date": "2026-10-05", "quantity": 15},
    ])
    result = accumulate(claims, DRUGS, audit, ENTITY)
    # August: 12 -> 1 package, 2 carried.
    assert tuple(_month(result, "2026-08")[["packages_due", "units_carried"]]) == (1, 2)
    # September: -12 -> 0 units to date, the package already ordered stays: 0 - 10 = -10.
    assert tuple(_month(result, "2026-09")[["packages_due", "units_carried"]]) == (0, -10)
    # October: 15 -> 15 to date; the 10 owed first, then 5: below a second package.
    assert tuple(_month(result, "2026-10")[["packages_due", "units_carried"]]) == (0, 5)


def _opening(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ndc", "location", "account", "units_carried"])


def test_an_opening_balance_carries_into_the_first_month():
    claims, audit = _claims([
        {"date": "2026-09-04", "quantity": 5},
        {"date": "2026-10-06", "quantity": 9},
    ])
    opening = _opening([(NDC, "S1", "340B", 8.0), (OTHER_NDC, "S2", "340B", 20.0)])
    result = accumulate(claims, DRUGS, audit, ENTITY, opening=opening)
    # September: 8 carried in + 5 = 13 -> 1 package of 10, 3 carried.
    september = _month(result[result["ndc"] == NDC], "2026-09")
    assert (september["units"], september["cumulative_units"], september["packages_due"],
            september["units_carried"]) == (5, 13, 1, 3)
    # October: 3 + 9 = 12 -> 1 package, 2 carried.
    assert tuple(_month(result[result["ndc"] == NDC], "2026-10")[
        ["packages_due", "units_carried"]]) == (1, 2)
    # An opening balance without use in the period runs on: 20 units of a 24-unit package.
    other = result[result["ndc"] == OTHER_NDC]
    assert other["month"].tolist() == ["2026-09", "2026-10"]
    assert other["units"].tolist() == [0, 0] and other["packages_due"].tolist() == [0, 0]
    assert other["units_carried"].tolist() == [20, 20] and set(other["location"]) == {"S2"}
    # Without the opening, September's 5 units complete no package.
    assert _month(accumulate(claims, DRUGS, audit, ENTITY), "2026-09")["packages_due"] == 0


def test_a_negative_opening_balance_is_filled_before_a_package_is_due():
    claims, audit = _claims([
        {"date": "2026-09-04", "quantity": 6},
        {"date": "2026-10-06", "quantity": 9},
    ])
    opening = _opening([(NDC, "S1", "340B", -4.0)])
    result = accumulate(claims, DRUGS, audit, ENTITY, opening=opening)
    # September: -4 + 6 = 2 units, no package; October: 2 + 9 = 11 -> 1 package, 1 carried.
    assert tuple(_month(result, "2026-09")[["packages_due", "units_carried"]]) == (0, 2)
    assert tuple(_month(result, "2026-10")[["packages_due", "units_carried"]]) == (1, 1)


def test_a_bad_opening_balance_is_refused():
    claims, audit = _claims([{"date": "2026-09-04", "quantity": 6}])
    with pytest.raises(InputError, match="opening: missing column\\(s\\) units_carried"):
        accumulate(claims, DRUGS, audit, ENTITY,
                   opening=_opening([(NDC, "S1", "340B", 1.0)]).drop(columns="units_carried"))
    with pytest.raises(InputError, match="opening row 2: account 'PHS' is not 340B"):
        accumulate(claims, DRUGS, audit, ENTITY,
                   opening=_opening([(NDC, "S1", "340B", 1.0), (NDC, "S1", "PHS", 1.0)]))
    with pytest.raises(InputError, match="opening row 1: units_carried is blank"):
        accumulate(claims, DRUGS, audit, ENTITY, opening=_opening([(NDC, "S1", "340B", None)]))
    with pytest.raises(InputError, match="opening row 2: NDC 00006148230 at S1 on 340B is "
                                         "listed twice"):
        accumulate(claims, DRUGS, audit, ENTITY,
                   opening=_opening([(NDC, "S1", "340B", 1.0), (NDC, "S1", "340B", 2.0)]))


def test_the_claims_location_column_names_the_inventory_and_its_blanks_the_site():
    claims, audit = _claims([
        {"date": "2026-09-04", "quantity": 6, "site_id": "CLINIC-A"},
        {"date": "2026-09-05", "quantity": 7, "site_id": "CLINIC-B"},
        {"date": "2026-09-06", "quantity": 2, "site_id": "CLINIC-C"},
    ])
    claims["location"] = ["INFUSION", "INFUSION", None]
    result = accumulate(claims, DRUGS, audit, ENTITY)
    # Two clinics draw on the infusion center's stock: 6 + 7 = 13 -> 1 package there.
    infusion = result[result["location"] == "INFUSION"].iloc[0]
    assert (infusion["units"], infusion["packages_due"], infusion["units_carried"]) == (13, 1, 3)
    assert result[result["location"] == "CLINIC-C"]["units"].tolist() == [2]
    assert set(result["location"]) == {"INFUSION", "CLINIC-C"}


def test_denied_claims():
    claims, audit = _claims([
        {"date": "2026-08-03", "quantity": 5, "claim_type": "pharmacy", "status": "denied"},
        {"date": "2026-08-04", "quantity": 8, "claim_type": "medical", "status": "denied"},
        {"date": "2026-08-05", "quantity": 3},
    ])
    # A denied pharmacy claim was not dispensed; a denied infusion was given: 8 + 3 = 11.
    assert _month(accumulate(claims, DRUGS, audit, ENTITY), "2026-08")["units"] == 11
    # ... unless the policy says a denied claim adds nothing: 3.
    strict = accumulate(claims, DRUGS, audit, ENTITY, denied_medical_given=False)
    assert _month(strict, "2026-08")["units"] == 3


def test_ineligible_use_goes_to_gpo_or_to_wac_under_the_gpo_prohibition():
    claims, audit = _claims([
        {"date": "2026-08-03", "quantity": 1},                                     # 340B
        {"date": "2026-08-03", "quantity": 2, "audit": "violation",                # DSH: WAC
         "reasons": "PRESCRIBER_NOT_ELIGIBLE"},
        {"date": "2026-08-03", "quantity": 4, "audit": "violation", "entity": "CAH1",
         "reasons": "PRESCRIBER_NOT_ELIGIBLE"},                                    # CAH: GPO
        {"date": "2026-08-03", "quantity": 8, "audit": "violation",
         "reasons": "SITE_NOT_REGISTERED"},                                        # GPO
        {"date": "2026-08-03", "quantity": 16, "audit": "violation",
         "reasons": "INPATIENT"},                                                  # GPO
        {"date": "2026-08-03", "quantity": 32, "account": "GPO", "audit": "violation",
         "reasons": "GPO_PROHIBITION"},                                            # WAC
        {"date": "2026-08-03", "quantity": 64, "account": "GPO"},                  # GPO
        {"date": "2026-08-03", "quantity": 128, "audit": "review", "entity": None,
         "reasons": "ENTITY_UNKNOWN"},                                             # WAC
        {"date": "2026-08-03", "quantity": 256, "account": "WAC"},                 # WAC
    ])
    result = accumulate(claims, DRUGS, audit, ENTITY)
    units = result.set_index("account")["units"].to_dict()
    assert units == {"340B": 1, "WAC": 2 + 32 + 128 + 256, "GPO": 4 + 8 + 16 + 64}


def test_keys_are_ndc_and_location():
    claims, audit = _claims([
        {"date": "2026-08-03", "quantity": 10, "site_id": "S1"},
        {"date": "2026-08-03", "quantity": 24, "site_id": "S1", "ndc": OTHER_NDC},
        {"date": "2026-08-03", "quantity": 20, "site_id": "S2"},
    ])
    by_site = accumulate(claims, DRUGS, audit, ENTITY)
    assert by_site.set_index(["ndc", "location"])["packages_due"].to_dict() == {
        (NDC, "S1"): 1, (OTHER_NDC, "S1"): 1, (NDC, "S2"): 2}
    # The inventory location, when the sites share one.
    one = accumulate(claims, DRUGS, audit, ENTITY,
                     location=pd.Series("INF", index=claims.index))
    assert one.set_index("ndc")["packages_due"].to_dict() == {NDC: 3, OTHER_NDC: 1}
    # A claims location column is the default: 10 + 20 units of NDC at one stock room.
    stocked = accumulate(claims.assign(location="MAIN"), DRUGS, audit, ENTITY)
    assert set(stocked["location"]) == {"MAIN"}
    assert stocked.set_index("ndc")["packages_due"].to_dict() == {NDC: 3, OTHER_NDC: 1}


def test_months_limits_what_is_returned_not_what_accumulates():
    claims, audit = _claims([
        {"date": "2026-08-03", "quantity": 7},
        {"date": "2026-09-09", "quantity": 4},
    ])
    result = accumulate(claims, DRUGS, audit, ENTITY, months=["2026-09"])
    # 7 carried from August + 4 = 11 -> 1 package, 1 carried.
    assert list(result["month"]) == ["2026-09"]
    assert tuple(result.iloc[0][["packages_due", "units_carried"]]) == (1, 1)


# --- replenishment against purchases -----------------------------------------------------------


def _purchases(rows: list[tuple]) -> pd.DataFrame:
    """(month, account, packages, price per package[, ndc])"""
    return pd.DataFrame({
        "month": [pd.Timestamp(r[0] + "-01") for r in rows],
        "ndc": [r[4] if len(r) > 4 else NDC for r in rows],
        "quantity": [float(r[2]) for r in rows],
        "unit_cost_actual": [float(r[3]) for r in rows],
        "account": [r[1] for r in rows],
        "location": "S1",
    })


@pytest.fixture
def three_packages_due():
    # 30 eligible units in August -> 3 packages of 10 due; 10 GPO units -> 1 package.
    claims, audit = _claims([
        {"date": "2026-08-03", "quantity": 30},
        {"date": "2026-08-04", "quantity": 10, "account": "GPO", "entity": "CAH1"},
    ])
    return accumulate(claims, DRUGS, audit, ENTITY)


def test_over_replenishment_is_diversion_exposure_at_the_purchase_price(three_packages_due):
    checked = replenishment(three_packages_due,
                            _purchases([("2026-08", "340B", 5, 500.0), ("2026-08", "GPO", 1, 800)]))
    row = _month(checked, "2026-08")
    # 5 bought - 3 due = 2 packages over x $500 = $1,000.
    assert row["finding"] == OVER_REPLENISHED and row["finding_text"] == FINDINGS[OVER_REPLENISHED]
    assert (row["difference"], row["packages_over"], row["exposure_dollars"]) == (2, 2, 1000.0)
    assert (row["packages_under"], row["savings_left_behind"]) == (0, 0)
    assert _month(checked, "2026-08", "GPO")["finding"] is None


def test_under_replenishment_is_savings_left_behind_at_the_gpo_price(three_packages_due):
    checked = replenishment(three_packages_due, _purchases([
        ("2026-08", "340B", 1, 500.0), ("2026-08", "GPO", 3, 800.0)]))
    row = _month(checked, "2026-08")
    # 1 bought - 3 due = 2 packages short x ($800 GPO - $500 340B) = $600.
    assert row["finding"] == UNDER_REPLENISHED
    assert (row["packages_under"], row["savings_left_behind"]) == (2, 600.0)
    assert (row["packages_over"], row["exposure_dollars"]) == (0, 0)
    # Over-buying on GPO is no 340B finding.
    assert _month(checked, "2026-08", "GPO")["finding"] is None


def test_under_replenishment_without_a_purchase_priced_from_the_claims(three_packages_due):
    checked = replenishment(three_packages_due, _purchases([]))
    row = _month(checked, "2026-08")
    # Nothing bought: 3 short x (WAC $120 - 340B $50 per unit) x 10 units = $2,100.
    assert row["finding"] == UNDER_REPLENISHED
    assert (row["packages_under"], row["savings_left_behind"]) == (3, 2100.0)


def test_no_finding_when_purchases_equal_what_is_due(three_packages_due):
    checked = replenishment(three_packages_due, _purchases([
        ("2026-08", "340B", 3, 500.0), ("2026-08", "GPO", 1, 800.0)]))
    assert checked["finding"].isna().all()
    assert (checked[["exposure_dollars", "savings_left_behind"]] == 0).all().all()


def test_a_340b_purchase_without_eligible_use_is_over_replenished(three_packages_due):
    checked = replenishment(three_packages_due, _purchases([
        ("2026-08", "340B", 3, 500.0), ("2026-08", "340B", 2, 300.0, OTHER_NDC)]))
    row = checked[checked["ndc"] == OTHER_NDC].iloc[0]
    assert (row["packages_due"], row["finding"], row["exposure_dollars"]) == (
        0, OVER_REPLENISHED, 600.0)


def test_purchases_outside_the_accumulated_months_are_not_compared(three_packages_due):
    checked = replenishment(three_packages_due, _purchases([
        ("2026-08", "340B", 3, 500.0), ("2026-07", "340B", 9, 500.0)]))
    assert set(checked["month"]) == {"2026-08"}
    assert checked["finding"].isna().all()


# --- bad input ---------------------------------------------------------------------------------


def test_a_340b_ndc_without_a_package_size_is_refused():
    claims, audit = _claims([{"date": "2026-08-03", "quantity": 3}])
    drugs = pd.DataFrame({"ndc": [NDC], "package_size": [np.nan]})
    with pytest.raises(InputError, match=f"drugs: NDC {NDC} has 340B use but has no "
                                         "package_size"):
        accumulate(claims, drugs, audit, ENTITY)
    with pytest.raises(InputError, match="is not in the drugs table"):
        accumulate(claims, DRUGS[DRUGS["ndc"] == OTHER_NDC], audit, ENTITY)


def test_an_ndc_without_a_package_size_and_no_340b_use_has_unknown_packages():
    claims, audit = _claims([{"date": "2026-08-03", "quantity": 3, "account": "GPO"}])
    drugs = pd.DataFrame({"ndc": [NDC], "package_size": [np.nan]})
    result = accumulate(claims, drugs, audit, ENTITY)
    assert result["packages_due"].isna().all() and result["units"].tolist() == [3]


def test_a_package_size_that_is_not_positive_is_refused():
    claims, audit = _claims([{"date": "2026-08-03", "quantity": 3}])
    drugs = pd.DataFrame({"ndc": [OTHER_NDC, NDC], "package_size": [24.0, 0.0]})
    with pytest.raises(InputError, match=f"drugs row 2 \\(NDC {NDC}\\): package_size 0 is not "
                                         "positive"):
        accumulate(claims, drugs, audit, ENTITY)


def test_missing_columns_and_mismatched_inputs_are_refused():
    claims, audit = _claims([{"date": "2026-08-03", "quantity": 3}])
    with pytest.raises(InputError, match="claims: missing column\\(s\\) quantity"):
        accumulate(claims.drop(columns="quantity"), DRUGS, audit, ENTITY)
    with pytest.raises(InputError, match="audit: 0 rows for 1 claims"):
        accumulate(claims, DRUGS, audit.iloc[:0], ENTITY)
    with pytest.raises(InputError, match="drugs: NDC .* listed more than once"):
        accumulate(claims, pd.concat([DRUGS, DRUGS]), audit, ENTITY)
    with pytest.raises(InputError, match="months: '2026-13' is not a month"):
        accumulate(claims, DRUGS, audit, ENTITY, months=["2026-13"])
    with pytest.raises(InputError, match="claims row 1: no inventory location"):
        accumulate(claims.assign(site_id=None), DRUGS, audit, ENTITY)
    result = accumulate(claims, DRUGS, audit, ENTITY)
    with pytest.raises(InputError, match="drug_purchases: missing column\\(s\\) location"):
        replenishment(result, _purchases([("2026-08", "340B", 1, 5.0)]).drop(columns="location"))
    blank = _purchases([("2026-08", "340B", 1, 5.0)]).assign(location=None)
    with pytest.raises(InputError, match="drug_purchases row 1: location is blank"):
        replenishment(result, blank)


# --- the synthetic health system ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample") / "health-system"
    generate(folder, size="small")
    return folder


def test_the_small_samples_latest_month(sample):
    latest = sorted((sample / "claims").iterdir())[-1]
    claims = load_table(latest, "claims")
    reference = load_reference(sample)
    audit = audit_claims(claims, reference)
    result = accumulate(claims, load_table(sample / "drugs.csv", "drugs"), audit,
                        reference["entity"])
    assert len(result) > 0 and set(result["account"]) <= {"340B", "GPO", "WAC"}
    assert (result["units_carried"] >= 0).all()
    # What accumulates is what was used: paid claims and denied infusions no later claim
    # replaced (the sample's rebills repeat the claim, and replace only denied ones).
    replaced = claims["claim_id"].isin(claims["original_claim_id"].dropna())
    used = (claims["status"] == "paid") | ((claims["claim_type"] == "medical") & ~replaced)
    assert result["units"].sum() == pytest.approx(claims.loc[used, "quantity"].sum())
    # Eligible use is exactly the compliant 340B claims.
    eligible = (claims["account"] == "340B") & (audit["status"] == "compliant") & used
    assert result.loc[result["account"] == "340B", "units"].sum() == pytest.approx(
        claims.loc[eligible, "quantity"].sum())
    checked = replenishment(result, load_table(sample / "drug_purchases.csv", "drug_purchases"))
    assert set(checked["finding"].dropna()) <= {OVER_REPLENISHED, UNDER_REPLENISHED}
    assert (checked[["exposure_dollars", "savings_left_behind"]].fillna(0) >= 0).all().all()


def test_an_order_a_month_late_shows_under_then_over_and_evens_out():
    claims, audit = _claims([
        {"date": "2026-08-30", "quantity": 10},
        {"date": "2026-09-10", "quantity": 4},
    ])
    result = accumulate(claims, DRUGS, audit, ENTITY)
    # August's 10 units make 1 package due; it is bought in September.
    checked = replenishment(result, _purchases([("2026-09", "340B", 1, 500.0)]))
    august, september = _month(checked, "2026-08"), _month(checked, "2026-09")
    assert (august["finding"], august["savings_left_behind"]) == (UNDER_REPLENISHED, 700.0)
    assert (september["finding"], september["exposure_dollars"]) == (OVER_REPLENISHED, 500.0)
    # To date: -1 after August, 0 after September; 4 units carried into October.
    assert (august["cumulative_difference"], september["cumulative_difference"]) == (-1, 0)
    assert september["units_carried"] == 4


# --- the planted replenishment problems ---------------------------------------------------------


def _planted(manifest: dict) -> pd.DataFrame:
    rows = []
    for entry in manifest["planted"]:
        if entry["expected"] in (OVER_REPLENISHED, UNDER_REPLENISHED):
            ids, details = entry["identifiers"], entry["details"]
            rows.append({"ndc": ids["ndc"], "location": ids["location"], "month": ids["month"],
                         "finding": entry["expected"], "packages": float(details["packages"]),
                         "dollars": details.get("exposure_dollars",
                                                details.get("savings_left_behind"))})
    return pd.DataFrame(rows).sort_values("finding", ignore_index=True)


def _found(checked: pd.DataFrame) -> pd.DataFrame:
    rows = checked[checked["finding"].notna()].copy()
    rows["packages"] = rows["packages_over"] + rows["packages_under"]
    rows["dollars"] = rows["exposure_dollars"] + rows["savings_left_behind"]
    return rows[["ndc", "location", "month", "finding", "packages", "dollars"]].sort_values(
        "finding", ignore_index=True)


def _physical(folder) -> list[str]:
    return physical_locations(load_table(folder / "locations.csv", "locations"))


def test_the_outpatient_pharmacys_forward_buy_is_on_a_physical_340b_inventory(history):
    folder, manifest, *_, accumulated = history
    # RUMC-OP keeps its 340B stock apart: its forward buy (P20) bought the usual basket,
    # 340B included, ahead of use. Compared as if it replenished, that is over-replenished.
    assert _physical(folder) == ["RUMC-OP"]
    purchases = load_table(folder / "drug_purchases.csv", "drug_purchases")
    compared = _found(replenishment(accumulated, purchases))
    at_op = compared[compared["location"] == "RUMC-OP"]
    assert len(at_op) > 10 and set(at_op["finding"]) == {OVER_REPLENISHED}
    assert set(at_op["month"]) == {manifest["months"][-1]}
    # Told it is a physical inventory, the check lists those rows without a finding.
    checked = replenishment(accumulated, purchases, physical=["RUMC-OP"])
    op_rows = checked[(checked["location"] == "RUMC-OP") & (checked["account"] == "340B")]
    assert len(op_rows) > 0 and op_rows["finding"].isna().all()


@pytest.fixture(scope="module")
def history(small_sample):
    """The small sample's every month audited, and its accumulator from the first month."""
    folder, manifest = small_sample
    reference = load_reference(folder)
    claims = load_table(folder / "claims", "claims")
    audit = audit_claims(claims, reference)
    drugs = load_table(folder / "drugs.csv", "drugs")
    accumulated = accumulate(claims, drugs, audit, reference["entity"])
    return folder, manifest, claims, audit, accumulated


def test_the_sample_plants_one_over_and_one_under_replenishment(small_sample):
    planted = _planted(small_sample[1])
    assert planted["finding"].tolist() == [OVER_REPLENISHED, UNDER_REPLENISHED]
    assert (planted["packages"] == 3).all() and (planted["dollars"] > 0).all()
    assert planted["location"].tolist() == ["RUMC-INF", "RUMC-INF"]
    assert planted["ndc"].nunique() == 2


def test_over_24_months_only_the_planted_problems_are_found(history):
    folder, manifest, *_, accumulated = history
    checked = replenishment(accumulated, load_table(folder / "drug_purchases.csv",
                                                    "drug_purchases"),
                            physical=_physical(folder))
    # Exactly the planted rows, their finding, packages and dollars: no false alarm in the
    # 24 months of every NDC and location.
    pd.testing.assert_frame_equal(_found(checked), _planted(manifest), check_dtype=False)


def test_the_latest_month_from_the_balances_finds_the_same(history):
    folder, manifest, claims, audit, _ = history
    latest = claims["service_date"].dt.to_period("M") == pd.Period("2026-10", "M")
    balances = load_table(folder / "accumulator_balances.csv", "accumulator_balances")
    opening = balances[balances["month"].dt.to_period("M") == pd.Period("2026-09", "M")]
    month = accumulate(claims[latest], load_table(folder / "drugs.csv", "drugs"),
                       audit[latest], load_reference(folder)["entity"], opening=opening)
    checked = replenishment(month, load_table(folder / "drug_purchases.csv", "drug_purchases"),
                            physical=_physical(folder))
    pd.testing.assert_frame_equal(_found(checked), _planted(manifest), check_dtype=False)
    # Started at zero instead, the units carried in make false alarms: the balances matter.
    cold = accumulate(claims[latest], load_table(folder / "drugs.csv", "drugs"),
                      audit[latest], load_reference(folder)["entity"])
    assert len(_found(replenishment(cold, load_table(folder / "drug_purchases.csv",
                                                     "drug_purchases"),
                                    physical=_physical(folder)))) > 2


def test_the_balances_table_is_the_accumulators_balance_every_month(history):
    folder, _, _, _, accumulated = history
    balances = load_table(folder / "accumulator_balances.csv", "accumulator_balances")
    balances["month"] = balances["month"].dt.to_period("M").astype(str)
    ours = accumulated[accumulated["account"] == "340B"]
    both = ours.merge(balances, on=["ndc", "location", "account", "month"], how="outer",
                      suffixes=("", "_table"), indicator=True)
    # The table starts a line at its first use; the accumulator also keeps lines whose
    # claims have counted nothing yet (a denied pharmacy fill), at zero.
    assert (both["_merge"] != "right_only").all()
    assert (both.loc[both["_merge"] == "left_only", "cumulative_units"] == 0).all()
    both = both[both["_merge"] == "both"]
    assert len(both) > 20_000
    np.testing.assert_allclose(both["units_carried"], both["units_carried_table"], atol=1e-6)
