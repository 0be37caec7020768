"""340B compliance checks on every claim, with reasons and dollars at stake.

The statute's integrity rules (42 USC 256b(a)(5)): a 340B drug goes only to the entity's own
patients (no diversion) and never also earns a Medicaid rebate (no duplicate discount); plus
the GPO prohibition for DSH, children's and cancer hospitals and the orphan drug exclusion for
rural and cancer hospitals (DOMAIN.md §6, hrsa.gov/opa). Each rule is a stable reason code:

=============================  ==========  =====================================================
reason                         severity    the claim
=============================  ==========  =====================================================
ENTITY_INACTIVE                violation   340B; its entity is not registered on the date
SITE_NOT_REGISTERED            violation   340B; its site is unknown or not registered to the
                                           entity on the date
NO_QUALIFYING_ENCOUNTER        violation   340B; the patient had no encounter at a site
                                           registered to the entity in the look-back window
PRESCRIBER_NOT_ELIGIBLE        violation   340B; the prescriber is not on the entity's list
INPATIENT                      violation   340B; inpatient at administration (observation per
                                           policy, outpatient by default)
MEDICAID_DUPLICATE_DISCOUNT    violation   340B Medicaid FFS, while the MEF does not list the
                                           entity, state and billing NPI as carve-in that quarter
MEF_CARVE_IN_NOT_340B          review      Medicaid FFS under a carve-in listing, not on 340B
CONTRACT_PHARMACY_MEDICAID     violation   340B Medicaid (FFS or MCO) at a contract pharmacy
                                           without a reported Medicaid arrangement
GPO_PROHIBITION                violation   DSH/PED/CAN entity, outpatient, GPO account
ORPHAN_DRUG                    violation   CAH/SCH/RRC/CAN entity, orphan-listed NDC, 340B
MISSING_340B_MODIFIER          violation   340B Medicare Part B without JG or TB
ENTITY_UNKNOWN                 review      no entity on the claim and its site is registered to
                                           several entities, or to none on the account's books
=============================  ==========  =====================================================

Choices (documented in the README):

- A claim's entity is ``claims.entity_id``; when blank, the entity its site is registered to
  (the registration active on the service date wins; if several remain, ENTITY_UNKNOWN).
- Denied *pharmacy* claims were not dispensed under that claim and are not checked
  (``checked`` is False); denied medical claims were administered and are checked.
- An encounter counts when it is at a site registered to the claim's entity on the
  encounter date, and falls within ``lookback_days`` before the service date (inclusive of
  both ends).
- A MEF row with a blank billing NPI covers every billing NPI of that entity and state.
- Dollars at stake = quantity x (WAC - 340B unit cost) on every non-compliant claim, NaN where
  a cost is unknown.

Everything is vectorized: interval checks are merges on small reference tables, and the
encounter look-back is one binary search of sorted (patient, entity, date) keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rxxl.errors import InputError

COMPLIANT, VIOLATION, REVIEW = "compliant", "violation", "review"

#: Reason codes in the order they are listed on a claim, with their severity.
REASONS: dict[str, str] = {
    "ENTITY_UNKNOWN": REVIEW,
    "ENTITY_INACTIVE": VIOLATION,
    "SITE_NOT_REGISTERED": VIOLATION,
    "NO_QUALIFYING_ENCOUNTER": VIOLATION,
    "PRESCRIBER_NOT_ELIGIBLE": VIOLATION,
    "INPATIENT": VIOLATION,
    "MEDICAID_DUPLICATE_DISCOUNT": VIOLATION,
    "MEF_CARVE_IN_NOT_340B": REVIEW,
    "CONTRACT_PHARMACY_MEDICAID": VIOLATION,
    "GPO_PROHIBITION": VIOLATION,
    "ORPHAN_DRUG": VIOLATION,
    "MISSING_340B_MODIFIER": VIOLATION,
}
GPO_PROHIBITED_TYPES = frozenset({"DSH", "PED", "CAN"})
ORPHAN_EXCLUDED_TYPES = frozenset({"CAH", "SCH", "RRC", "CAN"})
PART_B_340B_MODIFIERS = frozenset({"JG", "TB"})
DEFAULT_LOOKBACK_DAYS = 365
REFERENCE_TABLES = ("entity", "sites", "prescribers", "encounters", "mef", "orphan_drugs")


@dataclass(frozen=True)
class AuditPolicy:
    """The entity's written policy choices that the checks depend on."""

    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    #: Observation stays count as outpatient (the common written policy) unless False.
    observation_is_outpatient: bool = True
    #: The orphan drug exclusion's reach is contested in court: a policy switch.
    check_orphan_drugs: bool = True


