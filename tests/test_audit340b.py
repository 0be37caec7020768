"""340B compliance checks: the synthetic health system's planted problems, and hand-built
edge cases for every rule."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl.audit340b import (
    CHECKED_COLUMNS,
    REASON_TEXT,
    REASONS,
    AuditPolicy,
    audit_by_month,
    audit_claims,
    audit_sample,
    combine_by_month,
    summarize_findings,
)
from rxxl.data import load_reference, load_table, validate_table
from rxxl.data.synthetic import generate
from rxxl.errors import InputError

# --- the synthetic health system ------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample") / "health-system"
    return folder, generate(folder, size="small")


@pytest.fixture(scope="module")
def small_sample(sample_folder):
    folder, manifest = sample_folder
    claims = load_table(folder / "claims", "claims")
    return manifest, audit_claims(claims, load_reference(folder))


def _planted_claims(manifest: dict) -> dict[str, str]:
    return {
        claim_id: problem["expected"]
        for problem in manifest["planted"]
        for claim_id in problem["identifiers"].get("claim_ids") or []
    }


def test_every_planted_problem_is_found_with_its_reason(small_sample):
    manifest, audit = small_sample
    planted = _planted_claims(manifest)
    # The sample's sites each name one entity and its MEF is consistent: the two review
    # reasons for ambiguous reference data are tried on hand-built cases below, and the
    # wrong modifier by date and entity type in tests/test_rules.py.
    assert {p["expected"] for p in manifest["planted"]} >= set(REASONS) - {
        "ENTITY_UNKNOWN", "MEF_CONFLICT", "WRONG_340B_MODIFIER"}
    reasons = audit.set_index("claim_id")["reasons"]
    wrong = {claim: (expected, reasons[claim]) for claim, expected in planted.items()
             if reasons[claim] != expected}
    assert not wrong


def test_no_false_alarm_on_clean_claims(small_sample):
    manifest, audit = small_sample
    clean = audit[~audit["claim_id"].isin(list(_planted_claims(manifest)))]
    assert (clean["reasons"] == "").all(), clean[clean["reasons"] != ""].head()
    assert (clean["status"] == "compliant").all()


def test_summaries_and_tracer_sample(small_sample):
    manifest, audit = small_sample
    by_reason = summarize_findings(audit, "reason")
    planted = pd.Series(_planted_claims(manifest)).value_counts()
    assert by_reason.set_index("reason")["claims"].sort_index().to_dict() == (
        planted.sort_index().to_dict()
    )
    for by in ("site", "entity", "month"):
        assert summarize_findings(audit, by)["claims"].sum() == planted.sum()
    sample = audit_sample(audit, claims_per_entity=10, seed=7)
    assert sample.groupby("entity_id").size().le(10).all()
    assert (sample["account"].astype(str) == "340B").all()
    assert sample.equals(audit_sample(audit, claims_per_entity=10, seed=7))  # seeded


# --- hand-built edge cases ------------------------------------------------------------------

ENTITY = "DSH000001"
OTHER = "CAH000002"
NPI_DOCTOR = "1234567893"  # CMS's example of a valid NPI
NPI_BILLING = "1558598797"
NPI_OUTSIDER = "1993999998"


def _reference(**overrides) -> dict[str, pd.DataFrame]:
    raw = {
        "entity": pd.DataFrame({
            "entity_id": [ENTITY, OTHER], "entity_type": ["DSH", "CAH"],
            "start_date": ["2020-01-01", "2020-01-01"], "end_date": [None, None],
        }),
        "sites": pd.DataFrame({
            "site_id": ["PARENT", "CLINIC", "CAH-MAIN", "CP-ARR", "CP-NONE", "SHARED", "SHARED"],
            "entity_id": [ENTITY, ENTITY, OTHER, ENTITY, ENTITY, ENTITY, OTHER],
            "site_type": ["parent", "child", "parent", "contract_pharmacy",
                          "contract_pharmacy", "child", "child"],
            "start_date": ["2020-01-01", "2026-03-01", "2020-01-01", "2020-01-01",
                           "2020-01-01", "2020-01-01", "2020-01-01"],
            "end_date": [None, "2026-09-30", None, None, None, None, None],
            "medicaid_arrangement": [None, None, None, True, False, None, None],
        }),
        "prescribers": pd.DataFrame({
            "npi": [NPI_DOCTOR, NPI_DOCTOR], "entity_id": [ENTITY, OTHER],
            "start_date": ["2020-01-01", "2020-01-01"], "end_date": [None, None],
        }),
        "encounters": pd.DataFrame({
            "patient_id": ["P1", "P2", "P3"],
            "site_id": ["PARENT", "PARENT", "CAH-MAIN"],
            "encounter_date": ["2025-10-01", "2026-09-30", "2026-09-01"],
        }),
        "mef": pd.DataFrame({
            "entity_id": [ENTITY, ENTITY], "state": ["PA", "PA"],
            "billing_npi": [NPI_BILLING, NPI_BILLING], "medicaid_number": [None, None],
            "quarter_start": ["2026-04-01", "2026-07-01"], "carve_in": [True, True],
        }),
        "orphan_drugs": pd.DataFrame({"ndc": ["00002759701"]}),
    }
    raw.update(overrides)
    return {name: validate_table(frame, name, source=f"{name} (test)")
            for name, frame in raw.items()}


CLEAN = {
    "service_date": "2026-09-15", "ndc": "00069-0155-01", "drug_name": "a drug", "quantity": 10,
    "patient_id": "P1", "prescriber_npi": NPI_DOCTOR, "site_id": "PARENT",
    "patient_status": "outpatient", "payer": "Plan", "payer_type": "commercial",
    "payer_state": "PA", "billing_npi": NPI_BILLING, "account": "340B", "modifiers": None,
    "claim_type": "medical", "status": "paid", "billed_amount": 500, "paid_amount": 400,
    "unit_cost_340b": 20.0, "unit_cost_wac": 50.0, "entity_id": None,
}


def _audit(*changes: dict, policy: AuditPolicy | None = None, reference=None) -> pd.DataFrame:
    rows = [{**CLEAN, "claim_id": f"C{i}", **change} for i, change in enumerate(changes)]
    claims = validate_table(pd.DataFrame(rows), "claims", source="claims (test)")
    return audit_claims(claims, reference or _reference(), policy)


def _reasons(*changes: dict, **options) -> list[str]:
    return _audit(*changes, **options)["reasons"].tolist()


def test_a_clean_claim_is_compliant_and_risks_nothing():
    audit = _audit({})
    assert audit.loc[0, "status"] == "compliant" and audit.loc[0, "reasons"] == ""
    assert audit.loc[0, "dollars_at_risk"] == 0.0
    assert audit.loc[0, "entity_id"] == ENTITY  # from the registered site


def test_registration_start_and_end_days_are_inside():
    # CLINIC is registered 2026-03-01 to 2026-09-30 inclusive.
    assert _reasons(
        {"site_id": "CLINIC", "service_date": "2026-03-01"},
        {"site_id": "CLINIC", "service_date": "2026-09-30"},
        {"site_id": "CLINIC", "service_date": "2026-10-01"},
        {"site_id": "CLINIC", "service_date": "2026-02-28"},
    ) == ["", "", "SITE_NOT_REGISTERED", "SITE_NOT_REGISTERED"]


def test_unknown_site_needs_an_entity_on_the_claim():
    assert _reasons(
        {"site_id": "NOWHERE", "entity_id": ENTITY},
        {"site_id": "NOWHERE"},
    ) == ["SITE_NOT_REGISTERED", "ENTITY_UNKNOWN"]


def test_site_registered_to_two_entities_is_ambiguous_without_entity_id():
    audit = _audit({"site_id": "SHARED"}, {"site_id": "SHARED", "entity_id": ENTITY})
    assert audit["reasons"].tolist() == ["ENTITY_UNKNOWN", ""]
    assert audit["status"].tolist() == ["review", "compliant"]


def test_encounter_exactly_at_the_lookback_limit_qualifies():
    # P1 was seen 2025-10-01: 365 days before 2026-10-01, 366 before 2026-10-02.
    assert _reasons(
        {"service_date": "2026-10-01"},
        {"service_date": "2026-10-02"},
        {"service_date": "2025-10-01"},  # seen the same day
        {"service_date": "2025-09-30"},  # seen only afterwards
    ) == ["", "NO_QUALIFYING_ENCOUNTER", "", "NO_QUALIFYING_ENCOUNTER"]


def test_lookback_window_is_a_policy_parameter():
    assert _reasons({"service_date": "2026-10-02"},
                    policy=AuditPolicy(lookback_days=730)) == [""]
    assert _reasons({"service_date": "2025-10-31"},
                    policy=AuditPolicy(lookback_days=0)) == ["NO_QUALIFYING_ENCOUNTER"]
    with pytest.raises(InputError, match="look-back"):
        _audit({}, policy=AuditPolicy(lookback_days=-1))


def test_the_qualifying_encounter_is_the_latest_in_the_window():
    # P2 was seen at PARENT on 2026-09-30 only; P1 on 2025-10-01 (PARENT) and, below, also
    # at CLINIC on 2026-06-10 (registered 2026-03-01 to 2026-09-30) and at the CAH.
    reference = _reference(encounters=pd.DataFrame({
        "patient_id": ["P1", "P1", "P1", "P2", "P1"],
        "site_id": ["PARENT", "CLINIC", "CAH-MAIN", "PARENT", "CLINIC"],
        "encounter_date": ["2025-10-01", "2026-06-10", "2026-09-01", "2026-09-30",
                           "2026-09-20"],
    }))
    audit = _audit(
        {"service_date": "2026-09-15"},  # latest of P1's before: CLINIC 2026-06-10
        {"service_date": "2026-09-25"},  # CLINIC 2026-09-20 (still registered)
        {"service_date": "2026-05-01"},  # only PARENT 2025-10-01 before it
        {"patient_id": "P2", "service_date": "2026-09-29"},  # seen the day after: none
        {"patient_id": "P2", "service_date": "2026-09-30"},  # seen that day
        {"account": "WAC"},  # not on 340B: not looked for
        reference=reference,
    )
    assert audit["reasons"].tolist() == ["", "", "", "NO_QUALIFYING_ENCOUNTER", "", ""]
    assert [None if pd.isna(d) else str(d.date()) for d in audit["encounter_date"]] == [
        "2026-06-10", "2026-09-20", "2025-10-01", None, "2026-09-30", None]
    assert audit["encounter_site_id"].tolist() == [
        "CLINIC", "CLINIC", "PARENT", pd.NA, "PARENT", pd.NA]
    # The CAH visit (2026-09-01) is another entity's: never this DSH claim's encounter.
    assert "CAH-MAIN" not in set(audit["encounter_site_id"].dropna())


def test_patient_seen_at_another_entitys_site_is_not_the_entitys_patient():
    # P3 was seen only at the CAH.
    assert _reasons({"patient_id": "P3"}) == ["NO_QUALIFYING_ENCOUNTER"]
    assert _reasons({"patient_id": "P3", "site_id": "CAH-MAIN"}) == [""]


def test_encounter_counts_only_while_its_site_is_registered():
    reference = _reference(encounters=pd.DataFrame({
        "patient_id": ["P9"], "site_id": ["CLINIC"], "encounter_date": ["2026-02-15"],
    }))
    # The clinic was registered from 2026-03-01: a visit before that is not an encounter
    # at a registered site.
    assert _reasons({"patient_id": "P9"}, reference=reference) == ["NO_QUALIFYING_ENCOUNTER"]


def test_prescriber_eligibility_and_inpatient_status():
    assert _reasons(
        {"prescriber_npi": NPI_OUTSIDER},
        {"patient_status": "inpatient"},
        {"patient_status": "observation"},
    ) == ["PRESCRIBER_NOT_ELIGIBLE", "INPATIENT", ""]
    assert _reasons({"patient_status": "observation"},
                    policy=AuditPolicy(observation_is_outpatient=False)) == ["INPATIENT"]


def test_entity_inactive_outside_its_registration():
    reference = _reference(entity=pd.DataFrame({
        "entity_id": [ENTITY, OTHER], "entity_type": ["DSH", "CAH"],
        "start_date": ["2020-01-01", "2020-01-01"], "end_date": ["2026-08-31", None],
    }))
    assert _reasons({"service_date": "2026-08-31"}, {"service_date": "2026-09-01"},
                    reference=reference) == ["", "ENTITY_INACTIVE"]


def test_mef_quarter_boundaries():
    medicaid = {"payer_type": "medicaid_ffs", "payer_state": "PA"}
    # Carve-in is listed from Q2 2026 (April 1): March 31 is a carve-out quarter.
    assert _reasons(
        {**medicaid, "service_date": "2026-03-31"},
        {**medicaid, "service_date": "2026-04-01"},
        {**medicaid, "service_date": "2026-04-01", "account": "WAC"},
        {**medicaid, "service_date": "2026-03-31", "account": "WAC"},
        {**medicaid, "service_date": "2026-04-01", "billing_npi": NPI_DOCTOR},
        {**medicaid, "service_date": "2026-04-01", "payer_state": "OH"},
    ) == [
        "MEDICAID_DUPLICATE_DISCOUNT", "", "MEF_CARVE_IN_NOT_340B", "",
        "MEDICAID_DUPLICATE_DISCOUNT", "MEDICAID_DUPLICATE_DISCOUNT",
    ]


def test_mef_carve_out_rows_are_read_not_just_present():
    reference = _reference(mef=pd.DataFrame({
        "entity_id": [ENTITY], "state": ["PA"], "billing_npi": [NPI_BILLING],
        "medicaid_number": [None], "quarter_start": ["2026-07-01"], "carve_in": [False],
    }))
    assert _reasons({"payer_type": "medicaid_ffs"}, reference=reference) == [
        "MEDICAID_DUPLICATE_DISCOUNT"
    ]


def test_mef_row_without_billing_npi_covers_every_npi():
    reference = _reference(mef=pd.DataFrame({
        "entity_id": [ENTITY], "state": ["PA"], "billing_npi": [None],
        "medicaid_number": ["0123456"], "quarter_start": ["2026-07-01"], "carve_in": [True],
    }))
    assert _reasons({"payer_type": "medicaid_ffs", "billing_npi": NPI_DOCTOR},
                    reference=reference) == [""]


def test_contract_pharmacy_medicaid_needs_an_arrangement():
    at_pharmacy = {"payer_type": "medicaid_mco", "claim_type": "pharmacy", "entity_id": ENTITY}
    assert _reasons(
        {**at_pharmacy, "site_id": "CP-NONE"},
        {**at_pharmacy, "site_id": "CP-ARR"},
        {**at_pharmacy, "site_id": "CP-NONE", "account": "WAC"},
        {**at_pharmacy, "site_id": "CP-NONE", "payer_type": "commercial"},
    ) == ["CONTRACT_PHARMACY_MEDICAID", "", "", ""]


def test_gpo_prohibition_applies_to_dsh_outpatient_gpo_only():
    assert _reasons(
        {"account": "GPO"},
        {"account": "GPO", "patient_status": "inpatient"},
        {"account": "GPO", "site_id": "CAH-MAIN", "patient_id": "P3"},
        {"account": "WAC"},
    ) == ["GPO_PROHIBITION", "", "", ""]


def test_orphan_drug_exclusion_for_rural_hospitals_is_a_policy_switch():
    at_cah = {"site_id": "CAH-MAIN", "patient_id": "P3", "ndc": "0002-7597-01"}
    assert _reasons(at_cah, {**at_cah, "account": "GPO"}, {"ndc": "0002-7597-01"}) == [
        "ORPHAN_DRUG", "", ""
    ]
    assert _reasons(at_cah, policy=AuditPolicy(check_orphan_drugs=False)) == [""]


@pytest.mark.parametrize(
    "modifiers, expected",
    [("TB", ""), ("KX; tb", ""), ("jg,TB", ""), (None, "MISSING_340B_MODIFIER"),
     ("KX", "MISSING_340B_MODIFIER"), ("TBX", "MISSING_340B_MODIFIER"),
     ("jg,KX", "WRONG_340B_MODIFIER")],
)
def test_part_b_340b_claims_carry_tb_from_2025(modifiers, expected):
    # The cases' service dates are in 2026: TB only (dates and entity types: test_rules.py).
    assert _reasons({"payer_type": "medicare_b", "modifiers": modifiers}) == [expected]


def test_denied_pharmacy_claims_are_not_checked_but_denied_medical_claims_are():
    audit = _audit(
        {"claim_type": "pharmacy", "status": "denied", "patient_status": "inpatient"},
        {"claim_type": "medical", "status": "denied", "patient_status": "inpatient"},
    )
    assert audit["checked"].tolist() == [False, True]
    assert audit["reasons"].tolist() == ["", "INPATIENT"]


def test_several_reasons_are_all_listed_in_a_fixed_order():
    audit = _audit({"prescriber_npi": NPI_OUTSIDER, "patient_status": "inpatient",
                    "payer_type": "medicare_b", "patient_id": "P404"})
    assert audit.loc[0, "reasons"] == (
        "NO_QUALIFYING_ENCOUNTER;PRESCRIBER_NOT_ELIGIBLE;INPATIENT;MISSING_340B_MODIFIER"
    )
    assert audit.loc[0, "status"] == "violation"


def test_dollars_at_risk_are_units_times_the_wac_to_340b_spread():
    audit = _audit(
        {"patient_status": "inpatient"},
        {"patient_status": "inpatient", "unit_cost_wac": None},
    )
    assert audit.loc[0, "dollars_at_risk"] == pytest.approx(10 * (50.0 - 20.0))
    assert math.isnan(audit.loc[1, "dollars_at_risk"])
    summary = summarize_findings(audit, "reason")
    assert summary.loc[0, "claims_without_costs"] == 1
    assert summary.loc[0, "dollars_at_risk"] == pytest.approx(300.0)


def test_result_keeps_the_claims_order_and_index():
    audit = _audit({"patient_status": "inpatient"}, {}, {"account": "GPO"})
    assert audit["claim_id"].tolist() == ["C0", "C1", "C2"]
    assert audit["reasons"].tolist() == ["INPATIENT", "", "GPO_PROHIBITION"]


def test_missing_reference_tables_are_named():
    reference = _reference()
    del reference["mef"]
    with pytest.raises(InputError, match="mef"):
        audit_claims(validate_table(pd.DataFrame([{**CLEAN, "claim_id": "C1"}]), "claims"),
                     reference)


def test_bad_summary_grouping_is_refused():
    with pytest.raises(InputError, match="reason, site, entity or month"):
        summarize_findings(_audit({}), "payer")


def test_manifest_is_json_serializable_and_lists_claims(small_sample):
    manifest, _ = small_sample
    assert json.loads(json.dumps(manifest)) == manifest
    assert np.all([isinstance(p["id"], str) for p in manifest["planted"]])


# --- by month -------------------------------------------------------------------------------


def test_by_month_counts_each_months_checked_claims_and_exceptions(small_sample):
    manifest, audit = small_sample
    by_month = audit_by_month(audit).set_index("month")
    months = audit["service_date"].dt.strftime("%Y-%m")
    for month in ("2025-11", "2026-10"):
        rows = audit[months == month]
        assert by_month.loc[month, "checked"] == rows["checked"].sum()
        assert by_month.loc[month, "violations"] == (rows["status"] == "violation").sum()
        assert by_month.loc[month, "review"] == (rows["status"] == "review").sum()
        assert by_month.loc[month, "dollars_at_risk"] == pytest.approx(
            rows["dollars_at_risk"].sum())
    assert by_month["exceptions"].sum() == len(_planted_claims(manifest))
    assert by_month["exception_rate"].between(0, 1).all()
    assert list(by_month.index) == sorted(by_month.index)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["compliant", "review",
                                                                  "violation"]),
                          st.booleans(), st.sampled_from(["340B", "GPO", "WAC"]),
                          st.one_of(st.none(), st.floats(0, 1e5))), min_size=1, max_size=40),
       st.integers(0, 40))
def test_months_of_parts_add_up_to_the_months_of_the_whole(rows, cut):
    days, status, checked, account, dollars = zip(*rows, strict=True)
    audit = pd.DataFrame({
        "service_date": pd.Timestamp("2026-09-10") + pd.to_timedelta(days, unit="D"),
        "status": status, "checked": checked, "account": account,
        "dollars_at_risk": [np.nan if d is None else d for d in dollars]})
    whole = audit_by_month(audit)
    parts = combine_by_month([audit_by_month(audit.iloc[:cut]),
                              audit_by_month(audit.iloc[cut:])])
    pd.testing.assert_frame_equal(parts, whole, check_dtype=False)


def test_claims_without_claim_ids_are_audited_the_same(sample_folder):
    sample_folder, _ = sample_folder
    reference = load_reference(sample_folder)
    claims = load_table(sample_folder / "claims", "claims")
    checked_only = load_table(sample_folder / "claims", "claims", columns=CHECKED_COLUMNS)
    with_ids = audit_claims(claims, reference)
    without = audit_claims(checked_only, reference)
    assert "claim_id" not in without
    pd.testing.assert_frame_equal(without, with_ids.drop(columns="claim_id"))


def test_every_reason_has_its_plain_words():
    assert set(REASON_TEXT) == set(REASONS)


# --- issue 12: MEF precedence, the GPO prohibition's reach, inpatient, the exception rate ------

FFS = {"payer_type": "medicaid_ffs", "payer_state": "PA"}  # service 2026-09-15: Q3 2026


def _mef(*rows: tuple) -> dict[str, pd.DataFrame]:
    """A reference whose MEF is the rows (billing_npi, medicaid_number, carve_in), all for
    ENTITY, PA and the quarter of 2026-07-01."""
    npi, number, carve_in = zip(*rows, strict=True)
    return _reference(mef=pd.DataFrame({
        "entity_id": [ENTITY] * len(rows), "state": ["PA"] * len(rows),
        "billing_npi": list(npi), "medicaid_number": list(number),
        "quarter_start": ["2026-07-01"] * len(rows), "carve_in": list(carve_in),
    }))


def test_mef_row_naming_the_billing_npi_beats_a_row_for_every_npi():
    # A carve-in row without an NPI (Medicaid number only: every NPI of ENTITY in PA) and a
    # carve-out row for NPI_BILLING. The NPI row is the entity's decision for that billing
    # number; the wide row decides for the NPIs no row names.
    #   C0 340B under NPI_BILLING: carve-out -> MEDICAID_DUPLICATE_DISCOUNT (violation)
    #   C1 340B under NPI_DOCTOR:  carve-in (wide row) -> compliant
    #   C2 WAC under NPI_BILLING:  carve-out, not on 340B -> compliant
    #   C3 WAC under NPI_DOCTOR:   carve-in, not on 340B -> MEF_CARVE_IN_NOT_340B (review)
    reference = _mef((None, "0123456", True), (NPI_BILLING, None, False))
    audit = _audit({**FFS}, {**FFS, "billing_npi": NPI_DOCTOR}, {**FFS, "account": "WAC"},
                   {**FFS, "account": "WAC", "billing_npi": NPI_DOCTOR}, reference=reference)
    assert audit["reasons"].tolist() == [
        "MEDICAID_DUPLICATE_DISCOUNT", "", "", "MEF_CARVE_IN_NOT_340B"]
    assert audit["status"].tolist() == ["violation", "compliant", "compliant", "review"]


def test_mef_carve_in_for_one_npi_beats_a_carve_out_row_for_every_npi():
    # The mirror image: the wide row carves out, NPI_BILLING carves in.
    #   C0 340B under NPI_BILLING -> compliant; C1 340B under NPI_DOCTOR -> duplicate discount
    #   C2 WAC under NPI_BILLING -> MEF_CARVE_IN_NOT_340B; C3 WAC under NPI_DOCTOR -> compliant
    reference = _mef((None, "0123456", False), (NPI_BILLING, None, True))
    assert _reasons({**FFS}, {**FFS, "billing_npi": NPI_DOCTOR}, {**FFS, "account": "WAC"},
                    {**FFS, "account": "WAC", "billing_npi": NPI_DOCTOR},
                    reference=reference) == [
        "", "MEDICAID_DUPLICATE_DISCOUNT", "MEF_CARVE_IN_NOT_340B", ""]


def test_mef_rows_of_the_same_specificity_that_disagree_are_for_review():
    # NPI_BILLING is carved in under Medicaid number 111 and out under 222; claims carry no
    # Medicaid number, so the MEF cannot decide them: MEF_CONFLICT (review), on 340B or not.
    # NPI_DOCTOR is named by no row and there is no wide row: carve-out.
    #   C0 340B under NPI_BILLING -> MEF_CONFLICT; C1 WAC under NPI_BILLING -> MEF_CONFLICT
    #   C2 340B under NPI_DOCTOR -> MEDICAID_DUPLICATE_DISCOUNT
    #   C3 340B under NPI_BILLING in Q4 (no row that quarter) -> MEDICAID_DUPLICATE_DISCOUNT
    reference = _mef((NPI_BILLING, "111", True), (NPI_BILLING, "222", False))
    audit = _audit({**FFS}, {**FFS, "account": "WAC"}, {**FFS, "billing_npi": NPI_DOCTOR},
                   {**FFS, "service_date": "2026-10-01", "patient_id": "P2"},
                   reference=reference)
    assert audit["reasons"].tolist() == [
        "MEF_CONFLICT", "MEF_CONFLICT", "MEDICAID_DUPLICATE_DISCOUNT",
        "MEDICAID_DUPLICATE_DISCOUNT"]
    assert audit["status"].tolist() == ["review", "review", "violation", "violation"]


def test_wide_mef_rows_that_disagree_are_for_review_unless_a_row_names_the_npi():
    # Two Medicaid numbers of ENTITY in PA, one carved in, one out, neither with an NPI; and
    # a carve-in row naming NPI_BILLING.
    #   C0 340B under NPI_DOCTOR (only the wide rows apply) -> MEF_CONFLICT
    #   C1 340B under NPI_BILLING (its own row decides) -> compliant
    #   Two wide rows that agree are no conflict: C2 (second reference) -> compliant
    reference = _mef((None, "111", True), (None, "222", False), (NPI_BILLING, None, True))
    assert _reasons({**FFS, "billing_npi": NPI_DOCTOR}, {**FFS}, reference=reference) == [
        "MEF_CONFLICT", ""]
    agreeing = _mef((None, "111", True), (None, "222", True))
    assert _reasons({**FFS, "billing_npi": NPI_DOCTOR}, reference=agreeing) == [""]


def test_mef_rules_do_not_reach_inpatient_claims():
    # Inpatient drugs are not covered outpatient drugs: no Medicaid rebate, so neither the
    # carve-in nor the carve-out rule applies. The default MEF carves NPI_BILLING in for Q2
    # and Q3 2026.
    #   C0 WAC inpatient under carve-in -> compliant (was MEF_CARVE_IN_NOT_340B)
    #   C1 WAC observation under carve-in (outpatient by default) -> MEF_CARVE_IN_NOT_340B
    #   C2 340B inpatient in Q1 (carve-out) -> INPATIENT only (was also duplicate discount)
    #   C3 WAC outpatient under carve-in -> MEF_CARVE_IN_NOT_340B
    assert _reasons(
        {**FFS, "account": "WAC", "patient_status": "inpatient"},
        {**FFS, "account": "WAC", "patient_status": "observation"},
        {**FFS, "patient_status": "inpatient", "service_date": "2026-03-31"},
        {**FFS, "account": "WAC"},
    ) == ["", "MEF_CARVE_IN_NOT_340B", "INPATIENT", "MEF_CARVE_IN_NOT_340B"]
    # Observation counted as inpatient by policy: the MEF rule does not reach it either.
    assert _reasons({**FFS, "account": "WAC", "patient_status": "observation"},
                    policy=AuditPolicy(observation_is_outpatient=False)) == [""]


def test_gpo_prohibition_binds_only_a_participating_entity_at_its_registered_sites():
    # ENTITY (DSH) participates until 2026-08-31; CLINIC is registered 2026-03-01 to
    # 2026-09-30. GPO claims are not 340B claims, so ENTITY_INACTIVE and SITE_NOT_REGISTERED
    # (340B-only) do not fire on them either.
    #   C0 GPO at PARENT 2026-08-31 (participating) -> GPO_PROHIBITION
    #   C1 GPO at PARENT 2026-09-01 (participation ended) -> compliant
    #   C2 GPO at CLINIC 2026-08-15 (registered) -> GPO_PROHIBITION
    #   C3 340B at PARENT 2026-09-01 -> ENTITY_INACTIVE
    ended = _reference(entity=pd.DataFrame({
        "entity_id": [ENTITY, OTHER], "entity_type": ["DSH", "CAH"],
        "start_date": ["2020-01-01", "2020-01-01"], "end_date": ["2026-08-31", None],
    }))
    gpo = {"account": "GPO", "entity_id": ENTITY}
    assert _reasons(
        {**gpo, "service_date": "2026-08-31"}, {**gpo, "service_date": "2026-09-01"},
        {**gpo, "site_id": "CLINIC", "service_date": "2026-08-15"},
        {"entity_id": ENTITY, "service_date": "2026-09-01"},
        reference=ended,
    ) == ["GPO_PROHIBITION", "", "GPO_PROHIBITION", "ENTITY_INACTIVE"]
    #   C0 GPO at CLINIC 2026-10-01 (its registration ended 2026-09-30) -> compliant
    #   C1 GPO at an unknown site of ENTITY -> compliant
    #   C2 GPO at CLINIC 2026-09-30 -> GPO_PROHIBITION
    assert _reasons(
        {**gpo, "site_id": "CLINIC", "service_date": "2026-10-01"},
        {**gpo, "site_id": "NOWHERE"},
        {**gpo, "site_id": "CLINIC", "service_date": "2026-09-30"},
    ) == ["", "", "GPO_PROHIBITION"]


def test_exception_rate_is_340b_exceptions_over_checked_340b_claims():
    # Five checked claims of September 2026, two on 340B:
    #   C0 340B inpatient -> INPATIENT (violation)      340B exception
    #   C1 340B clean -> compliant
    #   C2 GPO at PARENT (DSH) -> GPO_PROHIBITION       exception, not on 340B
    #   C3, C4 WAC clean -> compliant
    # checked 5, checked_340b 2, exceptions 2, exceptions_340b 1:
    # exception rate = 1 / 2 = 0.5 (exceptions / checked would be 2 / 5 = 0.4).
    audit = _audit({"patient_status": "inpatient"}, {}, {"account": "GPO"},
                   {"account": "WAC"}, {"account": "WAC"})
    month = audit_by_month(audit).set_index("month").loc["2026-09"]
    assert (month["checked"], month["checked_340b"]) == (5, 2)
    assert (month["exceptions"], month["exceptions_340b"]) == (2, 1)
    assert month["exception_rate"] == pytest.approx(0.5)


def test_exception_rate_is_undefined_without_340b_claims():
    # One GPO violation and no 340B claim: exceptions 1, no 340B claim checked -> NaN.
    month = audit_by_month(_audit({"account": "GPO"})).iloc[0]
    assert month["exceptions"] == 1 and month["checked_340b"] == 0
    assert math.isnan(month["exception_rate"])
