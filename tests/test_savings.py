"""340B savings gross and net: a hand table with the arithmetic written out, policy fees,
unknown fees, the identity gross - fees - reversed = net, the fee columns of the claims
contract, bad input, and the small synthetic sample's fees."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl.audit340b import REASONS, audit_claims
from rxxl.data import load_reference, load_table
from rxxl.errors import InputError
from rxxl.savings import claim_savings, summarize_savings

ENTITY = pd.DataFrame({"entity_id": ["DSH1", "CAH1"], "entity_type": ["DSH", "CAH"]})
SITES = pd.DataFrame({"site_id": ["CP1", "CLINIC"], "entity_id": ["DSH1", "DSH1"],
                      "site_type": ["contract_pharmacy", "child"]})
COLUMNS = ["reasons", "entity_id", "site_id", "account", "claim_type", "status", "quantity",
           "unit_cost_340b", "unit_cost_wac", "dispensing_fee", "tpa_fee"]


def _case(rows: list[tuple], fees: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["service_date"] = pd.Timestamp("2026-10-15")
    claims = frame[["account", "claim_type", "status", "quantity", "unit_cost_340b",
                    "unit_cost_wac", *(["dispensing_fee", "tpa_fee"] if fees else [])]]
    audit = frame[["service_date", "entity_id", "site_id", "account", "reasons"]].assign(
        claim_id=[f"C{i}" for i in range(len(frame))])
    return claims, audit


# reasons, entity, site, account, claim type, status, q, P, W, dispensing fee, TPA fee
HAND = [
    # a: compliant fill at the contract pharmacy: booked 10 x (5 - 2) = 30, net 30 - 4 - 1.5
    ("", "DSH1", "CP1", "340B", "pharmacy", "paid", 10, 2.0, 5.0, 4.0, 1.5),
    # b: diverted fill there: booked 30, reversed 30, the fee still paid: net 30 - 4 - 30 = -4
    ("NO_QUALIFYING_ENCOUNTER", "DSH1", "CP1", "340B", "pharmacy", "paid", 10, 2.0, 5.0,
     4.0, None),
    # c: Part B line without JG: rebilled, keeps its savings 2 x (160 - 100) = 120
    ("MISSING_340B_MODIFIER", "DSH1", "CLINIC", "340B", "medical", "paid", 2, 100.0, 160.0,
     None, None),
    # d: duplicate discount: booked 20 x (3 - 1) = 40, reversed 40, net 0
    ("MEDICAID_DUPLICATE_DISCOUNT", "DSH1", "CLINIC", "340B", "medical", "paid", 20, 1.0, 3.0,
     None, None),
    # e: a GPO purchase books no 340B savings (its exposure is regulatory, not savings)
    ("GPO_PROHIBITION", "DSH1", "CLINIC", "GPO", "medical", "paid", 5, 2.0, 6.0, None, None),
    # f: a denied pharmacy claim was not dispensed: no 340B claim, no savings
    ("", "DSH1", "CP1", "340B", "pharmacy", "denied", 10, 2.0, 5.0, None, None),
    # g: undetermined at a CAH: booked 1 x (9 - 5) = 4 (WAC for the GPO price: a ceiling),
    # kept in net and shown as under review
    ("MEF_CONFLICT", "CAH1", "CLINIC", "340B", "medical", "paid", 1, 5.0, 9.0, None, None),
]


def test_the_hand_table_per_claim():
    claims, audit = _case(HAND)
    savings = claim_savings(claims, audit, {"entity": ENTITY})
    assert savings["is_340b"].tolist() == [True, True, True, True, False, False, True]
    assert savings["savings_booked"].tolist() == [30.0, 30.0, 120.0, 40.0, 0.0, 0.0, 4.0]
    assert savings["savings_reversed"].tolist() == [0.0, 30.0, 0.0, 40.0, 0.0, 0.0, 0.0]
    assert savings["dispensing_fee"].tolist() == [4.0, 4.0, 0, 0, 0, 0, 0]
    assert savings["tpa_fee"].tolist() == [1.5, 0, 0, 0, 0, 0, 0]
    assert savings["net_savings"].tolist() == [30 - 4 - 1.5, 30 - 4 - 30, 120.0, 40 - 40,
                                               0.0, 0.0, 4.0]
    assert savings["savings_under_review"].tolist() == [0, 0, 0, 0, 0, 0, 4.0]
    assert savings["savings_upper_bound"].tolist() == [False] * 6 + [True]


def test_the_hand_table_in_total_and_by_entity():
    claims, audit = _case(HAND)
    savings = claim_savings(claims, audit, {"entity": ENTITY})
    total = summarize_savings(savings).iloc[0]
    assert total["claims_340b"] == 5
    assert total["gross_savings"] == 30 + 30 + 120 + 40 + 4          # 224
    assert total["dispensing_fees"] == 4 + 4                          # 8
    assert total["tpa_fees"] == 1.5
    assert total["savings_reversed"] == 30 + 40                       # 70
    assert total["net_savings"] == 224 - 8 - 1.5 - 70                 # 144.5
    assert total["savings_under_review"] == 4
    assert total["upper_bound_savings"] == 4
    assert total["claims_without_costs"] == 0 and total["claims_without_fees"] == 0
    by_entity = summarize_savings(savings, by="entity").set_index("entity_id")
    assert by_entity.loc["DSH1", "net_savings"] == 224 - 4 - 8 - 1.5 - 70   # 140.5
    assert by_entity.loc["CAH1", "net_savings"] == 4
    by_month = summarize_savings(savings, by="month")
    assert by_month["month"].tolist() == ["2026-10"]
    assert by_month["net_savings"].iloc[0] == 144.5


def test_policy_fees_apply_to_340b_contract_pharmacy_claims_when_no_column():
    claims, audit = _case(HAND, fees=False)
    reference = {"entity": ENTITY, "sites": SITES}
    savings = claim_savings(claims, audit, reference, dispensing_fee_per_claim=12.0,
                            tpa_fee_per_claim=3.0)
    # Claims a and b are the 340B claims at CP1 (f is denied: not a 340B claim).
    assert savings["dispensing_fee"].tolist() == [12.0, 12.0, 0, 0, 0, 0, 0]
    assert savings["tpa_fee"].tolist() == [3.0, 3.0, 0, 0, 0, 0, 0]
    total = summarize_savings(savings).iloc[0]
    assert total["net_savings"] == 224 - 2 * 12 - 2 * 3 - 70              # 124


def test_fees_without_a_column_or_policy_are_unknown():
    claims, audit = _case(HAND, fees=False)
    savings = claim_savings(claims, audit, {"entity": ENTITY, "sites": SITES})
    assert savings["dispensing_fee"].isna().tolist() == [True, True] + [False] * 5
    assert np.isnan(savings["net_savings"].iloc[0])
    total = summarize_savings(savings).iloc[0]
    assert total["claims_without_fees"] == 2
    # Without the sites table no contract pharmacy can be ruled out: every 340B claim.
    unknown = claim_savings(claims, audit, {"entity": ENTITY})
    assert unknown["tpa_fee"].isna().tolist() == [True, True, True, True, False, False, True]


def test_a_fee_column_blank_on_every_claim_is_not_given():
    # The loader adds an optional column an export lacks, blank on every row: not "no fee".
    claims, audit = _case(HAND, fees=False)
    claims = claims.assign(dispensing_fee=np.nan, tpa_fee=np.nan)
    reference = {"entity": ENTITY, "sites": SITES}
    savings = claim_savings(claims, audit, reference, dispensing_fee_per_claim=12.0)
    assert savings["dispensing_fee"].tolist() == [12.0, 12.0, 0, 0, 0, 0, 0]
    assert savings["tpa_fee"].isna().tolist() == [True, True] + [False] * 5


def test_a_blank_cost_is_counted_not_summed():
    rows = [HAND[0], ("", "DSH1", "CP1", "340B", "pharmacy", "paid", 10, None, 5.0, 4.0, 1.5)]
    claims, audit = _case(rows)
    total = summarize_savings(claim_savings(claims, audit, {"entity": ENTITY})).iloc[0]
    assert total["gross_savings"] == 30 and total["claims_without_costs"] == 1
    assert total["net_savings"] == 30 - 2 * 4 - 2 * 1.5


_cost = st.one_of(st.none(), st.floats(0, 500, allow_nan=False).map(lambda x: round(x, 2)))
_row = st.tuples(
    st.lists(st.sampled_from(sorted(REASONS)), max_size=3, unique=True).map(";".join),
    st.sampled_from(["DSH1", "CAH1"]), st.sampled_from(["CP1", "CLINIC"]),
    st.sampled_from(["340B", "GPO", "WAC"]), st.sampled_from(["pharmacy", "medical"]),
    st.sampled_from(["paid", "denied"]), st.floats(0, 100, allow_nan=False), _cost, _cost,
    _cost, _cost)


@settings(max_examples=60, deadline=None)
@given(st.lists(_row, min_size=1, max_size=30))
def test_gross_minus_fees_minus_reversed_is_net(rows):
    claims, audit = _case(rows)
    savings = claim_savings(claims, audit, {"entity": ENTITY})
    total = summarize_savings(savings).iloc[0]
    assert total["net_savings"] == pytest.approx(
        total["gross_savings"] - total["dispensing_fees"] - total["tpa_fees"]
        - total["savings_reversed"], abs=0.01)
    known = savings["net_savings"].notna()
    assert savings["net_savings"][known].sum() == pytest.approx(
        (savings["savings_booked"] - savings["dispensing_fee"] - savings["tpa_fee"]
         - savings["savings_reversed"])[known].sum(), abs=0.01 * len(rows))
    # Savings are reversed only on 340B claims and never exceed what they booked.
    assert (savings["savings_reversed"].fillna(0)
            <= savings["savings_booked"].fillna(0) + 1e-9).all()
    assert (savings.loc[~savings["is_340b"], "savings_booked"] == 0).all()
    by_entity = summarize_savings(savings, by="entity")
    assert by_entity["net_savings"].sum() == pytest.approx(total["net_savings"], abs=0.01)


def test_bad_input_names_the_argument_and_fix():
    claims, audit = _case(HAND)
    with pytest.raises(InputError, match="dispensing_fee_per_claim: a fee in dollars"):
        claim_savings(claims, audit, dispensing_fee_per_claim=-1.0)
    with pytest.raises(InputError, match="claims: column claim_type"):
        claim_savings(claims.drop(columns="claim_type"), audit)
    with pytest.raises(InputError, match="by: expected entity, site, month"):
        summarize_savings(claim_savings(claims, audit), by="payer")


def test_the_fee_columns_of_the_claims_contract(tmp_path):
    claims = pd.DataFrame([dict(
        claim_id="C1", service_date="2026-10-01", ndc="00002759701", drug_name="Drug A",
        quantity="2", patient_id="MRN0001", prescriber_npi="1234567893", site_id="CP1",
        patient_status="outpatient", payer="Acme", payer_type="commercial", payer_state="NY",
        billing_npi="1234567893", account="340B", claim_type="pharmacy", status="paid",
        billed_amount="120", paid_amount="95.50", unit_cost_340b="20.5",
        unit_cost_wac="41.25", dispensing_fee="$17.50", tpa_fee="")])
    claims.to_csv(tmp_path / "claims.csv", index=False)
    loaded = load_table(tmp_path / "claims.csv", "claims")
    assert loaded["dispensing_fee"].iloc[0] == 17.5 and pd.isna(loaded["tpa_fee"].iloc[0])
    claims.assign(tpa_fee="-3").to_csv(tmp_path / "claims.csv", index=False)
    with pytest.raises(InputError, match="tpa_fee"):
        load_table(tmp_path / "claims.csv", "claims")


def test_the_small_sample_invoices_fees_on_paid_340b_contract_pharmacy_fills(small_sample):
    folder, _ = small_sample
    claims = load_table(folder / "claims", "claims")
    reference = load_reference(folder)
    sites = reference["sites"]
    pharmacies = set(sites.loc[sites["site_type"] == "contract_pharmacy", "site_id"])
    paid_340b = ((claims["account"] == "340B") & (claims["status"] == "paid")
                 & (claims["claim_type"] == "pharmacy")).to_numpy()
    owed = paid_340b & claims["site_id"].isin(pharmacies).to_numpy()
    invoiced = claims["dispensing_fee"].notna().to_numpy()
    assert owed.any()
    # Every paid 340B fill at a registered contract pharmacy is invoiced, and only paid 340B
    # pharmacy fills are (a planted fill at an unregistered pharmacy is invoiced too).
    assert invoiced[owed].all() and not invoiced[~paid_340b].any()
    assert (claims["tpa_fee"].notna().to_numpy() == invoiced).all()
    assert (claims.loc[invoiced, "dispensing_fee"] >= 15.0).all()
    audit = audit_claims(claims, reference)
    total = summarize_savings(claim_savings(claims, audit, reference)).iloc[0]
    fees = claims["dispensing_fee"].sum() + claims["tpa_fee"].sum()
    assert total["dispensing_fees"] + total["tpa_fees"] == pytest.approx(fees)
    assert 0 < total["net_savings"] < total["gross_savings"]
