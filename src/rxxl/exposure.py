"""What each 340B finding costs: the exposure by reason, in the finance team's words.

The audit (:func:`rxxl.audit340b.audit_claims`) says *which* rule a claim broke; this module
says what the finding puts at stake, and for whom. Each reason code has one exposure
**kind** (:data:`EXPOSURE_OF_REASON`), and each kind one formula. With ``q`` the claim's
quantity (billing units), ``P`` its 340B unit cost and ``W`` its WAC unit cost:

==================  ======================================  ===================================
kind                the money at stake                      dollars per claim
==================  ======================================  ===================================
repayment           the manufacturer is repaid the          q x (A - P); A = W for a DSH, PED
                    discount on a diverted drug             or CAN entity (no GPO allowed),
                                                            else the GPO price, unknown: W as
                                                            an upper bound
rebate              the Medicaid rebate the manufacturer    q x (W - P): an upper bound of the
                    paid on a 340B drug (duplicate          unit rebate AMP - ceiling price
                    discount), repaid to it
billing_correction  the claim is rebilled with the JG/TB    0 (no payment differs since the
                    modifier                                2023 remedy; see below)
missed_savings      a carve-in Medicaid claim filled off    q x (A - P); A = W on the WAC
                    340B: savings not taken, nothing owed   account, the GPO price (unknown: W
                                                            as an upper bound) on GPO
regulatory          the GPO purchase HRSA finds at issue;   q x GPO price, unknown: q x W as
                    eligibility itself is at risk           an upper bound
undetermined        a finding not yet reviewed              q x (W - P): the most the claim
                                                            could cost, an upper bound
==================  ======================================  ===================================

Rules (docs/340b-exposure.md gives the sources and the reasoning):

- **One rule for a price difference** (:func:`price_difference`): units x (the price the drug
  would have cost off 340B - the 340B price), never below 0 (a 340B price above the
  alternative owes and saves nothing), rounded to the cent, NaN where a cost is blank. The
  price it would have cost is WAC where the GPO prohibition binds (DSH, PED and CAN
  entities, :data:`rxxl.audit340b.GPO_PROHIBITED_TYPES`) and the GPO price otherwise; the
  claims carry no GPO price, so WAC stands in, an upper bound (``exposure_upper_bound``).
  Manufacturer repayment, missed savings and the savings a 340B claim books
  (:mod:`rxxl.savings`) are all this one difference.
- **One exposure per claim, no double count.** A claim with several reasons is exposed once:
  the largest of its reasons' dollars, attributed to that reason (``exposure_reason``). A
  reason whose dollars are unknown (NaN: a blank cost) ranks above every known amount, since
  the unknown one may be larger; ties go to the reason listed first in
  :data:`EXPOSURE_OF_REASON` (repayment, then rebate, regulatory, missed savings,
  undetermined, billing correction). Summaries count each claim once, under the reason
  its exposure is attributed to, so the kinds add up to the total.
- **Compliant claims** have no kind, no reason and 0 dollars.
- **MISSING_340B_MODIFIER is 0 dollars at every date** (and WRONG_340B_MODIFIER, a rebill with
  TB). From 2018-01-01 to 2022-09-27 OPPS paid 340B-acquired drugs billed with JG at ASP -
  22.5% instead of ASP + 6%, so a 340B line missing JG was overpaid then. The Supreme Court
  held the cut unlawful (AHA v. Becerra, 2022) and the remedy rule (88 FR 77150, Nov. 8, 2023)
  paid the affected hospitals the difference up to ASP + 6%: what a line without the modifier
  was paid is now what every 340B line is owed, so no overpayment remains. From 2023 the
  modifier changes no OPPS payment; from 2024-01-01 every covered entity reports it so 340B
  units are left out of the manufacturers' Part B inflation rebates (IRA): the fix is a rebill,
  the harm a manufacturer rebate on 340B units, not a dollar the entity owes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rxxl.audit340b import GPO_PROHIBITED_TYPES
from rxxl.errors import InputError

REPAYMENT = "repayment"
REBATE = "rebate"
BILLING_CORRECTION = "billing_correction"
MISSED_SAVINGS = "missed_savings"
REGULATORY = "regulatory"
UNDETERMINED = "undetermined"

#: Each exposure kind in plain words, as reports show it.
EXPOSURE_KINDS: dict[str, str] = {
    REPAYMENT: "Repayment to the manufacturer of the 340B discount on a drug that was not "
               "eligible",
    REBATE: "Medicaid rebate paid by the manufacturer on a 340B drug (duplicate discount), "
            "owed back to it",
    REGULATORY: "GPO purchase at issue under the GPO prohibition: the entity's 340B "
                "eligibility is at risk",
    MISSED_SAVINGS: "340B savings not taken: a carve-in Medicaid claim filled off 340B",
    UNDETERMINED: "Not yet determined: the most the claim could cost until it is reviewed",
    BILLING_CORRECTION: "Rebill with the JG or TB modifier; no payment differs",
}

#: Each exposure kind's short name, as a table's column shows it.
EXPOSURE_KIND_NAMES: dict[str, str] = {
    REPAYMENT: "Manufacturer repayment", REBATE: "Medicaid rebate",
    REGULATORY: "Regulatory (GPO prohibition)", MISSED_SAVINGS: "Missed savings",
    UNDETERMINED: "Undetermined", BILLING_CORRECTION: "Billing correction",
}

#: The exposure kind of every audit reason code, in attribution order (ties go to the first).
EXPOSURE_OF_REASON: dict[str, str] = {
    "ENTITY_INACTIVE": REPAYMENT,
    "SITE_NOT_REGISTERED": REPAYMENT,
    "NO_QUALIFYING_ENCOUNTER": REPAYMENT,
    "PRESCRIBER_NOT_ELIGIBLE": REPAYMENT,
    "INPATIENT": REPAYMENT,
    "ORPHAN_DRUG": REPAYMENT,
    "MEDICAID_DUPLICATE_DISCOUNT": REBATE,
    "CONTRACT_PHARMACY_MEDICAID": REBATE,
    "GPO_PROHIBITION": REGULATORY,
    "MEF_CARVE_IN_NOT_340B": MISSED_SAVINGS,
    "ENTITY_UNKNOWN": UNDETERMINED,
    "MEF_CONFLICT": UNDETERMINED,
    "MISSING_340B_MODIFIER": BILLING_CORRECTION,
    "WRONG_340B_MODIFIER": BILLING_CORRECTION,
}

#: The columns of the claims the dollars are read from.
COST_COLUMNS = ("quantity", "unit_cost_340b", "unit_cost_wac")
#: The columns of the audit the exposure is read from.
AUDIT_COLUMNS = ("entity_id", "account", "reasons")


def price_difference(
    claims: pd.DataFrame, audit: pd.DataFrame, reference: dict[str, pd.DataFrame] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each claim's units x (price off 340B - 340B price): repayment, savings, the one rule.

    Parameters
    ----------
    claims : DataFrame
        ``quantity``, ``unit_cost_340b`` and ``unit_cost_wac`` per claim.
    audit : DataFrame
        :func:`rxxl.audit340b.audit_claims` output for the same claims (``entity_id``: the
        claim's entity as the audit resolved it).
    reference : dict of DataFrame, optional
        The 340B reference tables; only ``entity`` (``entity_id``, ``entity_type``) is read.
        Without it no entity's type is known and every difference is an upper bound.

    Returns
    -------
    tuple of ndarray
        ``(dollars, upper_bound)``. ``dollars = round(q x max(A - P, 0), 2)``, NaN where
        ``P`` or ``W`` is blank; ``A = W`` for a DSH, PED or CAN entity (the GPO prohibition
        leaves it WAC as the only price off 340B); for any other entity ``A`` is the GPO
        price, which the claims do not carry: ``W`` stands in and ``upper_bound`` is True
        (GPO prices are below WAC).

    Examples
    --------
    >>> claims = pd.DataFrame({"quantity": [10.0, 10.0, 4.0],
    ...                        "unit_cost_340b": [2.0, 2.0, None],
    ...                        "unit_cost_wac": [5.0, 5.0, 3.0]})
    >>> audit = pd.DataFrame({"entity_id": ["DSH1", "CAH1", "DSH1"]})
    >>> entity = pd.DataFrame({"entity_id": ["DSH1", "CAH1"], "entity_type": ["DSH", "CAH"]})
    >>> dollars, upper = price_difference(claims, audit, {"entity": entity})
    >>> dollars.tolist(), upper.tolist()
    ([30.0, 30.0, nan], [False, True, False])
    """
    _check(claims, audit)
    quantity = claims["quantity"].to_numpy(dtype=float, na_value=np.nan)
    price_340b = claims["unit_cost_340b"].to_numpy(dtype=float, na_value=np.nan)
    wac = claims["unit_cost_wac"].to_numpy(dtype=float, na_value=np.nan)
    dollars = np.round(quantity * np.maximum(wac - price_340b, 0.0), 2)
    return dollars, ~gpo_prohibited(audit, reference)


