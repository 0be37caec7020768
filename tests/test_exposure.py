"""Exposure by reason: every reason's kind and dollars computed by hand, claims with several
reasons (one exposure, no double count), blank costs counted as unknown, the summaries'
identities, bad input, and a run over the small synthetic sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl.audit340b import COMPLIANT, REASONS, audit_claims
from rxxl.data import load_reference, load_table
from rxxl.errors import InputError
from rxxl.exposure import (
    EXPOSURE_KINDS,
    EXPOSURE_OF_REASON,
    claim_exposure,
    price_difference,
    summarize_exposure,
)

ENTITY = pd.DataFrame({
    "entity_id": ["DSH1", "PED1", "CAN1", "CAH1", "RRC1", "SCH1"],
    "entity_type": ["DSH", "PED", "CAN", "CAH", "RRC", "SCH"],
})
REFERENCE = {"entity": ENTITY}


def _case(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Claims and audit from (reasons, entity, account, quantity, 340B cost, WAC cost)."""
    frame = pd.DataFrame(rows, columns=["reasons", "entity_id", "account", "quantity",
                                        "unit_cost_340b", "unit_cost_wac"])
    claims = frame[["quantity", "unit_cost_340b", "unit_cost_wac"]].astype(float)
    audit = frame[["entity_id", "account", "reasons"]].assign(
        claim_id=[f"C{i}" for i in range(len(frame))])
    return claims, audit


# Every reason alone: (reasons, entity, account, q, P, W), then kind, dollars, upper bound.
# The dollars are written out: q x (W - P) for a price difference, q x W for a GPO purchase.
EVERY_REASON = [
    (("ENTITY_INACTIVE", "DSH1", "340B", 10, 2.0, 5.0),
     "repayment", 10 * (5.0 - 2.0), False),            # 30.00, WAC is a DSH's price off 340B
    (("SITE_NOT_REGISTERED", "CAH1", "340B", 4, 12.5, 20.0),
     "repayment", 4 * (20.0 - 12.5), True),            # 30.00, WAC for a CAH's GPO price
    (("NO_QUALIFYING_ENCOUNTER", "PED1", "340B", 3, 100.0, 250.0),
     "repayment", 3 * (250.0 - 100.0), False),         # 450.00
    (("PRESCRIBER_NOT_ELIGIBLE", "RRC1", "340B", 2.5, 8.0, 10.0),
     "repayment", 2.5 * (10.0 - 8.0), True),           # 5.00
    (("INPATIENT", "CAN1", "340B", 1, 1000.0, 1800.0),
     "repayment", 1 * (1800.0 - 1000.0), False),       # 800.00
    (("ORPHAN_DRUG", "SCH1", "340B", 6, 0.5, 1.25),
     "repayment", 6 * (1.25 - 0.5), True),             # 4.50
    (("MEDICAID_DUPLICATE_DISCOUNT", "DSH1", "340B", 20, 1.0, 3.0),
     "rebate", 20 * (3.0 - 1.0), True),                # 40.00, WAC stands in for AMP
    (("CONTRACT_PHARMACY_MEDICAID", "DSH1", "340B", 30, 0.2, 0.9),
     "rebate", 30 * (0.9 - 0.2), True),                # 21.00
    (("GPO_PROHIBITION", "DSH1", "GPO", 5, 2.0, 6.0),
     "regulatory", 5 * 6.0, True),                     # 30.00, the GPO purchase at WAC
    (("MEF_CARVE_IN_NOT_340B", "CAH1", "WAC", 8, 3.0, 7.0),
     "missed_savings", 8 * (7.0 - 3.0), False),        # 32.00, bought at WAC: exact
    (("MEF_CARVE_IN_NOT_340B", "CAH1", "GPO", 8, 3.0, 7.0),
     "missed_savings", 8 * (7.0 - 3.0), True),         # 32.00, bought on GPO: a ceiling
    (("ENTITY_UNKNOWN", None, "340B", 2, 10.0, 40.0),
     "undetermined", 2 * (40.0 - 10.0), True),         # 60.00, the most it could cost
    (("MEF_CONFLICT", "DSH1", "340B", 1, 5.0, 9.0),
     "undetermined", 1 * (9.0 - 5.0), True),           # 4.00
    (("MISSING_340B_MODIFIER", "DSH1", "340B", 10, 2.0, 5.0),
     "billing_correction", 0.0, False),                # rebilled, no payment differs
    (("WRONG_340B_MODIFIER", "DSH1", "340B", 10, 2.0, 5.0),
     "billing_correction", 0.0, False),                # rebilled with TB, likewise
]