def audit_claims(
    claims: pd.DataFrame,
    reference: dict[str, pd.DataFrame],
    policy: AuditPolicy | None = None,
) -> pd.DataFrame:
    """Check every claim against the 340B rules.

    Parameters
    ----------
    claims : DataFrame
        Claims as loaded by ``rxxl.data.load_table(..., "claims")``.
    reference : dict of DataFrame
        The six 340B reference tables, as ``rxxl.data.load_reference`` returns them.
    policy : AuditPolicy, optional
        Look-back window, observation status, orphan drug check.

    Returns
    -------
    DataFrame
        One row per claim, in the claims' order: ``claim_id, service_date, entity_id,
        site_id, payer_type, account, checked, status, reasons`` (codes joined by ";", empty
        when compliant) and ``dollars_at_risk``.

    References
    ----------
    42 USC 256b(a)(5); HRSA 1996 patient definition (61 FR 55156); DOMAIN.md §6.
    """
    policy = policy or AuditPolicy()
    if policy.lookback_days < 0:
        raise InputError("lookback_days: the look-back window is 0 days or more")
    missing = [name for name in REFERENCE_TABLES if name not in reference]
    if missing:
        raise InputError(f"reference tables missing: {', '.join(missing)}")

    n = len(claims)
    day = _days(claims["service_date"])
    site = claims["site_id"].astype("string").to_numpy(dtype=object, na_value=None)
    entity, entity_unknown = _claim_entities(claims, reference["sites"], site, day)
    account = claims["account"].astype(str).to_numpy()
    on_340b = account == "340B"
    checked = ~((claims["claim_type"].astype(str) == "pharmacy").to_numpy()
                & (claims["status"].astype(str) == "denied").to_numpy())
    payer_type = claims["payer_type"].astype(str).to_numpy()
    status = claims["patient_status"].astype(str).to_numpy()
    inpatient = (status == "inpatient") | (
        (status == "observation") & (not policy.observation_is_outpatient)
    )

    entity_types = _entity_types(reference["entity"], entity)
    diversion_scope = checked & on_340b & ~entity_unknown
    found = {code: np.zeros(n, dtype=bool) for code in REASONS}
    found["ENTITY_UNKNOWN"] = checked & on_340b & entity_unknown

    found["ENTITY_INACTIVE"] = diversion_scope & ~_covered(
        entity, day, reference["entity"], ["entity_id"]
    )
    site_rows = reference["sites"]
    registered = _covered(
        np.stack([site, entity], axis=1), day, site_rows, ["site_id", "entity_id"]
    )
    found["SITE_NOT_REGISTERED"] = diversion_scope & ~registered
    found["NO_QUALIFYING_ENCOUNTER"] = diversion_scope & ~_has_encounter(
        claims["patient_id"], entity, day, reference["encounters"], site_rows,
        policy.lookback_days, diversion_scope,
    )
    npi = claims["prescriber_npi"].astype("string").to_numpy(dtype=object, na_value=None)
    found["PRESCRIBER_NOT_ELIGIBLE"] = diversion_scope & ~_covered(
        np.stack([npi, entity], axis=1), day, reference["prescribers"], ["npi", "entity_id"]
    )
    found["INPATIENT"] = diversion_scope & inpatient

    medicaid_ffs = checked & (payer_type == "medicaid_ffs") & ~entity_unknown
    carve_in = _mef_carve_in(claims, entity, day, reference["mef"])
    found["MEDICAID_DUPLICATE_DISCOUNT"] = medicaid_ffs & on_340b & ~carve_in
    found["MEF_CARVE_IN_NOT_340B"] = medicaid_ffs & ~on_340b & carve_in

    contract_pharmacy, arrangement = _contract_pharmacy(site_rows, site, entity, day)
    medicaid = np.isin(payer_type, ["medicaid_ffs", "medicaid_mco"])
    found["CONTRACT_PHARMACY_MEDICAID"] = (
        diversion_scope & medicaid & contract_pharmacy & ~arrangement
    )
    outpatient = ~inpatient
    found["GPO_PROHIBITION"] = (
        checked & (account == "GPO") & outpatient
        & np.isin(entity_types, list(GPO_PROHIBITED_TYPES))
    )
    if policy.check_orphan_drugs:
        orphan = claims["ndc"].astype("string").isin(
            reference["orphan_drugs"]["ndc"].astype("string")
        ).to_numpy(dtype=bool)
        found["ORPHAN_DRUG"] = (
            diversion_scope & orphan & np.isin(entity_types, list(ORPHAN_EXCLUDED_TYPES))
        )
    found["MISSING_340B_MODIFIER"] = (
        diversion_scope & (payer_type == "medicare_b") & ~_has_340b_modifier(claims)
    )

    reasons, status_out = _reasons_and_status(found, n)
    at_risk = status_out != COMPLIANT
    quantity = claims["quantity"].to_numpy(dtype=float)
    spread = (claims["unit_cost_wac"].to_numpy(dtype=float, na_value=np.nan)
              - claims["unit_cost_340b"].to_numpy(dtype=float, na_value=np.nan))
    dollars = np.where(at_risk, quantity * spread, 0.0)

    return pd.DataFrame(
        {
            "claim_id": claims["claim_id"].to_numpy(),
            "service_date": claims["service_date"].to_numpy(),
            "entity_id": pd.array(entity, dtype="string"),
            "site_id": claims["site_id"].to_numpy(),
            "payer_type": claims["payer_type"].to_numpy(),
            "account": claims["account"].to_numpy(),
            "checked": checked,
            "status": pd.Categorical(status_out, categories=[COMPLIANT, REVIEW, VIOLATION]),
            "reasons": reasons,
            "dollars_at_risk": dollars,
        }
    )