def gpo_prohibited(audit: pd.DataFrame, reference: dict[str, pd.DataFrame] | None) -> np.ndarray:
    """Whether each claim's entity is of a type the GPO prohibition binds (DSH, PED, CAN):
    for such an entity WAC is the price off 340B, not an upper bound of it."""
    if reference is None:
        return np.zeros(len(audit), dtype=bool)
    entity = reference.get("entity")
    if entity is None or not {"entity_id", "entity_type"} <= set(entity.columns):
        raise InputError("reference: the entity table with entity_id and entity_type is needed "
                         "to tell GPO-prohibited entities; pass load_reference(folder)")
    types = pd.Series(entity["entity_type"].astype(str).to_numpy(),
                      index=entity["entity_id"].astype(str).to_numpy())
    types = types[~types.index.duplicated()]
    claim_type = types.reindex(audit["entity_id"].astype(object).where(
        audit["entity_id"].notna(), None).to_numpy()).to_numpy(dtype=object)
    return np.isin(claim_type, list(GPO_PROHIBITED_TYPES))


def claim_exposure(
    claims: pd.DataFrame, audit: pd.DataFrame, reference: dict[str, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """Each claim's exposure: its kind, dollars, and the reason the dollars are attributed to.

    Parameters
    ----------
    claims : DataFrame
        The claims the audit checked (``quantity``, ``unit_cost_340b``, ``unit_cost_wac``),
        in the same order and with the same index as ``audit``.
    audit : DataFrame
        :func:`rxxl.audit340b.audit_claims` output.
    reference : dict of DataFrame, optional
        The 340B reference tables (``entity`` is read to tell GPO-prohibited entities).

    Returns
    -------
    DataFrame
        One row per claim, the audit's index: ``claim_id`` (when the audit has it),
        ``exposure_kind`` (a key of :data:`EXPOSURE_KINDS`, missing when compliant),
        ``exposure_reason`` (the reason the dollars are attributed to), ``exposure_dollars``
        (0 when compliant, NaN when a cost the kind needs is blank) and
        ``exposure_upper_bound`` (True where the dollars are a ceiling: WAC standing in for
        a GPO price or AMP, or the most an undetermined claim could cost).

    Notes
    -----
    Per kind, with ``d = q x max(W - P, 0)`` (:func:`price_difference`)::

        repayment           d        upper bound unless the entity is DSH, PED or CAN
        rebate              d        upper bound (W for AMP: unit rebate = AMP - ceiling)
        regulatory          q x W    upper bound (W for the GPO price)
        missed_savings      d        upper bound unless the claim was on the WAC account
        undetermined        d        upper bound (the most the claim could cost)
        billing_correction  0        exact

    The claim's exposure is the largest of its reasons' (NaN ranking highest), ties to the
    first reason of :data:`EXPOSURE_OF_REASON`.

    References
    ----------
    HRSA, Program Integrity (refunds to manufacturers, removal):
    https://www.hrsa.gov/opa/program-integrity ; ceiling price = AMP - URA, 42 CFR 10.10:
    https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-10/subpart-B/section-10.10 ;
    OPPS 340B remedy final rule, 88 FR 77150:
    https://govinfo.gov/content/pkg/FR-2023-11-08/html/2023-24407.htm ; docs/340b-exposure.md.

    Examples
    --------
    A diverted Medicaid claim (two reasons, one exposure) and a Part B claim without JG:

    >>> claims = pd.DataFrame({"quantity": [10.0, 3.0, 1.0],
    ...                        "unit_cost_340b": [2.0, 50.0, 1.0],
    ...                        "unit_cost_wac": [5.0, 80.0, 1.5]})
    >>> audit = pd.DataFrame({"entity_id": ["DSH1"] * 3, "account": ["340B"] * 3,
    ...     "reasons": ["NO_QUALIFYING_ENCOUNTER;MEDICAID_DUPLICATE_DISCOUNT",
    ...                 "MISSING_340B_MODIFIER", ""]})
    >>> entity = pd.DataFrame({"entity_id": ["DSH1"], "entity_type": ["DSH"]})
    >>> exposure = claim_exposure(claims, audit, {"entity": entity})
    >>> exposure[["exposure_reason", "exposure_dollars"]]
               exposure_reason  exposure_dollars
    0  NO_QUALIFYING_ENCOUNTER              30.0
    1    MISSING_340B_MODIFIER               0.0
    2                     <NA>               0.0
    >>> exposure["exposure_kind"].tolist()
    ['repayment', 'billing_correction', <NA>]
    """
    _check(claims, audit)
    missing = [c for c in AUDIT_COLUMNS if c not in audit]
    if missing:
        raise InputError(f"audit: column {', '.join(missing)} missing; pass the "
                         "audit_claims() result")
    n = len(audit)
    difference, not_exact = price_difference(claims, audit, reference)
    quantity = claims["quantity"].to_numpy(dtype=float, na_value=np.nan)
    wac = claims["unit_cost_wac"].to_numpy(dtype=float, na_value=np.nan)
    on_wac = (audit["account"] == "WAC").to_numpy(dtype=bool, na_value=False)
    always = np.ones(n, dtype=bool)
    dollars_of = {
        REPAYMENT: (difference, not_exact),
        REBATE: (difference, always),
        REGULATORY: (np.round(quantity * wac, 2), always),
        MISSED_SAVINGS: (difference, ~on_wac),
        UNDETERMINED: (difference, always),
        BILLING_CORRECTION: (np.zeros(n), np.zeros(n, dtype=bool)),
    }

    has = _reasons_listed(audit["reasons"])
    best = np.full(n, -np.inf)
    chosen = np.full(n, -1, dtype=np.int64)
    for i, (reason, kind) in enumerate(EXPOSURE_OF_REASON.items()):
        # An unknown amount may be the largest: it ranks above every known one.
        score = np.where(np.isnan(dollars_of[kind][0]), np.inf, dollars_of[kind][0])
        better = has[reason] & (score > best)
        best = np.where(better, score, best)
        chosen = np.where(better, i, chosen)

    reasons = np.array([*EXPOSURE_OF_REASON, None], dtype=object)
    kinds = np.array([*EXPOSURE_OF_REASON.values(), None], dtype=object)
    dollars = np.zeros(n)
    upper = np.zeros(n, dtype=bool)
    for i, kind in enumerate(EXPOSURE_OF_REASON.values()):
        rows = chosen == i
        dollars[rows] = dollars_of[kind][0][rows]
        upper[rows] = dollars_of[kind][1][rows]
    frame = {"claim_id": audit["claim_id"].array} if "claim_id" in audit else {}
    return pd.DataFrame({
        **frame,
        "exposure_kind": pd.array(kinds[chosen], dtype="string"),
        "exposure_reason": pd.array(reasons[chosen], dtype="string"),
        "exposure_dollars": dollars,
        "exposure_upper_bound": upper,
    }, index=audit.index)


def summarize_exposure(exposure: pd.DataFrame, by: str = "reason") -> pd.DataFrame:
    """Claims and dollars of exposure by the reason they are attributed to, or by kind.

    Parameters
    ----------
    exposure : DataFrame
        :func:`claim_exposure` output.
    by : {"reason", "kind"}
        ``reason``: one row per reason code of :data:`EXPOSURE_OF_REASON` (in its order),
        with its kind; ``kind``: one row per kind of :data:`EXPOSURE_KINDS`.

    Returns
    -------
    DataFrame
        ``reason`` and ``kind`` (or ``kind``), ``text`` (plain words of the kind),
        ``claims`` (claims whose exposure is attributed to the row: each claim counts once,
        under one reason), ``exposure_dollars`` (summed where known), ``upper_bound_dollars``
        (the part of it that is a ceiling) and ``claims_without_dollars`` (claims whose
        dollars are unknown: a blank cost). Every row is listed, with 0 where none occurs,
        so the rows add up to the exposure of all claims.

    Examples
    --------
    >>> exposure = pd.DataFrame({
    ...     "exposure_kind": ["repayment", "repayment", "rebate", None],
    ...     "exposure_reason": ["INPATIENT", "INPATIENT", "MEDICAID_DUPLICATE_DISCOUNT", None],
    ...     "exposure_dollars": [30.0, float("nan"), 12.5, 0.0],
    ...     "exposure_upper_bound": [False, False, True, False]})
    >>> summary = summarize_exposure(exposure, by="kind")
    >>> summary[["kind", "claims", "exposure_dollars", "claims_without_dollars"]].head(3)
             kind  claims  exposure_dollars  claims_without_dollars
    0   repayment       2              30.0                       1
    1      rebate       1              12.5                       0
    2  regulatory       0               0.0                       0
    """
    if by not in ("reason", "kind"):
        raise InputError(f"by: expected reason or kind, got {by!r}")
    column = "exposure_reason" if by == "reason" else "exposure_kind"
    missing = [c for c in (column, "exposure_dollars", "exposure_upper_bound")
               if c not in exposure]
    if missing:
        raise InputError(f"exposure: column {', '.join(missing)} missing; pass the "
                         "claim_exposure() result")
    dollars = exposure["exposure_dollars"].to_numpy(dtype=float, na_value=np.nan)
    frame = pd.DataFrame({
        "key": exposure[column].astype(object).to_numpy(),
        "claims": np.ones(len(exposure), dtype=np.int64),
        "exposure_dollars": dollars,
        "upper_bound_dollars": np.where(
            exposure["exposure_upper_bound"].to_numpy(dtype=bool), dollars, 0.0),
        "claims_without_dollars": np.isnan(dollars).astype(np.int64),
    })
    rows = list(EXPOSURE_OF_REASON) if by == "reason" else list(EXPOSURE_KINDS)
    summary = frame.dropna(subset=["key"]).groupby("key").sum(min_count=0).reindex(rows)
    summary = summary.fillna(0).astype({"claims": np.int64, "claims_without_dollars": np.int64})
    summary.index.name = by
    summary = summary.reset_index()
    if by == "reason":
        summary.insert(1, "kind", summary["reason"].map(EXPOSURE_OF_REASON))
    summary.insert(2 if by == "reason" else 1, "text",
                   summary["kind" if by == "reason" else by].map(EXPOSURE_KINDS))
    return summary


def _reasons_listed(reasons: pd.Series) -> dict[str, np.ndarray]:
    """Per reason code, whether each claim lists it (each distinct list is parsed once)."""
    codes, distinct = pd.factorize(reasons.astype(object).where(reasons.notna(), ""))
    listed = [set(str(text).split(";")) - {""} for text in distinct]
    unknown = set().union(*listed) - set(EXPOSURE_OF_REASON) if listed else set()
    if unknown:
        raise InputError(f"audit: reasons has unknown code {', '.join(sorted(unknown))}; "
                         "pass the audit_claims() result")
    return {reason: np.array([reason in each for each in listed], dtype=bool)[codes]
            for reason in EXPOSURE_OF_REASON}


def _check(claims: pd.DataFrame, audit: pd.DataFrame) -> None:
    missing = [c for c in COST_COLUMNS if c not in claims]
    if missing:
        raise InputError(f"claims: column {', '.join(missing)} missing; the exposure is "
                         "priced from quantity and the 340B and WAC unit costs")
    if "entity_id" not in audit:
        raise InputError("audit: column entity_id missing; pass the audit_claims() result")
    if len(claims) != len(audit) or not claims.index.equals(audit.index):
        raise InputError("claims and audit: not the same rows; pass the claims the audit "
                         "was run on, in the same order")