@pytest.mark.parametrize(("row", "kind", "dollars", "upper"), EVERY_REASON,
                         ids=[f"{r[0][0]}-{r[0][2]}" for r in EVERY_REASON])
def test_every_reason_has_its_kind_and_dollars(row, kind, dollars, upper):
    claims, audit = _case([row])
    result = claim_exposure(claims, audit, REFERENCE).iloc[0]
    assert result["exposure_kind"] == kind
    assert result["exposure_reason"] == row[0]
    assert result["exposure_dollars"] == pytest.approx(dollars, abs=1e-9)
    assert bool(result["exposure_upper_bound"]) is upper


def test_every_audit_reason_and_kind_is_covered():
    assert set(EXPOSURE_OF_REASON) == set(REASONS)
    assert set(EXPOSURE_OF_REASON.values()) == set(EXPOSURE_KINDS)
    assert {case[0][0] for case in EVERY_REASON} == set(REASONS)


def test_compliant_claims_have_no_exposure():
    claims, audit = _case([("", "DSH1", "340B", 10, 2.0, 5.0)])
    result = claim_exposure(claims, audit, REFERENCE).iloc[0]
    assert pd.isna(result["exposure_kind"]) and pd.isna(result["exposure_reason"])
    assert result["exposure_dollars"] == 0.0


def test_without_the_entity_table_every_repayment_is_an_upper_bound():
    claims, audit = _case([("ENTITY_INACTIVE", "DSH1", "340B", 10, 2.0, 5.0)])
    result = claim_exposure(claims, audit).iloc[0]
    assert result["exposure_dollars"] == 30.0 and bool(result["exposure_upper_bound"])


def test_a_340b_price_above_wac_owes_nothing():
    # 2 x (7 - 9) would be -4: a 340B price above the price off 340B saves and owes nothing.
    claims, audit = _case([("INPATIENT", "DSH1", "340B", 2, 9.0, 7.0)])
    assert claim_exposure(claims, audit, REFERENCE)["exposure_dollars"].iloc[0] == 0.0


def test_a_claim_with_several_reasons_is_exposed_once_at_the_largest():
    claims, audit = _case([
        # repayment 10 x (5 - 2) = 30 ties the rebate's 30 and beats the rebill's 0:
        # the tie goes to repayment, listed first.
        ("NO_QUALIFYING_ENCOUNTER;MEDICAID_DUPLICATE_DISCOUNT;MISSING_340B_MODIFIER",
         "DSH1", "340B", 10, 2.0, 5.0),
        # the GPO purchase 5 x 6 = 30 beats the savings missed 5 x (6 - 2) = 20
        ("MEF_CARVE_IN_NOT_340B;GPO_PROHIBITION", "DSH1", "GPO", 5, 2.0, 6.0),
        # a tie between two rebates goes to the one listed first in EXPOSURE_OF_REASON,
        # whatever the order on the claim
        ("CONTRACT_PHARMACY_MEDICAID;MEDICAID_DUPLICATE_DISCOUNT", "DSH1", "340B", 1, 1.0, 2.0),
        ("SITE_NOT_REGISTERED;ENTITY_INACTIVE", "DSH1", "340B", 1, 1.0, 2.0),
    ])
    result = claim_exposure(claims, audit, REFERENCE)
    assert result["exposure_reason"].tolist() == [
        "NO_QUALIFYING_ENCOUNTER", "GPO_PROHIBITION", "MEDICAID_DUPLICATE_DISCOUNT",
        "ENTITY_INACTIVE"]
    assert result["exposure_kind"].tolist() == ["repayment", "regulatory", "rebate",
                                                "repayment"]
    assert result["exposure_dollars"].tolist() == [30.0, 30.0, 1.0, 1.0]


