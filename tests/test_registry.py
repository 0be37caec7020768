"""340B registry reconciliation: hand-built registrations and claims with the dates and dollars
worked out here, and the synthetic health system's planted registration problems, checked
against the manifest and against the claim audit (an independent implementation of who is
registered on a date)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxxl.audit340b import audit_claims
from rxxl.constants import REGISTRATION_WATCH_DAYS
from rxxl.data import DataValidationError, load_reference, load_table
from rxxl.data.synthetic import generate
from rxxl.errors import InputError
from rxxl.registry import (
    COLUMNS,
    DETAIL_TEXT,
    REASON_TEXT,
    REASONS,
    reconcile_registry,
    summarize_registry,
)

DSH = "DSH000001"
CAH = "CAH000002"


def _entities(*rows) -> pd.DataFrame:
    """(entity_id, entity_type, start, end) rows; by default one DSH registered throughout."""
    rows = rows or ((DSH, "DSH", "2020-01-01", None),)
    return pd.DataFrame(rows, columns=["entity_id", "entity_type", "start_date", "end_date"])


def _sites(*rows) -> pd.DataFrame:
    """(site_id, entity_id, site_type, start, end) rows."""
    frame = pd.DataFrame(rows, columns=["site_id", "entity_id", "site_type", "start_date",
                                        "end_date"])
    return frame.assign(medicaid_arrangement=None)


def _claims(*rows) -> pd.DataFrame:
    """(service_date, site_id, entity_id, quantity, unit WAC, unit 340B cost) rows, paid
    medical claims on the 340B account unless changed afterwards."""
    frame = pd.DataFrame(rows, columns=["service_date", "site_id", "entity_id", "quantity",
                                        "unit_cost_wac", "unit_cost_340b"])
    return frame.assign(account="340B", claim_type="medical", status="paid")


PARENT = ("PARENT", DSH, "parent", "2020-01-01", None)


def _only(found: pd.DataFrame, reason: str) -> pd.DataFrame:
    return found[found["reason"] == reason].reset_index(drop=True)


# --- each reason, exactly ---------------------------------------------------------------------


def test_claims_after_a_site_registration_ended_are_unregistered_for_that_month():
    # CLINIC is registered 2026-01-01 .. 2026-09-15; claims on 2026-09-10 (registered) and
    # 2026-09-20 (five days after the end): 3 units x ($50.00 WAC - $10.00 340B) = $120.00.
    sites = _sites(PARENT, ("CLINIC", DSH, "child", "2026-01-01", "2026-09-15"))
    claims = _claims(("2026-09-10", "CLINIC", DSH, 1, 50.0, 10.0),
                     ("2026-09-20", "CLINIC", DSH, 3, 50.0, 10.0),
                     ("2026-09-02", "PARENT", DSH, 1, 20.0, 5.0))
    found = reconcile_registry(claims, _entities(), sites, "2026-09-01", "2026-09-30")
    assert list(found.columns) == list(COLUMNS)
    assert found[["reason", "site_id", "month"]].values.tolist() == [
        ["UNREGISTERED_ACTIVITY", "CLINIC", "2026-09"],
        ["REGISTRATION_CHANGE", "CLINIC", "2026-09"],
    ]
    unregistered = found.iloc[0]
    assert unregistered["entity_id"] == DSH and unregistered["site_type"] == "child"
    assert unregistered["claims"] == 1
    assert unregistered["dollars_at_risk"] == pytest.approx(120.00)
    assert unregistered["detail"] == DETAIL_TEXT["outside_site_registration"]
    assert unregistered["reason_text"] == REASON_TEXT["UNREGISTERED_ACTIVITY"]
    change = found.iloc[1]
    assert change["detail"] == DETAIL_TEXT["site_ends"]
    assert change["end_date"] == pd.Timestamp("2026-09-15")
    assert change["start_date"] == pd.Timestamp("2026-01-01")


def test_unregistered_activity_says_why_and_sums_by_site_and_month():
    entities = _entities((DSH, "DSH", "2020-01-01", None),
                         (CAH, "CAH", "2020-01-01", "2026-06-30"))
    sites = _sites(PARENT,
                   ("CAH-MAIN", CAH, "parent", "2020-01-01", None),  # its entity ended
                   ("FORMER", CAH, "child", "2020-01-01", "2025-12-31"))  # another's, ended
    claims = _claims(
        # A site in no registration: September 2 x ($30 - $5) = $50 and 1 x ($12.50 - $2.50)
        # = $10, $60.00 in 2 claims with costs and one without; October 4 x ($7 - $2) = $20.
        ("2026-09-03", "NOWHERE", DSH, 2, 30.0, 5.0),
        ("2026-09-17", "NOWHERE", DSH, 1, 12.5, 2.5),
        ("2026-09-18", "NOWHERE", DSH, 6, None, 2.0),
        ("2026-10-01", "NOWHERE", DSH, 4, 7.0, 2.0),
        # Billed under DSH at a site only ever registered to CAH, and not on the date.
        ("2026-09-05", "FORMER", DSH, 1, 9.0, 1.0),
        # CAH's site, still on the sites table, after CAH's registration ended on 2026-06-30.
        ("2026-09-06", "CAH-MAIN", CAH, 2, 100.0, 25.0),
        ("2026-09-07", "PARENT", DSH, 1, 1.0, 0.5),
    )
    found = reconcile_registry(claims, entities, sites, "2026-09-01", "2026-10-31")
    activity = _only(found, "UNREGISTERED_ACTIVITY")
    got = {(r.entity_id, r.site_id, r.month): (r.claims, r.dollars_at_risk,
                                               r.claims_without_costs, r.detail)
           for r in activity.itertuples()}
    assert got == {
        (DSH, "NOWHERE", "2026-09"): (3, 60.00, 1, DETAIL_TEXT["site_unknown"]),
        (DSH, "NOWHERE", "2026-10"): (1, 20.00, 0, DETAIL_TEXT["site_unknown"]),
        (DSH, "FORMER", "2026-09"): (1, 8.00, 0, DETAIL_TEXT["site_not_for_entity"]),
        # 2 x ($100 - $25) = $150.
        (CAH, "CAH-MAIN", "2026-09"): (1, 150.00, 0, DETAIL_TEXT["entity_not_registered"]),
    }
    assert not (found["reason"] == "WRONG_ENTITY").any()
    # CAH-MAIN is on the sites table but not registered in the period (its entity is not):
    # not stale; nothing else is registered and idle.
    assert not (found["reason"] == "STALE_REGISTRATION").any()


def test_a_site_registered_to_another_entity_on_the_date_is_wrong_entity_not_unregistered():
    entities = _entities((DSH, "DSH", "2020-01-01", None), (CAH, "CAH", "2020-01-01", None))
    sites = _sites(PARENT, ("CAH-MAIN", CAH, "parent", "2020-01-01", None),
                   ("SHARED", CAH, "child", "2020-01-01", None))
    claims = _claims(
        # Billed under DSH at CAH's child site: 5 x ($11 - $1) = $50 and 1 x ($3 - $1) = $2.
        ("2026-09-08", "SHARED", DSH, 5, 11.0, 1.0),
        ("2026-09-28", "SHARED", DSH, 1, 3.0, 1.0),
        ("2026-09-09", "SHARED", CAH, 1, 3.0, 1.0),   # billed under its own entity: clean
        ("2026-09-10", "SHARED", None, 1, 3.0, 1.0),  # no entity: the site's, clean
        ("2026-09-11", "CAH-MAIN", None, 1, 3.0, 1.0),
        ("2026-09-12", "PARENT", DSH, 1, 3.0, 1.0),
    )
    found = reconcile_registry(claims, entities, sites, "2026-09-01", "2026-09-30")
    assert found["reason"].tolist() == ["WRONG_ENTITY"]
    row = found.iloc[0]
    assert (row["entity_id"], row["registered_entity_id"], row["site_id"], row["month"]) == (
        DSH, CAH, "SHARED", "2026-09")
    assert (row["claims"], row["dollars_at_risk"]) == (2, 52.00)
    assert row["detail"] == DETAIL_TEXT["registered_to_other"]


def test_stale_registrations_are_the_registered_sites_without_340b_claims():
    entities = _entities((DSH, "DSH", "2020-01-01", None),
                         (CAH, "CAH", "2020-01-01", "2026-08-31"))
    sites = _sites(
        PARENT,
        ("CP-IDLE", DSH, "contract_pharmacy", "2021-04-01", None),
        ("CP-LATE", DSH, "contract_pharmacy", "2026-09-20", None),   # part of September
        ("CP-USED", DSH, "contract_pharmacy", "2021-04-01", None),
        ("CP-GPO", DSH, "contract_pharmacy", "2021-04-01", None),    # GPO claims only
        ("CP-DENIED", DSH, "contract_pharmacy", "2021-04-01", None),  # a denied 340B claim
        ("CAH-MAIN", CAH, "parent", "2020-01-01", None),  # its entity ended 2026-08-31
        ("CLOSED", DSH, "child", "2015-01-01", "2026-08-31"),  # ended before the period
    )
    claims = _claims(("2026-09-04", "PARENT", DSH, 1, 2.0, 1.0),
                     ("2026-09-04", "CP-USED", DSH, 1, 2.0, 1.0),
                     ("2026-09-04", "CP-GPO", DSH, 1, 2.0, 1.0),
                     ("2026-09-04", "CP-DENIED", DSH, 1, 2.0, 1.0))
    claims.loc[2, "account"] = "GPO"
    claims.loc[3, ["claim_type", "status"]] = ["pharmacy", "denied"]
    found = reconcile_registry(claims, entities, sites, "2026-09-01", "2026-09-30")
    stale = _only(found, "STALE_REGISTRATION")
    assert stale["site_id"].tolist() == ["CP-DENIED", "CP-GPO", "CP-IDLE", "CP-LATE"]
    assert (stale["claims"] == 0).all() and stale["dollars_at_risk"].isna().all()
    assert (stale["site_type"] == "contract_pharmacy").all()
    assert stale["month"].isna().all()
    late = stale.set_index("site_id").loc["CP-LATE"]
    assert late["start_date"] == pd.Timestamp("2026-09-20") and pd.isna(late["end_date"])
    # CP-LATE's start is a change of the period too; nothing else is found.
    assert found[found["reason"] != "STALE_REGISTRATION"][["reason", "site_id"]].values.tolist(
    ) == [["REGISTRATION_CHANGE", "CP-LATE"]]


def test_registration_changes_in_the_period_and_the_watch_window():
    # September 2026: the watch window is 2026-10-01 .. 2026-09-30 + 90 days = 2026-12-29
    # (30 days to October 30, 60 to November 29, 90 to December 29).
    assert REGISTRATION_WATCH_DAYS == 90
    entities = _entities((DSH, "DSH", "2020-01-01", None),
                         (CAH, "CAH", "2026-09-01", "2027-08-31"))
    sites = _sites(PARENT,
                   ("CAH-MAIN", CAH, "parent", "2026-09-01", None),
                   ("CP-A", DSH, "contract_pharmacy", "2021-01-01", "2026-09-30"),
                   ("CP-B", DSH, "contract_pharmacy", "2021-01-01", "2026-12-29"),
                   ("CP-C", DSH, "contract_pharmacy", "2021-01-01", "2026-12-30"),
                   ("CP-D", DSH, "contract_pharmacy", "2021-01-01", "2026-08-31"))
    claims = _claims(*[("2026-09-15", site, entity, 1, 2.0, 1.0) for site, entity in (
        ("PARENT", DSH), ("CAH-MAIN", CAH), ("CP-A", DSH), ("CP-B", DSH), ("CP-C", DSH))])
    found = reconcile_registry(claims, entities, sites, "2026-09-01", "2026-09-30")
    changes = _only(found, "REGISTRATION_CHANGE")
    got = [(r.entity_id, r.site_id if pd.notna(r.site_id) else None, r.detail, r.month)
           for r in changes.itertuples()]
    assert got == [
        (CAH, None, DETAIL_TEXT["entity_starts"], "2026-09"),
        (CAH, "CAH-MAIN", DETAIL_TEXT["site_starts"], "2026-09"),
        (DSH, "CP-A", DETAIL_TEXT["site_ends"], "2026-09"),
        (DSH, "CP-B", DETAIL_TEXT["site_ends_soon"], "2026-12"),
    ]
    assert (found["reason"] == "REGISTRATION_CHANGE").all()
    # Read on 2026-10-15, the window reaches 2026-10-15 + 90 = 2027-01-13: CP-C comes in.
    later = reconcile_registry(claims, entities, sites, "2026-09-01", "2026-09-30",
                               today="2026-10-15")
    assert _only(later, "REGISTRATION_CHANGE")["site_id"].dropna().tolist() == [
        "CAH-MAIN", "CP-A", "CP-B", "CP-C"]
    # A day before the period end changes nothing: the window never starts before it.
    assert reconcile_registry(claims, entities, sites, "2026-09-01", "2026-09-30",
                              today="2026-09-01").equals(found)


def test_claims_without_an_entity_take_their_sites_by_the_audits_rule():
    entities = _entities((DSH, "DSH", "2020-01-01", None), (CAH, "CAH", "2020-01-01", None))
    sites = _sites(PARENT, ("CLINIC", DSH, "child", "2026-01-01", "2026-09-15"),
                   ("CAH-MAIN", CAH, "parent", "2020-01-01", None),
                   # Registered to DSH until 2026-06-30, then to CAH from 2026-09-16.
                   ("MOVED", DSH, "child", "2020-01-01", "2026-06-30"),
                   ("MOVED", CAH, "child", "2026-09-16", None))
    claims = _claims(
        # CLINIC was only ever DSH's: the claim after its end is DSH's, unregistered.
        ("2026-09-21", "CLINIC", None, 1, 5.0, 1.0),
        ("2026-09-01", "CLINIC", None, 1, 5.0, 1.0),
        # MOVED between registrations names no entity: unregistered, entity blank.
        ("2026-09-10", "MOVED", None, 2, 5.0, 1.0),
        ("2026-09-20", "MOVED", None, 1, 5.0, 1.0),   # CAH's on that day: clean
        ("2026-09-22", "NOWHERE", None, 1, 5.0, 1.0),  # a site in no registration
        ("2026-09-02", "PARENT", None, 1, 5.0, 1.0),
        ("2026-09-02", "CAH-MAIN", None, 1, 5.0, 1.0),
    ).drop(columns="entity_id")  # the column is optional
    found = _only(reconcile_registry(claims, entities, sites, "2026-09-01", "2026-09-30"),
                  "UNREGISTERED_ACTIVITY")
    got = [(r.entity_id if pd.notna(r.entity_id) else None, r.site_id, r.claims,
            r.dollars_at_risk, r.detail) for r in found.itertuples()]
    assert got == [
        (None, "MOVED", 1, 8.0, DETAIL_TEXT["entity_unknown"]),
        (None, "NOWHERE", 1, 4.0, DETAIL_TEXT["site_unknown"]),
        (DSH, "CLINIC", 1, 4.0, DETAIL_TEXT["outside_site_registration"]),
    ]


def test_with_no_claims_every_registered_site_is_stale():
    sites = _sites(PARENT, ("CP-1", DSH, "contract_pharmacy", "2021-04-01", None))
    claims = _claims(("2026-08-31", "PARENT", DSH, 1, 2.0, 1.0))  # before the period
    found = reconcile_registry(claims, _entities(), sites, "2026-09-01", "2026-09-30")
    assert found[["reason", "site_id"]].values.tolist() == [
        ["STALE_REGISTRATION", "CP-1"], ["STALE_REGISTRATION", "PARENT"]]


def test_a_clean_registry_has_no_findings():
    entities = _entities((DSH, "DSH", "2020-01-01", None), (CAH, "CAH", "2019-07-01", None))
    sites = _sites(PARENT, ("CLINIC", DSH, "child", "2024-01-01", None),
                   ("CP-1", DSH, "contract_pharmacy", "2024-04-01", "2027-06-30"),
                   ("CAH-MAIN", CAH, "parent", "2019-07-01", None))
    claims = _claims(("2026-09-01", "PARENT", DSH, 1, 2.0, 1.0),
                     ("2026-09-30", "CLINIC", None, 1, 2.0, 1.0),
                     ("2026-09-15", "CP-1", DSH, 1, 2.0, 1.0),
                     ("2026-09-15", "CAH-MAIN", CAH, 1, 2.0, 1.0),
                     # Outside the period: not reconciled.
                     ("2026-08-31", "NOWHERE", DSH, 1, 2.0, 1.0))
    found = reconcile_registry(claims, entities, sites, "2026-09-01", "2026-09-30")
    assert found.empty and list(found.columns) == list(COLUMNS)
    summary = summarize_registry(found)
    assert summary["reason"].tolist() == list(REASONS)
    assert (summary[["findings", "sites", "claims", "dollars_at_risk"]] == 0).all().all()


def test_summary_by_reason():
    entities = _entities()
    sites = _sites(PARENT, ("CP-IDLE", DSH, "contract_pharmacy", "2021-04-01", None))
    claims = _claims(("2026-09-03", "X", DSH, 2, 30.0, 5.0),   # $50
                     ("2026-09-04", "Y", DSH, 1, 12.5, 2.5),   # $10
                     ("2026-09-05", "Y", DSH, 1, None, 2.5),   # unknown
                     ("2026-09-06", "PARENT", DSH, 1, 1.0, 0.0))
    summary = summarize_registry(reconcile_registry(claims, entities, sites, "2026-09-01",
                                                    "2026-09-30")).set_index("reason")
    assert summary.loc["UNREGISTERED_ACTIVITY", ["findings", "sites", "claims",
                                                 "claims_without_costs"]].tolist() == [2, 2, 3, 1]
    assert summary.loc["UNREGISTERED_ACTIVITY", "dollars_at_risk"] == pytest.approx(60.0)
    assert summary.loc["STALE_REGISTRATION", ["findings", "sites", "claims"]].tolist() == [
        1, 1, 0]
    assert summary.loc["WRONG_ENTITY", "findings"] == 0


# --- bad input ---------------------------------------------------------------------------------


def test_bad_input_names_table_row_and_column():
    entities, claims = _entities(), _claims(("2026-09-01", "PARENT", DSH, 1, 2.0, 1.0))
    backwards = _sites(PARENT, ("CLINIC", DSH, "child", "2026-05-01", "2026-04-30"))
    with pytest.raises(DataValidationError) as error:
        reconcile_registry(claims, entities, backwards, "2026-09-01", "2026-09-30")
    message = str(error.value)
    assert "sites, row 2" in message and "end_date" in message and "start_date" in message

    with pytest.raises(DataValidationError, match='column "site_type"'):
        reconcile_registry(claims, entities, _sites(PARENT).drop(columns="site_type"),
                           "2026-09-01", "2026-09-30")
    with pytest.raises(DataValidationError, match=r'claims.*column "account"'):
        reconcile_registry(claims.drop(columns="account"), entities, _sites(PARENT),
                           "2026-09-01", "2026-09-30")
    bad_type = _entities().assign(entity_type="XYZ")
    with pytest.raises(DataValidationError, match=r'entities, row 1, column "entity_type"'):
        reconcile_registry(claims, bad_type, _sites(PARENT), "2026-09-01", "2026-09-30")
    with pytest.raises(InputError, match="period_end 2026-08-31 is before period_start "
                                         "2026-09-01"):
        reconcile_registry(claims, entities, _sites(PARENT), "2026-09-01", "2026-08-31")
    with pytest.raises(InputError, match="findings: columns missing"):
        summarize_registry(pd.DataFrame({"reason": []}))


# --- the synthetic health system ---------------------------------------------------------------

REGISTRATION_REASONS = {"SITE_NOT_REGISTERED", "ENTITY_INACTIVE"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registry") / "health-system"
    manifest = generate(folder, size="small")
    claims = load_table(folder / "claims", "claims")
    reference = load_reference(folder)
    return folder, manifest, claims, reference


def _month(manifest: dict) -> tuple[str, str]:
    last = pd.Period(manifest["months"][-1], freq="M")
    return str(last.start_time.date()), str(last.end_time.date())


def test_sample_last_month_finds_the_planted_registration_problems(sample):
    folder, manifest, claims, reference = sample
    first, last = _month(manifest)
    found = reconcile_registry(claims, reference["entity"], reference["sites"], first, last)
    assert set(found["reason"]) <= set(REASONS)
    known_sites = set(reference["sites"]["site_id"]) | set(claims["site_id"])
    assert set(found["site_id"].dropna()) <= known_sites

    # The planted claims of the month that break a registration rule, from the manifest.
    planted = {claim for p in manifest["planted"] if p["expected"] in REGISTRATION_REASONS
               for claim in p["identifiers"].get("claim_ids") or []}
    month = claims[(claims["service_date"] >= first) & (claims["service_date"] <= last)]
    expected = month[month["claim_id"].isin(planted)]
    assert len(expected) > 0, "the sample plants registration problems in its last month"
    # Each is UNREGISTERED_ACTIVITY (the sample's sites each name one entity: no WRONG_ENTITY),
    # counted on its site, with the audit's dollars.
    audit = audit_claims(claims, reference).set_index("claim_id")
    expected = expected.assign(dollars=audit.loc[expected["claim_id"], "dollars_at_risk"]
                               .to_numpy())
    want = expected.groupby("site_id")["dollars"].agg(["size", "sum"])
    activity = found[found["reason"].isin(["UNREGISTERED_ACTIVITY", "WRONG_ENTITY"])]
    assert (activity["reason"] == "UNREGISTERED_ACTIVITY").all()
    got = activity.groupby("site_id")[["claims", "dollars_at_risk"]].sum()
    assert got.index.tolist() == want.index.tolist()
    assert got["claims"].tolist() == want["size"].tolist()
    assert np.allclose(got["dollars_at_risk"], want["sum"])
    # The planted sites are named with their planted reason's case.
    details = dict(zip(activity["site_id"], activity["detail"], strict=True))
    for problem in manifest["planted"]:
        site = problem["identifiers"].get("site_id")
        if problem["expected"] == "SITE_NOT_REGISTERED" and site in details:
            assert details[site] in (DETAIL_TEXT["site_unknown"],
                                     DETAIL_TEXT["outside_site_registration"])
    rrc = activity[activity["entity_id"] == "RRC390045"]
    assert (rrc["detail"] == DETAIL_TEXT["entity_not_registered"]).all()


def test_sample_stale_and_changes_match_the_reference_files(sample):
    """An independent reading of the CSV files: which registrations overlap the month, which
    sites had 340B claims, which dates fall in the month or the watch window."""
    folder, manifest, claims, reference = sample
    first, last = _month(manifest)
    found = reconcile_registry(claims, reference["entity"], reference["sites"], first, last)
    p0, p1 = pd.Timestamp(first), pd.Timestamp(last)
    far = pd.Timestamp("2262-01-01")
    entity = pd.read_csv(folder / "entity.csv", parse_dates=["start_date", "end_date"])
    sites = pd.read_csv(folder / "sites.csv", parse_dates=["start_date", "end_date"])
    both = sites.merge(entity, on="entity_id", suffixes=("", "_entity"))
    start = np.maximum(both["start_date"], both["start_date_entity"]).clip(lower=p0)
    end = np.minimum(both["end_date"].fillna(far), both["end_date_entity"].fillna(far))
    registered = set(both.loc[start <= end.clip(upper=p1), "site_id"])
    used = claims[(claims["service_date"] >= p0) & (claims["service_date"] <= p1)
                  & (claims["account"] == "340B")
                  & ~((claims["claim_type"] == "pharmacy") & (claims["status"] == "denied"))]
    assert set(_only(found, "STALE_REGISTRATION")["site_id"]) == registered - set(
        used["site_id"])

    window_end = p1 + pd.Timedelta(days=REGISTRATION_WATCH_DAYS)
    events = set()
    for table, site in ((entity, None), (sites, "site_id")):
        for _, row in table.iterrows():  # a few dozen registrations, not claims
            key = (row["entity_id"], row[site] if site else None)
            if p0 <= row["start_date"] <= p1:
                events.add(key + ("starts",))
            if pd.notna(row["end_date"]) and p0 <= row["end_date"] <= window_end:
                events.add(key + ("ends",))
    changes = _only(found, "REGISTRATION_CHANGE")
    got = {(r.entity_id, r.site_id if pd.notna(r.site_id) else None,
            "starts" if "starts" in r.detail else "ends") for r in changes.itertuples()}
    assert got == events


def test_sample_history_agrees_with_the_claim_audit(sample):
    """Over all 24 months: the claims the audit finds at an unregistered site or of an
    inactive entity are exactly those of UNREGISTERED_ACTIVITY and WRONG_ENTITY, month by
    month and site by site, with the same dollars."""
    folder, manifest, claims, reference = sample
    first = str(pd.Period(manifest["months"][0], freq="M").start_time.date())
    _, last = _month(manifest)
    found = reconcile_registry(claims, reference["entity"], reference["sites"], first, last)
    audit = audit_claims(claims, reference)
    flagged = audit[audit["reasons"].str.contains("SITE_NOT_REGISTERED|ENTITY_INACTIVE")]
    want = flagged.assign(month=flagged["service_date"].dt.strftime("%Y-%m")).groupby(
        ["entity_id", "site_id", "month"], observed=True)["dollars_at_risk"].agg(["size", "sum"])
    activity = found[found["reason"].isin(["UNREGISTERED_ACTIVITY", "WRONG_ENTITY"])]
    got = activity.groupby(["entity_id", "site_id", "month"])[["claims", "dollars_at_risk"]].sum()
    assert got.index.tolist() == want.index.tolist()
    assert got["claims"].tolist() == want["size"].tolist()
    assert np.allclose(got["dollars_at_risk"], want["sum"])
    # Every planted registration problem of the history is among them.
    months = set(found["month"].dropna())
    for problem in manifest["planted"]:
        if problem["expected"] in REGISTRATION_REASONS:
            assert set(problem["details"]["months"]) <= months
    json.dumps(summarize_registry(found).to_dict("records"))  # plain values for a report


# --- against a claim-by-claim oracle -----------------------------------------------------------

DAYS = pd.date_range("2026-08-20", "2026-10-10").strftime("%Y-%m-%d").tolist()


def _oracle(claims: pd.DataFrame, entities: pd.DataFrame, sites: pd.DataFrame, first: str,
            last: str) -> tuple[dict, set]:
    """The rules of docs/340b-registry.md, claim by claim in plain Python (small tables)."""
    def covers(row, day):
        return row["start_date"] <= day and (row["end_date"] is None or day <= row["end_date"])

    def registered(site, entity, day):
        return (any(covers(s, day) for s in site_rows if s["site_id"] == site
                    and s["entity_id"] == entity)
                and any(covers(e, day) for e in entity_rows if e["entity_id"] == entity))

    def records(frame):
        return frame.astype(object).where(frame.notna(), None).to_dict("records")

    site_rows, entity_rows = records(sites), records(entities)
    found: dict = {}
    used_sites = set()
    for claim in records(claims):
        day = claim["service_date"]
        if not (first <= day <= last) or claim["account"] != "340B":
            continue
        used_sites.add(claim["site_id"])
        entity = claim["entity_id"]
        if entity is None:
            mine = [s for s in site_rows if s["site_id"] == claim["site_id"]]
            on_day = {s["entity_id"] for s in mine if covers(s, day)}
            ever = {s["entity_id"] for s in mine}
            names = on_day if on_day else ever
            entity = next(iter(names)) if len(names) == 1 else None
        if entity is not None and registered(claim["site_id"], entity, day):
            continue
        others = {s["entity_id"] for s in site_rows if s["site_id"] == claim["site_id"]
                  and registered(s["site_id"], s["entity_id"], day)}
        if others and entity is None:
            continue
        reason = "WRONG_ENTITY" if others else "UNREGISTERED_ACTIVITY"
        key = (reason, entity, claim["site_id"], day[:7])
        count, dollars = found.get(key, (0, 0.0))
        found[key] = (count + 1, dollars + round(claim["quantity"] * (
            claim["unit_cost_wac"] - claim["unit_cost_340b"]), 2))
    stale = set()
    for s in site_rows:
        for e in entity_rows:
            if e["entity_id"] != s["entity_id"]:
                continue
            begin = max(s["start_date"], e["start_date"], first)
            ends = [d for d in (s["end_date"], e["end_date"], last) if d is not None]
            if begin <= min(ends) and s["site_id"] not in used_sites:
                stale.add((s["site_id"], s["entity_id"]))
    return found, stale


_dates = st.sampled_from(DAYS)
_ends = st.one_of(st.none(), _dates)


@st.composite
def _registries(draw):
    entity_rows = [(e, t, draw(_dates), draw(_ends)) for e, t in ((DSH, "DSH"), (CAH, "CAH"))]
    entity_rows = [(e, t, s, None if end is None or end < s else end)
                   for e, t, s, end in entity_rows]
    site_rows = []
    for site in ("S1", "S2", "S3"):
        for entity in draw(st.lists(st.sampled_from([DSH, CAH]), min_size=0, max_size=2,
                                    unique=True)):
            start, end = draw(_dates), draw(_ends)
            site_rows.append((site, entity, "child", start,
                              None if end is None or end < start else end))
    claim_rows = draw(st.lists(st.tuples(
        _dates, st.sampled_from(["S1", "S2", "S3", "S4"]),
        st.sampled_from([DSH, CAH, None]), st.integers(1, 5), st.sampled_from([2.0, 7.5]),
        st.sampled_from([0.5, 1.0]), st.sampled_from(["340B", "340B", "GPO"])),
        min_size=0, max_size=25))
    return entity_rows, site_rows, claim_rows


@settings(max_examples=60, deadline=None)
@given(_registries())
def test_reconciliation_matches_a_claim_by_claim_oracle(tables):
    entity_rows, site_rows, claim_rows = tables
    entities = _entities(*entity_rows)
    sites = _sites(*site_rows) if site_rows else _sites().astype(object)
    claims = pd.DataFrame(claim_rows, columns=["service_date", "site_id", "entity_id",
                                               "quantity", "unit_cost_wac",
                                               "unit_cost_340b", "account"]).assign(
        claim_type="medical", status="paid")
    claims = claims.astype({"entity_id": object}).where(claims.notna(), None)
    first, last = "2026-09-01", "2026-09-30"
    found = reconcile_registry(claims, entities, sites, first, last)
    want, stale = _oracle(claims, entities, sites, first, last)
    activity = found[found["reason"].isin(["UNREGISTERED_ACTIVITY", "WRONG_ENTITY"])]
    got = {}
    for r in activity.itertuples():
        key = (r.reason, r.entity_id if pd.notna(r.entity_id) else None, r.site_id, r.month)
        count, dollars = got.get(key, (0, 0.0))
        got[key] = (count + r.claims, dollars + r.dollars_at_risk)
    assert got.keys() == want.keys()
    for key, (count, dollars) in want.items():
        assert got[key][0] == count and got[key][1] == pytest.approx(dollars)
    found_stale = _only(found, "STALE_REGISTRATION")
    assert set(zip(found_stale["site_id"], found_stale["entity_id"], strict=True)) == stale