# --- building blocks ----------------------------------------------------------------------------


def _days(dates: pd.Series) -> np.ndarray:
    return dates.to_numpy(dtype="datetime64[D]").astype(np.int64)


def _claim_entities(
    claims: pd.DataFrame, sites: pd.DataFrame, site: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each claim's entity, and whether it could not be told."""
    given = (
        claims["entity_id"].astype("string").to_numpy(dtype=object, na_value=None)
        if "entity_id" in claims
        else np.full(len(claims), None, dtype=object)
    )
    needed = np.flatnonzero(pd.isna(given))
    entity = given.copy()
    unknown = np.zeros(len(claims), dtype=bool)
    if needed.size == 0:
        return entity, unknown
    asked = pd.DataFrame({"row": needed, "site_id": site[needed], "day": day[needed]})
    rows = asked.merge(
        sites[["site_id", "entity_id", "start_date", "end_date"]].astype(
            {"site_id": object, "entity_id": object}
        ),
        on="site_id",
    )
    rows["active"] = _within(rows["day"].to_numpy(), rows["start_date"], rows["end_date"])
    # Prefer the registration active on the service date; among several, the claim is
    # ambiguous; a site registered to one entity only (at another time) still names it.
    rows = rows.sort_values(["row", "active"], ascending=[True, False])
    best = rows.groupby("row", sort=False).agg(
        entity_id=("entity_id", "first"),
        active=("active", "first"),
        candidates=("entity_id", "nunique"),
        active_count=("active", "sum"),
    )
    ambiguous = (best["active_count"] > 1) | ((best["active_count"] == 0)
                                              & (best["candidates"] > 1))
    chosen = best.index.to_numpy()
    entity[chosen] = np.where(ambiguous, None, best["entity_id"].to_numpy())
    unknown[chosen[ambiguous.to_numpy()]] = True
    # A site no registry knows and no entity on the claim: nothing to attribute it to.
    unknown[np.setdiff1d(needed, chosen)] = True
    return entity, unknown


def _within(day: np.ndarray, start: pd.Series, end: pd.Series) -> np.ndarray:
    start_day = _days(start)
    end_day = end.to_numpy(dtype="datetime64[D]")
    open_ended = np.isnat(end_day)
    return (start_day <= day) & (open_ended | (day <= end_day.astype(np.int64)))


def _covered(keys: np.ndarray, day: np.ndarray, periods: pd.DataFrame, key_columns) -> np.ndarray:
    """Whether a period row with the same key covers each claim's day."""
    keys = keys.reshape(len(day), -1)
    asked = pd.DataFrame({name: keys[:, i] for i, name in enumerate(key_columns)})
    asked["row"] = np.arange(len(day))
    asked["day"] = day
    asked = asked.dropna(subset=key_columns)
    table = periods[[*key_columns, "start_date", "end_date"]].astype(
        dict.fromkeys(key_columns, object)
    )
    rows = asked.merge(table, on=key_columns)
    inside = _within(rows["day"].to_numpy(), rows["start_date"], rows["end_date"])
    covered = np.zeros(len(day), dtype=bool)
    covered[rows["row"].to_numpy()[inside]] = True
    return covered


def _entity_types(entities: pd.DataFrame, entity: np.ndarray) -> np.ndarray:
    types = dict(zip(entities["entity_id"].astype(str), entities["entity_type"].astype(str),
                     strict=True))
    return pd.Series(entity, dtype=object).map(types).to_numpy(dtype=object)


def _has_encounter(
    patients: pd.Series,
    entity: np.ndarray,
    day: np.ndarray,
    encounters: pd.DataFrame,
    sites: pd.DataFrame,
    lookback_days: int,
    scope: np.ndarray,
) -> np.ndarray:
    """Whether each claim's patient had an encounter at a site of the claim's entity within
    ``lookback_days`` before (or on) the service date."""
    result = np.zeros(len(day), dtype=bool)
    rows = np.flatnonzero(scope)
    if rows.size == 0 or encounters.empty:
        return result
    visits = encounters[["patient_id", "site_id", "encounter_date"]].merge(
        sites[["site_id", "entity_id", "start_date", "end_date"]], on="site_id"
    )
    visit_day = _days(visits["encounter_date"])
    visits = visits[_within(visit_day, visits["start_date"], visits["end_date"])]
    visit_day = _days(visits["encounter_date"])

    # One integer key per (patient, entity) pair across visits and claims, then one sorted
    # array of key * span + day: the latest visit on or before a claim is a binary search.
    pair_visits = visits["patient_id"].astype(str) + "\x1f" + visits["entity_id"].astype(str)
    pair_claims = (patients.iloc[rows].astype(str).to_numpy(dtype=object) + "\x1f"
                   + entity[rows].astype(str))
    codes, _ = pd.factorize(np.concatenate([pair_visits.to_numpy(dtype=object), pair_claims]))
    visit_key, claim_key = codes[: len(visits)], codes[len(visits):]
    origin = min(visit_day.min(initial=0), day[rows].min()) - lookback_days - 1
    span = max(visit_day.max(initial=0), day[rows].max()) - origin + 1
    visit_code = np.sort(visit_key.astype(np.int64) * span + (visit_day - origin))
    claim_code = claim_key.astype(np.int64) * span + (day[rows] - origin)
    position = np.searchsorted(visit_code, claim_code, side="right") - 1
    found = position >= 0
    latest = visit_code[np.clip(position, 0, None)]
    same_pair = latest // span == claim_key
    recent = claim_code - latest <= lookback_days
    result[rows] = found & same_pair & recent
    return result


def _quarter_start(day: np.ndarray) -> np.ndarray:
    months = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return (months - months % 3).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _mef_carve_in(
    claims: pd.DataFrame, entity: np.ndarray, day: np.ndarray, mef: pd.DataFrame
) -> np.ndarray:
    """Whether the MEF lists the claim's entity, state and billing NPI as carve-in for the
    quarter of its service date (a row without a billing NPI covers every NPI)."""
    asked = pd.DataFrame(
        {
            "row": np.arange(len(claims)),
            "entity_id": entity,
            "state": claims["payer_state"].astype("string").to_numpy(dtype=object, na_value=None),
            "npi": claims["billing_npi"].astype("string").to_numpy(dtype=object, na_value=None),
            "quarter": _quarter_start(day),
        }
    ).dropna(subset=["entity_id", "state"])
    listed = mef.assign(
        quarter=_days(mef["quarter_start"]),
        npi=mef["billing_npi"].astype("string").to_numpy(dtype=object, na_value=None),
    )[["entity_id", "state", "npi", "quarter", "carve_in"]].astype(
        {"entity_id": object, "state": object}
    )
    listed = listed[listed["carve_in"].fillna(False).astype(bool)]
    exact = asked.merge(listed.dropna(subset=["npi"]), on=["entity_id", "state", "npi", "quarter"])
    any_npi = asked.merge(
        listed[listed["npi"].isna()].drop(columns="npi"), on=["entity_id", "state", "quarter"]
    )
    carve_in = np.zeros(len(claims), dtype=bool)
    carve_in[exact["row"].to_numpy()] = True
    carve_in[any_npi["row"].to_numpy()] = True
    return carve_in


def _contract_pharmacy(
    sites: pd.DataFrame, site: np.ndarray, entity: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each claim's site is a contract pharmacy of its entity on the service date,
    and whether that pharmacy has a Medicaid arrangement reported to HRSA."""
    asked = pd.DataFrame({"row": np.arange(len(day)), "site_id": site, "entity_id": entity,
                          "day": day}).dropna(subset=["site_id", "entity_id"])
    pharmacies = sites[sites["site_type"].astype(str) == "contract_pharmacy"].astype(
        {"site_id": object, "entity_id": object}
    )
    rows = asked.merge(pharmacies, on=["site_id", "entity_id"])
    rows = rows[_within(rows["day"].to_numpy(), rows["start_date"], rows["end_date"])]
    is_pharmacy = np.zeros(len(day), dtype=bool)
    has_arrangement = np.zeros(len(day), dtype=bool)
    is_pharmacy[rows["row"].to_numpy()] = True
    arranged = rows["medicaid_arrangement"].fillna(False).astype(bool).to_numpy()
    has_arrangement[rows["row"].to_numpy()[arranged]] = True
    return is_pharmacy, has_arrangement


def _has_340b_modifier(claims: pd.DataFrame) -> np.ndarray:
    if "modifiers" not in claims:
        return np.zeros(len(claims), dtype=bool)
    text = claims["modifiers"].astype("string").fillna("").str.upper()
    # Modifiers come as "JG", "JG;KX", "KX, TB": any separator, whole tokens only.
    tokens = text.str.replace(r"[^A-Z0-9]+", " ", regex=True).str.strip()
    padded = " " + tokens + " "
    has = np.zeros(len(claims), dtype=bool)
    for modifier in PART_B_340B_MODIFIERS:
        has |= padded.str.contains(f" {modifier} ", regex=False).to_numpy(dtype=bool)
    return has


def _reasons_and_status(found: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    codes = list(found)
    bits = np.zeros(n, dtype=np.int64)
    for i, code in enumerate(codes):
        bits |= found[code].astype(np.int64) << i
    # Few distinct combinations occur: label each once, then index.
    unique, inverse = np.unique(bits, return_inverse=True)
    labels, statuses = [], []
    for mask in unique:
        listed = [code for i, code in enumerate(codes) if mask >> i & 1]
        labels.append(";".join(listed))
        severities = {REASONS[code] for code in listed}
        statuses.append(
            VIOLATION if VIOLATION in severities else REVIEW if severities else COMPLIANT
        )
    return np.asarray(labels, dtype=object)[inverse], np.asarray(statuses, dtype=object)[inverse]


# --- summaries ---------------------------------------------------------------------------------


def summarize_findings(audit: pd.DataFrame, by: str = "reason") -> pd.DataFrame:
    """Count and dollars of non-compliant claims by reason, site, entity or month.

    Each claim counts once per reason it carries when ``by="reason"``; dollars at stake are
    summed where known, with the count of claims whose dollars are unknown.
    """
    findings = audit[audit["status"] != COMPLIANT]
    if by == "reason":
        findings = findings.assign(reason=findings["reasons"].str.split(";")).explode("reason")
        key = "reason"
    elif by == "month":
        findings = findings.assign(month=findings["service_date"].dt.to_period("M").astype(str))
        key = "month"
    elif by in ("site", "entity"):
        key = f"{by}_id"
    else:
        raise InputError(f"by: expected reason, site, entity or month, got {by!r}")
    grouped = findings.groupby(key, observed=True, dropna=False)
    summary = pd.DataFrame(
        {
            "claims": grouped.size(),
            "violations": grouped["status"].apply(lambda s: int((s == VIOLATION).sum())),
            "dollars_at_risk": grouped["dollars_at_risk"].sum(min_count=0),
            "claims_without_costs": grouped["dollars_at_risk"].apply(lambda s: int(s.isna().sum())),
        }
    ).reset_index()
    return summary.sort_values(["dollars_at_risk", "claims"], ascending=False, ignore_index=True)


def audit_sample(
    audit: pd.DataFrame, claims_per_entity: int = 10, seed: int = 340
) -> pd.DataFrame:
    """A seeded random sample of 340B claims per entity for a tracer audit (HRSA auditors
    trace about 10 prescriptions per 340B ID from dispensing back to purchase)."""
    on_340b = audit[(audit["account"].astype(str) == "340B") & audit["entity_id"].notna()]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(on_340b))
    shuffled = on_340b.iloc[order]
    return (
        shuffled.groupby("entity_id", sort=True, observed=True)
        .head(claims_per_entity)
        .sort_values(["entity_id", "service_date", "claim_id"], ignore_index=True)
    )