def test_a_blank_cost_is_unknown_dollars_and_ranks_above_a_known_amount():
    claims, audit = _case([
        ("INPATIENT;MISSING_340B_MODIFIER", "DSH1", "340B", 3, None, 5.0),
        ("MISSING_340B_MODIFIER", "DSH1", "340B", 3, None, 5.0),   # 0 needs no cost
        ("GPO_PROHIBITION", "DSH1", "GPO", 3, None, 5.0),         # q x W: 3 x 5 = 15
        ("ENTITY_INACTIVE", "DSH1", "340B", 3, 2.0, None),
    ])
    result = claim_exposure(claims, audit, REFERENCE)
    assert result["exposure_reason"].tolist() == [
        "INPATIENT", "MISSING_340B_MODIFIER", "GPO_PROHIBITION", "ENTITY_INACTIVE"]
    dollars = result["exposure_dollars"].tolist()
    assert np.isnan(dollars[0]) and dollars[1] == 0.0 and dollars[2] == 15.0
    assert np.isnan(dollars[3])
    by_kind = summarize_exposure(result, by="kind").set_index("kind")
    assert by_kind.loc["repayment", "claims"] == 2
    assert by_kind.loc["repayment", "claims_without_dollars"] == 2
    assert by_kind.loc["repayment", "exposure_dollars"] == 0.0


def test_summaries_by_reason_and_kind_add_up():
    claims, audit = _case([row for row, *_ in EVERY_REASON]
                          + [("", "DSH1", "340B", 1, 1.0, 2.0)])
    exposure = claim_exposure(claims, audit, REFERENCE)
    by_reason = summarize_exposure(exposure, by="reason").set_index("reason")
    by_kind = summarize_exposure(exposure, by="kind").set_index("kind")
    # repayment: 30 + 30 + 450 + 5 + 800 + 4.5 = 1319.5 over 6 claims
    assert by_kind.loc["repayment", "exposure_dollars"] == pytest.approx(1319.5)
    assert by_kind.loc["repayment", "claims"] == 6
    # of which upper bounds (CAH, RRC, SCH): 30 + 5 + 4.5 = 39.5
    assert by_kind.loc["repayment", "upper_bound_dollars"] == pytest.approx(39.5)
    assert by_kind.loc["rebate", "exposure_dollars"] == pytest.approx(40 + 21)
    assert by_kind.loc["missed_savings", "exposure_dollars"] == pytest.approx(32 + 32)
    assert by_kind.loc["missed_savings", "upper_bound_dollars"] == pytest.approx(32)
    assert by_kind.loc["undetermined", "exposure_dollars"] == pytest.approx(60 + 4)
    # missing and wrong modifier: a rebill each, 0 dollars
    assert by_kind.loc["billing_correction", "claims"] == 2
    assert by_kind.loc["billing_correction", "exposure_dollars"] == 0
    assert by_reason.loc["MEF_CARVE_IN_NOT_340B", "claims"] == 2
    # 1319.5 + 61 + 30 + 64 + 64 + 0 = 1538.5 over 15 findings; the compliant claim is in none
    total = 1319.5 + 61 + 30 + 64 + 64
    assert by_kind["exposure_dollars"].sum() == pytest.approx(total)
    assert by_reason["exposure_dollars"].sum() == pytest.approx(total)
    assert by_kind["claims"].sum() == by_reason["claims"].sum() == 15
    assert by_reason.loc["INPATIENT", "text"] == EXPOSURE_KINDS["repayment"]


_reason_lists = st.lists(st.sampled_from(sorted(REASONS)), max_size=4, unique=True)
_cost = st.one_of(st.none(), st.floats(0, 500, allow_nan=False).map(lambda x: round(x, 2)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_reason_lists, st.sampled_from([*ENTITY["entity_id"], None]),
                          st.sampled_from(["340B", "GPO", "WAC"]),
                          st.floats(0, 100, allow_nan=False), _cost, _cost),
                min_size=1, max_size=25))
