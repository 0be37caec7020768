"""The 340B rules by date: the Part B JG/TB modifier per date of service and entity type on a
hand-built table of claims, the policy dates that settle where CMS's sources disagree, and the
rule versions in force over a period."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl import rules
from rxxl.audit340b import REASONS, AuditPolicy, audit_claims
from rxxl.data import validate_table
from rxxl.errors import InputError

TYPES = ("DSH", "RRC", "SCH", "PED", "CAN", "CAH", "FQHC", "other")
NPI_DOCTOR, NPI_BILLING = "1234567893", "1558598797"
# A look-back long enough that the one old encounter qualifies every claim: only the modifier
# rules can fire on these claims.
LONG = {"lookback_days": 20_000}
M, W = "MISSING_340B_MODIFIER", "WRONG_340B_MODIFIER"


def _entity(kind: str) -> str:
    return f"{kind.upper()}000001"


def _reference() -> dict[str, pd.DataFrame]:
    raw = {
        "entity": pd.DataFrame({"entity_id": [_entity(t) for t in TYPES], "entity_type": TYPES,
                                "start_date": "2010-01-01", "end_date": None}),
        "sites": pd.DataFrame({"site_id": [f"{t}-MAIN" for t in TYPES],
                               "entity_id": [_entity(t) for t in TYPES], "site_type": "parent",
                               "start_date": "2010-01-01", "end_date": None,
                               "medicaid_arrangement": None}),
        "prescribers": pd.DataFrame({"npi": NPI_DOCTOR, "entity_id": [_entity(t) for t in TYPES],
                                     "start_date": "2010-01-01", "end_date": None}),
        "encounters": pd.DataFrame({"patient_id": [f"P-{t}" for t in TYPES],
                                    "site_id": [f"{t}-MAIN" for t in TYPES],
                                    "encounter_date": "2010-01-02"}),
        "mef": pd.DataFrame({"entity_id": [], "state": [], "billing_npi": [],
                             "medicaid_number": [], "quarter_start": [], "carve_in": []}),
        "orphan_drugs": pd.DataFrame({"ndc": ["00002759701"]}),
    }
    return {name: validate_table(frame, name, source=f"{name} (test)")
            for name, frame in raw.items()}


REFERENCE = _reference()


def _claim(date: str, kind: str, modifiers: str | None, **change) -> dict:
    return {"service_date": date, "ndc": "00069-0155-01", "drug_name": "a drug", "quantity": 10,
            "patient_id": f"P-{kind}", "prescriber_npi": NPI_DOCTOR, "site_id": f"{kind}-MAIN",
            "patient_status": "outpatient", "payer": "Medicare", "payer_type": "medicare_b",
            "payer_state": "PA", "billing_npi": NPI_BILLING, "account": "340B",
            "modifiers": modifiers, "claim_type": "medical", "status": "paid",
            "billed_amount": 500, "paid_amount": 400, "unit_cost_340b": 20.0,
            "unit_cost_wac": 50.0, "entity_id": None, **change}


def _reasons(claims: list[dict], **policy) -> list[str]:
    rows = [{**claim, "claim_id": f"C{i}"} for i, claim in enumerate(claims)]
    table = validate_table(pd.DataFrame(rows), "claims", source="claims (test)")
    return audit_claims(table, REFERENCE, AuditPolicy(**{**LONG, **policy}))["reasons"].tolist()


# --- the modifier by date of service and entity type (default policy) -----------------------

# (service date, entity types, expected with no modifier, with JG, with TB, with JG and TB).
# Worked by hand from the sources (docs/340b-audit.md, "Rules, dates and sources"):
# - before 2018-01-01 CMS required no 340B modifier;
# - 2018-2023 (CY2018 OPPS rule) hospitals paid under the OPPS: DSH and RRC report JG (TB
#   accepted: a rural SCH in Medicare's books may be a DSH in HRSA's), SCH JG or TB (urban or
#   rural), children's and cancer hospitals TB; CAH (not under the OPPS), FQHC and other
#   entities were not required;
# - 2024 (IRA guidance) every covered entity: JG or TB, but children's, cancer and critical
#   access hospitals TB;
# - from 2025 (CY2024 OPPS rule) TB only: JG alone is the wrong modifier.
TABLE = [
    ("2017-12-31", TYPES, "", "", "", ""),
    ("2018-01-01", ("DSH", "RRC", "SCH"), M, "", "", ""),
    ("2018-01-01", ("PED", "CAN"), M, W, "", ""),
    ("2018-01-01", ("CAH", "FQHC", "other"), "", "", "", ""),
    ("2023-12-31", ("DSH", "RRC", "SCH"), M, "", "", ""),
    ("2023-12-31", ("PED", "CAN"), M, W, "", ""),
    ("2023-12-31", ("CAH", "FQHC", "other"), "", "", "", ""),
    ("2024-01-01", ("DSH", "RRC", "SCH", "FQHC", "other"), M, "", "", ""),
    ("2024-01-01", ("PED", "CAN", "CAH"), M, W, "", ""),
    ("2024-12-31", ("DSH", "RRC", "SCH", "FQHC", "other"), M, "", "", ""),
    ("2024-12-31", ("PED", "CAN", "CAH"), M, W, "", ""),
    ("2025-01-01", TYPES, M, W, "", ""),
]


def test_the_table_covers_every_boundary_and_every_entity_type():
    dates = {row[0] for row in TABLE}
    assert dates == {"2017-12-31", "2018-01-01", "2023-12-31", "2024-01-01", "2024-12-31",
                     "2025-01-01"}
    for date in dates:
        assert sorted(t for row in TABLE if row[0] == date for t in row[1]) == sorted(TYPES)


def test_the_modifier_finding_by_date_and_entity_type():
    claims, expected = [], []
    for date, kinds, none, jg, tb, both in TABLE:
        for kind in kinds:
            for modifiers, outcome in ((None, none), ("JG", jg), ("TB", tb), ("JG;TB", both)):
                claims.append(_claim(date, kind, modifiers))
                expected.append((date, kind, modifiers, outcome))
    found = _reasons(claims)
    wrong = [(case, got) for case, got in zip(expected, found, strict=True) if got != case[3]]
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("modifiers, in_2024, in_2025", [
    ("jg;KX", "", W), ("KX, tb", "", ""), ("JZ|TB", "", ""), (" tb ", "", ""),
    ("KX", M, M), ("", M, M), ("JGTB", M, M), ("XTB", M, M), ("JG-JW", "", W),
    ("TB;JG", "", ""),
])
def test_modifiers_in_any_separator_whole_tokens_only(modifiers, in_2024, in_2025):
    # A DSH: JG or TB in 2024, TB only in 2025.
    assert _reasons([_claim("2024-06-15", "DSH", modifiers),
                     _claim("2025-06-15", "DSH", modifiers)]) == [in_2024, in_2025]


def test_only_340b_medicare_part_b_claims_are_held_to_the_modifier():
    assert _reasons([
        _claim("2025-06-15", "DSH", None, payer_type="commercial"),
        _claim("2025-06-15", "DSH", "JG", payer_type="medicare_d"),
        _claim("2025-06-15", "DSH", None, account="WAC"),
        _claim("2025-06-15", "DSH", None),
    ]) == ["", "", "", M]


# --- the policy dates where the sources disagree ----------------------------------------------


def test_cah_claims_follow_the_policy_date():
    cases = [_claim("2024-06-15", "CAH", None), _claim("2024-06-15", "CAH", "JG"),
             _claim("2024-12-31", "CAH", None), _claim("2025-01-01", "CAH", None),
             _claim("2025-01-01", "CAH", "JG")]
    # Default: TB from 2024-01-01 (the revised CMS guidance).
    assert _reasons(cases) == [M, W, M, M, W]
    # The first guidance's reading: CAHs are not held at all.
    assert _reasons(cases, cah_modifier_from=None) == ["", "", "", "", ""]
    # Held only from 2025.
    assert _reasons(cases, cah_modifier_from=dt.date(2025, 1, 1)) == ["", "", "", M, W]
    # A CAH that started early (CMS encouraged 2023): TB, so JG is wrong, from that date.
    assert _reasons([_claim("2023-06-30", "CAH", "JG"), _claim("2023-07-01", "CAH", "JG")],
                    cah_modifier_from=dt.date(2023, 7, 1)) == ["", W]


def test_non_hospital_entities_follow_the_policy_date():
    for kind in ("FQHC", "other"):
        cases = [_claim("2023-06-30", kind, None), _claim("2023-07-01", kind, None),
                 _claim("2023-07-01", kind, "JG"), _claim("2024-03-31", kind, None),
                 _claim("2024-04-01", kind, None), _claim("2025-02-01", kind, "JG")]
        assert _reasons(cases) == ["", "", "", M, M, W]
        # Every Part B drug bundled in the FQHC prospective payment: not held.
        assert _reasons(cases, non_hospital_modifier_from=None) == [""] * 6
        # Started on 2023-07-01, before CMS's "no later than" date: JG or TB then.
        assert _reasons(cases, non_hospital_modifier_from=dt.date(2023, 7, 1)) == [
            "", M, "", M, M, W]
        # Started late, on 2024-04-01.
        assert _reasons(cases, non_hospital_modifier_from=dt.date(2024, 4, 1)) == [
            "", "", "", "", M, W]


def test_the_policy_dates_leave_hospitals_alone():
    cases = [_claim("2024-06-15", kind, None) for kind in ("DSH", "RRC", "SCH", "PED", "CAN")]
    assert _reasons(cases, cah_modifier_from=None, non_hospital_modifier_from=None) == [M] * 5


def test_a_policy_date_that_is_not_a_date_is_refused():
    with pytest.raises(InputError, match="cah_modifier_from: expected a date"):
        _reasons([_claim("2024-06-15", "CAH", None)], cah_modifier_from="2024-01-01")


# --- the findings function's identities --------------------------------------------------------

DAYS = st.integers(min_value=int(np.datetime64("2015-01-01", "D").astype(np.int64)),
                   max_value=int(np.datetime64("2028-12-31", "D").astype(np.int64)))
POLICY_DATES = st.one_of(st.none(), st.dates(dt.date(2015, 1, 1), dt.date(2028, 12, 31)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(DAYS, st.sampled_from((*TYPES, "XYZ")), st.booleans(),
                          st.booleans()), min_size=1, max_size=40), POLICY_DATES, POLICY_DATES)
def test_missing_and_wrong_exclude_each_other_and_tb_is_always_accepted(claims, cah, grantee):
    policy = AuditPolicy(cah_modifier_from=cah, non_hospital_modifier_from=grantee)
    day = np.array([c[0] for c in claims], dtype=np.int64)
    kind = np.array([c[1] for c in claims], dtype=object)
    jg, tb = np.array([c[2] for c in claims]), np.array([c[3] for c in claims])
    missing, wrong = rules.part_b_modifier_findings(day, kind, jg, tb, policy)
    assert not (missing & wrong).any()
    assert (missing == (missing & ~jg & ~tb)).all()
    # TB never makes a claim wrong: it is the modifier every period accepts.
    assert not (wrong & tb).any()
    # Nothing before the first modifier rule; an unknown type is read as "other".
    assert not ((missing | wrong) & (day < np.datetime64("2018-01-01", "D").astype(int))).any()
    as_other = rules.part_b_modifier_findings(day, np.where(kind == "XYZ", "other", kind), jg,
                                              tb, policy)
    assert (as_other[0] == missing).all() and (as_other[1] == wrong).all()


def test_the_modifier_table_has_every_period_and_entity_type_once():
    table = rules.part_b_modifier_rules()
    assert len(table) == 3 * 8
    assert set(table["entity_type"]) == set(TYPES)
    assert table.groupby("effective_from")["entity_type"].nunique().tolist() == [8, 8, 8]
    # JG is no longer valid from 2025 and accepted nowhere then.
    late = table[table["effective_from"] == dt.date(2025, 1, 1)]
    assert (late["no_longer_valid"] == "JG").all() and (late["accepted"] == "TB").all()


# --- the rule versions in force -----------------------------------------------------------------


def _versions(start: str, end: str, **policy) -> list[str]:
    return rules.rules_in_force(dt.date.fromisoformat(start), dt.date.fromisoformat(end),
                                AuditPolicy(**policy))["version"].tolist()


def test_every_reason_code_has_dated_versions_that_follow_each_other():
    assert [rule.reason for rule in rules.RULES if rule.reason not in (M, W)] == [
        code for code in REASONS if code not in (M, W)]
    assert {rule.reason for rule in rules.RULES} == set(REASONS)
    for reason in REASONS:
        versions = [rule for rule in rules.RULES if rule.reason == reason]
        assert versions[-1].effective_to is None, reason  # in force today
        for before, after in zip(versions[:-1], versions[1:], strict=True):
            assert before.effective_to + dt.timedelta(days=1) == after.effective_from, reason
    assert all(rule.url.startswith("https://") and rule.citation for rule in rules.RULES)


def test_versions_in_force_over_periods():
    base = ["ENTITY_UNKNOWN/1992-11", "ENTITY_INACTIVE/1992-11", "SITE_NOT_REGISTERED/1992-11",
            "NO_QUALIFYING_ENCOUNTER/1992-11", "PRESCRIBER_NOT_ELIGIBLE/1992-11",
            "INPATIENT/1992-11", "MEDICAID_DUPLICATE_DISCOUNT/1992-11",
            "MEF_CARVE_IN_NOT_340B/1992-11", "MEF_CONFLICT/1992-11"]
    # 2009: before the 2010 contract pharmacy guidance and the ACA's orphan drug exclusion.
    assert _versions("2009-01-01", "2009-12-31") == [*base, "GPO_PROHIBITION/1992-11"]
    later = [*base, "CONTRACT_PHARMACY_MEDICAID/2010-03", "GPO_PROHIBITION/1992-11",
             "ORPHAN_DRUG/2010-03"]
    assert _versions("2017-01-01", "2017-12-31") == later
    assert _versions("2023-12-31", "2024-01-01") == [
        *later, "MISSING_340B_MODIFIER/2018-01", "MISSING_340B_MODIFIER/2024-01",
        "WRONG_340B_MODIFIER/2018-01", "WRONG_340B_MODIFIER/2024-01"]
    # The sample's 24 months: the 2024 and 2025 modifier rules.
    assert _versions("2024-11-01", "2026-10-31")[-4:] == [
        "MISSING_340B_MODIFIER/2024-01", "MISSING_340B_MODIFIER/2025-01",
        "WRONG_340B_MODIFIER/2024-01", "WRONG_340B_MODIFIER/2025-01"]
    assert _versions("2025-01-01", "2025-01-01")[-2:] == [
        "MISSING_340B_MODIFIER/2025-01", "WRONG_340B_MODIFIER/2025-01"]
    assert "ORPHAN_DRUG/2010-03" not in _versions("2025-01-01", "2025-12-31",
                                                  check_orphan_drugs=False)


@settings(max_examples=60, deadline=None)
@given(st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
       st.integers(0, 4000), st.integers(0, 4000))
def test_a_period_split_in_two_has_the_versions_of_both_halves(start, first, second):
    middle = start + dt.timedelta(days=first)
    end = middle + dt.timedelta(days=1 + second)
    whole = set(rules.rules_in_force(start, end)["version"])
    halves = (set(rules.rules_in_force(start, middle)["version"])
              | set(rules.rules_in_force(middle + dt.timedelta(days=1), end)["version"]))
    assert whole == halves


def test_a_period_that_ends_before_it_starts_or_is_no_date_is_refused():
    with pytest.raises(InputError, match="ends .* before it starts"):
        rules.rules_in_force(dt.date(2025, 2, 1), dt.date(2025, 1, 1))
    for blank in (None, "x", float("nan")):
        with pytest.raises(InputError, match="start must be a date"):
            rules.rules_in_force(blank, dt.date(2025, 1, 1))


# --- the policy dates on the command line ---------------------------------------------------------


def test_the_modifier_policy_dates_are_command_line_options(capsys):
    from rxxl import cli

    parser = cli.build_parser()
    command = ["audit340b", "--claims", "c", "--reference", "r", "--out", "o.xlsx"]
    assert cli._policy(parser.parse_args(command)) == AuditPolicy()
    policy = cli._policy(parser.parse_args([*command, "--cah-modifier-from", "never",
                                            "--non-hospital-modifier-from", "2024-07-01"]))
    assert policy.cah_modifier_from is None
    assert policy.non_hospital_modifier_from == dt.date(2024, 7, 1)
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args([*command, "--cah-modifier-from", "2024-13-01"])
    assert stopped.value.code == 2
    assert "'2024-13-01' is not a date; give YYYY-MM-DD or never" in capsys.readouterr().err