def test_one_exposure_per_claim_the_largest_and_kinds_add_up(rows):
    rows = [(";".join(r[0]), *r[1:]) for r in rows]
    claims, audit = _case(rows)
    exposure = claim_exposure(claims, audit, REFERENCE)
    # Each reason priced alone: the claim's exposure is the largest, NaN if any is NaN.
    for i, row in enumerate(rows):
        alone = [claim_exposure(*_case([(code, *row[1:])]), REFERENCE)["exposure_dollars"]
                 .iloc[0] for code in row[0].split(";") if code]
        got = exposure["exposure_dollars"].iloc[i]
        if not alone:
            assert got == 0.0 and pd.isna(exposure["exposure_kind"].iloc[i])
        elif any(np.isnan(alone)):
            assert np.isnan(got)
        else:
            assert got == max(alone)
    dollars = exposure["exposure_dollars"]
    for by in ("kind", "reason"):
        summary = summarize_exposure(exposure, by=by)
        assert summary["claims"].sum() == int(exposure["exposure_kind"].notna().sum())
        assert summary["exposure_dollars"].sum() == pytest.approx(dollars.sum(), abs=1e-6)
        assert summary["claims_without_dollars"].sum() == int(dollars.isna().sum())


def test_price_difference_is_the_one_rule():
    claims, audit = _case([("", "DSH1", "340B", 10, 2.0, 5.0),
                           ("", "CAH1", "340B", 10, 2.0, 5.0),
                           ("", "DSH1", "340B", 4, None, 3.0)])
    dollars, upper = price_difference(claims, audit, REFERENCE)
    assert dollars[:2].tolist() == [10 * (5.0 - 2.0)] * 2 and np.isnan(dollars[2])
    assert upper.tolist() == [False, True, False]


def test_bad_input_names_the_table_column_and_fix():
    claims, audit = _case([("INPATIENT", "DSH1", "340B", 1, 1.0, 2.0)])
    with pytest.raises(InputError, match="claims: column unit_cost_wac"):
        claim_exposure(claims.drop(columns="unit_cost_wac"), audit)
    with pytest.raises(InputError, match="audit: column reasons"):
        claim_exposure(claims, audit.drop(columns="reasons"))
    with pytest.raises(InputError, match="unknown code NOT_A_REASON"):
        claim_exposure(claims, audit.assign(reasons="NOT_A_REASON"))
    with pytest.raises(InputError, match="not the same rows"):
        claim_exposure(pd.concat([claims, claims], ignore_index=True), audit)
    with pytest.raises(InputError, match="entity table"):
        claim_exposure(claims, audit, {"entity": ENTITY.drop(columns="entity_type")})
    with pytest.raises(InputError, match="by: expected reason or kind"):
        summarize_exposure(claim_exposure(claims, audit), by="site")


def test_the_small_sample(small_sample):
    folder, _ = small_sample
    claims = load_table(folder / "claims", "claims")
    reference = load_reference(folder)
    audit = audit_claims(claims, reference)
    exposure = claim_exposure(claims, audit, reference)
    findings = (audit["status"] != COMPLIANT).to_numpy()
    assert exposure["exposure_kind"].notna().to_numpy().tolist() == findings.tolist()
    # Every kind but the billing correction is priced from the same W and P as the audit's
    # dollars at stake (q x (W - P)), or q x W for a GPO purchase.
    kind = exposure["exposure_kind"]
    spread = kind.isin(["repayment", "rebate", "missed_savings", "undetermined"]).to_numpy()
    np.testing.assert_allclose(exposure["exposure_dollars"][spread],
                               audit["dollars_at_risk"][spread].clip(lower=0))
    rebill = (kind == "billing_correction").to_numpy(dtype=bool, na_value=False)
    assert rebill.any() and (exposure.loc[rebill, "exposure_dollars"] == 0).all()
    summary = summarize_exposure(exposure, by="kind")
    assert summary["claims"].sum() == findings.sum()
